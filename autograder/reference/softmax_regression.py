r"""Softmax regression from scratch: the model, its loss, its gradient, and a trainer.

These are the reference implementations of chapter 6 of the course.  The model is

.. math:: \mathbf q(\mathbf x) = \operatorname{softmax}(W^\top \mathbf x + \mathbf b),

with weights ``W`` of shape ``(d, K)`` and biases ``b`` of shape ``(K,)`` for ``d``
features and ``K`` classes.  A batch ``X`` holds one example per row, shape
``(N, d)``, so that the logits of the whole batch are ``X @ W + b``, shape ``(N, K)``.
Labels are class indices, shape ``(N,)``.

The loss is the mean softmax cross-entropy plus an L2 penalty on the weights (never
on the biases), and training is full-batch gradient descent from ``W = 0, b = 0``,
so every result here is deterministic.  The softmax, the loss and its gradient with
respect to the logits come from :mod:`autograder.reference.elementary`.

:func:`digits_data` reads scikit-learn's bundled 8x8 handwritten digits without
importing scikit-learn; :func:`autograder.reference.digits.load_digits_split`, which
does, splits them once as the chapter, its tests and the exercise use them.
"""

import functools
import importlib.util
from pathlib import Path

import numpy as np

from autograder.reference.elementary import (
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)

__all__ = [
    "choose_l2",
    "digits_data",
    "softmax_regression_fit",
    "softmax_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_predict",
    "softmax_regression_predict_proba",
    "standardize",
]


# --------------------------------------------------------------------------- helpers


def _as_matrix(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (N, d), one example per row, got shape {X.shape}")
    return X


def _parameters(X, W, b):
    """Validate ``X (N, d)``, ``W (d, K)`` and ``b (K,)``; return them as float64 arrays."""
    X = _as_matrix(X)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != X.shape[1]:
        raise ValueError(
            f"W must have shape (d, K) = ({X.shape[1]}, K) for X of shape {X.shape}, "
            f"got shape {W.shape}"
        )
    if b.shape != (W.shape[1],):
        raise ValueError(f"b must have shape (K,) = ({W.shape[1]},), got shape {b.shape}")
    return X, W, b


def _class_indices(y, n):
    y = np.asarray(y)
    if y.dtype.kind not in "iu" or y.shape != (n,):
        raise ValueError(
            f"y must hold N = {n} integer class indices, shape ({n},), "
            f"got dtype {y.dtype} and shape {y.shape}"
        )
    return y


# ------------------------------------------------------------------------------ data


@functools.cache
def _digits_cached():
    # scikit-learn keeps the digits as a CSV file in its package data: reading it with NumPy
    # spares the grader, which needs only the data, the import of scikit-learn (half a second).
    spec = importlib.util.find_spec("sklearn")
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0]) / "datasets" / "data" / "digits.csv.gz" if folders else None
    if path is None or not path.is_file():
        raise FileNotFoundError(f"scikit-learn's bundled digits were not found (looked for {path})")
    table = np.loadtxt(path, delimiter=",")
    return table[:, :-1].astype(np.float64), table[:, -1].astype(np.int64)


def digits_data():
    """All 1797 handwritten digit images and their labels, unsplit and unscaled.

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        One 8x8 image per row, flattened row by row, pixel values 0 to 16.
    y : ndarray of int64, shape (1797,)
        The digit 0 to 9 each image shows.

    See Also
    --------
    autograder.reference.digits.load_digits_split : The same images, split and
        standardised as the course uses them.

    Raises
    ------
    FileNotFoundError
        If scikit-learn, or the data file it bundles, is not installed.

    Notes
    -----
    The same arrays as ``sklearn.datasets.load_digits(return_X_y=True)``, read with
    NumPy from the file that scikit-learn bundles, so that callers that need only
    the data (the grader) do not import scikit-learn.  Every call returns fresh
    copies.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import digits_data
    >>> X, y = digits_data()
    >>> X.shape, y.shape, X.max()
    ((1797, 64), (1797,), np.float64(16.0))
    >>> print(X[0].reshape(8, 8)[2].astype(int))
    [ 0  3 15  2  0 11  8  0]
    """
    X, y = _digits_cached()
    return X.copy(), y.copy()


def standardize(X_train, *others):
    r"""Standardise features with the mean and standard deviation of the training set.

    Parameters
    ----------
    X_train : array_like, shape (N, d)
        The training examples, one per row.  Their per-feature mean and standard
        deviation are the only statistics used.
    *others : array_like, shape (M, d)
        Further sets (test, validation), transformed with the training statistics.

    Returns
    -------
    tuple of ndarray
        ``X_train`` and each of ``others``, standardised, in the order given.

    Raises
    ------
    ValueError
        If a set is not a 2-D array, one example per row.

    See Also
    --------
    autograder.reference.digits.load_digits_split : The digits, standardised with this
        function.

    Notes
    -----
    Feature :math:`j` becomes :math:`(x_j - m_j) / s_j`, with
    :math:`m_j` and :math:`s_j` (population standard deviation) computed on
    the training rows.  A feature that is constant on the training set has
    :math:`s_j = 0`; it is only centred (:math:`s_j` is replaced by 1),
    as ``sklearn.preprocessing.StandardScaler`` does.  Test rows are never looked
    at when the statistics are computed, so nothing about them leaks into the
    model.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import standardize
    >>> train = np.array([[0.0, 5.0], [2.0, 5.0]])
    >>> test = np.array([[4.0, 6.0]])
    >>> train_std, test_std = standardize(train, test)
    >>> print(train_std)
    [[-1.  0.]
     [ 1.  0.]]
    >>> print(test_std)
    [[3. 1.]]
    """
    X_train = _as_matrix(X_train, "X_train")
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    result = [(X_train - mean) / scale]
    for other in others:
        result.append((_as_matrix(other, "each further set") - mean) / scale)
    return tuple(result)


# ------------------------------------------------------------------------------ model


def softmax_regression_predict_proba(X, W, b):
    r"""Class probabilities of softmax regression, :math:`\operatorname{softmax}(XW + b)`.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Examples, one per row.
    W : array_like, shape (d, K)
        Weights: column :math:`k` scores class :math:`k`.
    b : array_like, shape (K,)
        Biases, one per class.

    Returns
    -------
    ndarray, shape (N, K)
        Row :math:`n` is the model's distribution over the ``K`` classes for
        example :math:`n`: entries in :math:`[0, 1]`, summing to 1.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D (one example per row), or ``W`` and ``b`` do not have the
        shapes ``(d, K)`` and ``(K,)``.

    See Also
    --------
    softmax_regression_predict : The most probable class of each row.
    softmax : The function applied to the logits.
    softmax_regression_loss : The cross-entropy of these probabilities.

    Notes
    -----
    For one example :math:`x`, :math:`h(x) = \operatorname{softmax}(W^\top x + b)`;
    for the batch the logits are :math:`Z = XW + \mathbf{1} b^\top` and the
    softmax is taken along each row.  It is the stable (max-shifted) softmax of
    :func:`autograder.reference.softmax`, so large logits do not overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_predict_proba
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> print(np.round(softmax_regression_predict_proba(X, W, np.zeros(3)), 6))
    [[0.576117 0.211942 0.211942]
     [0.106507 0.786986 0.106507]]
    """
    X, W, b = _parameters(X, W, b)
    return softmax(X @ W + b, axis=-1)


def softmax_regression_predict(X, W, b):
    r"""Predicted classes of softmax regression: the most probable class of each row.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Examples, one per row.
    W : array_like, shape (d, K)
        Weights.
    b : array_like, shape (K,)
        Biases.

    Returns
    -------
    ndarray of int64, shape (N,)
        :math:`\arg\max_k (XW + b)_{nk}` for each row :math:`n`.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D (one example per row), or ``W`` and ``b`` do not have the
        shapes ``(d, K)`` and ``(K,)``.

    See Also
    --------
    softmax_regression_predict_proba : The probability of every class.
    softmax_regression_fit : Trains ``W`` and ``b``.

    Notes
    -----
    Softmax keeps the order of its inputs, so the most probable class is the one
    with the largest logit; no exponential is needed.  Ties go to the smallest
    class index, as in ``numpy.argmax``.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_predict
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    >>> W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> print(softmax_regression_predict(X, W, np.array([0.0, 0.0, 0.5])))
    [0 1 2]
    """
    X, W, b = _parameters(X, W, b)
    return np.argmax(X @ W + b, axis=-1).astype(np.int64)


def softmax_regression_loss(X, y, W, b, l2=0.0):
    r"""Training loss of softmax regression: mean cross-entropy plus an L2 penalty on ``W``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Examples, one per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, K)``.
    W : array_like, shape (d, K)
        Weights.
    b : array_like, shape (K,)
        Biases (not penalised).
    l2 : float, optional
        Strength :math:`\lambda \ge 0` of the penalty (default 0).

    Returns
    -------
    numpy.float64
        The loss :math:`L(W, \mathbf b)`.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D (one example per row), ``W`` and ``b`` do not have the shapes
        ``(d, K)`` and ``(K,)``, ``y`` is not ``N`` integer class indices (shape ``(N,)``),
        or a label is not in ``[0, K)``.

    See Also
    --------
    softmax_regression_grad : Its gradient.
    softmax_cross_entropy : The cross-entropy of the logits.
    softmax_regression_fit : Minimises it.

    Notes
    -----
    .. math::

        L(W, \mathbf b) = -\frac1N \sum_{n=1}^N \log
        \operatorname{softmax}(W^\top x_n + b)_{y_n} + \frac{\lambda}{2} \|W\|_F^2 .

    The first term is :func:`autograder.reference.softmax_cross_entropy` of the
    logits :math:`XW + b`, computed through log-softmax, so it stays finite and
    accurate for large logits.  At :math:`W = 0, b = 0` every class has
    probability :math:`1/K` and :math:`L = \log K`.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_loss
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    >>> y = np.array([0, 1, 2])
    >>> print(np.round(softmax_regression_loss(X, y, np.zeros((2, 3)), np.zeros(3)), 6))
    1.098612
    >>> W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> print(np.round(softmax_regression_loss(X, y, W, np.zeros(3), l2=0.5), 6))
    0.947478
    """
    X, W, b = _parameters(X, W, b)
    y = _class_indices(y, X.shape[0])
    return softmax_cross_entropy(X @ W + b, y) + 0.5 * l2 * np.sum(W * W)


def softmax_regression_grad(X, y, W, b, l2=0.0):
    r"""Gradient of :func:`softmax_regression_loss` with respect to ``W`` and ``b``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Examples, one per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, K)``.
    W : array_like, shape (d, K)
        Weights.
    b : array_like, shape (K,)
        Biases.
    l2 : float, optional
        Strength :math:`\lambda \ge 0` of the penalty on ``W`` (default 0).

    Returns
    -------
    dW : ndarray, shape (d, K)
        :math:`\partial J / \partial W`.
    db : ndarray, shape (K,)
        :math:`\partial J / \partial b`.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D (one example per row), ``W`` and ``b`` do not have the shapes
        ``(d, K)`` and ``(K,)``, ``y`` is not ``N`` integer class indices (shape ``(N,)``),
        or a label is not in ``[0, K)``.

    See Also
    --------
    softmax_regression_loss : The loss it differentiates.
    softmax_cross_entropy_grad : The gradient with respect to the logits.
    softmax_regression_fit : Gradient descent with it.

    Notes
    -----
    With :math:`Q = \operatorname{softmax}(XW + \mathbf b)` (row by row) and :math:`Y`
    the one-hot rows of the labels, the gradient of the mean cross-entropy with
    respect to the logits is :math:`G = (Q - Y)/N`
    (:func:`autograder.reference.softmax_cross_entropy_grad`).  The logits are
    linear in the parameters, :math:`Z_{nk} = \sum_j X_{nj} W_{jk} + b_k`, so

    .. math::

        \frac{\partial L}{\partial W} = X^\top G + \lambda W
        = \frac1N X^\top (Q - Y) + \lambda W, \qquad
        \frac{\partial L}{\partial \mathbf b} = G^\top \mathbf{1}
        = \frac1N \sum_{n=1}^N (Q - Y)_{n,:} .

    Every row of :math:`Q - Y` sums to 0, so the entries of ``db`` sum to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_grad
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    >>> dW, db = softmax_regression_grad(X, [0, 1, 2], np.zeros((2, 3)), np.zeros(3))
    >>> print(np.round(dW, 6))
    [[-0.333333  0.        0.333333]
     [ 0.111111 -0.555556  0.444444]]
    >>> print(np.round(db, 6) + 0.0)
    [0. 0. 0.]
    """
    X, W, b = _parameters(X, W, b)
    y = _class_indices(y, X.shape[0])
    G = softmax_cross_entropy_grad(X @ W + b, y)
    return X.T @ G + l2 * W, G.sum(axis=0)


def softmax_regression_fit(X, y, n_classes, learning_rate=0.25, n_epochs=500, l2=1e-3):
    r"""Train softmax regression by full-batch gradient descent from ``W = 0, b = 0``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training examples, one per row (standardised features work best).
    y : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes ``K`` (a class may be missing from ``y``).
    learning_rate : float, optional
        Step size :math:`\alpha` (default 0.25, below :math:`1/M` for the
        standardised digits, where :math:`M \approx 3.7`; see Notes).
    n_epochs : int, optional
        Number of gradient steps, each on the whole training set (default 500).
    l2 : float, optional
        Strength :math:`\lambda` of the L2 penalty on ``W`` (default ``1e-3``).

    Returns
    -------
    W : ndarray, shape (d, K)
        The trained weights.
    b : ndarray, shape (K,)
        The trained biases.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D (one example per row), ``y`` is not ``N`` integer class indices,
        a label is not in ``[0, n_classes)``, or ``learning_rate`` is not positive.

    See Also
    --------
    softmax_regression_grad : The gradient of each step.
    softmax_regression_loss : The loss it decreases.
    softmax_regression_predict : Classifies with the trained parameters.
    autograder.reference.digits.load_digits_split : The course's training and test data.

    Notes
    -----
    Starting from :math:`W_0 = 0, b_0 = 0`, each epoch takes one step

    .. math::

        W_{t+1} = W_t - \alpha \nabla_W L(W_t, \mathbf b_t), \qquad
        \mathbf b_{t+1} = \mathbf b_t - \alpha \nabla_{\mathbf b} L(W_t, \mathbf b_t),

    with the gradient of :func:`softmax_regression_grad`.  The loss is convex and
    its gradient is :math:`M`-Lipschitz with
    :math:`M \le \tfrac12 \nu_{\max}(A^\top A / N) + \lambda`, where
    :math:`A = [X, \mathbf{1}]` and :math:`\nu_{\max}` is the largest eigenvalue: a
    consequence of Böhning's bound on the softmax Hessian,
    :math:`\operatorname{diag}(\mathbf q) - \mathbf q \mathbf q^\top \preceq \tfrac12 (I -
    \mathbf 1 \mathbf 1^\top / K)`, whose eigenvalue consequence is
    :math:`\nu_{\max} \le \tfrac12`.  Any :math:`\alpha < 2/M` then decreases the loss at
    every step.  For the standardised digits :math:`\nu_{\max}(A^\top A / N) \approx 7.4`,
    so :math:`M \le 3.7` and :math:`\alpha = 0.25 < 1/M`.  The penalty makes the
    minimiser unique; it is the minimiser of ``LogisticRegression(C=1 / (l2 * N))``
    in scikit-learn.

    References
    ----------
    .. [1] D. Böhning, "Multinomial logistic regression algorithm", *Annals of the
       Institute of Statistical Mathematics* 44(1), 197-200, 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_regression_fit, softmax_regression_predict
    >>> from autograder.reference.digits import load_digits_split
    >>> X_train, X_test, y_train, y_test = load_digits_split()
    >>> W, b = softmax_regression_fit(X_train, y_train, n_classes=10)
    >>> W.shape, b.shape
    ((64, 10), (10,))
    >>> accuracy = np.mean(softmax_regression_predict(X_test, W, b) == y_test)
    >>> print(f"{accuracy:.3f}")
    0.971
    """
    X = _as_matrix(X)
    y = _class_indices(y, X.shape[0])
    n_classes = int(n_classes)
    if n_classes < 1 or (y.size and (y.min() < 0 or y.max() >= n_classes)):
        raise ValueError(f"the labels must lie in [0, n_classes) = [0, {n_classes})")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    for _ in range(int(n_epochs)):
        dW, db = softmax_regression_grad(X, y, W, b, l2)
        W = W - learning_rate * dW
        b = b - learning_rate * db
    return W, b


#: The penalties :func:`choose_l2` chooses among, and the training settings it uses:
#: :math:`\alpha = 0.25` is below :math:`2/M` for every :math:`\lambda` of the grid on
#: standardised digits (:math:`M \le \tfrac12 \nu_{\max} + \lambda` with
#: :math:`\nu_{\max} < 8.5` on every subset of 200 or more of them), so that every
#: run is a descent.
L2_GRID = (0.0, 0.01, 0.1, 1.0)
CHOICE_SETTINGS = {"learning_rate": 0.25, "n_epochs": 200}


def choose_l2(X, y, n_classes=10, grid=L2_GRID, validation_share=1 / 3, seed=0):
    r"""Choose the L2 penalty :math:`\lambda` on a validation set split off ``(X, y)``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        The examples to choose with, one per row (standardised).
    y : array_like of int, shape (N,)
        Their class indices in ``[0, n_classes)``.
    n_classes : int, optional
        The number of classes ``K`` (default 10, the digits).
    grid : sequence of float, optional
        The candidate values of :math:`\lambda` (default :data:`L2_GRID`).
    validation_share : float, optional
        The share of the examples set aside as the validation set (default a third).
    seed : int, optional
        Seed of the random split (default 0), so that the choice is reproducible.

    Returns
    -------
    float
        The value of ``grid`` whose model, trained on the rest, has the lowest
        cross-entropy on the validation set (the first such value on a tie).

    Raises
    ------
    ValueError
        If ``validation_share`` does not leave at least one example on each side, if
        ``grid`` is empty, or from :func:`softmax_regression_fit` if ``X`` or ``y`` is
        malformed.

    See Also
    --------
    softmax_regression_fit : The trainer, with :data:`CHOICE_SETTINGS`.
    softmax_regression_loss : With ``l2=0``, the validation cross-entropy compared.

    Notes
    -----
    The chapter's rule (section *Choosing alpha, lambda and the number of epochs on the
    validation set*): the training loss cannot choose :math:`\lambda`, since it always
    prefers the smallest penalty; the validation cross-entropy, continuous and less
    noisy than the validation accuracy on a few hundred examples, can.  The penalty is
    not part of the compared quantity: it is a means of training, not a measure of the
    model.  The split is a random permutation of the rows, not stratified.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import choose_l2, digits_data, standardize
    >>> X, y = digits_data()
    >>> (X_std,) = standardize(X[:400])
    >>> choose_l2(X_std, y[:400]) in (0.0, 0.01, 0.1, 1.0)
    True
    """
    X = _as_matrix(X)
    y = np.asarray(y)
    grid = [float(value) for value in grid]
    if not grid:
        raise ValueError("the grid of penalties is empty")
    n = X.shape[0]
    n_validation = round(validation_share * n)
    if not 0 < n_validation < n:
        raise ValueError(
            f"validation_share = {validation_share!r} of {n} examples leaves no training or "
            "no validation example"
        )
    order = np.random.default_rng(seed).permutation(n)
    held, kept = order[:n_validation], order[n_validation:]
    losses = []
    for l2 in grid:
        W, b = softmax_regression_fit(X[kept], y[kept], n_classes, l2=l2, **CHOICE_SETTINGS)
        losses.append(softmax_regression_loss(X[held], y[held], W, b, 0.0))
    return grid[int(np.argmin(losses))]
