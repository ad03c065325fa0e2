"""The built website (``make book`` runs before the tests): pages, figures, no hidden tests."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.course import ROOT

pytestmark = pytest.mark.book  # the built website (make book)

HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def site() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("the website is not built: run 'make book' (make test does) first")
    return HTML


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    return files


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def images(page: Path) -> list[dict[str, str | None]]:
    parser = Images()
    parser.feed(page.read_text(encoding="utf-8"))
    return [i for i in parser.images if "logo" not in (i.get("class") or "")]


@pytest.mark.parametrize("docname", toc_files())
def test_every_toc_page_is_built(site, docname):
    assert (site / f"{docname}.html").is_file()


def test_no_notebook_failed_to_execute(site):
    reports = site / "reports"
    assert not reports.exists() or not any(reports.iterdir()), sorted(reports.iterdir())


@pytest.mark.parametrize(
    "docname", [d for d in toc_files() if d.startswith("chapters/") and "_exercise" not in d]
)
def test_chapter_pages_show_figures_with_alt_text(site, docname):
    page = site / f"{docname}.html"
    figures = images(page)
    assert len(figures) >= 2, "each chapter has at least two figures"
    for image in figures:
        assert (page.parent / image["src"]).is_file(), image["src"]
        assert len(image.get("alt") or "") > 15, f"figure without meaningful alt text: {image}"


@pytest.mark.parametrize("docname", [d for d in toc_files() if d.startswith("chapters/")])
def test_math_is_left_to_mathjax(site, docname):
    text = (site / f"{docname}.html").read_text(encoding="utf-8")
    assert re.search(r'class="math[ "]', text), "the page has typeset math"
    assert "mathjax" in text.lower()


def visible_text(html_page: str) -> str:
    """The page's text as a reader sees it: tags (syntax highlighting too) removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_page))


@pytest.mark.parametrize("docname", [d for d in toc_files() if d.startswith("solutions/")])
def test_solution_pages_show_solutions_but_no_hidden_tests(site, docname):
    page = visible_text((site / f"{docname}.html").read_text(encoding="utf-8"))
    source = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" in nbformat.writes(source), "the source does hold hidden tests"
    assert "HIDDEN TESTS" not in page and "assert_passes" not in page
    assert "BEGIN SOLUTION" not in page
    solved = [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    ]
    assert solved
    for name in solved:
        assert f"def {name}(" in page, f"the solution of {name} is shown"
    download = site / "_sources" / f"{docname}.ipynb"
    if download.exists():
        text = download.read_text(encoding="utf-8")
        json.loads(text)
        assert "HIDDEN TESTS" not in text and "assert_passes" not in text
