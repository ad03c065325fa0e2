"""Grading a whole class: every (student, assignment) pair, in parallel, and every output.

:func:`grade_class` is what ``python -m autograder grade`` does once it has read its
options: it opens the sandboxes (:func:`autograder.grading.open_sandboxes`), grades each
submission (:func:`autograder.grading.grade_submission`), writes each student's feedback
as soon as it is graded, then ``grades.csv``, ``results.json`` and ``report.html``.  A
bug of the grader's on one submission costs that row only (status ``grader-error``).
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from autograder.checks import ASSIGNMENTS
from autograder.gradebook import (
    LatePolicy,
    Roster,
    canvas_csv,
    final_scores,
    generic_csv,
    late_rows,
)
from autograder.grading import (
    Assignment,
    SubmissionResult,
    grade_submission,
    open_sandboxes,
    unverified,
)
from autograder.regrade import compare_runs, regrade_csv, regrade_html
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
    """What a run did, for the command to print: with the lists a person must look at."""

    notebooks: int
    seconds: float
    statuses: Counter
    lists: dict[str, list[str]] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.notebooks / self.seconds if self.seconds else 0.0


@dataclass
class Policies:
    """What a run's scores become for a course: a late policy against a due date, an LMS
    gradebook from a roster, and a comparison with an earlier run (each optional)."""

    due: datetime | None = None
    late: LatePolicy | None = None
    roster: Roster | None = None
    previous: list[SubmissionResult] | None = None


class GradingInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped a run; every row graded until then was kept and written."""

    def __init__(self, done: int, total: int, signal_name: str):
        super().__init__(f"{signal_name} after {done} of {total} notebooks")
        self.done, self.total, self.signal_name = done, total, signal_name


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the run stops and keeps what it graded."""


#: Under the output folder: one file per graded row, written as soon as it is graded, and the
#: run's state (its seed, what it grades, whether it finished), for --resume.
ROWS, RUN_STATE = "rows", "run.json"


def row_path(out: Path, student: str, assignment_id: str) -> Path:
    return out / ROWS / student / f"{assignment_id}.json"


def read_run_state(out: Path) -> dict[str, Any]:
    """The state an earlier run left in ``out``; ValueError says why it cannot be resumed."""
    path = out / RUN_STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{out} holds no run to resume (no {RUN_STATE})") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} cannot be read ({error})") from None
    if not isinstance(state, dict) or not isinstance(state.get("seed"), int):
        raise ValueError(f"{path} is not a run state of this grader")
    return state


def kept_rows(out: Path, students: list[str], assignments: list[Assignment]) -> dict:
    """The rows an earlier run of the same class kept, by (student, assignment id)."""
    kept = {}
    for student in students:
        for assignment in assignments:
            path = row_path(out, student, assignment.id)
            try:
                kept[(student, assignment.id)] = SubmissionResult.from_json(
                    json.loads(path.read_text(encoding="utf-8"))
                )
            except (OSError, ValueError, TypeError, KeyError):
                pass  # missing or cut short: graded again
    return kept


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
    policies: Policies | None = None,
    resume: bool = False,
) -> Summary:
    """Grade every (student, assignment) pair and write all the outputs.

    Each row is written to ``out/rows/`` as soon as it is graded, with its feedback, and
    ``out/run.json`` says whether the run finished.  With ``resume``, the rows an earlier
    run kept there are read back and only the others are graded.  ``sandbox_options`` go
    to every :class:`~autograder.runner.pool.Sandbox`; the submissions and the output
    folder are always among what the workers' view hides.

    Raises
    ------
    RuntimeError
        No sandbox could start (nothing was graded then).
    GradingInterrupted
        Ctrl-C or SIGTERM stopped the run: the outputs were written from the rows graded
        so far, marked incomplete, and ``--resume`` grades the rest.
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be between 1 and {MAX_JOBS}")
    policies = policies or Policies()
    kept = kept_rows(out, students, assignments) if resume else {}
    pairs = [(s, a) for s in students for a in assignments if (s, a.id) not in kept]
    total = len(kept) + len(pairs)
    state = {
        "seed": run_seed,
        "assignments": [a.id for a in assignments],
        "students": len(students),
        "notebooks": total,
        "state": "running",
    }
    write_atomic(out / RUN_STATE, json.dumps(state, indent=1) + "\n")
    progress = Progress(len(pairs), progress_stream)
    started = time.monotonic()
    results: list[SubmissionResult] = list(kept.values())

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
    interrupted = None
    previous_handler = _on_sigterm_raise()
    try:
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
                    if isinstance(result, Exception):  # grader_error failed too: still a row
                        result = grader_error(student, assignment, repr(result))
                    # The row's file last: once it is there, the row counts as graded.
                    write_atomic(
                        out / "feedback" / student / f"{assignment.id}.html",
                        feedback_html(result, assignment),
                    )
                    write_atomic(
                        row_path(out, student, assignment.id),
                        json.dumps(result.to_json(), allow_nan=False, default=str),
                    )
                    results.append(result)
                    progress.update(result)
    except KeyboardInterrupt as stop:
        interrupted = "SIGTERM" if isinstance(stop, _Terminated) else "Ctrl-C"
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        progress.close()
    if interrupted:  # the rows on disk are what was graded (the stop may fall between the two)
        results = list(kept_rows(out, students, assignments).values())
    seconds = time.monotonic() - started
    isolation = next((r.worker.isolation for r in results if r.worker.isolation), {})
    state["state"] = "interrupted" if interrupted else "complete"
    run_info = {
        "seed": run_seed,
        "seed_rule": SEED_RULE,
        "jobs": jobs,
        "limits": asdict(limits),
        "seconds": round(seconds, 3),
        "notebooks": len(results),
        "complete": not interrupted,
        "resumed_rows": len(kept),
        "isolation": isolation,
        "sandbox": {
            "run_id": run_id,
            "uids": sorted({r.worker.uid for r in results if r.worker.uid is not None}),
            "unsafe_no_view": bool(options.get("allow_no_view")),
            **{k: v for k, v in ready.items() if k not in ("type", "pid", "uid")},
        },
    }
    lists = write_outputs(submitted, out, results, assignments, run_info, policies)
    write_atomic(out / RUN_STATE, json.dumps(state, indent=1) + "\n")
    if interrupted:
        raise GradingInterrupted(len(results), total, interrupted)
    return Summary(len(results), seconds, Counter(r.status for r in results), lists)


def _on_sigterm_raise():
    """Make SIGTERM stop the run as Ctrl-C does (in the main thread); return the old handler."""

    def terminated(signum, frame):
        raise _Terminated()

    try:
        return signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread: leave SIGTERM as it is
        return signal.getsignal(signal.SIGTERM)


def write_outputs(
    submitted: Path,
    out: Path,
    results: list[SubmissionResult],
    assignments: list[Assignment],
    run_info: dict[str, Any],
    policies: Policies,
) -> dict[str, list[str]]:
    """grades.csv, results.json, report.html, the gradebooks and the regrade; return the
    lists a person must look at (roster students without submissions, and so on)."""
    lists: dict[str, list[str]] = {}
    late = None
    if policies.late is not None and policies.due is not None:
        late = late_rows(results, submitted, policies.due, policies.late)
        run_info["late_policy"] = {
            "due": policies.due.isoformat(),
            "policy": asdict(policies.late) | {"cutoff": str(policies.late.cutoff or "")},
            "rows": {f"{s}/{a}": asdict(row) for (s, a), row in sorted(late.items())},
        }
        lists["not judged late"] = sorted(
            f"{s} {a}: {row.note}" for (s, a), row in late.items() if row.note
        )
    scores = final_scores(results, late)
    ids = [a.id for a in assignments]
    write_atomic(out / "grades.csv", grades_csv(results, assignments, late))
    write_atomic(out / "gradebook.csv", generic_csv(results, ids, scores))
    if policies.roster is not None:
        canvas = canvas_csv(
            policies.roster, results, [(a.id, a.max_score) for a in assignments], scores
        )
        write_atomic(out / "canvas.csv", canvas.text)
        lists["on the roster, without a graded submission"] = canvas.without_submission
        lists[f"graded, not on the roster (matched by {canvas.key})"] = canvas.not_in_roster
        lists["roster columns left out of canvas.csv"] = policies.roster.ignored
    write_atomic(out / "results.json", results_json(results, assignments, run_info))
    write_atomic(out / "report.html", report_html(results, assignments, run_info))
    if policies.previous is not None:
        changes = compare_runs(policies.previous, results)
        write_atomic(out / "regrade.csv", regrade_csv(changes))
        write_atomic(out / "regrade.html", regrade_html(changes, len(results)))
        lists["changed since the earlier run"] = [
            f"{c.student_id} {c.assignment}: {c.delta:+g}" for c in changes
        ]
    return {name: entries for name, entries in lists.items() if entries}


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
