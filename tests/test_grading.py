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
    # Graded as the student whose id the notebook holds: its own question is answered.
    complete = grade_submission(assignment, "complete", notebook_of("complete"), sandbox, 1)
    assert (complete.status, complete.score, complete.max_score) == ("ok", 15, 15)
    untouched = grade_submission(assignment, "b", notebook_of("untouched"), sandbox, 1)
    assert (untouched.status, untouched.score) == ("ok", 0)
    assert untouched.checks[0].message.startswith("sigmoid: input 0.0 raised NotImplementedError")


def test_visible_only(assignment, sandbox):
    result = grade_submission(
        assignment, "a", notebook_of("complete"), sandbox, 1, visibilities=("visible",)
    )
    assert [c.visibility for c in result.checks] == ["visible"] * 5
    assert result.max_score == 5


def test_patched_numpy_and_liars_gain_nothing(assignment, sandbox):
    for student in ("patches-numpy", "always-equal"):
        result = grade_submission(assignment, student, notebook_of(student), sandbox, 1)
        assert result.score == 0, student


def test_hidden_feedback_shows_no_inputs(assignment, sandbox):
    student = "textbook-sigmoid"  # the id its notebook holds: its own question is right
    result = grade_submission(assignment, student, notebook_of(student), sandbox, 1)
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
    from autograder.grading import Asked, build_task
    from autograder.runner import wire

    checks = [
        Asked.of(assignment, c, c.cases(seed_for(1, "s", assignment.id, c.name)))
        for c in assignment.checks
    ]
    job = wire.encode(build_task(assignment, [], checks).groups)
    # Only an expected array of some size, unlike its input, can be looked for in the bytes.
    telling = [
        np.asarray(case.expected)
        for asked in checks
        for case in asked.cases
        if np.asarray(case.expected).size > 3
        and np.all(np.asarray(case.expected) != np.asarray(case.args[0]))
    ]
    assert len(telling) >= 5, "too few cases to look for: the test would prove nothing"
    for expected in telling:
        assert expected.tobytes() not in job


def test_which_assignments_pass_reference_functions_to_student_code():
    passing = {a for a in ASSIGNMENTS if passes_reference(load_assignment(a))}
    # central_difference(softplus, x) and gradient_check(logsumexp, softmax, z)
    assert passing == {"02_softplus", "04_cross_entropy"}


# ---------------------------------------------------------------------- statuses and their order

#: What makes each status of a run apply, as the grader sees the run's outcome. Statuses
#: that are ``Outcome.ended`` exclude each other (a run ends one way).
RUN_TRIGGERS = {
    "timeout": {"cell_kinds": ["timeout"]},
    "memory": {"cell_kinds": ["memory"]},
    "too-much-output": {"ended": "too-much-output"},
    "crashed": {"ended": "crashed"},
    "sandbox-error": {"ended": "sandbox-error"},
    "process-limit": {"cell_kinds": ["process-limit"]},
    "leftover-processes": {"stragglers": 2},
    "syntax-error": {"cell_kinds": ["syntax"]},
    "cell-error": {"cell_kinds": ["error"]},
    "ok": {},
}


def run_status(*statuses: str) -> str:
    """The status ``_status`` gives a run where every one of ``statuses`` applies."""
    from autograder.grading import CellResult, _status

    outcome, kinds = Outcome("finished", detail="why"), []
    for status in statuses:
        trigger = RUN_TRIGGERS[status]
        kinds += trigger.get("cell_kinds", [])
        outcome.ended = trigger.get("ended", outcome.ended)
        outcome.stragglers = max(outcome.stragglers, trigger.get("stragglers", 0))
    cells = [CellResult(i, "student", error=err(k, k)) for i, k in enumerate(kinds, start=1)]
    return _status(outcome, cells)[0]


def precedence_problems(order: list[str]) -> list[str]:
    """Each pair of run statuses that ``order`` ranks one way and the grader the other."""
    ranked = [s for s in order if s in RUN_TRIGGERS]
    problems = []
    for i, first in enumerate(ranked):
        for second in ranked[i + 1 :]:
            if "ended" in RUN_TRIGGERS[first] and "ended" in RUN_TRIGGERS[second]:
                continue  # one run cannot end both ways
            got = run_status(second, first)
            if got != first:
                problems.append(f"{first} and {second} both apply: the grader says {got}")
    return problems


def readme_statuses() -> list[str]:
    """The statuses of the README's table, in its order (a row may name several)."""
    from helpers import ROOT

    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| status | meaning |")
    names = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        names += re.findall(r"`([^`]+)`", line.split("|")[1])
    return names


def returned_statuses() -> set[str]:
    """Every status literal the grader can give: read from the code that decides it."""
    import ast
    import inspect

    from autograder import class_grading, grading, notebook

    found = set()
    for module in (grading, notebook, class_grading):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            arguments = {"NotebookProblem": 0, "unverified": 2}
            if name in arguments and len(node.args) > arguments[name]:
                argument = node.args[arguments[name]]
                if isinstance(argument, ast.Constant):
                    found.add(argument.value)
            found |= {
                k.value.value
                for k in node.keywords
                if k.arg == "status" and isinstance(k.value, ast.Constant)
            }
    status = ast.parse(inspect.getsource(grading._status))
    for node in ast.walk(status):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            first = node.value.elts[0]
            if isinstance(first, ast.Constant):
                found.add(first.value)
        if isinstance(node, ast.Compare) and isinstance(node.comparators[0], ast.Tuple):
            if getattr(node.left, "attr", "") == "ended":
                found |= {e.value for e in node.comparators[0].elts}
    return found


def test_every_status_has_a_meaning():
    for status, meaning in STATUSES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", status), status
        assert isinstance(meaning, str) and meaning == meaning.strip(), status
        assert len(meaning.split()) >= 2 and meaning[0].islower(), (status, meaning)
    assert list(STATUSES)[-1] == "ok"


def test_every_status_the_grader_gives_is_one_of_them():
    found = returned_statuses()
    # The code that decides statuses was read: those of reading, running and failing.
    assert {"missing", "too-large", "imports-autograder", "timeout", "grader-error"} <= found
    assert found | set(RUN_TRIGGERS) <= set(STATUSES), found - set(STATUSES)
    assert set(STATUSES) <= found | {"ok"}, set(STATUSES) - found


def test_the_readme_lists_the_statuses_in_their_order():
    assert readme_statuses() == list(STATUSES)


def test_statuses_are_ranked_as_the_grader_applies_them():
    for status in RUN_TRIGGERS:
        assert run_status(status) == status
    assert precedence_problems(list(STATUSES)) == []
    ended = [s for s in RUN_TRIGGERS if "ended" in RUN_TRIGGERS[s]]
    for last in ended:  # everything at once: the first of them
        everything = [s for s in RUN_TRIGGERS if s not in ended or s == last]
        assert run_status(*everything) == everything[0]


def test_an_import_of_the_grading_package_outranks_every_run_status(assignment):
    from autograder.grading import SubmissionResult, evaluate

    assert list(STATUSES).index("imports-autograder") < min(map(list(STATUSES).index, RUN_TRIGGERS))
    checks = list(assignment.checks)
    cases = {c.name: c.cases(0) for c in checks}
    for ended in ("timeout", "crashed"):
        outcome = Outcome(ended, detail="why", stragglers=2, modules=["autograder.checks"])
        outcome.cells = [Cell(1, error=err(k, k)) for k in ("memory", "syntax", "error")]
        result = SubmissionResult("s", assignment.id, assignment.notebook, "ok", "", 0, 9)
        result = evaluate(result, assignment, [], checks, cases, outcome)
        assert result.status == "imports-autograder" and result.score == 0


def test_a_reordered_status_table_is_caught(monkeypatch):
    """Planted: two statuses swapped, as a reordering of STATUSES would leave them."""
    order = list(STATUSES)
    for first, second in [("timeout", "memory"), ("syntax-error", "cell-error")]:
        swapped = order.copy()
        i, j = swapped.index(first), swapped.index(second)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        assert precedence_problems(swapped), (first, second)
        assert swapped != readme_statuses()


@pytest.mark.parametrize(
    ("content", "reading"),
    [
        (b"GIF89a\x00", "not-a-notebook"),
        (b'{"cells": [', "corrupt-notebook"),
    ],
    ids=["not-json", "cut-short"],
)
def test_a_notebook_too_large_and_unreadable_gets_the_first_status_that_applies(
    assignment, tmp_path, content, reading
):
    from autograder.grading import prepare
    from autograder.notebook import MAX_NOTEBOOK_BYTES

    path = tmp_path / assignment.notebook
    with path.open("wb") as handle:  # sparse: nothing past the content is written
        handle.write(content)
        handle.truncate(MAX_NOTEBOOK_BYTES + 1)
    statuses = list(STATUSES)
    expected = min((reading, "too-large"), key=statuses.index)
    assert prepare(assignment, path).problem.status == expected


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
