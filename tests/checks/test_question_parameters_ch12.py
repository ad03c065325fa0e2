"""Chapters 1 and 2: each notebook draws a student's question with the grader's parameters.

For every per-student check of the two assignments, the student notebook's set-up cell and
the question's locked cell are run with several student ids, as a student would run them; the
values the cell draws (``<key>_mine`` for each key of the check's parameters) must be what
``check.parameters`` draws from ``student_seed(id, check name)``, and the cell must print them.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import numpy as np
import pytest

from autograder.checks import get_check
from autograder.checks.core import student_seed
from autograder.course import CHAPTERS

#: (assignment, per-student check, the grade id of the cell that draws its question)
QUESTIONS = [
    ("01_sigmoid", "sigmoid_thresholds_hidden", "sigmoid_thresholds_question"),
    ("02_softplus", "softplus_forms_hidden", "softplus_forms_question"),
]
STUDENTS = ["", "alice", "bob-34", "s1234567", "Zoë Ng", "ann.lee@example.org"]


def run_question(assignment: str, question_cell: str, student: str) -> tuple[dict, str]:
    """The namespace and the printed output after the set-up and question cells, run as
    ``student`` (whose id is in the notebook's STUDENT_ID cell)."""
    (path,) = (CHAPTERS / assignment).glob("*_exercise.ipynb")
    cells = {
        cell.metadata.get("nbgrader", {}).get("grade_id"): cell
        for cell in nbformat.read(path, as_version=4).cells
    }
    (id_cell,) = [c for c in cells.values() if c.source.lstrip().startswith("STUDENT_ID =")]
    assert "nbgrader" not in id_cell.metadata, "the id cell is the student's own"
    namespace: dict = {}
    exec(id_cell.source.replace('""', repr(student), 1), namespace)
    assert namespace["STUDENT_ID"] == student
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for grade_id in ("setup", question_cell):
            assert cells[grade_id].metadata["nbgrader"]["locked"]
            exec(cells[grade_id].source, namespace)
    return namespace, output.getvalue()


@pytest.mark.parametrize(("assignment", "name", "question_cell"), QUESTIONS)
def test_the_notebook_draws_the_graders_parameters(assignment, name, question_cell):
    chosen = get_check(assignment, name)
    assert chosen.per_student and chosen.parameters is not None
    seen = []
    for student in STUDENTS:
        namespace, printed = run_question(assignment, question_cell, student)
        expected = chosen.parameters(np.random.default_rng(student_seed(student, name)))
        for key, value in expected.items():
            assert namespace[f"{key}_mine"] == value, (student, key)
            shown = value if not isinstance(value, list) else value[0]
            assert str(shown) in printed, (student, key)
        seen.append(repr(expected))
    assert len(set(seen)) == len(STUDENTS), "different students get different questions"


@pytest.mark.parametrize(("assignment", "name", "question_cell"), QUESTIONS)
def test_per_student_answers_differ_between_most_students(assignment, name, question_cell):
    # The parameters differ, and so do the answers: a classmate's answer is rarely right.
    chosen = get_check(assignment, name)
    answers = [repr(chosen.cases_for_student(f"student-{n}")[0].expected) for n in range(60)]
    assert len(set(answers)) >= 45
