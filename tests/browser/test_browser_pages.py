"""Every page of ``_toc.yml`` in headless Chromium, at desktop (1280 px) and phone (375 px) width.

Each page is opened once per width (the fixtures are per page, so pytest runs all the
checks of one page before it opens the next) and checked by the functions of
``browser_checks``; full-page screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import browser_checks as checks
from .browser_site import toc_docnames

pytestmark = pytest.mark.book  # the built website (make book)

#: axe-core rules not counted, with the reason.  Empty: the site passes every rule.
IGNORED_AXE_RULES: dict[str, str] = {}


def assert_no_problems(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


@pytest.fixture(scope="module", params=toc_docnames())
def docname(request: pytest.FixtureRequest) -> str:
    return request.param


def _open(browser, base_url: str, docname: str, viewport: dict) -> Iterator[checks.Visit]:
    context = browser.new_context(viewport=viewport, accept_downloads=False)
    try:
        yield checks.open_page(context, f"{base_url}{docname}.html")
    finally:
        context.close()


@pytest.fixture(scope="module")
def desktop(browser, base_url: str, docname: str) -> Iterator[checks.Visit]:
    yield from _open(browser, base_url, docname, checks.DESKTOP)


@pytest.fixture(scope="module")
def phone(browser, base_url: str, docname: str) -> Iterator[checks.Visit]:
    yield from _open(browser, base_url, docname, checks.PHONE)


def test_page_loads_without_javascript_errors(desktop: checks.Visit):
    assert_no_problems(checks.load_problems(desktop))


def test_page_loads_nothing_from_other_sites(desktop: checks.Visit):
    assert_no_problems(checks.outside_request_problems(desktop))


def test_math_is_typeset_by_mathjax(desktop: checks.Visit):
    assert_no_problems(checks.math_problems(desktop))


def test_images_load_and_have_alt_text(desktop: checks.Visit):
    assert_no_problems(checks.image_problems(desktop))


def test_links_and_anchors_resolve(desktop: checks.Visit, link_cache: dict):
    assert_no_problems(checks.link_problems(desktop, link_cache))


def test_no_sideways_scrolling_on_a_phone(phone: checks.Visit):
    assert_no_problems(checks.overflow_problems(phone))


def test_no_serious_accessibility_violations(desktop: checks.Visit, axe: Path):
    assert_no_problems(checks.axe_problems(desktop, axe, IGNORED_AXE_RULES))


def test_phone_layout_loads_without_javascript_errors(phone: checks.Visit):
    assert_no_problems(checks.load_problems(phone))


def test_screenshots(desktop: checks.Visit, phone: checks.Visit, docname: str, screenshots: Path):
    stem = docname.replace("/", "__")
    for name, visit, viewport in (
        ("desktop", desktop, checks.DESKTOP),
        ("phone", phone, checks.PHONE),
    ):
        path = screenshots / f"{stem}-{name}.png"
        visit.page.screenshot(path=str(path), full_page=True)
        assert_no_problems(checks.screenshot_problems(path, viewport))
