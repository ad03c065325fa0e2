"""``python -m autograder prairielearn ASSIGNMENT_ID --out DIR``: a PrairieLearn question.

DIR becomes an externally graded question (put it under your course's ``questions/``):
``info.json``, ``question.html`` (a file upload for the notebook, the grader's results)
and ``tests/``, which holds this grader and its entry point ``tests/run_autograder``.
PrairieLearn shows every test at once: hidden checks give their name, their points and
a generic message.  Inside PrairieLearn, the entry point calls this verb with ``--run``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.checks import ASSIGNMENTS
from autograder.cli import positive_float
from autograder.grading import Limits
from autograder.prairielearn import (
    DEFAULT_IMAGE,
    DEFAULT_ROOT,
    QuestionRefused,
    run,
    write_question,
)


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "prairielearn",
        help="write a PrairieLearn question that grades an assignment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment", metavar="ASSIGNMENT_ID")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, metavar="DIR", help="the question's folder to write")
    what.add_argument(
        "--run", action="store_true", help="grade the submission in ROOT (inside PrairieLearn)"
    )
    parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help=f"with --out: the Docker image to grade in (default {DEFAULT_IMAGE})",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("GRADE_ROOT", DEFAULT_ROOT)),
        help=f"with --run: the grading job's folder (default $GRADE_ROOT or {DEFAULT_ROOT})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=Limits.timeout,
        help=f"with --run: seconds for the notebook (default {Limits.timeout:g})",
    )
    parser.add_argument(
        "--no-view",
        dest="view",
        action="store_false",
        help="with --run: do not try the workers' view, as where the container refuses "
        "namespaces (grading falls back to this by itself there)",
    )
    parser.set_defaults(handler=lambda args: execute(args, parser))


def execute(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.assignment not in ASSIGNMENTS:
        parser.error(f"unknown assignment {args.assignment!r}; known: {sorted(ASSIGNMENTS)}")
    if args.run:
        if not args.root.is_dir():
            parser.error(f"{args.root} is not a grading job's folder")
        try:
            results = run(args.assignment, args.root, Limits(timeout=args.timeout), view=args.view)
        except RuntimeError as exc:  # the sandbox could not start: nothing was graded
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if results["gradable"]:
            print(f"score {results['score']:.4g}: {results['message']}")
        else:
            print(f"not gradable: {results['format_errors'][0]}")
        return 0
    try:
        names = write_question(args.assignment, args.out, image=args.image)
    except QuestionRefused as exc:
        parser.error(str(exc))
    print(f"wrote {args.out} ({len(names)} files): the PrairieLearn question of {args.assignment}")
    return 0
