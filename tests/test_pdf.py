"""The PDF edition (``make pdf``; ``make test`` builds it before the tests): the whole book.

Each check is a function that returns the problems it finds, one readable line each, so that
the same functions run on the real PDF (no problem) and on PDFs compiled from the book's own
LaTeX with planted faults (a chapter and the bibliography dropped, raw TeX in the text, the
book cut after its first chapter), where each must report what it should:

* every chapter, appendix and solution opens a chapter of the PDF, under its title;
* every entry of the bibliography is printed in the bibliography;
* the PDF shows at least as many images as the website's pages (every figure);
* no ``$`` or TeX command is left in the text outside code;
* the number of pages is plausible for the book.

Where the PDF was not built (no TeX Live here: ``make pdf`` says why), the tests are skipped.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml
from pybtex.database import parse_file

from autograder.course import ROOT

pytestmark = pytest.mark.book  # the built book (make pdf, make book)

#: The PDF edition; ``COURSE_PDF`` names another build of it.
PDF = Path(os.environ.get("COURSE_PDF") or ROOT / "_build" / "latex" / "sigmoid-to-softmax.pdf")
#: The website, whose images the PDF must show too.
HTML = Path(os.environ.get("COURSE_SITE_DIR") or ROOT / "_build" / "html")
BIBLIOGRAPHY = ROOT / "chapters" / "appendix" / "references.bib"
POPPLER = ("pdfinfo", "pdftotext", "pdfimages", "pdftohtml")

#: The parts of the table of contents, and how the PDF opens each of their pages.
PART_HEADINGS = {"Chapters": "CHAPTER", "Appendices": "APPENDIX", "Solutions": "APPENDIX"}

#: A plausible book: at least this many pages, and at most that many, per chapter-level page.
PAGES_PER_CHAPTER = (6, 40)


# ------------------------------------------------------------------------------ reading a PDF


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def pdf_text(pdf: Path) -> str:
    """The text of the PDF, as pdftotext reads it (form feeds between pages removed)."""
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-").replace("\f", "\n")


def normalised(text: str) -> str:
    """Letters and digits only, lower case: hyphenation, line breaks and quotes do not count."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), flags=re.M).group(1))


def image_count(pdf: Path) -> int:
    """Images drawn in the PDF (pdfimages lists their transparency masks apart: not counted)."""
    rows = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    return sum(1 for row in rows if row.split()[2] == "image")


def prose_runs(pdf: Path) -> list[str]:
    """The runs of text set in a font other than the monospaced one of code and outputs."""
    xml = run("pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf))
    root = ElementTree.fromstring(xml.encode("utf-8"))
    mono = {
        spec.get("id") for spec in root.iter("fontspec") if "mono" in spec.get("family", "").lower()
    }
    return [
        html.unescape("".join(node.itertext()))
        for node in root.iter("text")
        if node.get("font") not in mono
    ]


# ------------------------------------------------------------------------- what the book holds


def toc_chapters() -> list[tuple[str, str]]:
    """(heading, title) of every chapter-level page of ``_toc.yml``, in order: the chapters
    (CHAPTER) and the appendices and solutions (APPENDIX)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = []
    for part in toc["parts"]:
        for entry in part["chapters"]:
            title = entry.get("title") or page_title(ROOT / f"{entry['file']}.md")
            found.append((PART_HEADINGS[part["caption"]], title))
    return found


def page_title(page: Path) -> str:
    """The first level-1 heading of a MyST page, its markup removed."""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return re.sub(r"[`*$]", "", line[2:]).strip()
    raise AssertionError(f"{page} has no title")


def bibliography_entries() -> dict[str, list[str]]:
    """key -> the title and the first author's last name of each entry of the .bib."""
    entries = {}
    for key, entry in parse_file(str(BIBLIOGRAPHY)).entries.items():
        words = [entry.fields["title"].replace("{", "").replace("}", "")]
        authors = entry.persons.get("author", [])
        if authors:
            words.append(" ".join(authors[0].last_names).replace("{", "").replace("}", ""))
        entries[key] = words
    return entries


def website_images(site: Path) -> int:
    """The images of the website's pages (their articles: not the logo), every page of the toc."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]] + [e["file"] for part in toc["parts"] for e in walk(part["chapters"])]
    count = 0
    for name in names:
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        article = page[page.index("<article") : page.index("</article>")]
        count += len(re.findall(r"<img\b", article))
    return count


def walk(entries: list[dict]) -> list[dict]:
    return [d for e in entries for d in [e, *walk(e.get("sections", []))]]


# ---------------------------------------------------------------------------------- the checks


def title_problems(text: str) -> list[str]:
    """Each chapter-level page opens a chapter: "CHAPTER / ONE / THE SIGMOID" in the text."""
    problems = []
    for heading, title in toc_chapters():
        words = r"\s+".join(re.escape(word) for word in title.upper().split())
        if not re.search(rf"^{heading}\s*\n\s*\S+\s*\n\s*{words}\s*$", text, flags=re.M):
            problems.append(f"no {heading.lower()} titled {title!r}")
    return problems


def bibliography_problems(text: str) -> list[str]:
    """Every entry of the .bib (title, first author) in the bibliography, the book's last list."""
    headings = list(re.finditer(r"^BIBLIOGRAPHY\s*$", text, flags=re.M))
    if not headings:
        return ["no bibliography"]
    end = re.search(r"^INDEX\s*$", text[headings[-1].end() :], flags=re.M)
    listed = normalised(text[headings[-1].end() :][: end.start() if end else None])
    return [
        f"bibliography entry {key!r} not printed ({word!r} missing)"
        for key, words in bibliography_entries().items()
        for word in words
        if normalised(word) not in listed
    ]


def image_problems(pdf: Path, expected: int) -> list[str]:
    found = image_count(pdf)
    return [] if found >= expected else [f"{found} images, the website shows {expected}"]


def raw_tex_problems(runs: list[str]) -> list[str]:
    """No ``$`` and no TeX command (``\\frac``, ``\\sigma``...) in text outside code."""
    return [
        f"raw TeX in the text: {run.strip()}" for run in runs if re.search(r"\$|\\[A-Za-z]", run)
    ]


def page_problems(pdf: Path) -> list[str]:
    pages, chapters = page_count(pdf), len(toc_chapters())
    low, high = (n * chapters for n in PAGES_PER_CHAPTER)
    return [] if low <= pages <= high else [f"{pages} pages, not in [{low}, {high}]"]


# ------------------------------------------------------------------------------- the real PDF


@pytest.fixture(scope="module")
def pdf() -> Path:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"poppler-utils missing ({', '.join(missing)}): make pdf-setup installs it")
    if not PDF.is_file():
        pytest.skip(
            f"the PDF edition is not built ({PDF.name}): 'make pdf' builds it with TeX Live, "
            "which 'make pdf-setup' installs (as root, on Debian)"
        )
    return PDF


@pytest.fixture(scope="module")
def text(pdf: Path) -> str:
    return pdf_text(pdf)


@pytest.fixture(scope="module")
def expected_images() -> int:
    if not (HTML / "index.html").is_file():
        pytest.skip("the website is not built: run 'make book' (make test does)")
    return website_images(HTML)


def test_every_chapter_appendix_and_solution_has_its_chapter(text: str):
    assert len(toc_chapters()) >= 16
    assert title_problems(text) == []


def test_the_bibliography_prints_every_entry(text: str):
    assert bibliography_problems(text) == []


def test_the_pdf_shows_every_figure(pdf: Path, expected_images: int):
    assert expected_images >= 20, "the website's figures were counted"
    assert image_problems(pdf, expected_images) == []


def test_no_tex_is_left_in_the_text(pdf: Path):
    runs = prose_runs(pdf)
    assert len(runs) > 10_000, "the text was read, with its fonts"
    assert raw_tex_problems(runs) == []


def test_the_page_count_is_plausible(pdf: Path):
    assert page_problems(pdf) == []


# ---------------------------------------------------------------------------- planted faults

#: The chapter dropped from the planted book: it has figures, and it is cited in others.
DROPPED = "Softmax"
PLANTED_TEX = (
    r"The sigmoid \$\textbackslash{}frac\{1\}\{1 + e\textasciicircum{}\{-x\}\}\$ left raw."
)


def compile_planted(source: Path, target: Path, change) -> Path:
    """Copy the LaTeX build of the book, change its .tex, and compile it once with XeLaTeX."""
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("*.aux", "*.toc", "*.out", "*.pdf", "*.log")
    )
    tex = target / f"{PDF.stem}.tex"
    tex.write_text(change(tex.read_text(encoding="utf-8")), encoding="utf-8")
    subprocess.run(
        ["xelatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=target,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return tex.with_suffix(".pdf")


def drop_a_chapter_and_the_bibliography(tex: str) -> str:
    chapter = re.compile(rf"\\chapter{{{DROPPED}}}.*?(?=\\chapter{{)", flags=re.S)
    bibliography = re.compile(
        r"\\begin{sphinxthebibliography}.*?\\end{sphinxthebibliography}", re.S
    )
    assert chapter.search(tex) and bibliography.search(tex)
    tex = bibliography.sub("", chapter.sub("", tex, count=1))
    first = re.search(r"\\chapter{[^}]*}", tex)
    return tex[: first.end()] + "\n" + PLANTED_TEX + "\n\n" + tex[first.end() :]


def cut_after_the_first_chapter(tex: str) -> str:
    second = [m.start() for m in re.finditer(r"\\chapter{", tex)][1]
    return tex[:second] + "\\end{document}\n"


@pytest.fixture(scope="module")
def planted(pdf: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("xelatex") is None:
        pytest.skip("no xelatex to compile the planted books: make pdf-setup installs it")
    scratch = tmp_path_factory.mktemp("planted-pdf")
    return {
        "broken": compile_planted(
            pdf.parent, scratch / "broken", drop_a_chapter_and_the_bibliography
        ),
        "cut": compile_planted(pdf.parent, scratch / "cut", cut_after_the_first_chapter),
    }


def test_the_checks_catch_a_dropped_chapter_raw_tex_and_a_missing_bibliography(
    planted: dict[str, Path], expected_images: int
):
    broken = planted["broken"]
    text = pdf_text(broken)
    assert title_problems(text) == [f"no chapter titled {DROPPED!r}"]
    problems = bibliography_problems(text)
    assert len(problems) >= len(bibliography_entries()), problems
    assert any("'blanchard2021'" in problem for problem in problems), problems
    assert image_problems(broken, expected_images) != []
    raw = raw_tex_problems(prose_runs(broken))
    assert any(r"The sigmoid $\frac{1}{1 + e^{-x}}$" in problem for problem in raw), raw
    assert page_problems(broken) == [], "one chapter fewer is still a plausible book"


def test_the_checks_catch_a_book_cut_short(planted: dict[str, Path], expected_images: int):
    cut = planted["cut"]
    assert page_problems(cut) != []
    assert image_problems(cut, expected_images) != []
    missing = title_problems(pdf_text(cut))
    assert len(missing) == len(toc_chapters()) - 1, missing  # only the first chapter is left
