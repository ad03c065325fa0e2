"""``python -m autograder similarity SUBMITTED_DIR --assignment ID --out DIR``: alike pairs.

Ranks every pair of students by how much of their own code (the released template
removed, names and strings made alike) lies in passages both notebooks hold, and
writes ``similarity.csv`` (one row per pair) and ``similarity.html`` (the pairs above
the threshold side by side, and a histogram of every pair's score).  A high score is
a reason to read two notebooks, not a verdict: short exercises look alike by nature.
A missing or unreadable notebook is listed with its reason; it never stops the run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import course
from autograder.similarity import DEFAULT_THRESHOLD, SimilarityError, rank, write_reports


def threshold(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a score from 0 to 1, not {text}")
    return value


def add_parser(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "similarity",
        help="rank pairs of submissions whose own code is unusually alike",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submitted_dir", type=Path, metavar="SUBMITTED_DIR")
    parser.add_argument("--assignment", required=True, metavar="ID", help="e.g. 01_sigmoid")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="where to write")
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        help=f"report pairs scoring above this side by side (default {DEFAULT_THRESHOLD:g}, "
        "calibrated on a generated class)",
    )
    parser.add_argument(
        "--chapters", type=Path, default=course.CHAPTERS, help="the released notebooks' folder"
    )
    parser.set_defaults(handler=lambda args: run(args, parser))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    submitted: Path = args.submitted_dir
    if not submitted.is_dir():
        parser.error(f"{submitted} is not a folder")
    try:
        result = rank(
            submitted,
            args.assignment,
            args.threshold,
            chapters=args.chapters,
            exclude=args.out,
        )
    except SimilarityError as exc:
        parser.error(str(exc))
    try:
        paths = write_reports(result, args.out)
    except OSError as exc:
        parser.error(f"cannot write to {args.out}: {exc.strerror or exc}")
    for problem in result.problems:
        print(
            f"not compared: {problem.student}: {problem.status}: {problem.message}", file=sys.stderr
        )
    print(
        f"compared {len(result.submissions)} notebooks ({len(result.pairs)} pairs); "
        f"{len(result.flagged)} above {result.threshold:g}; "
        f"{len(result.problems)} not compared; wrote {', '.join(str(p) for p in paths)}"
    )
    for pair in result.flagged[:20]:
        print(f"  {pair.score:.2f}  {pair.student_a}  {pair.student_b}")
    return 0
