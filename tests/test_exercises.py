"""Solution notebooks are the single source; student notebooks are generated from them."""

from __future__ import annotations

import ast
import shutil

import nbformat
import numpy as np
import pytest

from autograder.checks import ASSIGNMENTS, Function
from autograder.course import CHAPTERS, SOLUTIONS
from autograder.exercises import differences, strip_hidden_tests


def nbgrader_cells(notebook):
    return [
        (cell, cell.metadata["nbgrader"]) for cell in notebook.cells if "nbgrader" in cell.metadata
    ]


def solution_notebooks():
    return [(a, p) for a in sorted(ASSIGNMENTS) for p in sorted((SOLUTIONS / a).glob("*.ipynb"))]


def test_every_assignment_has_checks_and_a_solution():
    folders = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    assert folders == sorted(ASSIGNMENTS)


@pytest.mark.slow  # runs nbgrader generate_assignment
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_committed_student_notebooks_are_generated_from_solutions(assignment):
    assert differences(assignment) == []


@pytest.mark.slow  # runs nbgrader generate_assignment
def test_a_changed_solution_is_reported(tmp_path):
    """Plant a fault: edit a solution, and the committed student notebook no longer matches."""
    assignment, path = solution_notebooks()[0]
    shutil.copytree(SOLUTIONS, tmp_path / "solutions")
    edited = nbformat.read(path, as_version=4)
    edited.cells[0].source += "\n\nAn added sentence."
    nbformat.write(edited, tmp_path / "solutions" / assignment / path.name)
    problems = differences(assignment, solutions=tmp_path / "solutions")
    assert len(problems) == 1
    assert "differs" in problems[0]


@pytest.mark.parametrize(("assignment", "path"), solution_notebooks(), ids=lambda v: str(v))
def test_graded_cells_are_the_check_definitions(assignment, path):
    notebook = nbformat.read(path, as_version=4)
    graded = {
        meta["grade_id"]: meta["points"] for _, meta in nbgrader_cells(notebook) if meta["grade"]
    }
    assert graded == {check.name: check.points for check in ASSIGNMENTS[assignment]}
    for cell, meta in nbgrader_cells(notebook):
        if not meta["grade"]:
            continue
        if meta["grade_id"].endswith("_hidden"):
            assert "### BEGIN HIDDEN TESTS" in cell.source
            calls = [
                [ast.literal_eval(arg) for arg in node.args[:2]]
                for node in ast.walk(ast.parse(cell.source))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "assert_passes"
            ]
            assert calls == [[assignment, meta["grade_id"]]]
        else:
            # Visible tests stand alone: a student sees every input and expected value.
            assert "autograder" not in cell.source
            assert "HIDDEN" not in cell.source


class _FunctionNames(dict):
    """Names in a visible test cell's examples stand for functions: ``softplus`` → Function."""

    def __missing__(self, name):
        return Function(name)


def visible_examples(cell_source):
    """The function and (input, expected) pairs of a visible cell: ``check_examples(f, [...])``."""
    (call,) = [
        node
        for node in ast.walk(ast.parse(cell_source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check_examples"
    ]
    code = compile(ast.Expression(call.args[1]), "<visible examples>", "eval")
    tolerances = {"rtol": 1e-10, "atol": 1e-300}  # check_examples' defaults
    tolerances |= {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    return call.args[0].id, eval(code, {"__builtins__": {}}, _FunctionNames()), tolerances


def same_argument(written, exact):
    if isinstance(exact, Function):
        return (written.name, written.of, written.bound) == (exact.name, exact.of, ())
    return np.array_equal(np.asarray(written), np.asarray(exact))


@pytest.mark.parametrize(("assignment", "path"), solution_notebooks(), ids=lambda v: str(v))
def test_visible_examples_match_the_check_definitions(assignment, path):
    notebook = nbformat.read(path, as_version=4)
    # Checks judged by a function (a gradient check, say) have hand-written visible cells.
    checks = {
        c.name: c
        for c in ASSIGNMENTS[assignment]
        if c.visibility == "visible" and all(case.judge is None for case in c.cases(0))
    }
    assert checks, f"{assignment} has no visible check with examples: nothing is compared"
    seen = set()
    for cell, meta in nbgrader_cells(notebook):
        if meta["grade_id"] in checks:
            check = checks[meta["grade_id"]]
            function, examples, tolerances = visible_examples(cell.source)
            assert function == check.exercise
            cases = check.cases(0)
            for case in cases:
                assert tolerances == {"rtol": case.rtol, "atol": case.atol}
            assert len(examples) == len(cases)
            for (inputs, expected), case in zip(examples, cases, strict=True):
                assert not case.kwargs, "visible examples pass arguments by position"
                args = inputs if isinstance(inputs, tuple) else (inputs,)
                assert len(args) == len(case.args)
                assert all(map(same_argument, args, case.args)), (args, case.args)
                np.testing.assert_allclose(
                    np.asarray(expected, dtype=float),
                    np.asarray(case.expected, dtype=float),
                    rtol=2e-16,
                    atol=0,
                )
            seen.add(check.name)
    assert seen == set(checks)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_student_notebooks_hold_no_solutions_and_no_hidden_tests(assignment):
    for path in sorted((CHAPTERS / assignment).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in notebook.cells)
        assert "BEGIN SOLUTION" not in text
        assert "BEGIN HIDDEN TESTS" not in text
        assert "assert_passes" not in text
        stubs = [c for c, m in nbgrader_cells(notebook) if m["solution"]]
        assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)


def test_strip_hidden_tests_keeps_solutions_and_visible_tests():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
            ),
            nbformat.v4.new_code_cell(
                "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS"
            ),
        ]
    )
    stripped = strip_hidden_tests(notebook)
    assert stripped.cells[0].source == "def f(x):\n    return x"
    assert stripped.cells[1].source == "assert f(1) == 1"


@pytest.mark.parametrize(
    "source",
    [
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2",
        "assert f(1) == 1\n### END HIDDEN TESTS",
        "### BEGIN HIDDEN TESTS\na = 1\n### END HIDDEN TESTS\n### BEGIN HIDDEN TESTS\nb = 2",
    ],
    ids=["never-closed", "never-opened", "second-never-closed"],
)
def test_a_hidden_test_block_left_open_is_an_error(source):
    """Planted: a block without its end would otherwise publish its tests; it names the cell."""
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade_id": "f_hidden"}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("text"), cell])
    with pytest.raises(ValueError, match=r"exercise\.ipynb: cell 2 \(f_hidden\)"):
        strip_hidden_tests(notebook, "exercise.ipynb")
