"""Accuracy, properties and the API contract of ``autograder.reference.exponential_family``.

Accuracy is measured against 50-digit mpmath with the bars the module documents:
natural parameters and the log-partition within 4 ulp of the exact value, entry by
entry, in float64 and float32; the mean parameters (a softmax) within 16 eps times the
largest entry, and each tiny entry to a few eps of itself plus the shift condition.
Each bar is tight enough that the textbook formula fails it (tested below).  Properties
are drawn with hypothesis, with tolerances derived from the rounding involved.  Every
test runs with all floating-point exceptions raised and warnings as errors.
"""

import math

import mpmath
import numpy as np
import pytest
from helpers import EPS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import reference as ref
from autograder.checks import assert_passes
from autograder.checks import exponential_family as ef_checks
from autograder.reference import exponential_family as ef

pytestmark = pytest.mark.filterwarnings("error")

MAX_ULP = 4
VECTOR_EPS_FACTOR = 16
SETTINGS = settings(max_examples=150, deadline=None, database=None)
mpf = mpmath.mpf


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"), mpmath.workdps(50):
        yield


# ------------------------------------------------------------------ measuring errors


def ulp(exact, dtype=np.float64):
    """The unit in the last place of the real number ``exact`` in ``dtype`` (exactly)."""
    fi = np.finfo(dtype)
    subnormal_exp = fi.minexp - fi.nmant
    if exact == 0:
        return mpf(2) ** subnormal_exp
    _, e = mpmath.frexp(exact)
    return mpf(2) ** max(e - 1 - fi.nmant, subnormal_exp)


def ulp_error(got, exact, dtype=np.float64):
    """``|got - exact| / ulp(exact)``; 0 for matching infinities, inf for NaN."""
    got = float(got)
    if math.isnan(got):
        return math.inf
    if math.isinf(got) or mpmath.isinf(exact):
        return 0.0 if got == exact else math.inf
    return float(abs(mpf(got) - exact) / ulp(exact, dtype))


def mp_natural(phi):
    """log(phi_i / phi_k) for i < k at 50 digits, with the limits at zeros."""
    p = [mpf(float(v)) for v in phi]
    out = []
    for pi in p[:-1]:
        if pi == 0:
            out.append(-mpmath.inf)
        elif p[-1] == 0:
            out.append(mpmath.inf)
        else:
            out.append(mpmath.log(pi / p[-1]))
    return out


def mp_with_zero(eta):
    return [mpf(float(v)) for v in eta] + [mpf(0)]


def mp_mean(eta):
    z = mp_with_zero(eta)
    m = max(z)
    e = [mpmath.exp(zj - m) for zj in z]
    total = mpmath.fsum(e)
    return [ej / total for ej in e]


def mp_log_partition(eta):
    # log1p of the sum: at 50 digits log(1 + 1e-435) would be 0.
    return mpmath.log1p(mpmath.fsum(mpmath.exp(mpf(float(v))) for v in eta))


# ---------------------------------------------------------------- natural parameters


def natural_cases(dtype):
    fi = np.finfo(dtype)
    rng = np.random.default_rng(20250105)
    rows = [
        [0.2, 0.3, 0.5],
        [0.25, 0.25, 0.5],
        [0.5, 0.5 + 2 * float(fi.eps), 0.5],  # phi_i = phi_k: eta is 0 or one ulp of 1
        [1e-200 if dtype == np.float64 else 1e-20, 0.5, 3e-200 if dtype == np.float64 else 3e-20],
        [0.5, 0.25, float(fi.smallest_subnormal) * 3],  # phi_i / phi_k overflows
        [float(fi.smallest_subnormal), 0.5, 0.5],  # phi_i / phi_k is subnormal
        [0.0, 0.4, 0.6],  # eta = -inf
        [0.4, 0.6, 0.0],  # eta = +inf
        [0.3, 0.3 * (1 - 1e-6), 0.3 * (1 + 1e-6)],  # near-equal: log1p of an exact difference
    ]
    rows += [list(r) for r in rng.dirichlet(np.ones(4), size=30)]
    rows += [list(r) for r in rng.dirichlet(np.full(3, 0.05), size=30)]  # tiny entries
    return [np.asarray(r, dtype=dtype) for r in rows]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_natural_params_within_4_ulp(dtype):
    worst = 0.0
    for phi in natural_cases(dtype):
        got = ef.multinomial_natural_params(phi)
        assert got.dtype == dtype and got.shape == (phi.size - 1,)
        for g, e in zip(got, mp_natural(phi), strict=True):
            err = ulp_error(g, e, dtype)
            assert err <= MAX_ULP, f"natural_params({phi!r}) = {got!r}: {err:.3g} ulp"
            worst = max(worst, err)
    assert worst > 0  # the bar is measured, not vacuous


def test_natural_params_textbook_forms_fail():
    # log phi_i - log phi_k subtracts two logarithms near -460 to get 0.36.
    phi = np.array([1e-200, 0.5, 7e-201])
    exact = mp_natural(phi)[0]
    difference_of_logs = np.log(phi[0]) - np.log(phi[2])
    assert ulp_error(difference_of_logs, exact) > 100
    assert ulp_error(ef.multinomial_natural_params(phi)[0], exact) <= MAX_ULP
    # log(phi_i / phi_k) overflows in the quotient, and warns at phi_i = 0.
    with pytest.raises(FloatingPointError):
        np.log(np.array([0.5]) / np.array([1e-310]))
    with pytest.raises(FloatingPointError):
        np.log(np.array([0.0]) / np.array([0.5]))
    assert ef.multinomial_natural_params([0.5, 1e-310])[0] == pytest.approx(
        310 * math.log(10) + math.log(0.5)
    )


def test_natural_params_of_unnormalised_weights_are_the_same():
    w = np.array([2.0, 3.0, 5.0])
    np.testing.assert_array_equal(
        ef.multinomial_natural_params(w), ef.multinomial_natural_params(w / 8.0)
    )


def test_natural_params_undefined_entries_are_nan_without_warnings():
    got = ef.multinomial_natural_params([[0.0, 0.0], [-0.1, 1.1], [np.nan, 0.5]])
    assert np.isnan(got).all()


# ------------------------------------------------------------------- mean parameters

MEAN_CASES = {
    "[0, 0]": [0.0, 0.0],
    "[1, 2]": [1.0, 2.0],
    "[36]": [36.0],
    "[-36]": [-36.0],
    "[1e4, 1e4]": [1e4, 1e4],
    "[1e4, -1e4]": [1e4, -1e4],
    "[-1e4, -1e4]": [-1e4, -1e4],
    "[-745, -40]": [-745.0, -40.0],
    "[-800, -750, -760]": [-800.0, -750.0, -760.0],
    "[40, 0, -40]": [40.0, 0.0, -40.0],
    "[-inf, 3]": [-np.inf, 3.0],
    "[-inf, -inf]": [-np.inf, -np.inf],
}
_rng = np.random.default_rng(51)
for _i, (_n, _scale) in enumerate([(1, 3), (2, 10), (4, 1), (5, 30), (9, 3), (9, 100)] * 2):
    MEAN_CASES[f"random{_i}(k-1={_n}, scale={_scale})"] = list(_rng.normal(0, _scale, _n))
del _rng, _i, _n, _scale


def assert_scaled(got, exact, dtype, what):
    """max |got - exact| <= 16 (eps max|exact| + smallest subnormal)."""
    fi = np.finfo(dtype)
    scale = max(abs(e) for e in exact)
    bound = VECTOR_EPS_FACTOR * (mpf(float(fi.eps)) * scale + mpf(float(fi.smallest_subnormal)))
    errors = [abs(mpf(float(g)) - e) for g, e in zip(got, exact, strict=True)]
    assert max(errors) <= bound, f"{what}: max error {mpmath.nstr(max(errors), 3)} > {bound}"


@pytest.mark.parametrize("case", list(MEAN_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_params_accuracy(case, dtype):
    eta = np.asarray(MEAN_CASES[case], dtype=dtype)
    got = ef.multinomial_mean_params(eta)
    assert got.dtype == dtype and got.shape == (eta.size + 1,)
    assert_scaled(got, mp_mean(eta), dtype, f"mean_params({case})")


@pytest.mark.parametrize("case", list(MEAN_CASES))
def test_mean_params_tiny_entries_keep_relative_accuracy(case):
    """Each entry to (4 + |z_i - m| + sum_j phi_j |z_j - m|) eps of itself, z = [eta, 0]."""
    eta = np.asarray(MEAN_CASES[case])
    z = np.append(eta, 0.0)
    finite = np.isfinite(z)
    m = z.max()
    exact = mp_mean(eta)
    cond = sum(float(e) * abs(zj - m) for e, zj in zip(exact, z, strict=True) if zj > -np.inf)
    for zj, ok, g, e in zip(z, finite, ef.multinomial_mean_params(eta), exact, strict=True):
        if not ok or e < np.finfo(float).tiny:  # zero or subnormal: the absolute bar covers it
            continue
        rel = float(abs(mpf(float(g)) - e) / e) / EPS
        assert rel <= 4 + abs(zj - m) + cond, f"mean_params({case}) entry {g!r}: {rel:.3g} eps"


def test_mean_params_textbook_forms_fail():
    eta = np.array([1000.0, 999.0])
    with pytest.raises(FloatingPointError):  # exp(1000) overflows
        e = np.exp(eta)
        _ = e / (1 + e.sum())
    very_negative = np.array([-1000.0, -1001.0])
    with pytest.raises(FloatingPointError):  # a shift by max(eta) < 0: exp(-max) overflows
        _ = np.exp(-very_negative.max())
    got = ef.multinomial_mean_params(very_negative)
    assert got[-1] == 1.0 and got[0] == 0.0  # e^-1000 underflows: the correctly rounded 0


def test_mean_params_row_without_probabilities_is_nan():
    assert np.isnan(ef.multinomial_mean_params([np.inf, 0.0])).all()


# ---------------------------------------------------------------------- log-partition

LOG_PARTITION_CASES = [
    *MEAN_CASES.values(),
    [-40.0],
    [-40.0, -41.0, -42.0],
    [-700.0, -710.0],
    [-1e-20],
    [1e-20, -50.0],
    [0.0],
    [709.0, 709.0],
    [710.0, -3.0],
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_partition_within_4_ulp(dtype):
    worst = 0.0
    for values in LOG_PARTITION_CASES:
        eta = np.asarray(values, dtype=dtype)
        got = ef.multinomial_log_partition(eta)
        assert got.dtype == dtype and got.shape == ()
        err = ulp_error(got, mp_log_partition(eta), dtype)
        assert err <= MAX_ULP, f"log_partition({values}) = {got!r}: {err:.3g} ulp"
        worst = max(worst, err)
    assert worst > 0


def test_log_partition_textbook_forms_fail():
    eta = np.array([-40.0, -41.0])
    exact = mp_log_partition(eta)
    assert np.log(1 + np.exp(eta).sum()) == 0.0  # 1 + 6e-18 rounds to 1
    assert ulp_error(ef.multinomial_log_partition(eta), exact) <= 1
    with pytest.raises(FloatingPointError):
        np.log(1 + np.exp(np.array([1000.0])).sum())
    assert ef.multinomial_log_partition([1000.0]) == 1000.0


def test_log_partition_is_minus_log_of_the_reference_probability():
    rng = np.random.default_rng(3)
    for _ in range(50):
        eta = rng.normal(0, 5, size=rng.integers(1, 7))
        phi_k = ef.multinomial_mean_params(eta)[-1]
        assert ef.multinomial_log_partition(eta) == pytest.approx(-math.log(phi_k), rel=4 * EPS)


# ------------------------------------------------------------------------ properties


def etas(lo=-50.0, hi=50.0, max_size=6, dtype=np.float64):
    return hnp.arrays(
        dtype,
        st.integers(1, max_size),
        elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=32)
        if dtype == np.float32
        else st.floats(lo, hi, allow_nan=False, allow_infinity=False),
    )


def distributions(max_size=7):
    """Probability vectors with k >= 2 entries, some of them 0 but never the last one."""
    weight = st.just(0.0) | st.floats(1e-6, 1.0)
    return (
        st.integers(2, max_size)
        .flatmap(lambda k: hnp.arrays(np.float64, k, elements=weight))
        .filter(lambda w: w[-1] > 0)
        .map(lambda w: w / w.sum())
    )


@SETTINGS
@given(etas())
def test_natural_params_invert_mean_params(eta):
    """eta -> phi -> eta: each phi_i is accurate to (few + |z_i - m| + ...) eps relatively,
    and eta_i' = log(phi_i / phi_k) adds the two relative errors."""
    z = np.append(eta, 0.0)
    spread = float(z.max() - z.min())
    back = ef.multinomial_natural_params(ef.multinomial_mean_params(eta))
    np.testing.assert_allclose(back, eta, rtol=0, atol=16 * EPS * (1 + spread))


@SETTINGS
@given(distributions())
def test_mean_params_invert_natural_params(phi):
    """phi -> eta -> phi: zeros come back as zeros (through eta = -inf)."""
    eta = ef.multinomial_natural_params(phi)
    back = ef.multinomial_mean_params(eta)
    finite = np.isfinite(np.append(eta, 0.0))
    spread = float(np.ptp(np.append(eta, 0.0)[finite]))
    np.testing.assert_array_equal(back[phi == 0], 0.0)
    np.testing.assert_allclose(back, phi, rtol=16 * EPS * (1 + spread), atol=0)


@SETTINGS
@given(st.one_of(etas(-1e4, 1e4, 8), etas(-1e4, 1e4, 8, np.float32)))
def test_mean_params_are_probabilities(eta):
    phi = ef.multinomial_mean_params(eta)
    eps = np.finfo(phi.dtype).eps
    assert phi.dtype == eta.dtype and phi.shape == (eta.size + 1,)
    assert np.all((phi >= 0) & (phi <= 1))
    assert abs(float(phi.astype(np.float64).sum()) - 1) <= (eta.size + 1) * eps


@SETTINGS
@given(etas(-1e4, 1e4, 8))
def test_log_partition_is_log_sum_exp_with_a_zero_and_bounds(eta):
    """a(eta) = LSE([eta, 0]); max(0, max eta) <= a <= max(0, max eta) + log k."""
    a = ef.multinomial_log_partition(eta)
    m = max(0.0, float(eta.max()))
    assert a == ref.logsumexp(np.append(eta, 0.0))
    assert m <= a <= m + math.log(eta.size + 1) * (1 + 4 * EPS)


def central_gradient(f, x, h):
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


@SETTINGS
@given(etas(-20.0, 20.0))
def test_log_partition_gradient_is_the_mean_params(eta):
    """Central differences with h = 1e-5: truncation ~ h^2 / 6, rounding ~ eps |a| / h."""
    grad = central_gradient(ef.multinomial_log_partition, eta, 1e-5)
    np.testing.assert_allclose(grad, ef.multinomial_mean_params(eta)[:-1], rtol=0, atol=1e-8)


def test_log_partition_gradient_in_50_digits():
    for eta in ([0.3, -1.2, 2.0], [5.0], [-3.0, 0.0, 0.5, 1.5]):
        f = lambda *e: mpmath.log(1 + mpmath.fsum(mpmath.exp(v) for v in e))  # noqa: E731
        point = tuple(mpf(v) for v in eta)
        exact = [
            mpmath.diff(f, point, tuple(int(j == i) for j in range(len(eta))))
            for i in range(len(eta))
        ]
        got = ef.multinomial_mean_params(np.array(eta))[:-1]
        np.testing.assert_allclose(got, [float(e) for e in exact], rtol=4 * EPS)


def covariance(phi_free):
    return np.diag(phi_free) - np.outer(phi_free, phi_free)


@SETTINGS
@given(etas(-10.0, 10.0))
def test_log_partition_hessian_is_the_covariance_and_positive_definite(eta):
    """Finite differences of the gradient (the mean params) give diag(phi) - phi phi^T
    over the k - 1 free classes; its eigenvalues are > 0, its determinant prod(phi)."""
    phi = ef.multinomial_mean_params(eta)
    hess = covariance(phi[:-1])
    fd = np.column_stack(
        [
            (
                ef.multinomial_mean_params(eta + 1e-6 * e)[:-1]
                - ef.multinomial_mean_params(eta - 1e-6 * e)[:-1]
            )
            / 2e-6
            for e in np.eye(eta.size)
        ]
    )
    np.testing.assert_allclose(fd, hess, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        hess, ref.softmax_jacobian(np.append(eta, 0.0))[:-1, :-1], atol=1e-15
    )
    eig = np.linalg.eigvalsh(hess)
    assert eig.min() >= -4 * EPS * eig.max()
    np.testing.assert_allclose(np.linalg.det(hess), np.prod(phi), rtol=1e-6, atol=1e-300)


@SETTINGS
@given(etas(-10.0, 10.0), st.integers(0, 2**32 - 1))
def test_log_partition_is_convex_along_lines(eta, seed):
    """a(eta + t v) has non-negative second differences along a random direction."""
    v = np.random.default_rng(seed).normal(size=eta.size)
    t = np.linspace(-3, 3, 61)
    values = np.array([ef.multinomial_log_partition(eta + ti * v) for ti in t])
    second = values[2:] - 2 * values[1:-1] + values[:-2]
    assert second.min() >= -64 * EPS * max(1.0, float(np.abs(values).max()))


# ----------------------------------------------------------------- the Bernoulli case


@SETTINGS
@given(hnp.arrays(np.float64, st.integers(1, 10), elements=st.floats(-800, 800)))
def test_bernoulli_mean_params_and_log_partition_are_sigmoid_and_softplus(eta):
    phi = ef.multinomial_mean_params(eta[:, None])
    with np.errstate(under="ignore"):  # rtol * |tiny expected value| may underflow
        np.testing.assert_allclose(phi[:, 0], ref.sigmoid(eta), rtol=4 * EPS, atol=0)
        np.testing.assert_allclose(phi[:, 1], ref.sigmoid(-eta), rtol=4 * EPS, atol=0)
        np.testing.assert_allclose(
            ef.multinomial_log_partition(eta[:, None]), ref.softplus(eta), rtol=4 * EPS, atol=0
        )


@SETTINGS
@given(st.floats(0.5, 1.0, exclude_max=True))
def test_bernoulli_natural_param_is_the_logit(p):
    """For p >= 1/2, 1 - p is exact (Sterbenz), so both sides see the same ratio."""
    got = ef.multinomial_natural_params([p, 1 - p])
    assert got.shape == (1,)
    assert ulp_error(got[0], mpmath.log(mpf(p) / (1 - mpf(p)))) <= MAX_ULP
    assert got[0] == pytest.approx(ref.logit(p), rel=8 * EPS, abs=0)


# -------------------------------------------------------------- sufficient statistic


@SETTINGS
@given(distributions())
def test_mean_of_the_sufficient_statistic_is_phi_without_the_reference(phi):
    k = phi.size
    stats = ef.multinomial_sufficient_statistic(np.arange(k), k)  # T(y) for every y
    np.testing.assert_allclose(phi @ stats, phi[:-1], rtol=0, atol=0)


@SETTINGS
@given(
    st.integers(2, 9).flatmap(
        lambda k: st.tuples(
            st.just(k),
            hnp.arrays(np.int64, hnp.array_shapes(max_dims=3), elements=st.integers(0, k - 1)),
        )
    )
)
def test_sufficient_statistic_is_the_one_hot_without_its_last_entry(k_and_y):
    k, y = k_and_y
    stats = ef.multinomial_sufficient_statistic(y, k)
    assert stats.dtype == np.float64 and stats.shape == (*y.shape, k - 1)
    np.testing.assert_array_equal(stats, np.eye(k)[y][..., :-1])
    # the dropped indicator is 1 - sum of the others
    np.testing.assert_array_equal(1 - stats.sum(axis=-1), (y == k - 1).astype(float))


def test_sufficient_statistic_of_the_reference_class_is_zero_and_floats_are_accepted():
    np.testing.assert_array_equal(ef.multinomial_sufficient_statistic(2, 3), [0.0, 0.0])
    np.testing.assert_array_equal(ef.multinomial_sufficient_statistic([1.0], 3), [[0.0, 1.0]])
    assert ef.multinomial_sufficient_statistic(np.int32(0), np.int64(2)).tolist() == [1.0]


@pytest.mark.parametrize(
    ("y", "k", "message"),
    [
        ([0, 3], 3, "in {0, ..., 2}"),
        ([-1], 3, "got -1"),
        ([0], 1, "k >= 2"),
        ([0], 2.5, "whole number"),
        ([0.5], 3, "whole numbers"),
        ([np.nan], 3, "whole numbers"),
        (["a"], 3, "integers"),
    ],
)
def test_sufficient_statistic_rejects_bad_labels(y, k, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        ef.multinomial_sufficient_statistic(y, k)


# ---------------------------------------------------------------------- API contract


@pytest.mark.parametrize(
    ("func", "bad"),
    [
        (ef.multinomial_natural_params, 0.5),
        (ef.multinomial_natural_params, [1.0]),
        (ef.multinomial_mean_params, 0.5),
        (ef.multinomial_mean_params, np.zeros((3, 0))),
        (ef.multinomial_log_partition, 2.0),
    ],
)
def test_shapes_without_a_class_axis_are_rejected(func, bad):
    with pytest.raises(ValueError, match="last axis"):
        func(bad)


def test_batches_dtypes_and_shapes():
    eta = np.random.default_rng(0).normal(size=(2, 3, 4))
    phi = ef.multinomial_mean_params(eta)
    assert phi.shape == (2, 3, 5) and phi.dtype == np.float64
    assert ef.multinomial_log_partition(eta).shape == (2, 3)
    assert ef.multinomial_natural_params(phi).shape == (2, 3, 4)
    np.testing.assert_allclose(ef.multinomial_natural_params(phi), eta, atol=1e-13)
    assert ef.multinomial_mean_params([[1, 2]]).dtype == np.float64  # integers -> float64
    assert ef.multinomial_log_partition(np.float32([1.0])).dtype == np.float32
    assert isinstance(ef.multinomial_log_partition([1.0]), np.float64)  # a scalar, not 0-d


def test_extreme_inputs_do_not_warn():
    # the autouse fixture raises on every floating-point warning
    huge = np.array([[1e300, -1e300], [-np.inf, 1e4], [-1e308, -1e308]])
    assert np.all(np.isfinite(ef.multinomial_mean_params(huge)))
    assert np.all(np.isfinite(ef.multinomial_log_partition(huge)))
    phi = np.array([[0.0, 0.5, 0.5], [5e-324, 1.0, 5e-324], [1.0, 0.0, 0.0]])
    assert ef.multinomial_natural_params(phi).shape == (3, 2)


@pytest.mark.parametrize("seed", [0, 1, 2024])
@pytest.mark.parametrize(
    "chosen", [c for c in ef_checks.CHECKS if hasattr(ef, c.exercise)], ids=lambda c: c.name
)
def test_reference_passes_the_chapter_checks(chosen, seed):
    assert_passes(ef_checks.ASSIGNMENT, chosen.name, getattr(ef, chosen.exercise), seed=seed)
