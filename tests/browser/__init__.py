"""The course website as a reader's browser shows it: headless Chromium driven by Playwright.

``make test`` builds the book, installs Debian's Chromium when it can (``make
browser-setup``) and runs these tests over ``_build/html`` served on 127.0.0.1; set
``COURSE_SITE_DIR`` to test another build.  Without Chromium or Playwright the browser tests
are skipped, with the reason.

- ``browser_checks``: the checks of one page (console errors, MathJax, images, links,
  sideways scrolling, axe-core), each a function returning the problems it found;
- ``test_browser_pages``: every page of ``_toc.yml`` at 1280 and 375 px, and its screenshots
  in ``_build/screenshots/``;
- ``test_browser_site``: search, exercise downloads, solutions without hidden tests, and
  each chapter's learning goals and summary;
- ``test_browser_faults``: the same checks fail on pages with planted faults.
"""
