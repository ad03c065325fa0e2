"""The built website (``make book`` runs before the tests): pages, figures, no hidden tests,
the appendices; and the chapters' sources read as a textbook (few visible asserts)."""

from __future__ import annotations

import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.course import ROOT

pytestmark = pytest.mark.book  # the built website (make book)

#: The built website: ``_build/html``, or the build ``COURSE_SITE_DIR`` names (as the browser
#: suite has it).
HTML = Path(os.environ.get("COURSE_SITE_DIR") or ROOT / "_build" / "html")


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


def chapter_pages() -> list[str]:
    """The numbered chapters' pages (chapters/NN_topic/topic): not exercises, not appendices."""
    return [
        d
        for d in toc_files()
        if re.fullmatch(r"chapters/\d\d_[^/]+/[^/]+", d) and not d.endswith("_exercise")
    ]


#: Appendix pages: every one in the table of contents, and how many figures each must show.
APPENDIX_FIGURES = {
    "chapters/appendix/floating_point": 3,
    "chapters/appendix/notation": 0,
    "chapters/appendix/glossary": 0,
    "chapters/appendix/bibliography": 0,
}

#: Pages without a formula (a MathJax check there would prove nothing).
PAGES_WITHOUT_MATH = {"chapters/appendix/bibliography"}


@pytest.mark.parametrize("docname", chapter_pages())
def test_chapter_pages_show_figures_with_alt_text(site, docname):
    page = site / f"{docname}.html"
    figures = images(page)
    assert len(figures) >= 2, "each chapter has at least two figures"
    for image in figures:
        assert (page.parent / image["src"]).is_file(), image["src"]
        assert len(image.get("alt") or "") > 15, f"figure without meaningful alt text: {image}"


@pytest.mark.parametrize(
    "docname", [d for d in toc_files() if d.startswith("chapters/") and d not in PAGES_WITHOUT_MATH]
)
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
        # A function's solution defines it; a prediction's assigns the answer's variable.
        shown = f"def {name}(" in page or re.search(rf"\b{re.escape(name)} =", page)
        assert shown, f"the solution of {name} is shown"
    download = site / "_sources" / f"{docname}.ipynb"
    if download.exists():
        text = download.read_text(encoding="utf-8")
        json.loads(text)
        assert "HIDDEN TESTS" not in text and "assert_passes" not in text


# ------------------------------------------------------------------------------- the appendices


def test_every_appendix_page_is_in_the_table_of_contents():
    appendix = [d for d in toc_files() if d.startswith("chapters/appendix/")]
    assert sorted(appendix) == sorted(APPENDIX_FIGURES)


@pytest.mark.parametrize("docname", sorted(APPENDIX_FIGURES))
def test_appendix_pages_show_their_figures_with_alt_text(site, docname):
    page = site / f"{docname}.html"
    figures = images(page)
    assert len(figures) >= APPENDIX_FIGURES[docname]
    for image in figures:
        assert (page.parent / image["src"]).is_file(), image["src"]
        assert len(image.get("alt") or "") > 15, f"figure without meaningful alt text: {image}"


#: The floating-point appendix's sections, which the chapters link instead of re-deriving.
FLOATING_POINT_LABELS = [
    "fp-epsilon", "fp-subnormals", "fp-overflow", "fp-cancellation", "fp-accuracy",
]  # fmt: skip

#: Where the course's notation introduces each symbol (the labels its notation names).
NOTATION_LABELS = [
    "sigmoid-definition", "sigmoid-logit", "sigmoid-derivative", "softplus-definition",
    "softplus-step", "softplus-positive", "softmax-definition", "softmax-logsumexp",
    "softmax-jacobian", "softmax-temperature", "cross-entropy-definition", "cross-entropy-kl",
    "cross-entropy-softmax-loss", "cross-entropy-one-hot", "exponential-family-definition",
    "exponential-family-bernoulli", "exponential-family-multinomial", "exponential-family-glm",
    "softmax-regression-data", "softmax-regression-model", "softmax-regression-loss",
    "softmax-regression-training", "softmax-regression-standardize",
    "softmax-regression-learning-rate", "fp-epsilon",
]  # fmt: skip


def anchors(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def link_targets(page: Path) -> set[str]:
    """The fragments (#...) of the page's links, whichever page they point to."""
    return set(re.findall(r'href="[^"#]*#([^"]+)"', page.read_text(encoding="utf-8")))


def test_floating_point_appendix_has_the_sections_the_chapters_link(site):
    page = site / "chapters/appendix/floating_point.html"
    assert set(FLOATING_POINT_LABELS) <= anchors(page)


def test_notation_page_links_where_each_symbol_is_introduced(site):
    targets = link_targets(site / "chapters/appendix/notation.html")
    assert sorted(set(NOTATION_LABELS) - targets) == []


#: The terms the chapters link with {term}, spelled exactly so (the glossary defines them as
#: written here, and the chapters' links keep these spellings).
GLOSSARY_TERMS = {
    "logit", "sigmoid", "softplus", "softmax", "log-sum-exp", "temperature", "Jacobian",
    "cross-entropy", "entropy", "KL divergence", "one-hot encoding", "negative log-likelihood",
    "maximum likelihood", "exponential family", "natural parameter", "sufficient statistic",
    "log-partition function", "base measure", "generalized linear model", "softmax regression",
    "logistic regression", "machine epsilon", "unit roundoff", "subnormal number", "overflow",
    "underflow", "catastrophic cancellation", "relative error", "ulp", "central difference",
    "gradient check", "L2 penalty", "learning rate", "epoch", "gradient descent", "training set",
    "validation set", "test set", "standardisation", "convex function",
}  # fmt: skip


def test_glossary_defines_every_term_the_chapters_may_link(site):
    defined = {
        html.unescape(term).strip()
        for term in re.findall(
            r'<dt id="term-[^"]*">(.*?)<a class="headerlink"',
            (site / "chapters/appendix/glossary.html").read_text(encoding="utf-8"),
            flags=re.S,
        )
    }
    assert GLOSSARY_TERMS <= defined, sorted(GLOSSARY_TERMS - defined)


# ------------------------------------------------------------- the chapters read as a textbook

#: At most this many visible assert lines in all chapter pages together (15 per chapter at
#: most, the authors' target); the rest are folded or moved to the chapters' tests.
MAX_VISIBLE_ASSERTS = 100

#: Cell tags that keep a cell's code off the page (folded behind a click, or removed).
HIDDEN_CODE_TAGS = {"hide-input", "hide-cell", "remove-input", "remove_input", "remove-cell",
                    "remove_cell"}  # fmt: skip

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}")


def cell_tags(options: list[str]) -> set[str]:
    """The tags of a code cell, from its option lines (``:tags: [...]``) or its YAML block."""
    if options and options[0].strip() == "---":
        meta = yaml.safe_load("\n".join(options[1:-1])) or {}
    else:
        meta = {}
        for line in options:
            match = re.match(r"^:tags:\s*(.*)$", line.strip())
            if match:
                meta["tags"] = yaml.safe_load(match.group(1))
    tags = meta.get("tags") or []
    return {tags} if isinstance(tags, str) else set(tags)


def visible_asserts(text: str) -> list[tuple[int, str]]:
    """The assert lines a reader sees in a MyST page: (line number, line).

    A line counts if it starts with ``assert`` or calls ``np.testing.assert_*`` or
    ``assert_allclose``, inside a ``{code-cell}`` whose code is shown (no tag of
    ``HIDDEN_CODE_TAGS``). Code in other fences (```` ```python ````) is not run, not counted.
    """
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        body_start = i + 1
        end = next(
            (j for j in range(body_start, len(lines)) if lines[j].strip() == fence), len(lines)
        )
        options: list[str] = []
        j = body_start
        if j < end and lines[j].strip() == "---":
            close = next((k for k in range(j + 1, end) if lines[k].strip() == "---"), j)
            options, j = lines[j : close + 1], close + 1
        else:
            while j < end and lines[j].startswith(":"):
                options.append(lines[j])
                j += 1
        if not cell_tags(options) & HIDDEN_CODE_TAGS:
            for k in range(j, end):
                code = lines[k].strip()
                if (
                    code.startswith("assert")
                    or "np.testing.assert" in code
                    or "assert_allclose" in code
                ):
                    found.append((k + 1, code))
        i = end + 1
    return found


PLANTED_PAGE = """\
# A planted chapter

```{code-cell} ipython3
x = 1
assert x == 1
np.testing.assert_array_equal([x], [1])
assert_allclose(x, 1.0)
# an assertion in a comment, and print("assert") inside a line, are not asserts
```

```{code-cell} ipython3
:tags: [hide-input]
assert x == 1
```

```{code-cell} ipython3
:tags: [remove-input]
np.testing.assert_allclose(x, 1)
```

```{code-cell} ipython3
---
tags: [remove-cell]
---
assert x == 1
```

````{code-cell} ipython3
:tags: ["hide-input", "other"]
assert x == 1
````

```python
assert x == 1  # shown, but not a code cell: never run, not counted
```

```{code-cell} ipython3
:tags: [other]
:mystnb:
:  figure:
:    name: fig-planted
    assert x == 1  # an indented assert in a shown cell counts
```
"""


def test_the_assert_counter_counts_shown_cells_and_skips_folded_ones():
    counted = visible_asserts(PLANTED_PAGE)
    assert [line for _, line in counted] == [
        "assert x == 1",
        "np.testing.assert_array_equal([x], [1])",
        "assert_allclose(x, 1.0)",
        "assert x == 1  # an indented assert in a shown cell counts",
    ]
    assert [number for number, _ in counted] == [5, 6, 7, 42]


def test_chapters_show_fewer_than_100_assert_lines():
    counts = {
        path.relative_to(ROOT).as_posix(): len(visible_asserts(path.read_text(encoding="utf-8")))
        for path in sorted(ROOT.glob("chapters/[0-9][0-9]_*/*.md"))
    }
    assert len(counts) >= 6, counts
    total = sum(counts.values())
    assert total < MAX_VISIBLE_ASSERTS, (
        f"{total} visible assert lines in the chapters (fewer than {MAX_VISIBLE_ASSERTS} "
        f"wanted, at most 15 a chapter): {counts}; fold the checks that only confirm "
        "(tag hide-input) or move them to the chapter's tests"
    )
