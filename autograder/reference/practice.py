r"""Softmax in practice: calibration, temperature scaling, one-vs-rest, SGD and Newton's method.

These are the reference implementations of chapter 7 of the course.  They use the model of
chapter 6, :math:`\mathbf q(\mathbf x) = \operatorname{softmax}(W^\top \mathbf x + \mathbf b)`
with ``W`` of shape ``(d, K)`` and ``b`` of shape ``(K,)``, and its objective
:math:`L(W, \mathbf b)`, the mean cross-entropy plus :math:`\frac\lambda2 \|W\|_F^2`.

- Calibration: :func:`reliability_curve` and :func:`expected_calibration_error` measure how
  far the confidence :math:`\max_k q_k` of a classifier is from its accuracy.
- Temperature scaling: :func:`temperature_nll`, its derivative :func:`temperature_nll_grad`,
  its curvature :func:`temperature_nll_curvature` and :func:`fit_temperature`, which
  minimises the validation negative log-likelihood of :math:`\operatorname{softmax}(\mathbf
  z/\tau)` over :math:`\tau`, a convex problem in :math:`\gamma = 1/\tau`.
- Training: :func:`softmax_regression_sgd` (minibatch stochastic gradient descent, with
  optional label smoothing), :func:`softmax_regression_hessian` and
  :func:`softmax_regression_newton` (Newton's method, also called iteratively reweighted
  least squares), and :func:`one_vs_rest_fit` (one sigmoid per class, each fitted by Newton).
"""

import numpy as np

from autograder.reference.elementary import (
    binary_cross_entropy_with_logits,
    sigmoid,
    smoothed_cross_entropy_grad,
    softmax,
    softmax_cross_entropy,
)
from autograder.reference.softmax_regression import _as_matrix, _class_indices, _parameters

__all__ = [
    "choose_penalty",
    "expected_calibration_error",
    "fit_temperature",
    "one_vs_rest_fit",
    "reliability_curve",
    "softmax_regression_hessian",
    "softmax_regression_newton",
    "softmax_regression_sgd",
    "temperature_nll",
    "temperature_nll_curvature",
    "temperature_nll_grad",
]


# --------------------------------------------------------------------------- helpers


def _probabilities_and_labels(q, y):
    """Validate ``q (N, K)`` rows of probabilities and ``y (N,)`` labels in ``[0, K)``."""
    q = _as_matrix(q, "q")
    y = _class_indices(y, q.shape[0])
    if q.shape[0] == 0:
        raise ValueError("q must hold at least one row")
    if y.min() < 0 or y.max() >= q.shape[1]:
        raise ValueError(f"the labels must lie in [0, K) = [0, {q.shape[1]})")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or np.any(q > 1):
        raise ValueError("q must hold probabilities: finite numbers in [0, 1]")
    return q, y


def _logits_and_labels(z, y):
    z = _as_matrix(z, "logits")
    y = _class_indices(y, z.shape[0])
    if z.shape[0] == 0:
        raise ValueError("logits must hold at least one row")
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"the labels must lie in [0, K) = [0, {z.shape[1]})")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    return z, y


def _positive(value, name):
    value = float(value)
    if not (value > 0 and np.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _training_data(X, y, n_classes):
    X = _as_matrix(X)
    y = _class_indices(y, X.shape[0])
    n_classes = int(n_classes)
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one example")
    if n_classes < 1 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"the labels must lie in [0, n_classes) = [0, {n_classes})")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must hold finite numbers")
    return X, y, n_classes


# ----------------------------------------------------------------------- calibration


def reliability_curve(q, y, n_bins=10):
    r"""The reliability diagram of a classifier: confidence against accuracy, bin by bin.

    Parameters
    ----------
    q : array_like, shape (N, K)
        Predicted distributions, one row per example.
    y : array_like of int, shape (N,)
        The true class indices, in ``[0, K)``.
    n_bins : int, optional
        Number of equal-width bins of the confidence in ``[0, 1]`` (default 10).

    Returns
    -------
    confidence : ndarray, shape (n_bins,)
        The mean confidence :math:`\max_k q_{nk}` of the examples in each bin (NaN for an
        empty bin).
    accuracy : ndarray, shape (n_bins,)
        The fraction of them whose most probable class is right (NaN for an empty bin).
    counts : ndarray of int64, shape (n_bins,)
        How many examples fall in each bin.

    Raises
    ------
    ValueError
        If ``q`` is not a 2-D array of probabilities, ``y`` not ``N`` integer labels in
        ``[0, K)``, or ``n_bins`` is not a positive integer.

    See Also
    --------
    expected_calibration_error : The weighted gap between the two curves.
    sklearn.calibration.calibration_curve : The binary version (same bins, empty ones left out).

    Notes
    -----
    The confidence of example :math:`n` is :math:`c_n = \max_k q_{nk}` and it is correct when
    :math:`\arg\max_k q_{nk} = y_n` (the first maximal class, as ``np.argmax`` picks it).
    With :math:`n_{\mathrm{bins}}` bins, bin :math:`b` holds the examples with
    :math:`c_n \in (\frac{b-1}{n_{\mathrm{bins}}}, \frac{b}{n_{\mathrm{bins}}}]` (the first bin
    also holds 0), the rule of scikit-learn's ``calibration_curve`` with
    ``strategy="uniform"``.  A calibrated classifier has accuracy equal to confidence in
    every bin: among the examples it gives confidence 0.8, 80% are right.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of modern neural
       networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import reliability_curve
    >>> q = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> confidence, accuracy, counts = reliability_curve(q, [0, 1, 1, 1], n_bins=5)
    >>> print(counts)
    [0 0 1 2 1]
    >>> print(confidence[2:], accuracy[2:])
    [0.6  0.75 0.9 ] [1.  0.5 1. ]
    """
    q, y = _probabilities_and_labels(q, y)
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    n_bins = int(n_bins)
    confidence = q.max(axis=1)
    correct = (q.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence)
    counts = np.bincount(bins, minlength=n_bins)
    sums = np.bincount(bins, weights=confidence, minlength=n_bins)
    hits = np.bincount(bins, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, hits / counts, counts.astype(np.int64)


def expected_calibration_error(q, y, n_bins=15):
    r"""Expected calibration error: the mean gap between confidence and accuracy, over bins.

    Parameters
    ----------
    q : array_like, shape (N, K)
        Predicted distributions, one row per example.
    y : array_like of int, shape (N,)
        The true class indices, in ``[0, K)``.
    n_bins : int, optional
        Number of equal-width confidence bins (default 15).

    Returns
    -------
    numpy.float64
        :math:`\mathrm{ECE} \in [0, 1]`.

    Raises
    ------
    ValueError
        As :func:`reliability_curve`.

    See Also
    --------
    reliability_curve : The bins, their confidence and accuracy.
    fit_temperature : Lowers it by rescaling the logits.

    Notes
    -----
    With :math:`N_b` examples in bin :math:`b`, of mean confidence :math:`\bar c_b` and
    accuracy :math:`\bar a_b`,

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{n_{\mathrm{bins}}} \frac{N_b}{N}\,
        \lvert \bar a_b - \bar c_b \rvert .

    Empty bins count 0.  It is 0 for a classifier that is calibrated on these examples, and
    it depends on the number of bins: it is a histogram estimate, biased upwards for few
    examples per bin.

    References
    ----------
    .. [1] M. P. Naeini, G. Cooper, M. Hauskrecht, "Obtaining well calibrated probabilities
       using Bayesian binning", AAAI 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import expected_calibration_error
    >>> q = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> print(f"{expected_calibration_error(q, [0, 1, 1, 1], n_bins=5):.4f}")
    0.2500
    """
    confidence, accuracy, counts = reliability_curve(q, y, n_bins)
    used = counts > 0
    weights = counts[used] / counts.sum()
    return np.float64(np.sum(weights * np.abs(accuracy[used] - confidence[used])))


# ---------------------------------------------------------------- temperature scaling


def temperature_nll(logits, labels, tau):
    r"""Mean negative log-likelihood of the labels under :math:`\operatorname{softmax}(\mathbf
    z / \tau)`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Logits :math:`\mathbf z_n` of a trained model, one row per example (finite).
    labels : array_like of int, shape (N,)
        Class indices in ``[0, K)``.
    tau : float
        The temperature :math:`\tau > 0`.

    Returns
    -------
    numpy.float64
        :math:`\mathrm{NLL}(\tau) = \frac1N \sum_n \ell(\mathbf z_n / \tau, y_n)`.

    Raises
    ------
    ValueError
        If ``logits`` is not a finite 2-D array, ``labels`` not ``N`` labels in ``[0, K)``, or
        ``tau`` is not positive and finite.

    See Also
    --------
    temperature_nll_grad : Its derivative with respect to :math:`\tau`.
    fit_temperature : Its minimiser.
    autograder.reference.softmax_cross_entropy : The loss it evaluates at the scaled logits.

    Notes
    -----
    In the inverse temperature :math:`\gamma = 1/\tau`,

    .. math::

        \mathrm{NLL}(\gamma) = \frac1N \sum_{n=1}^N \bigl(\operatorname{LSE}(\gamma \mathbf
        z_n) - \gamma z_{n, y_n}\bigr),

    a convex function of :math:`\gamma` (LSE is convex, and composed with a linear map stays
    so).  It is computed through log-softmax, so it stays accurate for any :math:`\tau`.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import temperature_nll
    >>> z = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
    >>> print(f"{temperature_nll(z, [0, 2], 1.0):.6f} {temperature_nll(z, [0, 2], 2.0):.6f}")
    1.102911 0.851957
    """
    z, y = _logits_and_labels(logits, labels)
    return softmax_cross_entropy(z / _positive(tau, "tau"), y)


def _gamma_moments(z, y, gamma):
    """Mean of z under q = softmax(gamma z), row by row, and the variance, with z_y."""
    q = softmax(gamma * z)
    mean = np.sum(q * z, axis=1)
    variance = np.sum(q * (z - mean[:, None]) ** 2, axis=1)  # two passes: no cancellation
    return mean, variance, z[np.arange(len(y)), y]


def temperature_nll_grad(logits, labels, tau):
    r"""Derivative of :func:`temperature_nll` with respect to the temperature :math:`\tau`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Logits, one row per example (finite).
    labels : array_like of int, shape (N,)
        Class indices in ``[0, K)``.
    tau : float
        The temperature :math:`\tau > 0`.

    Returns
    -------
    numpy.float64
        :math:`\mathrm{d}\,\mathrm{NLL} / \mathrm{d}\tau`.

    Raises
    ------
    ValueError
        As :func:`temperature_nll`.

    See Also
    --------
    temperature_nll : The function it differentiates.
    temperature_nll_curvature : The second derivative, in :math:`\gamma = 1/\tau`.

    Notes
    -----
    With :math:`\gamma = 1/\tau` and :math:`\mathbf q_n = \operatorname{softmax}(\gamma
    \mathbf z_n)`, the derivative of :math:`\operatorname{LSE}(\gamma \mathbf z)` with respect
    to :math:`\gamma` is :math:`\mathbf q^\top \mathbf z`, so

    .. math::

        \frac{\mathrm{d}\,\mathrm{NLL}}{\mathrm{d}\gamma}
        = \frac1N \sum_n (\mathbf q_n - \mathbf y_n)^\top \mathbf z_n, \qquad
        \frac{\mathrm{d}\,\mathrm{NLL}}{\mathrm{d}\tau}
        = -\frac{1}{\tau^2} \frac{\mathrm{d}\,\mathrm{NLL}}{\mathrm{d}\gamma} .

    The first is the "softmax minus label" of chapter 4, dotted with the direction
    :math:`\mathbf z_n` in which :math:`\gamma` moves the logits.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import temperature_nll, temperature_nll_grad
    >>> z, y = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0]]), [0, 2]
    >>> print(f"{temperature_nll_grad(z, y, 2.0):.6f}")
    -0.033095
    >>> delta = 1e-6
    >>> fd = (temperature_nll(z, y, 2 + delta) - temperature_nll(z, y, 2 - delta)) / (2 * delta)
    >>> print(f"{fd:.6f}")
    -0.033095
    """
    z, y = _logits_and_labels(logits, labels)
    tau = _positive(tau, "tau")
    mean, _, chosen = _gamma_moments(z, y, 1.0 / tau)
    return np.float64(-np.mean(mean - chosen) / tau**2)


def temperature_nll_curvature(logits, labels, tau):
    r"""Second derivative of the temperature NLL with respect to :math:`\gamma = 1/\tau`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Logits, one row per example (finite).
    labels : array_like of int, shape (N,)
        Class indices in ``[0, K)`` (the curvature does not depend on them).
    tau : float
        The temperature :math:`\tau > 0` at which it is evaluated.

    Returns
    -------
    numpy.float64
        :math:`\mathrm{d}^2 \mathrm{NLL} / \mathrm{d}\gamma^2 \ge 0`.

    Raises
    ------
    ValueError
        As :func:`temperature_nll`.

    See Also
    --------
    temperature_nll_grad : The first derivative.
    fit_temperature : Newton's method with both.

    Notes
    -----
    Differentiating :math:`\mathbf q^\top \mathbf z` once more, with
    :math:`\mathrm{d} q_k / \mathrm{d}\gamma = q_k (z_k - \mathbf q^\top \mathbf z)`,

    .. math::

        \frac{\mathrm{d}^2 \mathrm{NLL}}{\mathrm{d}\gamma^2} = \frac1N \sum_n \sum_k q_{nk}
        \bigl(z_{nk} - \mathbf q_n^\top \mathbf z_n\bigr)^2,

    the mean variance of the logits under the model's own distribution: never negative, which
    proves the convexity in :math:`\gamma` again.  It is 0 only where every row's logits are
    all equal, or every :math:`\mathbf q_n` is one-hot.  Computed in two passes (mean, then
    squared deviations), so it does not cancel the way :math:`\sum q z^2 - (\sum q z)^2` does.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import temperature_nll_curvature
    >>> z = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
    >>> print(f"{temperature_nll_curvature(z, [0, 2], 2.0):.6f}")
    2.044655
    """
    z, y = _logits_and_labels(logits, labels)
    _, variance, _ = _gamma_moments(z, y, 1.0 / _positive(tau, "tau"))
    return np.float64(np.mean(variance))


def fit_temperature(logits, labels, tol=1e-12, max_iter=100):
    r"""The temperature :math:`\tau` that minimises the mean NLL of ``labels`` under
    :math:`\operatorname{softmax}(\mathbf z / \tau)`: temperature scaling.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Logits of a trained model on a validation set, one row per example (finite).
    labels : array_like of int, shape (N,)
        Their class indices, in ``[0, K)``.
    tol : float, optional
        Stop when the bracket of :math:`\gamma = 1/\tau` is narrower than ``tol`` relative to
        :math:`\gamma` (default ``1e-12``).
    max_iter : int, optional
        The most Newton or bisection steps taken (default 100).

    Returns
    -------
    float
        The minimising temperature :math:`\tau^\star > 0`.

    Raises
    ------
    ValueError
        If the inputs are invalid (as :func:`temperature_nll`); if the NLL does not fall as
        :math:`\gamma` grows from 0 (the logits do not favour the labels, so no positive
        temperature is best); or if it falls for every :math:`\gamma` (every example is
        classified right: the NLL decreases towards 0 as :math:`\tau \to 0`).

    See Also
    --------
    temperature_nll : The objective.
    temperature_nll_grad, temperature_nll_curvature : Its derivatives.
    expected_calibration_error : What temperature scaling is meant to lower.

    Notes
    -----
    In :math:`\gamma = 1/\tau` the objective is convex, with derivative
    :math:`g(\gamma) = \frac1N \sum_n (\mathbf q_n^\top \mathbf z_n - z_{n,y_n})`, increasing
    from :math:`g(0) = \frac1N \sum_n (\bar z_n - z_{n,y_n})` (:math:`\bar z_n` the mean logit)
    to :math:`\frac1N \sum_n (\max_k z_{nk} - z_{n,y_n}) \ge 0` as :math:`\gamma \to \infty`.
    A minimiser :math:`\gamma^\star > 0` exists when :math:`g(0) < 0` and the limit is
    positive.  The method: bracket :math:`\gamma^\star` by doubling, then take Newton steps
    :math:`\gamma \leftarrow \gamma - g(\gamma)/g'(\gamma)` with the curvature of
    :func:`temperature_nll_curvature`, falling back to bisection whenever a Newton step leaves
    the bracket.  Dividing every logit by :math:`\tau > 0` changes no prediction, so the
    accuracy stays the same; only the confidence moves.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of modern neural
       networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import fit_temperature, temperature_nll_grad
    >>> z = np.array([[4.0, 0.0, 0.0], [0.0, 3.0, 1.0], [2.0, 0.0, 1.0]])
    >>> tau = fit_temperature(z, [0, 2, 0])
    >>> print(f"{tau:.6f}")
    1.676997
    >>> print(abs(temperature_nll_grad(z, [0, 2, 0], tau)) < 1e-12)
    True
    """
    z, y = _logits_and_labels(logits, labels)

    def g(gamma):
        mean, _, chosen = _gamma_moments(z, y, gamma)
        return np.mean(mean - chosen)

    if not g(0.0) < 0:
        raise ValueError(
            "the NLL does not fall as 1/tau grows from 0: the logits do not favour the labels, "
            "so no positive temperature minimises it"
        )
    chosen = z[np.arange(len(y)), y]
    if not np.mean(z.max(axis=1) - chosen) > 0:
        raise ValueError(
            "every example is classified right: the NLL falls towards 0 as tau -> 0, and no "
            "temperature minimises it"
        )
    low, high = 0.0, 1.0
    while g(high) < 0:  # the derivative reaches its positive limit: doubling ends
        low, high = high, 2 * high
    gamma = 0.5 * (low + high)
    for _ in range(int(max_iter)):
        slope = g(gamma)
        if slope < 0:
            low = gamma
        else:
            high = gamma
        if high - low <= tol * high or slope == 0:
            break
        _, variance, _ = _gamma_moments(z, y, gamma)
        curvature = np.mean(variance)
        step = gamma - slope / curvature if curvature > 0 else np.nan
        gamma = step if low < step < high else 0.5 * (low + high)
    return float(1.0 / gamma)


# --------------------------------------------------------------------------- training


def softmax_regression_sgd(
    X,
    y,
    n_classes,
    learning_rate=0.5,
    n_epochs=20,
    batch_size=32,
    l2=1e-3,
    smoothing=0.0,
    seed=0,
):
    r"""Train softmax regression by minibatch stochastic gradient descent from ``W = 0, b = 0``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training examples, one per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes ``K``.
    learning_rate : float, optional
        The step size :math:`\alpha > 0` (default 0.5), constant.
    n_epochs : int, optional
        Passes over the training set (default 20).
    batch_size : int or None, optional
        Examples per step (default 32); ``None`` (or ``N`` and more) takes one full-batch step
        per epoch: plain gradient descent.
    l2 : float, optional
        Strength :math:`\lambda \ge 0` of the L2 penalty on ``W`` (default ``1e-3``).
    smoothing : float, optional
        Label smoothing :math:`\kappa \in [0, 1]` (default 0): the targets are
        :math:`(1 - \kappa)\mathbf y + \frac{\kappa}{K}\mathbf 1`.
    seed : int, optional
        Seed of the shuffles (default 0): a new permutation of the examples every epoch.

    Returns
    -------
    W : ndarray, shape (d, K)
    b : ndarray, shape (K,)

    Raises
    ------
    ValueError
        If the data are invalid (as :func:`autograder.reference.softmax_regression_fit`),
        ``learning_rate`` or ``batch_size`` is not positive, or ``smoothing`` is not in
        ``[0, 1]``.

    See Also
    --------
    autograder.reference.softmax_regression_fit : Full-batch gradient descent with step halving.
    softmax_regression_newton : Newton's method on the same objective.
    autograder.reference.smoothed_cross_entropy_grad : The gradient of each step.

    Notes
    -----
    Each epoch shuffles the examples and cuts them into :math:`\lceil N/B \rceil` minibatches
    :math:`\mathcal B`; each takes the step

    .. math::

        W \leftarrow W - \alpha\Bigl(\tfrac{1}{|\mathcal B|} X_{\mathcal B}^\top
        (Q_{\mathcal B} - \tilde Y_{\mathcal B}) + \lambda W\Bigr), \qquad
        \mathbf b \leftarrow \mathbf b - \alpha\, \tfrac{1}{|\mathcal B|}
        (Q_{\mathcal B} - \tilde Y_{\mathcal B})^\top \mathbf 1,

    an unbiased estimate of the full gradient (the penalty is added at every step, so that the
    expected step is the full-batch one).  An epoch costs about the same arithmetic as one
    full-batch step, :math:`O(NdK)`, but takes :math:`\lceil N/B \rceil` steps.  With a
    constant step the iterates do not converge; they hover in a region around the minimiser
    whose size grows with :math:`\alpha` and the gradient noise, which falls like
    :math:`1/B`.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press 2016, §8.3.1.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_predict, softmax_regression_sgd
    >>> from autograder.reference.digits import load_digits_split
    >>> X_train, X_test, y_train, y_test = load_digits_split()
    >>> W, b = softmax_regression_sgd(X_train, y_train, 10, n_epochs=10)
    >>> print(f"{np.mean(softmax_regression_predict(X_test, W, b) == y_test):.3f}")
    0.971
    """
    X, y, n_classes = _training_data(X, y, n_classes)
    alpha = _positive(learning_rate, "learning_rate")
    n = X.shape[0]
    if batch_size is None:
        batch_size = n
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"smoothing must lie in [0, 1], got {smoothing!r}")
    batch_size = min(int(batch_size), n)
    rng = np.random.default_rng(seed)
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    for _ in range(int(n_epochs)):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            G = smoothed_cross_entropy_grad(X[rows] @ W + b, y[rows], smoothing)
            W, b = W - alpha * (X[rows].T @ G + l2 * W), b - alpha * G.sum(axis=0)
    return W, b


def softmax_regression_hessian(X, W, b, l2=0.0):
    r"""The Hessian of :math:`L(W, \mathbf b)` with respect to the parameters, as one matrix.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Examples, one per row.
    W : array_like, shape (d, K)
        Weights.
    b : array_like, shape (K,)
        Biases.
    l2 : float, optional
        Strength :math:`\lambda \ge 0` of the penalty on ``W`` (default 0).

    Returns
    -------
    ndarray, shape ((d + 1) K, (d + 1) K)
        The Hessian in the parameters :math:`\Theta = [W; \mathbf b^\top]` of shape
        ``(d + 1, K)`` flattened row by row (``Theta.ravel()``): the weights first, feature by
        feature, then the biases.  It does not depend on the labels.

    Raises
    ------
    ValueError
        If the shapes do not match (as :func:`autograder.reference.softmax_regression_loss`).

    See Also
    --------
    softmax_regression_newton : Newton's method with it.
    autograder.reference.multinomial_log_partition_hvp : Chapter 5's Hessian of the
        log-partition, :math:`\operatorname{diag}(\mathbf q) - \mathbf q\mathbf q^\top`.

    Notes
    -----
    With :math:`\mathbf a_n = (\mathbf x_n, 1)` and the logits :math:`\mathbf z_n =
    \Theta^\top \mathbf a_n`, the loss of one example has Hessian
    :math:`\operatorname{diag}(\mathbf q_n) - \mathbf q_n \mathbf q_n^\top` in
    :math:`\mathbf z_n` (chapter 5: the covariance of the one-hot vector), and the logits are
    linear in :math:`\Theta`, so

    .. math::

        \nabla^2 L = \frac1N \sum_{n=1}^N (\mathbf a_n \mathbf a_n^\top) \otimes
        \bigl(\operatorname{diag}(\mathbf q_n) - \mathbf q_n \mathbf q_n^\top\bigr)
        + \lambda \begin{pmatrix} I_{dK} & 0 \\ 0 & 0 \end{pmatrix} .

    It is positive semidefinite, and singular along the direction that adds the same number
    to every bias (softmax ignores a shift), whatever :math:`\lambda`.

    References
    ----------
    .. [1] D. Böhning, "Multinomial logistic regression algorithm", *Annals of the
       Institute of Statistical Mathematics* 44(1), 197-200, 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_hessian
    >>> X = np.array([[1.0], [-1.0]])
    >>> H = softmax_regression_hessian(X, np.zeros((1, 2)), np.zeros(2))
    >>> print(H)
    [[ 0.25 -0.25  0.    0.  ]
     [-0.25  0.25  0.    0.  ]
     [ 0.    0.    0.25 -0.25]
     [ 0.   -0.    -0.25  0.25]]
    """
    X, W, b = _parameters(X, W, b)
    n, d = X.shape
    n_classes = W.shape[1]
    A = np.hstack([X, np.ones((n, 1))])
    Q = softmax(X @ W + b)
    # (1/N) sum_n a a^T (x) diag(q): the block (j, l) is diag(sum_n a_nj a_nl q_n) / N
    H = np.zeros((d + 1, n_classes, d + 1, n_classes))
    for k in range(n_classes):
        H[:, k, :, k] = (A * Q[:, k : k + 1]).T @ A / n
    H = H.reshape((d + 1) * n_classes, (d + 1) * n_classes)
    B = (A[:, :, None] * Q[:, None, :]).reshape(n, -1)  # rows a_n (x) q_n
    H -= B.T @ B / n
    H[: d * n_classes, : d * n_classes] += l2 * np.eye(d * n_classes)
    return H


def softmax_regression_newton(X, y, n_classes, l2=1e-3, n_iter=50, tol=1e-10):
    r"""Train softmax regression by Newton's method (iteratively reweighted least squares).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training examples, one per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes ``K``.
    l2 : float, optional
        Strength :math:`\lambda > 0` of the L2 penalty on ``W`` (default ``1e-3``); it must be
        positive, so that the minimiser is unique.
    n_iter : int, optional
        The most Newton steps (default 50).
    tol : float, optional
        Stop when the gradient's norm falls below ``tol`` (default ``1e-10``).

    Returns
    -------
    W : ndarray, shape (d, K)
    b : ndarray, shape (K,)
        The minimiser of :math:`L`, with biases summing to 0.

    Raises
    ------
    ValueError
        If the data are invalid, or ``l2`` is not positive.

    See Also
    --------
    softmax_regression_hessian : The Hessian of each step.
    autograder.reference.softmax_regression_fit : Gradient descent on the same objective.
    sklearn.linear_model.LogisticRegression : Its minimiser with ``C = 1 / (l2 * N)``.

    Notes
    -----
    Each step solves :math:`\nabla^2 L\, \mathbf p = -\nabla L` for the flattened parameters and
    moves to :math:`\Theta + t\mathbf p`, halving :math:`t` from 1 until :math:`L` does not rise
    by more than rounding error (a damped Newton step); it stops early when no step lowers
    :math:`L`, which happens only once the gradient is rounding error.  The Hessian is singular
    along the common shift of the biases, to which the gradient is orthogonal (the bias gradient
    sums to 0); adding the outer product of that unit direction to the Hessian makes it
    invertible and leaves the solution of the system unchanged.  Near the minimiser the
    convergence is quadratic: a handful of steps reach rounding error, against hundreds of
    gradient steps.  Each step costs :math:`O(N d^2 K^2)` to form the Hessian and :math:`O(d^3
    K^3)` to solve with it, so it fits problems with few parameters, such as the digits'
    :math:`65 \times 10`.

    References
    ----------
    .. [1] P. McCullagh, J. A. Nelder, *Generalized Linear Models*, 2nd ed., 1989, §2.5.
    .. [2] D. Böhning, "Multinomial logistic regression algorithm", *Annals of the
       Institute of Statistical Mathematics* 44(1), 197-200, 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_grad, softmax_regression_newton
    >>> X = np.array([[2.0, 1.0], [1.5, 2.0], [-1.0, 1.5], [-2.0, 0.5], [0.5, -2.0], [-0.5, -1.5]])
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> W, b = softmax_regression_newton(X, y, 3, l2=0.1)
    >>> dW, db = softmax_regression_grad(X, y, W, b, 0.1)
    >>> bool(np.abs(dW).max() < 1e-10 and np.abs(db).max() < 1e-10)
    True
    """
    X, y, n_classes = _training_data(X, y, n_classes)
    l2 = _positive(l2, "l2")
    n, d = X.shape
    Y = np.eye(n_classes)[y]
    A = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros((d + 1, n_classes))
    shift = np.zeros((d + 1, n_classes))
    shift[d] = 1 / np.sqrt(n_classes)  # the unit direction that adds c to every bias
    shift = shift.ravel()

    def loss(t):
        return softmax_cross_entropy(A @ t, y) + 0.5 * l2 * np.sum(t[:d] ** 2)

    current = loss(theta)
    for _ in range(int(n_iter)):
        Q = softmax(A @ theta)
        grad = A.T @ (Q - Y) / n
        grad[:d] += l2 * theta[:d]
        if np.linalg.norm(grad) < tol:
            break
        H = softmax_regression_hessian(X, theta[:d], theta[d], l2) + np.outer(shift, shift)
        step = np.linalg.solve(H, -grad.ravel()).reshape(d + 1, n_classes)
        t = 1.0
        # a rise within rounding error of L is no rise: near the minimiser L cannot resolve
        # the decrease of a Newton step (about |grad|^2), and the step is still right
        allowed = current + 4 * np.finfo(float).eps * abs(current)
        while (candidate := loss(theta + t * step)) > allowed and t > 1e-10:
            t /= 2
        if candidate > allowed:  # no step lowers L: the gradient is rounding error
            break
        theta, current = theta + t * step, candidate
    return theta[:d].copy(), theta[d] - theta[d].mean()


def one_vs_rest_fit(X, y, n_classes, l2=1e-3, n_iter=50, tol=1e-10):
    r"""One-vs-rest: one binary logistic regression per class, each fitted by Newton's method.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training examples, one per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes ``K``: one binary model each.
    l2 : float, optional
        Strength :math:`\lambda > 0` of the L2 penalty on each weight vector (default ``1e-3``).
    n_iter : int, optional
        The most Newton steps per class (default 50).
    tol : float, optional
        Stop a class when its gradient's norm is below ``tol`` (default ``1e-10``).

    Returns
    -------
    W : ndarray, shape (d, K)
        Column :math:`k`: the weights of "class :math:`k` or not".
    b : ndarray, shape (K,)
        Their biases.  :math:`\sigma(W^\top \mathbf x + \mathbf b)` holds :math:`K`
        probabilities that need not sum to 1; the predicted class is the largest logit.

    Raises
    ------
    ValueError
        If the data are invalid, or ``l2`` is not positive.

    See Also
    --------
    softmax_regression_newton : The multinomial model, fitted the same way.
    autograder.reference.binary_cross_entropy_with_logits : Each model's loss.
    sklearn.multiclass.OneVsRestClassifier : The same construction.

    Notes
    -----
    Model :math:`k` minimises the mean binary cross-entropy of the labels
    :math:`\mathbb 1\{y_n = k\}` under :math:`\sigma(\mathbf w_k^\top \mathbf x_n + b_k)`,
    plus :math:`\frac\lambda2 \|\mathbf w_k\|^2`.  Its gradient is
    :math:`\frac1N A^\top(\boldsymbol\sigma - \mathbf t) + \lambda(\mathbf w_k, 0)` and its
    Hessian :math:`\frac1N A^\top \operatorname{diag}(\sigma_n(1 - \sigma_n)) A + \lambda
    \operatorname{diag}(1, \dots, 1, 0)`, with :math:`A = [X, \mathbf 1]`: each Newton step is
    a weighted least-squares problem, hence the name IRLS.  The :math:`K` problems are
    independent; the sum of their losses is the multi-label loss, which is right when an
    example may carry several labels at once, and only an approximation of the multinomial
    model when it carries exactly one.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer 2006, §4.3.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import one_vs_rest_fit
    >>> X = np.array([[2.0, 1.0], [1.5, 2.0], [-1.0, 1.5], [-2.0, 0.5], [0.5, -2.0], [-0.5, -1.5]])
    >>> W, b = one_vs_rest_fit(X, np.array([0, 0, 1, 1, 2, 2]), 3, l2=0.1)
    >>> print(np.argmax(X @ W + b, axis=1))
    [0 0 1 1 2 2]
    """
    X, y, n_classes = _training_data(X, y, n_classes)
    l2 = _positive(l2, "l2")
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    penalty = np.r_[np.full(d, l2), 0.0]
    columns = []
    for k in range(n_classes):
        target = (y == k).astype(np.float64)
        theta = np.zeros(d + 1)

        def loss(t, target=target):
            return binary_cross_entropy_with_logits(A @ t, target) + 0.5 * l2 * t[:d] @ t[:d]

        current = loss(theta)
        for _ in range(int(n_iter)):
            s = sigmoid(A @ theta)
            grad = A.T @ (s - target) / n + penalty * theta
            if np.linalg.norm(grad) < tol:
                break
            H = (A * (s * (1 - s))[:, None]).T @ A / n + np.diag(penalty)
            # the bias direction has no penalty; a class absent from y makes H singular there
            H[d, d] += 1e-12
            step = np.linalg.solve(H, -grad)
            t = 1.0
            allowed = current + 4 * np.finfo(float).eps * abs(current)  # rounding is no rise
            while (candidate := loss(theta + t * step)) > allowed and t > 1e-10:
                t /= 2
            if candidate > allowed:  # no step lowers the loss: the gradient is rounding error
                break
            theta, current = theta + t * step, candidate
        columns.append(theta)
    theta = np.array(columns).T
    return theta[:d].copy(), theta[d].copy()


def choose_penalty(X, y, grid=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), n_classes=None, seed=0):
    r"""The L2 penalty of ``grid`` with the lowest cross-entropy on a validation split.

    Parameters
    ----------
    X : array_like, shape (N, d)
        The examples available, one per row (at least 4).
    y : array_like of int, shape (N,)
        Their class indices.
    grid : sequence of float, optional
        The candidate penalties :math:`\lambda > 0` (default ``1e-4`` to 1, one per decade).
    n_classes : int, optional
        The number of classes ``K`` (default: ``max(y) + 1``).
    seed : int, optional
        Seed of the shuffle that picks the validation quarter (default 0).

    Returns
    -------
    float
        The chosen penalty, one of ``grid``.

    Raises
    ------
    ValueError
        If the data are invalid, ``grid`` is empty or holds a penalty that is not positive, or
        there are fewer than 4 examples.

    See Also
    --------
    softmax_regression_newton : The trainer of each candidate.
    autograder.reference.softmax_cross_entropy : The validation criterion.

    Notes
    -----
    A random quarter of the examples is held out as the validation set; for each
    :math:`\lambda` the model is fitted exactly (by Newton's method) on the other three
    quarters and scored by its mean cross-entropy on the validation quarter, and the lowest
    score wins (the first of equal ones).  The training loss would always pick the smallest
    penalty, since a weaker penalty fits the training examples better; the cross-entropy, a
    proper scoring rule, rewards honest probabilities, not only right answers.  The chosen
    penalty is then meant to be used on all of ``(X, y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import choose_penalty
    >>> rng = np.random.default_rng(0)
    >>> means = rng.normal(0.0, 0.15, size=(3, 30))  # close classes, few examples: overfitting
    >>> y = rng.permutation(np.arange(100) % 3)
    >>> X = means[y] + rng.normal(size=(100, 30))
    >>> print(choose_penalty(X, y))
    1.0
    """
    X, y, _ = _training_data(X, y, (np.max(y) + 1) if n_classes is None else n_classes)
    n_classes = int(np.max(y) + 1) if n_classes is None else int(n_classes)
    grid = [float(value) for value in grid]
    if not grid or min(grid) <= 0:
        raise ValueError(f"grid must hold positive penalties, got {grid!r}")
    if len(y) < 4:
        raise ValueError(f"a validation quarter needs at least 4 examples, got {len(y)}")
    order = np.random.default_rng(seed).permutation(len(y))
    validation, training = order[: len(y) // 4], order[len(y) // 4 :]
    scores = []
    for l2 in grid:
        W, b = softmax_regression_newton(X[training], y[training], n_classes, l2=l2)
        scores.append(softmax_cross_entropy(X[validation] @ W + b, y[validation]))
    return grid[int(np.argmin(scores))]
