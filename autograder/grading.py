"""Grading one submission: check definitions in, a sandboxed run, points and messages out.

This is where the check definitions (:mod:`autograder.checks`) meet the runner
(:mod:`autograder.runner`): :func:`grade_submission` reads a student's notebook
(:mod:`autograder.notebook`), builds each check's cases for that student's seed,
sends the cells and the cases' *inputs* to a sandboxed worker, and compares
what came back with the cases' expected values here, in the grader's process,
with :func:`autograder.checks.compare`, the function nbgrader's hidden test cells
use too.  Whatever the student's code did to its own process (redefining
``np.allclose``, returning an object equal to everything) cannot reach this
comparison: it only ever sees plain numbers and arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from autograder import course
from autograder.checks import ASSIGNMENTS, Case, Check, Function, describe_input, mismatch
from autograder.checks.core import STUDENT_ID_VARIABLE, stable_hash
from autograder.notebook import (
    CodeCell,
    NotebookProblem,
    SourceNotebook,
    code_cells,
    forbidden_imports,
    read_notebook,
)
from autograder.packages import GRADING_PACKAGE
from autograder.runner import wire
from autograder.runner.pool import CellError, Limits, Outcome, Sandbox, SandboxPool, Task

#: The package a submission must not import.
FORBIDDEN = (GRADING_PACKAGE,)
#: The group that asks a worker for the notebook's STUDENT_ID (not a check).
ANSWERED_AS = "<student id>"

#: Every status, most severe first: a submission's status is the first that applies.
STATUSES: dict[str, str] = {
    "missing": "no notebook with the expected name was submitted",
    # A file over the size limit is not read at all: what it holds is not known.
    "too-large": "the notebook file is too large to read",
    "not-a-notebook": "the submitted file is not a Jupyter notebook",
    "corrupt-notebook": "the notebook file is empty, cut short or malformed",
    "imports-autograder": "the code imports the grading package: every check scores 0",
    "timeout": "the code ran past its time limit; only what finished in time counts",
    "memory": "the code ran out of its memory limit",
    "too-much-output": "the worker tried to send back more data than allowed",
    "crashed": "the worker process died before finishing; only what finished counts",
    "sandbox-error": "the grader's sandbox failed (not the student's fault): grade again",
    "grader-error": "the grader failed on this submission (a bug): grade again",
    "process-limit": "the code started more processes than allowed",
    "leftover-processes": "the code left processes running; they were killed",
    "syntax-error": "a code cell has a syntax error",
    "cell-error": "a code cell raised an exception (other than NotImplementedError)",
    "ok": "graded normally",
}


@dataclass(frozen=True)
class Assignment:
    """An assignment as the grader sees it: its checks and its source notebook."""

    id: str
    checks: tuple[Check, ...]
    source: SourceNotebook
    data_dir: Path

    @property
    def notebook(self) -> str:
        """The file name a submission must have."""
        return self.source.name

    @functools.cached_property
    def data_files(self) -> dict[str, bytes]:
        """The other files of the assignment's folder (data), handed to every worker."""
        return {
            p.name: p.read_bytes()
            for p in sorted(self.data_dir.iterdir())
            if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
        }

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    @property
    def exercises(self) -> list[str]:
        return list(dict.fromkeys(c.exercise for c in self.checks))

    def function_of(self, check: Check) -> str:
        """The name of the student's function a check calls.

        Read from the source notebook's test cell for the check (the function
        its ``assert_passes`` call is given); the exercise's name otherwise.
        """
        return self.source.tested_functions.get(check.name, check.exercise)


def load_assignment(assignment_id: str, solutions: Path = course.SOLUTIONS) -> Assignment:
    """The assignment ``assignment_id``, from ``ASSIGNMENTS`` and ``solutions/<id>/``.

    Raises KeyError for an unknown id and ValueError when its folder does not
    hold exactly one notebook.
    """
    if assignment_id not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment_id!r}; known: {sorted(ASSIGNMENTS)}")
    folder = solutions / assignment_id
    notebooks = course.solution_notebooks(assignment_id, solutions)
    if len(notebooks) != 1:
        raise ValueError(f"{folder} must hold exactly one notebook, found {len(notebooks)}")
    return Assignment(
        id=assignment_id,
        checks=tuple(ASSIGNMENTS[assignment_id]),
        source=SourceNotebook.load(notebooks[0]),
        data_dir=folder,
    )


def find_assignment(notebook_name: str, solutions: Path = course.SOLUTIONS) -> str | None:
    """The id of the assignment whose notebook is called ``notebook_name``, if any."""
    for assignment_id in sorted(ASSIGNMENTS):
        if (solutions / assignment_id / notebook_name).is_file():
            return assignment_id
    return None


def passes_reference(assignment: Assignment) -> bool:
    """Whether some check of ``assignment`` passes a reference function to student code.

    Read from the cases of one seed: which functions a check passes is part of its
    definition, not of its random inputs.
    """

    def references(values) -> bool:
        return any(
            isinstance(v, Function) and (v.of == "reference" or references(v.bound)) for v in values
        )

    return any(
        references([*case.args, *case.kwargs.values()])
        for check in assignment.checks
        for case in check.cases([0])
    )


def preload_modules(assignments: Sequence[Assignment]) -> list[str]:
    """Modules worth importing before forking: what the course's notebooks import."""
    modules = ["numpy"]
    for assignment in assignments:
        modules += [m for m in assignment.source.imports if m.split(".")[0] not in FORBIDDEN]
    return list(dict.fromkeys(modules))


def open_sandboxes(
    assignments: Sequence[Assignment],
    *,
    jobs: int = 1,
    limits: Limits | None = None,
    hide: Iterable[Path] = (),
    **options: Any,
) -> SandboxPool:
    """The sandboxes that grade ``assignments``: the one way grading opens them.

    Each preloads what the assignments' notebooks import, and the reference only when
    every worker would import it anyway (see :class:`~autograder.runner.pool.Sandbox`).
    The workers' view hides ``hide`` (the submissions, the output folder) besides the
    course folder and the solutions.  ``options`` go to every sandbox; RuntimeError
    when none can start, saying why.
    """
    return SandboxPool(
        jobs,
        limits=limits or Limits(),
        preload=preload_modules(assignments),
        preload_reference=all(passes_reference(a) for a in assignments),
        forbidden_modules=FORBIDDEN,
        hide=[*hide, *dict.fromkeys(a.data_dir.parent for a in assignments)],
        **options,
    )


# --------------------------------------------------------------------------- seeds


def seed_for(run_seed: int, student_id: str, assignment_id: str, check_name: str) -> list[int]:
    """The seed of one check's cases for one student: a SeedSequence entropy list.

    Different students, assignments and runs (``--seed``) get different
    hidden inputs; the same four values always give the same ones.
    """
    return [run_seed, stable_hash(student_id), stable_hash(assignment_id), stable_hash(check_name)]


# --------------------------------------------------------------------------- results


#: How a check ended, as data: a report or a student's feedback is chosen from this,
#: never read back out of a message, so rewording a message changes no classification.
Category = Literal[
    "passed",  # every case answered right
    "values",  # some answer has wrong values
    "shape",  # some answer has the wrong shape or type
    "raised",  # the function raised on some case (``CheckResult.raised`` says what)
    "timeout",  # the function ran past its time on some case
    "missing",  # the function is not defined, or not a function
    "unverified",  # the run stopped before the check was done
    "not-graded",  # the submission could not be run at all (its status says why)
]
CATEGORIES: tuple[str, ...] = Category.__args__
#: Categories of checks whose function ran and failed (what a report's common failures list).
FAILED_ON_ITS_OWN = ("values", "shape", "raised", "timeout", "missing")


@dataclass
class CheckResult:
    """One check's verdict.  ``message`` is for the instructor; ``feedback`` for the student.

    ``category`` says how it ended (:data:`Category`); ``raised`` is the exception's
    type when it ended ``raised``.
    """

    name: str
    exercise: str
    visibility: str
    points: float
    max_points: float
    passed: bool
    category: str
    message: str
    feedback: str
    section: str
    description: str
    raised: str | None = None


@dataclass
class CellResult:
    """One code cell's run, for the record: where it came from (``"student"`` or
    ``"course"``, a locked cell restored from the source), its time, what it printed
    (``dropped`` characters beyond what was kept) and its error."""

    index: int
    origin: str
    seconds: float = 0.0
    output: str = ""
    dropped: int = 0
    error: CellError | None = None


@dataclass
class WorkerFacts:
    """What the worker that ran a submission did: how it ended (``"not-run"`` when the
    submission could not be run at all), its exit, time, peak memory and CPU, the
    leftover processes killed, its pid (in its PID namespace, in a view) and uid, the
    seconds its part of the view cost, and the isolation that held."""

    ended: str = "not-run"
    detail: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    max_rss_mb: float | None = None
    cpu_seconds: float | None = None
    stragglers: int = 0
    pid: int | None = None
    uid: int | None = None
    view_seconds: float | None = None
    isolation: dict[str, str] = field(default_factory=dict)


@dataclass
class SubmissionResult:
    """One student's verdict on one assignment."""

    student_id: str
    assignment: str
    notebook: str
    status: str
    detail: str
    score: float
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seed: list[int] = field(default_factory=list)
    worker: WorkerFacts = field(default_factory=WorkerFacts)

    def exercise_scores(self) -> dict[str, float]:
        scores: dict[str, float] = {}
        for result in self.checks:
            scores[result.exercise] = scores.get(result.exercise, 0.0) + result.points
        return scores

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        """The result :meth:`to_json` wrote (a resumed run reads back the rows it kept)."""
        cells = [
            CellResult(**{**c, "error": CellError(**c["error"]) if c.get("error") else None})
            for c in data.get("cells", [])
        ]
        return cls(
            **{k: v for k, v in data.items() if k not in ("checks", "cells", "worker")},
            checks=[CheckResult(**c) for c in data.get("checks", [])],
            cells=cells,
            worker=WorkerFacts(**data.get("worker", {})),
        )


# --------------------------------------------------------------------------- grading


@dataclass
class Prepared:
    """A submission read and ready to run: its cells, or the problem that stops it."""

    cells: list[CodeCell] = field(default_factory=list)
    problem: NotebookProblem | None = None
    static_imports: list[str] = field(default_factory=list)


def prepare(assignment: Assignment, path: Path | None) -> Prepared:
    """Read a submitted notebook and find its cells; never raises for the file's content."""
    if path is None or not path.is_file():
        return Prepared(problem=NotebookProblem("missing", _missing_message(assignment, path)))
    try:
        notebook = read_notebook(path)
    except NotebookProblem as problem:
        return Prepared(problem=problem)
    except OSError as exc:
        return Prepared(problem=NotebookProblem("missing", f"the file cannot be read: {exc}"))
    cells = code_cells(notebook, assignment.source)
    found = []
    for cell in cells:
        if cell.origin == "student":
            found += [f"cell {cell.index}: {m}" for m in forbidden_imports(cell.source, FORBIDDEN)]
    return Prepared(cells=cells, static_imports=found)


def _missing_message(assignment: Assignment, path: Path | None) -> str:
    expected = f"expected a notebook named {assignment.notebook}"
    if path is None or not path.parent.is_dir():
        return f"nothing was submitted for {assignment.id} ({expected})"
    others = sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("."))
    if others:
        return f"{expected}; found {', '.join(others[:5])} (rename it to {assignment.notebook})"
    return f"{expected}; the folder is empty"


@dataclass(frozen=True)
class Asked:
    """What the worker is asked for one check: ``name``'s cases, on ``target``, the student's
    function (or, for a value check, the variable holding their answer)."""

    name: str
    target: str
    cases: list[Case]
    visibility: str = "hidden"
    kind: str = "call"

    @classmethod
    def of(cls, assignment: Assignment, chosen: Check, cases: list[Case]) -> Asked:
        return cls(
            chosen.name, assignment.function_of(chosen), cases, chosen.visibility, chosen.kind
        )


def build_task(assignment: Assignment, cells: list[CodeCell], asked: Sequence[Asked]) -> Task:
    """The runner's task: the cells, then one group of calls per check asked.

    A value check's group asks for the variable's value instead of calling it.

    Calls of a hidden check follow :func:`autograder.checks.call_case`, as the hidden
    test cells do under nbgrader.  Calls of a visible check follow the notebook's visible
    test cells: a warning fails them when Jupyter would show it, since nbgrader gives no
    points to a test cell that writes to stderr (every warning but pending
    deprecations, import and resource warnings, and deprecations raised outside the
    student's code), so that the two graders agree there too.
    """
    groups = [
        {
            "name": one.name,
            "function": one.target,
            "kind": one.kind,
            "warnings": "as-shown" if one.visibility == "visible" else "strict",
            "cases": [
                {
                    "args": tuple(_to_wire(a) for a in case.args),
                    "kwargs": {k: _to_wire(v) for k, v in case.kwargs.items()},
                }
                for case in one.cases
            ],
        }
        for one in asked
    ]
    return Task(
        cells=[{"index": c.index, "source": c.source} for c in cells],
        groups=groups,
        data_files=assignment.data_files,
    )


def _to_wire(value: Any) -> Any:
    if isinstance(value, Function):
        bound = tuple(_to_wire(b) for b in getattr(value, "bound", ()))
        return wire.FunctionRef(value.name, value.of, bound)
    return value


def cases_of(chosen: Check, run_seed: int, student_id: str, assignment_id: str) -> list[Case]:
    """A check's cases for one student: drawn from the run's seed, or, for a per-student
    question whose parameters the notebook showed the student, from their id alone."""
    if chosen.per_student:
        return chosen.cases_for_student(student_id)
    return chosen.cases(seed_for(run_seed, student_id, assignment_id, chosen.name))


def grade_submission(
    assignment: Assignment,
    student_id: str,
    path: Path | None,
    sandbox: Sandbox,
    run_seed: int,
    visibilities: Sequence[str] = ("visible", "hidden"),
) -> SubmissionResult:
    """Grade one student's notebook for one assignment; never raises for what the notebook holds.

    Parameters
    ----------
    assignment
        What to grade against.
    student_id
        Used for the seed of the hidden inputs, and reported.
    path
        The submitted notebook (None or a missing file: status ``missing``).
    sandbox
        Where the student's code runs.
    run_seed
        The run's seed (``--seed``), recorded with the result.
    visibilities
        Which checks to run: both for grading, ``("visible",)`` for a student's check.
    """
    checks = [c for c in assignment.checks if c.visibility in visibilities]
    result = SubmissionResult(
        student_id=student_id,
        assignment=assignment.id,
        notebook=assignment.notebook,
        status="ok",
        detail="",
        score=0.0,
        max_score=float(sum(c.points for c in checks)),
        seed=seed_for(run_seed, student_id, assignment.id, "<check name>")[:3],
    )
    prepared = prepare(assignment, path)
    if prepared.problem is not None:
        return unverified(result, checks, prepared.problem.status, prepared.problem.message)
    result.notes = [f"cell {c.index}: {note}" for c in prepared.cells for note in c.notes]
    if prepared.static_imports:
        detail = (
            "the notebook imports the grading package ("
            + "; ".join(prepared.static_imports[:3])
            + ")"
        )
        return unverified(result, checks, "imports-autograder", detail)
    cases = {c.name: cases_of(c, run_seed, student_id, assignment.id) for c in checks}
    asked = [Asked.of(assignment, c, cases[c.name]) for c in checks]
    if any(c.per_student for c in checks):  # which id the student answered as, for a note
        asked.append(Asked(ANSWERED_AS, STUDENT_ID_VARIABLE, [Case(args=())], kind="value"))
    outcome = sandbox.run(build_task(assignment, prepared.cells, asked))
    evaluate(result, assignment, prepared.cells, checks, cases, outcome)
    answered_as = outcome.groups.get(ANSWERED_AS)
    if answered_as and answered_as.answers and answered_as.answers[0].value != student_id:
        shown = answered_as.answers[0].value if answered_as.answers[0].error is None else "?"
        result.notes.append(
            f"the notebook's {STUDENT_ID_VARIABLE} is {shown!r}, but it was graded as "
            f"{student_id!r}: its per-student questions were graded with {student_id!r}'s "
            "parameters"
        )
    return result


def unverified(
    result: SubmissionResult, checks: list[Check], status: str, detail: str
) -> SubmissionResult:
    """Give every one of ``checks`` 0, as not graded, and ``result`` the status ``status``.

    For a submission that could not be run at all (a missing or corrupt notebook, an
    import of the grading package, a grader error): the instructor's message says
    ``detail``; a student sees it for visible checks, and for hidden ones only the
    status's meaning.  Returns ``result``, changed in place.
    """
    result.status, result.detail = status, detail
    generic = f"not graded: {STATUSES[status]}"
    result.checks = [
        CheckResult(
            name=c.name,
            exercise=c.exercise,
            visibility=c.visibility,
            points=0.0,
            max_points=float(c.points),
            passed=False,
            category="not-graded",
            message=f"not graded: {detail}",
            feedback=generic if c.visibility == "hidden" else f"not graded: {detail}",
            section=c.section,
            description=c.description,
        )
        for c in checks
    ]
    return result


def evaluate(
    result: SubmissionResult,
    assignment: Assignment,
    cells: list[CodeCell],
    checks: list[Check],
    cases: dict[str, list[Case]],
    outcome: Outcome,
) -> SubmissionResult:
    """Turn a run's outcome into points, messages and a status."""
    origins = {c.index: c.origin for c in cells}
    result.cells = [
        CellResult(
            index=cell.index,
            origin=origins.get(cell.index, "student"),
            seconds=cell.seconds,
            output=cell.output,
            dropped=cell.dropped,
            error=cell.error,
        )
        for cell in outcome.cells
    ]
    result.notes += outcome.notes
    result.worker = WorkerFacts(
        ended=outcome.ended,
        detail=outcome.detail,
        exit_code=outcome.exit_code,
        seconds=outcome.seconds,
        max_rss_mb=outcome.max_rss_mb,
        cpu_seconds=outcome.cpu_seconds,
        stragglers=outcome.stragglers,
        pid=outcome.pid,
        uid=outcome.uid,
        view_seconds=outcome.view_seconds,
        isolation=outcome.isolation,
    )
    if outcome.modules:
        detail = (
            "the code imported the grading package at run time ("
            + ", ".join(outcome.modules[:3])
            + ")"
        )
        unverified(result, checks, "imports-autograder", detail)
        return result
    for check in checks:
        result.checks.append(judge(assignment, check, cases[check.name], outcome, result.cells))
    result.score = float(sum(c.points for c in result.checks))
    result.status, result.detail = _status(outcome, result.cells)
    return result


def judge(
    assignment: Assignment,
    check: Check,
    cases: list[Case],
    outcome: Outcome,
    cells: list[CellResult],
) -> CheckResult:
    """One check's verdict on a run: its points, its category, and what each reader sees.

    The answers the worker sent for the check's cases are compared, here in the
    grader's process, with the cases' expected values, the first wrong one
    described as nbgrader's hidden tests describe it.  A check the run stopped
    before, or whose function is missing, fails with that said.  Hidden checks give
    the student only a generic sentence chosen by the category.
    """
    function = assignment.function_of(check)
    group = outcome.groups.get(check.name)
    problem: CaseProblem | None = None
    if group is None:
        detail = outcome.detail or "the worker stopped before this check"
        problem = CaseProblem(-1, f"not verified: {detail}", "unverified")
    elif group.missing == "not-defined":
        hint = _defining_cell_hint(function, cells)
        holder = "variable" if check.kind == "value" else "function"
        problem = CaseProblem(-1, f"the {holder} {function} is not defined{hint}", "missing")
    elif group.missing:
        kind = group.missing.split(": ")[-1]
        problem = CaseProblem(-1, f"{function} is not a function (it is a {kind})", "missing")
    elif len(group.answers) < len(cases):
        stopped = "not verified: the worker stopped during this check"
        problem = CaseProblem(-1, stopped, "unverified")
    else:
        problem = next(iter(case_problems(cases, group.answers, first_only=True)), None)
    passed = problem is None
    if passed:
        message = f"{check.exercise}: {check.name} passed"
    else:
        message = (
            f"{check.exercise}: {problem.message}\n"
            f"  checked: {check.description}\n"
            f"  reread: the section '{check.section}' of the chapter"
        )
    category = "passed" if passed else problem.category
    raised = None if passed else problem.raised
    return CheckResult(
        name=check.name,
        exercise=check.exercise,
        visibility=check.visibility,
        points=float(check.points) if passed else 0.0,
        max_points=float(check.points),
        passed=passed,
        category=category,
        message=message,
        feedback=message if check.visibility == "visible" else _generic(check, category, raised),
        section=check.section,
        description=check.description,
        raised=raised,
    )


@dataclass(frozen=True)
class CaseProblem:
    """Why one case failed: its position, the message, the category, the exception's type."""

    position: int
    message: str
    category: str
    raised: str | None = None


def case_problems(
    cases: Sequence[Case], answers: Sequence[Any], first_only: bool = False
) -> list[CaseProblem]:
    """A :class:`CaseProblem` for each case whose answer is wrong.

    The message is worded as nbgrader's hidden tests word it
    (:func:`autograder.checks.assert_passes`); the category comes from what
    happened (the worker's exception, or :func:`autograder.checks.mismatch`'s kind),
    never from the wording.
    """
    found = []
    for position, (case, answer) in enumerate(zip(cases, answers, strict=False)):
        if answer.error is not None:
            message = f"{describe_input(case)} raised {answer.error}"
            if answer.kind == "timeout":
                problem = CaseProblem(position, message, "timeout")
            else:
                problem = CaseProblem(position, message, "raised", answer.exception)
        else:
            try:
                wrong = mismatch(case, answer.value)
            except Exception as exc:  # a judge that chokes on a strange answer
                message = f"{describe_input(case)}: the answer could not be judged ({exc!r})"
                problem = CaseProblem(position, message, "values")
            else:
                problem = wrong and CaseProblem(position, wrong.message, wrong.kind)
        if problem is not None:
            found.append(problem)
            if first_only:
                break
    return found


_GENERIC = {
    "values": "some of its answers have wrong values",
    "shape": "some of its answers have the wrong shape or type",
    "raised": "the function raised {} on some inputs (floating-point warnings count as errors)",
    "timeout": "the function did not finish in time on some inputs",
    "missing": "the function is not defined (renamed, or its cell fails?)",
    "unverified": "it could not be verified (the run stopped before it)",
}


def _generic(check: Check, category: str, raised: str | None = None) -> str:
    """What a student sees of a hidden check: no inputs, no values, no test code."""
    if category == "passed":
        return "passed"
    # Only the exception's type reaches a student: an identifier, no values.
    exception = raised if raised and raised.isidentifier() else "an exception"
    what = _GENERIC[category].format(exception)
    if check.kind == "value":  # an answer held by a variable: no function, no call
        what = what.replace("the function is not defined", "the answer's variable is not set")
        what = what.replace("its answers have", "the answer has")
    return f"failed: {what}. Reread the section '{check.section}' of the chapter."


def _defining_cell_hint(function: str, cells: list[CellResult]) -> str:
    for cell in cells:
        if cell.error and cell.error.kind != "not-implemented":
            return f" (cell {cell.index} raised {cell.error.type}: is it defined there?)"
    return " (was it renamed, or is its cell missing?)"


def _status(outcome: Outcome, cells: list[CellResult]) -> tuple[str, str]:
    """The most severe status that applies, with a sentence saying why."""
    errors = [(c.index, c.error) for c in cells if c.error]
    kinds = {error.kind for _, error in errors}
    answer_kinds = {a.kind for g in outcome.groups.values() for a in g.answers if a.kind}

    def first_cell(kind: str) -> str:
        for index, error in errors:
            if error.kind == kind:
                return f"cell {index}: {error.message}"
        return ""

    if outcome.ended == "timeout" or "timeout" in kinds | answer_kinds:
        return "timeout", outcome.detail if outcome.ended == "timeout" else (
            first_cell("timeout") or "a call of a function ran past its share of the time limit"
        )
    if "memory" in kinds | answer_kinds:
        return "memory", first_cell("memory") or "a call of a function ran out of memory"
    if outcome.ended in ("too-much-output", "crashed", "sandbox-error"):
        return outcome.ended, outcome.detail
    if "process-limit" in kinds | answer_kinds:
        return "process-limit", first_cell("process-limit") or "a call hit the process limit"
    if outcome.stragglers:
        return "leftover-processes", f"{outcome.stragglers} leftover process(es) were killed"
    if "syntax" in kinds:
        return "syntax-error", first_cell("syntax")
    for kind in ("exit", "interrupt", "error"):
        if kind in kinds:
            return "cell-error", first_cell(kind)
    return "ok", ""


@functools.cache
def section_hint(assignment_id: str, label: str) -> str:
    """Where to reread a section: its title and its place on the course's website."""
    page = course.chapter_page(assignment_id)
    title = course.section_title(page, label)
    named = f"'{title}'" if title else f"the section '{label}'"
    if page is None:
        return f"reread {named} of the chapter"
    try:
        shown = page.relative_to(course.ROOT)
    except ValueError:
        shown = page
    return f"reread {named} in {shown} (on the website: {shown.with_suffix('.html')}#{label})"
