"""Checks for chapter 5, the exponential family: the categorical distribution's
sufficient statistic, natural and mean parameters, log-partition, and a numerical
check that the log-partition's gradient is the mean parameters."""

from __future__ import annotations

import numpy as np

from autograder.checks.core import Case, check
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


@check(
    exercise="multinomial_natural_params",
    points=2,
    visibility="hidden",
    section="exponential-family-numerics",
)
def multinomial_natural_params_hidden(rng: np.random.Generator) -> list[Case]:
    """``multinomial_natural_params`` of batches, of K = 2, of probabilities that are
    exactly 0 (eta = -inf, without a divide-by-zero warning), of a tiny reference
    probability (phi_i / phi_K overflows; log phi_i - log phi_K does not), and in float32."""
    zeros = _probabilities(rng, 4, 5)
    zeros[:, 1] = 0.0
    zeros[2, 0] = 0.0
    tiny_reference = np.array([[0.5, 0.5 - 1e-310, 1e-310], [1e-300, 1.0 - 1e-300, 1e-310]])
    # eta is tiny where phi_i and phi_K nearly agree; an absolute tolerance of a few eps
    # accepts the difference of logarithms there.
    return [
        _case(ef.multinomial_natural_params, _probabilities(rng, 6, 4), atol=1e-14),
        _case(ef.multinomial_natural_params, _probabilities(rng, 5, 2), atol=1e-14),
        _case(ef.multinomial_natural_params, _probabilities(rng, 1, 7)[0], atol=1e-14),
        _case(ef.multinomial_natural_params, zeros, atol=1e-14),
        _case(ef.multinomial_natural_params, tiny_reference, atol=1e-14),
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
]
