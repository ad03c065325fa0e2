"""Checks for chapter 5, the exponential family: the categorical distribution's
sufficient statistic, natural and mean parameters, log-partition, a numerical check that
the log-partition's gradient is the mean parameters, a prediction of its curvature along a
direction (per student), and its Hessian-vector product, derived and implemented without
forming the Hessian."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.core import Case, Mismatch, check
from autograder.reference import exponential_family as ef

ASSIGNMENT = "05_exponential_family"


def _case(reference, *args, rtol=1e-10, atol=1e-300, atol32=1e-30) -> Case:
    """A case with the reference's answer; float32 inputs are compared to float32 accuracy."""
    single = any(np.asarray(a).dtype == np.float32 for a in args)
    return Case(
        args=args,
        expected=reference(*args),
        rtol=1e-5 if single else rtol,
        atol=atol32 if single else atol,
    )


def _probabilities(rng: np.random.Generator, n: int, n_classes: int) -> np.ndarray:
    return rng.dirichlet(np.ones(n_classes), size=n)


# ------------------------------------------------------------------ sufficient statistic


@check(
    exercise="multinomial_sufficient_statistic",
    points=1,
    visibility="visible",
    section="exponential-family-indicator",
)
def multinomial_sufficient_statistic_visible(rng: np.random.Generator) -> list[Case]:
    """``multinomial_sufficient_statistic(y, k)`` of every label for K = 3 and K = 2 classes
    (k = K): the indicator vector of length K - 1, all zeros for the reference class K - 1."""
    return [
        _case(ef.multinomial_sufficient_statistic, np.array([0, 1, 2]), 3),
        _case(ef.multinomial_sufficient_statistic, np.array([1, 0]), 2),
    ]


@check(
    exercise="multinomial_sufficient_statistic",
    points=2,
    visibility="hidden",
    section="exponential-family-indicator",
)
def multinomial_sufficient_statistic_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_sufficient_statistic`` of label arrays of any shape (a single label,
    a vector, a 2-D batch) for several numbers of classes K; the result has one more axis, of
    length K - 1, and the reference class K - 1 is the zero vector."""
    n_classes = int(rng.integers(3, 8))
    return [
        _case(ef.multinomial_sufficient_statistic, rng.integers(0, n_classes, size=12), n_classes),
        _case(ef.multinomial_sufficient_statistic, rng.integers(0, 4, size=(3, 5)), 4),
        _case(ef.multinomial_sufficient_statistic, np.full(4, n_classes - 1), n_classes),
        _case(ef.multinomial_sufficient_statistic, np.array(int(rng.integers(0, 5))), 5),
        _case(ef.multinomial_sufficient_statistic, rng.integers(0, 2, size=6), 2),
    ]


# ---------------------------------------------------------------- natural parameters

VISIBLE_PHI = [np.array([0.2, 0.3, 0.5]), np.array([[0.25, 0.25, 0.5], [0.1, 0.6, 0.3]])]


@check(
    exercise="multinomial_natural_params",
    points=1,
    visibility="visible",
    section="exponential-family-multinomial-derivation",
)
def multinomial_natural_params_visible(rng: np.random.Generator) -> list[Case]:
    """``multinomial_natural_params`` of one distribution over 3 classes and of a batch of
    two: eta_i = log(phi_i / phi_K) for i < K."""
    return [_case(ef.multinomial_natural_params, phi) for phi in VISIBLE_PHI]


#: Natural parameters of tiny probabilities must keep all their digits: the quotient
#: phi_i / phi_K is then a normal number and its logarithm is accurate to about 4e-16 for the
#: ratios drawn (in [0.3, 0.7] and [1.4, 3]), while log phi_i - log phi_K subtracts two
#: logarithms near -500 and is off by about 1e-13 of the result.
NATURAL_PARAMS_RTOL = 1e-14


def _tiny_ratios(rng: np.random.Generator) -> np.ndarray:
    """Rows (phi_i, 1 - ..., phi_K) with phi_i and phi_K between 1e-300 and 1e-200 and a
    ratio phi_i / phi_K far enough from 1 that its logarithm is not small."""
    phi_k = 10.0 ** rng.uniform(-300, -200, size=6)
    ratio = np.concatenate([rng.uniform(0.3, 0.7, size=3), rng.uniform(1.4, 3.0, size=3)])
    return np.column_stack([ratio * phi_k, np.ones(6), phi_k])


@check(
    exercise="multinomial_natural_params",
    points=2,
    visibility="hidden",
    section="exponential-family-numerics",
)
def multinomial_natural_params_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_natural_params`` of batches, of K = 2, of probabilities that are
    exactly 0 (eta = -inf, without a divide-by-zero warning), of a tiny reference
    probability (phi_i / phi_K overflows; log phi_i - log phi_K does not), of tiny phi_i and
    phi_K whose quotient is a normal number (to 1e-14 relative: the difference of logarithms
    near -500 loses about three digits there, the logarithm of the quotient none), and in
    float32."""
    zeros = _probabilities(rng, 4, 5)
    zeros[:, 1] = 0.0
    zeros[2, 0] = 0.0
    tiny_reference = np.array([[0.5, 0.5 - 1e-310, 1e-310], [1e-300, 1.0 - 1e-300, 1e-310]])
    # eta is tiny where phi_i and phi_K nearly agree; an absolute tolerance of a few eps
    # accepts the rounding of the quotient there.
    return [
        _case(ef.multinomial_natural_params, _probabilities(rng, 6, 4), atol=1e-14),
        _case(ef.multinomial_natural_params, _probabilities(rng, 5, 2), atol=1e-14),
        _case(ef.multinomial_natural_params, _probabilities(rng, 1, 7)[0], atol=1e-14),
        _case(ef.multinomial_natural_params, zeros, atol=1e-14),
        _case(ef.multinomial_natural_params, tiny_reference, atol=1e-14),
        _case(ef.multinomial_natural_params, _tiny_ratios(rng), rtol=NATURAL_PARAMS_RTOL, atol=0),
        _case(
            ef.multinomial_natural_params,
            _probabilities(rng, 5, 3).astype(np.float32),
            atol32=1e-5,
        ),
    ]


# ------------------------------------------------------------------- mean parameters

VISIBLE_ETA = [
    np.array([0.0, 0.0]),
    np.array([1.0, 2.0]),
    np.array([[-1.0, 0.5, 2.0], [3.0, 0.0, -2.0]]),
]


def _eta_batches(rng: np.random.Generator) -> list[np.ndarray]:
    """Ordinary, huge, all very negative, masked (-inf), K = 2, and float32 inputs."""
    masked = rng.normal(0.0, 2.0, size=(3, 4))
    masked[0, 1] = -np.inf
    masked[2, :] = -np.inf
    return [
        rng.normal(0.0, 2.0, size=(5, 3)),
        rng.uniform(-1e4, 1e4, size=(4, 3)),  # exp(eta) overflows
        rng.uniform(-1000.0, -750.0, size=(3, 2)),  # exp(-max(eta)) overflows
        rng.uniform(-60.0, -30.0, size=(3, 4)),  # 1 + sum(exp(eta)) rounds to 1
        masked,
        rng.normal(0.0, 5.0, size=(6, 1)),  # K = 2: the Bernoulli
        rng.normal(0.0, 3.0, size=5),
        rng.normal(0.0, 20.0, size=(4, 3)).astype(np.float32),  # exp overflows past 88.7
    ]


@check(
    exercise="multinomial_mean_params",
    points=1,
    visibility="visible",
    section="exponential-family-inverse",
)
def multinomial_mean_params_visible(rng: np.random.Generator) -> list[Case]:
    """``multinomial_mean_params`` of two vectors of natural parameters (K = 3) and of a
    batch of two (K = 4): softmax([eta, 0])."""
    return [_case(ef.multinomial_mean_params, eta) for eta in VISIBLE_ETA]


@check(
    exercise="multinomial_mean_params",
    points=2,
    visibility="hidden",
    section="exponential-family-numerics",
)
def multinomial_mean_params_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_mean_params`` of batches with K up to 5, of eta up to 1e4 in size (the
    textbook exp(eta) overflows), of rows that are all very negative (a max-shift that
    forgets the reference class's 0 overflows there), of -inf entries, of K = 2, and in
    float32. The result has K entries: the reference class is the last one."""
    return [_case(ef.multinomial_mean_params, eta) for eta in _eta_batches(rng)]


# ---------------------------------------------------------------------- log-partition


@check(
    exercise="multinomial_log_partition",
    points=1,
    visibility="visible",
    section="exponential-family-inverse",
)
def multinomial_log_partition_visible(rng: np.random.Generator) -> list[Case]:
    """``multinomial_log_partition`` of the same inputs: log(1 + sum_j exp(eta_j)), one
    value per row."""
    return [_case(ef.multinomial_log_partition, eta) for eta in VISIBLE_ETA]


@check(
    exercise="multinomial_log_partition",
    points=2,
    visibility="hidden",
    section="exponential-family-numerics",
)
def multinomial_log_partition_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_log_partition`` of batches, of eta up to 1e4 in size (the textbook
    exp(eta) overflows), of rows that are all very negative (a ~ sum exp(eta) is tiny, and
    log(1 + sum exp(eta)) rounds it to 0: log1p is needed), of -inf entries, of K = 2, and in
    float32."""
    return [_case(ef.multinomial_log_partition, eta) for eta in _eta_batches(rng)]


# ------------------------------------------------------------------- gradient check

GRADIENT_CHECK_RTOL = 1e-6
# Central differences with a step delta ~ eps^(1/3) max(1, |eta_i|) are off by about 1e-10; a
# forward difference with delta = 1e-4 by delta a'' / 2, up to 1e-5.
GRADIENT_CHECK_ATOL = 1e-7


def _gradient_case(eta: np.ndarray) -> Case:
    return Case(
        args=(eta,),
        expected=ef.multinomial_mean_params(eta)[:-1],
        rtol=GRADIENT_CHECK_RTOL,
        atol=GRADIENT_CHECK_ATOL,
    )


@check(
    exercise="log_partition_gradient_check",
    points=1,
    visibility="visible",
    section="exponential-family-moments",
)
def log_partition_gradient_check_visible(rng: np.random.Generator) -> list[Case]:
    """``log_partition_gradient_check(eta)``, the central-difference gradient of your
    ``multinomial_log_partition``, equals the mean parameters phi_1, ..., phi_{K-1} to
    1e-6 relative, 1e-7 absolute (K = 4 and K = 2)."""
    return [_gradient_case(np.array([1.0, -0.5, 0.0])), _gradient_case(np.array([0.5]))]


@check(
    exercise="log_partition_gradient_check",
    points=2,
    visibility="hidden",
    section="exponential-family-moments",
)
def log_partition_gradient_check_hidden(rng: np.random.Generator) -> list[Case]:
    """``log_partition_gradient_check`` at random eta for K = 2, 3, 6 and 10 and at eta with
    entries up to 30 in size: the gradient of your log-partition (central differences,
    off by about 1e-10 with a good step) equals phi_1, ..., phi_{K-1} to 1e-6 relative,
    1e-7 absolute. A forward difference with step delta = 1e-4 (off by delta a''/2, about
    1e-5), or a
    log-partition without the reference class, fails."""
    return [
        _gradient_case(rng.normal(0.0, 2.0, size=1)),
        _gradient_case(rng.normal(0.0, 2.0, size=2)),
        _gradient_case(rng.normal(0.0, 2.0, size=5)),
        _gradient_case(rng.normal(0.0, 1.0, size=9)),
        _gradient_case(rng.uniform(-30.0, 30.0, size=4)),
    ]


# ------------------------------------------------------- curvature along v (Predict)

#: The per-student question draws K, whole-number weights (phi is the weights over their
#: sum) and a direction v with entries in CURVATURE_STEPS, in this order; the notebook's
#: question cell draws them with the same code.
CURVATURE_STEPS = np.array([-3, -2, -1, 1, 2, 3])
#: A prediction is right to 1e-6 relative: printed to seven digits, or computed exactly.
CURVATURE_RTOL = 1e-6
#: The worked example: phi = (1/2, 1/4, 1/4) and v = (1, -1).
VISIBLE_CURVATURE = {"K": 3, "weights": [2, 1, 1], "v": [1, -1]}


def curvature_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's question: K classes, weights (phi_i = weights_i / sum), and v, as plain
    Python numbers."""
    n_classes = int(rng.integers(3, 7))
    weights = rng.integers(1, 10, size=n_classes)
    v = rng.choice(CURVATURE_STEPS, size=n_classes - 1)
    return {"K": n_classes, "weights": weights.tolist(), "v": v.tolist()}


def curvature_answer(weights: list[int], v: list[int]) -> float:
    """d^2/dt^2 a(eta + t v) at t = 0, with eta the natural parameters of weights / sum."""
    eta = ef.multinomial_natural_params(np.asarray(weights) / np.sum(weights))
    v = np.asarray(v, dtype=float)
    return float(v @ ef.multinomial_log_partition_hvp(eta, v))


def _one_number(got: Any) -> tuple[float | None, Mismatch | None]:
    try:
        value = np.asarray(got)
    except Exception:  # an object NumPy cannot read
        value = np.asarray(None)
    if value.dtype.kind not in "biuf" or value.size != 1:
        return None, Mismatch("shape", f"expected one number, got {got!r:.60}")
    return float(value.reshape(())), None


def _curvature_judge(parameters: dict[str, Any], expected: float, reveal: bool):
    phi = ", ".join(f"{w}/{int(np.sum(parameters['weights']))}" for w in parameters["weights"])
    v = ", ".join(str(int(x)) for x in parameters["v"])

    def judge(got: Any) -> Mismatch | None:
        value, problem = _one_number(got)
        if problem is not None:
            return problem
        if np.isclose(value, expected, rtol=CURVATURE_RTOL, atol=0):
            return None
        if reveal:
            return Mismatch(
                "values", f"for phi = ({phi}) and v = ({v}): expected {expected!r}, got {value!r}"
            )
        return Mismatch(
            "values",
            f"{value!r} is not the curvature of a along your v = ({v}) at your phi = ({phi}) "
            f"(the question cell drew them from STUDENT_ID: was it set before the cell ran?)",
        )

    return judge


@check(
    exercise="curvature_example",
    points=1,
    visibility="visible",
    section="exponential-family-convex",
    kind="value",
)
def curvature_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example, ``curvature_example``: the second derivative of a(eta + t v) at
    t = 0, where eta holds the natural parameters of phi = (1/2, 1/4, 1/4) and v = (1, -1),
    to 1e-6 relative (v^T hess a(eta) v = Var[v^T T(y)] = 0.6875)."""
    expected = curvature_answer(VISIBLE_CURVATURE["weights"], VISIBLE_CURVATURE["v"])
    return [
        Case(args=(), expected=expected, judge=_curvature_judge(VISIBLE_CURVATURE, expected, True))
    ]


@check(
    exercise="curvature",
    points=2,
    visibility="hidden",
    section="exponential-family-convex",
    kind="value",
    per_student=True,
    parameters=curvature_parameters,
)
def curvature_hidden(rng: np.random.Generator) -> list[Case]:
    """``curvature``, the same second derivative for the student's own phi (K from 3 to 6
    classes, whole-number weights from 1 to 9 over their sum) and v (entries -3 to 3, not
    0), drawn from their id, to 1e-6 relative. The feedback does not say the value."""
    parameters = curvature_parameters(rng)
    expected = curvature_answer(parameters["weights"], parameters["v"])
    return [Case(args=(), expected=expected, judge=_curvature_judge(parameters, expected, False))]


# ------------------------------------------- Hessian-vector product (derive, then implement)

#: The product must be exact to rounding: about 1e-15 of the scale phi_i (|v_i| + sum_j phi_j
#: |v_j|) of each entry, times the spread of [eta, 0] (1e3 here).  1e-11 relative to the entry
#: and to that scale leaves a wide margin for any order of the operations, and rejects a
#: central difference of the gradient along v (off by 1e-10 or more of the scale).
HVP_RTOL = 1e-11
HVP_VISIBLE_ATOL = 1e-13
HVP_LARGE_K = 100_000  # a formed Hessian would need 80 GB

VISIBLE_HVP = [
    (np.array([0.0, 0.0]), np.array([1.0, -1.0])),
    (np.array([1.0, 2.0, -0.5]), np.array([1.0, 0.0, 2.0])),
]


def _hvp_case(eta: np.ndarray, v: np.ndarray) -> Case:
    """A case with the reference's product, to HVP_RTOL of each entry and of its scale."""
    phi = ef.multinomial_mean_params(eta)[..., :-1]
    scale = float(np.max(phi * (np.abs(v) + np.sum(phi * np.abs(v), axis=-1, keepdims=True))))
    return Case(
        args=(eta, v),
        expected=ef.multinomial_log_partition_hvp(eta, v),
        rtol=HVP_RTOL,
        atol=HVP_RTOL * max(scale, 1e-300),
    )


def _hvp_matches_gradient_differences(eta: np.ndarray, v: np.ndarray) -> Case:
    """A case judged by central differences of the gradient phi(eta + t v) along v, with a
    diagnosis of the typical mistakes."""
    eps = np.finfo(float).eps
    delta = np.cbrt(eps) * max(1.0, float(np.max(np.abs(eta)))) / float(np.max(np.abs(v)))

    def gradient(t: float) -> np.ndarray:
        return ef.multinomial_mean_params(eta + t * v)[:-1]

    differences = (gradient(delta) - gradient(-delta)) / (2 * delta)
    phi = gradient(0.0)
    exact = ef.multinomial_log_partition_hvp(eta, v)
    typical = {
        "only diag(phi) v is there: the term -phi (phi^T v) is missing": phi * v,
        "only -phi (phi^T v) is there: the term diag(phi) v is missing": -phi * (phi @ v),
        "the sign is flipped": -exact,
        "the first K - 1 entries of softmax(eta), without the reference class's 0, were used": (
            ef.softmax(eta) * (v - ef.softmax(eta) @ v)
        ),
    }

    def relative(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))

    def judge(got: Any) -> Mismatch | None:
        try:
            answer = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return Mismatch("shape", f"expected an array of numbers, got {got!r:.60}")
        if answer.shape != eta.shape:
            return Mismatch("shape", f"expected shape {eta.shape}, got shape {answer.shape}")
        error = relative(answer, differences)
        if np.all(np.isfinite(answer)) and error < 1e-6:
            return None
        hint = next(
            (
                f"; it looks as if {why}"
                for why, wrong in typical.items()
                if relative(answer, wrong) < 1e-9
            ),
            "",
        )
        return Mismatch(
            "values",
            f"at a random eta (K = {eta.size + 1}) your product differs from the central "
            f"difference of the gradient phi(eta + t v) along v by a relative error of "
            f"{error:.2e}; a correct product gives less than 1e-6{hint}",
        )

    return Case(args=(eta, v), expected=exact, judge=judge)


@check(
    exercise="multinomial_log_partition_hvp",
    points=1,
    visibility="visible",
    section="exponential-family-moments",
)
def multinomial_log_partition_hvp_visible(rng: np.random.Generator) -> list[Case]:
    """``multinomial_log_partition_hvp(eta, v)``, the Hessian of the log-partition at eta
    times v, for K = 3 and K = 4, to 1e-11 relative (1e-13 absolute)."""
    return [
        Case(
            args=(eta, v),
            expected=ef.multinomial_log_partition_hvp(eta, v),
            rtol=HVP_RTOL,
            atol=HVP_VISIBLE_ATOL,
        )
        for eta, v in VISIBLE_HVP
    ]


@check(
    exercise="multinomial_log_partition_hvp",
    points=2,
    visibility="hidden",
    section="exponential-family-moments",
)
def multinomial_log_partition_hvp_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_log_partition_hvp`` against central differences of the gradient along v
    (with a diagnosis of a missing term or a flipped sign), and against the exact product
    (1e-11 relative to each entry and to its scale phi_i (|v_i| + sum_j phi_j |v_j|)) at
    random eta for K = 2, 4 and 7, for a batch, for eta up to 1e3 in size (exp(eta)
    overflows), for eta with -inf entries, and for K = 100001 classes, where a formed
    Hessian would need 80 GB: the product must take O(K) memory."""
    masked = rng.normal(0.0, 2.0, size=(3, 4))
    masked[0, 2] = -np.inf
    return [
        _hvp_matches_gradient_differences(rng.normal(0.0, 1.5, size=5), rng.normal(size=5)),
        _hvp_case(rng.normal(0.0, 2.0, size=3), rng.normal(size=3)),
        _hvp_case(rng.normal(0.0, 5.0, size=(6, 1)), rng.normal(size=(6, 1))),  # K = 2
        _hvp_case(rng.normal(0.0, 2.0, size=(4, 6)), rng.normal(size=(4, 6))),
        _hvp_case(rng.uniform(-1e3, 1e3, size=(3, 4)), rng.normal(size=(3, 4))),
        _hvp_case(masked, rng.normal(size=(3, 4))),
        _hvp_case(rng.normal(0.0, 2.0, size=HVP_LARGE_K), rng.normal(size=HVP_LARGE_K)),
    ]


CHECKS = [
    multinomial_sufficient_statistic_visible,
    multinomial_sufficient_statistic_hidden,
    multinomial_natural_params_visible,
    multinomial_natural_params_hidden,
    multinomial_mean_params_visible,
    multinomial_mean_params_hidden,
    multinomial_log_partition_visible,
    multinomial_log_partition_hidden,
    log_partition_gradient_check_visible,
    log_partition_gradient_check_hidden,
    curvature_visible,
    curvature_hidden,
    multinomial_log_partition_hvp_visible,
    multinomial_log_partition_hvp_hidden,
]
