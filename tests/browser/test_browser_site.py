"""What a reader does on the site, in headless Chromium: search, download an exercise, read a
solution.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder.exercises import strip_hidden_tests

from . import browser_checks as checks
from .browser_site import ROOT, toc_docnames

pytestmark = pytest.mark.book  # the built website (make book)

PAGES = toc_docnames()
EXERCISES = [d for d in PAGES if d.startswith("chapters/") and d.endswith("_exercise")]
SOLUTIONS = [d for d in PAGES if d.startswith("solutions/")]

#: What a reader searches for, and the chapter (by its folder's number) that must come up.
#: A chapter not in ``_toc.yml`` yet is skipped, with the reason.
SEARCHES = [
    ("softmax", "03", "the softmax chapter"),
    ("cross-entropy", "04", "the cross-entropy chapter"),
    ("exponential family", "05", "the exponential-family (GLM) chapter"),
]

#: How far down the results the chapter may come (other chapters mention the term too).
TOP_RESULTS = 3

#: The glossary: its entry for a term comes first when the query is the term, and links to
#: the chapter that introduces it, so it does not count against a chapter's rank.
GLOSSARY = "chapters/appendix/glossary"


def chapter_page(number: str) -> str | None:
    """The chapter page (not its exercise) of ``chapters/<number>_*/`` in ``_toc.yml``."""
    for name in PAGES:
        parts = name.split("/")
        if (
            len(parts) == 3
            and parts[0] == "chapters"
            and parts[1].startswith(f"{number}_")
            and not name.endswith("_exercise")
        ):
            return name
    return None


@pytest.fixture
def context(browser) -> Iterator[object]:
    context = browser.new_context(viewport=checks.DESKTOP, accept_downloads=True)
    try:
        yield context
    finally:
        context.close()


def search_results(visit: checks.Visit) -> list[str]:
    """The pages (docnames) listed on the search page, best first."""
    page = visit.page
    page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('.search-summary')?.textContent)"
    )
    site = urllib.parse.urljoin(visit.url, "/")
    names = []
    for href in page.eval_on_selector_all(
        "#search-results ul.search li > a", "links => links.map(a => a.href)"
    ):
        path = urllib.parse.urlsplit(href).path
        names.append(urllib.parse.urljoin(site, path).removeprefix(site).removesuffix(".html"))
    return names


@pytest.mark.parametrize(("query", "number", "what"), SEARCHES, ids=[s[0] for s in SEARCHES])
def test_search_finds_the_chapter(context, base_url: str, query: str, number: str, what: str):
    expected = chapter_page(number)
    if expected is None:
        pytest.skip(f"{what} (chapters/{number}_*) is not in _toc.yml yet")
    visit, results = search(context, base_url, query)
    pages = [name for name in dict.fromkeys(results) if name != GLOSSARY]  # distinct, in order
    assert expected in pages[:TOP_RESULTS], f"{expected} not in the top results: {results}"
    assert checks.load_problems(visit) == []


#: What a reader searches for in the appendices, and the page that must come up.
APPENDIX_SEARCHES = [
    ("notation", "chapters/appendix/notation", "the notation page"),
    ("log-sum-exp", "chapters/appendix/glossary", "the glossary (its term log-sum-exp)"),
    ("machine epsilon", "chapters/appendix/floating_point", "the floating-point appendix"),
]


def search(context, base_url: str, query: str) -> tuple[checks.Visit, list[str]]:
    """Search the site as a reader does, from the home page; the results, best first."""
    visit = checks.open_page(context, f"{base_url}intro.html")
    page = visit.page
    # As a reader does: the search button in the header opens the search box.
    page.locator(".search-button-field:visible").first.click()
    box = page.locator("input[name='q']:visible").first
    box.fill(query)
    box.press("Enter")
    page.wait_for_url("**/search.html?*")
    visit.url = page.url
    assert urllib.parse.urlsplit(page.url).path.endswith("/search.html")
    return visit, search_results(visit)


@pytest.mark.parametrize(
    ("query", "expected", "what"), APPENDIX_SEARCHES, ids=[s[0] for s in APPENDIX_SEARCHES]
)
def test_search_finds_the_appendix(context, base_url: str, query: str, expected: str, what: str):
    if expected not in PAGES:
        pytest.skip(f"{what} ({expected}) is not in _toc.yml")
    visit, results = search(context, base_url, query)
    pages = list(dict.fromkeys(results))  # distinct, in order
    assert expected in pages[:TOP_RESULTS], f"{what} not in the top results: {results}"
    assert checks.load_problems(visit) == []


@pytest.mark.parametrize("docname", EXERCISES)
def test_exercise_page_offers_the_student_notebook(context, base_url: str, docname, tmp_path):
    visit = checks.open_page(context, f"{base_url}{docname}.html")
    assert visit.status == 200, f"{docname}.html: HTTP {visit.status} (is the site built?)"
    page = visit.page
    page.get_by_role("button", name="Download this page").click()
    link = page.locator("a.btn-download-source-button")
    assert link.inner_text().strip() == ".ipynb"
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == f"{Path(docname).name}.ipynb"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    notebook = nbformat.reads(saved.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert saved.read_bytes() == (ROOT / f"{docname}.ipynb").read_bytes(), (
        "the downloaded notebook differs from the committed student notebook"
    )
    assert checks.load_problems(visit) == []


def hidden_test_lines(source: Path) -> list[str]:
    """Lines of the notebook's hidden tests that appear nowhere else in it."""
    notebook = nbformat.read(source, as_version=4)
    blocks = re.findall(
        r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS",
        "\n".join(cell.source for cell in notebook.cells),
        flags=re.S | re.M,
    )
    shown = "\n".join(cell.source for cell in strip_hidden_tests(notebook).cells)
    lines = {line.strip() for block in blocks for line in block.splitlines()}
    return sorted(line for line in lines if len(line) > 3 and line not in shown)


@pytest.mark.parametrize("docname", SOLUTIONS)
def test_solution_page_shows_no_hidden_tests(context, base_url: str, docname, tmp_path):
    hidden = hidden_test_lines(ROOT / f"{docname}.ipynb")
    assert hidden, "the solution notebook has hidden tests (else this test proves nothing)"
    visit = checks.open_page(context, f"{base_url}{docname}.html")
    assert visit.status == 200, f"{docname}.html: HTTP {visit.status} (is the site built?)"
    page = visit.page
    # Everything in the page, shown or not (collapsed cells and tooltips included).
    text = page.evaluate("() => document.documentElement.textContent")
    assert "def " in text, "the solution code is shown"
    leaked = [line for line in hidden if line in text]
    leaked += [m for m in ("HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION") if m in text]
    assert leaked == [], f"hidden tests shown on the page: {leaked}"

    page.get_by_role("button", name="Download this page").click()
    with page.expect_download() as started:
        page.locator("a.btn-download-source-button").click()
    saved = tmp_path / started.value.suggested_filename
    started.value.save_as(saved)
    notebook = nbformat.reads(saved.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(notebook)
    # The cells' code and text (their nbgrader metadata keeps the hidden cells' ids).
    sources = "\n".join(cell.source for cell in notebook.cells)
    leaked = [line for line in hidden if line in sources]
    leaked += ["HIDDEN TESTS"] if "HIDDEN TESTS" in sources else []
    assert leaked == [], f"hidden tests in the downloaded notebook: {leaked}"


#: The numbered chapters (chapters/NN_topic/topic), not their exercises, not the appendices.
CHAPTERS = [
    d
    for d in PAGES
    if re.fullmatch(r"chapters/\d\d_[^/]+/[^/]+", d) and not d.endswith("_exercise")
]


class _Headings(HTMLParser):
    """The text of the page's ``<h2>`` headings, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "h2":
            self._inside = True
            self.headings.append("")
        elif tag == "a" and self._inside and ("class", "headerlink") in attrs:
            self._inside = False  # the "#" permalink after the title

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.headings[-1] += data


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_opens_with_learning_goals_and_ends_with_a_summary(site: Path, docname: str):
    html = (site / f"{docname}.html").read_text(encoding="utf-8")
    article = html[html.index("<article") : html.index("</article>")]
    parser = _Headings()
    parser.feed(article)
    headings = [" ".join(h.split()) for h in parser.headings]
    assert headings, "the chapter has sections"
    assert headings[0].lower().startswith("learning goals"), headings
    # The summary closes the chapter; only a pointer to the exercise notebook may follow it.
    after = headings[headings.index("Summary") + 1 :] if "Summary" in headings else None
    assert after is not None, f"no 'Summary' section: {headings}"
    assert all(h.lower().startswith("exercise") for h in after), headings
