"""Fixtures of the browser suite: the built site served on 127.0.0.1, and one headless Chromium.

The site is ``_build/html`` (``make test`` builds it first); set ``COURSE_SITE_DIR`` to test
another build.  Chromium is Debian's (``make browser-setup`` installs it as root); where it
or Playwright is missing, every browser test is skipped with the reason, and the rest of
the suite runs as usual.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser_site import CHROMIUM, CHROMIUM_ARGS, SITE_DIR_VARIABLE, axe_script, serve, site_dir


@pytest.fixture(scope="session")
def site() -> Path:
    directory = site_dir()
    if not (directory / "index.html").is_file():
        pytest.fail(
            f"the website is not built in {directory}: run 'make book' (make test does), "
            f"or point {SITE_DIR_VARIABLE} at a built site"
        )
    return directory


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.skip(f"Playwright for Python is not installed ({error}): run 'make setup'")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: 'make browser-setup' installs it (as root, on Debian)"
        )
    with sync_playwright() as playwright:
        # Playwright starts Chromium with a fresh, temporary user-data directory of its own
        # and removes it afterwards.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def axe() -> Path:
    script = axe_script()
    if script is None:
        pytest.skip("axe-core is not installed (the axe-playwright-python package): 'make setup'")
    return script


@pytest.fixture(scope="session")
def link_cache() -> dict:
    """What each URL of the site answered, shared by the link checks of all pages."""
    return {}


@pytest.fixture(scope="session")
def screenshots(site: Path) -> Path:
    """``_build/screenshots`` beside the site's ``_build/html``."""
    directory = site.parent / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory
