"""Reading exercise notebooks: which cells run, which are tests, and IPython magics.

The *source* notebook (``solutions/<assignment>/<name>.ipynb``, nbgrader's source
format) decides which cells are tests: its code cells with ``grade: true``.
The student's copy is never trusted for that, since its metadata is editable.
A student code cell is run unless its ``grade_id`` names a test cell of the
source; a cell the source marks as locked (the read-only set-up cell) runs with
the source's text, as ``nbgrader autograde`` restores it.  A locked cell whose
source metadata holds ``"autograder": {"skip": true}`` is not run at all: the
course marks so an ungraded demonstration that nothing graded depends on (the
capstone's training on the chapter's split), which would only spend the
submission's time.

Notebooks are read as plain JSON (no schema validation, no execution) so that a
corrupt or hostile file is classified rather than crashing the grader.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.packages import belongs_to

#: A notebook larger than this is not read (outputs included).
MAX_NOTEBOOK_BYTES = 64 << 20


class NotebookProblem(Exception):
    """A notebook that cannot be graded; ``status`` is the grading status to report."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CodeCell:
    """A code cell to run: its position in the notebook (1-based) and its Python source.

    ``origin`` is ``"student"`` or ``"course"`` (a locked cell restored from the
    source); ``notes`` say which magics or shell lines were not run.
    """

    index: int
    source: str
    origin: str = "student"
    grade_id: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceNotebook:
    """What the grader needs from a source (solution) notebook."""

    path: Path
    test_ids: frozenset[str]
    #: The locked cells' Python (magics translated once, here), by grade id.
    locked: dict[str, str] = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()
    imports: tuple[str, ...] = ()
    tested_functions: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def load(cls, path: Path) -> SourceNotebook:
        """Read a source notebook (it is the course's own: problems raise ValueError)."""
        try:
            notebook = read_notebook(path)
        except NotebookProblem as problem:
            raise ValueError(f"{path}: {problem.message}") from None
        test_ids, locked, skipped, imports, tested = set(), {}, set(), [], {}
        for cell in notebook["cells"]:
            info = nbgrader_info(cell)
            if cell["cell_type"] != "code":
                continue
            grade_id = info.get("grade_id")
            if info.get("grade"):
                test_ids.add(grade_id)
                function = _tested_function(cell_source(cell))
                if function:
                    tested[grade_id] = function
                continue
            course_cell = info.get("locked") and not info.get("solution") and grade_id
            if course_cell and _marked_skip(cell):
                skipped.add(grade_id)
                continue
            python, _ = translate_magics(cell_source(cell))
            if course_cell:
                locked[grade_id] = python
            imports += imported_modules(python)
        return cls(
            path=path,
            test_ids=frozenset(test_ids),
            locked=locked,
            skipped=frozenset(skipped),
            imports=tuple(dict.fromkeys(imports)),
            tested_functions=tested,
        )


def _marked_skip(cell: dict[str, Any]) -> bool:
    """Whether a (source) cell's metadata says the grader need not run it."""
    marks = cell.get("metadata", {}).get("autograder", {})
    return isinstance(marks, dict) and marks.get("skip") is True


def _tested_function(source: str) -> str | None:
    """The function a test cell's ``assert_passes(assignment, check, function)`` is given."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = getattr(node.func, "id", getattr(node.func, "attr", None))
            if called == "assert_passes" and len(node.args) >= 3:
                if isinstance(node.args[2], ast.Name):
                    return node.args[2].id
    return None


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict[str, Any]:
    """The notebook at ``path`` as JSON, checked to have the shape of an nbformat 4 notebook.

    Raises
    ------
    NotebookProblem
        ``too-large``, ``not-a-notebook`` (not JSON at all) or ``corrupt-notebook``
        (empty, truncated, or JSON that is not a notebook).
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise NotebookProblem(
            "too-large", f"the notebook is {size >> 20} MiB; at most {max_bytes >> 20} MiB is read"
        )
    data = path.read_bytes()
    if not data.strip():
        raise NotebookProblem("corrupt-notebook", "the notebook file is empty")
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        if data.lstrip()[:1] in (b"{", b"["):
            raise NotebookProblem(
                "corrupt-notebook", "the notebook is not valid JSON (cut short or edited by hand?)"
            ) from None
        raise NotebookProblem(
            "not-a-notebook", "the file is not a Jupyter notebook (not JSON)"
        ) from None
    problem = _shape_problem(notebook)
    if problem:
        raise NotebookProblem("corrupt-notebook", f"the file is not a valid notebook: {problem}")
    return notebook


def _shape_problem(notebook: Any) -> str | None:
    if not isinstance(notebook, dict):
        return "the top level is not an object"
    if "worksheets" in notebook or notebook.get("nbformat", 4) != 4:
        return "it is not in nbformat 4; open and save it in a recent Jupyter"
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        return "it has no list of cells"
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return f"cell {number} is malformed"
        source = cell.get("source", "")
        if not (
            isinstance(source, str)
            or (isinstance(source, list) and all(isinstance(s, str) for s in source))
        ):
            return f"cell {number} has a malformed source"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {number} has malformed metadata"
    return None


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def nbgrader_info(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell's ``metadata.nbgrader`` object, or an empty dict."""
    info = cell.get("metadata", {}).get("nbgrader", {})
    return info if isinstance(info, dict) else {}


def code_cells(notebook: dict[str, Any], source: SourceNotebook) -> list[CodeCell]:
    """The cells to run from a student's notebook, in order, magics translated.

    Test cells, and locked cells the source marks ``skip``, are left out, identified
    by the *source* notebook's grade ids; other locked cells take the source's text.
    """
    cells = []
    for index, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        grade_id = nbgrader_info(cell).get("grade_id")
        grade_id = grade_id if isinstance(grade_id, str) else None
        if grade_id in source.test_ids or grade_id in source.skipped:
            continue
        if grade_id in source.locked:
            # Magics in the course's own cells are the course's choice: not reported.
            cells.append(CodeCell(index, source.locked[grade_id], "course", grade_id))
            continue
        python, notes = translate_magics(cell_source(cell))
        cells.append(CodeCell(index, python, "student", grade_id, tuple(notes)))
    return cells


# --------------------------------------------------------------------------- magics

#: Line magics that only change how a notebook displays or reloads: dropped silently.
HARMLESS = frozenset(
    {
        "matplotlib",
        "config",
        "load_ext",
        "reload_ext",
        "autoreload",
        "aimport",
        "precision",
        "xmode",
        "colors",
        "who",
        "whos",
        "who_ls",
        "lsmagic",
        "magic",
        "history",
        "pinfo",
        "pinfo2",
        "pdoc",
        "pdef",
        "psource",
        "pfile",
        "pprint",
        "page",
        "automagic",
        "notebook",
        "doctest_mode",
    }
)
#: Magics that time a statement: the statement is run once, untimed.
TIMING = frozenset({"time", "timeit"})
#: Cell magics whose body is ordinary Python: the body runs.
PYTHON_CELL = frozenset({"time", "timeit", "capture"})
_TIMEIT_VALUED = frozenset({"-n", "-r", "-p"})
_MAGIC_LINE = re.compile(r"^(\s*)(%{1,2})([A-Za-z_]\w*)(.*)$")
_SHELL_LINE = re.compile(r"^(\s*)(?:[A-Za-z_]\w*\s*=\s*)?(!|%{1,2}(?=[A-Za-z_]))")
_HELP_LINE = re.compile(r"^(\s*)(\?\??[\w.]+|[\w.\[\]()]+\?\??)\s*$")


def translate_magics(source: str) -> tuple[str, list[str]]:
    """Python source for a cell that may hold IPython syntax, and notes on what was dropped.

    Valid Python is returned unchanged.  Otherwise, line by line at statement
    starts: harmless magics (``%matplotlib inline``, ``%load_ext autoreload``...)
    become ``pass``; ``%time``/``%timeit`` run their statement once; a
    ``%%time``/``%%timeit``/``%%capture`` cell runs its body; shell lines
    (``!pip ...``), ``%run``, ``%pip`` and other magics and cell magics
    (``%%bash``...) are not run, and a note says so.  Line numbers are kept.
    """
    try:
        ast.parse(source)
        return source, []
    except (SyntaxError, ValueError):
        pass
    lines = source.split("\n")
    notes: list[str] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = re.match(r"\s*%%(\w*)", lines[first]).group(1)
        if name not in PYTHON_CELL:
            notes.append(f"the cell magic %%{name} is not run when grading: the cell was skipped")
            return "\n".join("" for _ in lines), notes
        lines[first] = ""
    starts = _statement_starts(lines)
    for number, line in enumerate(lines):
        if not starts[number] or not line.strip():
            continue
        replaced = _translate_line(line, number + 1, notes)
        if replaced is not None:
            lines[number] = replaced
    return "\n".join(lines), notes


def _translate_line(line: str, number: int, notes: list[str]) -> str | None:
    indent = line[: len(line) - len(line.lstrip())]
    magic = _MAGIC_LINE.match(line)
    if magic and magic.group(2) == "%":
        name, rest = magic.group(3), magic.group(4).strip()
        if name in HARMLESS:
            return indent + "pass"
        if name in TIMING:
            statement = _timing_statement(rest) if name == "timeit" else rest
            return indent + (statement or "pass")
        notes.append(f"line {number}: %{name} is not run when grading")
        return indent + "pass"
    if _SHELL_LINE.match(line):
        what = line.strip()
        shown = what if len(what) <= 60 else what[:57] + "..."
        notes.append(f"line {number}: `{shown}` is not run when grading (shell command or magic)")
        return indent + "pass"
    if _HELP_LINE.match(line):
        return indent + "pass"
    return None


def _timing_statement(rest: str) -> str:
    """The statement of ``%timeit [options] statement``."""
    words = rest.split()
    position = 0
    while position < len(words) and words[position].startswith("-"):
        position += 2 if words[position] in _TIMEIT_VALUED else 1
    kept = words[position:]
    if not kept:
        return ""
    return rest[rest.index(kept[0], len(" ".join(words[:position]))) :]


def _statement_starts(lines: list[str]) -> list[bool]:
    """For each line, whether it begins a new logical line (not inside brackets or a string)."""
    starts = []
    depth, quote, continued = 0, None, False
    for line in lines:
        starts.append(depth == 0 and quote is None and not continued)
        continued = False
        position = 0
        while position < len(line):
            char = line[position]
            if quote:
                if char == "\\":
                    position += 2
                    continue
                if line.startswith(quote, position):
                    position += len(quote)
                    quote = None
                    continue
            elif char == "#":
                break
            elif char in "\"'":
                triple = line[position : position + 3]
                quote = triple if triple in ('"""', "'''") else char
                position += len(quote)
                continue
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(0, depth - 1)
            position += 1
        if quote in ('"', "'"):
            quote = None  # an unterminated one-line string: the line is broken anyway
        if line.rstrip().endswith("\\") and quote is None:
            continued = True
    return starts


# --------------------------------------------------------------------------- imports

_DYNAMIC_IMPORTERS = frozenset(
    {"__import__", "import_module", "find_spec", "run_module", "reload", "find_loader"}
)


def imported_modules(python: str) -> list[str]:
    """Modules a cell imports by ``import`` statements (absolute imports only)."""
    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return []
    return _imports_in(ast.walk(tree))


def _imports_in(nodes) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def forbidden_imports(python: str, packages: tuple[str, ...]) -> list[str]:
    """Which imports of ``packages`` a cell's source makes, statically.

    Counts ``import`` statements and calls such as ``__import__("pkg")`` or
    ``importlib.import_module("pkg.mod")``; comments and ordinary strings do not count.
    """

    def forbidden(name: str) -> bool:
        return belongs_to(name, packages)

    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        names = "|".join(map(re.escape, packages))
        pattern = rf"^\s*(?:import|from)\s+({names})\b"
        return [m.group(1) for m in re.finditer(pattern, python, re.M)]
    nodes = list(ast.walk(tree))
    found = [name for name in _imports_in(nodes) if forbidden(name)]
    for node in nodes:
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in _DYNAMIC_IMPORTERS:
                for argument in node.args[:1]:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        if forbidden(argument.value):
                            found.append(argument.value)
    return list(dict.fromkeys(found))
