"""Task kinds beyond implementing a function: predictions held by a variable, choices, and
questions whose parameters are drawn for each student from their id alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import Case, assert_passes, core, nbgrader_student
from autograder.checks.core import check, choice_judge, student_seed


def _parameters(rng: np.random.Generator) -> dict:
    return {"K": int(rng.integers(3, 20))}


@check(
    exercise="untrained_loss",
    points=1,
    visibility="hidden",
    section="anywhere",
    kind="value",
    per_student=True,
    parameters=_parameters,
)
def untrained_loss_hidden(rng):
    """The loss of an untrained model on your K classes."""
    return [Case(args=(), expected=np.log(_parameters(rng)["K"]), rtol=1e-6)]


def notebook_rule(student_id: str, question: str) -> np.random.Generator:
    """The rule as a notebook's set-up cell writes it, without the package."""

    def h(text: str) -> int:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")

    return np.random.default_rng([h(student_id), h(question)])


def test_per_student_parameters_differ_between_students_and_follow_the_notebooks_rule():
    ids = [f"student-{n}" for n in range(40)]
    ks = {
        i: _parameters(np.random.default_rng(student_seed(i, "untrained_loss_hidden")))["K"]
        for i in ids
    }
    assert len(set(ks.values())) > 5  # the answer cannot be passed around
    for student in ids:
        mine = _parameters(notebook_rule(student, "untrained_loss_hidden"))
        assert mine["K"] == ks[student]
        (case,) = untrained_loss_hidden.cases_for_student(student)
        assert case.expected == pytest.approx(np.log(ks[student]))


def test_a_value_check_compares_the_answer_itself(monkeypatch):
    monkeypatch.setattr("autograder.checks.get_check", lambda a, n: untrained_loss_hidden)
    (case,) = untrained_loss_hidden.cases_for_student("alice")
    namespace = {"STUDENT_ID": "alice"}
    assert_passes("x", "untrained_loss_hidden", float(case.expected), namespace)
    with pytest.raises(AssertionError, match="not the answer to your own question") as wrong:
        assert_passes("x", "untrained_loss_hidden", float(case.expected) + 1, namespace)
    # nbgrader shows this message to the student: it must not hand them their answer.
    assert f"{float(case.expected):.4g}"[:5] not in str(wrong.value)
    # Another student's right answer is wrong for alice (when their K differ).
    other = next(
        s
        for s in (f"s{n}" for n in range(100))
        if untrained_loss_hidden.cases_for_student(s)[0].expected != case.expected
    )
    theirs = float(untrained_loss_hidden.cases_for_student(other)[0].expected)
    with pytest.raises(AssertionError):
        assert_passes("x", "untrained_loss_hidden", theirs, namespace)


def test_nbgrader_names_the_student_by_the_folder_it_grades_in(tmp_path):
    folder = tmp_path / "course" / "autograded" / "bob" / "01_sigmoid"
    assert nbgrader_student(folder) == "bob"
    assert nbgrader_student(tmp_path / "somewhere" / "else") is None
    assert nbgrader_student(Path("/")) is None


def test_a_choice_is_one_of_its_options_and_the_right_one():
    judge = choice_judge("b", ("a", "b", "c"))
    assert judge("b") is None and judge(" b ") is None
    assert judge("a").kind == "values"
    assert judge("d").kind == "shape" and judge(2).kind == "shape"
    assert core.mismatch(Case(args=(), judge=judge), "c").message == "'c' is not the right choice"
