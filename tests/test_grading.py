"""Grading one submission: seeds, comparison in the grader, statuses, what students see."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest
from helpers import SUBMISSIONS

from autograder.checks import ASSIGNMENTS
from autograder.grading import (
    STATUSES,
    grade_submission,
    load_assignment,
    passes_reference,
    preload_modules,
    seed_for,
    stable_hash,
)
from autograder.runner.pool import Answer, CellError, GroupResult, Limits, Outcome, Sandbox
from autograder.runner.pool import CellReport as Cell


def err(kind: str, message: str) -> CellError:
    return CellError(type="Error", message=message, traceback="", kind=kind)


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("01_sigmoid")


@pytest.fixture(scope="module")
def sandbox(assignment):
    with Sandbox(Limits(timeout=5), preload=preload_modules([assignment])) as box:
        yield box


def notebook_of(student: str):
    return SUBMISSIONS / student / "01_sigmoid" / "sigmoid_exercise.ipynb"


def test_stable_hash_is_stable():
    # Python's hash() is salted per process; this one must never change.
    assert stable_hash("alice") == 3159282601090220207
    assert stable_hash("alice") != stable_hash("alicf")


def test_hidden_inputs_differ_by_student_and_run_and_reproduce():
    hidden = next(c for c in ASSIGNMENTS["01_sigmoid"] if c.visibility == "hidden")

    def inputs(run, student):
        return hidden.cases(seed_for(run, student, "01_sigmoid", hidden.name))[1].args[0]

    np.testing.assert_array_equal(inputs(1, "alice"), inputs(1, "alice"))
    assert not np.array_equal(inputs(1, "alice"), inputs(1, "bob"))
    assert not np.array_equal(inputs(1, "alice"), inputs(2, "alice"))


def test_complete_and_untouched(assignment, sandbox):
    complete = grade_submission(assignment, "a", notebook_of("complete"), sandbox, 1)
    assert (complete.status, complete.score, complete.max_score) == ("ok", 9, 9)
    untouched = grade_submission(assignment, "b", notebook_of("untouched"), sandbox, 1)
    assert (untouched.status, untouched.score) == ("ok", 0)
    assert untouched.checks[0].message.startswith("sigmoid: input 0.0 raised NotImplementedError")


def test_visible_only(assignment, sandbox):
    result = grade_submission(
        assignment, "a", notebook_of("complete"), sandbox, 1, visibilities=("visible",)
    )
    assert [c.visibility for c in result.checks] == ["visible"] * 3
    assert result.max_score == 3


def test_patched_numpy_and_liars_gain_nothing(assignment, sandbox):
    for student in ("patches-numpy", "always-equal"):
        result = grade_submission(assignment, student, notebook_of(student), sandbox, 1)
        assert result.score == 0, student


def test_hidden_feedback_shows_no_inputs(assignment, sandbox):
    result = grade_submission(assignment, "c", notebook_of("textbook-sigmoid"), sandbox, 1)
    hidden = [c for c in result.checks if c.visibility == "hidden" and not c.passed]
    assert hidden
    for check in hidden:
        assert "745" in check.message or "input" in check.message  # the instructor sees it
        assert not re.search(r"\d", check.feedback.replace(check.section, ""))
        assert "FloatingPointError" in check.feedback
        assert check.section in check.feedback


def test_a_student_exception_message_does_not_leak_hidden_inputs(assignment, sandbox, tmp_path):
    notebook = nbformat.read(notebook_of("complete"), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "logit":
            cell.source = "def logit(p):\n    print(p)\n    raise ValueError(repr(p))"
    path = tmp_path / "sigmoid_exercise.ipynb"
    nbformat.write(notebook, path)
    result = grade_submission(assignment, "d", path, sandbox, 1)
    logit_hidden = next(c for c in result.checks if c.name == "logit_hidden")
    assert logit_hidden.feedback == (
        "failed: the function raised ValueError on some inputs (floating-point warnings count "
        "as errors). Reread the section 'sigmoid-logit' of the chapter."
    )
    assert "1e-300" in logit_hidden.message or "1.0e-300" in logit_hidden.message
    assert not any("e-300" in cell.output for cell in result.cells)  # calls print nowhere


def test_the_worker_is_sent_inputs_never_expected_values(assignment):
    from autograder.grading import build_task
    from autograder.runner import wire

    checks = [
        (c.name, c.exercise, c.cases(seed_for(1, "s", assignment.id, c.name)), c.visibility)
        for c in assignment.checks
    ]
    job = wire.encode(build_task(assignment, [], checks).groups)
    for _, _, cases, _ in checks:
        for case in cases:
            expected = np.asarray(case.expected)
            if expected.size > 3 and np.all(expected != np.asarray(case.args[0])):
                assert expected.tobytes() not in job


def test_which_assignments_pass_reference_functions_to_student_code():
    passing = {a for a in ASSIGNMENTS if passes_reference(load_assignment(a))}
    # central_difference(softplus, x) and gradient_check(logsumexp, softmax, z)
    assert passing == {"02_softplus", "04_cross_entropy"}


def test_every_status_has_a_meaning():
    assert list(STATUSES)[-1] == "ok"
    assert len(STATUSES) == len(set(STATUSES))


def _outcome(**changes) -> Outcome:
    outcome = Outcome("finished")
    for key, value in changes.items():
        setattr(outcome, key, value)
    return outcome


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (_outcome(), "ok"),
        (_outcome(cells=[Cell(1, error=err("not-implemented", "x"))]), "ok"),
        (_outcome(cells=[Cell(1, error=err("error", "x"))]), "cell-error"),
        (_outcome(cells=[Cell(1, error=err("exit", "x"))]), "cell-error"),
        (
            _outcome(
                cells=[
                    Cell(1, error=err("error", "x")),
                    Cell(2, error=err("syntax", "y")),
                ]
            ),
            "syntax-error",
        ),
        (_outcome(stragglers=2), "leftover-processes"),
        (
            _outcome(cells=[Cell(1, error=err("process-limit", "x"))]),
            "process-limit",
        ),
        (_outcome(ended="crashed", detail="boom"), "crashed"),
        (_outcome(ended="too-much-output", detail="big"), "too-much-output"),
        (
            _outcome(
                groups={"g": GroupResult("g", None, [Answer(error="MemoryError", kind="memory")])}
            ),
            "memory",
        ),
        (_outcome(ended="timeout", detail="late", stragglers=3), "timeout"),
    ],
)
def test_status_precedence(assignment, outcome, status):
    from autograder.grading import CellResult, _status

    cells = [CellResult(c.index, "student", error=c.error) for c in outcome.cells]
    assert _status(outcome, cells)[0] == status


def test_results_are_json_serializable(assignment, sandbox):
    result = grade_submission(assignment, "e", notebook_of("magics"), sandbox, 3)
    text = json.dumps(result.to_json(), allow_nan=False)
    assert json.loads(text)["notes"]


def test_a_failures_category_is_data_not_wording():
    """Rewording a message changes no classification: the category travels beside it."""
    from autograder.checks import Case, Mismatch
    from autograder.grading import case_problems

    def judged(verdict):
        return Case(args=(1.0,), judge=lambda got: verdict)

    # Planted: messages worded as the other category would be.
    shape_in_words = Mismatch("values", "the shape is wrong: expected a tuple of numeric values")
    values_in_words = Mismatch("shape", "some values are off")
    answers = [Answer(value=1.0)]
    (first,) = case_problems([judged(shape_in_words)], answers)
    (second,) = case_problems([judged(values_in_words)], answers)
    assert (first.category, second.category) == ("values", "shape")
    (raised,) = case_problems([Case(args=(1.0,))], [Answer(error="Anything: at all", kind="error")])
    assert raised.category == "raised" and raised.raised is None
    (typed,) = case_problems(
        [Case(args=(1.0,))], [Answer(error="x", kind="error", exception="ValueError")]
    )
    assert typed.raised == "ValueError"
