"""Checks for chapter 7, softmax in practice: calibration, temperature scaling, label smoothing
and a penalty chosen on a validation split.

The exercise's tasks: implement the expected calibration error and the temperature's
derivative (both stated in the chapter); derive, then implement, the curvature of the
validation NLL in the inverse temperature (the chapter proves convexity without writing it
out), and fit the temperature; predict, per student, the logit gap that label smoothing leaves
at its minimum; and decide the L2 penalty on a validation split of the student's own, judged on
held-out data the student never sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.core import Case, Mismatch, check
from autograder.reference import practice as pr
from autograder.reference import softmax_cross_entropy

ASSIGNMENT = "07_softmax_in_practice"

# ------------------------------------------------------------ visible examples (in the notebook)

ECE_EXAMPLES = [
    # (q, labels, n_bins)
    (
        np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]),
        np.array([0, 1, 1, 1]),
        5,
    ),
    (
        np.array([[0.7, 0.2, 0.1], [0.25, 0.35, 0.4], [0.05, 0.9, 0.05]]),
        np.array([0, 1, 1]),
        10,
    ),
    # one-hot rows: confidence exactly 1 belongs to the last bin
    (np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]), 10),
]
TEMPERATURE_LOGITS = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
TEMPERATURE_LABELS = np.array([0, 2])
TEMPERATURE_TAUS = [1.0, 2.0]
CURVATURE_TAUS = [0.5, 2.0]
FIT_LOGITS = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0], [2.0, 0.0, 1.0]])
FIT_LABELS = np.array([0, 2, 0])
FIT_RTOL = 1e-6
CURVATURE_RTOL, CURVATURE_ATOL = 1e-8, 1e-12

# ----------------------------------------------------------------------------- helpers


def _distributions(rng: np.random.Generator, n: int, k: int, concentration: float = 0.5):
    return rng.dirichlet(np.full(k, concentration), size=n)


def _logits(rng: np.random.Generator, n: int, k: int, scale: float, skill: float = 1.0):
    """Logits of a model that favours the labels: ``(z, y)``, with at least one mistake."""
    y = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += skill
    wrong = int(rng.integers(n))  # one sure mistake, so that a finite temperature is best
    z[wrong, (y[wrong] + 1) % k] = z[wrong].max() + 1.0
    return scale * z, y


# ---------------------------------------------------------- 1. expected calibration error


@check(
    exercise="expected_calibration_error",
    points=1,
    visibility="visible",
    section="practice-reliability",
)
def expected_calibration_error_visible(rng: np.random.Generator) -> list[Case]:
    """``expected_calibration_error(q, labels, n_bins)`` on four two-class rows with 5 bins,
    three three-class rows with 10 bins, and two one-hot rows (confidence 1 is in the last
    bin)."""
    return [
        Case(args=(q, y, bins), expected=pr.expected_calibration_error(q, y, bins), rtol=1e-12)
        for q, y, bins in ECE_EXAMPLES
    ]


@check(
    exercise="expected_calibration_error",
    points=2,
    visibility="hidden",
    section="practice-reliability",
)
def expected_calibration_error_hidden(rng: np.random.Generator) -> list[Case]:
    """``expected_calibration_error`` on random distributions with 15 and 7 bins (empty bins
    count 0, each bin weighted by its share of examples), one example alone, and one-hot rows
    of which some are wrong."""
    q1 = _distributions(rng, 60, 4)
    y1 = rng.integers(0, 4, size=60)
    q2 = _distributions(rng, 25, 6, concentration=0.2)
    y2 = rng.integers(0, 6, size=25)
    q3 = _distributions(rng, 1, 3)
    y3 = rng.integers(0, 3, size=1)
    y4 = rng.integers(0, 3, size=12)
    q4 = np.eye(3)[np.where(rng.random(12) < 0.3, (y4 + 1) % 3, y4)]
    return [
        Case(args=(q, y, bins), expected=pr.expected_calibration_error(q, y, bins), rtol=1e-10)
        for q, y, bins in [(q1, y1, 15), (q2, y2, 7), (q3, y3, 10), (q4, y4, 10)]
    ]


# -------------------------------------------------------------- 2. the temperature's derivative


@check(
    exercise="temperature_nll_grad",
    points=1,
    visibility="visible",
    section="practice-temperature-gradient",
)
def temperature_nll_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``temperature_nll_grad(logits, labels, tau)``, dNLL/dtau, for two rows of logits at
    tau = 1 and tau = 2."""
    return [
        Case(
            args=(TEMPERATURE_LOGITS, TEMPERATURE_LABELS, tau),
            expected=pr.temperature_nll_grad(TEMPERATURE_LOGITS, TEMPERATURE_LABELS, tau),
            rtol=1e-10,
        )
        for tau in TEMPERATURE_TAUS
    ]


@check(
    exercise="temperature_nll_grad",
    points=2,
    visibility="hidden",
    section="practice-temperature-gradient",
)
def temperature_nll_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``temperature_nll_grad`` on random batches at random temperatures (a derivative in
    tau, not in 1/tau), and on logits of several hundred (softmax needs its max-shift)."""
    z1, y1 = _logits(rng, 20, 5, 2.0)
    z2, y2 = _logits(rng, 8, 3, 300.0)
    cases = [(z1, y1, float(rng.uniform(0.3, 3.0))), (z1, y1, 0.7), (z2, y2, 1.0)]
    return [
        Case(args=(z, y, tau), expected=pr.temperature_nll_grad(z, y, tau), rtol=1e-9, atol=1e-14)
        for z, y, tau in cases
    ]


# ------------------------------------------------- 3. derive, then implement: the curvature


@check(
    exercise="temperature_nll_curvature",
    points=2,
    visibility="visible",
    section="practice-temperature-gradient",
)
def temperature_nll_curvature_visible(rng: np.random.Generator) -> list[Case]:
    """``temperature_nll_curvature(logits, labels, tau)``, the second derivative of the NLL in
    gamma = 1/tau, for two rows of logits at tau = 0.5 and tau = 2."""
    return [
        Case(
            args=(TEMPERATURE_LOGITS, TEMPERATURE_LABELS, tau),
            expected=pr.temperature_nll_curvature(TEMPERATURE_LOGITS, TEMPERATURE_LABELS, tau),
            rtol=CURVATURE_RTOL,
            atol=CURVATURE_ATOL,
        )
        for tau in CURVATURE_TAUS
    ]


@check(
    exercise="temperature_nll_curvature",
    points=2,
    visibility="hidden",
    section="practice-temperature-gradient",
)
def temperature_nll_curvature_hidden(rng: np.random.Generator) -> list[Case]:
    """``temperature_nll_curvature`` on random batches at random temperatures, and on logits
    near 1e6 that differ by a few units (sum q z^2 - (sum q z)^2 cancels there: the variance
    must be computed from the deviations), to a relative 1e-8."""
    z1, y1 = _logits(rng, 15, 4, 2.0)
    z2, y2 = _logits(rng, 6, 3, 1.0)
    z2 = z2 + 1e6 * (1 + rng.random((6, 1)))
    cases = [(z1, y1, float(rng.uniform(0.3, 3.0))), (z2, y2, 1.0)]
    return [
        Case(
            args=(z, y, tau),
            expected=pr.temperature_nll_curvature(z, y, tau),
            rtol=CURVATURE_RTOL,
            atol=CURVATURE_ATOL,
        )
        for z, y, tau in cases
    ]


# ---------------------------------------------------------------- 4. fitting the temperature


@check(
    exercise="fit_temperature",
    points=1,
    visibility="visible",
    section="practice-temperature",
)
def fit_temperature_visible(rng: np.random.Generator) -> list[Case]:
    """``fit_temperature(logits, labels)`` on three rows of logits: the minimising tau, to a
    relative 1e-6."""
    return [
        Case(
            args=(FIT_LOGITS, FIT_LABELS),
            expected=pr.fit_temperature(FIT_LOGITS, FIT_LABELS),
            rtol=FIT_RTOL,
        )
    ]


@check(
    exercise="fit_temperature",
    points=2,
    visibility="hidden",
    section="practice-temperature",
)
def fit_temperature_hidden(rng: np.random.Generator) -> list[Case]:
    """``fit_temperature`` on the logits of an over-confident model (tau* > 1), of an
    under-confident one (tau* < 1), and of 500 examples with 10 classes, to a relative 1e-6."""
    problems = [_logits(rng, 40, 4, 6.0), _logits(rng, 40, 4, 0.4, 3.0), _logits(rng, 500, 10, 3.0)]
    return [
        Case(args=(z, y), expected=pr.fit_temperature(z, y), rtol=FIT_RTOL) for z, y in problems
    ]


# ------------------------------------------- 5. predict: the logit gap of label smoothing

SMOOTHING_EXAMPLE = {"n_classes": 10, "smoothing": 0.1}
SMOOTHING_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def smoothing_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's number of classes K (3 to 1000) and smoothing kappa. The notebook's
    question cell draws them with the same calls, in the same order."""
    n_classes = int(rng.integers(3, 1001))
    smoothing = float(rng.choice(SMOOTHING_CHOICES))
    return {"n_classes": n_classes, "smoothing": smoothing}


def smoothing_gap(n_classes: int, smoothing: float) -> float:
    """The gap z_y - z_j (j not y) where H(y~, softmax(z)) is smallest: softmax(z) = y~, so
    the ratio q_y / q_j is (1 - kappa + kappa / K) / (kappa / K) = 1 + K (1 - kappa) / kappa."""
    return float(np.log1p(n_classes * (1 - smoothing) / smoothing))


@check(
    exercise="smoothing_gap_example",
    points=1,
    visibility="visible",
    section="practice-smoothing",
    kind="value",
)
def smoothing_gap_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: with K = 10 and kappa = 0.1, the loss with label smoothing is
    smallest where z_y - z_j = log(1 + 10 * 0.9 / 0.1) = log 91 = 4.51086 for every j != y."""
    return [Case(args=(), expected=smoothing_gap(**SMOOTHING_EXAMPLE), rtol=1e-6, atol=0.0)]


@check(
    exercise="smoothing_gap",
    points=2,
    visibility="hidden",
    section="practice-smoothing",
    kind="value",
    per_student=True,
    parameters=smoothing_parameters,
)
def smoothing_gap_hidden(rng: np.random.Generator) -> list[Case]:
    """The same prediction for the student's own K and kappa (drawn from their id), to a
    relative 1e-6."""
    return [Case(args=(), expected=smoothing_gap(**smoothing_parameters(rng)), rtol=1e-6, atol=0.0)]


# ------------------------------------------------ 6. decide: the penalty, on a validation split

#: The penalties the student chooses from.
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: The problem: K classes in d dimensions, N examples given, the class means drawn N(0, s^2)
#: with the spread s drawn from a range, and the features then multiplied by a scale: close
#: classes on a large scale ("hard": the strongest penalty of the grid is best) or distant
#: classes on a small scale ("easy": a weak penalty is best).
DECIDE_CLASSES, DECIDE_FEATURES, DECIDE_EXAMPLES = 3, 30, 100
DECIDE_KINDS = {"hard": ((0.1, 0.2), 3.0), "easy": ((0.7, 0.9), 0.3)}
#: Held-out examples the grader judges the choice on.
DECIDE_HELD_OUT = 2000
#: How far above the best penalty of the grid the chosen one's held-out cross-entropy may be.
#: Over 60 problems of each kind, a choice by the cross-entropy on a random quarter held out
#: for validation was at most 0.072 above the best; every constant answer is further off on
#: one kind or the other: 1e-4 to 1e-2 at least 0.27 on the hard problems (choosing by the
#: training loss gives 1e-4), 0.1 at least 0.21 and 1 at least 0.70 on the easy ones.
DECIDE_SLACK = 0.15
#: The seed of the visible problem (the notebook draws the same one).
DECIDE_VISIBLE_SEED = 7


def decide_problem(rng: np.random.Generator, n: int, held_out: int = 0, kind: str = "hard"):
    """A classification problem of the decide task: ``X, y`` (``n`` examples) and ``held_out``
    more from the same distribution: Gaussian classes of identity covariance around means drawn
    once, the features multiplied by the kind's scale. On a "hard" problem the means are close
    and 100 examples are too few for the 31 x 3 parameters: a strong penalty is best; on an
    "easy" one the classes are far apart and a weak penalty is."""
    spreads, scale = DECIDE_KINDS[kind]
    spread = float(rng.uniform(*spreads))
    means = rng.normal(0.0, spread, size=(DECIDE_CLASSES, DECIDE_FEATURES))

    def draw(m):
        y = rng.permutation(np.arange(m) % DECIDE_CLASSES)
        return scale * (means[y] + rng.normal(size=(m, DECIDE_FEATURES))), y

    X, y = draw(n)
    X_out, y_out = draw(held_out) if held_out else (None, None)
    return X, y, X_out, y_out


def _held_out_losses(X, y, X_out, y_out) -> dict[float, float]:
    losses = {}
    for l2 in L2_GRID:
        W, b = pr.softmax_regression_newton(X, y, DECIDE_CLASSES, l2=l2)
        losses[l2] = float(softmax_cross_entropy(X_out @ W + b, y_out))
    return losses


def _in_grid(got) -> Mismatch | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return Mismatch("shape", f"expected one number of the grid {L2_GRID}, got {got!r}")
    if not any(np.isclose(value, g, rtol=1e-12, atol=0) for g in L2_GRID):
        return Mismatch("values", f"{value!r} is not one of the grid's penalties {L2_GRID}")
    return None


def _judged_on_held_out(losses: dict[float, float]):
    best = min(losses, key=losses.get)

    def judge(got) -> Mismatch | str | None:
        wrong = _in_grid(got)
        if wrong is not None:
            return wrong
        chosen = next(g for g in L2_GRID if np.isclose(float(got), g, rtol=1e-12, atol=0))
        if losses[chosen] <= losses[best] + DECIDE_SLACK:
            return None
        return (
            f"the penalty you chose, l2 = {chosen:g}, gives a held-out cross-entropy of "
            f"{losses[chosen]:.4f} on {DECIDE_HELD_OUT} examples your code never saw; the best "
            f"of the grid, l2 = {best:g}, gives {losses[best]:.4f}, and at most "
            f"{losses[best] + DECIDE_SLACK:.4f} is accepted: choose on a validation split, by the "
            f"validation cross-entropy, not on the training examples"
        )

    return judge


@check(
    exercise="choose_penalty",
    points=1,
    visibility="visible",
    section="practice-temperature",
)
def choose_penalty_visible(rng: np.random.Generator) -> list[Case]:
    """``choose_penalty(X, y)`` returns one penalty of the grid (1e-4, 1e-3, 1e-2, 1e-1, 1) on the
    notebook's problem."""
    X, y, _, _ = decide_problem(np.random.default_rng(DECIDE_VISIBLE_SEED), DECIDE_EXAMPLES)
    return [Case(args=(X, y), judge=_in_grid)]


@check(
    exercise="choose_penalty",
    points=3,
    visibility="hidden",
    section="practice-temperature",
)
def choose_penalty_hidden(rng: np.random.Generator) -> list[Case]:
    """``choose_penalty(X, y)`` on two problems drawn by the grader, one where a strong penalty is
    best and one where a weak one is: the chosen penalty, refitted on all of (X, y), must give
    a cross-entropy on 2000 held-out examples within 0.15 of the best penalty of the grid
    (choosing on the training loss picks 1e-4, at least 0.27 worse on the first; no single
    penalty passes both)."""
    cases = []
    for kind in ("hard", "easy"):
        X, y, X_out, y_out = decide_problem(rng, DECIDE_EXAMPLES, DECIDE_HELD_OUT, kind)
        losses = _held_out_losses(X, y, X_out, y_out)
        cases.append(Case(args=(X, y), judge=_judged_on_held_out(losses)))
    return cases


CHECKS = [
    expected_calibration_error_visible,
    expected_calibration_error_hidden,
    temperature_nll_grad_visible,
    temperature_nll_grad_hidden,
    temperature_nll_curvature_visible,
    temperature_nll_curvature_hidden,
    fit_temperature_visible,
    fit_temperature_hidden,
    smoothing_gap_visible,
    smoothing_gap_hidden,
    choose_penalty_visible,
    choose_penalty_hidden,
]
