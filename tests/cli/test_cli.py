"""``python -m autograder``: usage errors, a class graded end to end, and a student's check."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import CORPUS_EXPECTED, SUBMISSIONS, autograder, corpus_submission

from autograder import reference as ref
from autograder.checks import ASSIGNMENTS
from autograder.checks.core import check, elementwise_cases
from autograder.grading import load_assignment
from autograder.runner.pool import Limits, Sandbox
from autograder.self_check import check_notebook, elementwise_probes

NAME = "sigmoid_exercise.ipynb"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["grade"],
        ["grade", "no-such-folder", "--out", "x"],
        ["grade", ".", "--out", "x", "--assignment", "99_nothing"],
        ["grade", ".", "--out", "x", "--timeout", "-1"],
        ["check", "no-such-notebook.ipynb"],
        ["check", "README.md"],
        ["gradescope", "99_nothing", "--out", "x.zip"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    (tmp_path / "README.md").write_text("not a notebook\n")
    completed = autograder(*args, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert "usage:" in completed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]  # nothing was made


def make_class(root: Path, students: dict[str, str]) -> Path:
    for student, source in students.items():
        corpus_submission(source, student, root / student / "01_sigmoid" / NAME)
    (root / "no-submission").mkdir()
    return root


def test_grade_a_class(tmp_path):
    submitted = make_class(
        tmp_path / "submitted",
        {"ann": "complete", "bob": "textbook-sigmoid", "cyd": "untouched"},
    )
    out = tmp_path / "out"
    first = autograder("grade", str(submitted), "--out", str(out), "--jobs", "2", "--seed", "11")
    assert first.returncode == 0, first.stderr
    assert "graded 4 notebooks of 4 students" in first.stdout
    assert len([line for line in first.stderr.splitlines() if line.startswith("[")]) == 4
    rows = {
        r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
    }
    assert {s: (r["score"], r["status"]) for s, r in rows.items()} == {
        "ann": (str(CORPUS_EXPECTED["complete"]["score"]), "ok"),
        "bob": (str(CORPUS_EXPECTED["textbook-sigmoid"]["score"]), "ok"),
        "cyd": ("0", "ok"),
        "no-submission": ("0", "missing"),
    }
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["seed"] == 11
    assert (out / "feedback" / "bob" / "01_sigmoid.html").is_file()
    assert (out / "report.html").is_file()

    again = tmp_path / "again"
    assert autograder("grade", str(submitted), "--out", str(again), "--seed", "11").returncode == 0
    redone = json.loads((again / "results.json").read_text())

    def verdicts(document):
        return [
            (
                s["student_id"],
                s["score"],
                [(c["name"], c["passed"], c["message"]) for c in s["checks"]],
            )
            for s in document["submissions"]
        ]

    assert verdicts(redone) == verdicts(results)


def test_check_explains_failures(tmp_path):
    shutil.copy(SUBMISSIONS / "wrong-logit" / "01_sigmoid" / NAME, tmp_path / NAME)
    completed = autograder("check", NAME, cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    out = completed.stdout
    assert "PASS sigmoid_visible (1/1)" in out
    assert "FAIL logit_visible (0/1)" in out
    assert "smallest failing input: 0.1" in out
    assert "expected: -2.197224577336219 (float64)" in out
    assert "got:" in out and "hint: reread 'The inverse: the logit'" in out
    assert "sigmoid.html#sigmoid-logit" in out
    visible = sum(c.points for c in ASSIGNMENTS["01_sigmoid"] if c.visibility == "visible")
    assert f"Visible checks: {visible - 1:g} of {visible:g} points." in out  # logit's point


def test_check_passes_a_complete_notebook(tmp_path):
    shutil.copy(SUBMISSIONS / "complete" / "01_sigmoid" / NAME, tmp_path / NAME)
    completed = autograder("check", str(tmp_path / NAME))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    visible = sum(c.points for c in ASSIGNMENTS["01_sigmoid"] if c.visibility == "visible")
    assert f"Visible checks: {visible:g} of {visible:g} points." in completed.stdout


def test_check_finds_the_smallest_failing_element(tmp_path):
    @check(exercise="sigmoid", points=1, visibility="visible", section="sigmoid-stable")
    def sigmoid_on_a_grid(rng):
        """``sigmoid`` on a grid from -20 to 20."""
        return elementwise_cases(ref.sigmoid, [np.linspace(-20.0, 20.0, 41)])

    assignment = load_assignment("01_sigmoid")
    assignment = replace(assignment, checks=(sigmoid_on_a_grid,))
    notebook = nbformat.read(SUBMISSIONS / "complete" / "01_sigmoid" / NAME, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid":
            # Planted fault: wrong only where |x| > 7.
            cell.source = (
                "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
                "    return np.where(np.abs(x) > 7, 0.5, 1 / (1 + np.exp(-x)))"
            )
    nbformat.write(notebook, tmp_path / NAME)
    with Sandbox(Limits(timeout=5)) as sandbox:
        report = check_notebook(assignment, tmp_path / NAME, sandbox)
    text = report.text()
    assert "FAIL sigmoid_on_a_grid" in text
    assert "smallest failing input: [-8.] (shape (1,), float64)" in text
    assert "got:      [0.5] (shape (1,), float64)" in text
    assert "hint: reread 'The stable sigmoid" in text or "sigmoid-stable" in text


def test_elementwise_probes_only_for_elementwise_cases():
    (case,) = elementwise_cases(ref.sigmoid, [np.array([[3.0, -1.0], [0.5, 2.0]])])
    probes = elementwise_probes(case)
    assert [p.args[0].item() for p in probes] == [0.5, -1.0, 2.0, 3.0]
    assert probes[0].args[0].shape == (1, 1)
    assert probes[0].expected.item() == ref.sigmoid(0.5)
    (scalar,) = elementwise_cases(ref.sigmoid, [1.0])
    assert elementwise_probes(scalar) == []


def test_a_grader_bug_costs_only_its_own_row(tmp_path, monkeypatch):
    """A bug of ours on one submission gives that row ``grader-error``; the others are graded."""
    from autograder import class_grading as grade

    submitted = make_class(tmp_path / "submitted", {"ann": "complete", "bob": "complete"})
    real = grade.grade_submission

    def buggy(assignment, student, *args, **kwargs):
        if student == "bob":
            raise ZeroDivisionError("a planted bug in the grader")
        return real(assignment, student, *args, **kwargs)

    monkeypatch.setattr(grade, "grade_submission", buggy)
    out = tmp_path / "out"
    students = ["ann", "bob"]
    assignment = load_assignment("01_sigmoid")
    summary = grade.grade_class(
        submitted, out, students, [assignment], Limits(), 5, 2, io.StringIO()
    )
    assert summary.notebooks == 2
    rows = {
        r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
    }
    assert (rows["ann"]["score"], rows["ann"]["status"]) == (
        str(CORPUS_EXPECTED["complete"]["score"]),
        "ok",
    )
    assert (rows["bob"]["score"], rows["bob"]["status"]) == ("0", "grader-error")
    bob = next(
        s
        for s in json.loads((out / "results.json").read_text())["submissions"]
        if s["student_id"] == "bob"
    )
    assert "ZeroDivisionError: a planted bug in the grader" in bob["detail"]
    assert (out / "feedback" / "bob" / "01_sigmoid.html").is_file()


@pytest.mark.parametrize("verb", ["grade", "check", "gradescope"])
def test_a_sandbox_that_cannot_start_is_a_clear_error(verb, tmp_path, monkeypatch, capsys):
    """Where no worker can start (or the sandbox refuses to), each verb says why and exits 1."""
    from autograder import __main__, grading

    def refuse(*args, **kwargs):
        raise RuntimeError("planted: the sandbox refuses to start")

    # Every verb opens its sandboxes through grading.open_sandboxes: one place to plant.
    monkeypatch.setattr(grading, "SandboxPool", refuse)
    submitted = make_class(tmp_path / "submitted", {"ann": "complete"})
    notebook = submitted / "ann" / "01_sigmoid" / NAME
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(notebook, root / "submission" / NAME)
    argv = {
        "grade": ["grade", str(submitted), "--out", str(tmp_path / "out")],
        "check": ["check", str(notebook)],
        "gradescope": ["gradescope", "01_sigmoid", "--run", "--root", str(root)],
    }[verb]
    assert __main__.main(argv) == 1
    assert "error: planted: the sandbox refuses to start" in capsys.readouterr().err
