"""Checks for chapter 1, the sigmoid: ``sigmoid``, ``sigmoid_grad`` and ``logit``."""

from __future__ import annotations

import numpy as np

from autograder import reference as ref
from autograder.checks.core import EXTREME_INPUTS, Case, check, elementwise_cases

ASSIGNMENT = "01_sigmoid"


@check(exercise="sigmoid", points=1, visibility="visible", section="sigmoid-chapter")
def sigmoid_visible(rng: np.random.Generator) -> list[Case]:
    """``sigmoid`` at a few ordinary scalars: sigma(0) = 1/2, and sigma(x) at ±2 and ±10."""
    return elementwise_cases(ref.sigmoid, [0.0, 2.0, -2.0, 10.0, -10.0])


@check(exercise="sigmoid", points=2, visibility="hidden", section="sigmoid-stable")
def sigmoid_hidden(rng: np.random.Generator) -> list[Case]:
    """``sigmoid`` on arrays of several shapes, on extreme inputs up to |x| = 1e4 with
    floating-point warnings as errors (the textbook 1 / (1 + e^-x) overflows below
    x = -709.78), and in float32."""
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
    """``sigmoid_grad`` at a few ordinary scalars: sigma'(0) = 1/4 (the maximum), ±1 and ±5."""
    return elementwise_cases(ref.sigmoid_grad, [0.0, 1.0, -1.0, 5.0, -5.0])


@check(exercise="sigmoid_grad", points=2, visibility="hidden", section="sigmoid-grad-numerics")
def sigmoid_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``sigmoid_grad`` on arrays, including saturated inputs such as x = 40, where
    q(1 - q) with q = sigma(x) rounds to 0 but sigma'(x) is 4.2e-18, and float32."""
    inputs = [
        EXTREME_INPUTS,
        rng.normal(0.0, 5.0, size=(3, 7)),
        rng.uniform(36.0, 700.0, size=32) * rng.choice([-1.0, 1.0], size=32),
        rng.normal(0.0, 20.0, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.sigmoid_grad, inputs)


#: How close a logit must be, relatively: a few units in the last place. 2e-15 is 9 units of
#: float64's machine epsilon 2**-52, 1e-6 is 8 of float32's 2**-23. The accurate form
#: 2 artanh(2p - 1) is within 2 of them; the textbook log(p / (1 - p)) is 50 % off at the
#: float just below 1/2 and around 1e-12 off at |p - 1/2| = 1e-6, as is log(p) - log1p(-p).
LOGIT_TOLERANCES = {"rtol": 2e-15, "rtol32": 1e-6}


def floats_next_to_half(dtype: type, count: int) -> np.ndarray:
    """1/2 and the ``count`` floats of ``dtype`` on either side of it."""
    half = dtype(0.5)
    below, above = [half], [half]
    for _ in range(count):
        below.append(np.nextafter(below[-1], dtype(0)))
        above.append(np.nextafter(above[-1], dtype(1)))
    return np.array(below[:0:-1] + above, dtype=dtype)


@check(exercise="logit", points=1, visibility="visible", section="sigmoid-logit")
def logit_visible(rng: np.random.Generator) -> list[Case]:
    """``logit`` at 0.5, 0.1, 0.9 and 0.999, and at two probabilities next to 1/2 where
    logit(p) is tiny: 0.500001 and 0.49999999999999994, the float just below 1/2. Each
    answer must be right to a relative 2e-15, a few units in the last place."""
    below_half = float(np.nextafter(0.5, 0.0))
    return elementwise_cases(
        ref.logit, [0.5, 0.1, 0.9, 0.999, 0.500001, below_half], **LOGIT_TOLERANCES
    )


@check(exercise="logit", points=2, visibility="hidden", section="sigmoid-logit")
def logit_hidden(rng: np.random.Generator) -> list[Case]:
    """``logit`` on arrays of probabilities from 1e-300 to 1 - 2^-53, inverting the
    reference sigmoid, within a few floats of 1/2, at 1/2 ± 10^-k for k = 1, ..., 16 and at
    random distances from 1/2, across (1/4, 3/4), and in float32, to a relative 2e-15 (1e-6
    in float32): where logit(p) is tiny, log(p / (1 - p)) loses most of its digits."""
    extreme_p = np.array([1e-300, 1e-100, 1e-8, 0.25, 0.75, 1.0 - 1e-8, 1.0 - 2.0**-53])
    powers = 10.0 ** -np.arange(1, 17)
    sign = rng.choice([-1.0, 1.0], size=32)
    inputs = [
        extreme_p,
        ref.sigmoid(rng.uniform(-30.0, 30.0, size=(5, 6))),
        floats_next_to_half(np.float64, 4),
        np.concatenate([0.5 - powers, 0.5 + powers]),
        0.5 + sign * 10.0 ** -rng.uniform(1.0, 16.0, size=32),
        rng.uniform(0.25, 0.75, size=32),
        floats_next_to_half(np.float32, 4),
        (0.5 + sign[:16] * 10.0 ** -rng.uniform(1.0, 7.5, size=16)).astype(np.float32),
        rng.uniform(0.01, 0.99, size=16).astype(np.float32),
    ]
    return elementwise_cases(ref.logit, inputs, **LOGIT_TOLERANCES)


CHECKS = [
    sigmoid_visible,
    sigmoid_hidden,
    sigmoid_grad_visible,
    sigmoid_grad_hidden,
    logit_visible,
    logit_hidden,
]
