"""``python -m autograder``: grade a class, check one notebook, export the grader to Gradescope
or PrairieLearn, or rank submissions by similarity.

One module per verb in :mod:`autograder.cli`; each adds its sub-command to the
parser and runs it.  Exit status: 0 when the verb completed (whatever the
scores), 2 for a usage error; ``check`` also returns 1 when a visible check fails.
"""

from __future__ import annotations

import argparse
import sys

from autograder.cli import check, grade, gradescope, prairielearn, similarity


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="The course's grader: fast, sandboxed, and agreeing with nbgrader.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in (grade, check, gradescope, prairielearn, similarity):
        module.add_parser(verbs)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
