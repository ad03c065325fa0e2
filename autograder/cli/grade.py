"""``python -m autograder grade SUBMITTED_DIR --out OUT_DIR``: grade a whole class.

``SUBMITTED_DIR`` has nbgrader's layout, ``<student_id>/<assignment_id>/<notebook>.ipynb``
(an nbgrader ``submitted/`` folder works as it is).  Every student folder gets
one row per graded assignment, whatever its notebook holds or does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from autograder.checks import ASSIGNMENTS
from autograder.cli import positive_float, positive_int, seed
from autograder.grading import (
    SOLUTIONS,
    Assignment,
    SubmissionResult,
    grade_submission,
    load_assignment,
    passes_reference,
    preload_modules,
    unverified,
)
from autograder.report import feedback_html, grades_csv, report_html, results_json, write_atomic
from autograder.runner.confine import UNSAFE_OPTION
from autograder.runner.pool import Limits, Sandbox, SandboxPool


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "grade",
        help="grade every submission of a folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submitted_dir", type=Path, metavar="SUBMITTED_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="ID",
        help="grade only this assignment (repeatable; default: every known one submitted)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=min(os.cpu_count() or 1, 8),
        help="notebooks graded at once (default: the number of CPUs, at most 8)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=10.0, help="seconds per notebook (default 10)"
    )
    parser.add_argument(
        "--memory-mb", type=positive_int, default=1024, help="memory per notebook (default 1024)"
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        help="seed of the hidden inputs (default: random, recorded in results.json)",
    )
    parser.add_argument(
        "--solutions", type=Path, default=SOLUTIONS, help="the source notebooks' folder"
    )
    parser.add_argument(
        UNSAFE_OPTION,
        action="store_true",
        help="grade without the workers' view of the file system, where namespaces are "
        "refused: student code can then read the machine's files (solutions, other "
        "submissions, the grades); the report says so on its first screen",
    )
    parser.set_defaults(handler=lambda args: run(args, parser))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    submitted: Path = args.submitted_dir
    if not submitted.is_dir():
        parser.error(f"{submitted} is not a folder")
    if args.jobs > 64:
        parser.error("--jobs is at most 64")
    for assignment_id in args.assignment or ():
        if assignment_id not in ASSIGNMENTS:
            parser.error(f"unknown assignment {assignment_id!r}; known: {sorted(ASSIGNMENTS)}")
    out = args.out.resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"cannot write to {out}: {exc.strerror or exc}")
    students = sorted(
        p.name
        for p in submitted.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.resolve() != out
    )
    if args.assignment:
        ids = list(dict.fromkeys(args.assignment))
    else:
        found = {a.name for s in students for a in (submitted / s).iterdir() if a.is_dir()}
        ids = sorted(found & set(ASSIGNMENTS))
        for unknown in sorted(found - set(ASSIGNMENTS)):
            if not unknown.startswith("."):
                print(f"note: {unknown} is not a known assignment: not graded", file=sys.stderr)
    assignments = [load_assignment(i, args.solutions) for i in ids]
    limits = Limits(timeout=args.timeout, memory_mb=args.memory_mb)
    run_seed = args.seed if args.seed is not None else secrets.randbits(32)
    unsafe = getattr(args, UNSAFE_OPTION.lstrip("-").replace("-", "_"))
    try:
        summary = grade_class(
            submitted,
            out,
            students,
            assignments,
            limits,
            run_seed,
            args.jobs,
            sys.stderr,
            sandbox_options={"namespaces": not unsafe, "allow_no_view": unsafe},
        )
    except RuntimeError as exc:  # no worker process could start: nothing was graded
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"graded {summary['notebooks']} notebooks of {len(students)} students in "
        f"{summary['seconds']:.1f} s ({summary['per_second']:.1f} notebooks/s); "
        f"seed {run_seed}; results in {out}"
    )
    return 0


def grade_class(
    submitted: Path,
    out: Path,
    students: list[str],
    assignments: list[Assignment],
    limits: Limits,
    run_seed: int,
    jobs: int,
    progress_stream: TextIO,
    sandbox_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Grade every (student, assignment) pair and write all the outputs; return a summary.

    ``sandbox_options`` go to :class:`~autograder.runner.pool.Sandbox`; the submissions
    and the output folder are always among the paths the workers' view hides.
    """
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
    if pairs:
        with SandboxPool(
            min(jobs, len(pairs)),
            limits=limits,
            preload=preload_modules(assignments),
            # Only when every worker would import the reference anyway (see Sandbox).
            preload_reference=all(passes_reference(a) for a in assignments),
            hide=[submitted, out, *(a.data_dir.parent for a in assignments)],
            **(sandbox_options or {}),
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
    isolation = next((r.worker["isolation"] for r in results if r.worker.get("isolation")), {})
    run_info = {
        "seed": run_seed,
        "seed_rule": (
            "hidden inputs of check C for student S in assignment A come from "
            "numpy.random.default_rng([seed, h(S), h(A), h(C)]), h = first 8 bytes of SHA-256"
        ),
        "jobs": jobs,
        "limits": limits.__dict__,
        "seconds": round(seconds, 3),
        "notebooks": len(results),
        "isolation": isolation,
        "sandbox": {
            "run_id": run_id,
            "uids": sorted({r.worker["uid"] for r in results if r.worker.get("uid") is not None}),
            "unsafe_no_view": bool((sandbox_options or {}).get("allow_no_view")),
            **{k: v for k, v in ready.items() if k not in ("type", "pid", "uid")},
        },
    }
    write_atomic(out / "grades.csv", grades_csv(results, assignments))
    write_atomic(out / "results.json", results_json(results, assignments, run_info))
    write_atomic(out / "report.html", report_html(results, assignments, run_info))
    return {
        "notebooks": len(results),
        "seconds": seconds,
        "per_second": len(results) / seconds if seconds else 0.0,
        "statuses": Counter(r.status for r in results),
    }


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
    """A progress bar on a terminal; one plain line per notebook otherwise."""

    def __init__(self, total: int, stream: TextIO):
        self.total = total
        self.stream = stream
        self.done = 0
        self.unusual = 0
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.unusual += result.status not in ("ok", "missing")
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
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()
