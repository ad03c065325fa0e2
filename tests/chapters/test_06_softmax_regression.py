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
from helpers import (
    EPS,
    central_difference_gradient,
    mentions_of_the_test_set,
    myst_code_cells,
    peeks_before,
    relative_error,
)
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
#: The first, guessed settings of the chapter (softmax-regression-training): alpha, epochs, lambda.
FIRST = (0.25, 500, 1e-3)
#: The settings the chapter chooses on the validation set (softmax-regression-validation).
ALPHA, LAM, EPOCHS = 4.0, 1e-3, 1237
#: The grid of the choice.
ALPHAS = (0.25, 1.0, 4.0, 16.0)
LAMS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
MAX_EPOCHS = 1500


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


def raw_splits():
    """The chapter's two splits, unscaled: (training + validation, and its labels), then the
    training and validation parts of it: ``X_trainval, y_trainval, X_train, X_val, y_train,
    y_val``."""
    X, y = load_digits(return_X_y=True)
    X_trainval, _, y_trainval, _ = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_trainval, y_trainval, test_size=0.25, random_state=0, stratify=y_trainval
    )
    return X_trainval, y_trainval, X_train, X_val, y_train, y_val


def fit_with_history(X, y, alpha, n_epochs, lam, X_val, y_val):
    """The chapter's ``fit``: gradient descent from zero, with the training loss and the
    validation cross-entropy after every epoch."""
    W, b = np.zeros((X.shape[1], 10)), np.zeros(10)
    train, val = [], []
    for epoch in range(n_epochs + 1):
        Z = X @ W + b
        train.append(ref.softmax_cross_entropy(Z, y) + 0.5 * lam * np.sum(W**2))
        val.append(ref.softmax_cross_entropy(X_val @ W + b, y_val))
        if epoch == n_epochs:
            break
        G = ref.softmax_cross_entropy_grad(Z, y)
        W, b = W - alpha * (X.T @ G + lam * W), b - alpha * G.sum(axis=0)
    return W, b, np.array(train), np.array(val)


@pytest.fixture(scope="module")
def digits():
    """The course's split: training + validation (1347) and test (450), standardised."""
    return load_digits_split()


@pytest.fixture(scope="module")
def selection():
    """The split the chapter chooses on: ``X_train, X_val, y_train, y_val``, standardised
    with the training part's statistics."""
    _, _, X_train, X_val, y_train, y_val = raw_splits()
    X_train, X_val = standardize(X_train, X_val)
    return X_train, X_val, y_train, y_val


@pytest.fixture(scope="module")
def grid(selection):
    """Every run of the chapter's grid: ``{(alpha, lam): (W, b, train, val)}``."""
    X_train, X_val, y_train, y_val = selection
    return {
        (alpha, lam): fit_with_history(X_train, y_train, alpha, MAX_EPOCHS, lam, X_val, y_val)
        for alpha in ALPHAS
        for lam in LAMS
    }


@pytest.fixture(scope="module")
def trained(digits):
    """The chapter's final model: the chosen settings, refitted on training + validation."""
    X_trainval, _, y_trainval, _ = digits
    return softmax_regression_fit(X_trainval, y_trainval, 10, ALPHA, EPOCHS, LAM)


@pytest.fixture(scope="module")
def sklearn_solution(digits):
    X_trainval, _, y_trainval, _ = digits
    clf = LogisticRegression(C=1 / (LAM * len(y_trainval)), tol=1e-8, max_iter=2000)
    return clf.fit(X_trainval, y_trainval)


# ---------------------------------------------------------------- softmax-regression-data,
# softmax-regression-split, softmax-regression-standardize


def test_digits_are_1797_images_of_64_integer_pixels():
    data = load_digits()
    assert data.data.shape == (1797, 64)
    np.testing.assert_array_equal(data.data[0], data.images[0].ravel())  # row by row
    np.testing.assert_array_equal(np.unique(data.data), np.arange(17))
    assert np.bincount(data.target).min() >= 174


def test_split_is_1347_and_450_and_stratified(digits):
    X_trainval, X_test, y_trainval, y_test = digits
    assert X_trainval.shape == (1347, 64) and X_test.shape == (450, 64)
    assert (len(y_trainval), len(y_test)) == (1347, 450)
    everything = np.bincount(y_trainval) + np.bincount(y_test)
    assert np.all(np.abs(np.bincount(y_test) - 0.25 * everything) < 1)


def test_validation_split_is_1010_and_337_and_stratified():
    _, y_trainval, X_train, X_val, y_train, y_val = raw_splits()
    assert X_train.shape == (1010, 64) and X_val.shape == (337, 64)
    np.testing.assert_array_equal(
        np.bincount(y_train) + np.bincount(y_val), np.bincount(y_trainval)
    )
    assert np.all(np.abs(np.bincount(y_val) - 0.25 * np.bincount(y_trainval)) < 1)
    np.testing.assert_array_equal(np.bincount(y_val), [33, 34, 33, 34, 34, 34, 34, 34, 33, 34])


def test_the_first_split_of_the_page_is_the_loaders(digits):
    """The page keeps the first split's training part only; the loader gives the same one."""
    X_trainval, y_trainval, *_ = raw_splits()
    np.testing.assert_array_equal(standardize(X_trainval)[0], digits[0])
    np.testing.assert_array_equal(y_trainval, digits[2])


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


def test_constant_pixels_of_the_training_set_are_only_centred(digits, selection):
    X_trainval, _, X_train, *_ = raw_splits()
    constant = np.flatnonzero(X_train.std(axis=0) == 0)
    np.testing.assert_array_equal(constant, [0, 24, 32, 39, 56])  # printed by the page
    np.testing.assert_array_equal(selection[0][:, constant], 0.0)
    # pixel 56 is inked on some validation image: on all 1347 images four are constant
    np.testing.assert_array_equal(np.flatnonzero(X_trainval.std(axis=0) == 0), [0, 24, 32, 39])
    np.testing.assert_array_equal(digits[0][:, [0, 24, 32, 39]], 0.0)


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


def test_validation_set_is_not_exactly_centred(selection):
    """Its standardised features have means up to about 0.16."""
    assert round(float(np.abs(selection[1].mean(axis=0)).max()), 2) == 0.16


def test_standardised_with_m_and_s_as_the_page_does(selection):
    _, _, X_train, X_val, _, _ = raw_splits()
    m, s = X_train.mean(axis=0), X_train.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    np.testing.assert_array_equal((X_train - m) / s, selection[0])
    np.testing.assert_array_equal((X_val - m) / s, selection[1])


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


def test_log_softmax_and_z_minus_lse_agree_in_absolute_terms(selection):
    X_train, _, y_train, _ = selection
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


def test_first_run_decreases_the_loss_at_every_step_and_the_figure_numbers(selection):
    X_train, X_val, y_train, y_val = selection
    alpha, n_epochs, lam = FIRST
    W, b, train, val = fit_with_history(X_train, y_train, alpha, n_epochs, lam, X_val, y_val)
    assert train[0] == pytest.approx(np.log(10), rel=1e-15)
    assert np.all(np.diff(train) < 0)
    # the figure's description: the training loss falls to about 0.09, the validation
    # cross-entropy flattens near 0.16, above it
    assert round(train[-1], 2) == 0.09 and round(val[-1], 2) == 0.16
    for mine, course in zip(
        (W, b), softmax_regression_fit(X_train, y_train, 10, *FIRST), strict=True
    ):
        np.testing.assert_allclose(mine, course, rtol=1e-12, atol=1e-14)


def test_final_model_reaches_the_accuracy_and_loss_quoted(digits, trained):
    X_trainval, X_test, y_trainval, y_test = digits
    W, b = trained
    right = int(np.sum(softmax_regression_predict(X_test, W, b) == y_test))
    assert right == 437 and f"{right / 450:.2%}" == "97.11%"
    assert round(float(softmax_regression_loss(X_trainval, y_trainval, W, b, LAM)), 5) == 0.08211
    assert f"{np.mean(softmax_regression_predict(X_trainval, W, b) == y_trainval):.2%}" == "99.85%"


def test_refit_still_descends_at_every_step(digits):
    X_trainval, _, y_trainval, _ = digits
    W, b = np.zeros((64, 10)), np.zeros(10)
    losses = []
    for _ in range(EPOCHS + 1):
        losses.append(softmax_regression_loss(X_trainval, y_trainval, W, b, LAM))
        dW, db = softmax_regression_grad(X_trainval, y_trainval, W, b, LAM)
        W, b = W - ALPHA * dW, b - ALPHA * db
    assert np.all(np.diff(losses) < 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), copies=st.integers(2, 4))
def test_a_mean_loss_and_its_gradient_do_not_grow_with_n(seed, copies):
    """Why the settings carry over to more images: L is a mean, so repeating the data set
    leaves L, its gradient and so its curvature unchanged."""
    X, y, W, b = problem(seed, n=7, d=3, k=4)
    X_more, y_more = np.tile(X, (copies, 1)), np.tile(y, copies)
    assert softmax_regression_loss(X_more, y_more, W, b, 0.1) == pytest.approx(
        softmax_regression_loss(X, y, W, b, 0.1), rel=1e-13
    )
    for more, once in zip(
        softmax_regression_grad(X_more, y_more, W, b, 0.1),
        softmax_regression_grad(X, y, W, b, 0.1),
        strict=True,
    ):
        np.testing.assert_allclose(more, once, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- softmax-regression-validation


@pytest.mark.slow  # trains the grid: 20 runs of 1500 epochs
def test_the_validation_grid_chooses_alpha_4_lambda_1e_3_and_1237_epochs(grid):
    rose = {pair for pair, run in grid.items() if np.any(np.diff(run[2]) > 1e-12)}
    assert rose == {(4.0, 1e-1), (16.0, 1e-3), (16.0, 1e-2), (16.0, 1e-1)}
    stable = [pair for pair in grid if pair not in rose]
    chosen = min(stable, key=lambda pair: grid[pair][3].min())
    assert chosen == (ALPHA, LAM)
    val = grid[chosen][3]
    assert int(np.argmin(val)) == EPOCHS and round(val.min(), 4) == 0.1357
    # without the rule, the oscillating run alpha = 16, lambda = 1e-3 would win by a hair
    assert min(grid, key=lambda pair: grid[pair][3].min()) == (16.0, 1e-3)
    assert 0 < val.min() - grid[16.0, 1e-3][3].min() < 0.002


@pytest.mark.slow
def test_what_the_validation_set_says(grid):
    for alpha in ALPHAS:  # lambda = 1e-3 is the best penalty for every step size
        assert min(LAMS, key=lambda lam: grid[alpha, lam][3].min()) == 1e-3
    val_zero = grid[ALPHA, 0.0][3]
    assert [int(np.argmin(grid[ALPHA, lam][3])) for lam in (0.0, 1e-4)] == [119, 211]
    assert val_zero[-1] > val_zero.min() + 0.02  # it climbs: overfitting
    assert round(val_zero.min(), 2) == 0.16 and round(val_zero[-1], 2) == 0.19
    val = grid[ALPHA, LAM][3]
    assert val[700] - val.min() < 1e-3  # flat after about 700 epochs
    # early stopping without a penalty does less well than the penalty
    assert min(grid[alpha, 0.0][3].min() for alpha in ALPHAS) > val.min() + 0.005
    for lam in (1e-2, 1e-1):  # underfitting
        assert min(grid[alpha, lam][3].min() for alpha in ALPHAS) > 0.18


@pytest.mark.slow
def test_the_validation_figure_numbers(grid):
    best = {pair: run[3].min() for pair, run in grid.items()}
    for alpha in (0.25, 1.0, 4.0):
        assert round(best[alpha, 1e-3], 2) == 0.14
        assert 0.4 <= best[alpha, 1e-1] <= 0.48
    assert round(best[16.0, 0.0], 2) == 0.33 and round(best[16.0, 1e-1], 1) == 1.5


@pytest.mark.slow
def test_the_learning_rate_figure_numbers(grid):
    at_300 = {alpha: grid[alpha, LAM][2][300] for alpha in ALPHAS}
    assert round(at_300[0.25], 2) == 0.11 and round(at_300[4.0], 3) == 0.075
    for alpha in (0.25, 1.0, 4.0):
        assert np.all(np.diff(grid[alpha, LAM][2]) < 0)
    spiky = grid[16.0, LAM][2][50:301]
    assert spiky.max() > 5 * spiky.min() and 130 < 50 + np.argmax(spiky) < 150


def test_the_chosen_settings_score_95_85_percent_on_validation(selection):
    X_train, X_val, y_train, y_val = selection
    W, b = softmax_regression_fit(X_train, y_train, 10, ALPHA, EPOCHS, LAM)
    right = int(np.sum(softmax_regression_predict(X_val, W, b) == y_val))
    assert f"{right / 337:.2%}" == "95.85%"


def test_standard_errors_quoted():
    assert round(np.sqrt(0.96 * 0.04 / 337) * 100, 1) == 1.1  # validation, percentage points
    assert round(np.sqrt(0.97 * 0.03 / 450) * 100, 1) == 0.8  # test
    assert round(100 / 337, 1) == 0.3  # one validation image


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 10),
    concentration=st.sampled_from([0.1, 1, 10]),
)
def test_boehning_bound_is_a_matrix_inequality(seed, k, concentration):
    """diag(q) - q q^T <= (I - 1 1^T / K) / 2 in the Loewner order; restricted to the K - 1
    free logits it is Boehning's form, (I - 1 1^T / K) / 2 of size K - 1; and the largest
    eigenvalue is at most 1/2 (the corollary)."""
    q = np.random.default_rng(seed).dirichlet(np.full(k, concentration))
    hessian = np.diag(q) - np.outer(q, q)
    bound = (np.eye(k) - np.ones((k, k)) / k) / 2
    assert np.linalg.eigvalsh(bound - hessian).min() >= -1e-15
    free = (np.eye(k - 1) - np.ones((k - 1, k - 1)) / k) / 2
    assert np.linalg.eigvalsh(free - hessian[:-1, :-1]).min() >= -1e-15
    assert np.linalg.eigvalsh(hessian).max() <= 0.5 + 1e-15
    np.testing.assert_allclose(hessian @ np.ones(k), 0, atol=1e-15)  # both vanish along 1
    np.testing.assert_allclose(bound @ np.ones(k), 0, atol=1e-15)


def test_boehning_bound_is_attained_by_two_halves():
    q = np.array([0.5, 0.5, 0.0])
    hessian = np.diag(q) - np.outer(q, q)
    assert np.linalg.eigvalsh(hessian).max() == pytest.approx(0.5, rel=1e-15)
    v = np.array([1.0, -1.0, 0.0])
    assert v @ hessian @ v == 1.0 == 0.5 * v @ v


@pytest.mark.parametrize("k", [2, 3, 10])
def test_the_bound_matrix_has_eigenvalues_one_half_and_zero(k):
    bound = (np.eye(k) - np.ones((k, k)) / k) / 2
    np.testing.assert_allclose(np.linalg.eigvalsh(bound), [0.0] + [0.5] * (k - 1), atol=1e-15)


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
    seed=st.integers(0, 2**32 - 1),
    lam=st.sampled_from([0.0, 1e-3, 0.1]),
    below=st.floats(0.1, 0.99),
)
def test_any_step_below_two_over_m_decreases_the_loss(seed, lam, below):
    X, y, _, _ = problem(seed, n=30, d=4, k=5)
    M = np.linalg.eigvalsh(with_bias_column(X).T @ with_bias_column(X) / 30).max() / 2 + lam
    alpha = below * 2 / M
    W, b = np.zeros((4, 5)), np.zeros(5)
    before = softmax_regression_loss(X, y, W, b, lam)
    for _ in range(25):
        dW, db = softmax_regression_grad(X, y, W, b, lam)
        W, b = W - alpha * dW, b - alpha * db
        after = softmax_regression_loss(X, y, W, b, lam)
        # (sr-descent): L drops by at least alpha (1 - M alpha / 2) ||grad||^2
        assert (
            after <= before - alpha * (1 - M * alpha / 2) * (np.sum(dW**2) + np.sum(db**2)) + 1e-14
        )
        before = after


@pytest.mark.parametrize("M", [0.5, 3.67, 10.0])
def test_the_descent_factor_is_positive_below_two_over_m_and_largest_at_one_over_m(M):
    alphas = np.linspace(1e-6, 2 / M, 2001)[1:-1]
    factor = alphas * (1 - M * alphas / 2)
    assert np.all(factor > 0)
    assert alphas[np.argmax(factor)] == pytest.approx(1 / M, rel=1e-3)
    assert factor.max() == pytest.approx(1 / (2 * M), rel=1e-6)


def test_digits_curvature_numbers(selection):
    A = with_bias_column(selection[0])
    nu_max = np.linalg.eigvalsh(A.T @ A / len(A)).max()
    assert round(nu_max, 2) == 7.34
    M = nu_max / 2 + 1e-3
    assert round(M, 2) == 3.67
    assert round(2 / M, 3) == 0.545 and round(1 / M, 3) == 0.273 and FIRST[0] <= 1 / M


def test_standardising_cuts_the_curvature_ratio():
    _, _, raw_train, *_ = raw_splits()

    def ratio(M):
        eig = np.linalg.eigvalsh(with_bias_column(M).T @ with_bias_column(M) / len(M))
        eig = eig[eig > 1e-10 * eig.max()]
        return eig.max() / eig.min()

    assert ratio(raw_train / 16) > 1e6
    assert round(ratio(standardize(raw_train)[0]), -1) == 150


def test_curvature_at_zero_along_the_top_direction(selection):
    X_train, _, y_train, _ = selection
    A = with_bias_column(X_train)
    nu, vecs = np.linalg.eigh(A.T @ A / len(A))
    V = np.zeros((65, 10))
    V[:, 0], V[:, 1] = vecs[:, -1] / np.sqrt(2), -vecs[:, -1] / np.sqrt(2)
    delta = 1e-4
    second = (
        softmax_regression_loss(X_train, y_train, delta * V[:64], delta * V[64], LAM)
        - 2 * np.log(10)
        + softmax_regression_loss(X_train, y_train, -delta * V[:64], -delta * V[64], LAM)
    ) / delta**2
    np.testing.assert_allclose(second, nu[-1] / 10 + LAM * np.sum(V[:64] ** 2), rtol=1e-5)


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


@pytest.mark.slow
def test_larger_lambda_gives_smaller_weights_and_too_large_underfits(selection, grid):
    """The table of the page: the runs with alpha = 1 after 1500 epochs."""
    X_train, X_val, y_train, y_val = selection
    norms = [np.linalg.norm(grid[1.0, lam][0]) for lam in LAMS]
    assert np.all(np.diff(norms) < 0)
    assert 4.5 < norms[0] / norms[-1] < 6  # "five times smaller"
    accuracies = [
        np.mean(softmax_regression_predict(X_val, *grid[1.0, lam][:2]) == y_val) for lam in LAMS
    ]
    assert f"{accuracies[-1]:.2%}" == "92.58%" and accuracies[-1] < min(accuracies[:-1])
    assert max(accuracies[:-1]) - min(accuracies[:-1]) == pytest.approx(1 / 337)  # one image
    W, b = grid[1.0, 1e-1][:2]
    assert round(float(softmax_regression_loss(X_train, y_train, W, b)), 2) == 0.43


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
    assert (np.diag(C).min(), np.diag(C).max(), off.max(), off.sum()) == (39, 46, 3, 13)
    assert np.unravel_index(np.argmax(off), off.shape) == (8, 1)  # 8 read as 1, three times


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


def test_two_principal_components_carry_23_percent_and_give_about_half_right(selection):
    X_train, X_val, y_train, y_val = selection
    _, S, Vt = np.linalg.svd(X_train, full_matrices=False)
    assert round(np.sum(S[:2] ** 2) / np.sum(S**2), 2) == 0.23
    F_train, F_val = X_train @ Vt[:2].T, X_val @ Vt[:2].T
    np.testing.assert_allclose(F_train.var(axis=0), S[:2] ** 2 / len(F_train), rtol=1e-10)
    W, b, train, _ = fit_with_history(F_train, y_train, *FIRST, F_val, y_val)
    assert np.all(np.diff(train) < 0)
    assert 0.4 < np.mean(softmax_regression_predict(F_val, W, b) == y_val) < 0.7
    # the same top direction, so the same curvature bound; and alpha = 4 oscillates here
    A = with_bias_column(F_train)
    nu_max = np.linalg.eigvalsh(with_bias_column(X_train).T @ with_bias_column(X_train)).max()
    np.testing.assert_allclose(np.linalg.eigvalsh(A.T @ A).max(), nu_max, rtol=1e-10)
    _, _, train_4, _ = fit_with_history(F_train, y_train, ALPHA, EPOCHS, LAM, F_val, y_val)
    assert np.any(np.diff(train_4) > 1e-12)


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


def test_sklearn_solution_is_the_minimiser_of_l(digits, sklearn_solution, trained):
    X_trainval, _, y_trainval, _ = digits
    W_sk, b_sk = sklearn_solution.coef_.T, sklearn_solution.intercept_
    dW, db = softmax_regression_grad(X_trainval, y_trainval, W_sk, b_sk, LAM)
    assert np.abs(dW).max() < 1e-6 and np.abs(db).max() < 1e-6
    L_star = softmax_regression_loss(X_trainval, y_trainval, W_sk, b_sk, LAM)
    gap = softmax_regression_loss(X_trainval, y_trainval, *trained, LAM) - L_star
    assert 0 < gap < 1e-5 and round(gap, 6) == 3e-6  # "within about 3 x 10^-6"
    assert np.linalg.norm(trained[0] - W_sk) <= np.sqrt(2 * gap / LAM)
    ours = softmax_regression_predict_proba(X_trainval, *trained)
    theirs = sklearn_solution.predict_proba(X_trainval)
    assert np.abs(ours - theirs).max() < 0.005
    np.testing.assert_array_equal(np.argmax(ours, axis=1), sklearn_solution.predict(X_trainval))


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


#: The section where the test set may first appear.
EVALUATION = "(softmax-regression-evaluation)="


def peeks_before_evaluation(text):
    return peeks_before(text, EVALUATION)


def test_no_cell_before_the_evaluation_section_touches_the_test_set():
    """The discipline of softmax-regression-split: every choice (scaling, step size, penalty,
    epochs, the refit) is made without the test images; only the last section loads them."""
    text = CHAPTER.read_text(encoding="utf-8")
    assert peeks_before_evaluation(text) == []
    after = text[text.index(EVALUATION) :]
    assert any(mentions_of_the_test_set(source) for _, _, source in myst_code_cells(after)), (
        "the evaluation section does use the test set"
    )


def test_an_early_peek_is_caught():
    """A planted fault in the real page: a cell after the split that looks at the test set."""
    text = CHAPTER.read_text(encoding="utf-8")
    anchor = "(softmax-regression-standardize)="
    assert anchor in text and text.index(anchor) < text.index(EVALUATION)
    for peek in (
        "_, X_test, _, y_test = load_digits_split()\nprint(X_test.shape)",
        "W, b, history = fit(X_train, y_train, K, 0.25, 500, 1e-3, X_test, y_test)",
        "print(acc_test)",
    ):
        planted = text.replace(anchor, f"```{{code-cell}} ipython3\n{peek}\n```\n\n{anchor}")
        caught = peeks_before_evaluation(planted)
        assert len(caught) == 1 and caught[0][1], peek


def test_the_discipline_check_reads_names_keys_and_loaders_and_nothing_else():
    page = """intro

```{{code-cell}} ipython3
{early}
```

(softmax-regression-evaluation)=
## The test set, used once

```{{code-cell}} ipython3
_, X_test, _, y_test = load_digits_split()
```
"""
    caught = {
        'best = np.argmin(history["test"])': ["'test'"],
        "X_trainval, _, y, _ = load_digits_split()": ["load_digits_split"],
        "Xtest = X[mask]": ["Xtest"],
        "n_test = 450": ["n_test"],
    }
    for early, mentions in caught.items():
        assert peeks_before_evaluation(page.format(early=early)) == [(3, mentions)], early
    innocent = [
        "X_a, _, y_a, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)",
        'print("the test set is set aside")  # prose may name it',
        'history = {"train": [], "val": []}',
    ]
    for early in innocent:
        assert peeks_before_evaluation(page.format(early=early)) == [], early


VISIBLE_ASSERT = re.compile(r"^\s*assert\b|np\.testing\.assert|assert_allclose")


def test_at_most_15_visible_assert_lines():
    """Verification code is folded (hide-input) or lives in this file; the checks that teach
    stay in the open."""
    text = CHAPTER.read_text(encoding="utf-8")
    visible = [
        line
        for _, tags, source in myst_code_cells(text)
        if not tags & {"hide-input", "remove-input", "remove-cell"}
        for line in source.splitlines()
        if VISIBLE_ASSERT.search(line)
    ]
    assert len(visible) <= 15, visible


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
        "softmax-regression-validation",
        "softmax-regression-l2",
        "softmax-regression-refit",
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
    assert len(re.findall(r":    caption:", text)) == 7
    assert len(re.findall(r":    alt:", text)) == 7
    assert "/work/" not in text and "/tmp/" not in text
    for key in ("ng_cs229", "bishop2006", "goodfellow2016", "bohning1992"):
        assert f"{{cite}}`{key}`" in text, key
    # the numbers quoted in the text
    for quoted in [
        "1010",
        "337",
        "450",
        "1347",
        "7.34",
        "3.67",
        "0.545",
        "0.273",
        "2.3026",
        "10^6",
        "about 150",
        "1237",
        "119 or 211",
        "95.85%",
        "92.58%",
        "97.11%",
        "437 of",
        "about 0.16",
        "3 \\times 10^{-6}",
    ]:
        assert quoted in text, quoted
