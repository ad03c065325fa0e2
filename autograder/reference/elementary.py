"""The reference implementations of chapters 1 to 4, from the sigmoid to the losses.

The sigmoid, its derivative and inverse (chapter 1), softplus and the log-sigmoid
(chapter 2), the softmax, log-sum-exp and log-softmax (chapter 3), and the information
measures and losses built on them (chapter 4).  The dtype rule, the absence of warnings
and the accuracy statements of :mod:`autograder.reference` hold for every function here;
the formulas that achieve them are in each function's Notes.  Gradual underflow of a
tiny result to a subnormal number or to zero is the correctly rounded answer, so it is
allowed silently inside every function.
"""

import functools

import numpy as np

from autograder.reference._dtypes import as_float, finish

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "kl_divergence",
    "log_sigmoid",
    "log_softmax",
    "logit",
    "logsumexp",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_second_derivative",
    "smoothed_cross_entropy_grad",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "softmax_jacobian",
    "softmax_temperature_grad",
    "softplus",
    "softplus_tau_dtau",
]


# --------------------------------------------------------------------------- helpers


def _underflow_is_fine(func):
    """Run ``func`` with underflow ignored: rounding a tiny value to 0 is exact enough."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)

    return wrapper


def _xmul(a, b):
    """``a * b`` with ``0 * anything = 0``, so that ``0 * log(0)`` is 0, not NaN."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.multiply(a, b, out=np.zeros(shape, np.result_type(a, b)), where=(a != 0))


def _log0(q):
    """``log(q)`` with ``log(0) = -inf`` and no divide-by-zero warning."""
    return np.log(q, out=np.full_like(q, -np.inf), where=(q != 0))


def _softplus(x):
    # max(x, 0) + log1p(exp(-|x|)): exp never overflows, and both terms have the
    # sign of the result, so nothing cancels.
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _shifted_exp(z, axis):
    """The pieces of every softmax-type function, along ``axis``.

    Returns ``m = max(z)``, ``e = exp(z - m)`` (the first maximal entry is exactly
    1), ``first`` (a mask of that entry), ``rest`` = the sum of ``e`` over the other
    entries, all with the reduced axis kept, and ``ok`` = rows whose max is finite.
    Rows whose max is +inf, NaN or -inf (all entries -inf) get ``e = 0``, ``rest = 0``.
    """
    if z.ndim == 0:
        raise ValueError("expected an array with at least one dimension, got a scalar")
    m = np.max(z, axis=axis, keepdims=True)
    ok = np.isfinite(m)
    # z - m below -1.8e308 overflows to -inf, and exp(-inf) = 0 is then exact.
    with np.errstate(over="ignore"):
        e = np.exp(np.where(ok, z - np.where(ok, m, 0), -np.inf))
    first = np.zeros(z.shape, dtype=bool)
    np.put_along_axis(first, np.argmax(z, axis=axis, keepdims=True), True, axis=axis)
    # Summing the entries other than the maximum keeps their total to full relative
    # precision, however tiny, instead of absorbing it into 1 + (...) and getting it
    # back later by cancellation.
    rest = np.sum(np.where(first, 0, e), axis=axis, keepdims=True)
    return m, e, first, rest, ok


def _softmax_and_complement(z, axis):
    """``s = softmax(z)`` and ``c = 1 - s``, each to a few ulp, entry by entry.

    ``1 - s_i`` is the share of the other entries, ``sum_{j != i} e_j / T`` with
    ``T = sum_j e_j``.  For the maximal entry that is ``rest / T`` (no subtraction
    at all); for any other entry ``T - e_i >= T / 2`` (as ``e_i <= 1 <= T - e_i``),
    so the subtraction at most doubles the relative error of ``T``.
    """
    _, e, first, rest, ok = _shifted_exp(z, axis)
    total = np.where(ok, 1 + rest, 1)  # 1 on undefined rows: no 0/0 warning
    s = np.where(ok, e / total, np.nan)
    c = np.where(ok, np.where(first, rest, total - e) / total, np.nan)
    return s, c


# ------------------------------------------------------------------ elementwise functions


@_underflow_is_fine
def sigmoid(x):
    r"""The logistic sigmoid, :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\sigma(x)`, in ``[0, 1]``, with the shape of ``x``.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    log_sigmoid : Its logarithm, which does not underflow to ``-inf``.
    logit : The inverse of the sigmoid.
    sigmoid_grad : Its derivative.
    softplus : Its antiderivative, :math:`\log(1 + e^x)`.
    softmax : The sigmoid of ``K`` classes: :math:`\sigma(x)` is ``softmax([x, 0])[0]``.

    Notes
    -----
    With :math:`t = e^{-|x|} \in (0, 1]`,

    .. math:: \sigma(x) = 1/(1 + t) \ (x \ge 0), \qquad \sigma(x) = t/(1 + t) \ (x < 0).

    The exponent is never positive, so ``exp`` cannot overflow, and each branch is a
    quotient of quantities computed to half an ulp without any cancellation, so
    the result is within about 2 ulp of :math:`\sigma(x)` for every ``x``,
    including the tiny values :math:`\sigma(x) \approx e^{x}` for :math:`x \ll 0`
    that ``1 - sigmoid(-x)`` would round to 0.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press,
       2016, sections 3.10 and 4.1.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import sigmoid
    >>> print(np.round(sigmoid([-1.0, 0.0, 1.0]), 6))
    [0.268941 0.5      0.731059]
    >>> print(sigmoid(-800.0), sigmoid(800.0))
    0.0 1.0
    >>> print(f"{sigmoid(-40.0):.6e}")
    4.248354e-18
    """
    x, out = as_float(x)
    t = np.exp(-np.abs(x))
    return finish(np.where(x >= 0, 1, t) / (1 + t), out)


@_underflow_is_fine
def sigmoid_grad(x):
    r"""Derivative of the sigmoid, :math:`\sigma'(x) = \sigma(x)\,(1 - \sigma(x))`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\sigma'(x)`, in ``[0, 1/4]``, with the shape of ``x``.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    sigmoid : The function it differentiates.
    softmax_jacobian : The derivative of the softmax, of which this is the two-class case.

    Notes
    -----
    With :math:`t = e^{-|x|}`,

    .. math:: \sigma'(x) = \sigma(x)\,\sigma(-x) = \frac{t}{(1 + t)^2} = \frac{t}{1 + t\,(2 + t)}.

    The textbook form ``q * (1 - q)`` computes :math:`1 - \sigma(x)` by
    cancellation: for :math:`x = 36` it returns ``2.2e-16`` (one ulp of 1) instead of
    ``2.3e-16``, and 0 beyond :math:`x \approx 37`.  The form above has no
    subtraction, so it stays within a few ulp everywhere and is exactly even.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer,
       2006, eq. (4.88).

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import sigmoid_grad
    >>> print(np.round(sigmoid_grad([-2.0, 0.0, 2.0]), 6))
    [0.104994 0.25     0.104994]
    >>> print(f"{sigmoid_grad(40.0):.6e}")
    4.248354e-18
    """
    x, out = as_float(x)
    t = np.exp(-np.abs(x))
    # (1 + t)**2 expanded as 1 + t (2 + t): the rounding errors of 2 + t and of the
    # product are damped by t (2 + t) / (1 + t)**2 <= 3/4 instead of being squared.
    return finish(t / (1 + t * (2 + t)), out)


@_underflow_is_fine
def logit(p):
    r"""The inverse of the sigmoid, :math:`\operatorname{logit}(p) = \log(p / (1 - p))`.

    Parameters
    ----------
    p : array_like
        Probabilities in ``[0, 1]``, of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\operatorname{logit}(p)`; ``-inf`` at ``p = 0``, ``+inf`` at
        ``p = 1``, NaN outside ``[0, 1]`` (all without warnings).

    Raises
    ------
    TypeError
        If ``p`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    sigmoid : The inverse of the logit.
    log_sigmoid : The logarithm of the sigmoid.
    multinomial_natural_params : The natural parameters of ``k`` classes; ``logit`` is the case
        ``k = 2``.

    Notes
    -----
    .. math::

        \operatorname{logit}(p) = 2 \operatorname{artanh}(2p - 1) \ (p \ge 1/4),
        \qquad \log\frac{p}{1 - p} \ (p < 1/4).

    Near :math:`p = 1/2` the ratio :math:`p / (1 - p)` is close to 1; its rounding
    error (half an ulp of 1) becomes a huge relative error of the small logarithm.
    For :math:`p \ge 1/4`, :math:`2p - 1` is exact (Sterbenz's lemma:
    :math:`1/2 \le 2p \le 2`), so the artanh form sees the exact argument and is
    as accurate as ``arctanh`` itself, within about 2 ulp.  Below 1/4,
    :math:`p/(1-p) \le 1/3` and :math:`|\log| \ge \log 3 > 1`, so the two
    roundings in the quotient give at most about 1 ulp in the result.

    References
    ----------
    .. [1] P. H. Sterbenz, *Floating-Point Computation*, Prentice-Hall, 1974.
    .. [2] D. Goldberg, "What every computer scientist should know about
       floating-point arithmetic", *ACM Computing Surveys* 23(1), 1991.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import logit, sigmoid
    >>> print(np.round(logit([0.1, 0.5, 0.9]), 6))
    [-2.197225  0.        2.197225]
    >>> print(logit(0.0), logit(1.0))
    -inf inf
    >>> print(f"{logit(0.5 + 2.0**-52):.6e}")
    8.881784e-16
    >>> print(logit(sigmoid(3.0)))
    3.0
    """
    p, out = as_float(p)
    # p = 0 or 1 gives the exact -inf/+inf through a division or artanh by zero;
    # p outside [0, 1] gives NaN, as for scipy.special.logit.
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(p >= 0.25, 2 * np.arctanh(2 * p - 1), np.log(p / (1 - p)))
    return finish(y, out)


@_underflow_is_fine
def softplus(x):
    r"""The softplus function, :math:`\log(1 + e^{x})`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\log(1 + e^x) > 0`, with the shape of ``x``.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    sigmoid : Its derivative.
    log_sigmoid : ``-softplus(-x)``.
    logsumexp : ``softplus(x)`` is ``logsumexp([x, 0])``.
    binary_cross_entropy_with_logits : The loss written with softplus.

    Notes
    -----
    .. math:: \log(1 + e^{x}) = \max(x, 0) + \operatorname{log1p}(e^{-|x|}).

    ``exp`` never overflows (``log(1 + exp(1000))`` would be ``inf``), ``log1p``
    keeps the tiny values :math:`\approx e^{x}` for :math:`x \ll 0` that
    ``log(1 + t)`` rounds to 0, and both terms are non-negative, so nothing
    cancels: the result is within about 2 ulp.  Its derivative is the sigmoid.

    References
    ----------
    .. [1] M. Maechler, "Accurately computing log(1 - exp(-|a|))", vignette of
       the R package Rmpfr, 2012, section 3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softplus
    >>> print(np.round(softplus([-1.0, 0.0, 1.0]), 6))
    [0.313262 0.693147 1.313262]
    >>> print(softplus(1000.0), f"{softplus(-40.0):.6e}")
    1000.0 4.248354e-18
    """
    x, out = as_float(x)
    return finish(_softplus(x), out)


@_underflow_is_fine
def log_sigmoid(x):
    r"""The logarithm of the sigmoid, :math:`\log \sigma(x) = -\operatorname{softplus}(-x)`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\log\sigma(x) < 0`, with the shape of ``x``.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    sigmoid : The sigmoid itself.
    softplus : ``log_sigmoid(x)`` is ``-softplus(-x)``.
    log_softmax : The logarithm of the softmax, of which this is the two-class case.
    binary_cross_entropy_with_logits : The mean of ``-log_sigmoid`` over labelled logits.

    Notes
    -----
    .. math:: \log\sigma(x) = \min(x, 0) - \operatorname{log1p}(e^{-|x|}).

    ``log(sigmoid(x))`` is ``-inf`` once :math:`\sigma(x)` underflows
    (:math:`x < -745`) and loses the tiny values :math:`-e^{-x}` for
    :math:`x \gg 0`; here both terms are non-positive, so nothing cancels and
    the result is within about 2 ulp.

    References
    ----------
    .. [1] M. Maechler, "Accurately computing log(1 - exp(-|a|))", vignette of
       the R package Rmpfr, 2012, section 3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import log_sigmoid
    >>> print(np.round(log_sigmoid([-1.0, 0.0, 1.0]), 6))
    [-1.313262 -0.693147 -0.313262]
    >>> print(log_sigmoid(-1000.0), f"{log_sigmoid(40.0):.6e}")
    -1000.0 -4.248354e-18
    """
    x, out = as_float(x)
    return finish(np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), out)


# --------------------------------------------------------------------- vector functions


@_underflow_is_fine
def logsumexp(z, axis=-1):
    r"""The log of the sum of exponentials, :math:`\log \sum_j e^{z_j}`, along ``axis``.

    Parameters
    ----------
    z : array_like
        Real input with at least one dimension; entries may be ``-inf``.
    axis : int, optional
        The axis to reduce (default: the last).

    Returns
    -------
    ndarray or scalar
        ``z`` with ``axis`` removed.  A row of ``-inf`` gives ``-inf``; a row
        holding ``+inf`` gives ``+inf``.

    Raises
    ------
    TypeError
        If ``z`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``z`` is a scalar, ``axis`` is out of range, or the axis has length 0 (no maximum
        to shift by).

    See Also
    --------
    softmax : Its gradient.
    log_softmax : ``z - logsumexp(z)``, computed without the cancellation.
    softplus : ``logsumexp([x, 0])``.
    multinomial_log_partition : The log-partition, ``logsumexp([eta, 0])``.

    Notes
    -----
    With :math:`m = \max_j z_j` reached at :math:`j = k`,

    .. math::

        \log \sum_j e^{z_j} = m + \operatorname{log1p}\Bigl(\sum_{j \ne k} e^{z_j - m}\Bigr).

    Shifting by the maximum keeps every exponential in :math:`[0, 1]` (no
    overflow, and the largest term is exactly 1, so no underflow to a zero sum).
    Summing the other terms apart and taking ``log1p`` keeps a small sum: for
    ``z = [0, -40]`` the result is :math:`4.2 \times 10^{-18}`, which
    ``log(1 + s)`` rounds to 0.  The result is within a few ulp of the exact
    value unless :math:`m < 0` nearly cancels the ``log1p`` term; then the
    error stays a few ulp of :math:`|m|`, as the problem itself is
    ill-conditioned there.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", *IMA Journal of Numerical Analysis*
       41(4), 2311-2330, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import logsumexp
    >>> print(np.round(logsumexp([[0.0, 0.0], [1e4, 1e4]]), 6))
    [6.931470e-01 1.000069e+04]
    >>> print(f"{logsumexp([0.0, -40.0]):.6e}")
    4.248354e-18
    >>> print(logsumexp([-np.inf, -np.inf]))
    -inf
    """
    z, out = as_float(z)
    m, _, _, rest, _ = _shifted_exp(z, axis)
    return finish(np.squeeze(m + np.log1p(rest), axis=axis), out)


@_underflow_is_fine
def softmax(z, axis=-1):
    r"""The softmax, :math:`\operatorname{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j}`, along ``axis``.

    Parameters
    ----------
    z : array_like
        Real input with at least one dimension; entries may be ``-inf``.
    axis : int, optional
        The axis along which the entries sum to 1 (default: the last).

    Returns
    -------
    ndarray
        An array of the shape of ``z``, each row in ``[0, 1]`` and summing to 1.
        A ``-inf`` entry gets probability 0.  A row without a finite maximum
        (all ``-inf``, or holding ``+inf`` or NaN) has no softmax: NaN.

    Raises
    ------
    TypeError
        If ``z`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``z`` is a scalar, ``axis`` is out of range, or the axis has length 0 (no maximum
        to shift by).

    See Also
    --------
    log_softmax : Its logarithm, which does not underflow to ``-inf``.
    logsumexp : Its normaliser, in logarithms; the softmax is its gradient.
    softmax_jacobian : Its derivative.
    sigmoid : Its two-class case.
    multinomial_mean_params : The softmax of ``[eta, 0]``.

    Notes
    -----
    With :math:`m = \max_j z_j`,

    .. math:: \operatorname{softmax}(z)_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}.

    Softmax does not change when a constant is added to every entry, and after
    the shift every exponential is in :math:`[0, 1]` with the largest exactly 1:
    ``exp`` cannot overflow and the denominator lies in :math:`[1, n]`.  Each
    entry is a quotient of an exponential by a sum of positive terms, so it is
    accurate to a few ulp of the largest entry, and even tiny entries keep a
    relative error of a few eps plus :math:`|z_i - m|\,\epsilon` (and the
    :math:`s`-weighted mean of :math:`|z_j - m|\,\epsilon`): that part is the
    rounding of :math:`z_i - m`, as large as the effect of rounding ``z`` itself.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", *IMA Journal of Numerical Analysis*
       41(4), 2311-2330, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax
    >>> print(np.round(softmax([1.0, 2.0, 3.0]), 6))
    [0.090031 0.244728 0.665241]
    >>> print(softmax([[1e4, 1e4], [-np.inf, 0.0]]))
    [[0.5 0.5]
     [0.  1. ]]
    """
    z, out = as_float(z)
    s, _ = _softmax_and_complement(z, axis)
    return finish(s, out)


@_underflow_is_fine
def log_softmax(z, axis=-1):
    r"""The log of the softmax, :math:`z_i - \log \sum_j e^{z_j}`, along ``axis``.

    Parameters
    ----------
    z : array_like
        Real input with at least one dimension; entries may be ``-inf``.
    axis : int, optional
        The axis along which to normalise (default: the last).

    Returns
    -------
    ndarray
        An array of the shape of ``z``, all entries :math:`\le 0`; ``-inf``
        where ``z`` is ``-inf``, NaN on rows without a finite maximum.

    Raises
    ------
    TypeError
        If ``z`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``z`` is a scalar, ``axis`` is out of range, or the axis has length 0 (no maximum
        to shift by).

    See Also
    --------
    softmax : The softmax itself.
    logsumexp : The normaliser it subtracts.
    log_sigmoid : Its two-class case.
    softmax_cross_entropy : The loss computed from it.

    Notes
    -----
    With :math:`m = \max_j z_j` reached at :math:`j = k`,

    .. math::

        \log\operatorname{softmax}(z)_i = (z_i - m)
        - \operatorname{log1p}\Bigl(\sum_{j \ne k} e^{z_j - m}\Bigr).

    Both terms are :math:`\le 0`, so nothing cancels: every entry is within a
    few ulp of itself, plus :math:`\varepsilon \sum_j q_j |z_j - m|` (the rounding
    of the shifts, as large as the effect of rounding ``z`` itself).  The usual
    ``z - logsumexp(z)`` first rounds :math:`\operatorname{logsumexp}(z)` to
    the ulp of the large number :math:`m` (``1.8e-12`` at ``m = 1e4``) and then
    subtracts, which leaves that whole rounding error in a result of order 1.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", *IMA Journal of Numerical Analysis*
       41(4), 2311-2330, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import log_softmax
    >>> print(np.round(log_softmax([1.0, 2.0, 3.0]), 6))
    [-2.407606 -1.407606 -0.407606]
    >>> print(np.round(log_softmax([-np.inf, 1e4, 1e4 - 1.0]), 6))
    [     -inf -0.313262 -1.313262]
    """
    z, out = as_float(z)
    m, _, _, rest, ok = _shifted_exp(z, axis)
    with np.errstate(over="ignore"):  # z - m < -1.8e308 rounds to -inf, as it should
        y = np.where(ok, (z - np.where(ok, m, 0)) - np.log1p(rest), np.nan)
    return finish(y, out)


@_underflow_is_fine
def softmax_jacobian(z):
    r"""The Jacobian of the softmax of a vector, :math:`J = \operatorname{diag}(s) - s s^T`.

    Parameters
    ----------
    z : array_like
        A vector of ``K`` logits.

    Returns
    -------
    ndarray
        The symmetric ``(K, K)`` matrix
        :math:`J_{ij} = \partial q_i / \partial z_j = q_i (\mathbb{1}\{i = j\} - q_j)`
        with :math:`\mathbf q = \operatorname{softmax}(\mathbf z)`.  Its rows sum to 0.

    Raises
    ------
    TypeError
        If ``z`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``z`` is not a 1-D vector with at least one entry.

    See Also
    --------
    softmax : The function it differentiates.
    sigmoid_grad : Its two-class case.
    softmax_cross_entropy_grad : The gradient of the loss, which needs no Jacobian.

    Notes
    -----
    Off the diagonal, :math:`J_{ij} = -q_i q_j`, a product.  On it,

    .. math:: J_{ii} = q_i (1 - q_i) = q_i \sum_{j \ne i} q_j,

    where :math:`1 - q_i` is computed as the share of the other entries, not by
    subtracting from 1.  For a saturated input such as ``[36, 0]``,
    ``q - q**2`` returns ``1.1e-16`` or 0 for :math:`J_{00} = 2.3 \times 10^{-16}`;
    the form above is accurate to a few ulp in every entry.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer,
       2006, eq. (4.106).

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_jacobian
    >>> print(np.round(softmax_jacobian([0.0, 0.0]), 6))
    [[ 0.25 -0.25]
     [-0.25  0.25]]
    >>> print(f"{softmax_jacobian([36.0, 0.0])[0, 0]:.6e}")
    2.319523e-16
    """
    z, out = as_float(z)
    if z.ndim != 1:
        raise ValueError(f"softmax_jacobian expects a 1-D vector of logits, got shape {z.shape}")
    s, c = _softmax_and_complement(z, -1)
    jac = -np.outer(s, s)
    np.fill_diagonal(jac, s * c)
    return finish(jac, out)


# ---------------------------------------------------------------- information measures


def _two_floats(p, q):
    p, out_p = as_float(p)
    q, out_q = as_float(q)
    return p, q, np.promote_types(out_p, out_q)


@_underflow_is_fine
def cross_entropy(p, q, axis=-1):
    r"""The cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i`, along ``axis``.

    Parameters
    ----------
    p, q : array_like
        Probability vectors (broadcast against each other).
    axis : int, optional
        The axis to reduce (default: the last).

    Returns
    -------
    ndarray or scalar
        :math:`H(p, q) \ge 0` with ``axis`` removed; ``+inf`` (without warning)
        where some :math:`q_i = 0 < p_i`.

    Raises
    ------
    TypeError
        If ``p`` or ``q`` does not hold real numbers.
    ValueError
        If ``p`` and ``q`` do not broadcast against each other, or ``axis`` is out of range.

    See Also
    --------
    kl_divergence : The excess of ``cross_entropy(p, q)`` over the entropy ``cross_entropy(p, p)``.
    softmax_cross_entropy : The cross-entropy of labels and the softmax of logits.
    binary_cross_entropy_with_logits : The two-class case, from logits.

    Notes
    -----
    Terms with :math:`p_i = 0` count 0 whatever :math:`q_i` is (the convention
    :math:`0 \log 0 = 0`, the limit of :math:`x \log x`), instead of the NaN
    that ``0 * log(0)`` gives.  For probabilities every term
    :math:`-p_i \log q_i` is :math:`\ge 0`, so the sum has no cancellation and
    is accurate to a few ulp relative to itself.

    References
    ----------
    .. [1] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed.,
       Wiley, 2006, sections 2.1 and 5.4.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import cross_entropy
    >>> print(np.round(cross_entropy([0.5, 0.5], [0.25, 0.75]), 6))
    0.836988
    >>> print(cross_entropy([1.0, 0.0], [1.0, 0.0]), cross_entropy([0.5, 0.5], [1.0, 0.0]))
    0.0 inf
    """
    p, q, out = _two_floats(p, q)
    # + 0.0 turns the -0.0 of an all-zero sum into 0.0
    return finish(-np.sum(_xmul(p, _log0(q)), axis=axis) + 0.0, out)


@_underflow_is_fine
def kl_divergence(p, q, axis=-1):
    r"""The Kullback-Leibler divergence :math:`\sum_i p_i \log(p_i / q_i)`, along ``axis``.

    Parameters
    ----------
    p, q : array_like
        Probability vectors (broadcast against each other).
    axis : int, optional
        The axis to reduce (default: the last).

    Returns
    -------
    ndarray or scalar
        :math:`D_{\mathrm{KL}}(p \,\|\, q)` with ``axis`` removed: 0 when ``p == q``, ``+inf``
        (without warning) where some :math:`q_i = 0 < p_i`.

    Raises
    ------
    TypeError
        If ``p`` or ``q`` does not hold real numbers.
    ValueError
        If ``p`` and ``q`` do not broadcast against each other, or ``axis`` is out of range.

    See Also
    --------
    cross_entropy : The cross-entropy, which exceeds the entropy by the divergence.
    softmax_cross_entropy : The cross-entropy of labels and the softmax of logits.

    Notes
    -----
    :math:`0 \log(0 / q) = 0`.  Each log-ratio is accurate to a few ulp of
    itself: for :math:`q_i/2 \le p_i \le 2 q_i` it is
    :math:`\operatorname{log1p}((p_i - q_i)/q_i)` with :math:`p_i - q_i` exact
    (Sterbenz), since the rounding of a quotient near 1 would be a large
    relative error of its small logarithm; otherwise it is
    :math:`\log(p_i/q_i)`, and :math:`\log p_i - \log q_i` only where that
    quotient overflows (then :math:`|\log(p_i/q_i)| > 700` and the
    subtraction cancels nothing).  So :math:`H(p, q) = H(p) + D_{\mathrm{KL}}(p \,\|\, q)` holds
    to a few ulp.  The terms have both signs, and the sum is accurate to a few
    ulp of :math:`\sum_i |p_i \log(p_i/q_i)|`, which is a few ulp of
    :math:`KL` itself unless :math:`p \approx q`; there the divergence is of
    second order in :math:`p - q` and its relative condition number grows like
    :math:`1/KL`, so no formula in working precision does better.

    References
    ----------
    .. [1] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed.,
       Wiley, 2006, section 2.3.
    .. [2] P. H. Sterbenz, *Floating-Point Computation*, Prentice-Hall, 1974.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import kl_divergence
    >>> print(np.round(kl_divergence([0.5, 0.5], [0.25, 0.75]), 6))
    0.143841
    >>> print(kl_divergence([0.3, 0.7], [0.3, 0.7]), kl_divergence([0.5, 0.5], [1.0, 0.0]))
    0.0 inf
    """
    p, q, out = _two_floats(p, q)
    # Entries with p = 0 (where 0/0 or log(0) appear) are masked out by _xmul;
    # q = 0 < p gives +inf through log p - log 0.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        r = p / q
        log_ratio = np.select(
            [(q / 2 <= p) & (p <= 2 * q), np.isfinite(r) & (r >= np.finfo(r.dtype).tiny)],
            [np.log1p((p - q) / q), np.log(r)],  # p - q is exact here (Sterbenz)
            default=np.log(p) - np.log(q),
        )
    return finish(np.sum(_xmul(p, log_ratio), axis=axis), out)


# ----------------------------------------------------------------------------- losses


def _logits_and_targets(logits, labels):
    """Validate ``(N, K)`` logits and labels; return both in working precision.

    Integer labels ``(N,)`` are class indices and become one-hot rows; float labels
    ``(N, K)`` are probability rows used as they are.
    """
    z, out = as_float(logits)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(
            f"logits must have shape (N, K) with N >= 1 examples and K >= 1 classes, "
            f"got shape {z.shape}"
        )
    n, k = z.shape
    y = np.asarray(labels)
    if y.dtype.kind in "iu":
        if y.shape != (n,):
            raise ValueError(
                f"integer labels are class indices and must have shape (N,) = ({n},), "
                f"got shape {y.shape}"
            )
        if np.any((y < 0) | (y >= k)):
            raise ValueError(
                f"class indices must lie in [0, K) = [0, {k}), "
                f"got values from {y.min()} to {y.max()}"
            )
        target = np.zeros(z.shape, dtype=z.dtype)
        target[np.arange(n), y] = 1
    elif y.dtype.kind == "f":
        if y.shape != (n, k):
            raise ValueError(
                f"float labels are probability rows and must have shape (N, K) = ({n}, {k}), "
                f"got shape {y.shape}"
            )
        target = y.astype(z.dtype)
    else:
        raise ValueError(
            "labels must be integer class indices of shape (N,) or float probabilities "
            f"of shape (N, K), got dtype {y.dtype}"
        )
    return z, target, out


@_underflow_is_fine
def softmax_cross_entropy(logits, labels):
    r"""Mean softmax cross-entropy of a batch, :math:`-\frac1N \sum_n \sum_k y_{nk} \log q_{nk}`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalised scores :math:`z` of ``N`` examples over ``K`` classes.
    labels : array_like, shape (N,) of int, or (N, K) of float
        Class indices in ``[0, K)``, or probability rows :math:`y`.

    Returns
    -------
    scalar
        The batch mean, a NumPy floating scalar of the dtype of the logits;
        ``+inf`` if a label sits on a ``-inf`` logit.

    Raises
    ------
    TypeError
        If the logits do not hold real numbers.
    ValueError
        On shapes that do not fit, class indices out of range, or labels that are
        neither integer nor float.

    See Also
    --------
    softmax_cross_entropy_grad : Its gradient with respect to the logits.
    log_softmax : The log-probabilities it is computed from.
    cross_entropy : The cross-entropy of two probability vectors.
    binary_cross_entropy_with_logits : The two-class loss, from one logit per example.
    softmax_regression_loss : This loss, of a linear model, plus an L2 penalty.

    Notes
    -----
    :math:`\mathbf q = \operatorname{softmax}(\mathbf z)` per row, and
    :math:`\log \mathbf q` comes from :func:`log_softmax`, never from
    ``log(softmax(z))``, which is ``-inf`` as soon as a probability underflows.
    Terms with :math:`y_{nk} = 0` count 0.
    With class indices this is ``torch.nn.functional.cross_entropy`` with mean
    reduction.  All terms are :math:`\ge 0`, so the result is accurate to a few
    ulp.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press,
       2016, section 6.2.2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_cross_entropy
    >>> z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> print(np.round(softmax_cross_entropy(z, [0, 1]), 6))
    0.31854
    >>> y = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    >>> print(np.round(softmax_cross_entropy(z, y), 6))
    0.86854
    >>> print(softmax_cross_entropy([[1e4, -1e4]], [1]))
    20000.0
    """
    z, y, out = _logits_and_targets(logits, labels)
    per_example = -np.sum(_xmul(y, log_softmax(z)), axis=-1)
    return finish(np.mean(per_example) + 0.0, out)


@_underflow_is_fine
def softmax_cross_entropy_grad(logits, labels):
    r"""Gradient of :func:`softmax_cross_entropy` (the batch mean) with respect to the logits.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalised scores :math:`z`.
    labels : array_like, shape (N,) of int, or (N, K) of float
        Class indices in ``[0, K)``, or probability rows :math:`y`.

    Returns
    -------
    ndarray, shape (N, K)
        :math:`(\operatorname{softmax}(z) - y) / N`, in the dtype of the logits.

    Raises
    ------
    TypeError
        If the logits do not hold real numbers.
    ValueError
        As :func:`softmax_cross_entropy`.

    See Also
    --------
    softmax_cross_entropy : The loss it differentiates.
    softmax_jacobian : The derivative of the softmax.
    softmax_regression_grad : The gradient with respect to a linear model's parameters.

    Notes
    -----
    For each row, with :math:`\mathbf q = \operatorname{softmax}(\mathbf z)`, the identity

    .. math:: q_k - y_k = q_k (1 - y_k) - y_k (1 - q_k)

    is used with :math:`1 - q_k` computed as the share of the other classes
    (as in :func:`softmax_jacobian`).  For a one-hot label it gives
    :math:`q_k` off the label and :math:`-\sum_{j \ne y} q_j` on it, each to a
    few ulp even when the label's class saturates: for ``z = [36, 0]`` and label
    0 the gradient is :math:`(-2.3, 2.3) \times 10^{-16}`, whereas
    ``softmax(z) - onehot`` gives ``-1.1e-16`` or 0 for the first entry.  For soft
    labels the two products are accurate, and any cancellation between them is
    that of :math:`s \approx y` itself.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press,
       2016, section 6.2.2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_cross_entropy_grad
    >>> print(np.round(softmax_cross_entropy_grad([[0.0, 0.0], [0.0, 0.0]], [0, 1]), 6))
    [[-0.25  0.25]
     [ 0.25 -0.25]]
    >>> g = softmax_cross_entropy_grad([[36.0, 0.0]], [0])
    >>> print(np.array2string(g, precision=6))
    [[-2.319523e-16  2.319523e-16]]
    """
    z, y, out = _logits_and_targets(logits, labels)
    s, c = _softmax_and_complement(z, -1)
    return finish((s * (1 - y) - y * c) / z.shape[0], out)


@_underflow_is_fine
def binary_cross_entropy_with_logits(logits, labels):
    r"""Mean binary cross-entropy of labels :math:`y` given logits :math:`z` (before the sigmoid).

    Parameters
    ----------
    logits : array_like
        Logits :math:`z` of any shape.
    labels : array_like
        Targets :math:`y \in [0, 1]` (hard 0/1 or soft), of the shape of ``logits``.

    Returns
    -------
    scalar
        The mean over all elements of
        :math:`-[y \log\sigma(z) + (1 - y) \log(1 - \sigma(z))]`, a NumPy floating
        scalar of the dtype of the logits.  This is
        ``torch.nn.functional.binary_cross_entropy_with_logits`` with mean reduction.

    Raises
    ------
    TypeError
        If the logits or the labels do not hold real numbers.
    ValueError
        If the shapes differ or the input is empty.

    See Also
    --------
    softplus : The function each term is written with.
    log_sigmoid : ``-log_sigmoid(z)`` is the loss of a label 1.
    sigmoid : The probability the logits stand for.
    softmax_cross_entropy : The loss of ``K`` classes.

    Notes
    -----
    Since :math:`-\log\sigma(z) = \operatorname{softplus}(-z)` and
    :math:`-\log(1 - \sigma(z)) = \operatorname{softplus}(z)`,

    .. math:: \ell(z, y) = y \operatorname{softplus}(-z) + (1 - y) \operatorname{softplus}(z).

    No sigmoid is rounded to 0 or 1 before its logarithm is taken, and for
    :math:`y \in [0, 1]` both terms are :math:`\ge 0`: no cancellation, a few ulp
    of error.  (PyTorch's :math:`\max(z, 0) - z y + \operatorname{log1p}(e^{-|z|})`
    is the same function, but cancels when :math:`z y \approx z`, e.g. for soft
    labels with large logits.)  Terms with a zero weight count 0.

    References
    ----------
    .. [1] PyTorch documentation, ``torch.nn.BCEWithLogitsLoss``.
    .. [2] M. Maechler, "Accurately computing log(1 - exp(-|a|))", vignette of
       the R package Rmpfr, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import binary_cross_entropy_with_logits
    >>> print(np.round(binary_cross_entropy_with_logits([0.0, 2.0, -1.0], [1, 1, 0]), 6))
    0.377779
    >>> print(binary_cross_entropy_with_logits([1e4, -1e4], [0.0, 1.0]))
    10000.0
    """
    z, out = as_float(logits)
    y, _ = as_float(labels)
    if z.shape != y.shape:
        raise ValueError(f"logits and labels must have the same shape, got {z.shape} and {y.shape}")
    if z.size == 0:
        raise ValueError("binary_cross_entropy_with_logits needs at least one element")
    loss = _xmul(y, _softplus(-z)) + _xmul(1 - y, _softplus(z))
    return finish(np.mean(loss), out)


# ---- exercises of chapters 1 and 2


@_underflow_is_fine
def sigmoid_second_derivative(x):
    r"""The second derivative of the sigmoid, :math:`\sigma''(x) = \sigma'(x)\,(1 - 2\sigma(x))`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.

    Returns
    -------
    ndarray or scalar
        :math:`\sigma''(x)`, with the shape of ``x``: negative for :math:`x > 0`,
        positive for :math:`x < 0`, 0 at :math:`x = 0`, and odd.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (complex numbers, strings, objects).

    See Also
    --------
    sigmoid : The function it differentiates twice.
    sigmoid_grad : The first derivative, :math:`\sigma'(x) = \sigma(x)\,\sigma(-x)`.
    softplus : Its third derivative is :math:`\sigma''`.

    Notes
    -----
    Differentiating :math:`\sigma' = \sigma\,(1 - \sigma)` by the product rule gives
    :math:`\sigma'' = \sigma'\,(1 - \sigma) - \sigma\,\sigma' = \sigma'\,(1 - 2\sigma)`, and
    :math:`1 - 2\sigma(x) = -\tanh(x/2)` (since :math:`\tanh(t) = 2\sigma(2t) - 1`), so

    .. math:: \sigma''(x) = -\sigma'(x)\,\tanh(x/2), \qquad
              \sigma'(x) = \frac{t}{(1 + t)^2}, \quad t = e^{-|x|}.

    Both textbook factors cancel somewhere: :math:`1 - \sigma` for large :math:`x`
    (it is 0 from :math:`x \approx 36.7`, where :math:`\sigma''(x) \approx -e^{-x}`), and
    :math:`1 - 2\sigma` near 0 (at :math:`x = 10^{-8}` it keeps only about 8 digits of
    :math:`-x/2`, and :math:`\sigma''(x) \approx -x/8` there). ``tanh`` computes the second
    factor without any subtraction, so the product is within a few ulp of
    :math:`\sigma''(x)` for every ``x``.

    References
    ----------
    .. [1] N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
       SIAM, 2002, section 1.7 (cancellation).

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import sigmoid_second_derivative
    >>> print(np.round(sigmoid_second_derivative([-2.0, 2.0]), 6))
    [ 0.079963 -0.079963]
    >>> print(f"{sigmoid_second_derivative(40.0):.6e}", f"{sigmoid_second_derivative(1e-8):.6e}")
    -4.248354e-18 -1.250000e-09
    """
    x, out = as_float(x)
    t = np.exp(-np.abs(x))
    return finish(-(t / (1 + t * (2 + t))) * np.tanh(x / 2), out)


@_underflow_is_fine
def softplus_tau_dtau(x, tau):
    r"""The derivative in the temperature of the sharpened softplus :math:`\tau\,\zeta(x/\tau)`.

    Parameters
    ----------
    x : array_like
        Real input of any shape.
    tau : array_like
        Positive temperatures :math:`\tau`, broadcast against ``x``.

    Returns
    -------
    ndarray or scalar
        :math:`\partial_\tau\,[\tau\,\zeta(x/\tau)]`, in :math:`(0, \log 2]`, with the
        broadcast shape; ``float32`` when both arguments are ``float32``.

    Raises
    ------
    TypeError
        If ``x`` or ``tau`` does not hold real numbers.
    ValueError
        If some ``tau`` is not positive.

    See Also
    --------
    softplus : :math:`\zeta`, the softplus at :math:`\tau = 1`.
    sigmoid : :math:`\partial_x\,[\tau\,\zeta(x/\tau)] = \sigma(x/\tau)`.

    Notes
    -----
    With :math:`u = x/\tau`, the product and chain rules give
    :math:`\partial_\tau\,[\tau\,\zeta(u)] = \zeta(u) - u\,\sigma(u)`, which cancels for
    large :math:`|u|` (at :math:`u = 40` both terms round to 40). Since
    :math:`\zeta(u) - u\,\sigma(u)` is even in :math:`u` (by :math:`\zeta(u) - \zeta(-u) = u`
    and :math:`\sigma(-u) = 1 - \sigma(u)`), with :math:`a = |x|/\tau`,

    .. math:: \partial_\tau\,[\tau\,\zeta(x/\tau)] = \zeta(-a) + a\,\sigma(-a)
              = \operatorname{log1p}(r) + a\,\frac{r}{1 + r}, \qquad r = e^{-a},

    the derivative in :math:`\tau` of the gap :math:`\tau\log(1 + e^{-|x|/\tau})` to ReLU.
    Both terms are positive, so nothing cancels and the result is within a few ulp of
    the value at the computed quotient :math:`a`. (Rounding :math:`|x|/\tau` to a float
    moves the exact answer by about :math:`a` ulp, since its relative change is about
    :math:`a` times that of :math:`a`: no formula in the same precision avoids it.) The
    quotient may overflow to ``inf``, where the answer is its limit 0.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press,
       2016, section 3.10.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softplus_tau_dtau
    >>> print(np.round(softplus_tau_dtau([-1.0, 0.0, 1.0], 0.5), 6))
    [0.365334 0.693147 0.365334]
    >>> print(f"{softplus_tau_dtau(40.0, 1.0):.6e}", softplus_tau_dtau(1e300, 1e-10))
    1.741825e-16 0.0
    """
    x, out_x = as_float(x)
    tau, out_tau = as_float(tau)
    if np.any(tau <= 0):
        raise ValueError("the temperature tau must be positive")
    with np.errstate(over="ignore"):  # |x| / tau beyond the largest float is inf: r = 0
        a = np.abs(x) / tau
    r = np.exp(-a)
    return finish(np.log1p(r) + _xmul(r / (1 + r), a), np.promote_types(out_x, out_tau))


# ---- exercises of chapters 3 and 4


def _positive_scalar(value, name, *, low=0.0, high=np.inf, closed=False):
    """``value`` as a float, checked to be one real number in the interval the caller names.

    ``closed`` says whether ``low`` and ``high`` themselves are allowed (``[low, high]``) or
    not (``(low, high)``).
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if array.ndim != 0:
        raise ValueError(f"{name} must be one number, got an array of shape {array.shape}")
    number = float(array)
    inside = low <= number <= high if closed else low < number < high
    if not (np.isfinite(number) and inside):
        where = f"[{low:g}, {high:g}]" if closed else f"({low:g}, {high:g})"
        raise ValueError(f"{name} must be a finite number in {where}, got {number!r}")
    return number


@_underflow_is_fine
def softmax_temperature_grad(z, tau, axis=-1):
    r"""The derivative of the softmax at temperature :math:`\tau` with respect to :math:`\tau`.

    Parameters
    ----------
    z : array_like
        Real logits :math:`\mathbf z` with at least one dimension; entries may be ``-inf``
        (masked classes).
    tau : float
        The temperature :math:`\tau`, a finite positive number.
    axis : int, optional
        The axis along which the softmax normalises (default: the last).

    Returns
    -------
    ndarray
        :math:`\partial \operatorname{softmax}(\mathbf z/\tau)/\partial\tau`, of the shape of
        ``z``.  Each row sums to 0; a ``-inf`` entry gets 0.  A row without a finite
        maximum (all ``-inf``, or holding ``+inf`` or NaN) has no softmax: NaN.

    Raises
    ------
    TypeError
        If ``z`` or ``tau`` does not hold real numbers.
    ValueError
        If ``tau`` is not one finite positive number, ``z`` is a scalar, ``axis`` is out of
        range, or the axis has length 0.

    See Also
    --------
    softmax : The function it differentiates, at :math:`\tau = 1`.
    softmax_jacobian : The derivative with respect to the logits, through which this one goes.
    logsumexp : :math:`\tau \operatorname{LSE}(\mathbf z/\tau)` tends to :math:`\max \mathbf z`
        as :math:`\tau \to 0^+`.

    Notes
    -----
    With :math:`\mathbf q = \operatorname{softmax}(\mathbf z/\tau)`, the chain rule through
    the Jacobian :math:`J = \operatorname{diag}(\mathbf q) - \mathbf q \mathbf q^\top` and
    :math:`\partial(\mathbf z/\tau)/\partial\tau = -\mathbf z/\tau^2` give

    .. math::

        \frac{\partial q_i}{\partial \tau}
        = -\frac{q_i}{\tau^2}\Bigl(z_i - \sum_j q_j z_j\Bigr)
        = -\frac{q_i}{\tau}\Bigl(w_i - \sum_j q_j w_j\Bigr),
        \qquad w_j = \frac{z_j - m}{\tau},\ m = \max_j z_j .

    The second form uses shift invariance (:math:`\sum_j q_j = 1`, so any common shift of
    the :math:`z_j` cancels).  It never subtracts numbers of the size of the logits: every
    :math:`w_j \le 0`, so :math:`\sum_j q_j w_j` is a sum of terms of one sign, and the
    softmax of :math:`\mathbf w` exponentiates nothing above :math:`e^0 = 1`.  Each entry
    is accurate to a few ulp of
    :math:`q_i (1 + |w_i|)\bigl(|w_i| + \sum_j q_j |w_j| (1 + |w_j|)\bigr)/\tau` (the
    factors :math:`1 + |w|` are the rounding of :math:`w`, which ``exp`` turns into relative
    errors of :math:`\mathbf q`), plus the subnormal spacing where :math:`\mathbf q` underflows;
    the subtraction :math:`w_i - \sum_j q_j w_j` cancels only where the exact entry is itself
    small next to that scale.  The textbook form subtracts :math:`\sum_j q_j z_j`
    from :math:`z_i` in the scale of :math:`|z|`: for logits near :math:`10^8` it keeps
    about 8 digits of an answer of order 1.

    Raising the temperature flattens the distribution: the largest component has a negative
    derivative (:math:`w_i = 0 > \sum_j q_j w_j`), and the components sum to a constant, so
    the derivatives sum to 0.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press, 2016,
       section 6.2.2.3 (the softmax unit).

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import softmax_temperature_grad
    >>> print(np.round(softmax_temperature_grad([1.0, 2.0, 3.0], 1.0), 6))
    [ 0.141817  0.14077  -0.282587]
    >>> print(softmax_temperature_grad([[0.0, 0.0], [-np.inf, 5.0]], 2.0))
    [[0. 0.]
     [0. 0.]]
    >>> g = softmax_temperature_grad([1e8, 1e8 - 1.0], 1.0)
    >>> print(np.round(g, 6))
    [-0.196612  0.196612]
    """
    z, out = as_float(z)
    tau = _positive_scalar(tau, "tau")
    if z.ndim == 0:
        raise ValueError("expected an array with at least one dimension, got a scalar")
    m = np.max(z, axis=axis, keepdims=True)
    ok = np.isfinite(m)
    with np.errstate(over="ignore"):  # (z - m) / tau below -1.8e308 is -inf: exp(-inf) = 0
        w = np.where(ok, (z - np.where(ok, m, 0)) / tau, -np.inf)
    e = np.exp(w)  # every exponent <= 0, the largest exactly 0
    total = np.sum(e, axis=axis, keepdims=True)
    q = np.where(ok, e / np.where(ok, total, 1), np.nan)
    mean = np.sum(_xmul(q, w), axis=axis, keepdims=True)  # sum_j q_j w_j, 0 * (-inf) = 0
    with np.errstate(invalid="ignore"):  # rows without a maximum are NaN already
        grad = -_xmul(q, w - mean) / tau
    return finish(grad + 0.0, out)


@_underflow_is_fine
def smoothed_cross_entropy_grad(logits, labels, smoothing):
    r"""Gradient of the batch-mean softmax cross-entropy with label smoothing :math:`\kappa`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalised scores :math:`\mathbf z_n` of ``N`` examples over ``K`` classes.
    labels : array_like, shape (N,) of int, or (N, K) of float
        Class indices in ``[0, K)``, or probability rows :math:`\mathbf p_n` (each summing
        to 1).
    smoothing : float
        The smoothing weight :math:`\kappa \in [0, 1]`.

    Returns
    -------
    ndarray, shape (N, K)
        The gradient with respect to the logits of
        :math:`\frac1N \sum_n H(\mathbf t_n, \operatorname{softmax}(\mathbf z_n))`, the
        targets being :math:`\mathbf t_n = (1 - \kappa)\,\mathbf p_n + \frac{\kappa}{K}\mathbf 1`
        (:math:`\mathbf p_n = \mathbf y_n`, one-hot, for class indices); in the dtype of the
        logits.

    Raises
    ------
    TypeError
        If the logits or the smoothing weight do not hold real numbers.
    ValueError
        If ``smoothing`` is not one number in :math:`[0, 1]`; otherwise as
        :func:`softmax_cross_entropy`.

    See Also
    --------
    softmax_cross_entropy_grad : The case :math:`\kappa = 0`.
    softmax_cross_entropy : The loss, given the smoothed targets as probability rows.

    Notes
    -----
    The smoothed target :math:`\mathbf t` sums to 1, so the gradient of
    :math:`-\sum_k t_k \log q_k` is :math:`\mathbf q - \mathbf t`
    (:math:`\mathbf q = \operatorname{softmax}(\mathbf z)`), that is

    .. math::

        \nabla_{\mathbf z}\, \ell
        = \mathbf q - (1 - \kappa)\,\mathbf p - \frac{\kappa}{K}\mathbf 1
        = \bigl(\mathbf q \odot (\mathbf 1 - \mathbf p)
                - \mathbf p \odot (\mathbf 1 - \mathbf q)\bigr)
        + \kappa\Bigl(\mathbf p - \frac1K \mathbf 1\Bigr),

    divided by :math:`N` for the batch mean.  :math:`1 - q_k` is computed as the share of
    the other classes (as in :func:`softmax_cross_entropy_grad`), so the bracket is accurate
    even where a class saturates; the last term is exact up to one rounding.  The two parts
    cancel only where :math:`\mathbf q \approx \mathbf t`, the minimiser of the loss, and the
    gradient is then small next to the scale :math:`\max(q_k, t_k)`, to which it is accurate
    to a few ulp.  With :math:`\kappa > 0` the gradient never vanishes however large the
    true logit: the model is pulled back towards :math:`q_y = 1 - \kappa (K - 1)/K`.

    References
    ----------
    .. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking the
       Inception architecture for computer vision", CVPR 2016, section 7.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import smoothed_cross_entropy_grad
    >>> print(np.round(smoothed_cross_entropy_grad([[0.0, 0.0]], [0], 0.2), 6))
    [[-0.4  0.4]]
    >>> print(np.round(smoothed_cross_entropy_grad([[1e4, 0.0, -1e4]], [0], 0.3), 6))
    [[ 0.2 -0.1 -0.1]]
    """
    z, y, out = _logits_and_targets(logits, labels)
    kappa = _positive_scalar(smoothing, "smoothing", low=0.0, high=1.0, closed=True)
    n, k = z.shape
    s, c = _softmax_and_complement(z, -1)
    grad = (s * (1 - y) - y * c) + kappa * (y - 1 / k)
    return finish(grad / n, out)
