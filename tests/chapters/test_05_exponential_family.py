"""Tests for every identity stated in chapter 5, "From the exponential family to softmax".

The chapter is chapters/05_exponential_family/exponential_family.md. Each group of tests names
the section label of the statements it checks. Values are checked against the reference
implementations in ``autograder.reference`` and ``autograder.reference.exponential_family``
and, where the identity is exact, against 50-digit mpmath.
"""

import itertools
import math
import re
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
from helpers import EPS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate

from autograder import reference as ref
from autograder.reference import exponential_family as ef

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "chapters" / "05_exponential_family" / "exponential_family.md"
DPS = 50
SETTINGS = settings(max_examples=60, deadline=None, database=None)
mpf = mpmath.mpf

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def _fifty_digits():
    with mpmath.workdps(DPS):
        yield


# ---------------------------------------------------------------- helpers


def reals(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def etas(lo=-10.0, hi=10.0, min_size=1, max_size=6):
    """Natural parameters: k - 1 = 1, ..., 6 of them."""
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=reals(lo, hi))


def positive_distributions(min_k=2, max_k=7):
    """Probability vectors with every entry >= 1e-4 (before normalising)."""
    return (
        st.integers(min_k, max_k)
        .flatmap(lambda k: hnp.arrays(np.float64, k, elements=reals(1e-4, 1.0)))
        .map(lambda w: w / w.sum())
    )


def mp_list(values):
    return [mpf(float(v)) for v in np.ravel(values)]


def one_hot(y, k):
    return np.eye(k)[y]


def mp_softmax_with_zero(eta):
    e = [mpmath.exp(v) for v in mp_list(eta)] + [mpf(1)]
    total = mpmath.fsum(e)
    return [ei / total for ei in e]


def mp_log_partition(eta):
    return mpmath.log1p(mpmath.fsum(mpmath.exp(v) for v in mp_list(eta)))


def assert_mp_close(got, exact, rtol=4 * EPS, atol=0.0, what=""):
    for g, e in zip(np.ravel(got), exact, strict=True):
        assert abs(mpf(float(g)) - e) <= atol + rtol * abs(e), (
            f"{what}: {g!r} vs {mpmath.nstr(e, 20)}"
        )


def central_gradient(f, x, delta=EPS ** (1 / 3)):
    """Central differences, with the step of a first derivative, about eps^(1/3)."""
    return np.array([(f(x + delta * e) - f(x - delta * e)) / (2 * delta) for e in np.eye(x.size)])


def central_hessian(f, x, delta=EPS ** (1 / 4)):
    """The page's four-point second differences, with the step of a second derivative."""
    n = x.size
    step = np.eye(n) * delta
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            hess[i, j] = (
                f(x + step[i] + step[j])
                - f(x + step[i] - step[j])
                - f(x - step[i] + step[j])
                + f(x - step[i] - step[j])
            ) / (4 * delta * delta)
    return hess


def covariance_free(phi):
    """diag(phi_bar) - phi_bar phi_bar^T over the k - 1 free classes."""
    bar = np.asarray(phi)[:-1]
    return np.diag(bar) - np.outer(bar, bar)


# ------------------------------------------- exponential-family-definition


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 3))
def test_log_partition_normalises_any_discrete_family(seed, n_outcomes, m):
    """a(eta) = log sum_y b(y) e^{eta^T T(y)} makes b(y) e^{eta^T T(y) - a} sum to 1, and
    it is the log-sum-exp of log b(y) + eta^T T(y)."""
    rng = np.random.default_rng(seed)
    table = rng.integers(-3, 4, size=(n_outcomes, m)).astype(float)
    b = rng.uniform(0.1, 3.0, size=n_outcomes)
    eta = rng.normal(0, 2, size=m)
    with mpmath.workdps(DPS):
        terms = [
            mpf(float(bi)) * mpmath.exp(mpmath.fsum(mp_list(eta * row)))  # eta_j t_j is exact
            for bi, row in zip(b, table, strict=True)
        ]
        a_mp = mpmath.log(mpmath.fsum(terms))
        probabilities = [t / mpmath.exp(a_mp) for t in terms]
        assert abs(mpmath.fsum(probabilities) - 1) < mpf(10) ** -45
    assert_mp_close(ref.logsumexp(np.log(b) + table @ eta), [a_mp], rtol=8 * EPS, atol=8 * EPS)


@pytest.mark.parametrize("mu", [-1.3, 0.0, 0.4, 2.5])
def test_unit_normal_is_an_exponential_family(mu):
    """N(mu, 1): T(y) = y, eta = mu, a = eta^2 / 2, b(y) = e^{-y^2/2} / sqrt(2 pi)."""
    for y in np.linspace(-4, 4, 17):
        pdf = mpmath.npdf(mpf(y), mpf(mu), 1)
        factored = (
            mpmath.exp(-(mpf(y) ** 2) / 2)
            / mpmath.sqrt(2 * mpmath.pi)
            * mpmath.exp(mpf(mu) * y - mpf(mu) ** 2 / 2)
        )
        assert abs(pdf - factored) < mpf(10) ** -45
    z, _ = integrate.quad(lambda t: np.exp(mu * t - t**2 / 2) / np.sqrt(2 * np.pi), -np.inf, np.inf)
    assert math.isclose(math.log(z), mu**2 / 2, rel_tol=1e-10, abs_tol=1e-12)
    # a'(eta) = eta = E[y] and a''(eta) = 1 = Var[y] for a = eta^2 / 2
    assert mpmath.diff(lambda e: e**2 / 2, mpf(mu)) == pytest.approx(mu, abs=1e-40)
    assert mpmath.diff(lambda e: e**2 / 2, mpf(mu), 2) == pytest.approx(1.0, abs=1e-30)


# ------------------------------------------- exponential-family-bernoulli


@SETTINGS
@given(reals(1e-6, 1 - 1e-6), st.sampled_from([0, 1]))
def test_bernoulli_rewriting_steps(phi, y):
    with mpmath.workdps(DPS):
        p, yy = mpf(phi), mpf(y)
        start = p**yy * (1 - p) ** (1 - yy)
        step1 = mpmath.exp(yy * mpmath.log(p) + (1 - yy) * mpmath.log(1 - p))
        step2 = mpmath.exp(yy * (mpmath.log(p) - mpmath.log(1 - p)) + mpmath.log(1 - p))
        step3 = mpmath.exp(yy * mpmath.log(p / (1 - p)) + mpmath.log(1 - p))
        for step in (step1, step2, step3):
            assert abs(step - start) <= mpf(10) ** -45 * start


@SETTINGS
@given(reals(-30.0, 30.0))
def test_bernoulli_eta_phi_and_log_partition(eta):
    """phi = sigma(eta) inverts eta = logit(phi); 1 - sigma(eta) = 1 / (1 + e^eta);
    a = -log(1 - phi) = log(1 + e^eta) = softplus(eta) = log sum_{y in {0,1}} e^{eta y}."""
    with mpmath.workdps(DPS):
        e = mpf(eta)
        phi = 1 / (1 + mpmath.exp(-e))
        # 1 - phi loses up to 13 of the 50 digits for |eta| <= 30
        assert abs(mpmath.log(phi / (1 - phi)) - e) < mpf(10) ** -30
        assert abs((1 - phi) - 1 / (1 + mpmath.exp(e))) < mpf(10) ** -45
        a = -mpmath.log(1 - phi)
        assert abs(a - mpmath.log(1 + mpmath.exp(e))) < mpf(10) ** -30
        assert abs(a - mpmath.log(mpmath.exp(0 * e) + mpmath.exp(1 * e))) < mpf(10) ** -30
    assert_mp_close([ref.softplus(eta)], [a], what="softplus")
    assert_mp_close([ref.sigmoid(eta)], [phi], what="sigmoid")


@pytest.mark.parametrize("eta", [-4.0, -0.3, 0.0, 1.7, 6.0])
def test_bernoulli_moments_are_derivatives_of_softplus(eta):
    """a'(eta) = sigma(eta) = E[y] and a''(eta) = phi (1 - phi) = Var[y]."""
    with mpmath.workdps(DPS):
        a = lambda e: mpmath.log(1 + mpmath.exp(e))  # noqa: E731
        phi = 1 / (1 + mpmath.exp(-mpf(eta)))
        mean = 0 * (1 - phi) + 1 * phi
        var = (0 - mean) ** 2 * (1 - phi) + (1 - mean) ** 2 * phi
        assert abs(mpmath.diff(a, mpf(eta)) - mean) < mpf(10) ** -40
        assert abs(mpmath.diff(a, mpf(eta), 2) - var) < mpf(10) ** -30
        assert abs(var - phi * (1 - phi)) < mpf(10) ** -45
    assert_mp_close([ref.sigmoid_grad(eta)], [var], what="sigmoid_grad")


# ----------------------------------------- exponential-family-indicator


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_indicator_vector_table(k):
    """T(y) = e_y for y < k (code label y - 1), T(k) = 0; one-hot without its last entry;
    1{y = k} = 1 - sum_i T(y)_i."""
    table = ef.multinomial_sufficient_statistic(np.arange(k), k)
    assert table.shape == (k, k - 1)
    np.testing.assert_array_equal(table[:-1], np.eye(k - 1))
    np.testing.assert_array_equal(table[-1], np.zeros(k - 1))
    np.testing.assert_array_equal(table, np.eye(k)[:, :-1])
    np.testing.assert_array_equal(1 - table.sum(axis=1), np.arange(k) == k - 1)


def test_indicator_examples_of_the_text():
    assert int(2 == 3) == 0 and int(3 == 3) == 1  # 1{2 = 3} = 0, 1{3 = 3} = 1


@SETTINGS
@given(positive_distributions())
def test_mean_of_the_indicators_is_phi(phi):
    k = phi.size
    table = ef.multinomial_sufficient_statistic(np.arange(k), k)
    np.testing.assert_array_equal(phi @ table, phi[:-1])


def test_sample_mean_of_the_indicators_approaches_phi():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.ones(4))
    samples = rng.choice(4, size=200_000, p=phi)
    stats = ef.multinomial_sufficient_statistic(samples, 4)
    np.testing.assert_allclose(stats.mean(axis=0), phi[:-1], atol=5e-3)


# ------------------------------- exponential-family-multinomial-derivation


@SETTINGS
@given(positive_distributions())
def test_derivation_lines_1_to_5_in_50_digits(phi):
    k = phi.size
    with mpmath.workdps(DPS):
        p = mp_list(phi)
        total = mpmath.fsum(p)
        p = [pi / total for pi in p]  # exactly normalised at 50 digits
        eta = [mpmath.log(pi / p[-1]) for pi in p[:-1]]
        a = -mpmath.log(p[-1])
        for y in range(k):
            t = [1 if y == i else 0 for i in range(k - 1)]
            line1 = mpmath.fprod(pi ** int(y == i) for i, pi in enumerate(p))
            line2 = mpmath.fprod(pi**ti for pi, ti in zip(p, t, strict=False)) * p[-1] ** (
                1 - sum(t)
            )
            line3 = mpmath.exp(
                mpmath.fsum(ti * mpmath.log(pi) for pi, ti in zip(p, t, strict=False))
                + (1 - sum(t)) * mpmath.log(p[-1])
            )
            line4 = mpmath.exp(
                mpmath.fsum(ti * mpmath.log(pi / p[-1]) for pi, ti in zip(p, t, strict=False))
                + mpmath.log(p[-1])
            )
            line5 = 1 * mpmath.exp(mpmath.fsum(e * ti for e, ti in zip(eta, t, strict=True)) - a)
            for line in (line1, line2, line3, line4, line5):
                assert abs(line - p[y]) < mpf(10) ** -45


@SETTINGS
@given(positive_distributions())
def test_natural_parameters_and_log_partition_of_the_multinomial(phi):
    """eta_i = log(phi_i / phi_k), a = -log phi_k, b = 1."""
    exact_eta = [mpmath.log(mpf(float(pi)) / mpf(float(phi[-1]))) for pi in phi[:-1]]
    assert_mp_close(ef.multinomial_natural_params(phi), exact_eta, rtol=4 * EPS, atol=4 * EPS)
    eta = ef.multinomial_natural_params(phi)
    # a = -log phi_k for normalised phi; for the rounded phi, log(sum phi / phi_k)
    exact_a = mpmath.log(mpmath.fsum(mp_list(phi)) / mpf(float(phi[-1])))
    assert_mp_close([ef.multinomial_log_partition(eta)], [exact_a], rtol=64 * EPS)


@SETTINGS
@given(reals(1e-6, 1 - 1e-6))
def test_two_classes_are_the_bernoulli(phi):
    eta = ef.multinomial_natural_params([phi, 1 - phi])
    assert eta.shape == (1,)
    assert eta[0] == pytest.approx(ref.logit(phi), rel=1e-12, abs=1e-12)


# ------------------------------------------- exponential-family-inverse


@SETTINGS
@given(positive_distributions())
def test_phi_is_phi_k_times_exp_eta_including_the_reference(phi):
    eta = np.append(ef.multinomial_natural_params(phi), 0.0)  # eta_k = log(phi_k / phi_k) = 0
    np.testing.assert_allclose(phi[-1] * np.exp(eta), phi, rtol=1e-13)


@SETTINGS
@given(etas(-30.0, 30.0))
def test_softmax_with_a_zero_is_the_inverse_in_50_digits(eta):
    """phi_k = 1 / (1 + sum e^eta); phi_i = e^eta_i / (1 + sum e^eta) = softmax([eta, 0])."""
    with mpmath.workdps(DPS):
        e = [mpmath.exp(v) for v in mp_list(eta)]
        phi_k = 1 / (1 + mpmath.fsum(e))
        exact = [ei * phi_k for ei in e] + [phi_k]
        assert all(
            abs(x - y) < mpf(10) ** -45
            for x, y in zip(exact, mp_softmax_with_zero(eta), strict=True)
        )
        assert abs(mpmath.fsum(exact) - 1) < mpf(10) ** -45
    got = ef.multinomial_mean_params(eta)
    assert_mp_close(got, exact, rtol=0, atol=16 * EPS, what="mean params")
    np.testing.assert_allclose(got, ref.softmax(np.append(eta, 0.0)), rtol=0, atol=4 * EPS)


@SETTINGS
@given(etas(-30.0, 30.0))
def test_log_partition_is_lse_with_a_zero_and_the_general_formula(eta):
    k = eta.size + 1
    table = ef.multinomial_sufficient_statistic(np.arange(k), k)
    with mpmath.workdps(DPS):
        exact = mp_log_partition(eta)
        general = mpmath.log(
            mpmath.fsum(mpmath.exp(mpmath.fsum(mp_list(eta * row))) for row in table)
        )
        assert abs(exact - general) < mpf(10) ** -40 * max(1, abs(exact))
        assert abs(exact + mpmath.log(mp_softmax_with_zero(eta)[-1])) < mpf(10) ** -40
    assert_mp_close([ef.multinomial_log_partition(eta)], [exact], rtol=4 * EPS)
    assert ef.multinomial_log_partition(eta) == ref.logsumexp(np.append(eta, 0.0))


@SETTINGS
@given(reals(-700.0, 700.0))
def test_two_class_softmax_is_the_sigmoid(e1):
    phi = ef.multinomial_mean_params([e1])
    np.testing.assert_allclose(phi, [ref.sigmoid(e1), ref.sigmoid(-e1)], rtol=4 * EPS, atol=0)
    assert ef.multinomial_log_partition([e1]) == pytest.approx(ref.softplus(e1), rel=4 * EPS)


@SETTINGS
@given(etas(-30.0, 30.0))
def test_eta_to_phi_is_one_to_one(eta):
    """phi(eta) is in the interior of the simplex, and eta(phi(eta)) = eta."""
    phi = ef.multinomial_mean_params(eta)
    assert np.all(phi > 0) and np.all(phi < 1)
    z = np.append(eta, 0.0)
    back = ef.multinomial_natural_params(phi)
    np.testing.assert_allclose(back, eta, rtol=0, atol=16 * EPS * (1 + np.ptp(z)))


@pytest.mark.parametrize("eta1", [-2.0, 0.5, 3.0])
def test_lines_of_constant_eta1_are_segments_to_the_corner_of_class_2(eta1):
    line = ef.multinomial_mean_params(np.column_stack([np.full(50, eta1), np.linspace(-6, 6, 50)]))
    start = np.array([ref.sigmoid(eta1), 0.0, ref.sigmoid(-eta1)])
    t = line[:, 1]
    np.testing.assert_allclose(line, (1 - t)[:, None] * start + t[:, None] * [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(line[:, 0] / line[:, 2], np.exp(eta1), rtol=1e-13)


def test_image_of_the_grid_square_does_not_reach_the_corners():
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 61), np.linspace(-3, 3, 61)), axis=-1)
    phi = ef.multinomial_mean_params(grid)
    assert phi.max() < 0.98
    np.testing.assert_allclose(ef.multinomial_mean_params([0.0, 0.0]), np.full(3, 1 / 3))


# ---------------------------------- exponential-family-reference-class


@SETTINGS
@given(positive_distributions(3, 7), st.data())
def test_changing_the_reference_class_shifts_z(phi, data):
    """eta^(r)_i = log(phi_i / phi_r) = z_i - z_r: the same softmax; a^(r) = -log phi_r =
    LSE(z) - z_r."""
    k = phi.size
    r = data.draw(st.integers(0, k - 1))
    z = np.append(ef.multinomial_natural_params(phi), 0.0)
    z_r = np.log(phi / phi[r])  # with z_r[r] = 0
    np.testing.assert_allclose(z_r, z - z[r], rtol=0, atol=1e-13)
    np.testing.assert_allclose(ref.softmax(z_r), phi, rtol=1e-12)
    np.testing.assert_allclose(ref.logsumexp(z_r), -np.log(phi[r]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ref.logsumexp(z_r), ref.logsumexp(z) - z[r], rtol=1e-12, atol=1e-13)


@SETTINGS
@given(etas(-10.0, 10.0, min_size=2), reals(-50.0, 50.0))
def test_softmax_is_shift_invariant_but_lse_is_not(z, c):
    np.testing.assert_allclose(ref.softmax(z + c), ref.softmax(z), rtol=1e-12, atol=1e-300)
    assert ref.logsumexp(z + c) == pytest.approx(ref.logsumexp(z) + c, rel=1e-13, abs=1e-12)
    if abs(c) > 1e-6:
        assert ref.logsumexp(z + c) != pytest.approx(ref.logsumexp(z), rel=1e-9, abs=1e-9)


@SETTINGS
@given(etas(-10.0, 10.0, min_size=2))
def test_full_k_logits_are_flat_along_ones(z):
    """The k x k softmax Jacobian (the Hessian of LSE of all k logits) has null vector 1."""
    jac = ref.softmax_jacobian(z)
    np.testing.assert_allclose(jac @ np.ones(z.size), 0.0, atol=1e-15)


# ------------------------------------------- exponential-family-numerics


def test_the_family_needs_phi_k_positive():
    """eta_i = log(phi_i / phi_K) needs phi_K > 0; every member of the family gives class K
    the probability e^{-a(eta)} > 0; and any class with positive probability can be the
    reference."""
    eta = ef.multinomial_natural_params([0.3, 0.7, 0.0])
    assert np.all(eta == np.inf)
    for e in ([-700.0, 3.0], [40.0, 40.0], [0.0, 0.0]):
        phi = ef.multinomial_mean_params(e)
        assert phi[-1] > 0
        assert phi[-1] == pytest.approx(np.exp(-ef.multinomial_log_partition(e)), rel=1e-12)
    phi = np.array([0.3, 0.7, 0.0])
    others = phi[[0, 2]]
    eta_2 = np.log(others / phi[1], where=others > 0, out=np.full(2, -np.inf))
    np.testing.assert_allclose(ref.softmax(np.insert(eta_2, 1, 0.0)), phi, atol=1e-15)


def test_naive_formulas_overflow_at_1000_and_the_true_values():
    eta = np.array([1000.0, 999.0])
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        e = np.exp(eta)
        phi = np.concatenate([e, [1.0]]) / (1 + e.sum())
        a = np.log(1 + e.sum())
    assert any("overflow" in str(w.message) for w in caught)
    assert np.isnan(phi[:2]).all() and a == np.inf
    np.testing.assert_allclose(ef.multinomial_mean_params(eta), [0.731, 0.269, 0.0], atol=5e-4)
    assert ef.multinomial_log_partition(eta) == pytest.approx(1000.31, abs=5e-3)
    assert ef.multinomial_mean_params(eta)[2] == 0.0  # e^-1000 underflows: the rounded value


def test_shift_without_the_reference_zero_overflows():
    eta = np.array([-1000.0, -1001.0])
    m = eta.max()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        np.exp(-m)
    got = ef.multinomial_mean_params(eta)
    assert got[-1] == 1.0


@SETTINGS
@given(etas(-1e4, 1e4))
def test_shifted_exponents_are_at_most_zero_and_the_sum_is_between_1_and_k(eta):
    z = np.append(eta, 0.0)
    m = max(0.0, float(eta.max()))
    assert m == z.max()
    with np.errstate(under="ignore"):
        e = np.exp(z - m)
    assert np.all(e <= 1) and 1 <= e.sum() <= z.size


def test_one_plus_s_rounds_to_one_below_1_1e_minus_16():
    s = 2.0**-53  # 1.11e-16, exactly half an ulp of 1: ties to even, 1
    assert 1.0 + s == 1.0
    assert 1.0 + np.nextafter(s, 1.0) > 1.0
    assert 1.1e-16 < s < 1.12e-16
    assert np.log(1 + 1e-17) == 0.0 and np.log1p(1e-17) == 1e-17


@pytest.mark.parametrize(
    "eta",
    [[-40.0, -41.0], [-40.0], [1000.0, 999.0], [0.0, 0.0], [3.0, 3.0, -2.0], [5.0, -700.0]],
)
def test_stable_log_partition_formula_in_50_digits(eta):
    """a = m + log1p(sum over j != j* of e^{z_j - m}); with ties only one term is removed."""
    z = np.append(eta, 0.0)
    m = z.max()
    j_star = int(np.argmax(z))
    with np.errstate(under="ignore"):
        rest = np.sum(np.exp(np.delete(z, j_star) - m))
    formula = m + np.log1p(rest)
    exact = mp_log_partition(eta)
    assert_mp_close([formula], [exact], rtol=4 * EPS)
    assert_mp_close([ef.multinomial_log_partition(eta)], [exact], rtol=4 * EPS)
    assert m >= 0 and rest >= 0  # both terms >= 0: nothing cancels


def test_the_tiny_log_partition_of_the_text():
    tiny = np.array([-40.0, -41.0])
    assert np.log(1 + np.exp(tiny).sum()) == 0.0
    assert f"{ef.multinomial_log_partition(tiny):.6e}" == "5.811236e-18"


def test_natural_parameter_warnings_and_the_lost_digits():
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        np.log(np.array([0.0]) / 0.7)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        np.array([0.5]) / np.array([1e-310])
    assert ef.multinomial_natural_params([0.0, 0.3, 0.7])[0] == -np.inf
    phi = np.array([1e-200, 1.0, 7e-201])
    exact = mpmath.log(mpf(1e-200) / mpf(7e-201))
    difference = np.log(phi[0]) - np.log(phi[2])
    assert abs(float(exact) - 0.36) < 0.005
    assert float(abs(difference - exact) / abs(exact)) > 1e-13  # about 13 correct digits
    assert float(abs(np.log(phi[0] / phi[2]) - exact) / abs(exact)) < 2 * EPS
    assert float(abs(ef.multinomial_natural_params(phi)[0] - exact) / abs(exact)) < 2 * EPS
    for a in (1e-200, 7e-201):
        assert -461 < math.log(a) < -459  # two logarithms near -460


# ------------------------------------------- exponential-family-moments


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 3))
def test_gradient_and_hessian_of_a_are_mean_and_covariance_of_t(seed, n_outcomes, m):
    """grad a = E[T(y)], hess a = Cov[T(y)] for a random discrete family, in 50 digits."""
    rng = np.random.default_rng(seed)
    table = [[mpf(int(v)) for v in row] for row in rng.integers(-2, 3, size=(n_outcomes, m))]
    b = [mpf(float(v)) for v in rng.uniform(0.2, 2.0, size=n_outcomes)]
    eta = [mpf(float(v)) for v in rng.normal(0, 1, size=m)]

    def a(*e):
        return mpmath.log(
            mpmath.fsum(
                bi * mpmath.exp(mpmath.fsum(ej * tj for ej, tj in zip(e, row, strict=True)))
                for bi, row in zip(b, table, strict=True)
            )
        )

    a0 = a(*eta)
    p = [
        bi * mpmath.exp(mpmath.fsum(ej * tj for ej, tj in zip(eta, row, strict=True)) - a0)
        for bi, row in zip(b, table, strict=True)
    ]
    mean = [mpmath.fsum(pi * row[i] for pi, row in zip(p, table, strict=True)) for i in range(m)]
    for i in range(m):
        d_i = mpmath.diff(a, eta, tuple(int(j == i) for j in range(m)))
        assert abs(d_i - mean[i]) < mpf(10) ** -30
        for j in range(m):
            cov = mpmath.fsum(
                pi * (row[i] - mean[i]) * (row[j] - mean[j])
                for pi, row in zip(p, table, strict=True)
            )
            second = mpmath.fsum(pi * row[i] * row[j] for pi, row in zip(p, table, strict=True))
            assert abs(cov - (second - mean[i] * mean[j])) < mpf(10) ** -40
            d_ij = mpmath.diff(a, eta, tuple(int(q == i) + int(q == j) for q in range(m)))
            assert abs(d_ij - cov) < mpf(10) ** -20


@SETTINGS
@given(etas(-8.0, 8.0))
def test_multinomial_gradient_is_phi_and_hessian_is_the_covariance(eta):
    phi = ef.multinomial_mean_params(eta)
    np.testing.assert_allclose(
        central_gradient(ef.multinomial_log_partition, eta), phi[:-1], rtol=0, atol=1e-9
    )
    hess = covariance_free(phi)
    np.testing.assert_allclose(
        central_hessian(ef.multinomial_log_partition, eta), hess, rtol=0, atol=2e-7
    )
    np.testing.assert_allclose(
        hess, ref.softmax_jacobian(np.append(eta, 0.0))[:-1, :-1], rtol=0, atol=1e-15
    )
    # E[T_i T_j] = delta_ij phi_i, since T_i T_j = delta_ij 1{y = i}
    k = eta.size + 1
    table = ef.multinomial_sufficient_statistic(np.arange(k), k)
    second = np.einsum("y,yi,yj->ij", phi, table, table)
    np.testing.assert_allclose(second, np.diag(phi[:-1]), rtol=0, atol=0)
    cov = (table - phi[:-1]).T @ np.diag(phi) @ (table - phi[:-1])
    np.testing.assert_allclose(cov, hess, rtol=0, atol=1e-15)


# -------------------------------------- exponential-family-finite-differences


def second_difference(f, x, delta):
    return (f(x + delta) - 2 * f(x) + f(x - delta)) / delta**2


@pytest.mark.parametrize("x", [-2.0, 0.3, 1.5])
def test_second_difference_error_is_within_the_bound_of_the_proposition(x):
    """|D_delta - f''| <= delta^2 max|f''''| / 12 + 4 u |f| / delta^2 for the softplus, whose
    fourth derivative is sigma (1 - sigma) (1 - 6 sigma (1 - sigma)); steps are powers of two,
    so that x +- delta is exact wherever the bound matters."""
    u = EPS / 2
    exact = float(mpmath.diff(lambda t: mpmath.log(1 + mpmath.exp(t)), mpf(x), 2))
    grid = np.linspace(x - 0.2, x + 0.2, 2001)
    s = ref.sigmoid(grid)
    fourth = np.abs(s * (1 - s) * (1 - 6 * s * (1 - s))).max()
    for power in range(-23, -3):
        delta = 2.0**power
        error = abs(second_difference(ref.softplus, x, delta) - exact)
        bound = delta**2 * fourth / 12 + 4 * u * abs(ref.softplus(x)) / delta**2
        assert error <= 1.5 * bound, (delta, error, bound)


@pytest.mark.parametrize(("a4", "fx"), [(1.0, 1.0), (0.1, 4.6), (0.125, 0.7)])
def test_best_step_and_error_of_a_second_difference(a4, fx):
    """E(delta) = A delta^2 + B / delta^2 is smallest at delta^4 = B / A, where it is
    2 sqrt(A B); with A = max|f''''| / 12 and B = 4 u |f| that is (48 u |f| / max|f''''|)^(1/4)
    and 2 (u |f| max|f''''| / 3)^(1/2)."""
    u = EPS / 2
    A, B = a4 / 12, 4 * u * fx
    deltas = np.logspace(-7, -1, 200001)
    E = A * deltas**2 + B / deltas**2
    assert deltas[np.argmin(E)] == pytest.approx((48 * u * fx / a4) ** 0.25, rel=1e-3)
    assert E.min() == pytest.approx(2 * np.sqrt(u * fx * a4 / 3), rel=1e-6)
    assert E.min() == pytest.approx(2 * np.sqrt(A * B), rel=1e-6)


def test_the_steps_quoted():
    assert f"{EPS ** (1 / 4):.1e}" == "1.2e-04"  # eps^(1/4) ~ 1.2 x 10^-4
    assert round(EPS ** (1 / 3) * 1e6) == 6  # eps^(1/3) ~ 6 x 10^-6


@pytest.mark.parametrize("seed", range(4))
def test_the_hessian_step_is_near_eps_to_the_quarter_and_the_gradient_step_near_the_third(seed):
    rng = np.random.default_rng(seed)
    eta = rng.normal(0, 1.5, size=3)
    phi = ef.multinomial_mean_params(eta)
    hess = covariance_free(phi)
    deltas = np.logspace(-8, -1, 57)
    f = ef.multinomial_log_partition
    grad_errors = [np.abs(central_gradient(f, eta, dl) - phi[:-1]).max() for dl in deltas]
    hess_errors = [np.abs(central_hessian(f, eta, dl) - hess).max() for dl in deltas]
    assert 0.1 < deltas[np.argmin(grad_errors)] / EPS ** (1 / 3) < 10
    assert 0.1 < deltas[np.argmin(hess_errors)] / EPS ** (1 / 4) < 10
    # the gradient's step is far too small for the Hessian
    assert np.abs(central_hessian(f, eta, EPS ** (1 / 3)) - hess).max() > 30 * min(hess_errors)


@SETTINGS
@given(st.integers(-5 * 1024, 5 * 1024), st.integers(4, 10))
def test_four_point_formula_on_the_diagonal_is_the_second_difference_with_step_2_delta(m, k):
    """With x a multiple of 2^-10 and delta = 2^-k, every argument is exact; the two formulas
    then differ only in the order of the additions in the numerator."""
    x, delta = m / 1024, 2.0**-k

    def f(v):
        return float(ref.softplus(v[0]))

    four_point = central_hessian(f, np.array([x]), delta)[0, 0]
    two_delta = second_difference(ref.softplus, x, 2 * delta)
    rounding = 8 * EPS * (1 + ref.softplus(abs(x))) / (2 * delta) ** 2
    assert four_point == pytest.approx(two_delta, rel=0, abs=rounding)


# ------------------------------------------- exponential-family-convex


@SETTINGS
@given(etas(-8.0, 8.0), st.integers(0, 2**32 - 1))
def test_quadratic_form_of_the_covariance_is_a_variance(eta, seed):
    phi = ef.multinomial_mean_params(eta)
    v = np.random.default_rng(seed).normal(size=eta.size)
    k = eta.size + 1
    values = ef.multinomial_sufficient_statistic(np.arange(k), k) @ v  # v^T T(y) = v_y, 0
    np.testing.assert_array_equal(values, np.append(v, 0.0))
    variance = phi @ values**2 - (phi @ values) ** 2
    assert v @ covariance_free(phi) @ v == pytest.approx(variance, rel=1e-10, abs=1e-15)
    assert variance >= -1e-15


@SETTINGS
@given(etas(-6.0, 6.0))
def test_hessian_is_positive_definite_with_determinant_prod_phi(eta):
    phi = ef.multinomial_mean_params(eta)
    hess = covariance_free(phi)
    assert np.linalg.eigvalsh(hess).min() > 0
    # matrix determinant lemma: det(D - u u^T) = det D (1 - u^T D^-1 u)
    bar = phi[:-1]
    lemma = np.prod(bar) * (1 - bar @ (bar / bar))
    np.testing.assert_allclose(np.linalg.det(hess), lemma, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.det(hess), np.prod(phi), rtol=1e-8)
    assert np.linalg.eigvalsh(ref.softmax_jacobian(np.append(eta, 0.0))).min() < 1e-15


@SETTINGS
@given(etas(-8.0, 8.0), st.integers(0, 2**32 - 1))
def test_log_partition_is_convex_along_lines_and_below_chords(eta, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=eta.size)
    t = np.linspace(-4, 4, 81)
    g = ef.multinomial_log_partition(eta + t[:, None] * v)
    assert np.all(g[2:] - 2 * g[1:-1] + g[:-2] >= -1e-13)
    other = rng.normal(0, 3, size=eta.size)
    lam = rng.uniform()
    chord = (1 - lam) * ef.multinomial_log_partition(eta) + lam * ef.multinomial_log_partition(
        other
    )
    assert ef.multinomial_log_partition((1 - lam) * eta + lam * other) <= chord + 1e-13


@SETTINGS
@given(hnp.arrays(np.float64, 2, elements=reals(-4.0, 4.0)))
def test_gradient_arrows_of_the_figure(eta):
    """For k = 3 the gradient (phi_1, phi_2) has positive entries and length at most 1."""
    grad = ef.multinomial_mean_params(eta)[:2]
    assert np.all(grad > 0) and np.linalg.norm(grad) <= 1


# --------------------------------------- exponential-family-glm / -hypothesis


def glm_data(seed, n=6, d=3, k=4):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(d, k - 1))
    x = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
    labels = rng.integers(0, k, size=n)
    return theta, x, labels


@pytest.mark.parametrize("seed", range(5))
def test_hypothesis_is_softmax_regression(seed):
    theta, x, _ = glm_data(seed)
    k = theta.shape[1] + 1
    scores = x @ theta
    phi = ef.multinomial_mean_params(scores)
    table = ef.multinomial_sufficient_statistic(np.arange(k), k)
    h = phi @ table  # E[T(y) | x]
    np.testing.assert_allclose(h, phi[:, :-1], rtol=0, atol=0)
    explicit = np.exp(scores) / (1 + np.exp(scores).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(h, explicit, rtol=1e-14)
    np.testing.assert_allclose(phi[:, -1], 1 / (1 + np.exp(scores).sum(axis=1)), rtol=1e-14)
    np.testing.assert_allclose(phi[:, -1], 1 - h.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(
        np.argmax(phi, axis=1), np.argmax(np.column_stack([scores, np.zeros(len(x))]), axis=1)
    )


@SETTINGS
@given(hnp.arrays(np.float64, 3, elements=reals(-5.0, 5.0)), st.integers(0, 2**32 - 1))
def test_two_classes_give_logistic_regression(theta_1, seed):
    x = np.random.default_rng(seed).normal(size=(5, 3))
    h = ef.multinomial_mean_params((x @ theta_1)[:, None])[:, 0]
    np.testing.assert_allclose(h, ref.sigmoid(x @ theta_1), rtol=4 * EPS, atol=0)


# ------------------------------------------- exponential-family-likelihood


def nll(theta_flat, x, labels, k):
    theta = theta_flat.reshape(x.shape[1], k - 1)
    log_phi = np.log(ef.multinomial_mean_params(x @ theta))
    return -np.sum(log_phi[np.arange(len(x)), labels])


@pytest.mark.parametrize("seed", range(5))
def test_log_likelihood_forms_agree(seed):
    theta, x, labels = glm_data(seed)
    n, k = len(x), theta.shape[1] + 1
    phi = ef.multinomial_mean_params(x @ theta)
    onehot = one_hot(labels, k)
    by_product = np.sum(np.log(np.prod(phi**onehot, axis=1)))
    by_indicator_sum = np.sum(onehot * np.log(phi))
    by_picking = np.sum(np.log(phi[np.arange(n), labels]))
    eta = x @ theta
    stats = ef.multinomial_sufficient_statistic(labels, k)
    by_family = np.sum(np.sum(eta * stats, axis=1) - ef.multinomial_log_partition(eta))
    for value in (by_product, by_indicator_sum, by_picking):
        assert value == pytest.approx(by_family, rel=1e-13)
    logits = np.column_stack([eta, np.zeros(n)])
    assert n * ref.softmax_cross_entropy(logits, labels) == pytest.approx(-by_family, rel=1e-13)


@pytest.mark.parametrize("seed", range(5))
def test_log_likelihood_gradient(seed):
    """grad_{theta_j} l = sum_n (1{y_n = j} - phi_j(x_n)) x_n; the loss's gradient is
    X^T (Phi - Y)[:, :k-1] = N X^T (chapter 4's gradient)[:, :k-1]."""
    theta, x, labels = glm_data(seed)
    n, d, k = len(x), x.shape[1], theta.shape[1] + 1
    phi = ef.multinomial_mean_params(x @ theta)
    grad_l = np.column_stack(
        [sum(((labels[m] == j) - phi[m, j]) * x[m] for m in range(n)) for j in range(k - 1)]
    )
    grad_loss = x.T @ (phi - one_hot(labels, k))[:, :-1]
    np.testing.assert_allclose(grad_loss, -grad_l, rtol=1e-12, atol=1e-14)
    fd = central_gradient(lambda w: nll(w, x, labels, k), theta.ravel())
    np.testing.assert_allclose(fd.reshape(d, k - 1), grad_loss, rtol=0, atol=1e-8)
    logits = np.column_stack([x @ theta, np.zeros(n)])
    chain = n * x.T @ ref.softmax_cross_entropy_grad(logits, labels)[:, :-1]
    np.testing.assert_allclose(chain, grad_loss, rtol=1e-12, atol=1e-14)


def test_log_likelihood_gradient_in_50_digits():
    theta, x, labels = glm_data(11, n=3, d=2, k=3)
    k = 3

    def loss(*w):
        total = mpf(0)
        for xn, yn in zip(x, labels, strict=True):
            scores = [
                mpmath.fsum(mpf(float(xi)) * w[i * (k - 1) + j] for i, xi in enumerate(xn))
                for j in range(k - 1)
            ] + [mpf(0)]
            total -= scores[yn] - mpmath.log(mpmath.fsum(mpmath.exp(s) for s in scores))
        return total

    point = [mpf(float(v)) for v in theta.ravel()]  # row-major: w[i, j] at i * (k - 1) + j
    phi = ef.multinomial_mean_params(x @ theta)
    grad = (x.T @ (phi - one_hot(labels, k))[:, :-1]).ravel()
    for index in range(len(point)):
        exact = mpmath.diff(loss, point, tuple(int(q == index) for q in range(len(point))))
        assert abs(float(exact) - grad[index]) < 1e-14 * max(1.0, abs(grad[index]))


# ----------------------------------------- exponential-family-nll-convex


def nll_hessian(theta, x):
    """sum_n hess a(eta_n) kron x_n x_n^T, weights stacked class by class."""
    return sum(
        np.kron(covariance_free(p), np.outer(xn, xn))
        for p, xn in zip(ef.multinomial_mean_params(x @ theta), x, strict=True)
    )


@pytest.mark.parametrize("seed", range(3))
def test_nll_hessian_is_the_kronecker_sum_and_positive_definite(seed):
    theta, x, labels = glm_data(seed)
    d, k = x.shape[1], theta.shape[1] + 1

    def by_class(w):
        return nll(w.reshape(k - 1, d).T.ravel(), x, labels, k)

    hess = nll_hessian(theta, x)
    np.testing.assert_allclose(central_hessian(by_class, theta.T.ravel()), hess, atol=2e-6)
    assert np.linalg.eigvalsh(hess).min() > 0  # the x_n span R^d
    # the quadratic form along V: sum_n (V^T x_n)^T hess a (V^T x_n)
    v = np.random.default_rng(seed).normal(size=(d, k - 1))
    form = sum(
        (v.T @ xn) @ covariance_free(p) @ (v.T @ xn)
        for p, xn in zip(ef.multinomial_mean_params(x @ theta), x, strict=True)
    )
    assert v.T.ravel() @ hess @ v.T.ravel() == pytest.approx(form, rel=1e-12)


def test_nll_hessian_is_singular_when_the_inputs_do_not_span():
    theta, x, _ = glm_data(4)
    x[:, 2] = 2 * x[:, 1]  # the inputs lie in a plane of R^3
    eig = np.linalg.eigvalsh(nll_hessian(theta, x))
    assert abs(eig.min()) < 1e-12 * eig.max()


@SETTINGS
@given(st.integers(0, 2**32 - 1), reals(0.0, 1.0))
def test_nll_is_convex_as_a_composition_with_a_linear_map(seed, lam):
    theta, x, labels = glm_data(seed)
    k = theta.shape[1] + 1
    other = np.random.default_rng(seed + 1).normal(size=theta.shape) * 3
    mixed = nll((lam * theta + (1 - lam) * other).ravel(), x, labels, k)
    chord = lam * nll(theta.ravel(), x, labels, k) + (1 - lam) * nll(other.ravel(), x, labels, k)
    assert mixed <= chord + 1e-10
    v = np.random.default_rng(seed + 2).normal(size=theta.size)
    t = np.linspace(-3, 3, 61)
    values = np.array([nll(theta.ravel() + ti * v, x, labels, k) for ti in t])
    assert np.all(values[2:] - 2 * values[1:-1] + values[:-2] >= -1e-11)


def test_separable_data_have_no_minimiser():
    """A weight vector that separates the classes: scaling it up lowers the loss forever."""
    x = np.array([[1.0, 2.0], [1.0, 1.5], [1.0, -1.0], [1.0, -2.5]])
    labels = np.array([0, 0, 1, 1])  # class 0 where x_1 > 0, the reference class 1 elsewhere
    theta = np.array([[0.0], [1.0]])
    losses = [nll(c * theta.ravel(), x, labels, 2) for c in (1, 2, 4, 8, 16)]
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 1e-6


# ---------------------------------------------------------------- the page itself


def test_chapter_labels_header_links_and_exercise_pointer():
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:")
    first_content = text.split("---\n", 2)[2].lstrip()
    assert first_content.startswith("(exponential-family-chapter)=")
    for label in [
        "exponential-family-goals",
        "exponential-family-definition",
        "exponential-family-bernoulli",
        "exponential-family-multinomial",
        "exponential-family-parameters",
        "exponential-family-indicator",
        "exponential-family-multinomial-derivation",
        "exponential-family-inverse",
        "exponential-family-reference-class",
        "exponential-family-numerics",
        "exponential-family-reference",
        "exponential-family-moments",
        "exponential-family-finite-differences",
        "exponential-family-convex",
        "exponential-family-glm",
        "exponential-family-hypothesis",
        "exponential-family-likelihood",
        "exponential-family-nll-convex",
        "exponential-family-summary",
    ]:
        assert f"({label})=" in text, label
    assert "{doc}`exponential_family_exercise`" in text
    assert "## Learning goals" in text and "## Summary" in text
    assert len(re.findall(r":    caption:", text)) == 4
    assert len(re.findall(r":    alt:", text)) == 4
    for key in ("ng_cs229", "mccullagh1989", "bishop2006", "blanchard2021"):
        assert key in text, key
    for label in (
        "def-ef-family",
        "prop-ef-bernoulli",
        "thm-ef-multinomial",
        "thm-ef-softmax-inverse",
        "thm-ef-moments",
        "cor-ef-multinomial-moments",
        "prop-ef-second-difference-step",
        "cor-ef-convex",
        "prop-ef-multinomial-pd",
        "def-ef-glm",
        "thm-ef-glm-softmax",
        "thm-ef-loglik-gradient",
        "thm-ef-nll-convex",
    ):
        assert f":label: {label}" in text, label
    assert "{ref}`cross-entropy-kl-log1p`" in text
    assert "\\varphi_K > 0" in text
    # every {ref} target exists on some chapter page
    labels = set()
    for page in (ROOT / "chapters").rglob("*.md"):
        labels |= set(re.findall(r"^\(([\w-]+)\)=\s*$", page.read_text(encoding="utf-8"), re.M))
    targets = set(re.findall(r"\{ref\}`(?:[^`<]*<)?([\w-]+)>?`", text))
    assert targets and targets <= labels, targets - labels
    # every {eq} target is defined on the page
    equations = set(re.findall(r"^\$\$ \(([\w-]+)\)$", text, re.M))
    assert set(re.findall(r"\{eq\}`([\w-]+)`", text)) <= equations
    # numbers quoted in the text
    for quoted in (
        "709.78",
        "1000.31",
        "(0.731, 0.269, 0)",
        "1.1 \\times",
        "0.36",
        "1.2 \\times 10^{-4}",
        "6 \\times 10^{-6}",
    ):
        assert quoted in text, quoted
    # the steps of the derivation are numbered (1) to (5), and their basis is listed
    for n in range(1, 6):
        assert f"\\text{{({n})}}" in text
    assert "The basis of each step" in text


VISIBLE_ASSERT = re.compile(r"^\s*assert\b|np\.testing\.assert|assert_allclose")
HIDDEN_TAGS = {"hide-input", "remove-input", "remove-cell"}


def test_at_most_15_visible_assert_lines():
    """Verification code is folded (hide-input) or lives in this file; the checks that teach
    stay in the open."""
    text = CHAPTER.read_text(encoding="utf-8")
    visible, in_cell, tags = [], False, set()
    for line in text.splitlines():
        if line.startswith("```{code-cell}"):
            in_cell, tags = True, set()
        elif in_cell and line.startswith("```"):
            in_cell = False
        elif in_cell and line.startswith(":tags:"):
            tags = {tag.strip(" '\"") for tag in line.split("[", 1)[1].rstrip("]").split(",")}
        elif in_cell and not tags & HIDDEN_TAGS and VISIBLE_ASSERT.search(line):
            visible.append(line)
    assert len(visible) <= 15, visible
