"""Tests for every identity stated in chapter 4, "Cross-entropy".

The chapter is chapters/04_cross_entropy/cross_entropy.md. Each group of tests names the section
label of the statements it checks. Values are checked against the reference implementations in
``autograder.reference`` and, where accuracy is the point, against 50-digit mpmath.
"""

import itertools
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.stats
from helpers import EPS, relative_error
from helpers import central_difference_gradient as numerical_gradient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from autograder import reference as ref

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "04_cross_entropy" / "cross_entropy.md"
DPS = 50


# ---------------------------------------------------------------- helpers


def finite_floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw, k=None, min_size=2, max_size=6, zeros=True):
    """A probability vector; with zeros=True some entries may be exactly 0."""
    if k is None:
        k = draw(st.integers(min_size, max_size))
    entry = finite_floats(1e-3, 1.0)
    if zeros:
        entry = st.one_of(st.just(0.0), entry)
    w = np.array(draw(st.lists(entry, min_size=k, max_size=k)))
    assume(w.sum() > 0.05)
    return w / w.sum()


def positive_distributions(k=None, min_size=2, max_size=6):
    return distributions(k=k, min_size=min_size, max_size=max_size, zeros=False)


def logit_vectors(k, lo=-30.0, hi=30.0):
    return arrays(np.float64, k, elements=finite_floats(lo, hi))


def mp_list(xs):
    return [mpmath.mpf(float(x)) for x in xs]


def cross_entropy_mp(p, q):
    """-sum_{p_i > 0} p_i log q_i at 50 digits (+inf if some q_i = 0 < p_i)."""
    with mpmath.workdps(DPS):
        total = mpmath.mpf(0)
        for pi, qi in zip(mp_list(p), mp_list(q), strict=True):
            if pi == 0:
                continue
            if qi == 0:
                return mpmath.inf
            total -= pi * mpmath.log(qi)
        return total


def log_softmax_mp(z):
    with mpmath.workdps(DPS):
        zs = mp_list(z)
        lse = mpmath.log(mpmath.fsum(mpmath.exp(zi) for zi in zs))
        return [zi - lse for zi in zs]


def softmax_ce_mp(z, y):
    """-sum_k y_k log softmax(z)_k at 50 digits for one example."""
    with mpmath.workdps(DPS):
        terms = zip(y, log_softmax_mp(z), strict=True)
        return -mpmath.fsum(mpmath.mpf(float(yk)) * lk for yk, lk in terms)


def digits_for(z):
    """Working digits for the definition at z: 1 - sigma(z) cancels about |z| / ln(10) digits."""
    return DPS + int(abs(float(z)) / 2.3) + 10


def bce_mp(z, y):
    """The binary cross-entropy from its definition, to 50 correct digits (z may be an mpf)."""
    with mpmath.workdps(max(mpmath.mp.dps, digits_for(z))):  # never lower a caller's precision
        z = z if isinstance(z, mpmath.mpf) else mpmath.mpf(float(z))
        y = mpmath.mpf(float(y))
        s = 1 / (1 + mpmath.exp(-z))
        return -(y * mpmath.log(s) + (1 - y) * mpmath.log(1 - s))


def gradient_check(f, grad_f, z, h=None):
    return relative_error(grad_f(z), numerical_gradient(f, z, h))


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


# ---------------------------------------------------------------- (cross-entropy-definition)


def test_x_log_x_tends_to_zero_in_50_digits():
    with mpmath.workdps(DPS):
        xs = [mpmath.mpf(10) ** -k for k in (1, 5, 20, 100, 1000)]
        values = [abs(x * mpmath.log(x)) for x in xs]
        assert all(a > b for a, b in itertools.pairwise(values))  # decreasing towards 0
        assert values[3] < mpmath.mpf(10) ** -97
        assert values[4] < mpmath.mpf(10) ** -996
        # and x log x = -log(t) / t with t = 1/x, which L'Hopital sends to 0
        for x in xs:
            assert mpmath.almosteq(x * mpmath.log(x), -mpmath.log(1 / x) * x, 1e-45)


def test_zero_log_zero_counts_zero_in_reference():
    # A 0 log 0 term in the entropy, and 0 log q terms in the cross-entropy.
    assert ref.cross_entropy([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == pytest.approx(np.log(2))
    assert ref.cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert ref.cross_entropy([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(np.log(4))


@settings(max_examples=80, deadline=None)
@given(distributions(), st.data())
def test_terms_with_zero_reference_probability_count_zero(p, data):
    q = data.draw(positive_distributions(k=len(p)))
    q_masked = np.where(p > 0, q, 0.0)  # q may even vanish where p does
    support = p > 0
    expected = -np.sum(p[support] * np.log(q_masked[support]))
    assert np.isfinite(ref.cross_entropy(p, q_masked))
    np.testing.assert_allclose(ref.cross_entropy(p, q_masked), expected, rtol=1e-13, atol=1e-300)


@settings(max_examples=80, deadline=None)
@given(distributions(), st.data())
def test_cross_entropy_matches_definition_in_50_digits(p, data):
    q = data.draw(positive_distributions(k=len(p)))
    np.testing.assert_allclose(ref.cross_entropy(p, q), float(cross_entropy_mp(p, q)), rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(positive_distributions(), st.data())
def test_cross_entropy_is_infinite_when_q_misses_the_support(p, data):
    j = data.draw(st.integers(0, len(p) - 1))
    q = data.draw(positive_distributions(k=len(p)))
    q[j] = 0.0
    q /= q.sum()
    assert ref.cross_entropy(p, q) == np.inf
    assert ref.kl_divergence(p, q) == np.inf
    assert cross_entropy_mp(p, q) == mpmath.inf


# ---------------------------------------------------------------- (cross-entropy-asymmetry)

P_EX = np.array([0.9, 0.05, 0.05])
Q_EX = np.full(3, 1 / 3)


def test_asymmetry_worked_example_in_50_digits():
    with mpmath.workdps(DPS):
        p = [mpmath.mpf("0.9"), mpmath.mpf("0.05"), mpmath.mpf("0.05")]
        q = [mpmath.mpf(1) / 3] * 3
        h_pq = -mpmath.fsum(pi * mpmath.log(qi) for pi, qi in zip(p, q, strict=True))
        h_qp = -mpmath.fsum(qi * mpmath.log(pi) for pi, qi in zip(p, q, strict=True))
        assert mpmath.almosteq(h_pq, mpmath.log(3), 1e-45)
        assert mpmath.almosteq(h_qp, -(mpmath.log(p[0]) + 2 * mpmath.log(p[1])) / 3, 1e-45)
    assert ref.cross_entropy(P_EX, Q_EX) == pytest.approx(float(h_pq), rel=1e-15)
    assert ref.cross_entropy(Q_EX, P_EX) == pytest.approx(float(h_qp), rel=1e-15)
    # the rounded values printed in the text
    assert round(float(h_pq), 4) == 1.0986
    assert round(float(h_qp), 4) == 2.0323
    assert float(h_qp) - float(h_pq) > 0.9


def test_asymmetry_expectation_is_under_the_first_argument():
    rng = np.random.default_rng(1)
    from_p = rng.choice(3, size=200_000, p=P_EX)
    from_q = rng.choice(3, size=200_000, p=Q_EX)
    assert np.mean(-np.log(Q_EX[from_p])) == pytest.approx(ref.cross_entropy(P_EX, Q_EX), rel=1e-12)
    assert np.mean(-np.log(P_EX[from_q])) == pytest.approx(ref.cross_entropy(Q_EX, P_EX), abs=0.02)
    # averaging under the wrong distribution gives the other number
    assert abs(np.mean(-np.log(P_EX[from_q])) - ref.cross_entropy(P_EX, Q_EX)) > 0.5


def test_asymmetry_with_a_one_hot_reference():
    label = np.array([1.0, 0.0, 0.0])
    model = np.array([0.7, 0.2, 0.1])
    assert ref.cross_entropy(label, model) == pytest.approx(-np.log(0.7), rel=1e-15)
    assert ref.cross_entropy(model, label) == np.inf


@settings(max_examples=60, deadline=None)
@given(positive_distributions(k=3), positive_distributions(k=3))
def test_cross_entropy_is_not_symmetric_in_general(p, q):
    # H(p, q) - H(q, p) = H(p) - H(q) + KL(p||q) - KL(q||p); it vanishes only by coincidence.
    diff = ref.cross_entropy(p, q) - ref.cross_entropy(q, p)
    expected = (
        ref.cross_entropy(p, p)
        - ref.cross_entropy(q, q)
        + ref.kl_divergence(p, q)
        - ref.kl_divergence(q, p)
    )
    assert diff == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- (cross-entropy-kl)


@settings(max_examples=100, deadline=None)
@given(distributions(), st.data())
def test_cross_entropy_is_entropy_plus_kl(p, data):
    q = data.draw(positive_distributions(k=len(p)))
    np.testing.assert_allclose(
        ref.cross_entropy(p, q),
        ref.cross_entropy(p, p) + ref.kl_divergence(p, q),
        rtol=1e-12,
        atol=1e-14,
    )


def test_decomposition_numbers_of_the_text():
    assert ref.cross_entropy(P_EX, P_EX) == pytest.approx(0.394398, abs=1e-6)
    assert ref.kl_divergence(P_EX, Q_EX) == pytest.approx(0.704215, abs=1e-6)
    with mpmath.workdps(DPS):
        kl = mpmath.fsum(
            pi * mpmath.log(pi * 3)
            for pi in (mpmath.mpf("0.9"), mpmath.mpf("0.05"), mpmath.mpf("0.05"))
        )
    assert ref.kl_divergence(P_EX, Q_EX) == pytest.approx(float(kl), rel=1e-14)


@settings(max_examples=100, deadline=None)
@given(finite_floats(1e-300, 1e300))
def test_log_is_below_its_tangent(x):
    with mpmath.workdps(DPS):
        assert mpmath.log(mpmath.mpf(x)) <= mpmath.mpf(x) - 1


def test_log_tangent_bound_is_tight_only_at_one():
    with mpmath.workdps(DPS):
        assert mpmath.log(1) == 0
        for x in ("0.999", "1.001", "0.5", "2"):
            assert mpmath.log(mpmath.mpf(x)) < mpmath.mpf(x) - 1


@settings(max_examples=100, deadline=None)
@given(distributions(), st.data())
def test_kl_is_nonnegative(p, data):
    q = data.draw(distributions(k=len(p)))
    assert ref.kl_divergence(p, q) >= 0


@settings(max_examples=100, deadline=None)
@given(distributions())
def test_kl_is_zero_for_equal_distributions(p):
    assert ref.kl_divergence(p, p) == 0.0
    assert ref.cross_entropy(p, p) == pytest.approx(-np.sum(p[p > 0] * np.log(p[p > 0])))


@settings(max_examples=100, deadline=None)
@given(positive_distributions(), st.data())
def test_kl_is_positive_for_different_distributions(p, data):
    q = data.draw(positive_distributions(k=len(p)))
    gap = np.abs(p - q).sum()
    assume(gap > 1e-3)
    # Pinsker's inequality KL >= gap^2 / 2 makes "positive" quantitative.
    assert ref.kl_divergence(p, q) >= 0.5 * gap**2 * (1 - 1e-9)
    assert ref.cross_entropy(p, q) > ref.cross_entropy(p, p)


def test_kl_gibbs_second_step_mass_outside_support():
    # q equal to p on the support of p but with extra mass elsewhere is impossible for a
    # distribution; q proportional to p on the support and with mass outside gives KL > 0.
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.4, 0.4, 0.2])
    assert ref.kl_divergence(p, q) == pytest.approx(np.log(0.5 / 0.4), rel=1e-14)
    assert ref.kl_divergence(p, q) > 0


def test_kl_is_not_symmetric():
    assert ref.kl_divergence(P_EX, Q_EX) != pytest.approx(ref.kl_divergence(Q_EX, P_EX), rel=0.1)


def test_minimising_cross_entropy_over_q_recovers_p():
    def softmax_w(w):
        return ref.softmax(w)

    res = minimize(lambda w: ref.cross_entropy(P_EX, softmax_w(w)), np.zeros(3), method="BFGS")
    np.testing.assert_allclose(softmax_w(res.x), P_EX, atol=1e-4)
    assert res.fun == pytest.approx(ref.cross_entropy(P_EX, P_EX), abs=1e-8)


# ---------------------------------------------------------------- (cross-entropy-kl-log1p)


def kl_plain(p, q):
    return np.sum(p * np.log(p / q))


def kl_log1p(p, q):
    """-sum p_k log1p((q_k - p_k) / p_k): the form of the text, for q within a factor 2 of p."""
    return -np.sum(p * np.log1p((q - p) / p))


def kl_exact(p, q):
    with mpmath.workdps(DPS):
        return mpmath.fsum(
            mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(a)) / mpmath.mpf(float(b)))
            for a, b in zip(p, q, strict=True)
        )


def near_pair(rng, rho, k=5):
    p = rng.dirichlet(np.ones(k))
    r = rho * rng.normal(size=k)
    return p, p * (1 + r) / np.sum(p * (1 + r))


@pytest.mark.parametrize("rho", [1e-2, 1e-4, 1e-6, 1e-8])
def test_log1p_form_of_kl_loses_only_u_over_rho(rho):
    # Each log is accurate to a few ulp of itself; the sum of terms of size rho p_k and both
    # signs leaves a relative error of order u / rho (u = eps / 2), where the plain log(p/q)
    # leaves u / rho^2. Medians over 40 pairs, with generous constants.
    rng = np.random.default_rng(7)
    u = EPS / 2
    plain, log1p = [], []
    for _ in range(40):
        p, q = near_pair(rng, rho)
        exact = float(kl_exact(p, q))
        plain.append(abs(kl_plain(p, q) / exact - 1))
        log1p.append(abs(kl_log1p(p, q) / exact - 1))
        # the reference uses the same rewriting (as log(p/q) = log1p((p - q)/q))
        assert abs(ref.kl_divergence(p, q) / exact - 1) < 100 * u / rho
    assert np.median(log1p) < 20 * u / rho
    assert np.median(plain) > 0.01 * min(u / rho**2, 1.0)
    if rho <= 1e-4:
        assert np.median(log1p) < np.median(plain) / 100


def test_kl_log1p_example_of_the_text_and_sterbenz():
    # q - p is exact when p / 2 <= q <= 2 p (Sterbenz): checked at 50 digits
    rng = np.random.default_rng(3)
    for _ in range(200):
        p, q = near_pair(rng, 1e-3)
        with mpmath.workdps(DPS):
            for a, b in zip(p, q, strict=True):
                assert mpmath.mpf(float(b - a)) == mpmath.mpf(float(b)) - mpmath.mpf(float(a))
    # the teaching implementation in the page, for equal and disjoint supports
    assert kl_log1p(P_EX, P_EX) == 0.0
    np.testing.assert_allclose(kl_log1p(P_EX, Q_EX), ref.kl_divergence(P_EX, Q_EX), rtol=1e-14)


# ---------------------------------------------------------------- (cross-entropy-units)


def test_bits_are_nats_divided_by_ln2():
    with mpmath.workdps(DPS):
        p = [mpmath.mpf("0.9"), mpmath.mpf("0.05"), mpmath.mpf("0.05")]
        h_bits = -mpmath.fsum(pi * mpmath.log(mpmath.mpf(1) / 3, 2) for pi in p)
        assert mpmath.almosteq(h_bits, mpmath.log(3, 2), 1e-40)
    assert ref.cross_entropy(P_EX, Q_EX) / np.log(2) == pytest.approx(float(h_bits), rel=1e-15)
    assert ref.cross_entropy(np.full(8, 1 / 8), np.full(8, 1 / 8)) / np.log(2) == pytest.approx(3.0)
    assert 1 / np.log(2) == pytest.approx(1.4427, abs=1e-4)


# ---------------------------------------------------------------- (cross-entropy-softmax-loss)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5), st.integers(2, 5), st.data())
def test_softmax_ce_equals_minus_yz_plus_lse(n, k, data):
    Z = data.draw(arrays(np.float64, (n, k), elements=finite_floats(-50, 50)))
    Y = np.stack([data.draw(distributions(k=k)) for _ in range(n)])
    lse_form = np.mean(-np.sum(Y * Z, axis=1) + Y.sum(axis=1) * ref.logsumexp(Z))
    scale = np.mean(np.sum(Y * np.abs(Z), axis=1) + np.abs(ref.logsumexp(Z))) + 1
    np.testing.assert_allclose(
        ref.softmax_cross_entropy(Z, Y), lse_form, rtol=1e-13, atol=1e-14 * scale
    )


@settings(max_examples=40, deadline=None)
@given(logit_vectors(4), distributions(k=4))
def test_softmax_ce_matches_definition_in_50_digits(z, y):
    exact = float(softmax_ce_mp(z, y))
    np.testing.assert_allclose(
        ref.softmax_cross_entropy(z[None], y[None]), exact, rtol=1e-12, atol=1e-300
    )


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4), arrays(np.float64, 4, elements=finite_floats(0, 3)))
def test_lse_form_holds_for_weights_not_summing_to_one(z, y):
    lhs = -np.sum(y * ref.log_softmax(z))
    rhs = -y @ z + y.sum() * ref.logsumexp(z)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12 * (1 + np.abs(y) @ np.abs(z)))


@settings(max_examples=60, deadline=None)
@given(logit_vectors(5, -200, 200))
def test_log_softmax_is_logits_minus_lse(z):
    np.testing.assert_allclose(
        ref.log_softmax(z), z - ref.logsumexp(z), rtol=1e-13, atol=1e-13 * (1 + np.max(np.abs(z)))
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(2, 5), st.data())
def test_cross_entropy_is_negative_log_likelihood_of_a_categorical_model(n, k, data):
    # cross-entropy-one-hot (prop-cross-entropy-nll): -log prod_n q_{n, y_n} / N is the loss
    Z = data.draw(arrays(np.float64, (n, k), elements=finite_floats(-20, 20)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    Q = ref.softmax(Z)
    Y = one_hot(labels, k)
    log_likelihood = sum(scipy.stats.multinomial.logpmf(Y[i], n=1, p=Q[i]) for i in range(n))
    np.testing.assert_allclose(
        ref.softmax_cross_entropy(Z, labels), -log_likelihood / n, rtol=1e-12, atol=1e-14
    )
    # q_y = prod_k q_k^{y_k}
    for i in range(n):
        assert np.prod(Q[i] ** Y[i]) == Q[i, labels[i]]


def test_maximum_likelihood_constant_model_predicts_class_frequencies():
    # the text's example: the minimiser of H(p_hat, softmax(b)) is p_hat
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, size=200)
    freq = np.bincount(labels, minlength=3) / 200
    res = minimize(
        lambda b: ref.softmax_cross_entropy(np.tile(b, (200, 1)), labels),
        np.zeros(3),
        method="BFGS",
    )
    np.testing.assert_allclose(ref.softmax(res.x), freq, atol=1e-5)
    assert res.fun == pytest.approx(ref.cross_entropy(freq, freq), abs=1e-10)
    # and the mean loss of any constant model is H(p_hat, q)
    b = rng.normal(size=3)
    assert ref.softmax_cross_entropy(np.tile(b, (200, 1)), labels) == pytest.approx(
        ref.cross_entropy(freq, ref.softmax(b)), rel=1e-13
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(2, 5), st.data())
def test_one_hot_loss_is_lse_minus_true_logit(n, k, data):
    Z = data.draw(arrays(np.float64, (n, k), elements=finite_floats(-30, 30)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    expected = np.mean(ref.logsumexp(Z) - Z[np.arange(n), labels])
    loss = ref.softmax_cross_entropy(Z, labels)
    np.testing.assert_allclose(loss, expected, rtol=1e-13, atol=1e-13)
    # class indices and the equivalent one-hot rows are the same label
    np.testing.assert_allclose(ref.softmax_cross_entropy(Z, one_hot(labels, k)), loss, rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4, -40, 40), st.integers(0, 3))
def test_one_hot_loss_is_softplus_of_margin(z, c):
    margin = ref.logsumexp(np.delete(z, c)) - z[c]
    exact = softmax_ce_mp(z, np.eye(4)[c])
    np.testing.assert_allclose(ref.softplus(margin), float(exact), rtol=1e-12)
    np.testing.assert_allclose(ref.softmax_cross_entropy(z[None], [c]), float(exact), rtol=1e-12)


def test_lse_minus_true_logit_loses_relative_accuracy_for_a_confident_right_answer():
    z = np.array([30.0, -5.0, 0.0])
    with mpmath.workdps(DPS):
        exact = float(mpmath.log(1 + mpmath.exp(-35) + mpmath.exp(-30)))
    lse_form = ref.logsumexp(z) - z[0]  # the subtraction the text warns about
    softplus_form = ref.softplus(ref.logsumexp(z[1:]) - z[0])
    assert abs(lse_form - exact) < 30 * EPS  # small in absolute terms
    assert abs(lse_form / exact - 1) > 1e-3  # but a visible relative error
    assert softplus_form == pytest.approx(exact, rel=1e-14)
    assert ref.softmax_cross_entropy(z[None], [0]) == pytest.approx(exact, rel=1e-13)


def test_loss_asymptotes_of_the_figure():
    others = np.array([2.0, 0.0])
    for t in (-40.0, -20.0):  # far below: loss ~ LSE(others) - t
        z = np.concatenate([[t], others])
        loss = ref.softmax_cross_entropy(z[None], [0])
        assert loss == pytest.approx(ref.logsumexp(others) - t, abs=1e-8)
        assert loss >= ref.logsumexp(others) - t  # approached from above
    for t in (20.0, 40.0):  # far above: loss ~ exp(LSE(others) - t) > 0
        z = np.concatenate([[t], others])
        loss = ref.softmax_cross_entropy(z[None], [0])
        assert 0 < loss
        assert loss == pytest.approx(np.exp(ref.logsumexp(others) - t), rel=1e-6)


# ---------------------------------------------------------------- (cross-entropy-gradient)


@settings(max_examples=40, deadline=None)
@given(positive_distributions(k=4), distributions(k=4))
def test_step1_derivative_of_loss_with_respect_to_q(q, y):
    def loss_of_q(qq):
        return -np.sum(y * np.log(qq))

    np.testing.assert_allclose(
        numerical_gradient(loss_of_q, q, h=1e-7), -y / q, rtol=1e-5, atol=1e-6
    )


@settings(max_examples=40, deadline=None)
@given(logit_vectors(4, -10, 10))
def test_step2_softmax_jacobian(z):
    q = ref.softmax(z)
    jac = ref.softmax_jacobian(z)
    np.testing.assert_allclose(jac, np.diag(q) - np.outer(q, q), atol=1e-16)
    fd = np.stack([numerical_gradient(lambda w, i=i: ref.softmax(w)[i], z) for i in range(4)])
    np.testing.assert_allclose(jac, fd, atol=1e-9)  # row i holds dq_i / dz_j


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4, -10, 10), positive_distributions(k=4))
def test_step3_and_4_chain_rule_gives_softmax_minus_label(z, y):
    q = ref.softmax(z)
    chain = ref.softmax_jacobian(z).T @ (-y / q)
    np.testing.assert_allclose(chain, q - y, atol=1e-13)
    np.testing.assert_allclose(
        ref.softmax_cross_entropy_grad(z[None], y[None])[0], q - y, atol=1e-15
    )


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4, -10, 10), arrays(np.float64, 4, elements=finite_floats(0.01, 3)))
def test_step3_general_labels_give_minus_y_plus_sum_y_times_q(z, y):
    q = ref.softmax(z)
    chain = ref.softmax_jacobian(z).T @ (-y / q)
    np.testing.assert_allclose(chain, -y + y.sum() * q, atol=1e-12)
    # and it is the gradient of -sum y log softmax(z), by finite differences
    fd = numerical_gradient(lambda w: -np.sum(y * ref.log_softmax(w)), z)
    np.testing.assert_allclose(fd, -y + y.sum() * q, atol=1e-8)
    if abs(y.sum() - 1) > 0.05:
        assert not np.allclose(chain, q - y, atol=1e-3)


def test_gradient_in_50_digits():
    z = np.array([2.0, -1.0, 0.5])
    y = np.array([0.7, 0.1, 0.2])

    def loss(*zs):
        exps = [mpmath.exp(zk) for zk in zs]
        total = mpmath.fsum(exps)
        return -mpmath.fsum(
            mpmath.mpf(float(yk)) * mpmath.log(ek / total) for yk, ek in zip(y, exps, strict=True)
        )

    with mpmath.workdps(DPS):
        exact = [
            float(mpmath.diff(loss, tuple(mp_list(z)), tuple(int(i == j) for i in range(3))))
            for j in range(3)
        ]
    np.testing.assert_allclose(
        ref.softmax_cross_entropy_grad(z[None], y[None])[0], exact, rtol=1e-14, atol=1e-16
    )
    np.testing.assert_allclose(ref.softmax(z) - y, exact, rtol=1e-14, atol=1e-16)


@settings(max_examples=60, deadline=None)
@given(logit_vectors(5, -50, 50), positive_distributions(k=5))
def test_gradient_entries_sum_to_zero(z, y):
    g = ref.softmax_cross_entropy_grad(z[None], y[None])[0]
    assert abs(g.sum()) < 1e-14


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4, -20, 20), st.integers(0, 3))
def test_one_hot_gradient_is_q_minus_one_at_the_true_class_and_q_elsewhere(z, c):
    g = ref.softmax_cross_entropy_grad(z[None], [c])[0]
    q = ref.softmax(z)
    np.testing.assert_allclose(g[c], q[c] - 1, atol=1e-15)
    others = np.arange(4) != c
    np.testing.assert_allclose(g[others], q[others], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(
        g, ref.softmax_cross_entropy_grad(z[None], np.eye(4)[[c]])[0], rtol=1e-15, atol=1e-300
    )


def test_article_literal_formula_is_wrong_off_the_true_class():
    z = np.array([2.0, -1.0, 0.5])
    c = 2
    y = np.eye(3)[c]
    q = ref.softmax(z)
    literal = y * (q - 1)
    correct = ref.softmax_cross_entropy_grad(z[None], [c])[0]
    assert literal[c] == pytest.approx(correct[c], rel=1e-15)  # agrees at the true class
    assert np.all(literal[:2] == 0) and np.all(correct[:2] > 0.03)  # not elsewhere
    fd = numerical_gradient(lambda w: ref.softmax_cross_entropy(w[None], [c]), z)
    assert relative_error(correct, fd) < 1e-9
    assert relative_error(literal, fd) > 0.5


# ---------------------------------------------------------------- (cross-entropy-squared-error)


def squared_error(z, y):
    return 0.5 * np.sum((ref.softmax(z) - y) ** 2)


def squared_error_grad(z, y):
    q = ref.softmax(z)
    r = q - y
    return q * (r - q @ r)


@settings(max_examples=60, deadline=None)
@given(logit_vectors(4, -10, 10), st.integers(0, 3))
def test_squared_error_gradient_is_jacobian_transpose_times_residual(z, c):
    # prop-cross-entropy-squared-error-gradient, by the Jacobian and by finite differences
    y = np.eye(4)[c]
    q = ref.softmax(z)
    g = squared_error_grad(z, y)
    np.testing.assert_allclose(g, ref.softmax_jacobian(z).T @ (q - y), atol=1e-15)
    fd = numerical_gradient(lambda w: squared_error(w, y), z)
    np.testing.assert_allclose(g, fd, atol=1e-9)


def test_squared_error_gradient_in_50_digits():
    z, y = [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]

    def loss(*zs):
        exps = [mpmath.exp(v) for v in zs]
        total = mpmath.fsum(exps)
        return mpmath.fsum((e / total - yk) ** 2 for e, yk in zip(exps, y, strict=True)) / 2

    with mpmath.workdps(DPS):
        exact = [
            float(mpmath.diff(loss, tuple(mp_list(z)), tuple(int(i == j) for i in range(3))))
            for j in range(3)
        ]
    np.testing.assert_allclose(squared_error_grad(np.array(z), np.array(y)), exact, rtol=1e-13)


@pytest.mark.parametrize("wrong", [1, 2])
def test_squared_error_saturates_when_confidently_wrong(wrong):
    # prop-cross-entropy-squared-error-saturates: |grad CE| -> sqrt 2, |grad E| -> 0 like e^-z_w
    y = np.eye(3)[0]
    previous = np.inf
    for t in (4.0, 8.0, 12.0, 16.0):
        z = np.zeros(3)
        z[wrong] = t
        q = ref.softmax(z)
        g_ce = np.linalg.norm(ref.softmax_cross_entropy_grad(z[None], [0])[0])
        g_se = np.linalg.norm(squared_error_grad(z, y))
        assert g_se <= np.sqrt(2) * np.linalg.norm(ref.softmax_jacobian(z)) + 1e-15
        assert g_ce == pytest.approx(np.sqrt(2), abs=3 * np.exp(-t))
        assert g_se == pytest.approx(np.sqrt(14) * np.exp(-t), rel=0.1)  # (-2, 3, -1) e^-t
        assert g_se < previous
        previous = g_se
        assert squared_error(z, y) <= 1.0 and q[0] < 1.0


def test_squared_error_figure_numbers():
    # the numbers in the text and alt text of fig-ce-vs-squared-error, for logits (0, z_2, 0)
    y = np.eye(3)[0]

    def at(t):
        z = np.array([0.0, t, 0.0])
        return (
            squared_error(z, y),
            ref.softmax_cross_entropy(z[None], [0]),
            np.linalg.norm(squared_error_grad(z, y)),
            np.linalg.norm(ref.softmax(z) - y),
            ref.softmax(z)[0],
        )

    se, ce, g_se, g_ce, q1 = at(-2.0)
    assert round(se, 2) == 0.25 and round(ce, 2) == 0.76
    assert round(g_se, 1) == 0.3 and round(g_ce, 1) == 0.7
    se, ce, g_se, g_ce, q1 = at(14.0)
    assert q1 < 1e-6 and abs(se - 1) < 1e-5 and round(ce) == 14
    assert 3e-6 < g_se < 3.5e-6 and 4e5 < g_ce / g_se < 5e5


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 5), st.data())
def test_batch_gradient_is_softmax_minus_y_over_n(n, k, data):
    Z = data.draw(arrays(np.float64, (n, k), elements=finite_floats(-8, 8)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    g = ref.softmax_cross_entropy_grad(Z, labels)
    np.testing.assert_allclose(g, (ref.softmax(Z) - one_hot(labels, k)) / n, atol=1e-16)
    fd = numerical_gradient(lambda W: ref.softmax_cross_entropy(W, labels), Z)
    assert relative_error(g, fd) < 1e-8
    # the gradient of the sum is N times the gradient of the mean
    fd_sum = numerical_gradient(lambda W: n * ref.softmax_cross_entropy(W, labels), Z)
    assert relative_error(n * g, fd_sum) < 1e-8


def test_batch_gradient_with_soft_labels():
    rng = np.random.default_rng(4)
    Z = rng.normal(scale=2.0, size=(4, 3))
    Y = rng.dirichlet(np.ones(3), size=4)
    g = ref.softmax_cross_entropy_grad(Z, Y)
    np.testing.assert_allclose(g, (ref.softmax(Z) - Y) / 4, atol=1e-16)
    fd = numerical_gradient(lambda W: ref.softmax_cross_entropy(W, Y), Z)
    assert relative_error(g, fd) < 1e-8


# ---------------------------------------------------------------- (cross-entropy-log-softmax)


def test_naive_log_of_softmax_fails():
    z = np.array([0.0, -1000.0])
    q = ref.softmax(z)
    assert q[1] == 0.0  # e^-1000 underflows
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        np.log(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        loss_true_class = -log_q[1]
        loss_other_label = -np.array([1.0, 0.0]) @ log_q  # 0 * (-inf)
    assert loss_true_class == np.inf
    assert np.isnan(loss_other_label)


def test_stable_log_softmax_succeeds():
    z = np.array([0.0, -1000.0])
    with mpmath.workdps(DPS):
        exact = 1000 + mpmath.log1p(mpmath.exp(-1000))
        assert exact - 1000 < mpmath.mpf(10) ** -434
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        np.testing.assert_array_equal(ref.log_softmax(z), [0.0, -1000.0])
        assert ref.softmax_cross_entropy(z[None], [1]) == float(exact) == 1000.0
        assert ref.softmax_cross_entropy(z[None], [0]) == 0.0
        assert ref.softmax_cross_entropy(z[None], np.array([[1.0, 0.0]])) == 0.0


def _naive_loss(d, dtype):
    z = np.array([0.0, -d], dtype=dtype)
    with np.errstate(divide="ignore", under="ignore"):
        e = np.exp(z - z.max())
        return -np.log(e[1] / e.sum())


@pytest.mark.parametrize(
    ("dtype", "last_finite", "first_inf"),
    [(np.float32, 103.0, 105.0), (np.float64, 744.0, 746.0)],
)
def test_naive_loss_breaks_where_the_text_says(dtype, last_finite, first_inf):
    assert np.isfinite(_naive_loss(last_finite, dtype))
    assert _naive_loss(first_inf, dtype) == np.inf
    # the stable loss is the exact softplus(d) at both
    for d in (last_finite, first_inf, 1000.0):
        stable = ref.softmax_cross_entropy(np.array([[0.0, -d]], dtype=dtype), [1])
        assert stable.dtype == dtype
        np.testing.assert_allclose(stable, d, rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_break_points_follow_from_the_smallest_subnormal():
    tiny32 = float(np.finfo(np.float32).smallest_subnormal)
    tiny64 = float(np.finfo(np.float64).smallest_subnormal)
    assert -np.log(tiny32) == pytest.approx(103.28, abs=0.01)
    assert -np.log(tiny64) == pytest.approx(744.44, abs=0.01)


# ---------------------------------------------------------------- (cross-entropy-binary)


@settings(max_examples=80, deadline=None)
@given(finite_floats(-700, 700))
def test_log_sigmoid_identities(z):
    with mpmath.workdps(digits_for(z)):  # enough digits for the definition to survive 1 - s
        s = 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
        log_s, log_1ms = float(mpmath.log(s)), float(mpmath.log(1 - s))
    np.testing.assert_allclose(ref.log_sigmoid(z), log_s, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(-ref.softplus(-z), log_s, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(-ref.softplus(z), log_1ms, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(ref.log_sigmoid(-z), log_1ms, rtol=1e-13, atol=1e-300)


@settings(max_examples=80, deadline=None)
@given(finite_floats(-700, 700))
def test_softplus_difference_is_the_identity(z):
    np.testing.assert_allclose(ref.softplus(z) - ref.softplus(-z), z, rtol=1e-14, atol=1e-14)


@settings(max_examples=80, deadline=None)
@given(finite_floats(-60, 60), finite_floats(0, 1))
def test_bce_matches_definition_in_50_digits(z, y):
    exact = float(bce_mp(z, y))
    np.testing.assert_allclose(
        ref.binary_cross_entropy_with_logits(z, y), exact, rtol=1e-13, atol=1e-300
    )


@settings(max_examples=80, deadline=None)
@given(finite_floats(-500, 500), finite_floats(0, 1))
def test_bce_is_softplus_minus_yz(z, y):
    np.testing.assert_allclose(
        ref.binary_cross_entropy_with_logits(z, y),
        ref.softplus(z) - y * z,
        rtol=1e-13,
        atol=4 * EPS * (1 + abs(z)),
    )


@settings(max_examples=80, deadline=None)
@given(finite_floats(-500, 500), finite_floats(0, 1))
def test_bce_is_two_class_softmax_ce_with_logits_z_and_zero(z, y):
    two_class = ref.softmax_cross_entropy(np.array([[z, 0.0]]), np.array([[y, 1 - y]]))
    np.testing.assert_allclose(
        ref.binary_cross_entropy_with_logits(z, y),
        two_class,
        rtol=1e-13,
        atol=4 * EPS * (1 + abs(z)),
    )


@settings(max_examples=60, deadline=None)
@given(finite_floats(-30, 30), finite_floats(0, 1))
def test_bce_gradient_is_sigmoid_minus_label(z, y):
    with mpmath.workdps(DPS):
        exact = float(mpmath.diff(lambda t: bce_mp(t, y), mpmath.mpf(z)))
    np.testing.assert_allclose(ref.sigmoid(z) - y, exact, rtol=1e-12, atol=1e-15)
    fd = numerical_gradient(
        lambda w: ref.binary_cross_entropy_with_logits(w, np.array([y])), np.array([z])
    )
    np.testing.assert_allclose(fd[0], exact, atol=1e-9)
    # the first entry of the 2-class softmax gradient is the same number
    g2 = ref.softmax_cross_entropy_grad(np.array([[z, 0.0]]), np.array([[y, 1 - y]]))[0]
    np.testing.assert_allclose(g2[0], exact, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g2[1], -g2[0], atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(finite_floats(-1e4, 1e4), st.sampled_from([0.0, 1.0]))
def test_bce_stable_max_form_for_hard_labels(z, y):
    stable = (max(z, 0.0) - z * y) + np.log1p(np.exp(-abs(z)))
    np.testing.assert_allclose(
        stable, ref.binary_cross_entropy_with_logits(z, y), rtol=1e-14, atol=1e-300
    )


@settings(max_examples=80, deadline=None)
@given(finite_floats(-1e3, 1e3), finite_floats(0, 1))
def test_bce_stable_max_form_for_soft_labels(z, y):
    stable = (max(z, 0.0) - z * y) + np.log1p(np.exp(-abs(z)))
    np.testing.assert_allclose(
        stable, ref.binary_cross_entropy_with_logits(z, y), rtol=1e-13, atol=4 * EPS * (1 + abs(z))
    )


def test_bce_naive_form_fails_at_z_40():
    s = 1 / (1 + np.exp(-40.0))
    assert s == 1.0
    with np.errstate(divide="ignore"):
        naive = -(0.0 * np.log(s) + 1.0 * np.log(1 - s))
    assert naive == np.inf
    assert ref.binary_cross_entropy_with_logits(40.0, 0.0) == float(bce_mp(40, 0)) == 40.0


def test_bce_hard_label_tiny_loss_keeps_relative_precision():
    exact = float(bce_mp(40, 1))
    assert exact == pytest.approx(4.2e-18, rel=0.02)
    stable = (max(40.0, 0.0) - 40.0 * 1.0) + np.log1p(np.exp(-40.0))
    assert stable == pytest.approx(exact, rel=1e-15)
    assert ref.binary_cross_entropy_with_logits(40.0, 1.0) == pytest.approx(exact, rel=1e-14)
    assert ref.softplus(40.0) - 1.0 * 40.0 == 0.0  # zeta(z) - yz evaluated literally


# ---------------------------------------------------------------- (cross-entropy-gradient-check)


def _batch():
    rng = np.random.default_rng(0)
    return rng.normal(scale=2.0, size=(4, 3)), np.array([0, 2, 1, 2])


def test_central_difference_truncation_error_is_second_order():
    z = np.array([1.3, -0.4, 2.1])
    g = ref.softmax_cross_entropy_grad(z[None], [0])[0, 0]

    def f(w):
        return ref.softmax_cross_entropy(w[None], [0])

    def central(h):
        e = np.zeros(3)
        e[0] = h
        return (f(z + e) - f(z - e)) / (2 * h) - g

    def forward(h):
        e = np.zeros(3)
        e[0] = h
        return (f(z + e) - f(z)) / h - g

    assert central(1e-2) / central(5e-3) == pytest.approx(4.0, rel=0.01)
    assert forward(1e-3) / forward(5e-4) == pytest.approx(2.0, rel=0.01)


def test_best_central_step_near_cube_root_of_eps_beats_forward():
    z = np.array([1.3, -0.4, 2.1])
    g = ref.softmax_cross_entropy_grad(z[None], [0])[0, 0]

    def f(w):
        return ref.softmax_cross_entropy(w[None], [0])

    hs = np.logspace(-14, -1, 131)
    fwd, cen = [], []
    for h in hs:
        zp, zm = z.copy(), z.copy()
        zp[0] += h
        zm[0] -= h
        fwd.append(abs((f(zp) - f(z)) / (zp[0] - z[0]) - g) / abs(g))
        cen.append(abs((f(zp) - f(zm)) / (zp[0] - zm[0]) - g) / abs(g))
    fwd, cen = np.array(fwd), np.array(cen)
    assert cen.min() < fwd.min() / 100
    i_cbrt = np.argmin(abs(np.log(hs / EPS ** (1 / 3))))
    i_sqrt = np.argmin(abs(np.log(hs / EPS ** (1 / 2))))
    assert cen[i_cbrt] < 1e-9 and fwd[i_sqrt] < 1e-7
    assert cen[0] > 1e-4 and cen[-1] > 1e-5  # too small and too large a step both hurt
    assert EPS ** (1 / 3) == pytest.approx(6.06e-6, rel=1e-3)
    assert EPS ** (2 / 3) == pytest.approx(3.67e-11, rel=1e-2)


def test_gradient_check_accepts_the_correct_gradient():
    Z, labels = _batch()
    err = gradient_check(
        lambda W: ref.softmax_cross_entropy(W, labels),
        lambda W: ref.softmax_cross_entropy_grad(W, labels),
        Z,
    )
    assert err < 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(2, 5), st.data())
def test_gradient_check_catches_a_missing_division_by_n(n, k, data):
    Z = data.draw(arrays(np.float64, (n, k), elements=finite_floats(-5, 5)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))

    def f(W):
        return ref.softmax_cross_entropy(W, labels)

    assert gradient_check(f, lambda W: ref.softmax_cross_entropy_grad(W, labels), Z) < 1e-7
    err_n = gradient_check(f, lambda W: n * ref.softmax_cross_entropy_grad(W, labels), Z)
    assert err_n == pytest.approx(1 - 1 / n, rel=1e-5)
    err_sign = gradient_check(f, lambda W: -ref.softmax_cross_entropy_grad(W, labels), Z)
    assert err_sign == pytest.approx(2.0, rel=1e-6)


def test_gradient_check_numbers_of_the_text():
    Z, labels = _batch()
    n, k = Z.shape
    Y = one_hot(labels, k)

    def f(W):
        return ref.softmax_cross_entropy(W, labels)

    assert gradient_check(f, lambda W: ref.softmax(W) - Y, Z) == pytest.approx(0.75, rel=1e-6)
    assert gradient_check(f, lambda W: (Y - ref.softmax(W)) / n, Z) == pytest.approx(2.0, rel=1e-6)
    assert gradient_check(f, lambda W: Y * (ref.softmax(W) - 1) / n, Z) > 1e-2

    Y2 = 2.0 * Y

    def f2(W):
        return np.mean(-np.sum(Y2 * ref.log_softmax(W), axis=1))

    assert gradient_check(f2, lambda W: (ref.softmax(W) - Y2) / n, Z) > 1e-2
    assert gradient_check(f2, lambda W: (2.0 * ref.softmax(W) - Y2) / n, Z) < 1e-8


def test_a_bugs_error_does_not_move_with_the_step_but_a_numerical_one_does():
    Z, labels = _batch()
    n = Z.shape[0]

    def f(W):
        return ref.softmax_cross_entropy(W, labels)

    def correct(W):
        return ref.softmax_cross_entropy_grad(W, labels)

    def forgot_n(W):
        return n * ref.softmax_cross_entropy_grad(W, labels)

    steps = [1e-3, 1e-5, 1e-7]
    bug = [gradient_check(f, forgot_n, Z, h) for h in steps]
    ok = [gradient_check(f, correct, Z, h) for h in steps]
    np.testing.assert_allclose(bug, 1 - 1 / n, rtol=1e-6)
    assert max(ok) / min(ok) > 10  # the numerical error moves with h ...
    assert max(ok) < 1e-7  # ... and stays small


def test_relative_error_of_two_zero_gradients_is_zero():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == 2.0


def test_relative_step_overshoots_for_large_shifted_logits():
    Z, labels = _batch()

    def f(W):
        return ref.softmax_cross_entropy(W, labels)

    def cube_root_step(zj):
        return EPS ** (1 / 3) * max(1.0, abs(zj)) ** (1 / 3)

    def errors(shift):
        Zs = Z + shift
        g = ref.softmax_cross_entropy_grad(Zs, labels)
        return {
            "fixed": relative_error(g, numerical_gradient(f, Zs, EPS ** (1 / 3))),
            "relative": relative_error(g, numerical_gradient(f, Zs)),
            "cube_root": relative_error(g, numerical_gradient(f, Zs, cube_root_step)),
        }

    # the shift changes neither loss nor gradient
    np.testing.assert_allclose(
        ref.softmax_cross_entropy_grad(Z + 1e5, labels),
        ref.softmax_cross_entropy_grad(Z, labels),
        atol=1e-12,
    )
    small, large = errors(0.0), errors(1e5)
    assert max(small.values()) < 1e-9
    assert large["relative"] > 1e-3  # looks like a bug, but is not
    assert large["cube_root"] < 1e-6
    assert large["fixed"] < large["relative"]


# ---------------------------------------------------------------- the page itself


def test_chapter_labels_header_and_exercise_pointer():
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:")
    first_content = text.split("---\n", 2)[2].lstrip()
    assert first_content.startswith("(cross-entropy-chapter)=")
    for label in [
        "cross-entropy-goals",
        "cross-entropy-definition",
        "cross-entropy-asymmetry",
        "cross-entropy-kl",
        "cross-entropy-kl-log1p",
        "cross-entropy-units",
        "cross-entropy-softmax-loss",
        "cross-entropy-one-hot",
        "cross-entropy-loss-softplus",
        "cross-entropy-gradient",
        "cross-entropy-article-gradient",
        "cross-entropy-squared-error",
        "cross-entropy-batch",
        "cross-entropy-log-softmax",
        "cross-entropy-binary",
        "cross-entropy-gradient-check",
        "cross-entropy-reference",
        "cross-entropy-summary",
    ]:
        assert f"({label})=" in text, label
    assert "{doc}`cross_entropy_exercise`" in text
    assert "## Learning goals" in text and "## Summary" in text
    # figures carry alt text and captions
    assert len(re.findall(r":    caption:", text)) == 5
    assert len(re.findall(r":    alt:", text)) == 5
    # numbers quoted in the text
    assert "= \\log 3 \\approx 1.0986" in text
    assert "2.0323" in text
    assert "d \\approx 104" in text and "d \\approx 745" in text
    assert "about 450,000 times smaller" in text
    # numbered statements the other chapters and the text refer to
    for statement in (
        "def-cross-entropy",
        "thm-cross-entropy-gibbs",
        "prop-cross-entropy-nll",
        "thm-cross-entropy-gradient",
        "prop-cross-entropy-squared-error-gradient",
    ):
        assert f":label: {statement}" in text, statement
    # the course's notation: no Kronecker delta, no L for one example's loss, no h for a step
    assert "delta_{ij}" not in text and "\\alpha" not in text
    assert "L(z" not in text and "h^\\star" not in text
