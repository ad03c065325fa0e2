"""Grading a whole class: every (student, assignment) pair, in parallel, and every output.

:func:`grade_class` is what ``python -m autograder grade`` does once it has read its
options: it opens the sandboxes (:func:`autograder.grading.open_sandboxes`), grades each
submission (:func:`autograder.grading.grade_submission`), writes each student's feedback
as soon as it is graded, then ``grades.csv``, ``results.json`` and ``report.html``.  A
bug of the grader's on one submission costs that row only (status ``grader-error``).
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from autograder.checks import ASSIGNMENTS
from autograder.grading import (
    Assignment,
    SubmissionResult,
    grade_submission,
    open_sandboxes,
    unverified,
)
from autograder.report import feedback_html, grades_csv, report_html, results_json, write_atomic
from autograder.runner.confine import UNSAFE_OPTION
from autograder.runner.pool import MAX_SLOTS, Limits, Sandbox

__all__ = ["DEFAULT_JOBS", "MAX_JOBS", "UNSAFE_OPTION", "Limits", "grade_class", "survey"]

#: Notebooks graded at once unless told otherwise: the machine's CPUs, at most 8.
DEFAULT_JOBS = min(os.cpu_count() or 1, 8)
MAX_JOBS = MAX_SLOTS
#: The rule by which hidden inputs are drawn, as results.json states it.
SEED_RULE = (
    "hidden inputs of check C for student S in assignment A come from "
    "numpy.random.default_rng([seed, h(S), h(A), h(C)]), h = first 8 bytes of SHA-256"
)


@dataclass
class ClassToGrade:
    """What a submissions folder holds: its students, the assignments to grade, and
    the folders named like no known assignment (not graded)."""

    students: list[str]
    assignment_ids: list[str]
    unknown: list[str] = field(default_factory=list)


def survey(submitted: Path, out: Path, wanted: list[str] | None = None) -> ClassToGrade:
    """The students of ``submitted`` (nbgrader's layout) and the assignments to grade.

    ``wanted`` names assignments (default: every known one someone submitted).  The
    output folder, if it lies inside ``submitted``, is no student.  Raises KeyError for
    an unknown assignment in ``wanted``.
    """
    for assignment_id in wanted or ():
        if assignment_id not in ASSIGNMENTS:
            raise KeyError(f"unknown assignment {assignment_id!r}; known: {sorted(ASSIGNMENTS)}")
    students = sorted(
        p.name
        for p in submitted.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.resolve() != out.resolve()
    )
    if wanted:
        return ClassToGrade(students, list(dict.fromkeys(wanted)))
    found = {a.name for s in students for a in (submitted / s).iterdir() if a.is_dir()}
    unknown = sorted(name for name in found - set(ASSIGNMENTS) if not name.startswith("."))
    return ClassToGrade(students, sorted(found & set(ASSIGNMENTS)), unknown)


@dataclass
class Summary:
    """What a run did, for the command to print."""

    notebooks: int
    seconds: float
    statuses: Counter

    @property
    def per_second(self) -> float:
        return self.notebooks / self.seconds if self.seconds else 0.0


def grade_class(
    submitted: Path,
    out: Path,
    students: list[str],
    assignments: list[Assignment],
    limits: Limits,
    run_seed: int,
    jobs: int = DEFAULT_JOBS,
    progress_stream: TextIO | None = None,
    sandbox_options: dict[str, Any] | None = None,
) -> Summary:
    """Grade every (student, assignment) pair and write all the outputs.

    ``sandbox_options`` go to every :class:`~autograder.runner.pool.Sandbox`; the
    submissions and the output folder are always among what the workers' view hides.
    Raises RuntimeError when no sandbox can start (nothing is graded then).
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be between 1 and {MAX_JOBS}")
    pairs = [(s, a) for s in students for a in assignments]
    progress = Progress(len(pairs), progress_stream)
    started = time.monotonic()
    results: list[SubmissionResult] = []

    def work(sandbox: Sandbox, pair: tuple[str, Assignment]) -> SubmissionResult:
        student, assignment = pair
        path = submitted / student / assignment.id / assignment.notebook
        try:
            return grade_submission(assignment, student, path, sandbox, run_seed)
        except Exception:  # a bug of ours must not cost the other students their grades
            return grader_error(student, assignment, traceback.format_exc(limit=3))

    ready: dict[str, Any] = {}
    run_id = None
    options = sandbox_options or {}
    if pairs:
        with open_sandboxes(
            assignments,
            jobs=min(jobs, len(pairs)),
            limits=limits,
            hide=[submitted, out],
            **options,
        ) as pool:
            ready = pool.sandboxes[0].ready
            run_id = pool.run_id
            for (student, assignment), result in pool.map_unordered(work, pairs):
                if isinstance(result, Exception):  # grader_error itself failed: still a row
                    result = grader_error(student, assignment, repr(result))
                write_atomic(
                    out / "feedback" / student / f"{assignment.id}.html",
                    feedback_html(result, assignment),
                )
                results.append(result)
                progress.update(result)
    progress.close()
    seconds = time.monotonic() - started
    isolation = next((r.worker.isolation for r in results if r.worker.isolation), {})
    run_info = {
        "seed": run_seed,
        "seed_rule": SEED_RULE,
        "jobs": jobs,
        "limits": asdict(limits),
        "seconds": round(seconds, 3),
        "notebooks": len(results),
        "isolation": isolation,
        "sandbox": {
            "run_id": run_id,
            "uids": sorted({r.worker.uid for r in results if r.worker.uid is not None}),
            "unsafe_no_view": bool(options.get("allow_no_view")),
            **{k: v for k, v in ready.items() if k not in ("type", "pid", "uid")},
        },
    }
    write_atomic(out / "grades.csv", grades_csv(results, assignments))
    write_atomic(out / "results.json", results_json(results, assignments, run_info))
    write_atomic(out / "report.html", report_html(results, assignments, run_info))
    return Summary(len(results), seconds, Counter(r.status for r in results))


def grader_error(student: str, assignment: Assignment, details: str) -> SubmissionResult:
    """The row of a submission the grader itself failed on: every check 0, status grader-error."""
    result = SubmissionResult(
        student_id=student,
        assignment=assignment.id,
        notebook=assignment.notebook,
        status="grader-error",
        detail="",
        score=0.0,
        max_score=assignment.max_score,
    )
    return unverified(result, list(assignment.checks), "grader-error", details.strip()[-500:])


class Progress:
    """A progress bar on a terminal; one plain line per notebook otherwise; nothing without
    a stream."""

    def __init__(self, total: int, stream: TextIO | None):
        self.total = total
        self.stream = stream
        self.done = 0
        self.unusual = 0
        self.started = time.monotonic()
        self.tty = stream is not None and stream.isatty()

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.unusual += result.status not in ("ok", "missing")
        if self.stream is None:
            return
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        if self.tty:
            width = 30
            filled = width * self.done // max(self.total, 1)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} notebooks "
                f"· {rate:.1f}/s · {self.unusual} unusual"
            )
        else:
            self.stream.write(
                f"[{self.done}/{self.total}] {result.student_id} {result.assignment}: "
                f"{result.score:g}/{result.max_score:g} {result.status}\n"
            )
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done and self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()
