"""Checks for chapter 2, softplus: ``softplus``, ``log_sigmoid`` and ``central_difference``."""

from __future__ import annotations

import numpy as np

from autograder import reference as ref
from autograder.checks.core import EXTREME_INPUTS, Case, Function, check, elementwise_cases

ASSIGNMENT = "02_softplus"


@check(exercise="softplus", points=1, visibility="visible", section="softplus-chapter")
def softplus_visible(rng: np.random.Generator) -> list[Case]:
    """``softplus`` at a few ordinary scalars: zeta(0) = log 2, and zeta(x) at ±1 and ±5."""
    return elementwise_cases(ref.softplus, [0.0, 1.0, -1.0, 5.0, -5.0])


@check(exercise="softplus", points=2, visibility="hidden", section="softplus-stable")
def softplus_hidden(rng: np.random.Generator) -> list[Case]:
    """``softplus`` on arrays, on extreme inputs up to |x| = 1e4 with floating-point
    warnings as errors (log(1 + e^x) overflows above x = 709.78), below x = -37 where the
    naive form returns 0, and in float32."""
    inputs = [
        EXTREME_INPUTS,
        rng.normal(0.0, 5.0, size=(4, 5)),
        rng.uniform(-800.0, 800.0, size=64),
        -rng.uniform(37.0, 700.0, size=16),
        rng.normal(0.0, 30.0, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.softplus, inputs)


@check(exercise="log_sigmoid", points=1, visibility="visible", section="softplus-chapter")
def log_sigmoid_visible(rng: np.random.Generator) -> list[Case]:
    """``log_sigmoid`` at a few ordinary scalars: log sigma(0) = -log 2, and
    log sigma(x) = -zeta(-x) at ±1 and ±5."""
    return elementwise_cases(ref.log_sigmoid, [0.0, 1.0, -1.0, 5.0, -5.0])


@check(exercise="log_sigmoid", points=2, visibility="hidden", section="softplus-stable")
def log_sigmoid_hidden(rng: np.random.Generator) -> list[Case]:
    """``log_sigmoid`` on arrays and extreme inputs (log(sigma(x)) is log 0 = -inf for
    x < -745 and 0 instead of about -e^-x above x = 37), and in float32."""
    inputs = [
        EXTREME_INPUTS,
        rng.uniform(-800.0, 800.0, size=(8, 8)),
        rng.uniform(37.0, 700.0, size=16),
        rng.normal(0.0, 30.0, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.log_sigmoid, inputs)


def _derivative_cases(points: list[tuple[str, str, np.ndarray]]) -> list[Case]:
    # A central difference with a well-chosen step delta is good to about 1e-10 relatively;
    # 1e-6 leaves room for any reasonable step and fails a forward difference or a bad delta.
    return [
        Case(
            args=(Function(f), x),
            expected=getattr(ref, derivative)(x),
            rtol=1e-6,
            atol=1e-12,
        )
        for f, derivative, x in points
    ]


@check(exercise="central_difference", points=1, visibility="visible", section="softplus-step")
def central_difference_visible(rng: np.random.Generator) -> list[Case]:
    """``central_difference(softplus, x)`` estimates zeta'(x) = sigma(x) at x = 0, 1 and -3."""
    return _derivative_cases([("softplus", "sigmoid", np.float64(x)) for x in (0.0, 1.0, -3.0)])


@check(exercise="central_difference", points=2, visibility="hidden", section="softplus-step")
def central_difference_hidden(rng: np.random.Generator) -> list[Case]:
    """``central_difference`` on arrays of points from -20 to 20 and out to |x| = 1e3 (a
    fixed step delta too small for large |x| is lost to rounding), for softplus
    (zeta' = sigma) and for sigmoid (sigma' = sigma(1 - sigma))."""
    return _derivative_cases(
        [
            ("softplus", "sigmoid", rng.uniform(-20.0, 20.0, size=12)),
            ("softplus", "sigmoid", rng.uniform(100.0, 1000.0, size=6)),
            ("sigmoid", "sigmoid_grad", rng.uniform(-8.0, 8.0, size=12)),
        ]
    )


CHECKS = [
    softplus_visible,
    softplus_hidden,
    log_sigmoid_visible,
    log_sigmoid_hidden,
    central_difference_visible,
    central_difference_hidden,
]
