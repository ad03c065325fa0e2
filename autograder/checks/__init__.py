"""Grading checks, one module per chapter, and an in-process runner for notebooks.

Every graded test cell of an exercise notebook, and the course's own grader,
use these definitions, so the two ways of grading agree.  A check knows the
reference module, never how or where the student's code runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.checks import (
    cross_entropy,
    exponential_family,
    sigmoid,
    softmax,
    softmax_in_practice,
    softmax_regression,
    softplus,
)
from autograder.checks.core import (
    STUDENT_ID_VARIABLE,
    CallError,
    Case,
    Check,
    Function,
    Mismatch,
    call_case,
    check,
    compare,
    describe_input,
    mismatch,
)

__all__ = [
    "ASSIGNMENTS",
    "CallError",
    "Case",
    "Check",
    "Function",
    "Mismatch",
    "assert_passes",
    "call_case",
    "check",
    "compare",
    "describe_input",
    "get_check",
    "mismatch",
]

#: The checks of every assignment, by assignment id (the chapter folder's name).
ASSIGNMENTS: dict[str, list[Check]] = {
    sigmoid.ASSIGNMENT: sigmoid.CHECKS,
    softplus.ASSIGNMENT: softplus.CHECKS,
    softmax.ASSIGNMENT: softmax.CHECKS,
    cross_entropy.ASSIGNMENT: cross_entropy.CHECKS,
    exponential_family.ASSIGNMENT: exponential_family.CHECKS,
    softmax_regression.ASSIGNMENT: softmax_regression.CHECKS,
    softmax_in_practice.ASSIGNMENT: softmax_in_practice.CHECKS,
}


def get_check(assignment: str, name: str) -> Check:
    """The check called ``name`` in ``assignment``; KeyError names what exists."""
    try:
        checks = ASSIGNMENTS[assignment]
    except KeyError:
        raise KeyError(f"no assignment {assignment!r}; known: {sorted(ASSIGNMENTS)}") from None
    for candidate in checks:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no check {name!r} in {assignment}; known: {[c.name for c in checks]}")


def nbgrader_student(path: Path | None = None) -> str | None:
    """The student whose notebook ``nbgrader autograde`` is running, read from the folder it
    runs in (``autograded/<student>/<assignment>``), or None outside of it."""
    parts = (path or Path.cwd()).parts
    return parts[-2] if len(parts) >= 3 and parts[-3] == "autograded" else None


def assert_passes(
    assignment: str,
    name: str,
    func: Any,
    namespace: dict[str, Any] | None = None,
    seed: int = 0,
) -> None:
    """Run one check on ``func`` in this process; raise AssertionError on the first failure.

    This is what nbgrader's test cells call; ``namespace`` (the notebook's
    ``globals()``) is needed only by checks that pass the student's own
    functions as arguments, and by per-student questions.  For a value check, ``func``
    is the student's answer itself.  A per-student question's parameters come from the
    student nbgrader is grading (or, outside of nbgrader, the notebook's ``STUDENT_ID``).
    The message says which input failed, what was expected and what came back, and which
    section to reread; for a per-student question, only that the answer is not right.
    """
    chosen = get_check(assignment, name)
    if chosen.per_student:
        student = nbgrader_student() or str((namespace or {}).get(STUDENT_ID_VARIABLE, ""))
        cases = chosen.cases_for_student(student)
    else:
        cases = chosen.cases(seed)
    for case in cases:
        try:
            got = func if chosen.kind == "value" else call_case(func, case, namespace)
        except CallError as exc:
            problem = f"{describe_input(case)} raised {exc}"
        else:
            problem = compare(case, got)
        if problem is not None:
            if chosen.per_student:
                # The student's own variant: what was expected would be the answer itself
                # (feedback states it for the worked example only).
                problem = "not the answer to your own question (its parameters are above it)"
            raise AssertionError(
                f"{chosen.exercise}: {problem}\n"
                f"  checked: {chosen.description}\n"
                f"  reread: the section '{chosen.section}' of the chapter"
            )
    print(f"{chosen.exercise}: {chosen.name} passed")
