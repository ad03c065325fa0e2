"""Tests of chapter 7's reference functions (``autograder.reference.practice``).

Each function is tested four ways where they apply: identities it must satisfy (hypothesis),
its value against 50-digit mpmath, a peer (scikit-learn's ``calibration_curve``, ``log_loss``,
``LogisticRegression``), and a planted fault that the same test catches.
"""

import itertools

import mpmath
import numpy as np
import pytest
from helpers import central_difference_gradient, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from autograder import reference as ref
from autograder.reference import (
    choose_penalty,
    expected_calibration_error,
    fit_temperature,
    one_vs_rest_fit,
    reliability_curve,
    softmax_regression_grad,
    softmax_regression_hessian,
    softmax_regression_loss,
    softmax_regression_newton,
    softmax_regression_sgd,
    temperature_nll,
    temperature_nll_curvature,
    temperature_nll_grad,
)
from autograder.reference.digits import load_digits_split

mpmath.mp.dps = 50


def logits_problem(seed, n=40, k=4, scale=3.0, skill=1.5):
    """Logits of an over-confident model: the label's logit is raised by ``skill``, all scaled."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += skill
    return scale * z, y


def problem(seed, n=30, d=3, k=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    X[np.arange(n), y % d] += 1.0
    return X, y


def nll_mp(z, y, tau):
    """Mean NLL of softmax(z / tau) in 50 digits."""
    total = mpmath.mpf(0)
    for row, label in zip(z, y, strict=True):
        scaled = [mpmath.mpf(float(v)) / mpmath.mpf(tau) for v in row]
        total += mpmath.log(mpmath.fsum(mpmath.exp(v) for v in scaled)) - scaled[int(label)]
    return total / len(y)


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


# ------------------------------------------------------------------ calibration


def assert_reliability(func, q, y, n_bins):
    """The curve agrees with scikit-learn's calibration_curve on the binary problem "is the top
    class right", bin by bin (scikit-learn leaves the empty bins out)."""
    confidence, accuracy, counts = func(q, y, n_bins)
    correct = (q.argmax(axis=1) == y).astype(int)
    top = q.max(axis=1)
    prob_true, prob_pred = calibration_curve(correct, top, n_bins=n_bins, strategy="uniform")
    used = counts > 0
    np.testing.assert_allclose(confidence[used], prob_pred, rtol=1e-12)
    np.testing.assert_allclose(accuracy[used], prob_true, rtol=1e-12)
    assert counts.sum() == len(y)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n_bins=st.integers(1, 20), k=st.integers(2, 6))
def test_reliability_curve_is_sklearns_calibration_curve_of_the_top_class(seed, n_bins, k):
    z, y = logits_problem(seed, k=k)
    q = ref.softmax(z)
    assert_reliability(reliability_curve, q, y, n_bins)


def test_reliability_curve_planted_faults_are_caught():
    z, y = logits_problem(1, n=200)
    q = ref.softmax(z)

    def mean_of_all_probabilities(q, y, n_bins):  # confidence from q_y, not the top class
        return reliability_curve(np.sort(q, axis=1)[:, ::-1][:, [1, 0, 2, 3]], y, n_bins)

    def right_closed_first_bin(q, y, n_bins):  # bins [a, b) instead of (a, b]
        c, a, n = reliability_curve(q, y, n_bins)
        return c, np.roll(a, 1), n

    for fault in (mean_of_all_probabilities, right_closed_first_bin):
        with pytest.raises(AssertionError):
            assert_reliability(fault, q, y, 10)


def test_ece_is_zero_for_a_calibrated_classifier_and_bounded_by_one():
    # every example gets confidence 0.75 and exactly 3 of 4 are right: calibrated
    q = np.tile([0.75, 0.25], (8, 1))
    y = np.array([0, 0, 0, 1] * 2)
    assert expected_calibration_error(q, y) == 0.0
    # always sure, always wrong: the largest possible gap
    assert expected_calibration_error(np.tile([1.0, 0.0], (5, 1)), np.ones(5, int)) == 1.0


def test_ece_with_one_bin_is_the_gap_between_mean_confidence_and_accuracy():
    z, y = logits_problem(3)
    q = ref.softmax(z)
    gap = abs(np.mean(q.argmax(axis=1) == y) - np.mean(q.max(axis=1)))
    assert expected_calibration_error(q, y, n_bins=1) == pytest.approx(gap, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n_bins=st.integers(1, 30))
def test_ece_is_the_weighted_sum_of_the_reliability_gaps(seed, n_bins):
    z, y = logits_problem(seed)
    q = ref.softmax(z)
    c, a, n = reliability_curve(q, y, n_bins)
    used = n > 0
    expected = np.sum(n[used] / len(y) * np.abs(a[used] - c[used]))
    assert expected_calibration_error(q, y, n_bins) == pytest.approx(expected, rel=1e-12)
    assert 0.0 <= expected_calibration_error(q, y, n_bins) <= 1.0


def test_calibration_inputs_are_checked():
    q = np.array([[0.5, 0.5]])
    for bad_q, bad_y, bins in [
        (q, [2], 10),
        (q, [0.0], 10),
        (np.array([[1.5, -0.5]]), [0], 10),
        (q, [0], 0),
        (q[0], [0], 10),
    ]:
        with pytest.raises(ValueError):
            expected_calibration_error(bad_q, bad_y, bins)


# ---------------------------------------------------------- temperature scaling


@pytest.mark.parametrize("tau", [0.05, 0.7, 1.0, 3.3, 50.0])
def test_temperature_nll_against_mpmath(tau):
    z, y = logits_problem(4, n=12)
    exact = nll_mp(z, y, tau)
    assert float(abs(temperature_nll(z, y, tau) - exact) / exact) < 1e-14


def test_temperature_nll_is_sklearns_log_loss():
    z, y = logits_problem(5, n=60)
    for tau in (0.5, 2.0):
        peer = log_loss(y, ref.softmax(z / tau), labels=np.arange(4))
        assert temperature_nll(z, y, tau) == pytest.approx(peer, rel=1e-12)


@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_temperature_grad_against_mpmath_derivative(tau):
    z, y = logits_problem(6, n=10)
    exact = mpmath.diff(lambda t: nll_mp(z, y, t), mpmath.mpf(tau))
    assert float(abs(temperature_nll_grad(z, y, tau) - exact) / abs(exact)) < 1e-12


@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_curvature_against_mpmath_second_derivative_in_gamma(tau):
    z, y = logits_problem(7, n=10)
    exact = mpmath.diff(lambda g: nll_mp(z, y, 1 / g), mpmath.mpf(1) / tau, 2)
    assert float(abs(temperature_nll_curvature(z, y, tau) - exact) / exact) < 1e-12


def test_curvature_keeps_its_digits_where_the_one_pass_formula_cancels():
    # logits near 1e8 that differ by about 1: sum q z^2 - (sum q z)^2 loses everything
    z = 1e8 + np.array([[0.0, 1.0, 2.0]])
    y = np.array([2])
    exact = mpmath.diff(lambda g: nll_mp(z, y, 1 / g), mpmath.mpf(1), 2)
    assert float(abs(temperature_nll_curvature(z, y, 1.0) - exact) / exact) < 1e-9
    q = ref.softmax(z)
    one_pass = np.sum(q * z**2) - np.sum(q * z) ** 2
    assert abs(one_pass - float(exact)) / float(exact) > 1e-3  # the naive formula fails


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), g1=st.floats(0.01, 5), g2=st.floats(0.01, 5))
def test_nll_is_convex_in_the_inverse_temperature(seed, g1, g2):
    z, y = logits_problem(seed, n=15)
    mid = 0.5 * (g1 + g2)
    values = [temperature_nll(z, y, 1 / g) for g in (g1, mid, g2)]
    assert values[1] <= 0.5 * (values[0] + values[2]) + 1e-12
    assert temperature_nll_curvature(z, y, 1 / mid) >= 0


def test_temperature_changes_no_prediction():
    z, _ = logits_problem(8, n=100)
    for tau in (0.1, 1.0, 7.0):
        assert np.array_equal(ref.softmax(z / tau).argmax(axis=1), z.argmax(axis=1))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.floats(0.5, 6.0))
def test_fitted_temperature_zeroes_the_gradient_and_is_the_minimum(seed, scale):
    z, y = logits_problem(seed, scale=scale)
    tau = fit_temperature(z, y)
    # the derivative in gamma = 1/tau vanishes: -tau^2 dNLL/dtau
    assert abs(tau**2 * temperature_nll_grad(z, y, tau)) < 1e-9
    best = temperature_nll(z, y, tau)
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert temperature_nll(z, y, tau * factor) >= best - 1e-15


def test_fitted_temperature_against_a_50_digit_root():
    z, y = logits_problem(9, n=12)
    g = mpmath.findroot(lambda g: mpmath.diff(lambda t: nll_mp(z, y, 1 / t), g), 0.5)
    assert fit_temperature(z, y) == pytest.approx(float(1 / g), rel=1e-12)


def test_scaling_the_logits_scales_the_temperature():
    z, y = logits_problem(10)
    assert fit_temperature(3.0 * z, y) == pytest.approx(3.0 * fit_temperature(z, y), rel=1e-10)


def test_fit_temperature_refuses_problems_without_a_minimiser():
    z = np.array([[2.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="classified right"):
        fit_temperature(z, [0, 1])
    with pytest.raises(ValueError, match="do not favour"):
        fit_temperature(z, [1, 0])
    with pytest.raises(ValueError, match="tau"):
        temperature_nll(z, [0, 1], 0.0)
    with pytest.raises(ValueError, match="finite"):
        temperature_nll(np.array([[np.inf, 0.0]]), [0], 1.0)


def test_temperature_planted_faults_are_caught():
    """The derivative's sign and chain-rule factor, and a fit that stops short, fail the
    tests above."""
    z, y = logits_problem(11, n=10)
    tau = 1.7
    exact = float(mpmath.diff(lambda t: nll_mp(z, y, t), mpmath.mpf(tau)))
    gamma_derivative = -(tau**2) * temperature_nll_grad(z, y, tau)  # d/dgamma, not d/dtau
    for fault in (-temperature_nll_grad(z, y, tau), gamma_derivative):
        assert abs(fault - exact) / abs(exact) > 1e-3
    short = fit_temperature(z, y, tol=1e-2, max_iter=1)
    assert abs(short**2 * temperature_nll_grad(z, y, short)) > 1e-9


def test_temperature_scaling_lowers_the_ece_of_an_overconfident_model():
    z, y = logits_problem(12, n=4000, k=5, scale=4.0, skill=1.0)
    half = slice(0, 2000), slice(2000, None)
    tau = fit_temperature(z[half[0]], y[half[0]])
    assert tau > 1  # over-confident: the fitted temperature softens it
    before = expected_calibration_error(ref.softmax(z[half[1]]), y[half[1]])
    after = expected_calibration_error(ref.softmax(z[half[1]] / tau), y[half[1]])
    assert after < before / 3


# -------------------------------------------------------------------- training


def flat(W, b):
    return np.concatenate([W.ravel(), b])


def test_hessian_matches_central_differences_of_the_gradient():
    X, y = problem(13, n=20, d=3, k=4)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    l2 = 0.3
    H = softmax_regression_hessian(X, W, b, l2)
    theta = np.vstack([W, b]).ravel()

    def grad_entry(i):
        def f(t):
            T = t.reshape(4, 4)
            dW, db = softmax_regression_grad(X, y, T[:3], T[3], l2)
            return np.vstack([dW, db]).ravel()[i]

        return f

    numeric = np.array([central_difference_gradient(grad_entry(i), theta) for i in range(16)])
    assert relative_error(H, numeric) < 1e-8
    np.testing.assert_allclose(H, H.T, atol=1e-15)
    assert np.linalg.eigvalsh(H).min() > -1e-12  # positive semidefinite
    shift = np.r_[np.zeros(12), np.ones(4)]
    np.testing.assert_allclose(H @ shift, 0.0, atol=1e-14)  # a common bias shift is flat


def test_hessian_planted_fault_missing_the_outer_product_is_caught():
    X, _ = problem(14, n=10, d=2, k=3)
    W, b = np.ones((2, 3)), np.zeros(3)
    H = softmax_regression_hessian(X, W, b)
    shift = np.r_[np.zeros(6), np.ones(3)]
    q = ref.softmax(X @ W + b)
    A = np.hstack([X, np.ones((10, 1))])
    diagonal_only = sum(np.kron(np.outer(a, a), np.diag(r)) for a, r in zip(A, q, strict=True))
    assert np.linalg.norm(diagonal_only / 10 @ shift) > 0.1  # fails the flat-direction test
    assert np.linalg.norm(H @ shift) < 1e-14


def test_newton_reaches_the_minimiser_sklearn_finds(digits):
    X_train, _, y_train, _ = digits
    l2 = 1e-3
    W, b = softmax_regression_newton(X_train, y_train, 10, l2=l2)
    dW, db = softmax_regression_grad(X_train, y_train, W, b, l2)
    assert np.linalg.norm(flat(dW, db)) < 1e-9
    clf = LogisticRegression(C=1 / (l2 * len(y_train)), tol=1e-10, max_iter=5000)
    clf.fit(X_train, y_train)
    ours = softmax_regression_loss(X_train, y_train, W, b, l2)
    theirs = softmax_regression_loss(X_train, y_train, clf.coef_.T, clf.intercept_, l2)
    assert ours <= theirs + 1e-12
    assert theirs - ours < 1e-8
    np.testing.assert_allclose(W, clf.coef_.T, atol=1e-3)


def test_newton_converges_quadratically_in_few_steps():
    X, y = problem(15, n=200, d=4, k=3)
    norms = []
    for steps in range(1, 9):
        W, b = softmax_regression_newton(X, y, 3, l2=0.01, n_iter=steps, tol=0.0)
        norms.append(np.linalg.norm(flat(*softmax_regression_grad(X, y, W, b, 0.01))))
    first = next(i for i, g in enumerate(norms) if g < 1e-9)
    assert first <= 5  # five steps from W = 0
    # quadratic: once small, the gradient norm at least squares (up to a constant) each step
    tail = [g for g in norms[: first + 1] if g < 1e-1]
    assert len(tail) >= 3
    assert all(later < 10 * earlier**1.5 for earlier, later in itertools.pairwise(tail))


def test_newton_refuses_no_penalty():
    X, y = problem(16)
    with pytest.raises(ValueError, match="l2"):
        softmax_regression_newton(X, y, 3, l2=0.0)


def test_full_batch_sgd_is_plain_gradient_descent():
    X, y = problem(17)
    W, b = softmax_regression_sgd(X, y, 3, learning_rate=0.3, n_epochs=15, batch_size=None)
    W_ref, b_ref = ref.softmax_regression_fit(X, y, 3, 0.3, 15, 1e-3)  # no halving needed here
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-14)


def test_sgd_one_example_batches_take_n_steps_per_epoch():
    X, y = problem(18, n=7)
    W, b = softmax_regression_sgd(X, y, 3, learning_rate=0.1, n_epochs=1, batch_size=1, seed=3)
    order = np.random.default_rng(3).permutation(7)
    W_loop, b_loop = np.zeros((3, 3)), np.zeros(3)
    for i in order:
        G = ref.softmax_cross_entropy_grad(X[i : i + 1] @ W_loop + b_loop, y[i : i + 1])
        W_loop, b_loop = W_loop - 0.1 * (X[i : i + 1].T @ G + 1e-3 * W_loop), b_loop - 0.1 * G[0]
    np.testing.assert_allclose(W, W_loop, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(b, b_loop, rtol=1e-13, atol=1e-15)


def test_sgd_gets_near_the_minimum_in_few_epochs(digits):
    X_train, _, y_train, _ = digits
    W_opt, b_opt = softmax_regression_newton(X_train, y_train, 10, l2=1e-3)
    best = softmax_regression_loss(X_train, y_train, W_opt, b_opt, 1e-3)
    W, b = softmax_regression_sgd(X_train, y_train, 10, learning_rate=0.2, n_epochs=30, seed=1)
    assert softmax_regression_loss(X_train, y_train, W, b, 1e-3) < best + 0.02
    W_gd, b_gd = softmax_regression_sgd(X_train, y_train, 10, 0.2, n_epochs=30, batch_size=None)
    assert softmax_regression_loss(X_train, y_train, W_gd, b_gd, 1e-3) > best + 0.1


def separable(seed, n=60):
    """Three well separated clusters in the plane: without a penalty the loss has no minimiser."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = 4.0 * np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
    return centres[y] + 0.5 * rng.normal(size=(n, 2)), y


def test_label_smoothing_keeps_the_weights_finite_and_lowers_the_confidence():
    X, y = separable(19)
    kappa = 0.2

    def run(epochs, smoothing):
        return softmax_regression_sgd(
            X, y, 3, 0.5, n_epochs=epochs, batch_size=None, l2=0.0, smoothing=smoothing
        )

    grow = [np.linalg.norm(run(e, 0.0)[0]) for e in (500, 2000)]
    settle = [np.linalg.norm(run(e, kappa)[0]) for e in (500, 2000)]
    assert grow[1] > grow[0] * 1.1  # no minimiser: the weights keep growing
    assert abs(settle[1] - settle[0]) < 1e-6 * settle[0]  # smoothing: converged
    W, b = run(2000, kappa)
    W0, b0 = run(2000, 0.0)
    top, top0 = ref.softmax(X @ W + b).max(axis=1), ref.softmax(X @ W0 + b0).max(axis=1)
    assert top.mean() < top0.mean()
    # at the minimiser the mean predicted distribution matches the mean smoothed target
    targets = (1 - kappa) * np.eye(3)[y] + kappa / 3
    np.testing.assert_allclose(ref.softmax(X @ W + b).mean(axis=0), targets.mean(axis=0), atol=1e-8)


def test_sgd_inputs_are_checked():
    X, y = problem(20)
    for kwargs in ({"learning_rate": 0.0}, {"batch_size": 0}, {"smoothing": 1.5}):
        with pytest.raises(ValueError):
            softmax_regression_sgd(X, y, 3, **kwargs)
    with pytest.raises(ValueError, match="labels"):
        softmax_regression_sgd(X, y, 2)


def test_one_vs_rest_is_sklearns_binary_logistic_regression_per_class(digits):
    X_train, _, y_train, _ = digits
    l2 = 1e-2
    W, b = one_vs_rest_fit(X_train, y_train, 10, l2=l2)
    for k in (0, 3, 8):
        clf = LogisticRegression(C=1 / (l2 * len(y_train)), tol=1e-10, max_iter=5000)
        clf.fit(X_train, (y_train == k).astype(int))
        np.testing.assert_allclose(W[:, k], clf.coef_[0], atol=1e-4)
        assert b[k] == pytest.approx(clf.intercept_[0], abs=1e-4)


def test_one_vs_rest_probabilities_need_not_sum_to_one_and_multinomial_ones_do(digits):
    X_train, _, y_train, _ = digits
    W, b = one_vs_rest_fit(X_train, y_train, 10, l2=1e-2)
    sums = ref.sigmoid(X_train @ W + b).sum(axis=1)
    assert np.abs(sums - 1).max() > 0.05
    W_m, b_m = softmax_regression_newton(X_train, y_train, 10, l2=1e-2)
    np.testing.assert_allclose(ref.softmax(X_train @ W_m + b_m).sum(axis=1), 1.0, rtol=1e-14)


def test_gradient_descent_is_still_short_of_newtons_loss_after_1500_epochs(digits):
    X_train, _, y_train, _ = digits
    W, b = softmax_regression_newton(X_train, y_train, 10, l2=1e-3, tol=1e-8)
    target = softmax_regression_loss(X_train, y_train, W, b, 1e-3)
    W_gd, b_gd = ref.softmax_regression_fit(X_train, y_train, 10, 0.25, 1500, 1e-3)
    assert softmax_regression_loss(X_train, y_train, W_gd, b_gd, 1e-3) > target + 1e-4


def test_ece_planted_faults_are_caught():
    """An unweighted mean over the bins, or the gap of the averages, is not the ECE: 30
    examples at confidence 0.9 of which half are right, 10 at 0.55 all right."""
    q = np.array([[0.9, 0.1]] * 30 + [[0.55, 0.45]] * 10)
    y = np.array([0, 1] * 15 + [0] * 10)
    ece = expected_calibration_error(q, y, 10)
    assert ece == pytest.approx(0.75 * 0.4 + 0.25 * 0.45, rel=1e-12)
    c, a, n = reliability_curve(q, y, 10)
    used = n > 0
    unweighted = np.mean(np.abs(a[used] - c[used]))
    of_means = abs(np.mean(q.argmax(axis=1) == y) - np.mean(q.max(axis=1)))
    for fault in (unweighted, of_means):
        assert abs(fault - ece) > 1e-2


def overfitting_problem(seed, spread, n=100, held_out=2000):
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, spread, size=(3, 30))

    def draw(m):
        y = rng.permutation(np.arange(m) % 3)
        return means[y] + rng.normal(size=(m, 30)), y

    return (*draw(n), *draw(held_out))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_choose_penalty_is_near_the_best_on_held_out_data_and_training_loss_is_not(seed):
    X, y, X_out, y_out = overfitting_problem(seed, spread=0.15)
    grid = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    held_out = {}
    for l2 in grid:
        W, b = softmax_regression_newton(X, y, 3, l2=l2)
        held_out[l2] = ref.softmax_cross_entropy(X_out @ W + b, y_out)
    chosen = choose_penalty(X, y, grid)
    assert chosen in grid
    assert held_out[chosen] <= min(held_out.values()) + 0.15
    # the planted fault: choosing on the training loss always takes the weakest penalty
    training = {
        l2: softmax_regression_loss(X, y, *softmax_regression_newton(X, y, 3, l2=l2), 0.0)
        for l2 in grid
    }
    assert min(training, key=training.get) == 1e-4
    assert held_out[1e-4] > min(held_out.values()) + 0.15


def test_choose_penalty_refuses_bad_grids_and_tiny_data():
    X, y, _, _ = overfitting_problem(3, 0.5, n=20, held_out=1)
    with pytest.raises(ValueError, match="positive"):
        choose_penalty(X, y, grid=(0.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        choose_penalty(X, y, grid=())
    with pytest.raises(ValueError, match="at least 4"):
        choose_penalty(X[:3], y[:3], n_classes=3)
