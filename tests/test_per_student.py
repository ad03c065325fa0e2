"""Per-student questions: each student answers their own variant, and is graded on it.

For every assignment with per-student questions, the solution notebook answered as one
student scores full marks when graded as that student; the same notebook graded as another
student loses exactly the per-student checks whose parameters differ between the two, and
the feedback says which id the notebook answered as.
"""

from __future__ import annotations

import json

import pytest
from helpers import set_student_id

from autograder import course
from autograder.checks import ASSIGNMENTS
from autograder.checks.core import ChoiceJudge
from autograder.grading import grade_submission, load_assignment, open_sandboxes

PER_STUDENT = {
    assignment: [c.name for c in checks if c.per_student]
    for assignment, checks in ASSIGNMENTS.items()
    if any(c.per_student for c in checks)
}


def test_every_exercise_has_a_per_student_question():
    assert sorted(PER_STUDENT) == sorted(ASSIGNMENTS)


def answers(case) -> str:
    """What a case accepts, as text: its expected value, or a choice question's letter."""
    if isinstance(case.judge, ChoiceJudge):
        return case.judge.correct
    assert case.expected is not None, "a per-student case must say what it expects"
    return repr(case.expected)


def differing(assignment: str, first: str, second: str) -> set[str]:
    """The per-student checks whose expected answers differ between two students."""
    found = set()
    for chosen in ASSIGNMENTS[assignment]:
        if chosen.per_student:
            mine, theirs = chosen.cases_for_student(first), chosen.cases_for_student(second)
            if any(answers(a) != answers(b) for a, b in zip(mine, theirs, strict=True)):
                found.add(chosen.name)
    return found


def classmate(assignment: str, student: str) -> str:
    """A student whose every per-student answer differs from ``student``'s, so that each
    per-student check is seen to follow the id it grades."""
    for n in range(200):
        other = f"classmate-{n}"
        if differing(assignment, student, other) == set(PER_STUDENT[assignment]):
            return other
    raise AssertionError(f"no classmate of {student} differs in every question of {assignment}")


@pytest.mark.parametrize("assignment_id", sorted(PER_STUDENT))
def test_each_student_is_graded_on_their_own_variant(assignment_id, tmp_path):
    assignment = load_assignment(assignment_id)
    ann = "ann-12"
    bob = classmate(assignment_id, ann)
    changed = differing(assignment_id, ann, bob)
    notebook = json.loads(course.solution_notebooks(assignment_id)[0].read_text())
    path = tmp_path / assignment.notebook
    path.write_text(json.dumps(set_student_id(notebook, ann)))
    with open_sandboxes([assignment]) as sandboxes:
        sandbox = sandboxes.sandboxes[0]
        own = grade_submission(assignment, ann, path, sandbox, 1)
        other = grade_submission(assignment, bob, path, sandbox, 1)
    assert own.status == "ok" and own.score == own.max_score, [
        c.message for c in own.checks if not c.passed
    ]
    lost = {c.name for c in other.checks if not c.passed}
    assert lost == changed
    assert any(f"graded as '{bob}'" in note for note in other.notes)
    assert not any("graded as" in note for note in own.notes)
