"""Checks for chapter 1, the sigmoid: ``sigmoid``, ``sigmoid_grad`` and ``logit``."""

from __future__ import annotations

import numpy as np

from autograder import reference as ref
from autograder.checks.core import EXTREME_INPUTS, Case, check, elementwise_cases

ASSIGNMENT = "01_sigmoid"


@check(exercise="sigmoid", points=1, visibility="visible", section="sigmoid-chapter")
def sigmoid_visible(rng: np.random.Generator) -> list[Case]:
    """``sigmoid`` at a few ordinary scalars: 0, ±2 and ±10."""
    return elementwise_cases(ref.sigmoid, [0.0, 2.0, -2.0, 10.0, -10.0])


@check(exercise="sigmoid", points=2, visibility="hidden", section="sigmoid-stable")
def sigmoid_hidden(rng: np.random.Generator) -> list[Case]:
    """``sigmoid`` on arrays of several shapes, on extreme inputs up to |x| = 1e4 with
    floating-point warnings as errors (the textbook formula overflows), and in float32."""
    inputs = [
        EXTREME_INPUTS,
        rng.normal(0.0, 5.0, size=(4, 5)),
        rng.uniform(-800.0, 800.0, size=64),
        rng.normal(0.0, 30.0, size=16).astype(np.float32),
        np.float64(rng.uniform(-750.0, -710.0)),
    ]
    return elementwise_cases(ref.sigmoid, inputs)


@check(exercise="sigmoid_grad", points=1, visibility="visible", section="sigmoid-derivative")
def sigmoid_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``sigmoid_grad`` at a few ordinary scalars: 0 (the maximum, 1/4), ±1 and ±5."""
    return elementwise_cases(ref.sigmoid_grad, [0.0, 1.0, -1.0, 5.0, -5.0])


@check(exercise="sigmoid_grad", points=2, visibility="hidden", section="sigmoid-grad-numerics")
def sigmoid_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``sigmoid_grad`` on arrays, including saturated inputs such as x = 40 where
    sigma(1 - sigma) rounds to 0 but the derivative is 4.2e-18, and float32."""
    inputs = [
        EXTREME_INPUTS,
        rng.normal(0.0, 5.0, size=(3, 7)),
        rng.uniform(36.0, 700.0, size=32) * rng.choice([-1.0, 1.0], size=32),
        rng.normal(0.0, 20.0, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.sigmoid_grad, inputs)


@check(exercise="logit", points=1, visibility="visible", section="sigmoid-logit")
def logit_visible(rng: np.random.Generator) -> list[Case]:
    """``logit`` at a few probabilities: 0.5, 0.1, 0.9 and 0.999."""
    return elementwise_cases(ref.logit, [0.5, 0.1, 0.9, 0.999])


@check(exercise="logit", points=2, visibility="hidden", section="sigmoid-logit")
def logit_hidden(rng: np.random.Generator) -> list[Case]:
    """``logit`` on arrays of probabilities from 1e-300 to 1 - 1e-16, inverting the
    reference sigmoid, and in float32."""
    extreme_p = np.array([1e-300, 1e-100, 1e-8, 0.25, 0.75, 1.0 - 1e-8, 1.0 - 2.0**-53])
    inputs = [
        extreme_p,
        ref.sigmoid(rng.uniform(-30.0, 30.0, size=(5, 6))),
        rng.uniform(0.0001, 0.4999, size=32),
        rng.uniform(0.01, 0.49, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.logit, inputs)


CHECKS = [
    sigmoid_visible,
    sigmoid_hidden,
    sigmoid_grad_visible,
    sigmoid_grad_hidden,
    logit_visible,
    logit_hidden,
]
