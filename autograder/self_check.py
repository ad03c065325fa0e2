"""A student's check before submitting: the visible checks on one saved notebook, with hints.

:func:`check` runs the saved notebook as grading does (in order, in a sandbox), then
the *visible* checks only, and returns a :class:`CheckReport`: for each failure the
smallest failing input it found (for an array input, it tries the entries one by
one), what was expected and what came back, and the chapter section to reread.
Hidden checks run only when the notebook is graded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import course
from autograder.checks import Case, describe_input
from autograder.grading import (
    Asked,
    Assignment,
    CellResult,
    Limits,
    build_task,
    case_problems,
    find_assignment,
    judge,
    load_assignment,
    open_sandboxes,
    prepare,
    section_hint,
)
from autograder.runner.pool import Outcome, Sandbox

#: At most this many elements of an array input are tried one by one.
MAX_PROBES = 200


class CheckRefused(ValueError):
    """The notebook cannot be checked as asked (no such file, no such assignment)."""


def check(
    path: Path,
    assignment_id: str | None = None,
    limits: Limits | None = None,
    solutions: Path = course.SOLUTIONS,
) -> CheckReport:
    """Check the saved notebook at ``path`` against its assignment's visible checks.

    The assignment is found from the file name unless ``assignment_id`` names it.

    Raises
    ------
    CheckRefused
        ``path`` is not a file, or no assignment matches it.
    RuntimeError
        No sandbox could start here (nothing was checked); the message says why.
    """
    if not path.is_file():
        raise CheckRefused(f"{path} is not a file (save the notebook first?)")
    assignment_id = assignment_id or find_assignment(path.name, solutions)
    if assignment_id is None:
        raise CheckRefused(f"no assignment has a notebook named {path.name}; use --assignment")
    try:
        assignment = load_assignment(assignment_id, solutions)
    except (KeyError, ValueError) as exc:
        raise CheckRefused(str(exc.args[0])) from None
    with open_sandboxes([assignment], limits=limits) as sandboxes:
        return check_notebook(assignment, path, sandboxes.sandboxes[0])


@dataclass
class CheckReport:
    """What ``check`` prints, and the visible points obtained."""

    lines: list[str] = field(default_factory=list)
    passed: float = 0.0
    total: float = 0.0

    def text(self) -> str:
        return "\n".join(self.lines)


def check_notebook(assignment: Assignment, path: Path, sandbox: Sandbox) -> CheckReport:
    """Run the visible checks of ``assignment`` on the notebook at ``path``."""
    report = CheckReport()
    visible = [c for c in assignment.checks if c.visibility == "visible"]
    report.total = float(sum(c.points for c in visible))
    say = report.lines.append
    say(f"Checking {path.name} ({assignment.id}): visible checks only; hidden checks run")
    say("when it is graded, on other inputs (other shapes, extreme values, float32).")
    prepared = prepare(assignment, path)
    if prepared.problem is not None:
        say(f"\nThis notebook cannot be graded: {prepared.problem.message}.")
        return report
    if prepared.static_imports:
        say("\nYour notebook imports the autograder package, so grading would give it 0:")
        say("".join(f"  {found}\n" for found in prepared.static_imports).rstrip())
        return report
    cases = {c.name: c.cases(0) for c in visible}
    probes: dict[tuple[str, int], list[Case]] = {}
    groups = []
    for chosen in visible:
        function = assignment.function_of(chosen)
        groups.append(Asked.of(assignment, chosen, cases[chosen.name]))
        for position, case in enumerate(cases[chosen.name]):
            elements = elementwise_probes(case)
            if elements and chosen.kind == "call":
                probes[(chosen.name, position)] = elements
                groups.append(Asked(f"{chosen.name}#{position}", function, elements, "visible"))
    outcome = sandbox.run(build_task(assignment, prepared.cells, groups))
    _describe_run(outcome, prepared.cells, say)
    cells = [CellResult(c.index, "student", error=c.error) for c in outcome.cells]
    for chosen in visible:
        verdict = judge(assignment, chosen, cases[chosen.name], outcome, cells)
        points = f"{verdict.points:g}/{verdict.max_points:g}"
        if verdict.passed:
            report.passed += verdict.points
            say(f"\nPASS {chosen.name} ({points}): {plain(chosen.description)}")
            continue
        say(f"\nFAIL {chosen.name} ({points}): {plain(chosen.description)}")
        smallest = _smallest_failure(chosen.name, cases[chosen.name], outcome, probes)
        if smallest is None:
            say("  " + verdict.message.splitlines()[0].split(": ", 1)[-1])
        else:
            case, answer, problem = smallest
            say(f"  smallest failing input: {describe_input(case).removeprefix('input ')}")
            if case.judge is None:  # a judged answer has no single expected value
                say(f"  expected: {show(case.expected)}")
            got = f"raised {answer.error}" if answer.error is not None else show(answer.value)
            say(f"  got:      {got}")
            if answer.error is None:
                say(f"  problem:  {problem}")
        say("  hint: " + section_hint(assignment.id, chosen.section))
    say(f"\nVisible checks: {report.passed:g} of {report.total:g} points.")
    return report


def _describe_run(outcome: Outcome, cells, say) -> None:
    origins = {c.index: c.origin for c in cells}
    for cell in outcome.cells:
        error = cell.error
        if error and error.kind != "not-implemented" and origins.get(cell.index) == "student":
            say(f"\ncell {cell.index} raised {error.message[:300]}")
            last = [line for line in error.traceback.splitlines() if line.strip()][-4:-1]
            say("".join(f"    {line.strip()}\n" for line in last).rstrip())
    for note in outcome.notes:
        say(f"note: {note}")
    for cell in cells:
        for note in cell.notes:
            say(f"note: cell {cell.index}: {note}")
    if outcome.ended != "finished":
        say(f"\nThe run stopped early: {outcome.detail}.")


def elementwise_probes(case: Case) -> list[Case]:
    """One-element cases for each entry of an elementwise case's array, smallest |x| first.

    A case is elementwise when its only input is an array shaped like its
    expected answer; entry ``i`` of the answer is then the answer for entry
    ``i`` of the input, tried as a one-element array of the same rank.
    """
    if case.kwargs or case.judge is not None or len(case.args) != 1:
        return []
    x, expected = case.args[0], case.expected
    if not (isinstance(x, np.ndarray) and isinstance(expected, np.ndarray)):
        return []
    if x.ndim == 0 or x.size < 2 or x.shape != expected.shape or x.dtype.kind not in "biuf":
        return []
    with np.errstate(all="ignore"):
        magnitude = np.abs(x.astype(np.float64)).ravel()
    one = (1,) * x.ndim
    return [
        Case(
            args=(np.full(one, x.flat[i], dtype=x.dtype),),
            expected=np.full(one, expected.flat[i], dtype=expected.dtype),
            rtol=case.rtol,
            atol=case.atol,
        )
        for i in np.argsort(magnitude, kind="stable")[:MAX_PROBES]
    ]


def _smallest_failure(name: str, cases: list[Case], outcome: Outcome, probes):
    """The failing (case, answer, problem) with the smallest input, trying single elements."""
    group = outcome.groups.get(name)
    if group is None or group.missing or len(group.answers) < len(cases):
        return None
    candidates = []
    for problem in case_problems(cases, group.answers):
        found = None
        position = problem.position
        elements = probes.get((name, position))
        probe_group = outcome.groups.get(f"{name}#{position}")
        if elements and probe_group and len(probe_group.answers) == len(elements):
            failing = case_problems(elements, probe_group.answers, first_only=True)
            if failing:
                index = failing[0].position
                found = (elements[index], probe_group.answers[index], failing[0].message)
        candidates.append(found or (cases[position], group.answers[position], problem.message))
    return min(candidates, key=lambda c: _size(c[0]), default=None)


def _size(case: Case) -> tuple[int, float]:
    values = [np.asarray(a) for a in case.args if not hasattr(a, "of")]
    count = sum(v.size for v in values)
    try:
        with np.errstate(all="ignore"):
            largest = max((float(np.max(np.abs(v))) for v in values if v.size), default=0.0)
    except (TypeError, ValueError):
        largest = 0.0
    return count, largest


def plain(text: str) -> str:
    """A check's description without its reStructuredText markup, on one line."""
    return " ".join(text.replace("``", "").split())


def show(value: Any) -> str:
    """A value in a few words: arrays with their shape and dtype."""
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        text = np.array2string(array, threshold=8, edgeitems=2, precision=17)
        if array.ndim == 0:
            return f"{text} ({array.dtype})"
        return f"{text} (shape {array.shape}, {array.dtype})"
    return repr(value)
