"""``python -m autograder gradescope ASSIGNMENT_ID --out autograder.zip``: a Gradescope autograder.

Upload the zip as the assignment's autograder ("Zip file upload"), on a base
image with Python 3.11 or newer.  Each submission is graded by this grader;
hidden checks appear to students after the due date, with a generic message.
Inside Gradescope, ``run_autograder`` calls this verb with ``--run``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.checks import ASSIGNMENTS
from autograder.cli import positive_float
from autograder.gradescope import DEFAULT_ROOT, build_zip, run
from autograder.grading import Limits


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "gradescope",
        help="build a Gradescope autograder for an assignment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment", metavar="ASSIGNMENT_ID")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, help="the zip to write")
    what.add_argument(
        "--run", action="store_true", help="grade the submission in ROOT (inside Gradescope)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT)),
        help="with --run: Gradescope's folder (default $AUTOGRADER_ROOT or /autograder)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=Limits.timeout,
        help=f"with --run: seconds (default {Limits.timeout:g})",
    )
    parser.set_defaults(handler=lambda args: execute(args, parser))


def execute(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.assignment not in ASSIGNMENTS:
        parser.error(f"unknown assignment {args.assignment!r}; known: {sorted(ASSIGNMENTS)}")
    if args.run:
        try:
            results = run(args.assignment, args.root, Limits(timeout=args.timeout))
        except RuntimeError as exc:  # the sandbox could not start: nothing was graded
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"score {results['score']:g}: {results['output'].splitlines()[0]}")
        return 0
    names = build_zip(args.assignment, args.out)
    print(f"wrote {args.out} ({len(names)} files): the autograder of {args.assignment}")
    return 0
