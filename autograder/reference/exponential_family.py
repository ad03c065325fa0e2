r"""The categorical ("multinomial") distribution as an exponential family.

Chapter 5 of the course writes the distribution of one draw ``y`` from ``K``
classes with probabilities :math:`\varphi_1, \dots, \varphi_K` as

.. math:: p(y; \boldsymbol\eta) = h(y) \exp(\boldsymbol\eta^\top T(y) - a(\boldsymbol\eta))

with ``K - 1`` natural parameters :math:`\eta_i = \log(\varphi_i / \varphi_K)` (which
need :math:`\varphi_K > 0`), the indicator vector :math:`T(y)_i = \mathbb{1}\{y = i\}` as
sufficient statistic, the log-partition :math:`a(\boldsymbol\eta) = \log(1 + \sum_j
e^{\eta_j})` and the base measure :math:`h(y) = 1` (CS229 writes it :math:`b(y)`).
Inverting gives :math:`\boldsymbol\varphi = \operatorname{softmax}([\boldsymbol\eta, 0])`.

Conventions.  The text numbers the classes :math:`1, \dots, K` and takes the last
one, class :math:`K`, as the *reference class* whose natural parameter is fixed
at :math:`\eta_K = 0`.  The code numbers them :math:`0, \dots, K - 1` (as NumPy
does), so the reference class is ``k - 1``: the text's class :math:`i` is the
code's label ``i - 1``.  The classes lie on the **last axis** of every array;
leading axes are a batch.  Dtypes follow :mod:`autograder.reference`: ``float32``
in gives ``float32`` out, everything else gives ``float64``, computed in double
precision.  No finite input produces a floating-point warning.
"""

import operator

import numpy as np

from autograder.reference._dtypes import as_float, finish
from autograder.reference.elementary import logsumexp, softmax

__all__ = [
    "multinomial_log_partition",
    "multinomial_log_partition_hvp",
    "multinomial_mean_params",
    "multinomial_natural_params",
    "multinomial_sufficient_statistic",
]


def _with_reference_logit(eta):
    """``[eta, 0]`` along the last axis: the reference class's natural parameter is 0."""
    if eta.ndim == 0 or eta.shape[-1] == 0:
        raise ValueError(
            "expected the k - 1 >= 1 natural parameters on the last axis of an array, got "
            f"shape {eta.shape}; for the Bernoulli case (k = 2) pass eta[..., None]"
        )
    return np.concatenate([eta, np.zeros((*eta.shape[:-1], 1), eta.dtype)], axis=-1)


def multinomial_sufficient_statistic(y, k):
    r"""The sufficient statistic :math:`T(y) \in \{0, 1\}^{K-1}` of the categorical distribution.

    Parameters
    ----------
    y : array_like of int
        Class labels in ``{0, ..., k - 1}``, of any shape.  Floats are accepted
        when they hold whole numbers.
    k : int
        The number of classes, at least 2.

    Returns
    -------
    ndarray
        ``float64`` array of shape ``y.shape + (k - 1,)``:
        ``T[..., i] = 1.0`` where ``y == i`` and ``0.0`` elsewhere, for
        ``i = 0, ..., k - 2``.  The reference class ``k - 1`` has
        :math:`T(K - 1) = 0`, the zero vector.

    Raises
    ------
    ValueError
        If ``k`` is not a whole number of classes, ``k < 2``, or a label is not a whole
        number in ``{0, ..., k - 1}``.

    See Also
    --------
    multinomial_natural_params : The natural parameters that multiply the statistic.
    multinomial_mean_params : Its expectation (with the reference class appended).

    Notes
    -----
    In the chapter's numbering (classes :math:`1, \dots, K`),
    :math:`T(y)_i = \mathbb{1}\{y = i\}` for :math:`i = 1, \dots, K - 1`: the one-hot
    vector of :math:`y` with its last entry dropped.  The dropped entry is not
    lost, :math:`\mathbb{1}\{y = K\} = 1 - \sum_{i<K} T(y)_i`, and leaving it out is what
    makes the ``k - 1`` natural parameters unique.  Under probabilities
    :math:`\varphi`, :math:`E[T(y)_i] = \varphi_i`.  The result is exact.

    References
    ----------
    .. [1] A. Ng, *CS229 Lecture Notes*, Part III, "Generalized Linear Models",
       section 9.3, Stanford University.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import multinomial_sufficient_statistic
    >>> print(multinomial_sufficient_statistic([0, 1, 2], 3))
    [[1. 0.]
     [0. 1.]
     [0. 0.]]
    >>> multinomial_sufficient_statistic(np.zeros((4, 5), dtype=int), 3).shape
    (4, 5, 2)
    """
    try:
        k = operator.index(k)
    except TypeError:
        raise ValueError(f"k must be a whole number of classes, got {k!r}") from None
    if k < 2:
        raise ValueError(f"a categorical distribution needs k >= 2 classes, got k = {k}")
    y = np.asarray(y)
    if y.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            first = y[~whole].flat[0].item()
            raise ValueError(f"class labels must be whole numbers, got {first!r}")
    elif y.dtype.kind not in "iu":
        raise ValueError(f"class labels must be integers, got an array of dtype {y.dtype}")
    outside = (y < 0) | (y >= k)
    if outside.any():
        first = y[outside].flat[0].item()
        raise ValueError(f"class labels must be in {{0, ..., {k - 1}}} for k = {k}, got {first!r}")
    return (y[..., None] == np.arange(k - 1)).astype(np.float64)


@np.errstate(under="ignore")
def multinomial_natural_params(phi):
    r"""The natural parameters :math:`\eta_i = \log(\varphi_i / \varphi_k)`, ``i < k``.

    Parameters
    ----------
    phi : array_like
        Class probabilities on the last axis, ``k >= 2`` of them; the last one
        is the reference class.  Only ratios matter, so unnormalised
        non-negative weights give the same result.

    Returns
    -------
    ndarray
        Shape ``phi.shape[:-1] + (k - 1,)``.  :math:`\varphi_i = 0` gives
        ``-inf`` and :math:`\varphi_k = 0 < \varphi_i` gives ``+inf`` (the
        limits); :math:`\varphi_i = \varphi_k = 0` and negative entries give
        NaN.  None of these warn.

    Raises
    ------
    TypeError
        If ``phi`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``phi`` has no last axis with at least two entries.

    See Also
    --------
    multinomial_mean_params : The inverse map, from natural parameters to probabilities.
    logit : The case ``k = 2``.
    kl_divergence : Computes its log-ratios the same way.

    Notes
    -----
    Each entry is computed, without overflow, to a few ulp of itself:

    .. math::

        \eta_i = \begin{cases}
          \operatorname{log1p}\bigl((\varphi_i - \varphi_k) / \varphi_k\bigr)
             & \varphi_k / 2 \le \varphi_i \le 2 \varphi_k, \\
          \log(\varphi_i / \varphi_k) & \text{the quotient is a normal float}, \\
          \log \varphi_i - \log \varphi_k & \text{otherwise.}
        \end{cases}

    Near :math:`\varphi_i = \varphi_k` the quotient is close to 1 and its
    rounding error (half an ulp of 1) would be a large relative error of the
    small logarithm, while :math:`\varphi_i - \varphi_k` is exact there
    (Sterbenz's lemma).  The difference of logarithms is used only where the
    quotient overflows or is subnormal: then :math:`|\eta_i| > 708` and the
    subtraction cancels nothing, whereas elsewhere (say
    :math:`\varphi_i = 10^{-200}`, :math:`\varphi_k = 7 \cdot 10^{-201}`) it
    would subtract two logarithms near :math:`-460` to get :math:`0.36`, with a
    relative error of :math:`1.3 \cdot 10^{-13}`.

    References
    ----------
    .. [1] P. H. Sterbenz, *Floating-Point Computation*, Prentice-Hall, 1974.
    .. [2] A. Ng, *CS229 Lecture Notes*, Part III, section 9.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import multinomial_natural_params
    >>> print(np.round(multinomial_natural_params([0.2, 0.3, 0.5]), 6))
    [-0.916291 -0.510826]
    >>> print(np.round(multinomial_natural_params([0.0, 1.0, 1e-310]), 4))  # 1 / 1e-310 overflows
    [    -inf 713.8014]
    """
    phi, out = as_float(phi)
    if phi.ndim == 0 or phi.shape[-1] < 2:
        raise ValueError(
            f"expected k >= 2 probabilities on the last axis of an array, got shape {phi.shape}"
        )
    p, ref_p = phi[..., :-1], phi[..., -1:]
    # Entries of the branches that np.select does not pick may overflow, divide by 0
    # or be NaN; those values are discarded.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        r = p / ref_p
        eta = np.select(
            [(ref_p / 2 <= p) & (p <= 2 * ref_p), np.isfinite(r) & (r >= np.finfo(r.dtype).tiny)],
            [np.log1p((p - ref_p) / ref_p), np.log(r)],  # p - ref_p is exact here
            default=np.log(p) - np.log(ref_p),
        )
    return finish(eta, out)


@np.errstate(under="ignore")
def multinomial_mean_params(eta):
    r"""The class probabilities :math:`\varphi = \operatorname{softmax}([\eta, 0])`.

    Parameters
    ----------
    eta : array_like
        The ``k - 1 >= 1`` natural parameters on the last axis; entries may be
        ``-inf`` (a class of probability 0).

    Returns
    -------
    ndarray
        Shape ``eta.shape[:-1] + (k,)``, every row in ``[0, 1]`` and summing
        to 1; the last entry is the reference class,
        :math:`\varphi_k = 1 / (1 + \sum_j e^{\eta_j})`.  A row holding
        ``+inf`` or NaN has no probabilities: NaN.

    Raises
    ------
    TypeError
        If ``eta`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``eta`` has no last axis with at least one entry.

    See Also
    --------
    multinomial_natural_params : The inverse map, from probabilities to natural parameters.
    multinomial_log_partition : Its gradient is the first ``k - 1`` mean parameters.
    softmax : The function it evaluates at ``[eta, 0]``.

    Notes
    -----
    .. math::

        \varphi_i = \frac{e^{\eta_i}}{1 + \sum_{j<k} e^{\eta_j}} \ (i < k), \qquad
        \varphi_k = \frac{1}{1 + \sum_{j<k} e^{\eta_j}},

    which is the softmax of :math:`z = [\eta, 0]`: the reference class's logit
    is :math:`\eta_k = 0`.  It is computed as
    :func:`autograder.reference.softmax` of ``z``, shifted by
    :math:`m = \max(0, \max_j \eta_j)`: every exponent is :math:`\le 0`, so
    nothing overflows for :math:`\eta_j = 10^4`, and the largest term is
    exactly 1, so the denominator never underflows to 0 when every
    :math:`\eta_j \ll 0`.  The error is at most a few eps times the largest
    entry, and each tiny entry keeps a relative error of a few eps plus
    :math:`\epsilon\,|\eta_i - m|` (the rounding of the shift).

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", *IMA Journal of Numerical Analysis*
       41(4), 2311-2330, 2021.
    .. [2] A. Ng, *CS229 Lecture Notes*, Part III, section 9.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import multinomial_mean_params
    >>> print(np.round(multinomial_mean_params([0.0, 0.0]), 6))
    [0.333333 0.333333 0.333333]
    >>> print(multinomial_mean_params([[1e4, -1e4], [-1e4, -np.inf]]))
    [[1. 0. 0.]
     [0. 0. 1.]]
    """
    eta, out = as_float(eta)
    return finish(softmax(_with_reference_logit(eta), axis=-1), out)


@np.errstate(under="ignore")
def multinomial_log_partition(eta):
    r"""The log-partition :math:`a(\eta) = \log\bigl(1 + \sum_{j<K} e^{\eta_j}\bigr)`.

    Parameters
    ----------
    eta : array_like
        The ``k - 1 >= 1`` natural parameters on the last axis; entries may be
        ``-inf``.

    Returns
    -------
    ndarray or scalar
        :math:`a(\eta) > 0` with the last axis removed (a scalar for a 1-D
        ``eta``); ``+inf`` for a row holding ``+inf``.

    Raises
    ------
    TypeError
        If ``eta`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``eta`` has no last axis with at least one entry.

    See Also
    --------
    multinomial_mean_params : Its gradient (the first ``k - 1`` entries).
    logsumexp : The function it evaluates at ``[eta, 0]``.
    softplus : The case ``k = 2``: ``softplus(eta)``.

    Notes
    -----
    :math:`a(\eta) = -\log \varphi_k = \operatorname{LSE}([\eta, 0])`, computed
    as :func:`autograder.reference.logsumexp` of :math:`z = [\eta, 0]`: with
    :math:`m = \max(0, \max_j \eta_j) = z_{j^*}`,

    .. math::

        a(\eta) = m + \operatorname{log1p}\Bigl(\sum_{j \ne j^*} e^{z_j - m}\Bigr).

    The exponents are :math:`\le 0` (no overflow for :math:`\eta_j = 10^4`),
    and the term :math:`e^{z_{j^*} - m} = 1` is left out of the sum, so that
    ``log1p`` sees the small rest exactly: when every :math:`\eta_j \ll 0`,
    :math:`m = 0` and :math:`a = \operatorname{log1p}(\sum_j e^{\eta_j})`,
    about :math:`4.2 \times 10^{-18}` for :math:`\eta = (-40)`, which
    ``log(1 + s)`` rounds to 0.  Both terms are :math:`\ge 0`, so nothing
    cancels and the result is within a few ulp.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", *IMA Journal of Numerical Analysis*
       41(4), 2311-2330, 2021.
    .. [2] A. Ng, *CS229 Lecture Notes*, Part III, section 9.3.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import multinomial_log_partition
    >>> print(np.round(multinomial_log_partition([0.0, 0.0]), 6))  # log 3
    1.098612
    >>> print(multinomial_log_partition([[1e4, 1e4], [-np.inf, -np.inf]]))
    [10000.69314718     0.        ]
    >>> print(f"{multinomial_log_partition([-40.0]):.6e}")
    4.248354e-18
    """
    eta, out = as_float(eta)
    return finish(logsumexp(_with_reference_logit(eta), axis=-1), out)


@np.errstate(under="ignore")
def multinomial_log_partition_hvp(eta, v):
    r"""The Hessian of the log-partition times a vector, :math:`\nabla^2 a(\eta)\, v`.

    Computed in :math:`O(K)` operations and memory, without forming the
    :math:`(K - 1) \times (K - 1)` Hessian.

    Parameters
    ----------
    eta : array_like
        The ``k - 1 >= 1`` natural parameters on the last axis; entries may be
        ``-inf`` (a class of probability 0).  Leading axes are a batch.
    v : array_like
        The direction, finite, of the same shape as ``eta`` (or broadcastable to a
        common shape with the same last axis).

    Returns
    -------
    ndarray
        :math:`\nabla^2 a(\eta)\, v`, of the broadcast shape of ``eta`` and ``v``.
        A row of ``eta`` holding ``+inf`` or NaN gives NaN, as in
        :func:`multinomial_mean_params`.

    Raises
    ------
    TypeError
        If ``eta`` or ``v`` does not hold real numbers (complex numbers, strings, objects).
    ValueError
        If ``eta`` has no last axis with at least one entry, or ``v`` does not have the
        shape of ``eta`` (after broadcasting, the same last axis).

    See Also
    --------
    multinomial_log_partition : The function :math:`a` whose Hessian this is.
    multinomial_mean_params : Its gradient :math:`\nabla a = \bar\varphi`, the first
        ``k - 1`` mean parameters.
    softmax_jacobian : The full :math:`K \times K` matrix
        :math:`\operatorname{diag}(\mathbf q) - \mathbf q \mathbf q^\top`, whose upper-left
        block is the Hessian.

    Notes
    -----
    With :math:`\bar\varphi = (\varphi_1, \dots, \varphi_{K-1})`, the first ``k - 1``
    entries of :math:`\operatorname{softmax}([\eta, 0])`, the Hessian is the covariance of
    the sufficient statistic, :math:`\nabla^2 a = \operatorname{diag}(\bar\varphi) -
    \bar\varphi \bar\varphi^\top`, so

    .. math::

        \nabla^2 a(\eta)\, v = \bar\varphi \odot v - \bar\varphi\, (\bar\varphi^\top v)
        = \bar\varphi \odot (v - m \mathbf 1), \qquad m = \bar\varphi^\top v
        = \mathbb{E}[v^\top T(y)] ,

    with :math:`\odot` the entrywise product: one softmax, one dot product and one
    entrywise product, where forming the Hessian would take :math:`O(K^2)` memory and
    time (80 GB for :math:`K = 10^5`).  The product is also the directional derivative
    of the gradient, :math:`\frac{d}{dt} \bar\varphi(\eta + t v)` at :math:`t = 0`, and
    :math:`v^\top \nabla^2 a(\eta)\, v = \operatorname{Var}[v^\top T(y)] \ge 0`.

    :math:`\bar\varphi` comes from :func:`multinomial_mean_params` (max-shifted, no
    overflow for :math:`\eta_j = 10^4`), and the factored form subtracts once per entry.
    Each entry is within a few :math:`\epsilon\, \varphi_i (|v_i| + \sum_j \varphi_j
    |v_j|)` of the exact value, times :math:`1 + \max_j |z_j - \max z|` for
    :math:`z = [\eta, 0]` (the rounding of the shift, as for the mean parameters).  The
    bound is relative to that scale, not to the entry itself: where :math:`v_i` is close
    to :math:`m` the entry is the small difference of two larger numbers.

    References
    ----------
    .. [1] A. Ng, *CS229 Lecture Notes*, Part III, section 9.3.
    .. [2] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
       section 2.4.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference import multinomial_log_partition_hvp
    >>> print(np.round(multinomial_log_partition_hvp([0.0, 0.0], [1.0, -1.0]), 6))
    [ 0.333333 -0.333333]
    >>> eta, v = np.array([1.0, 2.0, -0.5]), np.array([1.0, 0.0, 2.0])
    >>> phi = multinomial_mean_params(eta)[:-1]
    >>> hessian = np.diag(phi) - np.outer(phi, phi)  # O(K^2): only to compare
    >>> bool(np.allclose(multinomial_log_partition_hvp(eta, v), hessian @ v, rtol=1e-14))
    True
    >>> multinomial_log_partition_hvp(np.zeros(100_000), np.ones(100_000)).shape
    (100000,)
    """
    eta, out_eta = as_float(eta)
    v, out_v = as_float(v)
    z = _with_reference_logit(eta)
    try:
        shape = np.broadcast_shapes(eta.shape, v.shape)
    except ValueError:
        shape = None
    if shape is None or v.ndim == 0 or shape[-1] != eta.shape[-1]:
        raise ValueError(
            f"v must have the shape of eta, {eta.shape} (the k - 1 natural parameters on the "
            f"last axis), got shape {v.shape}"
        )
    phi = softmax(z, axis=-1)[..., :-1]  # the gradient of a: phi_1, ..., phi_{k-1}
    mean = np.sum(phi * v, axis=-1, keepdims=True)  # E[v^T T(y)]
    return finish(phi * (v - mean), np.result_type(out_eta, out_v))
