"""Tests of the softmax regression reference functions
(``autograder.reference.softmax_regression``).

The capstone test trains on the course's fixed digits split and requires the held-out accuracy
to be within 2 percentage points of scikit-learn's ``LogisticRegression`` on the same split.
"""

import numpy as np
import pytest
from helpers import central_difference_gradient, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from autograder import reference as ref
from autograder.reference import (
    digits_data,
    softmax_regression_fit,
    softmax_regression_grad,
    softmax_regression_loss,
    softmax_regression_predict,
    softmax_regression_predict_proba,
    standardize,
)
from autograder.reference.digits import load_digits_split


def problem(seed, n=12, d=4, k=3, scale=1.0):
    """A small random classification problem and random parameters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    W = scale * rng.normal(size=(d, k))
    b = scale * rng.normal(size=k)
    return X, y, W, b


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


# ------------------------------------------------------------------ predict_proba / predict


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 7), scale=st.sampled_from([0.1, 1, 50]))
def test_predict_proba_rows_sum_to_one_and_match_softmax(seed, k, scale):
    X, _, W, b = problem(seed, k=k, scale=scale)
    P = softmax_regression_predict_proba(X, W, b)
    assert P.shape == (X.shape[0], k)
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(P, ref.softmax(X @ W + b, axis=-1))
    for n in range(X.shape[0]):
        np.testing.assert_allclose(P[n], ref.softmax(W.T @ X[n] + b), rtol=1e-12, atol=1e-300)


def test_predict_proba_does_not_overflow_for_large_logits():
    X, _, W, b = problem(1)
    with np.errstate(all="raise"):
        P = softmax_regression_predict_proba(X, 1e3 * W, b + 800.0)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 7))
def test_predict_is_argmax_of_probabilities(seed, k):
    X, _, W, b = problem(seed, n=30, k=k)
    predicted = softmax_regression_predict(X, W, b)
    assert predicted.dtype == np.int64
    np.testing.assert_array_equal(
        predicted, np.argmax(softmax_regression_predict_proba(X, W, b), 1)
    )


# ------------------------------------------------------------------------- loss and gradient


def test_loss_is_log_k_at_zero():
    X, y, W, _ = problem(2, k=5)
    assert softmax_regression_loss(X, y, np.zeros_like(W), np.zeros(5)) == pytest.approx(
        np.log(5), rel=1e-15
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.01, 1.0]))
def test_loss_is_mean_cross_entropy_plus_half_l2_norm(seed, l2):
    X, y, W, b = problem(seed)
    log_p = ref.log_softmax(X @ W + b)
    expected = -np.mean(log_p[np.arange(len(y)), y]) + l2 / 2 * np.sum(W**2)
    np.testing.assert_allclose(softmax_regression_loss(X, y, W, b, l2), expected, rtol=1e-13)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    l2=st.sampled_from([0.0, 0.1, 2.0]),
    shape=st.sampled_from([(1, 1, 2), (5, 3, 4), (12, 4, 3), (8, 2, 6)]),
)
def test_gradient_matches_central_differences(seed, l2, shape):
    n, d, k = shape
    X, y, W, b = problem(seed, n=n, d=d, k=k)
    dW, db = softmax_regression_grad(X, y, W, b, l2)
    assert dW.shape == (d, k) and db.shape == (k,)
    gW = central_difference_gradient(lambda V: softmax_regression_loss(X, y, V, b, l2), W)
    gb = central_difference_gradient(lambda c: softmax_regression_loss(X, y, W, c, l2), b)
    error = relative_error(np.concatenate([dW.ravel(), db]), np.concatenate([gW.ravel(), gb]))
    assert error < 1e-7


def test_gradient_is_the_formula_with_one_hot_labels():
    X, y, W, b = problem(3, n=20, d=5, k=4)
    P = ref.softmax(X @ W + b)
    Y = np.eye(4)[y]
    dW, db = softmax_regression_grad(X, y, W, b, 0.3)
    np.testing.assert_allclose(dW, X.T @ (P - Y) / 20 + 0.3 * W, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, (P - Y).mean(axis=0), rtol=1e-12, atol=1e-15)


def test_gradient_check_catches_a_missing_mean_and_a_missing_penalty():
    X, y, W, b = problem(4, n=10)
    dW, _ = softmax_regression_grad(X, y, W, b, 0.5)
    gW = central_difference_gradient(lambda V: softmax_regression_loss(X, y, V, b, 0.5), W)
    assert relative_error(dW, gW) < 1e-8
    assert relative_error((dW - 0.5 * W) * 10 + 0.5 * W, gW) > 1e-2  # (P - Y) without / N
    assert relative_error(dW - 0.5 * W, gW) > 1e-2  # no lambda W


# ------------------------------------------------------------------------------- training


def test_fit_with_zero_epochs_returns_zeros():
    X, y, _, _ = problem(5)
    W, b = softmax_regression_fit(X, y, 3, n_epochs=0)
    assert W.shape == (4, 3) and b.shape == (3,)
    assert not W.any() and not b.any()


def test_fit_is_gradient_descent_from_zero():
    X, y, _, _ = problem(6)
    W, b = np.zeros((4, 3)), np.zeros(3)
    for _ in range(7):
        dW, db = softmax_regression_grad(X, y, W, b, 0.05)
        W, b = W - 0.3 * dW, b - 0.3 * db
    W_fit, b_fit = softmax_regression_fit(X, y, 3, learning_rate=0.3, n_epochs=7, l2=0.05)
    np.testing.assert_array_equal(W_fit, W)
    np.testing.assert_array_equal(b_fit, b)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 1e-3, 0.1]))
def test_loss_decreases_monotonically_for_a_small_enough_step(seed, l2):
    X, y, _, _ = problem(seed, n=40, d=5, k=4)
    A = np.hstack([X, np.ones((40, 1))])
    step = 1 / (np.linalg.eigvalsh(A.T @ A / 40).max() / 2 + l2)  # 1/L, L from Boehning's bound
    losses = [
        softmax_regression_loss(X, y, *softmax_regression_fit(X, y, 4, step, n, l2), l2)
        for n in range(0, 40, 3)
    ]
    assert losses[0] == pytest.approx(np.log(4), rel=1e-15)
    assert np.all(np.diff(losses) < 0)


def test_fit_on_digits_decreases_the_loss_step_by_step(digits):
    X_train, _, y_train, _ = digits
    losses = [
        softmax_regression_loss(
            X_train, y_train, *softmax_regression_fit(X_train, y_train, 10, n_epochs=n), 1e-3
        )
        for n in [0, 1, 2, 5, 10, 30]
    ]
    assert np.all(np.diff(losses) < 0)


def test_fit_is_deterministic(digits):
    X_train, _, y_train, _ = digits
    first = softmax_regression_fit(X_train[:300], y_train[:300], 10, n_epochs=50)
    second = softmax_regression_fit(X_train[:300], y_train[:300], 10, n_epochs=50)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_fit_keeps_all_classes_even_when_one_is_missing():
    X, y, _, _ = problem(7, n=30, k=3)
    W, b = softmax_regression_fit(X, y, n_classes=5, learning_rate=0.5, n_epochs=50, l2=0.0)
    assert W.shape == (4, 5) and b.shape == (5,)
    P = softmax_regression_predict_proba(X, W, b)
    assert P[:, 3:].max() < 0.1  # classes 3 and 4 never occur: their probability shrinks
    assert abs(b.sum()) < 1e-12  # the entries of each bias gradient sum to 0


def test_capstone_accuracy_within_two_points_of_scikit_learn(digits):
    X_train, X_test, y_train, y_test = digits
    l2 = 1e-3
    W, b = softmax_regression_fit(X_train, y_train, 10, learning_rate=0.25, n_epochs=500, l2=l2)
    ours = np.mean(softmax_regression_predict(X_test, W, b) == y_test)
    clf = LogisticRegression(C=1 / (l2 * len(y_train)), max_iter=2000, tol=1e-8)
    theirs = clf.fit(X_train, y_train).score(X_test, y_test)
    assert ours > 0.95
    assert abs(ours - theirs) <= 0.02
    # scikit-learn minimises the same J: our gradient vanishes at its solution
    dW, db = softmax_regression_grad(X_train, y_train, clf.coef_.T, clf.intercept_, l2)
    assert np.abs(dW).max() < 1e-6 and np.abs(db).max() < 1e-6


# ----------------------------------------------------------------------------------- data


def test_digits_split_is_fixed_stratified_and_standardised(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.dtype == np.int64 and set(np.unique(y_test)) == set(range(10))
    counts = np.bincount(y_train) + np.bincount(y_test)
    assert np.all(np.abs(np.bincount(y_test) - counts / 4) < 1)
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-14)
    std = X_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    again = load_digits_split()
    for first, second in zip(digits, again, strict=True):
        np.testing.assert_array_equal(first, second)
    other = load_digits_split(random_state=1)
    assert not np.array_equal(other[2], y_train)


def test_digits_data_are_the_scikit_learn_digits():
    from sklearn.datasets import load_digits

    X, y = digits_data()
    X_sk, y_sk = load_digits(return_X_y=True)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_sk)
    np.testing.assert_array_equal(y, y_sk)
    X[0, 0] = -1.0  # a copy: changing it changes nothing for the next caller
    assert digits_data()[0][0, 0] == X_sk[0, 0]


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(8)
    train = rng.normal(3.0, 2.0, size=(50, 3))
    train[:, 2] = 7.0  # constant on the training set: only centred
    test_a, test_b = rng.normal(size=(5, 3)), rng.normal(size=(9, 3))
    train_a, out_a = standardize(train, test_a)
    train_b, _ = standardize(train, test_b)
    np.testing.assert_array_equal(train_a, train_b)  # the test set changes nothing
    np.testing.assert_array_equal(out_a[2], standardize(train, test_a[2:3])[1][0])  # row by row
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(out_a, scaler.transform(test_a), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(train_a[:, 2], 0.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: softmax_regression_predict_proba(np.ones(3), np.ones((3, 2)), np.ones(2)), "X"),
        (
            lambda: softmax_regression_predict_proba(np.ones((4, 3)), np.ones((2, 2)), np.ones(2)),
            "W",
        ),
        (
            lambda: softmax_regression_predict_proba(np.ones((4, 3)), np.ones((3, 2)), np.ones(3)),
            "b",
        ),
        (
            lambda: softmax_regression_loss(np.ones((2, 3)), [0.0, 1.0], np.ones((3, 2)), [0, 0]),
            "y",
        ),
        (lambda: softmax_regression_fit(np.ones((2, 3)), [0, 2], 2), "n_classes"),
        (lambda: softmax_regression_fit(np.ones((2, 3)), [0, 1], 2, learning_rate=0.0), "learning"),
    ],
)
def test_bad_inputs_are_rejected_with_a_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------------- choose_l2


def scrambled_digits(seed, per_class, share):
    """``per_class`` images of each digit (standardised), a ``share`` of their labels replaced
    by a random digit, and the other images with their true labels."""
    rng = np.random.default_rng(seed)
    X, y = digits_data()
    given = np.zeros(len(y), dtype=bool)
    for k in range(10):
        given[rng.permutation(np.flatnonzero(y == k))[:per_class]] = True
    X_given, X_held = standardize(X[given], X[~given])
    y_given = y[given].copy()
    replaced = rng.random(len(y_given)) < share
    y_given[replaced] = rng.integers(0, 10, size=int(replaced.sum()))
    return X_given, y_given, X_held, y[~given]


def test_choose_l2_is_the_lowest_validation_cross_entropy_of_the_grid():
    X, y, _, _ = scrambled_digits(1, 20, 0.3)
    chosen = ref.choose_l2(X, y)
    assert chosen in ref.softmax_regression.L2_GRID
    # The same choice written out: a random third (seed 0) held out, cross-entropy without
    # the penalty, the smallest one.
    order = np.random.default_rng(0).permutation(len(y))
    held, kept = order[: round(len(y) / 3)], order[round(len(y) / 3) :]
    losses = {
        lam: softmax_regression_loss(
            X[held],
            y[held],
            *softmax_regression_fit(X[kept], y[kept], 10, 0.25, 200, lam),
        )
        for lam in (0.0, 0.01, 0.1, 1.0)
    }
    assert chosen == min(losses, key=losses.get)
    # A grid of one value leaves no choice; another seed may split otherwise, same grid.
    assert ref.choose_l2(X, y, grid=[0.5]) == 0.5
    assert ref.choose_l2(X, y, seed=3) in (0.0, 0.01, 0.1, 1.0)


def test_choose_l2_wants_a_penalty_for_scrambled_labels_and_little_for_true_ones():
    # The training loss would always prefer lambda = 0; the validation set does not.
    X, y, X_held, y_held = scrambled_digits(0, 40, 0.3)
    noisy = ref.choose_l2(X, y)
    assert noisy >= 0.1

    def held_out(lam):
        W, b = softmax_regression_fit(X, y, 10, 0.25, 200, lam)
        return np.mean(softmax_regression_predict(X_held, W, b) == y_held)

    assert held_out(noisy) > held_out(0.0) + 0.03
    X, y, _, _ = scrambled_digits(0, 60, 0.0)
    assert ref.choose_l2(X, y) <= 0.01


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_share": 0.0}, "validation_share"),
        ({"validation_share": 1.0}, "validation_share"),
        ({"grid": []}, "empty"),
        ({"n_classes": 3}, "n_classes"),
    ],
)
def test_choose_l2_rejects_bad_inputs(kwargs, message):
    X, y, _, _ = scrambled_digits(0, 3, 0.0)
    with pytest.raises(ValueError, match=message):
        ref.choose_l2(X, y, **kwargs)
