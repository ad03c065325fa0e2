"""``python -m autograder grade SUBMITTED_DIR --out OUT_DIR``: grade a whole class.

``SUBMITTED_DIR`` has nbgrader's layout, ``<student_id>/<assignment_id>/<notebook>.ipynb``
(an nbgrader ``submitted/`` folder works as it is).  Every student folder gets
one row per graded assignment, whatever its notebook holds or does.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from autograder import course
from autograder.class_grading import (
    DEFAULT_JOBS,
    MAX_JOBS,
    UNSAFE_OPTION,
    Limits,
    grade_class,
    survey,
)
from autograder.cli import positive_float, positive_int, seed
from autograder.grading import load_assignment


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
        default=DEFAULT_JOBS,
        help=f"notebooks graded at once (default: the number of CPUs, at most 8; here "
        f"{DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=Limits.timeout,
        help=f"seconds per notebook (default {Limits.timeout:g})",
    )
    parser.add_argument(
        "--memory-mb",
        type=positive_int,
        default=Limits.memory_mb,
        help=f"memory per notebook (default {Limits.memory_mb})",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        help="seed of the hidden inputs (default: random, recorded in results.json)",
    )
    parser.add_argument(
        "--solutions", type=Path, default=course.SOLUTIONS, help="the source notebooks' folder"
    )
    parser.add_argument(
        UNSAFE_OPTION,
        dest="unsafe_no_view",
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
    if args.jobs > MAX_JOBS:
        parser.error(f"--jobs is at most {MAX_JOBS}")
    out = args.out.resolve()
    try:  # before anything is made: a usage error leaves no output folder behind
        found = survey(submitted, out, args.assignment)
    except KeyError as exc:
        parser.error(exc.args[0])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"cannot write to {out}: {exc.strerror or exc}")
    for unknown in found.unknown:
        print(f"note: {unknown} is not a known assignment: not graded", file=sys.stderr)
    assignments = [load_assignment(i, args.solutions) for i in found.assignment_ids]
    run_seed = args.seed if args.seed is not None else secrets.randbits(32)
    try:
        summary = grade_class(
            submitted,
            out,
            found.students,
            assignments,
            Limits(timeout=args.timeout, memory_mb=args.memory_mb),
            run_seed,
            args.jobs,
            sys.stderr,
            sandbox_options={
                "namespaces": not args.unsafe_no_view,
                "allow_no_view": args.unsafe_no_view,
            },
        )
    except RuntimeError as exc:  # no worker process could start: nothing was graded
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"graded {summary.notebooks} notebooks of {len(found.students)} students in "
        f"{summary.seconds:.1f} s ({summary.per_second:.1f} notebooks/s); "
        f"seed {run_seed}; results in {out}"
    )
    return 0
