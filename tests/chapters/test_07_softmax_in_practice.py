"""Tests for every identity and claim stated in chapter 7, "Softmax in practice".

The chapter is chapters/07_softmax_in_practice/softmax_in_practice.md. Each group of tests names
the section label of the statements it checks. The functions under test are the reference
implementations in ``autograder.reference.practice`` (built on chapters 1 to 6); exact values
come from 50-digit mpmath. The last group reads the page itself: the test set appears only in
its last section, and the page keeps the book's conventions.
"""

import itertools
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
from helpers import (
    central_difference_gradient,
    mentions_of_the_test_set,
    myst_code_cells,
    peeks_before,
    relative_error,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from autograder import reference as ref
from autograder.reference import (
    expected_calibration_error,
    fit_temperature,
    one_vs_rest_fit,
    softmax_regression_grad,
    softmax_regression_hessian,
    softmax_regression_loss,
    softmax_regression_newton,
    softmax_regression_sgd,
    standardize,
    temperature_nll,
    temperature_nll_grad,
)
from autograder.reference.digits import load_digits_split

CHAPTER = (
    Path(__file__).resolve().parents[2]
    / "chapters"
    / "07_softmax_in_practice"
    / "softmax_in_practice.md"
)
K, LAM = 10, 1e-3
mpmath.mp.dps = 50


# ---------------------------------------------------------------- fixtures


def raw_splits():
    """The chapter's split (chapter 6's): training + validation, then training and validation."""
    X, y = load_digits(return_X_y=True)
    X_trainval, X_test, y_trainval, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_trainval, y_trainval, test_size=0.25, random_state=0, stratify=y_trainval
    )
    return X_train, X_val, X_test, y_train, y_val, y_test


@pytest.fixture(scope="module")
def selection():
    X_train, X_val, _, y_train, y_val, _ = raw_splits()
    X_train, X_val = standardize(X_train, X_val)
    return X_train, X_val, y_train, y_val


@pytest.fixture(scope="module")
def model(selection):
    X_train, _, y_train, _ = selection
    return softmax_regression_newton(X_train, y_train, K, l2=LAM)


def logits_problem(seed, n=30, k=4, scale=2.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.0
    return scale * z, y


# ---------------------------------------------------------------- practice-data


def test_the_splits_are_chapter_6s_1010_337_and_450(selection):
    _, _, y_train, y_val = selection
    assert (len(y_train), len(y_val)) == (1010, 337)
    *_, y_test = raw_splits()
    assert np.array_equal(y_test, load_digits_split()[3])  # the course's test set
    assert len(y_test) == 450


def test_the_newton_model_is_chapter_6s_minimiser(selection, model):
    X_train, _, y_train, _ = selection
    dW, db = softmax_regression_grad(X_train, y_train, *model, LAM)
    assert np.linalg.norm(np.r_[dW.ravel(), db]) < 1e-9


# ---------------------------------------------------------------- practice-multilabel


def multilabel_loss(z, y):
    return float(np.sum(ref.softplus(z) - y * z))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(2, 8))
def test_multilabel_gradient_is_sigmoid_minus_target(seed, k):
    """prop-practice-multilabel-gradient, first half: sigma(z) - y, entry k from z_k alone."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, size=k)
    y = rng.integers(0, 2, size=k).astype(float)
    numeric = central_difference_gradient(lambda t: multilabel_loss(t, y), z)
    assert relative_error(ref.sigmoid(z) - y, numeric) < 1e-8


def test_multilabel_entries_are_independent_and_softmax_ones_are_not():
    """prop-practice-multilabel-gradient, second half: moving z_1 changes only entry 1 of the
    multi-label gradient, every entry of the softmax one."""
    z = np.array([0.3, -1.0, 2.0])
    y = np.array([1.0, 0.0, 1.0])
    moved = z + np.array([0.0, 1.5, 0.0])
    multi = (ref.sigmoid(moved) - y) - (ref.sigmoid(z) - y)
    assert np.count_nonzero(np.abs(multi) > 1e-12) == 1
    soft = ref.softmax(moved) - ref.softmax(z)
    assert np.all(np.abs(soft) > 1e-3)


def test_the_planted_softmax_gradient_fails_the_multilabel_check():
    z = np.array([0.3, -1.0, 2.0])
    y = np.array([1.0, 0.0, 1.0])
    numeric = central_difference_gradient(lambda t: multilabel_loss(t, y), z)
    assert relative_error(ref.softmax(z) - y, numeric) > 0.1


def test_one_vs_rest_is_not_a_distribution_and_loses_on_validation_nll(selection, model):
    """practice-ovr: the sigmoids' sums range widely; the normalised one-vs-rest cross-entropy
    is clearly above softmax's; the accuracies are within a point."""
    X_train, X_val, y_train, y_val = selection
    W_ovr, b_ovr = one_vs_rest_fit(X_train, y_train, K, l2=LAM)
    P = ref.sigmoid(X_val @ W_ovr + b_ovr)
    sums = P.sum(axis=1)
    assert sums.min() < 0.1 and sums.max() > 1.5
    Q_ovr = P / sums[:, None]
    ovr_nll = -np.mean(np.log(Q_ovr[np.arange(len(y_val)), y_val]))
    softmax_nll = ref.softmax_cross_entropy(X_val @ model[0] + model[1], y_val)
    assert ovr_nll > softmax_nll + 0.03
    ovr_acc = np.mean(P.argmax(axis=1) == y_val)
    softmax_acc = np.mean((X_val @ model[0] + model[1]).argmax(axis=1) == y_val)
    assert abs(ovr_acc - softmax_acc) < 0.01


# ---------------------------------------------------------------- practice-temperature


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), tau=st.floats(0.2, 5.0))
def test_temperature_derivatives_match_central_differences(seed, tau):
    """thm-practice-temperature-convex: the derivative in gamma, and the chain rule to tau."""
    z, y = logits_problem(seed)
    gamma = 1 / tau
    q = ref.softmax(gamma * z)
    in_gamma = np.mean(np.sum((q - np.eye(z.shape[1])[y]) * z, axis=1))
    numeric = central_difference_gradient(
        lambda g: float(temperature_nll(z, y, 1 / g[0])), np.array([gamma])
    )[0]
    assert abs(in_gamma - numeric) < 1e-7 * max(1, abs(numeric))
    assert temperature_nll_grad(z, y, tau) == pytest.approx(-in_gamma / tau**2, rel=1e-10)


def test_temperature_derivative_against_mpmath():
    z, y = logits_problem(1, n=8)

    def nll(t):
        total = mpmath.mpf(0)
        for row, label in zip(z, y, strict=True):
            s = [mpmath.mpf(float(v)) / t for v in row]
            total += mpmath.log(mpmath.fsum(mpmath.exp(v) for v in s)) - s[int(label)]
        return total / len(y)

    exact = mpmath.diff(nll, mpmath.mpf("1.3"))
    assert float(abs(temperature_nll_grad(z, y, 1.3) - exact) / abs(exact)) < 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), g1=st.floats(0.05, 4), g2=st.floats(0.05, 4))
def test_validation_nll_is_convex_in_the_inverse_temperature(seed, g1, g2):
    z, y = logits_problem(seed)
    values = [temperature_nll(z, y, 1 / g) for g in (g1, (g1 + g2) / 2, g2)]
    assert values[1] <= (values[0] + values[2]) / 2 + 1e-12


def test_the_derivative_at_gamma_0_is_mean_logit_minus_label_logit():
    z, y = logits_problem(2)
    at_zero = np.mean(z.mean(axis=1) - z[np.arange(len(y)), y])
    tiny = 1e-9
    assert -((1 / tiny) ** 2) * temperature_nll_grad(z, y, 1 / tiny) == pytest.approx(
        at_zero, rel=1e-6
    )


def test_planted_sign_fault_in_the_temperature_derivative_is_caught():
    z, y = logits_problem(3)
    numeric = central_difference_gradient(
        lambda t: float(temperature_nll(z, y, t[0])), np.array([1.5])
    )[0]
    assert abs(-temperature_nll_grad(z, y, 1.5) - numeric) > 1e-3


def test_the_temperatures_the_page_describes(selection, model):
    """practice-temperature: tau* a little below 1 for lambda = 1e-3, NLL and ECE lower after
    scaling, no prediction changed; tau* > 1 for lambda = 1e-4 and < 1 for lambda = 1e-2."""
    X_train, X_val, y_train, y_val = selection
    Z = X_val @ model[0] + model[1]
    tau = fit_temperature(Z, y_val)
    assert 0.8 < tau < 1
    assert temperature_nll(Z, y_val, tau) < temperature_nll(Z, y_val, 1.0)
    assert expected_calibration_error(ref.softmax(Z / tau), y_val) < expected_calibration_error(
        ref.softmax(Z), y_val
    )
    assert np.array_equal(ref.softmax(Z / tau).argmax(axis=1), Z.argmax(axis=1))
    taus = {}
    for lam in (1e-4, 1e-2):
        W, b = softmax_regression_newton(X_train, y_train, K, l2=lam)
        taus[lam] = fit_temperature(X_val @ W + b, y_val)
    assert taus[1e-4] > 1.2 and taus[1e-2] < 0.6


# ---------------------------------------------------------------- practice-sgd


def test_minibatch_gradients_average_to_the_full_gradient(selection):
    """An epoch's minibatches of equal size: their mean gradient is the full gradient, so a
    random minibatch's gradient is an unbiased estimate."""
    X_train, _, y_train, _ = selection
    X, y = X_train[:1000], y_train[:1000]
    rng = np.random.default_rng(0)
    W, b = 0.1 * rng.normal(size=(64, K)), 0.1 * rng.normal(size=K)
    order = rng.permutation(1000)
    parts = [softmax_regression_grad(X[r], y[r], W, b, LAM) for r in order.reshape(40, 25)]
    mean_dW = np.mean([p[0] for p in parts], axis=0)
    full_dW, _ = softmax_regression_grad(X, y, W, b, LAM)
    np.testing.assert_allclose(mean_dW, full_dW, rtol=1e-10, atol=1e-14)


def test_the_sgd_figure_numbers(selection, model):
    """fig-practice-sgd: SGD with B = 32, alpha = 0.8 is within 1e-2 of the minimum after 10
    epochs, full batch is not after forty; the larger step's floor stays near 1e-3."""
    X_train, _, y_train, _ = selection
    L_star = softmax_regression_loss(X_train, y_train, *model, LAM)

    def gap(**kwargs):
        W, b = softmax_regression_sgd(X_train, y_train, K, l2=LAM, **kwargs)
        return softmax_regression_loss(X_train, y_train, W, b, LAM) - L_star

    assert gap(learning_rate=0.8, n_epochs=10, batch_size=32) < 1e-2
    assert gap(learning_rate=4.0, n_epochs=10, batch_size=None) > 5e-2
    assert 0.01 < gap(learning_rate=4.0, n_epochs=40, batch_size=None) < 0.02
    assert 2e-4 < gap(learning_rate=0.8, n_epochs=70, batch_size=32) < 3e-3


# ---------------------------------------------------------------- practice-newton


def test_hessian_kronecker_form_and_flat_bias_direction():
    """thm-practice-hessian: the stated sum of Kronecker products, PSD, flat along the shift."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(15, 3))
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    H = softmax_regression_hessian(X, W, b, 0.2)
    A = np.hstack([X, np.ones((15, 1))])
    Q = ref.softmax(X @ W + b)
    stated = sum(
        np.kron(np.outer(a, a), np.diag(q) - np.outer(q, q)) for a, q in zip(A, Q, strict=True)
    ) / 15 + 0.2 * np.diag(np.r_[np.ones(12), np.zeros(4)])
    np.testing.assert_allclose(H, stated, atol=1e-14)
    assert np.linalg.eigvalsh(H).min() > -1e-12
    np.testing.assert_allclose(H @ np.r_[np.zeros(12), np.ones(4)], 0.0, atol=1e-14)


def test_the_pages_newton_steps_descend_and_converge_quadratically(selection, model):
    """practice-newton: the page's undamped steps lower L at every step; after 7 steps the gap
    is below 1e-10; 650 parameters."""
    X_train, _, y_train, _ = selection
    d = X_train.shape[1]
    L_star = softmax_regression_loss(X_train, y_train, *model, LAM)
    v = np.zeros((d + 1, K))
    v[d] = 1 / np.sqrt(K)
    theta = np.zeros((d + 1, K))
    gaps = [softmax_regression_loss(X_train, y_train, theta[:d], theta[d], LAM) - L_star]
    for _ in range(7):
        dW, db = softmax_regression_grad(X_train, y_train, theta[:d], theta[d], LAM)
        H = softmax_regression_hessian(X_train, theta[:d], theta[d], LAM)
        assert H.shape == (650, 650)
        H = H + np.outer(v.ravel(), v.ravel())
        theta = theta + np.linalg.solve(H, -np.vstack([dW, db]).ravel()).reshape(d + 1, K)
        gaps.append(softmax_regression_loss(X_train, y_train, theta[:d], theta[d], LAM) - L_star)
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
    assert gaps[7] < 1e-10
    assert gaps[5] < gaps[3] ** 1.5  # faster than linear


def test_gradient_descent_is_far_behind_after_300_steps(selection, model):
    X_train, _, y_train, _ = selection
    L_star = softmax_regression_loss(X_train, y_train, *model, LAM)
    W, b = ref.softmax_regression_fit(X_train, y_train, K, 4.0, 300, LAM)
    assert 1e-5 < softmax_regression_loss(X_train, y_train, W, b, LAM) - L_star < 1e-3


# ---------------------------------------------------------------- practice-smoothing


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), kappa=st.floats(0, 1), k=st.integers(2, 7))
def test_smoothing_gradient_is_q_minus_smoothed_target(seed, kappa, k):
    """prop-practice-smoothing: the gradient of H(y~, softmax(z)) is q - y~."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, size=k)
    label = int(rng.integers(k))
    target = (1 - kappa) * np.eye(k)[label] + kappa / k

    def loss(t):
        return float(-(target @ ref.log_softmax(t)))

    numeric = central_difference_gradient(loss, z)
    assert relative_error(ref.softmax(z) - target, numeric) < 1e-7
    np.testing.assert_allclose(
        ref.smoothed_cross_entropy_grad(z[None], np.array([label]), kappa)[0],
        ref.softmax(z) - target,
        rtol=1e-12,
        atol=1e-15,
    )


def test_smoothing_minimiser_is_the_smoothed_target():
    """prop-practice-smoothing: free logits minimising H(y~, softmax(z)) give q = y~, and the
    label's probability 1 - kappa + kappa / K."""
    kappa, k = 0.1, 10
    target = (1 - kappa) * np.eye(k)[3] + kappa / k
    z = np.zeros(k)
    for _ in range(3000):
        z -= 2.0 * (ref.softmax(z) - target)
    np.testing.assert_allclose(ref.softmax(z), target, atol=1e-10)
    assert ref.softmax(z)[3] == pytest.approx(1 - kappa + kappa / k, abs=1e-10)


def test_smoothing_lowers_confidence_and_loses_on_the_validation_set(selection, model):
    """practice-smoothing: the mean confidence falls with kappa, the fitted temperatures fall
    below 1, and no smoothed model beats the Newton model's validation NLL at its tau*."""
    X_train, X_val, y_train, y_val = selection
    Z = X_val @ model[0] + model[1]
    best = temperature_nll(Z, y_val, fit_temperature(Z, y_val))
    confidence = []
    for kappa in (0.0, 0.05, 0.1, 0.2):
        W, b = softmax_regression_sgd(X_train, y_train, K, 0.2, 40, 32, LAM, smoothing=kappa)
        Z_s = X_val @ W + b
        tau = fit_temperature(Z_s, y_val)
        confidence.append(ref.softmax(Z_s).max(axis=1).mean())
        assert temperature_nll(Z_s, y_val, tau) > best
        if kappa > 0:
            assert tau < 0.7
    assert all(b < a for a, b in itertools.pairwise(confidence))


# ---------------------------------------------------------------- the page itself


#: The section where the test set may first appear.
EVALUATION = "(practice-evaluation)="


def peeks_before_evaluation(text):
    return peeks_before(text, EVALUATION)


def test_no_cell_before_the_evaluation_section_touches_the_test_set():
    """Every choice (model, penalty, trainer, smoothing, temperature) is made on the validation
    set; only the last section loads the test images, and it does use them."""
    text = CHAPTER.read_text(encoding="utf-8")
    assert peeks_before_evaluation(text) == []
    after = text[text.index(EVALUATION) :]
    assert any(mentions_of_the_test_set(source) for _, _, source in myst_code_cells(after))


def test_an_early_peek_is_caught():
    """Planted faults in the real page: cells before the evaluation that look at the test set."""
    text = CHAPTER.read_text(encoding="utf-8")
    anchor = "(practice-smoothing)="
    assert anchor in text and text.index(anchor) < text.index(EVALUATION)
    for peek in (
        "_, X_test, _, y_test = load_digits_split()",
        "tau_star = fit_temperature(X_test @ W + b, y_test)",
        'scores = {"test": 0.0}',
    ):
        planted = text.replace(anchor, f"```{{code-cell}} ipython3\n{peek}\n```\n\n{anchor}")
        caught = peeks_before_evaluation(planted)
        assert len(caught) == 1 and caught[0][1], peek


VISIBLE_ASSERT = re.compile(r"^\s*assert\b|np\.testing\.assert|assert_allclose")


def test_at_most_15_visible_assert_lines():
    text = CHAPTER.read_text(encoding="utf-8")
    visible = [
        line
        for _, tags, source in myst_code_cells(text)
        if not tags & {"hide-input", "remove-input", "remove-cell"}
        for line in source.splitlines()
        if VISIBLE_ASSERT.search(line)
    ]
    assert len(visible) <= 15, visible


def test_chapter_labels_header_figures_and_citations():
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:")
    assert text.split("---\n", 2)[2].lstrip().startswith("(practice-chapter)=")
    for label in [
        "practice-goals",
        "practice-data",
        "practice-multilabel",
        "practice-ovr",
        "practice-calibration",
        "practice-reliability",
        "practice-temperature",
        "practice-temperature-gradient",
        "practice-sgd",
        "practice-newton",
        "practice-smoothing",
        "practice-evaluation",
        "practice-summary",
    ]:
        assert f"({label})=" in text, label
    assert "## Learning goals" in text and "## Summary" in text
    assert "{doc}`softmax_in_practice_exercise`" in text
    assert len(re.findall(r":    caption:", text)) == 3
    assert len(re.findall(r":    alt:", text)) == 3
    assert "/work/" not in text and "/tmp/" not in text
    for key in ("goodfellow2016", "bishop2006", "ng_cs229", "mccullagh1989", "bohning1992"):
        assert f"{{cite}}`{key}`" in text, key
    for quoted in ["1010", "337", "450", "650", "1 - \\kappa + \\kappa/K"]:
        assert quoted in text, quoted
