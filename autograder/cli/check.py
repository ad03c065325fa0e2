"""``python -m autograder check NOTEBOOK.ipynb``: a student's check before submitting.

Runs the saved notebook as grading does (in order, in a sandbox), then the
*visible* checks only.  For each failure it prints the smallest failing input
it found, what was expected and what came back, and the chapter section to
reread.  From Jupyter, save the notebook, then run a cell holding::

    !{sys.executable} -m autograder check sigmoid_exercise.ipynb
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograder import course
from autograder.cli import positive_float
from autograder.grading import Limits
from autograder.self_check import CheckRefused, check


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "check",
        help="run the visible checks on one notebook, with hints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("notebook", type=Path, metavar="NOTEBOOK.ipynb")
    parser.add_argument(
        "--assignment", metavar="ID", help="the assignment (default: found from the file name)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=Limits.timeout,
        help=f"seconds (default {Limits.timeout:g})",
    )
    parser.add_argument("--solutions", type=Path, default=course.SOLUTIONS, help=argparse.SUPPRESS)
    parser.set_defaults(handler=lambda args: run(args, parser))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    started = time.monotonic()
    try:
        report = check(args.notebook, args.assignment, Limits(timeout=args.timeout), args.solutions)
    except CheckRefused as exc:
        parser.error(str(exc))
    except RuntimeError as exc:  # the sandbox could not start: nothing was checked
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.text())
    print(f"(checked in {time.monotonic() - started:.2f} s)")
    return 0 if report.passed == report.total else 1
