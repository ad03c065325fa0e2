"""The chapter pages teach the ideas; they do not hold the exercises' answers.

Each exercise's solution notebook (``solutions/NN_topic/*_exercise.ipynb``) marks its answers
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.  A chapter page may derive the idea
behind an answer, run a naive version and watch it break, and use the course's reference for
plots and numbers, but no code cell of the page may hold an answer itself: neither a whole
solution region nor the body of a function a solution defines, nor any two consecutive lines
of one.

Code is compared as Python tokens, so whitespace, line breaks, comments and docstrings do not
hide a copy; the names a snippet binds or calls are renamed in order of first use, so a copy
with renamed variables is found too.  Lines that only convert the input
(``x = np.asarray(x)``, ``if x.dtype.kind != "f":``, ``x = x.astype(np.float64)``), allocate
(``g = np.zeros_like(z)``), open a loop (``for i in range(n):``, whose body says what it does)
or return names bound before are too generic to give anything away and are left out on both
sides.  An answer that is a single long formula (``return np.maximum(x, 0.0) + ...``) is looked
for on its own; a short identity such as ``return -softplus(-x)`` is what a page must state, so
it is not.  Equivalent code written differently is not found: the check guards against copies,
and the pages are reviewed for the rest.

The check reads every solution notebook as it stands, so a task added to an exercise is
covered as soon as its solution lands.  The planted-fault tests at the end show it catching a
page that holds an answer (verbatim, reformatted, renamed, or in part).
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("[0-9][0-9]_*") if p.is_dir())
#: The solution notebooks, the nbgrader sources of the exercises (a chapter may have none yet).
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*/*_exercise.ipynb"))

#: Logical lines this long or shorter (in tokens) never count as an answer on their own.
MIN_LINE_TOKENS = 4

#: An answer of a single logical line is looked for only if it is at least this long (in
#: tokens): ``return -softplus(-x)`` is an identity the page must state, while a long formula
#: such as ``return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))`` is the whole answer.
MIN_LONE_LINE_TOKENS = 14

#: Names kept as they are when a snippet is canonicalised: NumPy and the builtins say what a
#: line does, not which variables it happens to use.
KEPT_NAMES = frozenset({"np", "math", "mpmath", "self", *dir(builtins)})

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


@dataclass(frozen=True)
class Snippet:
    """A piece of an answer: where it comes from, and its source."""

    origin: str
    source: str


# ---------------------------------------------------------------- reading the sources


def solution_snippets(notebook: nbformat.NotebookNode, name: str) -> list[Snippet]:
    """Every solution region of a notebook, and the body of every function in a solution.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A solution notebook (the nbgrader source).
    name : str
        A name for the notebook, used in the snippets' origins.

    Returns
    -------
    list of Snippet
        One per solution region (dedented), and one per function whose definition holds or
        lies inside a solution region (its body without the docstring).
    """
    snippets = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
        origin = f"{name}: {grade_id}"
        lines = cell.source.splitlines()
        inside, region = False, []
        for line in lines:
            if line.strip() == BEGIN:
                inside, region = True, []
            elif line.strip() == END:
                inside = False
                snippets.append(Snippet(origin, textwrap.dedent("\n".join(region))))
            elif inside:
                region.append(line)
        without_markers = "\n".join(line for line in lines if line.strip() not in (BEGIN, END))
        try:
            tree = ast.parse(without_markers)
        except SyntaxError:  # a student-facing ``...`` placeholder may not parse: regions only
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]  # the docstring: the task's statement, not its answer
                if body:
                    start, end = body[0].lineno, body[-1].end_lineno
                    text = "\n".join(without_markers.splitlines()[start - 1 : end])
                    snippets.append(
                        Snippet(f"{origin}: body of {node.name}()", textwrap.dedent(text))
                    )
    return snippets


def all_solution_snippets() -> dict[str, list[Snippet]]:
    """The snippets of every solution notebook, keyed by its chapter's folder name."""
    result: dict[str, list[Snippet]] = {chapter.name: [] for chapter in CHAPTERS}
    for path in SOLUTIONS:
        notebook = nbformat.read(path, as_version=4)
        name = f"solutions/{path.parent.name}/{path.name}"
        result.setdefault(path.parent.name, []).extend(solution_snippets(notebook, name))
    return result


#: The opening fence of a MyST code cell (executed by the book's build).
CODE_CELL = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}")


def page_code_cells(text: str) -> list[str]:
    """The sources of the code cells of a MyST page, without the cells' options.

    Parameters
    ----------
    text : str
        The page, in MyST Markdown.

    Returns
    -------
    list of str
        The source of every ``{code-cell}``, in order; the options at its top (``:tags:``
        lines, or a YAML block between ``---`` lines) are left out.  Plain code blocks
        (```` ```python ````) are shown, not run, and are not code cells.
    """
    lines = text.splitlines()
    cells, i = [], 0
    while i < len(lines):
        opening = CODE_CELL.match(lines[i])
        i += 1
        if not opening:
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body = []
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1
        if body and body[0].strip() == "---" and "---" in (line.strip() for line in body[1:]):
            body = body[[line.strip() for line in body].index("---", 1) + 1 :]
        while body and body[0].startswith(":"):
            body.pop(0)
        cells.append("\n".join(body).strip("\n"))
    return cells


# ---------------------------------------------------------------- comparing code


def logical_lines(source: str) -> list[list[tuple[int, str]]]:
    """The logical lines of Python source as lists of (token type, string).

    Comments, line breaks, indentation and docstring-like lone strings are dropped; IPython
    magics and shell escapes (lines starting with ``%`` or ``!``) are left out.
    """
    source = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
    lines, current = [], []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    for token in tokens:
        if token.type == tokenize.NEWLINE:
            if current and not (len(current) == 1 and current[0][0] == tokenize.STRING):
                lines.append(current)
            current = []
        elif token.type not in skip:
            current.append((token.type, token.string))
        if token.type == tokenize.OP and token.string == ":" and _ends_compound_header(current):
            lines.append(current)  # ``if ...:`` then a statement on the same line
            current = []
    if current:
        lines.append(current)
    return lines


COMPOUND = frozenset(
    {"if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class"}
)


def _ends_compound_header(tokens: list[tuple[int, str]]) -> bool:
    """Whether the ``:`` just read closes the header of a compound statement."""
    if not tokens or tokens[0][1] not in COMPOUND:
        return False
    depth = 0
    for _, string in tokens[:-1]:
        depth += string in {"(", "[", "{"}
        depth -= string in {")", "]", "}"}
    lambdas = sum(string == "lambda" for _, string in tokens)
    colons = sum(string == ":" for _, string in tokens[:-1])
    return depth == 0 and colons >= lambdas


#: Patterns of logical lines that give nothing away, matched against the line's tokens joined
#: by single spaces (with a trailing space).
TRIVIAL = [
    # x = np.asarray(x);  x, y = np.asarray(x, dtype=float), np.asarray(y)
    re.compile(r"^(\w+ , )*\w+ = np \. asarray \( [^()]*\) (, np \. asarray \( [^()]*\) )*$"),
    re.compile(r"^if \w+ \. dtype \. kind != ['\"]f['\"] : $"),  # if x.dtype.kind != "f":
    re.compile(r"^\w+ = \w+ \. astype \( [\w. ]+\) $"),  # x = x.astype(np.float64)
    re.compile(r"^return (\w+ (, )?)+$"),  # return W, b
    re.compile(
        r"^\w+ = np \. (zeros|ones|empty)(_like)? \( (?:[^()]|\( [^()]*\) )*\) $"
    ),  # np.zeros
    re.compile(r"^for .* : $"),  # a loop's header: what the loop does is in its body
    re.compile(r"^(pass|\.\.\.) $"),
    re.compile(r"^(else|try|finally) : $"),
]


def _text(line: list[tuple[int, str]]) -> str:
    return " ".join(string for _, string in line) + " "


def is_trivial(line: list[tuple[int, str]]) -> bool:
    """Whether a logical line gives nothing away: input conversion, an allocation, a loop's
    header, or returning names."""
    text = _text(line)
    return any(pattern.match(text) for pattern in TRIVIAL)


def canonical(lines: list[list[tuple[int, str]]]) -> tuple[str, ...]:
    """The lines as one token sequence, names renamed v0, v1, ... in order of first use.

    Attributes (``np.exp``), keywords, NumPy and the builtins keep their names; so do keyword
    arguments' names (``axis=``), which belong to the API called, not to the snippet.
    """
    names: dict[str, str] = {}
    out = []
    for line in lines:
        previous = None
        for i, (kind, string) in enumerate(line):
            following = line[i + 1][1] if i + 1 < len(line) else None
            if (
                kind == tokenize.NAME
                and not keyword.iskeyword(string)
                and string not in KEPT_NAMES
                and previous != "."
                and not (following == "=" and previous in {"(", ","})
            ):
                string = names.setdefault(string, f"v{len(names)}")
            out.append(string)
            previous = line[i][1]
        out.append("\n")
    return tuple(out)


def significant(source: str) -> list[list[tuple[int, str]]]:
    """The logical lines of a source that could give an answer away."""
    return [line for line in logical_lines(source) if not is_trivial(line)]


def holds(page_cell: str, snippet: str, window: int | None = None) -> bool:
    """Whether a page's code cell holds a snippet of an answer.

    Parameters
    ----------
    page_cell : str
        The source of one code cell of a page.
    snippet : str
        The source of a solution region or of a solution function's body.
    window : int, optional
        Look for every run of this many consecutive significant lines of the snippet rather
        than for all of them.  ``None`` looks for the whole snippet.  A snippet of one
        significant line of at least ``MIN_LONE_LINE_TOKENS`` tokens is looked for as it is.

    Returns
    -------
    bool
        True if the cell's significant lines contain, consecutively and up to renaming, the
        snippet's significant lines (or one run of ``window`` of them).  Other snippets with
        fewer than two significant lines of more than ``MIN_LINE_TOKENS`` tokens never match.
    """
    wanted = significant(snippet)
    have = significant(page_cell)
    if len(wanted) == 1 and len(wanted[0]) >= MIN_LONE_LINE_TOKENS:  # a one-formula answer
        target = canonical(wanted)
        return any(canonical([line]) == target for line in have)
    if sum(len(line) > MIN_LINE_TOKENS for line in wanted) < 2:
        return False
    runs = (
        [wanted]
        if window is None
        else [wanted[i : i + window] for i in range(len(wanted) - window + 1)]
    )
    for run in runs:
        if sum(len(line) > MIN_LINE_TOKENS for line in run) < 2:
            continue
        target = canonical(run)
        for start in range(len(have) - len(run) + 1):
            if canonical(have[start : start + len(run)]) == target:
                return True
    return False


def answers_held(page_text: str, snippets: list[Snippet]) -> list[str]:
    """The answers a page holds: one message per (snippet, code cell) found.

    Parameters
    ----------
    page_text : str
        A MyST page.
    snippets : list of Snippet
        The answers to look for.

    Returns
    -------
    list of str
        Empty if the page holds none of them.
    """
    found = []
    for number, cell in enumerate(page_code_cells(page_text), start=1):
        for snippet in snippets:
            if holds(cell, snippet.source, window=2):
                first = cell.strip().splitlines()[0] if cell.strip() else ""
                found.append(f"code cell {number} ({first!r}) holds {snippet.origin}")
    return found


# ---------------------------------------------------------------- the pages

SNIPPETS = all_solution_snippets()


def test_every_solution_notebook_gives_answers_to_look_for():
    assert len(SOLUTIONS) >= 6
    for path in SOLUTIONS:
        snippets = SNIPPETS[path.parent.name]
        assert any(
            s.origin.startswith(f"solutions/{path.parent.name}/{path.name}") for s in snippets
        )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_page_does_not_hold_its_exercise_answers(chapter):
    pages = [p for p in chapter.glob("*.md")]
    assert pages, f"no page in {chapter.name}"
    everyone = [s for snippets in SNIPPETS.values() for s in snippets]
    for page in pages:
        found = answers_held(page.read_text(encoding="utf-8"), everyone)
        assert not found, f"{page.relative_to(ROOT)} holds answers:\n" + "\n".join(found)


# ---------------------------------------------------------------- the checker, on planted faults

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

(planted)=
# A page

The idea, in prose and $\\LaTeX$.

"""

SOFTMAX_SOLUTION = '''def softmax(z, axis=-1):
    """exp(z) / sum(exp(z)) along ``axis``, computed with the max-shift."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))  # every exponent <= 0
    return e / np.sum(e, axis=axis, keepdims=True)  # the sum is >= 1
    ### END SOLUTION
'''

SOFTPLUS_SOLUTION = '''def softplus(x):
    """log(1 + exp(x)), elementwise."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    ### END SOLUTION
'''

LOG_SIGMOID_SOLUTION = '''def log_sigmoid(x):
    """log(sigmoid(x))."""
    ### BEGIN SOLUTION
    return -softplus(-x)
    ### END SOLUTION
'''


def myst_page(*sources: str) -> str:
    """A MyST page with one code cell per source, between paragraphs of prose."""
    cells = [
        "```{code-cell} ipython3\n" + source.strip("\n") + "\n```\n\nProse.\n\n"
        for source in sources
    ]
    return HEADER + "".join(cells)


def solution_notebook(*sources: str) -> nbformat.NotebookNode:
    """A solution notebook whose code cells are the sources, graded as nbgrader marks them."""
    notebook = nbformat.v4.new_notebook()
    for number, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": f"task{number}", "solution": True}
        notebook.cells.append(cell)
    return notebook


def planted_snippets(*sources: str) -> list[Snippet]:
    return solution_snippets(solution_notebook(*sources), "planted")


def test_snippets_are_the_regions_and_the_bodies_without_docstrings_or_markers():
    snippets = planted_snippets(SOFTMAX_SOLUTION, "print('no solution here')")
    assert [s.origin for s in snippets] == ["planted: task0", "planted: task0: body of softmax()"]
    for snippet in snippets:
        assert "BEGIN SOLUTION" not in snippet.source and "max-shift" not in snippet.source
        assert snippet.source.startswith("z = np.asarray(z, dtype=float)")
        assert len(significant(snippet.source)) == 2  # the conversion of z gives nothing away


def test_page_code_cells_are_the_executed_cells_only():
    page = myst_page(
        "x = 1", ":tags: [hide-input]\n\ny = 2", "---\ntags: [remove-input]\n---\nz = 3"
    )
    page += "```python\ndef shown_not_run(): ...\n```\n"
    page += "````{code-cell} ipython3\nprint('```')\n````\n"
    assert page_code_cells(page) == ["x = 1", "y = 2", "z = 3", "print('```')"]


def test_a_page_holding_a_solution_verbatim_is_caught():
    page = myst_page("import numpy as np", SOFTMAX_SOLUTION.replace("### BEGIN SOLUTION\n", ""))
    found = answers_held(page, planted_snippets(SOFTMAX_SOLUTION))
    assert found == [
        "code cell 2 ('def softmax(z, axis=-1):') holds planted: task0",
        "code cell 2 ('def softmax(z, axis=-1):') holds planted: task0: body of softmax()",
    ]


def test_a_copy_reformatted_commented_and_renamed_is_caught():
    disguised = '''
def stable_softmax(logits, dim=-1):
    """Shift by the maximum, then normalise."""
    # exponentiate after shifting: nothing overflows
    ez = np.exp(
        logits - np.max(logits, axis=dim, keepdims=True)
    )
    return ez / np.sum(ez, axis=dim,
                       keepdims=True)
'''
    assert answers_held(myst_page(disguised), planted_snippets(SOFTMAX_SOLUTION))


def test_two_consecutive_lines_of_a_longer_answer_are_caught():
    # the two lines of the logsumexp answer that do the work, inside other code
    logsumexp_solution = """def logsumexp(z, axis=-1):
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(m), m, 0.0)  # rows of -inf are shifted by 0
    e = np.exp(z - shift)
    ties = np.sum(z == m, axis=axis, keepdims=True) - 1
    return np.squeeze(m, axis=axis)
    ### END SOLUTION
"""
    partial = """Z = rng.normal(size=(3, 4))
peak = np.max(Z, axis=1, keepdims=True)
offset = np.where(np.isfinite(peak), peak, 0.0)
E = np.exp(Z - offset)
print(E)
"""
    snippets = planted_snippets(logsumexp_solution)
    assert answers_held(myst_page(partial), snippets)
    one_line_only = "offset = np.where(np.isfinite(peak), peak, 0.0)\nprint(offset)"
    assert not answers_held(myst_page(one_line_only), snippets)


def test_a_one_formula_answer_is_caught_and_a_short_identity_is_not():
    snippets = planted_snippets(SOFTPLUS_SOLUTION, LOG_SIGMOID_SOLUTION)
    copied = "def zeta(t):\n    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))"
    assert answers_held(myst_page(copied), snippets)
    identity = "def log_sigma(t):\n    return -softplus(-t)  # thm-softplus-log-sigmoid"
    assert not answers_held(myst_page(identity), snippets)


def test_teaching_versions_that_stop_short_of_the_answer_are_not_flagged():
    snippets = planted_snippets(SOFTMAX_SOLUTION, SOFTPLUS_SOLUTION)
    naive = "def softmax_naive(z):\n    e = np.exp(z)\n    return e / e.sum()"
    one_vector = (
        "def softmax_1d(z):\n    m = np.max(z)\n    e = np.exp(z - m)\n    return e / np.sum(e)"
    )
    scalar = "def softplus_scalar(x):\n    return max(x, 0) + np.log1p(np.exp(-abs(x)))"
    conversion_only = "def f(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    return z"
    assert not answers_held(myst_page(naive, one_vector, scalar, conversion_only), snippets)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.parent.name for p in SOLUTIONS])
def test_each_real_page_with_an_answer_planted_in_it_is_caught(solution):
    """Append a solution cell of the chapter's own exercise to its real page: caught."""
    chapter = ROOT / "chapters" / solution.parent.name
    notebook = nbformat.read(solution, as_version=4)
    cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code"
        and BEGIN in cell.source
        and any(holds(cell.source, s.source, window=2) for s in solution_snippets(notebook, "x"))
    ]
    assert cells, f"no solution cell of {chapter.name} with two lines worth finding"
    planted = cells[0].source.replace(BEGIN, "").replace(END, "")
    grade_id = cells[0].metadata["nbgrader"]["grade_id"]
    pages = [page for page in chapter.glob("*.md")]
    assert pages, f"no page in {chapter.name}"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        text += "\n```{code-cell} ipython3\n" + planted.strip("\n") + "\n```\n"
        found = answers_held(text, SNIPPETS[chapter.name])
        assert any(f": {grade_id}" in message for message in found), (page.name, grade_id)
