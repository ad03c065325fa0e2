"""Checks for chapter 1, the sigmoid: ``sigmoid``, ``sigmoid_grad`` and ``logit``; the
predicted thresholds where the sigmoid breaks in a floating-point format; and the derived
``sigmoid_second_derivative``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder import reference as ref
from autograder.checks.core import (
    EXTREME_INPUTS,
    Case,
    Mismatch,
    check,
    elementwise_cases,
)

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


# ------------------------------------------------------------- predict: where it breaks

#: The worked example's format, float16: 11 significant bits, exponents from -14 to 15.
FLOAT16 = {"p": 11, "e_min": -14, "e_max": 15}
#: What each of the three predicted numbers is, in the order of the answer.
THRESHOLD_NAMES = (
    "the x below which 1 / (1 + e^-x) overflows",
    "the x from which the stable sigma(x) is exactly 1",
    "the x below which the stable sigma(x) is exactly 0",
)
#: How close each predicted threshold must be: two decimals, far below the ln 2 = 0.69 that
#: one bit more or less (the smallest subnormal instead of half of it, say) would move it.
THRESHOLD_ATOL = 0.01


def sigmoid_thresholds_of(p: int, e_min: int, e_max: int) -> np.ndarray:
    """Where the sigmoid breaks in a binary format with ``p`` significant bits and exponents
    from ``e_min`` to ``e_max`` (the floating-point appendix's fp-epsilon):

    - ``1 / (1 + e^-x)`` overflows once e^-x exceeds the largest float (2 - 2^(1-p)) 2^e_max,
      that is for x < -log of it (fp-overflow);
    - the stable sigma(x) = 1 / (1 + r), r = e^-x, is exactly 1 once 1 + r rounds to 1, that
      is once r <= u = 2^-p (the tie goes to the even neighbour 1): from x = p log 2;
    - the stable sigma(x) = r / (1 + r), r = e^x, is exactly 0 once r rounds to 0, below half
      the smallest subnormal number 2^(e_min - p + 1): for x < (e_min - p) log 2.
    """
    ln2 = math.log(2)
    log_largest = e_max * ln2 + math.log(2 - 2.0 ** (1 - p))
    return np.array([-log_largest, p * ln2, (e_min - p) * ln2])


def format_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """A binary floating-point format for one student: 5 to 15 exponent bits (e_max =
    2^(bits - 1) - 1 and e_min = 1 - e_max, as IEEE 754 has it) and 8 to 64 significant bits.
    The notebook's question cell draws them with the same calls, in the same order."""
    exponent_bits = int(rng.integers(5, 16))
    p = int(rng.integers(8, 65))
    e_max = 2 ** (exponent_bits - 1) - 1
    return {"p": p, "e_min": 1 - e_max, "e_max": e_max}


def thresholds_judge(expected: np.ndarray) -> Any:
    """A judge of three predicted thresholds that says which are off, never their values."""

    def judge(got: Any) -> Mismatch | None:
        try:
            answer = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            answer = None
        if answer is None or answer.shape != (3,):
            return Mismatch("shape", f"expected three numbers, got {got!r:.80}")
        wrong = [
            name + (" (its sign is wrong)" if answer[k] * want < 0 else "")
            for k, (name, want) in enumerate(zip(THRESHOLD_NAMES, expected, strict=True))
            if not abs(answer[k] - want) <= THRESHOLD_ATOL
        ]
        if wrong:
            return Mismatch("values", f"off by more than {THRESHOLD_ATOL}: {'; '.join(wrong)}")
        return None

    return judge


@check(
    exercise="sigmoid_thresholds_example",
    points=1,
    visibility="visible",
    section="sigmoid-numerics",
    kind="value",
)
def sigmoid_thresholds_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: in float16 (p = 11, e_min = -14, e_max = 15), the x below which
    the textbook sigmoid overflows (-11.09), the x from which the stable one is exactly 1
    (11 log 2 = 7.62) and the x below which it is exactly 0 (-25 log 2 = -17.33), each to
    within 0.01."""
    return [Case(args=(), expected=sigmoid_thresholds_of(**FLOAT16), rtol=0, atol=THRESHOLD_ATOL)]


@check(
    exercise="sigmoid_thresholds",
    points=2,
    visibility="hidden",
    section="sigmoid-numerics",
    kind="value",
    per_student=True,
    parameters=format_parameters,
)
def sigmoid_thresholds_hidden(rng: np.random.Generator) -> list[Case]:
    """The same three thresholds for the student's own format (p significant bits, exponents
    from e_min to e_max, drawn from their id), each to within 0.01: reasoned from the
    largest float, the unit roundoff and the smallest subnormal of that format."""
    expected = sigmoid_thresholds_of(**format_parameters(rng))
    return [Case(args=(), expected=expected, judge=thresholds_judge(expected))]


# ------------------------------------------------------- derive, then implement: sigma''

#: sigma'' is graded on its relative accuracy, as the logit is: 1e-14 is 45 units of float64's
#: machine epsilon, 2e-6 is 17 of float32's. -sigma'(x) tanh(x / 2) is within a few; the
#: textbook sigma'(x) (1 - 2 sigma(x)) is about 1e-11 off at x = 1e-5 and 1e-8 off at 1e-8.
SECOND_DERIVATIVE_TOLERANCES = {"rtol": 1e-14, "rtol32": 2e-6}


@check(
    exercise="sigmoid_second_derivative",
    points=1,
    visibility="visible",
    section="sigmoid-derivative",
)
def sigmoid_second_derivative_visible(rng: np.random.Generator) -> list[Case]:
    """``sigmoid_second_derivative`` at 0 (where sigma'' is 0), at ±1, next to 0 at x = 1e-5
    (where 1 - 2 sigma(x) cancels) and at x = ±40 (where 1 - sigma(x) rounds to 0), each to
    a relative 1e-14."""
    return elementwise_cases(
        ref.sigmoid_second_derivative,
        [0.0, 1.0, -1.0, 1e-5, 40.0, -40.0],
        **SECOND_DERIVATIVE_TOLERANCES,
    )


@check(
    exercise="sigmoid_second_derivative",
    points=2,
    visibility="hidden",
    section="sigmoid-grad-numerics",
)
def sigmoid_second_derivative_hidden(rng: np.random.Generator) -> list[Case]:
    """``sigmoid_second_derivative`` on arrays, on extreme inputs up to |x| = 1e4 with
    floating-point warnings as errors, on saturated inputs (|x| from 36 to 700, where
    1 - sigma(x) is 0 but sigma''(x) is about -+e^-|x|), next to 0 (|x| from 1e-300 to 0.1,
    where 1 - 2 sigma(x) cancels), and in float32, to a relative 1e-14 (2e-6 in float32)."""
    sign = rng.choice([-1.0, 1.0], size=16)
    inputs = [
        EXTREME_INPUTS,
        rng.normal(0.0, 5.0, size=(3, 7)),
        rng.uniform(36.0, 700.0, size=16) * sign,
        10.0 ** -rng.uniform(1.0, 300.0, size=16) * sign,
        rng.normal(0.0, 20.0, size=16).astype(np.float32),
        (10.0 ** -rng.uniform(1.0, 30.0, size=8) * sign[:8]).astype(np.float32),
    ]
    return elementwise_cases(ref.sigmoid_second_derivative, inputs, **SECOND_DERIVATIVE_TOLERANCES)


CHECKS = [
    sigmoid_visible,
    sigmoid_hidden,
    sigmoid_grad_visible,
    sigmoid_grad_hidden,
    logit_visible,
    logit_hidden,
    sigmoid_thresholds_visible,
    sigmoid_thresholds_hidden,
    sigmoid_second_derivative_visible,
    sigmoid_second_derivative_hidden,
]
