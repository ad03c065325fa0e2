"""The checks can fail: each one run on a scratch copy of a built page with a planted fault.

The built site is copied into a temporary folder and served; a chapter page is copied
beside itself once unchanged (every check passes on it) and once per fault, each with one
fault planted in its article.  The check functions are the very ones that run on the real
pages (``browser_checks``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import browser_checks as checks
from .browser_site import serve, toc_docnames

pytestmark = pytest.mark.book  # the built website (make book)

#: The page the faults are planted in: the first exercise page (math, code and links, and
#: quick to load), else the first chapter page.
PAGE = sorted(
    (d for d in toc_docnames() if d.startswith("chapters/")), key=lambda d: "_exercise" not in d
)[0]

#: name -> (HTML put at the top of the article, the viewport, the check that must fail,
#: a fragment of the problem it must report)
FAULTS: dict[str, tuple[str, dict, Callable[..., list[str]], str]] = {
    "broken-link": (
        '<p>See <a href="no-such-chapter.html">a chapter that is not there</a>.</p>',
        checks.DESKTOP,
        checks.link_problems,
        "'no-such-chapter.html': HTTP 404",
    ),
    "missing-anchor": (
        '<p>See <a href="#no-such-section">a section that is not there</a>.</p>',
        checks.DESKTOP,
        checks.link_problems,
        "no element with id 'no-such-section'",
    ),
    "missing-image": (
        '<img src="no-such-figure.png" alt="A line plot of the sigmoid that failed to load">',
        checks.DESKTOP,
        checks.image_problems,
        "image did not load: no-such-figure.png",
    ),
    "image-without-alt": (
        '<img src="{image}" alt="">',
        checks.DESKTOP,
        checks.image_problems,
        "empty alt text",
    ),
    "unrendered-dollar": (
        r"<p>The sigmoid $\sigma(x) = 1 / (1 + e^{-x})$ squashes every real number.</p>",
        checks.DESKTOP,
        checks.math_problems,
        r"raw TeX in the text: ...The sigmoid $\sigma(x)",
    ),
    "unrendered-frac": (
        # MyST marks a section without math for MathJax to skip; TeX there stays raw.
        r'<section class="tex2jax_ignore mathjax_ignore"><p>Its derivative is '
        r"\(\frac{e^{-x}}{(1 + e^{-x})^2}\).</p></section>",
        checks.DESKTOP,
        checks.math_problems,
        r"raw TeX in the text: ...Its derivative is \(\frac{e^{-x}}",
    ),
    "section-title-as-tex": (
        # What a {ref} to a section titled with math showed before the book resolved it.
        r"<p>See Checking \zeta' = \sigma numerically: choosing the step h.</p>",
        checks.DESKTOP,
        checks.math_problems,
        r"raw TeX in the text: ...See Checking \zeta' = \sigma",
    ),
    "wide-element": (
        '<div style="width: 900px">A box wider than a phone.</div>',
        checks.PHONE,
        checks.overflow_problems,
        "the page scrolls sideways",
    ),
    "javascript-error": (
        "<script>notDefinedAnywhere();</script>",
        checks.DESKTOP,
        checks.load_problems,
        "uncaught exception: ReferenceError: notDefinedAnywhere is not defined",
    ),
}


def plant(html: str, fault: str) -> str:
    """``html`` with ``fault`` put at the start of its article."""
    article = re.search(r"<article\b[^>]*>", html)
    assert article, "the page has an <article> element"
    return html[: article.end()] + fault + html[article.end() :]


@pytest.fixture(scope="module")
def scratch(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the whole site (so the planted pages load the same styles and scripts)."""
    copy = tmp_path_factory.mktemp("planted") / "html"
    shutil.copytree(site, copy)
    page = copy / f"{PAGE}.html"
    html = page.read_text(encoding="utf-8")
    # An image of the site, for the fault that shows it without alt text.
    image = next((copy / "_images").iterdir(), None) if (copy / "_images").is_dir() else None
    image = image or copy / "_static" / "favicon.svg"
    src = Path(*[".."] * (len(Path(PAGE).parts) - 1), image.relative_to(copy)).as_posix()
    for name, (fault, *_) in FAULTS.items():
        planted = plant(html, fault.replace("{image}", src))
        (page.parent / f"planted-{name}.html").write_text(planted, encoding="utf-8")
    (page.parent / "planted-none.html").write_text(html, encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def scratch_url(scratch: Path) -> Iterator[str]:
    with serve(scratch) as url:
        yield url


def open_planted(browser, base: str, name: str, viewport: dict) -> checks.Visit:
    context = browser.new_context(viewport=viewport)
    return checks.open_page(context, f"{base}{Path(PAGE).parent.as_posix()}/planted-{name}.html")


def test_every_check_passes_on_the_unchanged_copy(browser, scratch_url: str, axe: Path):
    visit = open_planted(browser, scratch_url, "none", checks.DESKTOP)
    try:
        assert checks.load_problems(visit) == []
        assert checks.math_problems(visit) == []
        assert checks.image_problems(visit) == []
        assert checks.link_problems(visit) == []
        assert checks.axe_problems(visit, axe) == []
    finally:
        visit.page.context.close()
    visit = open_planted(browser, scratch_url, "none", checks.PHONE)
    try:
        assert checks.overflow_problems(visit) == []
    finally:
        visit.page.context.close()


@pytest.mark.parametrize("name", FAULTS)
def test_the_check_catches_a_planted_fault(browser, scratch_url: str, name: str):
    _, viewport, check, expected = FAULTS[name]
    visit = open_planted(browser, scratch_url, name, viewport)
    try:
        problems = check(visit)
    finally:
        visit.page.context.close()
    assert any(expected in problem for problem in problems), problems


def test_axe_catches_a_button_without_a_name(browser, scratch_url: str, axe: Path):
    visit = open_planted(browser, scratch_url, "none", checks.DESKTOP)
    try:
        visit.page.evaluate(
            "() => document.querySelector('article').prepend(document.createElement('button'))"
        )
        problems = checks.axe_problems(visit, axe)
    finally:
        visit.page.context.close()
    assert any("button-name" in problem for problem in problems), problems


def test_the_screenshot_check_catches_a_blank_or_cut_screenshot(
    browser, scratch_url: str, tmp_path: Path
):
    """Planted: a screenshot of the wrong width, one cut short, and one of a blank page."""
    visit = open_planted(browser, scratch_url, "none", checks.DESKTOP)
    try:
        whole = tmp_path / "whole.png"
        visit.page.screenshot(path=str(whole), full_page=True)
        assert checks.screenshot_problems(whole, checks.DESKTOP) == []
        problems = checks.screenshot_problems(whole, checks.PHONE)
        assert any("px wide, the viewport 375 px" in p for p in problems), problems
        cut = tmp_path / "cut.png"
        visit.page.screenshot(path=str(cut), clip={"x": 0, "y": 0, "width": 1280, "height": 200})
        problems = checks.screenshot_problems(cut, checks.DESKTOP)
        assert any("200 px tall" in p for p in problems), problems
        visit.page.evaluate("() => { document.documentElement.innerHTML = '<body></body>'; }")
        blank = tmp_path / "blank.png"
        visit.page.screenshot(path=str(blank), full_page=True)
        problems = checks.screenshot_problems(blank, checks.DESKTOP)
        assert any("blank" in p for p in problems), problems
    finally:
        visit.page.context.close()
    (tmp_path / "text.png").write_text("not an image")
    assert checks.screenshot_problems(tmp_path / "text.png", checks.DESKTOP) == [
        "text.png: not a PNG file"
    ]
