"""Checks for chapter 3: ``softmax``, ``logsumexp``, ``log_softmax`` and ``softmax_jacobian``;
two predictions reasoned from the properties (a shifted softmax at a temperature, a shifted
log-sum-exp); and the derived ``softmax_temperature_grad``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder import reference as ref
from autograder.checks.core import Case, check

ASSIGNMENT = "03_softmax"


def _cases(reference, inputs, **kwargs) -> list[Case]:
    """A case per (z, axis) pair; float32 inputs are compared to float32 accuracy."""
    cases = []
    for z, axis in inputs:
        single = np.asarray(z).dtype == np.float32
        extra = {} if axis is None else {"axis": axis}
        cases.append(
            Case(
                args=(z,),
                kwargs=extra,
                expected=reference(z, **extra),
                rtol=kwargs.get("rtol32", 1e-5) if single else kwargs.get("rtol", 1e-10),
                atol=kwargs.get("atol32", 1e-30) if single else kwargs.get("atol", 1e-300),
            )
        )
    return cases


VISIBLE_ROWS = [
    np.array([1.0, 2.0, 3.0]),
    np.array([0.0, 0.0]),
    np.array([[1.0, 0.0, -1.0], [3.0, 3.0, 3.0]]),
]


def _hidden_inputs(rng: np.random.Generator) -> list[tuple[np.ndarray, int | None]]:
    """Batches on both axes, huge logits, rows with -inf, float32."""
    batch = rng.normal(0.0, 3.0, size=(5, 4))
    huge = rng.uniform(-1e4, 1e4, size=(4, 6))
    masked = rng.normal(0.0, 3.0, size=(3, 5))
    masked[:, 0] = -np.inf
    masked[1, 3] = -np.inf
    return [
        (batch, None),
        (batch, 0),
        (huge, None),
        (np.array([1000.0, 999.0, 998.0]), None),
        (np.array([-1000.0, -1001.0, -1002.0]), None),
        (masked, None),
        (rng.normal(0.0, 10.0, size=(6, 3)), 0),
        (rng.normal(0.0, 30.0, size=(4, 5)).astype(np.float32), None),
        (np.array([[88.0, 89.0, 90.0]], dtype=np.float32), -1),
    ]


@check(exercise="softmax", points=1, visibility="visible", section="softmax-definition")
def softmax_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.softmax, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="softmax", points=2, visibility="hidden", section="softmax-max-shift")
def softmax_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax`` of batches along both axes, of logits up to 1e4 in size (overflow
    without the max-shift), of rows holding -inf, and in float32."""
    return _cases(ref.softmax, _hidden_inputs(rng))


@check(exercise="logsumexp", points=1, visibility="visible", section="softmax-logsumexp")
def logsumexp_visible(rng: np.random.Generator) -> list[Case]:
    """``logsumexp`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.logsumexp, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="logsumexp", points=2, visibility="hidden", section="softmax-lse-stable")
def logsumexp_hidden(rng: np.random.Generator) -> list[Case]:
    """``logsumexp`` of batches along both axes, of logits up to 1e4 in size, of rows
    holding -inf, and in float32; of rows whose log-sum-exp is tiny (z = (0, -40) gives
    4.2e-18, which log(1 + r) rounds to 0: log1p of the other terms' sum keeps it), and of
    rows that are entirely -inf (the sum is 0, the answer -inf, with no warning)."""
    tiny = np.array([[0.0, -40.0], [-38.0, 0.0]])  # each row's maximum 0: the answer is tiny
    tiny[tiny < 0] += rng.uniform(-1.0, 0.0, size=2)
    all_masked = np.array([[-np.inf, -np.inf, -np.inf], [0.5, -np.inf, 2.0]])
    extra = [(tiny, None), (tiny.T, 0), (all_masked, None), (all_masked.T, 0)]
    return _cases(ref.logsumexp, _hidden_inputs(rng) + extra)


@check(exercise="log_softmax", points=1, visibility="visible", section="softmax-log-softmax")
def log_softmax_visible(rng: np.random.Generator) -> list[Case]:
    """``log_softmax`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.log_softmax, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="log_softmax", points=2, visibility="hidden", section="softmax-log-softmax")
def log_softmax_hidden(rng: np.random.Generator) -> list[Case]:
    """``log_softmax`` of batches along both axes, of rows whose softmax underflows to 0
    (log of it is -inf, the answer is finite), of rows holding -inf, and in float32; and of
    logits near 1e8 a few units apart, whose log-softmax is of order 1: z - LSE(z) rounds
    LSE(z) to the spacing of numbers near 1e8 (1.5e-8), while (z_i - m) - log(sum_j
    e^(z_j - m)) loses nothing."""
    near_1e8 = 1e8 + np.round(rng.uniform(-3.0, 0.0, size=(2, 4)), 2)
    # Each entry within a few eps of the logits' spread (not of their size): the grouped
    # form's (z_i - m) is exact there and its log of a sum in [1, K] is off by a few eps.
    cases = []
    for z, axis in [*_hidden_inputs(rng), (near_1e8, None)]:
        (case,) = _cases(ref.log_softmax, [(z, axis)])
        finite = z[np.isfinite(z)]
        scale = float(np.ptp(finite)) if finite.size else 1.0
        eps = float(np.finfo(np.asarray(z).dtype).eps)
        cases.append(
            Case(
                args=case.args,
                kwargs=case.kwargs,
                expected=case.expected,
                rtol=case.rtol,
                atol=8 * eps * max(scale, 1.0),
            )
        )
    return cases


#: A saturated class: q_1 (1 - q_1) = 2.3e-16, of which q_1 - q_1^2 keeps 1.1e-16 or 0.
SATURATED = np.array([36.0, 0.0])


@check(exercise="softmax_jacobian", points=1, visibility="visible", section="softmax-jacobian")
def softmax_jacobian_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_jacobian`` of [1, 2, 3], of [0, 0], and of [36, 0], where the first class
    saturates: J = diag(q) - q q^T, q = softmax(z), every entry to a relative 1e-10 (the
    diagonal's 1 - q_i is the share of the other classes, not 1 minus a rounded q_i)."""
    rows = [VISIBLE_ROWS[0], VISIBLE_ROWS[1], SATURATED]
    return _cases(ref.softmax_jacobian, [(z, None) for z in rows])


@check(exercise="softmax_jacobian", points=2, visibility="hidden", section="softmax-jacobian")
def softmax_jacobian_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_jacobian`` of random vectors of several lengths K, of large logits (which
    overflow without the max-shift), and of vectors with a saturated class, every entry to a
    relative 1e-10: the diagonal q_i (1 - q_i) keeps its digits where q_i is within 1e-6 of
    1."""
    inputs = [(rng.normal(0.0, 2.0, size=n_classes), None) for n_classes in (1, 2, 5, 10)] + [
        (rng.uniform(-1e3, 1e3, size=4), None),
        (np.array([1000.0, 999.0]), None),
        (np.array([rng.uniform(30.0, 40.0), 0.0, -5.0]), None),
        (np.array([-3.0, rng.uniform(20.0, 30.0), 1.0, -2.0]), None),
    ]
    return _cases(ref.softmax_jacobian, inputs)


# ---------------------------------------------- predict: a softmax shifted, then tempered

#: Each question's worked example (the notebook's visible variant) has these parameters.
TEMPERED_EXAMPLE = {"q": np.array([0.1, 0.2, 0.3, 0.4]), "c": 100.0, "tau": 0.5}
LSE_EXAMPLE = {"n_classes": 4, "m": 2.5, "c": -1000.0}
#: Predictions are numbers the student computes from what the properties say: 7 digits.
PREDICTION_TOLERANCES = {"rtol": 1e-6, "atol": 1e-12}


def tempered_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's q = softmax(z) over 3 to 6 classes (z itself is never shown), a shift c
    and a temperature tau.  The notebook's question cell draws them with the same calls, in
    the same order."""
    n_classes = int(rng.integers(3, 7))
    q = rng.dirichlet(np.ones(n_classes))
    c = float(np.round(rng.uniform(-1000.0, 1000.0), 1))
    tau = float(rng.choice([0.25, 0.5, 2.0, 3.0, 4.0]))
    # Plain numbers, so that two students' parameters compare with == (an array would not).
    return {"q": [float(v) for v in q], "c": c, "tau": tau}


def tempered_case(q: np.ndarray | list[float], c: float, tau: float) -> Case:
    """softmax((z + c 1) / tau) for a z whose softmax is q: z = log q - c 1 is one (any shift
    of log q has softmax q), and then (z + c 1) / tau = log q / tau exactly."""
    expected = ref.softmax(np.log(np.asarray(q, dtype=float)) / tau)
    return Case(args=(), expected=expected, **PREDICTION_TOLERANCES)


@check(
    exercise="tempered_softmax_example",
    points=1,
    visibility="visible",
    section="softmax-scale",
    kind="value",
)
def tempered_softmax_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: softmax((z + c 1) / tau) for softmax(z) = (0.1, 0.2, 0.3, 0.4),
    c = 100 and tau = 1/2, without z: the shift changes nothing and the temperature raises
    every ratio q_i / q_j to the power 1 / tau, giving (1, 4, 9, 16) / 30."""
    return [tempered_case(**TEMPERED_EXAMPLE)]


@check(
    exercise="tempered_softmax",
    points=2,
    visibility="hidden",
    section="softmax-scale",
    kind="value",
    per_student=True,
    parameters=tempered_parameters,
)
def tempered_softmax_hidden(rng: np.random.Generator) -> list[Case]:
    """The same prediction for the student's own q, c and tau (drawn from their id), each
    entry to a relative 1e-6."""
    return [tempered_case(**tempered_parameters(rng))]


def lse_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's K (2 to 49 classes), the value m of all K equal logits, and a shift c.
    The notebook's question cell draws them with the same calls, in the same order."""
    n_classes = int(rng.integers(2, 50))
    m = float(np.round(rng.uniform(-5.0, 5.0), 2))
    c = float(np.round(rng.uniform(-1000.0, 1000.0), 1))
    return {"n_classes": n_classes, "m": m, "c": c}


def lse_case(n_classes: int, m: float, c: float) -> Case:
    """LSE(z + c 1) for K logits all equal to m."""
    expected = ref.logsumexp(np.full(n_classes, m) + c)
    return Case(args=(), expected=expected, rtol=1e-9, atol=1e-9)


@check(
    exercise="shifted_logsumexp_example",
    points=1,
    visibility="visible",
    section="softmax-lse-shift",
    kind="value",
)
def shifted_logsumexp_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: LSE(z + c 1) for K = 4 logits all equal to m = 2.5 and c = -1000:
    the upper bound m + log K is attained (equal entries) and LSE moves with the shift,
    m + c + log K = -996.11."""
    return [lse_case(**LSE_EXAMPLE)]


@check(
    exercise="shifted_logsumexp",
    points=2,
    visibility="hidden",
    section="softmax-lse-shift",
    kind="value",
    per_student=True,
    parameters=lse_parameters,
)
def shifted_logsumexp_hidden(rng: np.random.Generator) -> list[Case]:
    """The same prediction for the student's own K, m and c (drawn from their id), to an
    absolute and relative 1e-9."""
    return [lse_case(**lse_parameters(rng))]


# ----------------------------------- derive, then implement: d softmax(z / tau) / d tau


def _temperature_case(z: np.ndarray, tau: float, axis: int | None = None) -> Case:
    """The reference's derivative, to a relative 1e-8 (1e-4 in float32), or within 64 eps of
    max(1, max |z|) / tau^2: the derivative is -(q / tau^2)(z - sum_j q_j z_j), and a formula
    that subtracts sum_j q_j z_j from z_i as written is off by that much where the two nearly
    cancel (its whole value, where a class saturates). Only the reference's shifted form is
    accurate to a few ulp of each entry there; the checks do not ask for it."""
    extra = {} if axis is None else {"axis": axis}
    expected = ref.softmax_temperature_grad(z, tau, **extra)
    finite = np.abs(z[np.isfinite(z)])
    size = max(1.0, float(finite.max(initial=0.0)))
    eps = float(np.finfo(np.asarray(z).dtype).eps)
    single = np.asarray(z).dtype == np.float32
    return Case(
        args=(z, tau),
        kwargs=extra,
        expected=expected,
        rtol=1e-4 if single else 1e-8,
        atol=64 * eps * size / tau**2,
    )


@check(
    exercise="softmax_temperature_grad",
    points=2,
    visibility="visible",
    section="softmax-temperature",
)
def softmax_temperature_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_temperature_grad(z, tau)``, the derivative of softmax(z / tau) with respect
    to tau, at z = [1, 2, 3] with tau = 1, at [0, 0] (where it is 0) with tau = 2, and on a
    batch of two rows with tau = 1/2, to a relative 1e-9 (1e-12 absolute where it is 0)."""
    inputs = [(VISIBLE_ROWS[0], 1.0), (VISIBLE_ROWS[1], 2.0), (VISIBLE_ROWS[2], 0.5)]
    return [
        Case(
            args=(z, tau),
            expected=ref.softmax_temperature_grad(z, tau),
            rtol=1e-9,
            atol=1e-12,
        )
        for z, tau in inputs
    ]


@check(
    exercise="softmax_temperature_grad",
    points=3,
    visibility="hidden",
    section="softmax-temperature",
)
def softmax_temperature_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_temperature_grad`` of random vectors of several lengths K (one class
    alone has derivative 0) and of batches along both axes, at random temperatures between
    0.2 and 5."""
    taus = np.exp(rng.uniform(np.log(0.2), np.log(5.0), size=6))
    vectors = [rng.normal(0.0, 3.0, size=n_classes) for n_classes in (1, 2, 5, 10)]
    batch = rng.normal(0.0, 3.0, size=(5, 4))
    return [_temperature_case(z, float(tau)) for z, tau in zip(vectors, taus, strict=False)] + [
        _temperature_case(batch, float(taus[4])),
        _temperature_case(batch, float(taus[5]), axis=0),
    ]


@check(
    exercise="softmax_temperature_grad",
    points=2,
    visibility="hidden",
    section="softmax-temperature",
)
def softmax_temperature_grad_extreme_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_temperature_grad`` where z / tau is large, so that exp(z / tau) overflows
    unless the maximum is subtracted first: logits near 1e4 at tau = 2, [1000, 999, 998],
    logits near 20 at tau = 0.01, logits up to 1e4 in size at tau = 10 (every row
    saturated), a hot tau = 1e4, and float32 logits near 80 at tau = 1/2."""
    near_1e4 = 1e4 + rng.normal(0.0, 3.0, size=(3, 4))
    near_20 = 20.0 + rng.normal(0.0, 0.05, size=(2, 5))
    float32 = (80.0 + rng.normal(0.0, 3.0, size=(3, 4))).astype(np.float32)
    return [
        _temperature_case(near_1e4, 2.0),
        _temperature_case(np.array([1000.0, 999.0, 998.0]), 1.0),
        _temperature_case(near_20, 0.01),
        _temperature_case(rng.uniform(-1e4, 1e4, size=(3, 5)), 10.0),
        _temperature_case(rng.normal(0.0, 5.0, size=(4, 3)), 1e4),
        _temperature_case(float32, 0.5),
    ]


CHECKS = [
    softmax_visible,
    softmax_hidden,
    logsumexp_visible,
    logsumexp_hidden,
    log_softmax_visible,
    log_softmax_hidden,
    softmax_jacobian_visible,
    softmax_jacobian_hidden,
    tempered_softmax_visible,
    tempered_softmax_hidden,
    shifted_logsumexp_visible,
    shifted_logsumexp_hidden,
    softmax_temperature_grad_visible,
    softmax_temperature_grad_hidden,
    softmax_temperature_grad_extreme_hidden,
]
