"""Pairs of submissions whose own code is unusually alike: a MOSS-style ranking.

``python -m autograder similarity SUBMITTED_DIR --assignment ID --out DIR`` reads every
student's notebook of one assignment (nbgrader's layout), removes what the released
template already holds, fingerprints what is left, and ranks every pair of students by
how much of their own code lies in passages they share.  It writes ``similarity.csv``
(one row per pair) and ``similarity.html`` (the pairs above the threshold side by side,
shared passages highlighted, and a histogram of all pair scores).

How a submission becomes fingerprints
-------------------------------------
1. *Own code.*  The code cells of the student's notebook, less every cell that is the
   template's (a cell whose grade id the template locks, which grading restores anyway,
   or whose normalised tokens equal a template cell's: an untouched stub, the set-up, the
   ``STUDENT_ID`` cell with any id in it).  Token runs that also occur in the template
   (a function's ``def`` line and docstring, ``# YOUR CODE HERE``) are boilerplate, as
   MOSS's base file: they are neither shared nor counted.
2. *Tokens.*  Python's own :mod:`tokenize` (after IPython magics are translated as grading
   does), with every identifier the student could have chosen (a name that is not a
   keyword, a builtin or an attribute after ``.``) made the one token ``V``, every string
   ``S``, comments dropped, and the block structure kept (``;`` ends a statement, ``{``
   and ``}`` open and close a block).  Renaming variables or functions changes nothing;
   ``np.exp`` stays apart from ``np.log``.
3. *Fingerprints.*  Hashes (BLAKE2b, 64 bits) of every run of :data:`K` tokens, runs cut
   before each top-level ``def`` or ``class`` (a function has the same runs wherever it
   stands), reduced by robust winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003) with a
   window of :data:`WINDOW`: a run of ``K + WINDOW - 1`` tokens that two submissions share
   always yields a fingerprint they share.  Moving functions or cells around does not
   change them.

The score of a pair is the fraction of the two students' own tokens (both together) that
lie inside a shared fingerprint's run: 0 when nothing is shared, about 1 when each is
covered by passages of the other (a token or two at each function's edges escapes the
winnowing, so a whole-notebook copy scores 0.87 to 0.96).

Why not copydetect
------------------
copydetect 0.5.0 (MIT) does the same winnowing, and was tried first.  It hashes its k-grams
with Python's ``hash()``, which is salted per process: the same two files scored 0.937 and
0.925 in one run, 0.937 and 0.949 in the next, 0.950 and 0.938 in a third
(``PYTHONHASHSEED`` 1, 2, 3; k = 25, window 4), so a calibrated threshold would not be a
number one can quote.  Its filter makes ``np`` and attribute names alike (``np.exp`` and
``np.log`` both become ``V.V``); its k-grams are characters of the filtered text, not
tokens; it reads files, not notebook cells; and importing it takes 0.8 to 1 s, since it
imports ``matplotlib.pyplot`` and ``tqdm`` (a package the course does not otherwise need).
What the course needs from it (k-gram hashes, winnowing, overlap slices) is about a
hundred lines here, deterministic and tested.

How to read the scores, and the default threshold
-------------------------------------------------
Short exercises look alike by nature: a stable sigmoid is ``np.where`` over
``np.exp(-np.abs(x))`` in many notebooks, so honest students who chose the same approach
share passages.  :data:`DEFAULT_THRESHOLD` was calibrated on generated classes of chapter 1
(``tests/similarity_class.py``: each honest student answers each of the six exercises with
one of 3 to 6 genuinely different approaches, with their own names, conversions, checks,
comments, spellings and layout; ``python tests/similarity_class.py`` prints these
figures).  Three classes of 60 honest students (1770 pairs each): median 0.29 to 0.30,
90th percentile 0.48, 99th 0.61 to 0.65, 99.9th 0.69 to 0.72, largest 0.72 to 0.74.
One class of 200 (19,900 pairs): median 0.30, 99th percentile 0.62, 99.9th 0.71, largest
0.88 (the one pair above 0.80: two students who chose the same approach for most
exercises).  Five copies in each class (another student's notebook, every local variable
renamed, comments rewritten, the functions moved into one cell in reverse order): 0.87 to
0.96, and in every class the five copies are its five highest pairs.  A pair that shares
only the template: 0.
The default threshold, 0.80, lies above every honest pair of the 60-student classes and
below every copy.  A score above it is a reason to read the two notebooks side by side,
not a verdict: two students may have followed the same worked example, or a tutor; and
the larger the class, the likelier an honest pair near the threshold.

Bad input never stops a run: a missing notebook, or one that cannot be read, is listed
with its reason in the report (and in :attr:`Similarity.problems`), and its student is
left out of the pairs.
"""

from __future__ import annotations

import base64
import builtins
import csv
import hashlib
import html
import io
import itertools
import keyword
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import course
from autograder.notebook import (
    NotebookProblem,
    cell_source,
    nbgrader_info,
    read_notebook,
    translate_magics,
)
from autograder.report import _page, write_atomic

#: Tokens per fingerprinted run (the noise threshold: shorter shared runs are ignored).
K = 10
#: Winnowing window: every shared run of ``K + WINDOW - 1`` tokens is found.
WINDOW = 4
#: Pairs scoring above this are reported side by side (calibrated: see the module's Notes).
DEFAULT_THRESHOLD = 0.80

_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


class SimilarityError(Exception):
    """A usage error: an unknown assignment, or no template to remove."""


@dataclass(frozen=True)
class Token:
    """One normalised token of a cell: its text, and where it stands in the cell's source."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class OwnCell:
    """A code cell the student wrote or changed: its label, source and normalised tokens."""

    label: str
    source: str
    tokens: tuple[Token, ...]


@dataclass
class Submission:
    """A student's own code, fingerprinted.

    ``prints`` maps a fingerprint to where it occurs, ``(cell position, token position)``;
    ``own`` marks, per cell, the tokens that are not the template's boilerplate.
    """

    student: str
    cells: list[OwnCell]
    prints: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    own: list[list[bool]] = field(default_factory=list)

    @property
    def own_tokens(self) -> int:
        return sum(sum(flags) for flags in self.own)


@dataclass(frozen=True)
class Problem:
    """A student whose notebook could not be compared, and why."""

    student: str
    status: str
    message: str


@dataclass(frozen=True)
class Pair:
    """Two students' scores and the passages they share.

    ``spans_a`` and ``spans_b`` map a cell label to the ``(start, end)`` character ranges of
    that cell's source that lie in shared passages.
    """

    student_a: str
    student_b: str
    score: float
    shared_tokens: int
    spans_a: dict[str, list[tuple[int, int]]]
    spans_b: dict[str, list[tuple[int, int]]]

    @property
    def cells_a(self) -> list[str]:
        return list(self.spans_a)

    @property
    def cells_b(self) -> list[str]:
        return list(self.spans_b)


@dataclass
class Similarity:
    """The ranking of one assignment: every pair, best first, and who was not compared."""

    assignment: str
    threshold: float
    pairs: list[Pair]
    submissions: dict[str, Submission]
    problems: list[Problem]
    k: int = K
    window: int = WINDOW

    @property
    def flagged(self) -> list[Pair]:
        """The pairs scoring above the threshold, highest first."""
        return [p for p in self.pairs if p.score > self.threshold]

    @property
    def without_own_code(self) -> list[str]:
        """Students compared whose notebook holds nothing but the template (they score 0)."""
        return [name for name, s in self.submissions.items() if s.own_tokens == 0]


# --------------------------------------------------------------------------- tokens


def normalised_tokens(source: str) -> list[Token]:
    """The tokens of a cell's Python, identifiers made ``V`` and strings ``S``.

    Parameters
    ----------
    source : str
        A code cell's source; IPython magics are translated as grading does.

    Returns
    -------
    list of Token
        Keywords, builtins, operators, numbers and attribute names keep their text; any
        other name becomes ``V``, a string ``S``; ``;`` ends a statement, ``{`` and ``}``
        open and close an indented block; comments are dropped.  Source that Python
        cannot tokenize (a syntax error) is split on words and symbols instead.

    See Also
    --------
    fingerprints : what the tokens become.

    Notes
    -----
    Renaming a variable or a function does not change the tokens; calling ``np.log``
    instead of ``np.exp`` does.

    Examples
    --------
    >>> [t.text for t in normalised_tokens("total = np.exp(-x)  # mine")]
    ['V', '=', 'V', '.', 'exp', '(', '-', 'V', ')', ';']
    >>> [t.text for t in normalised_tokens("s = 'a'\\nprint(len(s))")]
    ['V', '=', 'S', ';', 'print', '(', 'len', '(', 'V', ')', ')', ';']
    """
    python, _ = translate_magics(source)
    starts = [0]
    for line in python.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(row: int, column: int) -> int:
        return starts[min(row - 1, len(starts) - 1)] + column

    found: list[Token] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(python).readline):
            kind, text = tok.type, tok.string
            start, end = offset(*tok.start), offset(*tok.end)
            if kind == tokenize.NAME:
                kept = previous == "." or text in _KEPT_NAMES
                found.append(Token(text if kept else "V", start, end))
            elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                found.append(Token("S", start, end))
            elif kind == tokenize.NEWLINE:
                found.append(Token(";", start, max(start, end)))
            elif kind == tokenize.INDENT:
                found.append(Token("{", end, end))
            elif kind == tokenize.DEDENT:
                found.append(Token("}", start, start))
            elif kind in (tokenize.OP, tokenize.NUMBER, tokenize.ERRORTOKEN) and text.strip():
                found.append(Token(text, start, end))
            previous = text if kind == tokenize.OP else ""
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _fallback_tokens(python)
    return _without_docstrings(found)


def _without_docstrings(tokens: list[Token]) -> list[Token]:
    """Drop statements that are only a string (docstrings, code quoted out): like comments."""
    kept: list[Token] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        alone = position + 1 < len(tokens) and tokens[position + 1].text == ";"
        if token.text == "S" and alone and (not kept or kept[-1].text in ";{}"):
            position += 2
            continue
        kept.append(token)
        position += 1
    return kept


def _fallback_tokens(python: str) -> list[Token]:
    """Words and symbols, names made ``V`` as above: for code Python cannot tokenize."""
    found = []
    for match in re.finditer(r"[A-Za-z_]\w*|\d[\w.]*|\S", python):
        text = match.group()
        if (text[0].isalpha() or text[0] == "_") and text not in _KEPT_NAMES:
            text = "V"
        found.append(Token(text, match.start(), match.end()))
    return found


# --------------------------------------------------------------------------- fingerprints


def gram_hash(texts: Sequence[str]) -> int:
    """The 64-bit BLAKE2b hash of a run of token texts (the same on every run and machine).

    Parameters
    ----------
    texts : sequence of str
        The texts of consecutive normalised tokens.

    Returns
    -------
    int
        From 0 to 2**64 - 1; unlike Python's ``hash()``, not salted per process.

    See Also
    --------
    runs : the hash of every run of a cell.

    Examples
    --------
    >>> gram_hash(["V", "=", "V"]) == gram_hash(["V", "=", "V"])
    True
    >>> gram_hash(["V", "=", "V"]) == gram_hash(["V=", "V"])
    False
    """
    digest = hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def winnow(hashes: Sequence[int], window: int) -> list[int]:
    """The positions robust winnowing selects from a sequence of hashes.

    Parameters
    ----------
    hashes : sequence of int
        The hashes of consecutive k-grams.
    window : int
        The window's width, at least 1 (1 selects every position).

    Returns
    -------
    list of int
        Increasing positions: in every window of ``window`` consecutive hashes the
        smallest one (the rightmost of equal ones), each recorded once.

    Raises
    ------
    ValueError
        If ``window`` is less than 1.

    See Also
    --------
    fingerprints : winnowing applied to a cell's tokens.

    Notes
    -----
    Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
    fingerprinting", SIGMOD 2003.  Every window holds a selected position, so two
    sequences sharing ``window`` consecutive hashes share a selected hash.

    Examples
    --------
    >>> winnow([77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98], 4)
    [3, 6, 8, 11, 15]
    >>> winnow([5, 1, 3], 1)
    [0, 1, 2]
    """
    if window < 1:
        raise ValueError(f"the winnowing window must be at least 1, not {window}")
    selected: list[int] = []
    for first in range(max(len(hashes) - window + 1, 1 if hashes else 0)):
        chunk = hashes[first : first + window]
        smallest = min(chunk)
        position = first + max(i for i, h in enumerate(chunk) if h == smallest)
        if not selected or selected[-1] != position:
            selected.append(position)
    return selected


def fingerprints(tokens: Sequence[Token], k: int = K, window: int = WINDOW) -> dict[int, list[int]]:
    """The winnowed fingerprints of one cell: each hash, and the token positions it starts at.

    Parameters
    ----------
    tokens : sequence of Token
        A cell's normalised tokens (:func:`normalised_tokens`).
    k : int
        Tokens per run.
    window : int
        The winnowing window.

    Returns
    -------
    dict
        ``{hash: [position, ...]}``; empty for a cell of fewer than ``k`` tokens.

    See Also
    --------
    winnow, gram_hash

    Examples
    --------
    >>> mine = fingerprints(normalised_tokens("y = np.exp(-x)"), k=4, window=2)
    >>> list(mine.values())
    [[0], [2], [3], [5]]
    >>> mine == fingerprints(normalised_tokens("out = np.exp(-values)"), k=4, window=2)
    True
    """
    found: dict[int, list[int]] = {}
    for segment in runs(tokens, k):
        for chosen in winnow([value for _, value in segment], window):
            position, value = segment[chosen]
            found.setdefault(value, []).append(position)
    return found


def runs(tokens: Sequence[Token], k: int = K) -> list[list[tuple[int, int]]]:
    """The hash of every run of ``k`` tokens, by top-level definition.

    A cell is cut before each ``def``, ``class`` or decorator that is not inside a block,
    and no run crosses a cut: a function has the same runs whichever cell holds it and
    whatever comes before it.

    Parameters
    ----------
    tokens : sequence of Token
        A cell's normalised tokens.
    k : int
        Tokens per run.

    Returns
    -------
    list of list of (int, int)
        Per piece of the cell, ``(position, hash)`` of each run, in order; a piece
        shorter than ``k`` tokens has none.

    See Also
    --------
    fingerprints : the runs winnowed.

    Examples
    --------
    >>> cell = normalised_tokens("def f(x):\\n    return x\\n\\ndef g(y):\\n    return y\\n")
    >>> [[position for position, _ in piece] for piece in runs(cell, k=8)]
    [[0, 1, 2, 3, 4], [12, 13, 14, 15, 16]]
    """
    texts = [t.text for t in tokens]
    cuts, depth = [0], 0
    for i, text in enumerate(texts):
        if text in ("def", "class", "@") and depth == 0 and (i == 0 or texts[i - 1] in ";}"):
            if i and (cuts[-1] != i):
                cuts.append(i)
        depth += (text == "{") - (text == "}")
    cuts.append(len(texts))
    return [
        [(i, gram_hash(texts[i : i + k])) for i in range(start, end - k + 1)]
        for start, end in itertools.pairwise(cuts)
        if end - start >= k
    ]


# --------------------------------------------------------------------------- notebooks


def template_path(assignment_id: str, chapters: Path = course.CHAPTERS) -> Path:
    """The released student notebook of an assignment, ``chapters/<id>/*_exercise.ipynb``.

    Parameters
    ----------
    assignment_id : str
        The assignment, e.g. ``01_sigmoid``.
    chapters : Path
        The folder of the chapters (default the course's).

    Returns
    -------
    Path
        The notebook students were given: what :class:`Template` removes.

    Raises
    ------
    SimilarityError
        If the assignment has no such notebook (an unknown assignment).

    See Also
    --------
    autograder.course.CHAPTERS

    Examples
    --------
    >>> template_path("01_sigmoid").name
    'sigmoid_exercise.ipynb'
    """
    found = sorted((chapters / assignment_id).glob("*_exercise.ipynb"))
    if len(found) != 1:
        known = sorted(p.parent.name for p in chapters.glob("*/*_exercise.ipynb"))
        raise SimilarityError(f"unknown assignment {assignment_id!r}; known: {known}")
    return found[0]


@dataclass(frozen=True)
class Template:
    """What the released notebook gives every student: removed before comparing."""

    name: str
    locked_ids: frozenset[str]
    cells: frozenset[tuple[str, ...]]
    grams: frozenset[int]

    @classmethod
    def load(cls, path: Path, k: int = K) -> Template:
        """Read the released notebook at ``path``: its locked cells, cells and runs of ``k``."""
        notebook = read_notebook(path)
        locked, cells, grams = set(), set(), set()
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            info = nbgrader_info(cell)
            if info.get("locked") and not info.get("solution") and info.get("grade_id"):
                locked.add(info["grade_id"])
            tokens = normalised_tokens(cell_source(cell))
            cells.add(tuple(t.text for t in tokens))
            grams.update(value for segment in runs(tokens, k) for _, value in segment)
        return cls(path.name, frozenset(locked), frozenset(cells), frozenset(grams))


def own_code(notebook: dict[str, Any], template: Template | None) -> list[OwnCell]:
    """The code cells of a notebook that are the student's, not the template's.

    Parameters
    ----------
    notebook : dict
        A notebook, as :func:`autograder.notebook.read_notebook` returns it.
    template : Template or None
        The released notebook; None keeps every non-empty code cell.

    Returns
    -------
    list of OwnCell
        In notebook order, labelled by grade id (or ``cell N``, 1-based, for a cell the
        student added).

    See Also
    --------
    normalised_tokens

    Examples
    --------
    >>> cells = [{"cell_type": "code", "source": "x = 1"}]
    >>> [c.label for c in own_code({"cells": cells}, None)]
    ['cell 1']
    """
    found = []
    for index, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        grade_id = nbgrader_info(cell).get("grade_id")
        grade_id = grade_id if isinstance(grade_id, str) and grade_id else None
        source = cell_source(cell)
        tokens = tuple(normalised_tokens(source))
        if not tokens:
            continue
        if template is not None and (
            grade_id in template.locked_ids or tuple(t.text for t in tokens) in template.cells
        ):
            continue
        found.append(OwnCell(grade_id or f"cell {index}", source, tokens))
    return found


def fingerprint_submission(
    student: str,
    cells: list[OwnCell],
    template: Template | None,
    k: int = K,
    window: int = WINDOW,
) -> Submission:
    """A student's own cells fingerprinted, the template's runs marked as boilerplate.

    Parameters
    ----------
    student : str
        The student's id.
    cells : list of OwnCell
        Their own cells (:func:`own_code`).
    template : Template or None
        Runs it holds are neither fingerprinted nor counted (None: nothing removed).
    k, window : int
        Tokens per run, and the winnowing window.

    Returns
    -------
    Submission
        Ready for :func:`compare`.

    See Also
    --------
    fingerprints, own_code

    Examples
    --------
    >>> cells = own_code({"cells": [{"cell_type": "code", "source": "y = x + 1"}]}, None)
    >>> fingerprint_submission("ann", cells, None, k=3, window=1).own_tokens  # V = V + 1 ;
    6
    """
    submission = Submission(student, cells)
    boilerplate = template.grams if template is not None else frozenset()
    for number, cell in enumerate(cells):
        texts = [t.text for t in cell.tokens]
        own = [True] * len(texts)
        for segment in runs(cell.tokens, k):
            for i, value in segment:
                if value in boilerplate:
                    own[i : i + k] = [False] * k
        submission.own.append(own)
        for value, positions in fingerprints(cell.tokens, k, window).items():
            if value in boilerplate:
                continue
            submission.prints.setdefault(value, []).extend((number, p) for p in positions)
    return submission


def read_class(
    submitted: Path,
    assignment_id: str,
    template: Template | None,
    notebook_name: str,
    k: int = K,
    window: int = WINDOW,
    exclude: Path | None = None,
) -> tuple[dict[str, Submission], list[Problem]]:
    """Every student's submission of ``submitted`` (nbgrader's layout), or why not.

    Parameters
    ----------
    submitted : Path
        A student is a folder of it (hidden folders and ``exclude`` left out); their
        notebook is ``<student>/<assignment_id>/<notebook_name>``.
    assignment_id : str
        The assignment.
    template : Template or None
        What to remove (None: nothing).
    notebook_name : str
        The released notebook's file name.
    k, window : int
        Tokens per run, and the winnowing window.
    exclude : Path, optional
        A folder of ``submitted`` that is no student.

    Returns
    -------
    (dict, list)
        The fingerprinted submissions by student, and a :class:`Problem` for each student
        whose notebook is missing or unreadable: every student is in one or the other.

    See Also
    --------
    rank
    """
    submissions, problems = {}, []
    for folder in sorted(p for p in submitted.iterdir() if p.is_dir()):
        if folder.name.startswith(".") or (exclude and folder.resolve() == exclude.resolve()):
            continue
        student = folder.name
        path = folder / assignment_id / notebook_name
        if not path.is_file():
            others = sorted(p.name for p in (folder / assignment_id).glob("*.ipynb"))
            found = f" (the folder holds {', '.join(others)})" if others else ""
            problems.append(
                Problem(student, "missing", f"no {assignment_id}/{notebook_name}{found}")
            )
            continue
        try:
            notebook = read_notebook(path)
        except NotebookProblem as problem:
            problems.append(Problem(student, problem.status, problem.message))
            continue
        except OSError as exc:
            problems.append(Problem(student, "missing", f"the file cannot be read: {exc}"))
            continue
        cells = own_code(notebook, template)
        submissions[student] = fingerprint_submission(student, cells, template, k, window)
    return submissions, problems


# --------------------------------------------------------------------------- pairs


def _covered(submission: Submission, shared: set[int], k: int) -> tuple[int, dict[int, list[bool]]]:
    """The own tokens of ``submission`` inside a shared fingerprint's run, per cell."""
    marks = {n: [False] * len(c.tokens) for n, c in enumerate(submission.cells)}
    for value in shared:
        for number, position in submission.prints[value]:
            marks[number][position : position + k] = [True] * k
    count = 0
    for number, flags in marks.items():
        own = submission.own[number]
        flags[:] = [f and o for f, o in zip(flags, own, strict=True)]
        count += sum(flags)
    return count, marks


def _spans(
    submission: Submission, marks: dict[int, list[bool]]
) -> dict[str, list[tuple[int, int]]]:
    """Character ranges of the marked tokens, merged, by cell label."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for number, flags in marks.items():
        cell = submission.cells[number]
        ranges: list[tuple[int, int]] = []
        for token, marked in zip(cell.tokens, flags, strict=True):
            if not marked or token.end <= token.start:
                continue
            if ranges and not cell.source[ranges[-1][1] : token.start].strip():
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], token.end))
            else:
                ranges.append((token.start, token.end))
        if ranges:
            spans[cell.label] = ranges
    return spans


def compare(a: Submission, b: Submission, k: int = K) -> Pair:
    """The score of two submissions and their shared passages.

    Parameters
    ----------
    a, b : Submission
        Fingerprinted submissions (:func:`fingerprint_submission`).
    k : int
        The run length they were fingerprinted with.

    Returns
    -------
    Pair
        ``score`` is the fraction of the two students' own tokens, together, that lie in a
        run of ``k`` tokens whose fingerprint both have (0 when either has no own code).

    See Also
    --------
    rank : every pair of a class.
    """
    shared = a.prints.keys() & b.prints.keys()
    if not shared:
        return Pair(a.student, b.student, 0.0, 0, {}, {})
    covered_a, marks_a = _covered(a, shared, k)
    covered_b, marks_b = _covered(b, shared, k)
    total = a.own_tokens + b.own_tokens
    score = (covered_a + covered_b) / total if total else 0.0
    return Pair(
        a.student,
        b.student,
        round(score, 4),
        covered_a + covered_b,
        _spans(a, marks_a),
        _spans(b, marks_b),
    )


def rank(
    submitted: Path,
    assignment_id: str,
    threshold: float = DEFAULT_THRESHOLD,
    chapters: Path = course.CHAPTERS,
    remove_template: bool = True,
    k: int = K,
    window: int = WINDOW,
    exclude: Path | None = None,
) -> Similarity:
    """Rank every pair of students of ``submitted`` by the similarity of their own code.

    Parameters
    ----------
    submitted : Path
        nbgrader's ``submitted/`` folder: ``<student>/<assignment>/<notebook>.ipynb``.
    assignment_id : str
        The assignment, e.g. ``01_sigmoid``; its released notebook is the template.
    threshold : float
        Pairs scoring above it are flagged (default :data:`DEFAULT_THRESHOLD`).
    chapters : Path
        The folder of the released notebooks (default the course's).
    remove_template : bool
        False compares whole notebooks, template included (to see what removing it does).
    k, window : int
        Tokens per fingerprinted run, and the winnowing window.
    exclude : Path, optional
        A folder of ``submitted`` that is no student (the output folder, say).

    Returns
    -------
    Similarity
        Every pair of readable submissions, highest score first (ties by names), and
        the students whose notebook is missing or unreadable, with the reason.

    Raises
    ------
    SimilarityError
        For an unknown assignment or a ``threshold`` outside [0, 1].

    See Also
    --------
    write_reports : the CSV and HTML files.

    Notes
    -----
    Calibration of the default threshold, and how to read a score: see the module's
    docstring.

    Examples
    --------
    >>> import tempfile, json
    >>> scratch = tempfile.TemporaryDirectory()
    >>> root = Path(scratch.name)
    >>> for student in ("ann", "bob"):
    ...     folder = root / student / "01_sigmoid"
    ...     folder.mkdir(parents=True)
    ...     cells = [{"cell_type": "code", "source": "def f(x):\\n    return x + 1\\n"}]
    ...     _ = (folder / "sigmoid_exercise.ipynb").write_text(json.dumps({"cells": cells}))
    >>> result = rank(root, "01_sigmoid", k=4, window=1)
    >>> [(p.student_a, p.student_b, p.score) for p in result.pairs]
    [('ann', 'bob', 1.0)]
    >>> scratch.cleanup()
    """
    if not 0 <= threshold <= 1:
        raise SimilarityError(f"the threshold is a score from 0 to 1, not {threshold}")
    path = template_path(assignment_id, chapters)
    template = Template.load(path, k)
    submissions, problems = read_class(
        submitted,
        assignment_id,
        template if remove_template else None,
        template.name,
        k,
        window,
        exclude,
    )
    pairs = [compare(a, b, k) for a, b in itertools.combinations(submissions.values(), 2)]
    pairs.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    return Similarity(assignment_id, threshold, pairs, submissions, problems, k, window)


# --------------------------------------------------------------------------- reports


def similarity_csv(result: Similarity) -> str:
    """One row per pair, highest score first: the students, the score and the cells involved.

    Parameters
    ----------
    result : Similarity
        What :func:`rank` returned.

    Returns
    -------
    str
        CSV with the columns ``student_a``, ``student_b``, ``score`` (4 decimals),
        ``above_threshold`` (``yes`` or ``no``), ``shared_tokens``, and ``cells_a`` and
        ``cells_b``: the cells of each student holding a shared passage (``; ``-separated).

    See Also
    --------
    similarity_html, write_reports
    """
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(
        [
            "student_a",
            "student_b",
            "score",
            "above_threshold",
            "shared_tokens",
            "cells_a",
            "cells_b",
        ]
    )
    for pair in result.pairs:
        writer.writerow(
            [
                pair.student_a,
                pair.student_b,
                f"{pair.score:.4f}",
                "yes" if pair.score > result.threshold else "no",
                pair.shared_tokens,
                "; ".join(pair.cells_a),
                "; ".join(pair.cells_b),
            ]
        )
    return stream.getvalue()


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _highlighted(source: str, spans: list[tuple[int, int]]) -> str:
    parts, at = [], 0
    for start, end in spans:
        parts.append(_e(source[at:start]) + f"<mark>{_e(source[start:end])}</mark>")
        at = end
    return "".join(parts) + _e(source[at:])


def histogram_svg(scores: Sequence[float], threshold: float, bins: int = 20) -> str:
    """A histogram of pair scores from 0 to 1, the threshold drawn as a red line.

    Parameters
    ----------
    scores : sequence of float
        Every pair's score.
    threshold : float
        Where the dashed line stands.
    bins : int
        Bins of equal width from 0 to 1 (1 falls in the last).

    Returns
    -------
    str
        An SVG image, drawn by hand as the grading report's are (no matplotlib).  Every
        non-empty bin is at least two pixels tall and shows its count, so that one pair
        among thousands is still seen.

    See Also
    --------
    autograder.report.score_chart_svg

    Examples
    --------
    >>> svg = histogram_svg([0.1, 0.12, 0.95], 0.8)
    >>> svg.count("class='bin'"), "threshold 0.8" in svg
    (20, True)
    """
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    width, height = 720, 300
    x0, x1, top, bottom = 60, 700, 30, 250
    tallest = max(max(counts, default=0), 1)
    slot = (x1 - x0) / bins
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='12'>",
        f"<text x='{(x0 + x1) / 2}' y='18' text-anchor='middle' font-size='14'>"
        f"Scores of all {len(scores)} pairs</text>",
        f"<line x1='{x0}' y1='{bottom}' x2='{x1}' y2='{bottom}' stroke='#333'/>",
        f"<line x1='{x0}' y1='{top}' x2='{x0}' y2='{bottom}' stroke='#333'/>",
        f"<text x='{x0 - 6}' y='{top + 4}' text-anchor='end'>{tallest}</text>",
        f"<text x='{x0 - 6}' y='{bottom + 4}' text-anchor='end'>0</text>",
        f"<text x='16' y='{(top + bottom) / 2}' text-anchor='middle' "
        f"transform='rotate(-90 16 {(top + bottom) / 2})'>pairs</text>",
        f"<text x='{(x0 + x1) / 2}' y='{height - 12}' text-anchor='middle'>score</text>",
    ]
    for i, count in enumerate(counts):
        bar = max((bottom - top) * count / tallest, 2 if count else 0)
        left = x0 + i * slot
        label = f"{i / bins:.2f}-{(i + 1) / bins:.2f}"
        parts.append(
            f"<rect class='bin' x='{left + 1:.1f}' y='{bottom - bar:.1f}' width='{slot - 2:.1f}' "
            f"height='{bar:.1f}' fill='#4c72b0'><title>{label}: {count}</title></rect>"
        )
        if count:
            parts.append(
                f"<text x='{left + slot / 2:.1f}' y='{bottom - bar - 4:.1f}' "
                f"text-anchor='middle'>{count}</text>"
            )
    for tick in range(0, 11, 2):
        x = x0 + (x1 - x0) * tick / 10
        parts.append(
            f"<text x='{x:.1f}' y='{bottom + 16}' text-anchor='middle'>{tick / 10:g}</text>"
        )
    line = x0 + (x1 - x0) * threshold
    parts.append(
        f"<line class='threshold' x1='{line:.1f}' y1='{top - 6}' x2='{line:.1f}' y2='{bottom}' "
        f"stroke='#cf222e' stroke-width='2' stroke-dasharray='6 3'/>"
        f"<text x='{line + 4:.1f}' y='{top}' fill='#cf222e'>threshold {threshold:g}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


HOW_TO_READ = (
    "A pair's score is the fraction of the two students' own code (the released template "
    "removed, identifiers and strings made alike, comments ignored) that lies in passages "
    "of at least {k} tokens both notebooks hold. Short exercises look alike by nature: "
    "honest students who chose the same approach share idioms, and on a generated class of "
    "honest solutions to chapter 1, pairs scored 0.30 at the median and up to 0.74 in a "
    "class of 60 (a whole-notebook copy with renamed variables scored 0.87 to 0.96). A pair "
    "above the threshold ({threshold:g}) is worth reading side by side; the score is not a "
    "verdict (a shared worked example, a tutor or a study group give high scores too), and "
    "a copy rewritten in another way scores low."
)


def similarity_html(result: Similarity) -> str:
    """The report: how to read it, the histogram, the flagged pairs side by side, and who
    was not compared (with the reason).

    Parameters
    ----------
    result : Similarity
        What :func:`rank` returned.

    Returns
    -------
    str
        A page without scripts; everything a student wrote is HTML-escaped.

    See Also
    --------
    similarity_csv, histogram_svg, write_reports
    """
    flagged = result.flagged
    parts = [
        f"<p>{len(result.submissions)} notebooks of <code>{_e(result.assignment)}</code> "
        f"compared, {len(result.pairs)} pairs; <strong>{len(flagged)}</strong> above the "
        f"threshold {result.threshold:g}. Fingerprints: runs of {result.k} tokens, winnowing "
        f"window {result.window}.</p>",
        f"<p class='muted'>{_e(HOW_TO_READ.format(k=result.k, threshold=result.threshold))}</p>",
    ]
    if result.problems:
        parts.append(
            f"<h2>Not compared ({len(result.problems)})</h2><table><tr><th>student</th>"
            "<th>status</th><th>reason</th></tr>"
        )
        parts += [
            f"<tr><td>{_e(p.student)}</td><td><span class='status'>{_e(p.status)}</span></td>"
            f"<td>{_e(p.message)}</td></tr>"
            for p in result.problems
        ]
        parts.append("</table>")
    if result.without_own_code:
        parts.append(
            f"<p>Compared, but nothing of their own beyond the template (every score 0): "
            f"{_e(', '.join(result.without_own_code))}.</p>"
        )
    scores = [p.score for p in result.pairs]
    svg = histogram_svg(scores, result.threshold)
    above = len(flagged)
    words = (
        f"Histogram of the {len(scores)} pair scores from 0 to 1; {above} above the threshold "
        f"{result.threshold:g}."
    )
    data = base64.b64encode(svg.encode()).decode("ascii")
    parts.append(
        f"<h2>All pairs</h2><img alt='{_e(words)}' src='data:image/svg+xml;base64,{data}'>"
    )
    parts.append(f"<h2>Pairs above the threshold ({above})</h2>")
    if not flagged:
        parts.append("<p>None.</p>")
    for pair in flagged:
        parts.append(
            f"<h3>{_e(pair.student_a)} and {_e(pair.student_b)}: score {pair.score:.2f}</h3>"
            f"<table class='pair'><tr><th>{_e(pair.student_a)}</th><th>{_e(pair.student_b)}"
            "</th></tr><tr>"
        )
        for student, spans in ((pair.student_a, pair.spans_a), (pair.student_b, pair.spans_b)):
            cells = {c.label: c for c in result.submissions[student].cells}
            column = [
                f"<p class='muted'>{_e(label)}</p><pre>{_highlighted(cells[label].source, ranges)}"
                "</pre>"
                for label, ranges in spans.items()
            ]
            parts.append(f"<td style='width:50%'>{''.join(column)}</td>")
        parts.append("</tr></table>")
    style = "<style>mark { background: #ffe08a; } table.pair td { width: 50%; }</style>"
    return _page(f"Similarity of {result.assignment}", style + "\n".join(parts))


def write_reports(result: Similarity, out: Path) -> list[Path]:
    """Write ``similarity.csv`` and ``similarity.html`` into ``out`` (each atomically).

    Parameters
    ----------
    result : Similarity
        What :func:`rank` returned.
    out : Path
        The folder (made if missing).

    Returns
    -------
    list of Path
        The two files written.

    Raises
    ------
    OSError
        If ``out`` cannot be written.

    See Also
    --------
    similarity_csv, similarity_html
    """
    paths = [out / "similarity.csv", out / "similarity.html"]
    write_atomic(paths[0], similarity_csv(result))
    write_atomic(paths[1], similarity_html(result))
    return paths
