"""Reading notebooks: classification of bad files, which cells run, magics, static imports."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograder.checks import ASSIGNMENTS
from autograder.course import SOLUTIONS
from autograder.notebook import (
    NotebookProblem,
    SourceNotebook,
    code_cells,
    forbidden_imports,
    imported_modules,
    read_notebook,
    translate_magics,
)

SOURCE_PATH = SOLUTIONS / "01_sigmoid" / "sigmoid_exercise.ipynb"
STUDENT_PATH = SOURCE_PATH.parents[2] / "chapters" / "01_sigmoid" / "sigmoid_exercise.ipynb"


@pytest.fixture(scope="module")
def source() -> SourceNotebook:
    return SourceNotebook.load(SOURCE_PATH)


def student() -> dict:
    return json.loads(STUDENT_PATH.read_text())


def grade_id(cell: dict) -> str | None:
    return cell["metadata"].get("nbgrader", {}).get("grade_id")


def untested_code_cells(notebook: dict) -> list[int]:
    """The 1-based positions of the code cells that run when grading: all but test cells."""
    return [
        number
        for number, cell in enumerate(notebook["cells"], start=1)
        if cell["cell_type"] == "code" and not cell["metadata"].get("nbgrader", {}).get("grade")
    ]


def test_the_source_says_which_cells_are_tests(source):
    assert source.test_ids == {c.name for c in ASSIGNMENTS["01_sigmoid"]}
    assert {
        f"{f}_{kind}"
        for f in ("sigmoid", "sigmoid_grad", "logit")
        for kind in ("visible", "hidden")
    } <= source.test_ids
    # The set-up, the question drawn for each student, and the "check your work" cell.
    assert set(source.locked) == {"setup", "sigmoid_thresholds_question", "check_cell"}
    assert source.imports == ("hashlib", "numpy", "sys")
    assert source.tested_functions["sigmoid_grad_hidden"] == "sigmoid_grad"


def test_test_cells_are_skipped_whatever_the_student_metadata_says(source):
    notebook = student()
    for cell in notebook["cells"]:
        info = cell["metadata"].get("nbgrader", {})
        if info.get("grade"):
            info["grade"] = False  # planted: the student hides the test cells' flag
            cell["source"] = "raise SystemExit('a test cell ran')"
    notebook["cells"].append(
        {
            "cell_type": "code",
            "metadata": {"nbgrader": {"grade": True, "grade_id": "mine"}},  # planted: fake test
            "source": "sneaky = 1",
            "outputs": [],
            "execution_count": None,
        }
    )
    cells = code_cells(notebook, source)
    sources = [c.source for c in cells]
    assert not any("a test cell ran" in s for s in sources)
    assert "sneaky = 1" in sources


def test_locked_cells_run_as_the_course_wrote_them(source):
    notebook = student()
    setup = next(c for c in notebook["cells"] if grade_id(c) == "setup")
    setup["source"] = "np = None  # planted: the student edits a read-only cell"
    cells = code_cells(notebook, source)
    restored = next(c for c in cells if c.grade_id == "setup")
    assert restored.origin == "course"
    assert restored.source.startswith("import hashlib\n\nimport numpy as np")


CAPSTONE = SOLUTIONS / "06_softmax_regression" / "softmax_regression_exercise.ipynb"


def test_the_capstone_demo_is_the_only_cell_marked_skip():
    capstone = SourceNotebook.load(CAPSTONE)
    assert capstone.skipped == {"digits_demo"}
    assert "digits_demo" not in capstone.locked
    # What only the demo imports need not be preloaded for grading (the decision task's
    # locked data cell loads the digits, so sklearn.datasets is).
    assert not any(m.startswith("sklearn.model_selection") for m in capstone.imports)
    released = json.loads(
        (CAPSTONE.parents[2] / "chapters" / CAPSTONE.parent.name / CAPSTONE.name).read_text()
    )
    ran = {c.grade_id for c in code_cells(released, capstone)}
    assert "digits_demo" not in ran and {"setup", "given", "gradient_check_demo"} <= ran
    for path in sorted(SOLUTIONS.glob("0[1-5]_*/*.ipynb")):
        assert SourceNotebook.load(path).skipped == frozenset(), path


def test_only_the_source_can_mark_a_cell_skip(tmp_path, source):
    notebook = student()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":  # planted: the student marks every cell, setup included
            cell["metadata"]["autograder"] = {"skip": True}
    assert [c.index for c in code_cells(notebook, source)] == untested_code_cells(student())

    marked = json.loads(SOURCE_PATH.read_text())
    for cell in marked["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in ("setup", "sigmoid"):  # a locked cell, and a solution cell
            cell["metadata"]["autograder"] = {"skip": True}
    path = tmp_path / SOURCE_PATH.name
    path.write_text(json.dumps(marked))
    course = SourceNotebook.load(path)
    # Only a locked cell can be skipped: an answer cell always runs.
    assert course.skipped == {"setup"}
    # The student's id cell (not nbgrader's), then the answers: the set-up is skipped.
    ran = [c.grade_id for c in code_cells(student(), course)]
    assert ran[:3] == [None, "sigmoid", "sigmoid_grad"]


def test_cells_keep_their_notebook_positions(source):
    cells = code_cells(student(), source)
    assert [c.index for c in cells] == untested_code_cells(student())
    assert len(cells) == 10  # the id, the set-up, 5 answers, a question, a worked example, check


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", "corrupt-notebook"),
        (b"   \n", "corrupt-notebook"),
        (b'{"cells": [', "corrupt-notebook"),
        (b'{"cells": 3}', "corrupt-notebook"),
        (b'{"cells": [{"cell_type": "code", "source": 3}]}', "corrupt-notebook"),
        (b'{"worksheets": [], "nbformat": 3}', "corrupt-notebook"),
        (b"[1, 2]", "corrupt-notebook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not-a-notebook"),
        (b"import numpy as np\n", "not-a-notebook"),
        (b"\xff\xfe{", "not-a-notebook"),
        (b"[" * 100_000, "corrupt-notebook"),
    ],
)
def test_bad_files_are_classified(tmp_path, content, status):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookProblem) as raised:
        read_notebook(path)
    assert raised.value.status == status


def test_too_large_files_are_not_read(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b" " * 2000)
    with pytest.raises(NotebookProblem) as raised:
        read_notebook(path, max_bytes=1000)
    assert raised.value.status == "too-large"


def test_a_valid_notebook_with_outputs_reads(tmp_path):
    notebook = nbformat.read(STUDENT_PATH, as_version=4)
    notebook = copy.deepcopy(notebook)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 10_000)]
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    assert len(read_notebook(path)["cells"]) == len(notebook.cells)


def test_valid_python_is_left_alone():
    source = "x = 5 % 3\nprint('!ls', '%time')\ny = [x\n     % 2]"
    assert translate_magics(source) == (source, [])


def test_harmless_magics_and_timing():
    python, notes = translate_magics(
        "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n"
        "%time y = 1 + 1\n%timeit -n 10 -r 2 z = y * 2\nif True:\n    %time w = 3"
    )
    assert notes == []
    assert python.splitlines() == [
        "pass",
        "pass",
        "pass",
        "y = 1 + 1",
        "z = y * 2",
        "if True:",
        "    w = 3",
    ]
    namespace: dict = {}
    exec(python, namespace)
    assert namespace["z"] == 4


def test_shell_lines_and_other_magics_are_skipped_and_reported():
    python, notes = translate_magics(
        "!pip install numpy\nfiles = !ls\n%run other.py\n%pip install scipy\nx = 1\nx?\n?x"
    )
    assert python.splitlines() == ["pass"] * 4 + ["x = 1", "pass", "pass"]
    assert len(notes) == 4
    assert "line 1" in notes[0] and "!pip install numpy" in notes[0]


def test_magic_like_lines_inside_strings_are_kept():
    python, notes = translate_magics('%matplotlib inline\ntext = """\n!not a shell line\n"""')
    assert python.splitlines()[1:] == ['text = """', "!not a shell line", '"""']
    assert notes == []


@pytest.mark.parametrize(
    ("cell", "runs"),
    [("%%time\nx = 1\ny = 2", True), ("%%capture\nx = 1", True), ("%%bash\necho hi", False)],
)
def test_cell_magics(cell, runs):
    python, notes = translate_magics(cell)
    assert python.count("\n") == cell.count("\n")
    namespace: dict = {}
    exec(python, namespace)
    assert ("x" in namespace) == runs
    assert bool(notes) != runs


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import autograder", ["autograder"]),
        ("from autograder.reference import sigmoid", ["autograder.reference"]),
        ("import numpy as np, autograder.checks as c", ["autograder.checks"]),
        ("m = __import__('autograder.reference')", ["autograder.reference"]),
        ("import importlib\nimportlib.import_module('autograder')", ["autograder"]),
        ("def f():\n    from autograder import reference\n", ["autograder"]),
        ("%matplotlib inline\nfrom autograder import checks", ["autograder"]),
        ("# the autograder said no\nprint('autograder')", []),
        ("import autograding_notes", []),
        ("from . import autograder", []),
    ],
)
def test_static_imports_of_the_grading_package(source, found):
    python, _ = translate_magics(source)
    assert forbidden_imports(python, ("autograder",)) == found


def test_broken_cells_are_still_scanned():
    assert forbidden_imports("from autograder import x\ndef (", ("autograder",)) == ["autograder"]


def test_imported_modules():
    assert imported_modules(
        "import numpy as np\nfrom matplotlib import pyplot\nfrom . import x"
    ) == [
        "numpy",
        "matplotlib",
    ]
