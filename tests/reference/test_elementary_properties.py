"""Mathematical properties and the API contract of ``autograder.reference``.

Hypothesis draws finite inputs from the ranges given in each test.  Identities are
checked with tolerances derived from the rounding they involve (stated in each test),
not with a blanket ``allclose``.  Every test runs with all floating-point exceptions
raised and warnings as errors.
"""

import math

import numpy as np
import pytest
from helpers import EPS, SMALLEST_NORMAL
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import reference as ref

pytestmark = pytest.mark.filterwarnings("error")

SETTINGS = settings(max_examples=200, deadline=None, database=None)


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"):
        yield


def reals(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def rows(lo=-50.0, hi=50.0, min_size=1, max_size=8):
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=reals(lo, hi))


def dyadic(limit=64):
    """Multiples of 2**-10 in [-limit, limit]: sums and differences of them are exact."""
    return st.integers(-limit * 1024, limit * 1024).map(lambda k: k / 1024)


def distributions(n, positive=False):
    """Probability vectors of length ``n`` (summing to 1 up to rounding).

    Weights are 0 (unless ``positive``) or in [1e-6, 1], normalised.
    """
    weight = reals(1e-6, 1.0) if positive else st.just(0.0) | reals(1e-6, 1.0)
    weights = hnp.arrays(np.float64, n, elements=weight)
    return weights.filter(lambda w: w.sum() > 0.01).map(lambda w: w / w.sum())


def assert_close(actual, desired, rtol=0.0, atol=0.0):
    """assert_allclose whose own arithmetic (rtol * |desired|) may underflow quietly."""
    with np.errstate(under="ignore"):
        np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol)


def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_errstate_and_warnings_are_strict():
    with pytest.raises(FloatingPointError):
        np.exp(np.float64(1e4))
    with pytest.raises(RuntimeWarning), np.errstate(all="warn"):
        np.log(np.float64(0.0))


# ------------------------------------------------------------------------ the sigmoid


@SETTINGS
@given(reals(-1e4, 1e4))
def test_sigmoid_symmetry(x):
    # sigma(-x) = 1 - sigma(x): each sigmoid is within 2 ulp, and 1 - sigma(x) is
    # exact for sigma(x) >= 1/2 and rounded by at most eps/4 below.
    a, b = float(ref.sigmoid(-x)), float(ref.sigmoid(x))
    assert abs(a - (1 - b)) <= 2 * (math.ulp(a) + math.ulp(b)) + EPS / 4


@SETTINGS
@given(reals(-1e4, 1e4), reals(-1e4, 1e4))
def test_sigmoid_is_monotone_in_unit_interval(a, b):
    lo, hi = min(a, b), max(a, b)
    assert 0 <= ref.sigmoid(lo) <= ref.sigmoid(hi) <= 1


@SETTINGS
@given(reals(-700, 700))
def test_sigmoid_grad_matches_central_differences(x):
    # sigma' is even; in the lower tail sigma ~ e^x has full relative accuracy, so the
    # difference quotient (h = 1e-5) is good to ~1e-10 relative, tails included.
    a = -abs(x)
    fd = central_difference(ref.sigmoid, a, 1e-5)
    assert ref.sigmoid_grad(x) == ref.sigmoid_grad(-x)
    assert_close(ref.sigmoid_grad(x), fd, rtol=1e-8, atol=0)
    # and it is sigma(x) sigma(-x), both normal numbers here: 3 roundings apart
    assert_close(ref.sigmoid_grad(x), ref.sigmoid(x) * ref.sigmoid(-x), rtol=8 * EPS, atol=0)


@SETTINGS
@given(reals(-745.13, 37.42))
def test_logit_inverts_sigmoid(x):
    """logit(sigmoid(x)) = x wherever sigmoid(x) is not rounded to 0 or 1.

    That is -745.13 < x < 37.42 in float64.  The rounding of s = sigmoid(x) (2 ulp at
    most) moves the inverse by 2 ulp(s) / sigma'(x), plus logit's own 4 ulp.
    """
    s = float(ref.sigmoid(x))
    assume(0 < s < 1)
    tol = 4 * math.ulp(s) / float(ref.sigmoid_grad(x)) + 4 * math.ulp(x)
    assert abs(float(ref.logit(s)) - x) <= tol


@SETTINGS
@given(reals(0, 1).filter(lambda p: 0 < p < 1))
def test_sigmoid_inverts_logit(p):
    # logit(p) is within 4 ulp; sigmoid moves that by sigma'(x) * 4 ulp(x), plus its 2 ulp.
    x = float(ref.logit(p))
    tol = 4 * math.ulp(x) * float(ref.sigmoid_grad(x)) + 2 * math.ulp(p)
    assert abs(float(ref.sigmoid(x)) - p) <= tol


def test_logit_domain():
    assert ref.logit(0.5) == 0.0
    assert np.all(np.isnan(ref.logit([-0.1, 1.1, np.nan])))


# ----------------------------------------------------------------------- the softplus


@SETTINGS
@given(reals(-1e4, 1e4))
def test_softplus_difference_is_identity(x):
    # softplus(x) - softplus(-x) = x, each term to a few ulp of itself.
    a, b = float(ref.softplus(x)), float(ref.softplus(-x))
    assert abs((a - b) - x) <= 4 * (math.ulp(a) + math.ulp(b))
    assert a > 0 or x < -745  # softplus(x) ~ e^x underflows only below -745


@SETTINGS
@given(reals(-1e4, 1e4))
def test_log_sigmoid_is_minus_softplus_of_minus_x(x):
    assert abs(float(ref.log_sigmoid(x) + ref.softplus(-x))) <= 2 * math.ulp(ref.softplus(-x))
    assert ref.log_sigmoid(x) <= 0


@SETTINGS
@given(reals(-700, 30))
def test_softplus_derivative_is_sigmoid(x):
    # softplus ~ e^x keeps full relative accuracy for x < 0, ~ x for x > 0.
    fd = central_difference(ref.softplus, x, 1e-5)
    assert_close(fd, ref.sigmoid(x), rtol=1e-8, atol=0)


# ------------------------------------------------------------------ softmax & company


@SETTINGS
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=dyadic()), dyadic(1000))
def test_softmax_exactly_invariant_to_exact_shifts(z, c):
    # Only z - max(z) enters, and with dyadic inputs z + c is exact: bitwise equal.
    np.testing.assert_array_equal(ref.softmax(z + c), ref.softmax(z))
    np.testing.assert_array_equal(ref.log_softmax(z + c), ref.log_softmax(z))


@SETTINGS
@given(rows(-100, 100), reals(-100, 100))
def test_softmax_invariant_to_shifts(z, c):
    # Rounding z + c and max(z) + c moves each shifted logit by eps (max|z| + |c|).
    rtol = 4 * EPS * (2 + np.max(np.abs(z)) + abs(c))
    assert_close(ref.softmax(z + c), ref.softmax(z), rtol=rtol, atol=1e-300)


@SETTINGS
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=dyadic()), dyadic(1000))
def test_logsumexp_shifts_with_the_constant(z, c):
    # logsumexp(z + c) = logsumexp(z) + c: covariant, not invariant.
    shifted, plain = float(ref.logsumexp(z + c)), float(ref.logsumexp(z))
    assert abs(shifted - (plain + c)) <= 2 * math.ulp(abs(plain) + abs(c)) + math.ulp(plain)
    if c != 0:
        assert shifted != plain


@SETTINGS
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=reals(-1e4, 1e4) | st.just(-np.inf),
    ).filter(lambda z: np.isfinite(z).any(axis=-1).all())
)
def test_softmax_rows_are_distributions(z):
    s = ref.softmax(z)
    assert s.shape == z.shape
    assert np.all((s >= 0) & (s <= 1))
    # each entry is rounded (eps/2) after a division by a rounded total, then summed
    assert np.all(np.abs(s.sum(axis=-1) - 1) <= (z.shape[-1] + 2) * EPS)
    assert np.all(s[z == -np.inf] == 0)
    assert np.all(ref.log_softmax(z)[z == -np.inf] == -np.inf)
    np.testing.assert_array_equal(ref.softmax(z.T, axis=0), s.T)


@SETTINGS
@given(rows(-1e4, 1e4, max_size=10))
def test_softmax_keeps_the_order(z):
    s = ref.softmax(z)
    z_le = z[:, None] <= z[None, :]
    assert np.all(~z_le | (s[:, None] <= s[None, :]))
    assert np.all((z[:, None] != z[None, :]) | (s[:, None] == s[None, :]))


@SETTINGS
@given(rows(-100, 100))
def test_log_softmax_is_log_of_softmax(z):
    # Where softmax is a normal number, log(s) has error <= its relative error
    # (4 + |z - m| + n/e) eps, plus the roundings of the log and of log_softmax.
    s, ls = ref.softmax(z), ref.log_softmax(z)
    normal = s >= SMALLEST_NORMAL
    tol = EPS * (8 + z.size + 2 * np.abs(ls))
    assert np.all(np.abs(np.log(s[normal]) - ls[normal]) <= tol[normal])


@SETTINGS
@given(reals(-1e4, 1e4), reals(-1e4, 1e4))
def test_two_class_softmax_is_sigmoid_of_difference(a, b):
    # Bitwise: with m = max(a, b) both compute exp(-|a - b|) and the same quotient.
    s = ref.softmax(np.array([a, b]))
    assert s[0] == ref.sigmoid(a - b)
    assert s[1] == ref.sigmoid(b - a)


@SETTINGS
@given(rows(-1e4, 1e4, max_size=10))
def test_logsumexp_between_max_and_max_plus_log_n(z):
    lse, m = float(ref.logsumexp(z)), float(np.max(z))
    bound = m + math.log(z.size)
    assert m <= lse <= bound + 2 * math.ulp(bound)


@SETTINGS
@given(rows(-20, 20, max_size=6))
def test_softmax_is_gradient_of_logsumexp(z):
    h = 1e-5
    fd = [
        central_difference(lambda t, i=i: ref.logsumexp(z + t * np.eye(z.size)[i]), 0.0, h)
        for i in range(z.size)
    ]
    assert_close(fd, ref.softmax(z), rtol=0, atol=1e-8)


@SETTINGS
@given(rows(-40, 40, max_size=6))
def test_softmax_jacobian_structure(z):
    jac, s = ref.softmax_jacobian(z), ref.softmax(z)
    np.testing.assert_array_equal(jac, jac.T)
    # rows sum to 0: s_i c_i - s_i sum_{j != i} s_j, with c_i = 1 - s_i to a few ulp
    assert np.all(np.abs(jac.sum(axis=1)) <= 4 * z.size * EPS * s)
    assert np.all(np.diag(jac) >= 0) and np.all(np.diag(jac) <= 0.25 * (1 + 4 * EPS))
    if np.max(np.abs(z)) <= 20:
        h = 1e-5
        fd = np.column_stack(
            [
                central_difference(lambda t, i=i: ref.softmax(z + t * np.eye(z.size)[i]), 0.0, h)
                for i in range(z.size)
            ]
        )
        assert_close(fd, jac, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------- losses


@st.composite
def batches(draw, soft):
    n, k = draw(st.integers(1, 3)), draw(st.integers(2, 5))
    z = draw(hnp.arrays(np.float64, (n, k), elements=reals(-20, 20)))
    if soft:
        labels = np.stack([draw(distributions(k)) for _ in range(n)])
    else:
        labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return z, labels


@SETTINGS
@given(st.booleans().flatmap(batches))
def test_cross_entropy_gradient_matches_finite_differences(batch):
    z, labels = batch
    n, k = z.shape
    grad = ref.softmax_cross_entropy_grad(z, labels)
    assert grad.shape == z.shape
    target = np.eye(k)[labels] if labels.ndim == 1 else labels
    assert_close(grad * n, ref.softmax(z) - target, rtol=0, atol=4 * EPS)
    h = 1e-5
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        bump = np.zeros_like(z)
        bump[idx] = 1.0
        fd[idx] = central_difference(
            lambda t, b=bump: ref.softmax_cross_entropy(z + t * b, labels), 0.0, h
        )
    assert_close(fd, grad, rtol=0, atol=1e-8)


@SETTINGS
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(distributions(n), distributions(n, positive=True))
    )
)
def test_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    h_pq, h_p, kl = ref.cross_entropy(p, q), ref.cross_entropy(p, p), ref.kl_divergence(p, q)
    # every term of the three sums is accurate to a few ulp of its own size
    assert abs(h_pq - (h_p + kl)) <= 8 * p.size * EPS * (h_pq + h_p)


@SETTINGS
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(distributions(n), distributions(n))))
def test_kl_is_nonnegative_and_zero_only_at_p_equals_q(pq):
    p, q = pq
    assert ref.kl_divergence(p, p) == 0
    kl = ref.kl_divergence(p, q)
    l1 = np.sum(np.abs(p - q))
    # Pinsker: KL >= ||p - q||_1^2 / 2, up to rounding (and the inexact sums of p, q)
    assert kl >= l1**2 / 2 - 8 * p.size * EPS
    if l1 > 1e-6:
        assert kl > 0


@SETTINGS
@given(
    hnp.arrays(np.float64, st.integers(1, 6), elements=reals(-1e4, 1e4)),
    st.data(),
)
def test_binary_cross_entropy_is_two_class_softmax_cross_entropy(z, data):
    y = data.draw(
        hnp.arrays(np.float64, z.shape, elements=reals(0, 1)) | st.just((z > 0).astype(int))
    )
    bce = ref.binary_cross_entropy_with_logits(z, y)
    logits = np.column_stack([z, np.zeros_like(z)])
    if y.dtype.kind == "i":
        ce = ref.softmax_cross_entropy(logits, 1 - y)  # label 1 is class 0
    else:
        ce = ref.softmax_cross_entropy(logits, np.column_stack([y, 1 - y]))
    assert_close(bce, ce, rtol=1e-14, atol=0)


# ------------------------------------------------------------------ the API contract

ELEMENTWISE = [ref.sigmoid, ref.sigmoid_grad, ref.logit, ref.softplus, ref.log_sigmoid]
ROWWISE = [ref.softmax, ref.log_softmax, ref.logsumexp]


@pytest.mark.parametrize("func", ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_dtypes_and_shapes(func):
    assert func(np.zeros((2, 3), dtype=np.float32)).dtype == np.float32
    assert func(np.zeros((2, 3))).dtype == np.float64
    assert func(np.zeros((2, 3), dtype=np.int32)).dtype == np.float64
    assert func(np.array([True, False])).dtype == np.float64
    assert func(np.zeros((2, 3, 4))).shape == (2, 3, 4)
    for scalar, dtype in [(0, np.float64), (0.25, np.float64), (np.float32(0.25), np.float32)]:
        out = func(scalar)
        assert isinstance(out, np.floating) and out.dtype == dtype and out.shape == ()
    assert func([0.25, 0.5]).shape == (2,)


@pytest.mark.parametrize("func", [*ROWWISE, ref.softmax_jacobian], ids=lambda f: f.__name__)
def test_vector_dtypes_and_shapes(func):
    z32 = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert func(z32).dtype == np.float32
    assert func([1, 2, 3]).dtype == np.float64
    with pytest.raises(ValueError, match=r"at least one dimension|1-D"):
        func(1.0)
    if func is not ref.softmax_jacobian:
        batch = np.zeros((4, 3, 5))
        expected = (4, 3) if func is ref.logsumexp else (4, 3, 5)
        assert func(batch).shape == expected
        assert func(batch, axis=1).shape == ((4, 5) if func is ref.logsumexp else (4, 3, 5))


def test_softmax_jacobian_wants_a_vector():
    with pytest.raises(ValueError, match="1-D"):
        ref.softmax_jacobian(np.zeros((2, 3)))


def test_loss_dtypes():
    z32 = np.array([[1.0, 2.0], [0.0, -1.0]], dtype=np.float32)
    labels = np.array([0, 1])
    for loss in (
        ref.softmax_cross_entropy(z32, labels),
        ref.binary_cross_entropy_with_logits(z32, np.ones((2, 2))),
    ):
        assert isinstance(loss, np.float32)
    assert ref.softmax_cross_entropy_grad(z32, labels).dtype == np.float32
    assert isinstance(ref.softmax_cross_entropy([[1, 2]], [1]), np.float64)
    assert isinstance(ref.cross_entropy([0.5, 0.5], [0.5, 0.5]), np.float64)
    p32 = np.array([0.5, 0.5], dtype=np.float32)
    assert ref.cross_entropy(p32, p32).dtype == np.float32
    assert ref.kl_divergence(p32, p32).dtype == np.float32
    assert ref.cross_entropy(p32, [0.5, 0.5]).dtype == np.float64


def test_labels_are_checked():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\)"):
        ref.softmax_cross_entropy(np.zeros(4), [1])
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\)"):
        ref.softmax_cross_entropy(np.zeros((0, 4)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match=r"must have shape \(N,\) = \(3,\)"):
        ref.softmax_cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match=r"in \[0, K\) = \[0, 4\)"):
        ref.softmax_cross_entropy(z, [0, 1, 4])
    with pytest.raises(ValueError, match=r"in \[0, K\) = \[0, 4\)"):
        ref.softmax_cross_entropy_grad(z, [0, -1, 2])
    with pytest.raises(ValueError, match=r"probability rows .* \(N, K\) = \(3, 4\)"):
        ref.softmax_cross_entropy(z, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="integer class indices"):
        ref.softmax_cross_entropy(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match="same shape"):
        ref.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one element"):
        ref.binary_cross_entropy_with_logits(np.zeros(0), np.zeros(0))


# --------------------------------------------------- extreme inputs: no NaN, no warning


def extreme_x(dtype):
    big = float(np.finfo(dtype).max)
    x = [0.0, 1e-300, 1e-45, 1e-8, 1.0, 36.0, 40.0, 88.0, 104.0, 710.0, 745.0, 1e4, big, np.inf]
    x = np.array(x, dtype=dtype)
    return np.concatenate([-x, x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("func", ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_extremes_are_quiet(func, dtype):
    if func is ref.logit:
        x = np.array([0.0, 1e-300, 1e-45, 0.5, 1 - 1e-16, 1 - 2**-24, 1.0], dtype=dtype)
    else:
        x = extreme_x(dtype)
    y = func(x)  # raises on any floating-point warning
    assert not np.any(np.isnan(y))


def test_elementwise_limits():
    x = np.array([-np.inf, -1e4, 1e4, np.inf])
    np.testing.assert_array_equal(ref.sigmoid(x), [0, 0, 1, 1])
    np.testing.assert_array_equal(ref.sigmoid_grad(x), [0, 0, 0, 0])
    np.testing.assert_array_equal(ref.softplus(x), [0, 0, 1e4, np.inf])
    np.testing.assert_array_equal(ref.log_sigmoid(x), [-np.inf, -1e4, 0, 0])
    np.testing.assert_array_equal(ref.logit([0.0, 1.0]), [-np.inf, np.inf])


EXTREME_ROWS = [
    [-np.inf, 0.0, 1.0],
    [1e4, -1e4],
    [1e4, 1e4],
    [-1e4, -1e4, -1e4],
    [-np.inf, 5.0],
    [-745.0, 0.0, 745.0],
    ["max", "-max"],  # the largest float of the dtype and its negative
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", EXTREME_ROWS, ids=str)
def test_vector_extremes_are_quiet(row, dtype):
    big = float(np.finfo(dtype).max)
    z = np.array([{"max": big, "-max": -big}.get(v, v) for v in row], dtype=dtype)
    s, ls, lse = ref.softmax(z), ref.log_softmax(z), ref.logsumexp(z)
    jac = ref.softmax_jacobian(z)
    for out in (s, ls, lse, jac):
        assert not np.any(np.isnan(out))
    assert np.all(s[z == -np.inf] == 0) and np.all(ls[z == -np.inf] == -np.inf)
    assert lse >= np.max(z)
    if np.max(np.abs(z[np.isfinite(z)])) > 1e4:
        return  # log_softmax -2 * big is -inf, and a loss weighing it is inf
    labels = np.array([int(np.argmax(z))])
    assert np.isfinite(ref.softmax_cross_entropy(z[None, :], labels))
    assert not np.any(np.isnan(ref.softmax_cross_entropy_grad(z[None, :], labels)))
    soft = np.where(z == -np.inf, 0.0, 1.0)[None, :]
    soft /= soft.sum()
    assert np.isfinite(ref.softmax_cross_entropy(z[None, :], soft))
    assert not np.any(np.isnan(ref.softmax_cross_entropy_grad(z[None, :], soft)))


def test_minus_inf_rows():
    np.testing.assert_array_equal(ref.softmax([-np.inf, 0.0, 1.0])[0], 0.0)
    assert ref.log_softmax([-np.inf, 0.0, 1.0])[0] == -np.inf
    assert ref.logsumexp([-np.inf, -np.inf]) == -np.inf
    # a row with no finite maximum has no softmax: NaN, quietly
    assert np.all(np.isnan(ref.softmax([-np.inf, -np.inf])))
    assert np.all(np.isnan(ref.softmax([np.inf, 0.0])))


def test_label_on_minus_inf_logit_gives_infinite_loss():
    z = np.array([[-np.inf, 0.0, 1.0], [0.0, 1.0, 2.0]])
    assert ref.softmax_cross_entropy(z, [0, 2]) == np.inf
    assert ref.softmax_cross_entropy(z, np.array([[0.5, 0.5, 0], [0, 0, 1.0]])) == np.inf
    assert np.isfinite(ref.softmax_cross_entropy(z, [1, 2]))
    assert np.isfinite(ref.softmax_cross_entropy(z, np.array([[0, 0.5, 0.5], [0, 0, 1.0]])))
    grad = ref.softmax_cross_entropy_grad(z, [0, 2])
    assert np.all(np.isfinite(grad))
    assert ref.binary_cross_entropy_with_logits([-np.inf, 0.0], [1.0, 0.5]) == np.inf
    assert ref.binary_cross_entropy_with_logits([-np.inf, np.inf], [0.0, 1.0]) == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_losses_at_extremes_are_quiet(dtype):
    z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0]], dtype=dtype)
    assert ref.softmax_cross_entropy(z, [0, 0, 1]) == pytest.approx(1e4 / 3 * 2 + np.log(2) / 3)
    zb = np.array([1e4, -1e4, 0.0, 3e38, -3e38], dtype=dtype)
    for y in (np.zeros(5), np.ones(5), np.full(5, 0.5)):
        assert np.isfinite(ref.binary_cross_entropy_with_logits(zb, y))


def test_zero_log_zero_is_zero():
    assert ref.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0
    assert ref.kl_divergence([0.0, 1.0], [0.0, 1.0]) == 0
    assert ref.kl_divergence([0.0, 1.0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert ref.cross_entropy([1.0, 0.0], [0.0, 1.0]) == np.inf
    assert ref.kl_divergence([1.0, 0.0], [0.0, 1.0]) == np.inf
    assert ref.kl_divergence([1.0, 0.0], [1.0, 5e-324]) == 0
    assert np.isfinite(ref.kl_divergence([0.5, 0.5], [1.0, 5e-324]))
