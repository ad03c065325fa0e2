"""``python -m autograder grade SUBMITTED_DIR --out OUT_DIR``: grade a whole class.

``SUBMITTED_DIR`` has nbgrader's layout, ``<student_id>/<assignment_id>/<notebook>.ipynb``
(an nbgrader ``submitted/`` folder works as it is).  Every student folder gets
one row per graded assignment, whatever its notebook holds or does.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
from pathlib import Path

from autograder import course
from autograder.class_grading import (
    DEFAULT_JOBS,
    MAX_JOBS,
    UNSAFE_OPTION,
    GradingInterrupted,
    Limits,
    Policies,
    grade_class,
    read_run_state,
    survey,
)
from autograder.cli import positive_float, positive_int, seed
from autograder.gradebook import GradebookError, LatePolicy, Roster, parse_time
from autograder.grading import load_assignment
from autograder.regrade import RegradeError, read_previous


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "grade",
        help="grade every submission of a folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submitted_dir", type=Path, metavar="SUBMITTED_DIR")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="OUT_DIR", help="where to write the results")
    where.add_argument(
        "--resume",
        type=Path,
        metavar="OUT_DIR",
        help="finish an interrupted run: grade only what OUT_DIR lacks, with its seed",
    )
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
        "--due",
        metavar="WHEN",
        help="the due date (ISO 8601, e.g. 2026-12-10T23:59; no timezone: UTC), for a late policy",
    )
    parser.add_argument(
        "--late-policy",
        metavar="POLICY",
        help="per-day:PERCENT[:CAP] (of the points, per started day late, at most CAP), or "
        "zero-after:WHEN; judged from nbgrader's timestamp.txt of each submission",
    )
    parser.add_argument(
        "--lms",
        choices=["canvas"],
        help="also write the LMS's gradebook (canvas.csv, from --roster); gradebook.csv, a "
        "generic one, is always written",
    )
    parser.add_argument(
        "--roster",
        type=Path,
        metavar="ROSTER.csv",
        help="the gradebook exported from the LMS (Canvas: Grades > Export Entire Gradebook)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="OLD_OUT_DIR",
        help="an earlier run's output: write regrade.csv and regrade.html (what changed, why)",
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
    out = (args.resume or args.out).resolve()
    run_seed, wanted = args.seed, args.assignment
    if args.resume:
        try:
            state = read_run_state(out)
        except ValueError as exc:
            parser.error(str(exc))
        if run_seed is not None and run_seed != state["seed"]:
            parser.error(
                f"--seed {run_seed} is not the seed of the run to resume ({state['seed']})"
            )
        run_seed, wanted = state["seed"], wanted or state.get("assignments")
    try:  # before anything is made: a usage error leaves no output folder behind
        found = survey(submitted, out, wanted)
        policies = read_policies(args)
    except (KeyError, GradebookError, RegradeError) as exc:
        parser.error(exc.args[0])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"cannot write to {out}: {exc.strerror or exc}")
    for unknown in found.unknown:
        print(f"note: {unknown} is not a known assignment: not graded", file=sys.stderr)
    assignments = [load_assignment(i, args.solutions) for i in found.assignment_ids]
    run_seed = run_seed if run_seed is not None else secrets.randbits(32)
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
            policies=policies,
            resume=bool(args.resume),
        )
    except RuntimeError as exc:  # no worker process could start: nothing was graded
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except GradingInterrupted as stop:
        command = shlex.join(["python", "-m", "autograder", "grade", str(submitted)])
        print(
            f"\n{stop.signal_name}: stopped after {stop.done} of {stop.total} notebooks, each "
            f"graded one kept in {out} (marked incomplete); to grade the rest with the same "
            f"seed: {command} --resume {shlex.quote(str(out))}",
            file=sys.stderr,
        )
        return 130 if stop.signal_name == "Ctrl-C" else 143
    print(
        f"graded {summary.notebooks} notebooks of {len(found.students)} students in "
        f"{summary.seconds:.1f} s ({summary.per_second:.1f} notebooks/s); "
        f"seed {run_seed}; results in {out}"
    )
    for title, entries in summary.lists.items():
        print(f"{title} ({len(entries)}):", file=sys.stderr)
        for entry in entries[:50]:
            print(f"  {entry}", file=sys.stderr)
        if len(entries) > 50:
            print(f"  ... and {len(entries) - 50} more (see the outputs)", file=sys.stderr)
    return 0


def read_policies(args: argparse.Namespace) -> Policies:
    """The due date, late policy, roster and earlier run the options name, read and checked."""
    if bool(args.due) != bool(args.late_policy):
        raise GradebookError("--due and --late-policy go together")
    if bool(args.lms) != bool(args.roster):
        raise GradebookError("--lms and --roster go together")
    try:
        due = parse_time(args.due) if args.due else None
    except ValueError:
        raise GradebookError(
            f"--due {args.due!r} is not a date and time (e.g. 2026-12-10T23:59)"
        ) from None
    return Policies(
        due=due,
        late=LatePolicy.parse(args.late_policy) if args.late_policy else None,
        roster=Roster.read(args.roster) if args.roster else None,
        previous=read_previous(args.previous) if args.previous else None,
    )
