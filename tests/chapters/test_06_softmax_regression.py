"""Tests for every identity stated in chapter 6, "Softmax regression from scratch".

The chapter is chapters/06_softmax_regression/softmax_regression.md. Each group of tests names
the section label of the statements it checks. The functions under test are the reference
implementations in ``autograder.reference.softmax_regression`` (built on
``autograder.reference.elementary``); exact values come from 50-digit mpmath.
"""

import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
from helpers import EPS, central_difference_gradient, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from autograder import reference as ref
from autograder.reference import (
    softmax_regression_fit,
    softmax_regression_grad,
    softmax_regression_loss,
    softmax_regression_predict,
    softmax_regression_predict_proba,
    standardize,
)
from autograder.reference.digits import load_digits_split

CHAPTER = (
    Path(__file__).resolve().parents[2]
    / "chapters"
    / "06_softmax_regression"
    / "softmax_regression.md"
)
DPS = 50
L2 = 1e-3  # the chapter's lambda
ETA, EPOCHS = 0.25, 500  # the chapter's learning rate and number of epochs


# ---------------------------------------------------------------- helpers


def problem(seed, n=12, d=4, k=3, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return X, y, scale * rng.normal(size=(d, k)), scale * rng.normal(size=k)


def flat(W, b):
    return np.concatenate([np.ravel(W), b])


def unflat(theta, d, k):
    return theta[: d * k].reshape(d, k), theta[d * k :]


def hessian(X, y, W, b, l2):
    """The Hessian of J in the flattened (W, b), by central differences of the exact gradient."""
    d, k = W.shape
    theta = flat(W, b)
    H = np.zeros((theta.size, theta.size))
    h = 1e-5
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        H[:, i] = (
            flat(*softmax_regression_grad(X, y, *unflat(up, d, k), l2))
            - flat(*softmax_regression_grad(X, y, *unflat(down, d, k), l2))
        ) / (2 * h)
    return (H + H.T) / 2


def with_bias_column(X):
    return np.hstack([X, np.ones((len(X), 1))])


def loss_mp(X, y, W, b, l2):
    """(sr-loss) with 50 significant digits, from the definition."""
    with mpmath.workdps(DPS):
        total = mpmath.mpf(0)
        for x_n, y_n in zip(X, y, strict=True):
            z = [
                mpmath.fsum(
                    mpmath.mpf(float(x_n[j])) * mpmath.mpf(float(W[j, k])) for j in range(len(x_n))
                )
                + mpmath.mpf(float(b[k]))
                for k in range(W.shape[1])
            ]
            total -= z[int(y_n)] - mpmath.log(mpmath.fsum(mpmath.exp(zk) for zk in z))
        penalty = mpmath.mpf(l2) / 2 * mpmath.fsum(mpmath.mpf(float(w)) ** 2 for w in W.ravel())
        return total / len(y) + penalty


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


@pytest.fixture(scope="module")
def trained(digits):
    X_train, _, y_train, _ = digits
    return softmax_regression_fit(X_train, y_train, 10, ETA, EPOCHS, L2)


@pytest.fixture(scope="module")
def sklearn_solution(digits):
    X_train, _, y_train, _ = digits
    clf = LogisticRegression(C=1 / (L2 * len(y_train)), tol=1e-8, max_iter=2000)
    return clf.fit(X_train, y_train)


# ---------------------------------------------------------------- softmax-regression-data,
# softmax-regression-split, softmax-regression-standardize


def test_digits_are_1797_images_of_64_integer_pixels():
    data = load_digits()
    assert data.data.shape == (1797, 64)
    np.testing.assert_array_equal(data.data[0], data.images[0].ravel())  # row by row
    np.testing.assert_array_equal(np.unique(data.data), np.arange(17))
    assert np.bincount(data.target).min() >= 174


def test_split_is_1347_and_450_and_stratified(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert (len(y_train), len(y_test)) == (1347, 450)
    everything = np.bincount(y_train) + np.bincount(y_test)
    assert np.all(np.abs(np.bincount(y_test) - 0.25 * everything) < 1)


def test_loader_is_train_test_split_then_training_statistics(digits):
    X, y = load_digits(return_X_y=True)
    raw_train, raw_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(raw_train)
    np.testing.assert_allclose(digits[0], scaler.transform(raw_train), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(digits[1], scaler.transform(raw_test), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(digits[2], y_train)
    np.testing.assert_array_equal(digits[3], y_test)


def test_four_pixels_are_constant_on_the_training_set_and_only_centred(digits):
    X, y = load_digits(return_X_y=True)
    raw_train = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)[0]
    constant = np.flatnonzero(raw_train.std(axis=0) == 0)
    np.testing.assert_array_equal(constant, [0, 24, 32, 39])
    np.testing.assert_array_equal(digits[0][:, constant], 0.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), m=st.integers(1, 10))
def test_standardised_training_features_have_mean_0_and_std_1(seed, n, m):
    rng = np.random.default_rng(seed)
    train = rng.normal(rng.normal(size=3) * 5, rng.uniform(0.1, 10, size=3), size=(n, 3))
    test = rng.normal(size=(m, 3))
    train_std, test_std = standardize(train, test)
    np.testing.assert_allclose(train_std.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_std.std(axis=0), 1, rtol=1e-10)
    # (sr-standardize) with the TRAINING mean and standard deviation, for the test rows too
    np.testing.assert_allclose(
        test_std, (test - train.mean(0)) / train.std(0), rtol=1e-12, atol=1e-12
    )


def test_test_rows_do_not_influence_the_standardisation():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(20, 4))
    a, b = rng.normal(size=(5, 4)), 100 * rng.normal(size=(5, 4))
    np.testing.assert_array_equal(standardize(train, a)[0], standardize(train, b)[0])
    np.testing.assert_array_equal(standardize(train, a)[1][3], standardize(train, a[3:4])[1][0])


def test_test_set_is_not_exactly_centred(digits):
    assert np.abs(digits[1].mean(axis=0)).max() > 0.01


# ---------------------------------------------------------------- softmax-regression-model


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 12))
def test_glm_natural_parameters_invert_to_softmax(seed, k):
    phi = np.random.default_rng(seed).dirichlet(np.ones(k))
    eta = np.log(phi / phi[-1])  # eta_i = log(phi_i / phi_K), eta_K = 0
    assert eta[-1] == 0
    np.testing.assert_allclose(ref.softmax(eta), phi, rtol=1e-12)


def test_glm_inverse_link_with_50_digits():
    with mpmath.workdps(DPS):
        phi = [mpmath.mpf(1) / 7, mpmath.mpf(2) / 7, mpmath.mpf(4) / 7]
        eta = [mpmath.log(p / phi[-1]) for p in phi]
        total = mpmath.fsum(mpmath.exp(e) for e in eta)
        for p, e in zip(phi, eta, strict=True):
            assert abs(mpmath.exp(e) / total - p) < mpmath.mpf(10) ** -48


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), c=st.floats(-50, 50))
def test_adding_a_vector_to_every_column_changes_no_prediction(seed, c):
    X, _, W, b = problem(seed, n=8, d=5, k=4)
    v = np.random.default_rng(seed + 1).normal(size=5)
    P = softmax_regression_predict_proba(X, W, b)
    shifted = softmax_regression_predict_proba(X, W + v[:, None], b + c)
    np.testing.assert_allclose(shifted, P, rtol=1e-9, atol=1e-15)
    # the article's parametrisation theta_K = 0: subtract the last column from every column
    article = softmax_regression_predict_proba(X, W - W[:, -1:], b - b[-1])
    np.testing.assert_allclose(article, P, rtol=1e-10, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_two_classes_is_the_sigmoid_of_the_difference(seed):
    X, _, W, b = problem(seed, n=10, d=3, k=2, scale=3.0)
    P = softmax_regression_predict_proba(X, W, b)
    expected = ref.sigmoid(X @ (W[:, 1] - W[:, 0]) + (b[1] - b[0]))
    np.testing.assert_allclose(P[:, 1], expected, rtol=1e-12, atol=1e-300)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 8))
def test_batch_rows_are_the_single_image_model(seed, k):
    X, _, W, b = problem(seed, n=6, d=5, k=k)
    P = softmax_regression_predict_proba(X, W, b)  # (sr-batch)
    for n in range(6):
        np.testing.assert_allclose(P[n], ref.softmax(W.T @ X[n] + b), rtol=1e-12)  # (sr-model)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_most_probable_class_is_the_largest_logit(seed):
    X, _, W, b = problem(seed, n=20, k=6, scale=4.0)
    np.testing.assert_array_equal(
        np.argmax(softmax_regression_predict_proba(X, W, b), axis=1), np.argmax(X @ W + b, axis=1)
    )


def test_large_logits_do_not_overflow():
    X, _, W, b = problem(3, scale=1.0)
    with np.errstate(over="raise", invalid="raise"):
        P = softmax_regression_predict_proba(X, 1000 * W, b)
    assert np.all(np.isfinite(P))


# ---------------------------------------------------------------- softmax-regression-loss


@pytest.mark.parametrize("k", [2, 3, 10])
def test_loss_of_guessing_is_log_k(k):
    X, y, _, _ = problem(4, k=k)
    assert softmax_regression_loss(X, y, np.zeros((4, k)), np.zeros(k), 0.7) == pytest.approx(
        np.log(k), rel=1e-15
    )


def test_log_10_value_quoted():
    assert round(float(mpmath.log(10)), 4) == 2.3026


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.1, 1.5]))
def test_loss_matches_the_definition_in_50_digits(seed, l2):
    X, y, W, b = problem(seed, n=5, d=3, k=4, scale=2.0)
    exact = loss_mp(X, y, W, b, l2)
    got = softmax_regression_loss(X, y, W, b, l2)
    assert abs(got - float(exact)) <= 8 * EPS * float(exact)


def test_chapter_tiny_example_in_50_digits():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.0], [0.0, 1.0]])
    y = np.array([0, 2, 1, 2])
    W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4]])
    b = np.array([0.1, 0.0, -0.1])
    exact = loss_mp(X, y, W, b, 0.1)
    assert abs(softmax_regression_loss(X, y, W, b, 0.1) - float(exact)) < 4 * EPS * float(exact)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_term_is_mean_negative_log_likelihood(seed):
    X, y, W, b = problem(seed, n=9, k=5)
    P = softmax_regression_predict_proba(X, W, b)
    likelihood = np.prod(P[np.arange(9), y])
    np.testing.assert_allclose(
        softmax_regression_loss(X, y, W, b), -np.log(likelihood) / 9, rtol=1e-11
    )


def test_log_softmax_and_z_minus_lse_agree_in_absolute_terms(digits):
    X_train, _, y_train, _ = digits
    rng = np.random.default_rng(2024)
    Z = X_train @ rng.normal(size=(64, 10)) + rng.normal(size=10)
    rows = np.arange(len(y_train))
    naive = Z[rows, y_train] - ref.logsumexp(Z, axis=-1)
    np.testing.assert_allclose(naive, ref.log_softmax(Z)[rows, y_train], rtol=0, atol=1e-13)


# ---------------------------------------------------------------- softmax-regression-gradient,
# softmax-regression-gradient-check


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    l2=st.sampled_from([0.0, 0.1, 3.0]),
    shape=st.sampled_from([(1, 1, 2), (20, 5, 4), (7, 3, 10)]),
)
def test_gradient_formula_matches_central_differences(seed, l2, shape):
    n, d, k = shape
    X, y, W, b = problem(seed, n=n, d=d, k=k)
    g = flat(*softmax_regression_grad(X, y, W, b, l2))
    g_fd = central_difference_gradient(
        lambda t: softmax_regression_loss(X, y, *unflat(t, d, k), l2), flat(W, b)
    )
    assert relative_error(g, g_fd) < 1e-7


def test_gradient_formula_matches_50_digit_derivative():
    X, y, W, b = problem(11, n=4, d=2, k=3)
    l2 = 0.25
    dW, db = softmax_regression_grad(X, y, W, b, l2)
    theta = flat(W, b)
    with mpmath.workdps(DPS):

        def J(*t):
            T = np.array(t, dtype=object)
            Wm = T[:6].reshape(2, 3)
            bm = T[6:]
            total = mpmath.mpf(0)
            for x_n, y_n in zip(X, y, strict=True):
                z = [
                    mpmath.mpf(float(x_n[0])) * Wm[0, k]
                    + mpmath.mpf(float(x_n[1])) * Wm[1, k]
                    + bm[k]
                    for k in range(3)
                ]
                total -= z[int(y_n)] - mpmath.log(mpmath.fsum(mpmath.exp(zk) for zk in z))
            return total / 4 + mpmath.mpf(l2) / 2 * mpmath.fsum(w**2 for w in Wm.ravel())

        point = [mpmath.mpf(float(t)) for t in theta]
        exact = [
            float(mpmath.diff(J, point, tuple(int(i == j) for i in range(9)))) for j in range(9)
        ]
    np.testing.assert_allclose(flat(dW, db), exact, rtol=1e-13, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.2]))
def test_gradient_is_x_transpose_p_minus_y_over_n_plus_lambda_w(seed, l2):
    X, y, W, b = problem(seed, n=15, d=4, k=5)
    P = ref.softmax(X @ W + b)
    Y = np.eye(5)[y]
    dW, db = softmax_regression_grad(X, y, W, b, l2)
    assert dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(dW, X.T @ (P - Y) / 15 + l2 * W, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(db, (P - Y).mean(axis=0), rtol=1e-11, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.5]))
def test_bias_gradient_sums_to_zero_and_weight_gradient_rows_sum_to_lambda_w(seed, l2):
    X, y, W, b = problem(seed, n=10, d=4, k=6)
    dW, db = softmax_regression_grad(X, y, W, b, l2)
    assert abs(db.sum()) < 1e-15
    np.testing.assert_allclose(dW.sum(axis=1), l2 * W.sum(axis=1), atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.1]))
def test_gradient_descent_from_zero_keeps_bias_sum_and_column_sum_zero(seed, l2):
    X, y, _, _ = problem(seed, n=20, d=4, k=5)
    W, b = softmax_regression_fit(X, y, 5, learning_rate=0.5, n_epochs=30, l2=l2)
    assert abs(b.sum()) < 1e-13
    np.testing.assert_allclose(W.sum(axis=1), 0, atol=1e-13)


def test_confident_right_image_contributes_almost_nothing():
    X = np.array([[1.0, 0.0]])
    W = np.array([[40.0, 0.0], [0.0, 0.0]])  # logits (40, 0): P(class 0) = 1 - 4e-18
    dW, db = softmax_regression_grad(X, np.array([0]), W, np.zeros(2))
    assert np.abs(dW).max() < 1e-17 and np.abs(db).max() < 1e-17


def test_planted_gradient_bugs_give_large_relative_errors():
    X, y, W, b = problem(12, n=20, d=5, k=4)
    l2 = 0.1
    g_fd = central_difference_gradient(
        lambda t: softmax_regression_loss(X, y, *unflat(t, 5, 4), l2), flat(W, b)
    )
    dW, db = softmax_regression_grad(X, y, W, b, l2)
    assert relative_error(flat(dW, db), g_fd) < 1e-8
    forgot_mean = flat((dW - l2 * W) * 20 + l2 * W, db * 20)
    forgot_penalty = flat(dW - l2 * W, db)
    two_lambda = flat(dW + l2 * W, db)
    for wrong in [forgot_mean, forgot_penalty, two_lambda]:
        assert relative_error(wrong, g_fd) > 1e-2


# ---------------------------------------------------------------- softmax-regression-training,
# softmax-regression-learning-rate


def test_training_loss_decreases_at_every_step_on_the_digits(digits):
    X_train, _, y_train, _ = digits
    W, b = np.zeros((64, 10)), np.zeros(10)
    losses = []
    for _ in range(60):
        losses.append(softmax_regression_loss(X_train, y_train, W, b, L2))
        dW, db = softmax_regression_grad(X_train, y_train, W, b, L2)
        W, b = W - ETA * dW, b - ETA * db
    assert losses[0] == pytest.approx(np.log(10), rel=1e-15)
    assert np.all(np.diff(losses) < 0)


def test_trained_model_reaches_the_accuracy_and_loss_quoted(digits, trained):
    X_train, X_test, y_train, y_test = digits
    W, b = trained
    assert np.mean(softmax_regression_predict(X_test, W, b) == y_test) > 0.96
    assert round(float(softmax_regression_loss(X_train, y_train, W, b, L2)), 4) == 0.1035


def test_test_cross_entropy_is_nearly_flat_after_300_epochs(digits, trained):
    X_train, X_test, y_train, y_test = digits
    start = np.log(10)
    at_500 = softmax_regression_loss(X_test, y_test, *trained)
    at_300 = softmax_regression_loss(
        X_test, y_test, *softmax_regression_fit(X_train, y_train, 10, ETA, 300, L2)
    )
    assert 0 < at_300 - at_500 < (start - at_500) / 20


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 10), alpha=st.sampled_from([0.1, 1, 10]))
def test_boehning_bound_on_the_softmax_hessian(seed, k, alpha):
    p = np.random.default_rng(seed).dirichlet(np.full(k, alpha))
    assert np.linalg.eigvalsh(np.diag(p) - np.outer(p, p)).max() <= 0.5 + 1e-15


def test_boehning_bound_is_attained_by_two_halves():
    p = np.array([0.5, 0.5, 0.0])
    assert np.linalg.eigvalsh(np.diag(p) - np.outer(p, p)).max() == pytest.approx(0.5, rel=1e-15)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 8))
def test_variance_bound_chain(seed, k):
    rng = np.random.default_rng(seed)
    p, v = rng.dirichlet(np.ones(k)), rng.normal(size=k) * 3
    variance = p @ v**2 - (p @ v) ** 2
    np.testing.assert_allclose(
        variance, v @ (np.diag(p) - np.outer(p, p)) @ v, rtol=1e-9, atol=1e-12
    )
    assert variance <= (v.max() - v.min()) ** 2 / 4 + 1e-12  # Popoviciu
    assert (v.max() - v.min()) ** 2 / 4 <= (v.max() ** 2 + v.min() ** 2) / 2 + 1e-12
    assert (v.max() ** 2 + v.min() ** 2) / 2 <= v @ v / 2 + 1e-12


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    l2=st.sampled_from([0.0, 0.3]),
    scale=st.sampled_from([0.0, 1.0, 3.0]),
)
def test_curvature_is_at_most_the_bound(seed, l2, scale):
    X, y, W, b = problem(seed, n=15, d=3, k=3, scale=scale)
    bound = np.linalg.eigvalsh(with_bias_column(X).T @ with_bias_column(X) / 15).max() / 2 + l2
    assert np.linalg.eigvalsh(hessian(X, y, W, b, l2)).max() <= bound * (1 + 1e-6)


def test_hessian_at_zero_is_the_kronecker_product():
    X, y, _, _ = problem(13, n=25, d=3, k=4)
    l2 = 0.2
    A = with_bias_column(X)
    H = hessian(X, y, np.zeros((3, 4)), np.zeros(4), l2)
    # parameters ordered (W row by row, then b): reorder A^T A / N and the penalty to match
    kron = np.kron(A.T @ A / 25, (np.eye(4) - 1 / 4) / 4)
    penalty = np.diag(np.r_[np.full(12, l2), np.zeros(4)])
    np.testing.assert_allclose(H, kron + penalty, rtol=1e-6, atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 1e-3, 0.1]), below=st.floats(0.1, 0.99)
)
def test_any_step_below_two_over_l_decreases_the_loss(seed, l2, below):
    X, y, _, _ = problem(seed, n=30, d=4, k=5)
    L_bound = np.linalg.eigvalsh(with_bias_column(X).T @ with_bias_column(X) / 30).max() / 2 + l2
    eta = below * 2 / L_bound
    W, b = np.zeros((4, 5)), np.zeros(5)
    before = softmax_regression_loss(X, y, W, b, l2)
    for _ in range(25):
        dW, db = softmax_regression_grad(X, y, W, b, l2)
        W, b = W - eta * dW, b - eta * db
        after = softmax_regression_loss(X, y, W, b, l2)
        # (sr-descent): J drops by at least eta (1 - L eta / 2) ||grad||^2
        assert (
            after
            <= before - eta * (1 - L_bound * eta / 2) * (np.sum(dW**2) + np.sum(db**2)) + 1e-14
        )
        before = after


def test_digits_curvature_numbers(digits):
    X_train = digits[0]
    A = with_bias_column(X_train)
    lam_max = np.linalg.eigvalsh(A.T @ A / len(A)).max()
    assert round(lam_max, 2) == 7.38
    L_bound = lam_max / 2 + L2
    assert round(L_bound, 2) == 3.69
    assert round(2 / L_bound, 2) == 0.54 and ETA <= 1 / L_bound


def test_standardising_cuts_the_curvature_ratio():
    X, y = load_digits(return_X_y=True)
    raw_train = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)[0]

    def ratio(M):
        eig = np.linalg.eigvalsh(with_bias_column(M).T @ with_bias_column(M) / len(M))
        eig = eig[eig > 1e-10 * eig.max()]
        return eig.max() / eig.min()

    assert ratio(raw_train / 16) > 1e7
    assert round(ratio(standardize(raw_train)[0]), -1) == 150


def test_curvature_at_zero_along_the_top_direction(digits):
    X_train, _, y_train, _ = digits
    A = with_bias_column(X_train)
    lam, vecs = np.linalg.eigh(A.T @ A / len(A))
    V = np.zeros((65, 10))
    V[:, 0], V[:, 1] = vecs[:, -1] / np.sqrt(2), -vecs[:, -1] / np.sqrt(2)
    h = 1e-4
    second = (
        softmax_regression_loss(X_train, y_train, h * V[:64], h * V[64], L2)
        - 2 * np.log(10)
        + softmax_regression_loss(X_train, y_train, -h * V[:64], -h * V[64], L2)
    ) / h**2
    np.testing.assert_allclose(second, lam[-1] / 10 + L2 * np.sum(V[:64] ** 2), rtol=1e-5)


def test_large_step_sixteen_makes_the_loss_jump(digits):
    X_train, _, y_train, _ = digits
    W, b = np.zeros((64, 10)), np.zeros(10)
    losses = []
    for _ in range(201):
        losses.append(softmax_regression_loss(X_train, y_train, W, b, L2))
        dW, db = softmax_regression_grad(X_train, y_train, W, b, L2)
        W, b = W - 16 * dW, b - 16 * db
    losses = np.array(losses)
    assert np.sum(np.diff(losses) > 0) > 10
    assert losses[50:].max() > 5 * losses[50:].min()


# ---------------------------------------------------------------- softmax-regression-l2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_shifting_all_columns_changes_the_norm_by_the_formula(seed):
    rng = np.random.default_rng(seed)
    W, v = rng.normal(size=(5, 4)), rng.normal(size=5)
    shifted = W + v[:, None]
    np.testing.assert_allclose(
        np.sum(shifted**2), np.sum(W**2) + 2 * v @ W.sum(axis=1) + 4 * v @ v, rtol=1e-12
    )
    centred = W - W.mean(axis=1, keepdims=True)  # W 1 = 0
    assert np.sum((centred + v[:, None]) ** 2) >= np.sum(centred**2)


def test_penalised_minimiser_has_columns_summing_to_zero(sklearn_solution):
    np.testing.assert_allclose(sklearn_solution.coef_.T.sum(axis=1), 0, atol=1e-10)


def test_without_penalty_separable_data_have_no_minimiser():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    W = np.array([[-1.0, 1.0]])
    losses = [softmax_regression_loss(X, y, t * W, np.zeros(2)) for t in [1, 2, 4, 8, 16]]
    assert np.all(np.diff(losses) < 0) and losses[-1] > 0  # lower and lower, never 0


def test_larger_lambda_gives_smaller_weights_and_too_large_underfits(digits, trained):
    X_train, X_test, y_train, y_test = digits
    runs = {L2: trained}
    for l2 in [0.0, 1e-2, 1e-1]:
        runs[l2] = softmax_regression_fit(X_train, y_train, 10, ETA, EPOCHS, l2)
    norms = [np.linalg.norm(runs[l2][0]) for l2 in sorted(runs)]
    assert np.all(np.diff(norms) < 0)

    def acc(l2):
        return np.mean(softmax_regression_predict(X_test, *runs[l2]) == y_test)

    assert acc(1e-1) < acc(L2)


# ---------------------------------------------------------------- softmax-regression-evaluation,
# softmax-regression-weights, softmax-regression-decision-regions


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_confusion_matrix_trace_is_accuracy_and_rows_count_classes(seed, n):
    rng = np.random.default_rng(seed)
    truth, predicted = rng.integers(0, 10, n), rng.integers(0, 10, n)
    C = np.zeros((10, 10), dtype=int)
    np.add.at(C, (truth, predicted), 1)
    np.testing.assert_array_equal(C, confusion_matrix(truth, predicted, labels=range(10)))
    assert C.sum() == n
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(truth, minlength=10))
    assert np.trace(C) / n == pytest.approx(np.mean(truth == predicted))


def test_confusion_numbers_quoted_in_the_figure_description(digits, trained):
    _, X_test, _, y_test = digits
    C = confusion_matrix(y_test, softmax_regression_predict(X_test, *trained))
    off = C - np.diag(np.diag(C))
    assert np.diag(C).min() >= 38 and off.max() <= 4


def test_weight_templates_show_what_the_text_says(trained):
    templates = trained[0].T.reshape(10, 8, 8)
    assert templates[0][2:6, 3:5].mean() < 0 < templates[0][2:6, [1, 2, 5, 6]].mean()
    assert templates[6][0:4, 4:7].mean() < 0 < templates[6][4:, :].mean()
    assert templates[1][2:7, 3:5].mean() > 0 > templates[1][0:2, 1:3].mean()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 8))
def test_decision_regions_are_convex(seed, k):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(2, k)), rng.normal(size=k)
    points = rng.uniform(-10, 10, size=(4000, 2))
    labels = softmax_regression_predict(points, W, b)
    pairs = rng.integers(0, 4000, size=(4000, 2))
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    for t in [0.5, 0.1, 0.77]:
        mix = t * points[pairs[same, 0]] + (1 - t) * points[pairs[same, 1]]
        np.testing.assert_array_equal(softmax_regression_predict(mix, W, b), labels[pairs[same, 0]])


def test_boundary_between_two_classes_is_where_their_logits_tie():
    rng = np.random.default_rng(5)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    normal = W[:, 0] - W[:, 1]
    offset = b[0] - b[1]
    x0 = -offset * normal / (normal @ normal)  # on the hyperplane (w_0 - w_1)^T x + b_0 - b_1 = 0
    z = x0 @ W + b
    assert abs(z[0] - z[1]) < 1e-12


def test_two_principal_components_carry_22_percent_and_give_about_half_right(digits):
    X_train, X_test, y_train, y_test = digits
    _, S, Vt = np.linalg.svd(X_train, full_matrices=False)
    assert round(np.sum(S[:2] ** 2) / np.sum(S**2), 2) == 0.22
    F_train, F_test = X_train @ Vt[:2].T, X_test @ Vt[:2].T
    np.testing.assert_allclose(F_train.var(axis=0), S[:2] ** 2 / len(F_train), rtol=1e-10)
    W, b = softmax_regression_fit(F_train, y_train, 10, ETA, EPOCHS, L2)
    assert 0.4 < np.mean(softmax_regression_predict(F_test, W, b) == y_test) < 0.7


# ---------------------------------------------------------------- softmax-regression-sklearn


def test_sklearn_objective_divided_by_cn_is_j():
    X, y, W, b = problem(14, n=10, d=3, k=4)
    l2 = 0.2
    C = 1 / (l2 * 10)
    log_p = ref.log_softmax(X @ W + b)
    sklearn_objective = -C * np.sum(log_p[np.arange(10), y]) + 0.5 * np.sum(W**2)
    np.testing.assert_allclose(
        sklearn_objective / (C * 10), softmax_regression_loss(X, y, W, b, l2), rtol=1e-13
    )


def test_sklearn_solution_is_the_minimiser_of_j(digits, sklearn_solution, trained):
    X_train, X_test, y_train, y_test = digits
    W_sk, b_sk = sklearn_solution.coef_.T, sklearn_solution.intercept_
    dW, db = softmax_regression_grad(X_train, y_train, W_sk, b_sk, L2)
    assert np.abs(dW).max() < 1e-6 and np.abs(db).max() < 1e-6
    J_star = softmax_regression_loss(X_train, y_train, W_sk, b_sk, L2)
    gap = softmax_regression_loss(X_train, y_train, *trained, L2) - J_star
    assert 0.01 < gap < 0.03
    ours = np.mean(softmax_regression_predict(X_test, *trained) == y_test)
    theirs = sklearn_solution.score(X_test, y_test)
    assert abs(ours - theirs) <= 0.02 and min(ours, theirs) > 0.96


def test_strong_convexity_bounds_the_distance_to_the_minimiser():
    X, y, _, _ = problem(15, n=40, d=3, k=4)
    l2 = 0.05
    clf = LogisticRegression(C=1 / (l2 * 40), tol=1e-12, max_iter=5000).fit(X, y)
    W_star, b_star = clf.coef_.T, clf.intercept_
    J_star = softmax_regression_loss(X, y, W_star, b_star, l2)
    rng = np.random.default_rng(16)
    for _ in range(20):
        W, b = W_star + rng.normal(size=W_star.shape), b_star + rng.normal(size=4)
        excess = softmax_regression_loss(X, y, W, b, l2) - J_star
        assert l2 / 2 * np.sum((W - W_star) ** 2) <= excess + 1e-9


def test_long_gradient_descent_reaches_the_sklearn_solution(digits, sklearn_solution):
    X_train, X_test, y_train, _ = digits
    W, b = softmax_regression_fit(X_train, y_train, 10, learning_rate=4.0, n_epochs=1000, l2=L2)
    W_sk, b_sk = sklearn_solution.coef_.T, sklearn_solution.intercept_
    gap = softmax_regression_loss(X_train, y_train, W, b, L2) - softmax_regression_loss(
        X_train, y_train, W_sk, b_sk, L2
    )
    assert 0 < gap < 1e-4
    assert np.linalg.norm(W - W_sk) <= np.sqrt(2 * gap / L2)
    difference = softmax_regression_predict_proba(X_test, W, b) - sklearn_solution.predict_proba(
        X_test
    )
    assert np.abs(difference).max() < 0.05


# ---------------------------------------------------------------- softmax-regression-course


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-500, 500))
def test_two_class_cross_entropy_is_softplus(z):
    # -log sigma(z) = zeta(-z), the loss of the right class with logit z
    np.testing.assert_allclose(-ref.log_sigmoid(z), ref.softplus(-z), rtol=1e-14, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), c=st.floats(-1e3, 1e3))
def test_lse_moves_with_a_shift_while_softmax_does_not(seed, c):
    z = np.random.default_rng(seed).normal(size=5) * 10
    np.testing.assert_allclose(ref.logsumexp(z + c), ref.logsumexp(z) + c, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ref.softmax(z + c), ref.softmax(z), rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------- the page itself


def test_chapter_labels_header_figures_and_exercise_pointer():
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:")
    assert text.split("---\n", 2)[2].lstrip().startswith("(softmax-regression-chapter)=")
    for label in [
        "softmax-regression-goals",
        "softmax-regression-data",
        "softmax-regression-split",
        "softmax-regression-standardize",
        "softmax-regression-model",
        "softmax-regression-loss",
        "softmax-regression-gradient",
        "softmax-regression-gradient-check",
        "softmax-regression-training",
        "softmax-regression-learning-rate",
        "softmax-regression-l2",
        "softmax-regression-evaluation",
        "softmax-regression-weights",
        "softmax-regression-decision-regions",
        "softmax-regression-sklearn",
        "softmax-regression-course",
        "softmax-regression-summary",
    ]:
        assert f"({label})=" in text, label
    assert "## Learning goals" in text and "## Summary" in text
    assert "{doc}`softmax_regression_exercise`" in text
    assert len(re.findall(r":    caption:", text)) == 6
    assert len(re.findall(r":    alt:", text)) == 6
    assert "/work/" not in text and "/tmp/" not in text
    # the numbers quoted in the text
    for quoted in ["1347", "450", "7.38", "3.69", "0.54", "2.3026", "10^7", "about 150"]:
        assert quoted in text, quoted
