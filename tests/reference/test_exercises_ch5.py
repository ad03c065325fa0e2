"""The reference of chapter 5's derivation, ``multinomial_log_partition_hvp``, against mpmath.

The product of the log-partition's Hessian with a vector is measured against its definition,
the derivative of the gradient along ``v`` (``mpmath.diff`` of the exact mean parameters, with
50 significant digits), within the bound its Notes state: a few eps times
``phi_i (|v_i| + sum_j phi_j |v_j|)``, times ``1 + max_j |z_j - max z|`` for the shift.
"""

import mpmath
import numpy as np
import pytest
from helpers import EPS

from autograder import reference as ref

pytestmark = pytest.mark.filterwarnings("error")

#: "A few eps": the bound of the Notes, with this factor.
FEW = 4
mpf = mpmath.mpf


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        with mpmath.workdps(50):
            yield


def mp_mean_params(eta, t, v):
    """The first K - 1 entries of softmax([eta + t v, 0]) in mpmath (-inf entries give 0)."""
    z = [
        mpf(float(e)) + t * mpf(float(d)) if np.isfinite(e) else None
        for e, d in zip(eta, v, strict=True)
    ]
    terms = [mpmath.exp(x) if x is not None else mpf(0) for x in z] + [mpf(1)]
    total = mpmath.fsum(terms)
    return [term / total for term in terms[:-1]]


def exact_hvp(eta, v):
    """d/dt of the mean parameters at eta + t v, at t = 0, entry by entry (mpmath.diff)."""
    return [mpmath.diff(lambda t, i=i: mp_mean_params(eta, t, v)[i], 0) for i in range(len(eta))]


def assert_within_the_bound(eta, v):
    eta, v = np.asarray(eta, dtype=float), np.asarray(v, dtype=float)
    got = ref.multinomial_log_partition_hvp(eta, v)
    exact = exact_hvp(eta, v)
    phi = [float(p) for p in mp_mean_params(eta, 0, v)]
    z = np.append(eta, 0.0)
    shift = 1 + np.max(np.abs(z[np.isfinite(z)] - np.max(z)))
    weighted = sum(p * abs(d) for p, d in zip(phi, v, strict=True))
    for i, (g, e) in enumerate(zip(got, exact, strict=True)):
        bound = FEW * EPS * phi[i] * (abs(v[i]) + weighted) * shift
        assert abs(mpf(float(g)) - e) <= max(bound, 1e-300), (i, float(g), float(e), bound)


@pytest.mark.parametrize("seed", range(12))
def test_the_product_is_the_derivative_of_the_gradient_along_v(seed):
    rng = np.random.default_rng(seed)
    k_minus_1 = int(rng.integers(1, 9))
    scale = [0.5, 3.0, 30.0][seed % 3]
    assert_within_the_bound(rng.normal(0, scale, k_minus_1), rng.normal(0, 1, k_minus_1))


@pytest.mark.parametrize(
    ("eta", "v"),
    [
        ([0.0, 0.0], [1.0, -1.0]),  # the docstring's example: 1/3, -1/3
        ([800.0, -900.0, 1.0], [1.0, 2.0, -3.0]),  # exp(eta) overflows as written
        ([-1000.0, -1200.0], [1.0, 1.0]),  # every class but the reference is tiny
        ([2.0, -np.inf, 0.5], [1.0, 5.0, -1.0]),  # a class of probability 0
        ([0.3, 0.3000000001], [1.0, 1.0000000001]),  # v_i close to phi^T v: cancellation
        ([5.0], [2.0]),  # K = 2: phi (1 - phi) v
    ],
)
def test_the_product_at_hard_points(eta, v):
    assert_within_the_bound(eta, v)


def test_the_product_is_the_hessian_times_v_and_its_quadratic_form_a_variance():
    rng = np.random.default_rng(5)
    eta, v = rng.normal(0, 2, 6), rng.normal(0, 1, 6)
    phi = ref.multinomial_mean_params(eta)[:-1]
    hessian = np.diag(phi) - np.outer(phi, phi)
    got = ref.multinomial_log_partition_hvp(eta, v)
    np.testing.assert_allclose(got, hessian @ v, rtol=1e-13, atol=1e-15)
    # v^T H v = Var[v^T T(y)] with v^T T(y) = v_y (0 for the reference class), in mpmath
    values = [mpf(float(x)) for x in v] + [mpf(0)]
    probabilities = mp_mean_params(eta, 0, v)
    probabilities.append(1 - mpmath.fsum(probabilities))
    mean = mpmath.fsum(p * x for p, x in zip(probabilities, values, strict=True))
    variance = mpmath.fsum(p * (x - mean) ** 2 for p, x in zip(probabilities, values, strict=True))
    assert float(v @ got) == pytest.approx(float(variance), rel=1e-13)


def test_batches_broadcasting_float32_and_large_k():
    rng = np.random.default_rng(7)
    eta, v = rng.normal(0, 2, (3, 5)), rng.normal(0, 1, (3, 5))
    batch = ref.multinomial_log_partition_hvp(eta, v)
    for row in range(3):
        np.testing.assert_array_equal(
            batch[row], ref.multinomial_log_partition_hvp(eta[row], v[row])
        )
    shared = ref.multinomial_log_partition_hvp(eta, v[0])  # one direction for every row
    np.testing.assert_array_equal(shared[1], ref.multinomial_log_partition_hvp(eta[1], v[0]))
    single = ref.multinomial_log_partition_hvp(eta.astype(np.float32), v.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, batch.astype(np.float32), rtol=1e-5, atol=1e-7)
    large = ref.multinomial_log_partition_hvp(np.zeros(100_000), np.ones(100_000))
    # phi_i = 1 / (K) for every class, and v^T T = 1 except for the reference class
    k = 100_001
    np.testing.assert_allclose(large, (1 / k) * (1 - (k - 1) / k), rtol=1e-12)


@pytest.mark.parametrize(
    ("eta", "v", "error", "message"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], ValueError, "v must have the shape of eta"),
        ([1.0, 2.0], 1.0, ValueError, "v must have the shape of eta"),
        ([[1.0, 2.0]] * 2, [[1.0, 2.0]] * 3, ValueError, "v must have the shape of eta"),
        ([1.0, 2.0], [1j, 2.0], TypeError, "expected real numbers"),
        (["a", "b"], [1.0, 2.0], TypeError, "expected real numbers"),
    ],
)
def test_bad_input_is_a_clear_error(eta, v, error, message):
    with pytest.raises(error, match=message):
        ref.multinomial_log_partition_hvp(eta, v)
