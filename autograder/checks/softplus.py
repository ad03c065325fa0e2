"""Checks for chapter 2, softplus: ``softplus``, ``log_sigmoid`` and ``central_difference``;
the verdicts on proposed forms of log sigma and softplus; and the derived
``softplus_tau_dtau``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder import reference as ref
from autograder.checks.core import (
    EXTREME_INPUTS,
    Case,
    Function,
    Mismatch,
    check,
    elementwise_cases,
)

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


# ------------------------------------------------------- predict: which forms to trust

#: The verdicts a form can get (the notebook defines them): equal to the target in exact
#: arithmetic and within a few ulps for every finite float64 x without a warning; equal,
#: but some finite x raises a floating-point warning (this verdict wins over the next);
#: equal and never warning, but losing most digits at some x where the target is a normal
#: float; not equal to the target even in exact arithmetic.
VERDICTS = ("accurate", "warns", "loses digits", "wrong")

#: Proposed forms of three targets, each with its verdict. ``sigmoid``, ``softplus`` and
#: ``log_sigmoid`` stand for the stable functions of the chapter and the exercise; every
#: verdict is measured against mpmath in tests/checks/test_softplus_tasks.py. The notebook's
#: question cell holds the same targets and forms, in the same order, without the verdicts.
FORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "log sigma(x)": (
        ("-softplus(-x)", "accurate"),
        ("-np.logaddexp(0, -x)", "accurate"),
        ("np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))", "accurate"),
        ("np.log(sigmoid(x))", "warns"),
        ("-np.log1p(np.exp(-x))", "warns"),
        ("np.log1p(-sigmoid(-x))", "warns"),
        ("x - softplus(x)", "loses digits"),
        ("np.minimum(x, 0) - np.log(1 + np.exp(-np.abs(x)))", "loses digits"),
        ("softplus(-x)", "wrong"),
        ("-softplus(x)", "wrong"),
    ),
    "log(1 - sigma(x))": (
        ("-softplus(x)", "accurate"),
        ("log_sigmoid(-x)", "accurate"),
        ("np.minimum(-x, 0) - np.log1p(np.exp(-np.abs(x)))", "accurate"),
        ("np.log(1 - sigmoid(x))", "warns"),
        ("np.log(sigmoid(-x))", "warns"),
        ("np.log1p(-sigmoid(x))", "warns"),
        ("-np.log1p(np.exp(x))", "warns"),
        ("-softplus(-x) - x", "loses digits"),
        ("log_sigmoid(x) - x", "loses digits"),
        ("log_sigmoid(x)", "wrong"),
        ("softplus(x)", "wrong"),
    ),
    "zeta(x) - x": (
        ("softplus(-x)", "accurate"),
        ("-log_sigmoid(x)", "accurate"),
        ("np.logaddexp(0, -x)", "accurate"),
        ("np.log1p(np.exp(-x))", "warns"),
        ("-np.log(sigmoid(x))", "warns"),
        ("np.log(1 + np.exp(x)) - x", "warns"),
        ("softplus(x) - x", "loses digits"),
        ("np.logaddexp(0, x) - x", "loses digits"),
        ("np.maximum(-x, 0) + np.log(1 + np.exp(-np.abs(x)))", "loses digits"),
        ("x - softplus(x)", "wrong"),
        ("-softplus(-x)", "wrong"),
    ),
}
#: The worked example: four forms of zeta(x) itself, one of each verdict.
EXAMPLE_FORMS = (
    ("x + softplus(-x)", "loses digits"),
    ("np.logaddexp(0, x)", "accurate"),
    ("softplus(-x) - x", "wrong"),
    ("np.log1p(np.exp(x))", "warns"),
)
#: How many forms a student judges.
FORMS_PER_STUDENT = 4


def forms_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's target and four of its forms, in the order shown. The notebook's
    question cell draws them with the same calls, in the same order."""
    targets = list(FORMS)
    target = targets[int(rng.integers(len(targets)))]
    order = rng.permutation(len(FORMS[target]))[:FORMS_PER_STUDENT]
    return {"target": target, "forms": [FORMS[target][int(i)][0] for i in order]}


def verdicts_judge(expected: list[str], reveal: bool) -> Any:
    """A judge of a list of verdicts; ``reveal`` (the worked example) names the right ones,
    otherwise the message says only how many are wrong."""

    def judge(got: Any) -> Mismatch | None:
        if not isinstance(got, list | tuple) or not all(type(v) is str for v in got):
            return Mismatch("shape", f"expected a list of {len(expected)} strings, got {got!r:.80}")
        answer = [v.strip().lower() for v in got]
        if len(answer) != len(expected):
            return Mismatch("shape", f"expected {len(expected)} verdicts, got {len(answer)}")
        unknown = [v for v in answer if v not in VERDICTS]
        if unknown:
            return Mismatch(
                "shape", f"{unknown[0]!r} is not a verdict: use {', '.join(map(repr, VERDICTS))}"
            )
        wrong = sum(a != e for a, e in zip(answer, expected, strict=True))
        if not wrong:
            return None
        if reveal:
            return Mismatch("values", f"expected {expected}, got {answer}")
        return Mismatch("values", f"{wrong} of your {len(expected)} verdicts are not right")

    return judge


@check(
    exercise="softplus_forms_example",
    points=1,
    visibility="visible",
    section="softplus-numerics",
    kind="value",
)
def softplus_forms_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: the verdicts on four forms of zeta(x), one of each kind:
    x + softplus(-x) loses digits, np.logaddexp(0, x) is accurate, softplus(-x) - x is
    wrong, np.log1p(np.exp(x)) warns."""
    expected = [verdict for _, verdict in EXAMPLE_FORMS]
    return [Case(args=(), expected=expected, judge=verdicts_judge(expected, reveal=True))]


@check(
    exercise="softplus_forms",
    points=2,
    visibility="hidden",
    section="softplus-numerics",
    kind="value",
    per_student=True,
    parameters=forms_parameters,
)
def softplus_forms_hidden(rng: np.random.Generator) -> list[Case]:
    """The verdicts on the student's own four forms of their target (log sigma(x),
    log(1 - sigma(x)) or zeta(x) - x, drawn from their id): accurate, warns (overflow,
    log 0), loses digits (a sigmoid rounded to 1, a cancellation) or wrong (not the target
    even in exact arithmetic). All four must be right."""
    drawn = forms_parameters(rng)
    verdicts = dict(FORMS[drawn["target"]])
    expected = [verdicts[form] for form in drawn["forms"]]
    return [Case(args=(), expected=expected, judge=verdicts_judge(expected, reveal=False))]


# ------------------------------------- derive, then implement: d/dtau of tau zeta(x / tau)

#: A relative 1e-12 in float64: zeta(-a) + a sigma(-a), a = |x| / tau, is within a few ulps
#: (and within a u of the rounding of |x| / tau however it is computed); the textbook
#: zeta(u) - u sigma(u) is about 4e-12 off at u = 10 and 0 from u = 37 on. In float32, 1e-5:
#: a float32 quotient |x| / tau moves the answer by up to a u, a few 1e-6 for a up to 20.
DTAU_TOLERANCES = {"rtol": 1e-12, "rtol32": 1e-5}


def _dtau_cases(pairs: list[tuple[Any, Any]]) -> list[Case]:
    cases = []
    for x, tau in pairs:
        float32 = np.asarray(x).dtype == np.float32
        rtol = DTAU_TOLERANCES["rtol32" if float32 else "rtol"]
        atol = 1e-37 if float32 else 1e-300
        expected = ref.softplus_tau_dtau(x, tau)
        cases.append(Case(args=(x, tau), expected=expected, rtol=rtol, atol=atol))
    return cases


@check(exercise="softplus_tau_dtau", points=1, visibility="visible", section="softplus-sharpness")
def softplus_tau_dtau_visible(rng: np.random.Generator) -> list[Case]:
    """``softplus_tau_dtau(x, tau)`` at x = 0 (log 2, the largest value), at x = ±1 and 2 for
    ordinary temperatures, and where x / tau is 40 or -30 (the textbook zeta(u) - u sigma(u)
    cancels there), each to a relative 1e-12."""
    pairs = [(0.0, 1.0), (1.0, 0.5), (-1.0, 0.5), (2.0, 4.0), (40.0, 1.0), (-7.5, 0.25)]
    return _dtau_cases(pairs)


@check(exercise="softplus_tau_dtau", points=2, visibility="hidden", section="softplus-sharpness")
def softplus_tau_dtau_hidden(rng: np.random.Generator) -> list[Case]:
    """``softplus_tau_dtau`` on arrays, broadcasting x against tau, on extreme inputs up to
    |x| = 1e4 with floating-point warnings as errors, for |x| / tau from 20 to 800 (where
    the textbook form cancels) and for tiny and large temperatures, and in float32, to a
    relative 1e-12 (1e-5 in float32)."""
    tau32 = rng.uniform(0.25, 4.0, size=16).astype(np.float32)
    pairs = [
        (EXTREME_INPUTS, 1.0),
        (rng.normal(0.0, 5.0, size=(4, 5)), 0.5),
        (1.5, rng.uniform(0.01, 10.0, size=8)),
        (rng.uniform(-800.0, 800.0, size=(2, 16)), rng.uniform(0.5, 2.0, size=16)),
        (rng.uniform(20.0, 800.0, size=16) * rng.choice([-1.0, 1.0], size=16) * 0.1, 0.1),
        (rng.uniform(-1.0, 1.0, size=12), 1e-3),
        (rng.uniform(-1e4, 1e4, size=8), 1e4),
        ((rng.uniform(-20.0, 20.0, size=16) * tau32).astype(np.float32), tau32),
    ]
    return _dtau_cases(pairs)


CHECKS = [
    softplus_visible,
    softplus_hidden,
    log_sigmoid_visible,
    log_sigmoid_hidden,
    central_difference_visible,
    central_difference_hidden,
    softplus_forms_visible,
    softplus_forms_hidden,
    softplus_tau_dtau_visible,
    softplus_tau_dtau_hidden,
]
