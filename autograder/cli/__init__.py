"""The verbs of ``python -m autograder``, one module each: ``grade``, ``check``, ``gradescope``,
``prairielearn`` and ``similarity``.

Each module has ``add_parser(subparsers)``, which declares the verb's options (their
defaults taken from the library: ``Limits``, ``DEFAULT_JOBS``) and sets ``handler``,
the function that carries it out and returns the exit status.  They parse arguments
and print; the work is done by :mod:`autograder.class_grading`,
:mod:`autograder.self_check`, :mod:`autograder.gradescope`, :mod:`autograder.prairielearn`
and :mod:`autograder.similarity`, and none of them
imports the runner (a test checks).  This module holds the argument types they share.
"""

from __future__ import annotations

import argparse


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, not {text}")
    return value
