"""Which package a module belongs to: one rule for every place that asks.

The grading package must not be imported by student code; the static scan of a
notebook, the zygote, the worker's audit hook and its last look at
``sys.modules`` all ask the same question with :func:`belongs_to`.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The grading package itself (this file's package), which student code must not import.
GRADING_PACKAGE = __name__.split(".")[0]


def belongs_to(module: str, packages: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``packages`` or a submodule of one.

    >>> belongs_to("autograder.reference", ["autograder"])
    True
    >>> belongs_to("autograders", ["autograder"])
    False
    """
    return any(module == p or module.startswith(p + ".") for p in packages)
