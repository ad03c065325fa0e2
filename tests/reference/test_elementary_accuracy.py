"""Accuracy of ``autograder.reference`` against 50-digit mpmath, and agreement with peers.

Every check runs with all floating-point exceptions raised and warnings as errors.
The bars are the ones the module documents:

* elementwise functions: within 4 ulp of the exact value, entry by entry, in float64
  and in float32;
* softmax-type functions: max |error| <= 16 eps * max |exact entry|;
* losses: relative error <= 1e-14.

Each bar is tight enough that the textbook formula fails it (see the comments of the
saturated cases).
"""

import math

import mpmath
import numpy as np
import pytest
from scipy import special

from autograder import reference as ref

pytestmark = pytest.mark.filterwarnings("error")

MAX_ULP = 4
VECTOR_EPS_FACTOR = 16
LOSS_RTOL = 1e-14


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"), mpmath.workdps(50):
        yield


# ------------------------------------------------------------------ measuring errors

mpf = mpmath.mpf


def ulp(exact, dtype=np.float64):
    """The unit in the last place of the real number ``exact`` in the format ``dtype``.

    ``2**(e - p)`` for ``2**(e-1) <= |exact| < 2**e`` with ``p`` significand bits,
    but never below the spacing of the subnormals (which is also the ulp of 0).
    Computed exactly with mpmath, so it does not depend on how ``exact`` rounds.
    """
    fi = np.finfo(dtype)
    subnormal_exp = fi.minexp - fi.nmant  # -1074 for float64, -149 for float32
    if exact == 0:
        return mpf(2) ** subnormal_exp
    _, e = mpmath.frexp(exact)  # |exact| = f * 2**e with 1/2 <= f < 1
    return mpf(2) ** max(e - 1 - fi.nmant, subnormal_exp)


def ulp_error(got, exact, dtype=np.float64):
    """``|got - exact| / ulp(exact)``; 0 for matching infinities, inf for NaN."""
    got = float(got)
    if math.isnan(got):
        return math.inf
    if math.isinf(got):  # right only if exact rounds to this infinity
        right = mpmath.sign(exact) == math.copysign(1, got) and abs(exact) > np.finfo(dtype).max
        return 0.0 if right else math.inf
    if mpmath.isinf(exact):
        return math.inf
    return float(abs(mpf(got) - exact) / ulp(exact, dtype))


def assert_ulp(func, inputs, exact_fn, dtype=np.float64, max_ulp=MAX_ULP):
    """``func(inputs)`` within ``max_ulp`` of ``exact_fn`` entry by entry, in ``dtype``."""
    x = np.asarray(inputs, dtype=dtype)
    got = func(x)
    assert got.dtype == dtype
    exact = [exact_fn(mpf(float(xi))) for xi in x]
    errors = np.array([ulp_error(g, e, dtype) for g, e in zip(got, exact, strict=True)])
    bad = np.flatnonzero(errors > max_ulp)
    worst = int(np.argmax(errors))
    assert bad.size == 0, (
        f"{func.__name__} is off by more than {max_ulp} ulp ({np.dtype(dtype).name}) at "
        f"{bad.size} of {x.size} points; worst: {func.__name__}({x[worst]!r}) = "
        f"{got[worst]!r}, exact {mpmath.nstr(exact[worst], 20)}, error {errors[worst]:.3g} ulp"
    )
    return errors.max()


def as_mp(values):
    return [mpf(float(v)) for v in np.ravel(values)]


def assert_scaled(got, exact, dtype=np.float64, factor=VECTOR_EPS_FACTOR, what=""):
    """max |got - exact| <= factor * (eps * max |exact| + smallest subnormal).

    Over the finite exact entries; infinite ones must be matched exactly.  The
    subnormal term only matters when the exact entries are themselves below the
    normal range (e.g. 1e-8686 for [1e4, -1e4]): no float lies closer to them.
    ``exact`` is a nested list of mpmath numbers with the shape of ``got``.
    """
    got = np.asarray(got)
    flat_exact = list(np.array(exact, dtype=object).ravel())
    flat_got = got.ravel()
    assert got.dtype == dtype
    for g, e in zip(flat_got, flat_exact, strict=True):
        if mpmath.isinf(e):
            assert g == float(e), f"{what}: got {g!r} where the exact value is {e}"
        else:
            assert np.isfinite(g), f"{what}: got {g!r} where the exact value is {e}"
    finite = [
        (float(g), e) for g, e in zip(flat_got, flat_exact, strict=True) if not mpmath.isinf(e)
    ]
    scale = max((abs(e) for _, e in finite), default=mpf(0))
    errors = [abs(mpf(g) - e) for g, e in finite]
    worst = int(np.argmax([float(err) for err in errors])) if errors else 0
    fi = np.finfo(dtype)
    bound = factor * (mpf(float(fi.eps)) * scale + mpf(float(fi.smallest_subnormal)))
    if errors and errors[worst] > bound:
        ratio = errors[worst] / (mpf(float(np.finfo(dtype).eps)) * scale) if scale else math.inf
        pytest.fail(
            f"{what}: max error {mpmath.nstr(errors[worst], 3)} = {mpmath.nstr(ratio, 3)} "
            f"eps * max|exact| (bar {factor}); entry got {finite[worst][0]!r}, "
            f"exact {mpmath.nstr(finite[worst][1], 20)}"
        )


def test_ulp_helper():
    one = mpf(1)
    assert ulp(one) == mpf(2) ** -52
    assert ulp(mpf(0.75)) == mpf(2) ** -53
    assert ulp_error(np.nextafter(1.0, 2.0), one) == 1.0
    assert ulp_error(np.nextafter(1.0, 0.0), one) == 0.5  # below 1 the spacing halves
    assert ulp(mpf(0)) == mpf(2) ** -1074 == ulp(mpf(1e-320))
    assert ulp_error(0.0, mpf(10) ** -4000) == 0.0  # rounds to 0: no error worth an ulp
    assert ulp_error(5e-324, mpf(0)) == 1.0
    assert ulp(one, np.float32) == mpf(2) ** -23
    assert ulp_error(np.float32(1e-45), mpf(0), np.float32) == 1.0
    assert ulp_error(math.inf, mpmath.inf) == 0.0
    assert ulp_error(-math.inf, mpmath.inf) == math.inf
    assert ulp_error(math.nan, one) == math.inf
    assert ulp_error(math.inf, mpf(10) ** 400) == 0.0


# ------------------------------------------------------------- exact reference values


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def mp_sigmoid_grad(x):
    t = mpmath.exp(-abs(x))
    return t / (1 + t) ** 2


def mp_logit(p):
    if p == 0:
        return -mpmath.inf
    if p == 1:
        return mpmath.inf
    return mpmath.log(p / (1 - p))  # 1 - p is exact at 50 digits


def mp_softplus(x):
    return mpmath.log1p(mpmath.exp(x))


def mp_log_sigmoid(x):
    return -mpmath.log1p(mpmath.exp(-x))


def mp_row(z):
    """Shifted exponentials of one row: (m, e_j = exp(z_j - m), sum of e) in mpmath."""
    z = as_mp(z)
    m = max(z)
    e = [mpmath.exp(zj - m) for zj in z]
    return z, m, e, mpmath.fsum(e)


def mp_logsumexp(z):
    z, m, e, _ = mp_row(z)
    if m == -mpmath.inf:
        return m
    # log1p of the sum of the other terms: at 50 digits, log(1 + 1e-40) would not do.
    k = z.index(m)
    return m + mpmath.log1p(mpmath.fsum(e[:k] + e[k + 1 :]))


def mp_softmax(z):
    _, _, e, total = mp_row(z)
    return [ej / total for ej in e]


def mp_log_softmax(z):
    z, m, e, _ = mp_row(z)
    k = z.index(m)
    log_total = mpmath.log1p(mpmath.fsum(e[:k] + e[k + 1 :]))
    return [zj - m - log_total for zj in z]


def mp_one_minus_softmax(z):
    """1 - s_i as the share of the other entries: no cancellation, even at 50 digits."""
    _, _, e, total = mp_row(z)
    return [mpmath.fsum(e[:i] + e[i + 1 :]) / total for i in range(len(e))]


def mp_softmax_jacobian(z):
    s = mp_softmax(z)
    c = mp_one_minus_softmax(z)
    n = len(s)
    return [[s[i] * c[i] if i == j else -s[i] * s[j] for j in range(n)] for i in range(n)]


def mp_grad_rows(z, y):
    """(softmax(z) - y) / N with s_k - y_k = s_k (1 - y_k) - y_k (1 - s_k), exactly."""
    n = len(z)
    rows = []
    for zr, yr in zip(z, y, strict=True):
        s, c, yr = mp_softmax(zr), mp_one_minus_softmax(zr), as_mp(yr)
        rows.append([(sk * (1 - yk) - yk * ck) / n for sk, ck, yk in zip(s, c, yr, strict=True)])
    return rows


def mp_xlog(a, b):
    """a * log(b) with 0 log(anything) = 0."""
    return mpf(0) if a == 0 else (a * mpmath.log(b) if b != 0 else -mpmath.inf)


def mp_cross_entropy(p, q):
    return -mpmath.fsum(mp_xlog(pi, qi) for pi, qi in zip(as_mp(p), as_mp(q), strict=True))


def mp_kl(p, q):
    return mpmath.fsum(
        mpf(0) if pi == 0 else (pi * mpmath.log(pi / qi) if qi != 0 else mpmath.inf)
        for pi, qi in zip(as_mp(p), as_mp(q), strict=True)
    )


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


def mp_softmax_cross_entropy(z, y):
    z = np.asarray(z, dtype=float)
    if np.asarray(y).dtype.kind in "iu":
        y = one_hot(y, z.shape[1])
    losses = [
        -mpmath.fsum(
            mpf(0) if yk == 0 else yk * lk
            for yk, lk in zip(as_mp(yr), mp_log_softmax(zr), strict=True)
        )
        for zr, yr in zip(z, y, strict=True)
    ]
    return mpmath.fsum(losses) / len(losses)


def mp_bce(z, y):
    terms = []
    for zi, yi in zip(as_mp(z), as_mp(y), strict=True):
        # -log sigma(z) = log1p(exp(-z)), -log(1 - sigma(z)) = log1p(exp(z))
        pos = mpf(0) if yi == 0 else yi * mpmath.log1p(mpmath.exp(-zi))
        neg = mpf(0) if yi == 1 else (1 - yi) * mpmath.log1p(mpmath.exp(zi))
        terms.append(pos + neg)
    return mpmath.fsum(terms) / len(terms)


def assert_rel(got, exact, rtol=LOSS_RTOL, what=""):
    got = float(got)
    if mpmath.isinf(exact):
        assert got == float(exact), f"{what}: got {got!r}, exact {exact}"
        return
    err = abs(mpf(got) - exact) / abs(exact) if exact != 0 else abs(mpf(got))
    assert err <= rtol, (
        f"{what}: got {got!r}, exact {mpmath.nstr(exact, 20)}, relative error "
        f"{mpmath.nstr(err, 3)} > {rtol}"
    )


# -------------------------------------------------------------- elementwise functions

SPECIAL_X = [0.0, 5e-324, 1e-300, 1e-8, 1.0, 20.0, 36.0, 40.0, 700.0, 710.0, 745.0, 1e4]
X64 = np.unique(
    np.concatenate(
        [
            SPECIAL_X,
            np.geomspace(1e-300, 1e4, 1200),
            np.linspace(0, 50, 401),
            np.random.default_rng(20240601).uniform(0, 40, 400),
        ]
    )
)
X64 = np.concatenate([-X64[::-1], X64])

SPECIAL_X32 = [0.0, 1e-45, 1e-38, 1e-8, 1.0, 16.0, 17.0, 20.0, 40.0, 88.0, 89.0, 104.0, 1e4]
X32 = np.unique(np.concatenate([SPECIAL_X32, np.geomspace(1e-38, 1e4, 500)]).astype(np.float32))
X32 = np.concatenate([-X32[::-1], X32])

ELEMENTWISE = [
    (ref.sigmoid, mp_sigmoid),
    (ref.sigmoid_grad, mp_sigmoid_grad),
    (ref.softplus, mp_softplus),
    (ref.log_sigmoid, mp_log_sigmoid),
]


@pytest.mark.parametrize(("func", "exact_fn"), ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_float64_within_4_ulp(func, exact_fn):
    assert_ulp(func, X64, exact_fn)


@pytest.mark.parametrize(("func", "exact_fn"), ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_float32_within_4_ulp(func, exact_fn):
    assert_ulp(func, X32, exact_fn, dtype=np.float32)


def logit_grid(dtype):
    fi = np.finfo(dtype)
    x = X64 if dtype == np.float64 else X32
    p = np.concatenate(
        [
            ref.sigmoid(x.astype(dtype)),
            # the neighbours of 1/2 (0.5 + 2**-53 and 0.5 - 2**-54 in float64) and beyond
            0.5 + np.geomspace(fi.epsneg, 0.2, 300),
            0.5 - np.geomspace(fi.epsneg / 2, 0.2, 300),
            [0.0, 1.0, 0.25, 0.75, fi.smallest_subnormal, fi.tiny, 1e-8, 1 - fi.epsneg],
            [np.nextafter(dtype(0.25), dtype(0)), np.nextafter(dtype(0.25), dtype(1))],
            np.random.default_rng(7).uniform(0, 1, 1000),
        ]
    ).astype(dtype)
    if dtype == np.float64:
        p = np.concatenate([p, [1e-300]])
    return np.unique(p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logit_within_4_ulp(dtype):
    p = logit_grid(dtype)
    half = np.asarray(0.5, dtype=dtype)
    neighbours = {np.nextafter(half, dtype(1)), np.nextafter(half, dtype(0))}
    assert {0.0, 0.25, 0.5, 0.75, 1.0} | neighbours <= set(p.tolist())
    assert_ulp(ref.logit, p, mp_logit, dtype=dtype)


def test_logit_endpoints_are_infinite():
    assert ref.logit(0.0) == -np.inf
    assert ref.logit(1.0) == np.inf
    assert ref.logit(np.float32(1.0)) == np.inf


# ------------------------------------------------------------------ vector functions

# Saturated rows and rows whose softmax has entries far below eps.  With the textbook
# formulas: s - s**2 is off by ~1e-16 for J[0, 0] = 2.3e-16 at [36, 0];
# z - logsumexp(z) keeps the rounding error of logsumexp (1.8e-12 at 1e4) in a result
# of order 1 at [1e4, 1e4]; softmax - onehot loses 1 - s_y entirely at [40, 0, -40].
VECTOR_CASES = {
    "[36, 0]": [36.0, 0.0],
    "[0, 36]": [0.0, 36.0],
    "[40, 0, -40]": [40.0, 0.0, -40.0],
    "[1e4, 1e4]": [1e4, 1e4],
    "[1e4, -1e4]": [1e4, -1e4],
    "[1e4, 1e4 - 1]": [1e4, 1e4 - 1.0],
    "[-1e4, 0, 1e4]": [-1e4, 0.0, 1e4],
    "[-inf, 0, 1]": [-np.inf, 0.0, 1.0],
    "[-inf, -inf, 3]": [-np.inf, -np.inf, 3.0],
    "[0, -40]": [0.0, -40.0],
    "[-745, 0]": [-745.0, 0.0],
    "[-0.5, -0.5]": [-0.5, -0.5],
    "[1, 2, 3]": [1.0, 2.0, 3.0],
    "[7]": [7.0],
}
_rng = np.random.default_rng(12345)
for _i, (_n, _scale) in enumerate([(2, 1), (3, 10), (5, 1), (5, 30), (10, 3), (10, 100)] * 2):
    VECTOR_CASES[f"random{_i}(n={_n}, scale={_scale})"] = list(_rng.normal(0, _scale, _n))
del _rng, _i, _n, _scale

CASE_IDS = list(VECTOR_CASES)


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_accuracy(case, dtype):
    z = np.asarray(VECTOR_CASES[case], dtype=dtype)
    assert_scaled(ref.softmax(z), mp_softmax(z), dtype, what=f"softmax({case})")


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_accuracy(case, dtype):
    z = np.asarray(VECTOR_CASES[case], dtype=dtype)
    assert_scaled(ref.log_softmax(z), mp_log_softmax(z), dtype, what=f"log_softmax({case})")


def shift_condition(z):
    """sum_j s_j |z_j - max z|: what rounding the shifts z_j - max z costs, in eps."""
    s = mp_softmax(z)
    m = mpf(float(np.max(z)))
    return mpmath.fsum(sj * abs(zj - m) for sj, zj in zip(s, as_mp(z), strict=True) if sj != 0)


@pytest.mark.parametrize("case", CASE_IDS)
def test_log_softmax_entrywise(case):
    """Stronger than the bar: every entry to 4 ulp of itself, plus the shift condition.

    The rounding of z_j - max z changes log_softmax by about eps * sum_j s_j |z_j - m|,
    as much as rounding z itself would: that term is the problem's, not the formula's.
    """
    z = np.asarray(VECTOR_CASES[case])
    got, exact = ref.log_softmax(z), mp_log_softmax(z)
    extra = 4 * mpf(float(np.finfo(float).eps)) * shift_condition(z)
    for g, e in zip(got, exact, strict=True):
        if mpmath.isinf(e):
            assert g == -np.inf
            continue
        allowed = MAX_ULP * ulp(e) + extra
        assert abs(mpf(float(g)) - e) <= allowed, (
            f"log_softmax({case}) entry {g!r}, exact {mpmath.nstr(e, 20)}: "
            f"{ulp_error(g, e):.3g} ulp, allowed {float(allowed / ulp(e)):.3g}"
        )


@pytest.mark.parametrize("case", CASE_IDS)
def test_softmax_entrywise_relative_error(case):
    """Each entry, however tiny, to (4 + |z_i - m| + sum_j s_j |z_j - m|) eps of itself.

    The |z - m| parts are the rounding of the shifts z - m, i.e. the condition number
    of exp: moving z_i by one ulp changes s_i by as much.
    """
    z = np.asarray(VECTOR_CASES[case])
    got = ref.softmax(z)
    eps = np.finfo(float).eps
    cond = float(shift_condition(z))
    for zi, g, e in zip(z, got, mp_softmax(z), strict=True):
        if e < np.finfo(float).tiny:  # zero or subnormal: covered by the absolute bar
            continue
        rel = float(abs(mpf(float(g)) - e) / e) / eps
        allowed = 4 + abs(zi - z.max()) + cond
        assert rel <= allowed, f"softmax({case}) entry {g!r}: {rel:.3g} eps > {allowed:.3g}"


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_jacobian_accuracy(case, dtype):
    z = np.asarray(VECTOR_CASES[case], dtype=dtype)
    jac = ref.softmax_jacobian(z)
    assert jac.shape == (z.size, z.size)
    assert_scaled(jac, mp_softmax_jacobian(z), dtype, what=f"softmax_jacobian({case})")


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsumexp_within_4_ulp(case, dtype):
    """A few ulp of the exact value, or of |max z| when a negative max cancels log1p."""
    z = np.asarray(VECTOR_CASES[case], dtype=dtype)
    got = ref.logsumexp(z)
    assert got.dtype == dtype and got.shape == ()
    exact = mp_logsumexp(z)
    scale = max(abs(exact), abs(mpf(float(np.max(z)))))
    error = ulp_error(got, exact, dtype) * float(ulp(exact, dtype) / ulp(scale, dtype))
    assert error <= MAX_ULP, (
        f"logsumexp({case}) = {got!r}, exact {mpmath.nstr(exact, 20)}: {error:.3g} ulp"
    )


def test_logsumexp_is_relative_accurate_where_it_is_small():
    # log(1 + 4.2e-18) would round to 0; log1p keeps every digit.
    got = ref.logsumexp([0.0, -40.0])
    assert ulp_error(got, mp_logsumexp([0.0, -40.0])) <= 1


def hard_and_soft_labels(k, rng):
    yield "class0", np.zeros(1, dtype=np.int64)
    yield f"class{k - 1}", np.full(1, k - 1, dtype=np.int64)
    yield "onehot-float", one_hot([0], k).astype(float)
    soft = rng.dirichlet(np.ones(k))[None, :]
    yield "soft", soft


@pytest.mark.parametrize("case", CASE_IDS)
def test_softmax_cross_entropy_grad_accuracy(case):
    z = np.asarray(VECTOR_CASES[case])[None, :]
    rng = np.random.default_rng(99)
    for name, labels in hard_and_soft_labels(z.shape[1], rng):
        y = one_hot(labels, z.shape[1]) if labels.dtype.kind == "i" else labels
        got = ref.softmax_cross_entropy_grad(z, labels)
        assert_scaled(got, mp_grad_rows(z, y), what=f"grad({case}, {name})")


def test_softmax_cross_entropy_grad_batch_accuracy():
    rng = np.random.default_rng(5)
    z = np.vstack([rng.normal(0, 3, (6, 4)), [[40.0, 0.0, -40.0, 1.0]], [[1e4, 0, 0, -1e4]]])
    labels = np.array([0, 1, 2, 3, 3, 1, 0, 0])
    exact = mp_grad_rows(z, one_hot(labels, 4))
    assert_scaled(ref.softmax_cross_entropy_grad(z, labels), exact, what="hard batch")
    soft = rng.dirichlet(np.ones(4), size=8)
    exact = mp_grad_rows(z, soft)
    assert_scaled(ref.softmax_cross_entropy_grad(z, soft), exact, what="soft batch")


# ---------------------------------------------------------------------------- losses


def distribution_pairs():
    rng = np.random.default_rng(2024)
    for i in range(6):
        k = [2, 3, 5, 10, 4, 7][i]
        yield f"dirichlet{i}", rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k) * 0.5)
    yield "onehot vs tiny", np.array([0.0, 1.0, 0.0]), np.array([1 - 1e-12, 1e-12, 0.0])
    yield "far apart", np.array([1.0, 0.0]), np.array([1e-300, 1.0])
    yield "subnormal q", np.array([0.5, 0.5]), np.array([1.0, 5e-324])
    yield "near one", np.array([1 - 2**-40, 2**-40]), np.array([0.5, 0.5])
    yield "ratio near one", np.array([1.0, 0.0]), np.array([1 - 1 / 65, 1 / 65])
    yield "zeros in p", np.array([0.0, 0.3, 0.7, 0.0]), np.array([0.25, 0.25, 0.25, 0.25])


@pytest.mark.parametrize(("name", "p", "q"), list(distribution_pairs()))
def test_cross_entropy_and_kl_accuracy(name, p, q):
    assert_rel(ref.cross_entropy(p, q), mp_cross_entropy(p, q), what=f"H({name})")
    assert_rel(ref.kl_divergence(p, q), mp_kl(p, q), what=f"KL({name})")


def test_kl_divergence_with_ratios_near_one_within_4_ulp():
    # KL([1, 0] || [q, 1 - q]) = -log q: log(1 / q) would carry the rounding of 1 / q
    # (eps/2 absolute) into a result of size 1 - q; log1p((p - q) / q) does not.
    q = np.concatenate([1 - np.geomspace(2**-50, 0.5, 200), 1 + np.geomspace(2**-50, 1.0, 50)])
    for qi in q:
        p_row, q_row = np.array([1.0, 0.0]), np.array([qi, 1 - qi if qi < 1 else 0.0])
        exact = -mpmath.log(mpf(qi))
        got = ref.kl_divergence(p_row, q_row)
        assert ulp_error(got, exact) <= MAX_ULP, f"KL at q = {qi!r}: {ulp_error(got, exact)} ulp"


@pytest.mark.parametrize("delta", [1e-3, 1e-6, 1e-9, 1e-12])
def test_kl_divergence_of_nearly_equal_distributions(delta):
    """Within 8 eps * sum_i |p_i log(p_i / q_i)|: the conditioning of KL near p = q.

    KL is then of order delta**2 while its terms are of order delta, so a relative
    bar cannot hold; the absolute one is what rounding the inputs alone would cost.
    """
    p = np.array([0.3, 0.2, 0.5])
    q = p + np.array([delta, -2 * delta, delta])
    exact = mp_kl(p, q)
    scale = mpmath.fsum(
        abs(pi * mpmath.log(pi / qi)) for pi, qi in zip(as_mp(p), as_mp(q), strict=True)
    )
    got = ref.kl_divergence(p, q)
    assert got > 0
    assert abs(mpf(float(got)) - exact) <= 8 * mpf(float(np.finfo(float).eps)) * scale


def test_cross_entropy_and_kl_reduce_the_axis():
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(4), size=(2, 3)), rng.dirichlet(np.ones(4), size=(2, 3))
    h, kl = ref.cross_entropy(p, q), ref.kl_divergence(p, q)
    assert h.shape == kl.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        assert_rel(h[idx], mp_cross_entropy(p[idx], q[idx]))
        assert_rel(kl[idx], mp_kl(p[idx], q[idx]))
    h0 = ref.cross_entropy(p, q, axis=0)
    assert h0.shape == (3, 4)
    assert_rel(h0[1, 2], mp_cross_entropy(p[:, 1, 2], q[:, 1, 2]))


def loss_cases():
    rng = np.random.default_rng(77)
    for scale in (1.0, 10.0):
        z = rng.normal(0, scale, (5, 4))
        yield f"random(scale={scale}) hard", z, rng.integers(0, 4, 5)
        yield f"random(scale={scale}) soft", z, rng.dirichlet(np.ones(4), 5)
    z = np.array([[36.0, 0.0, 0.0], [40.0, 0.0, -40.0], [1e4, 1e4, 0.0], [1e4, -1e4, 0.0]])
    yield "saturated, label on max", z, np.array([0, 0, 1, 0])
    yield "saturated, label off max", z, np.array([1, 2, 2, 1])
    yield "saturated, soft", z, rng.dirichlet(np.ones(3), 4)
    yield "-inf logit", np.array([[-np.inf, 0.0, 1.0]]), np.array([1])
    yield "label on -inf logit", np.array([[-np.inf, 0.0, 1.0]]), np.array([0])
    # A nearly-correct prediction: the loss 2.3e-16 is all in the log1p term.
    yield "nearly perfect", np.array([[36.0, 0.0], [0.0, 36.0]]), np.array([0, 1])


@pytest.mark.parametrize(("name", "z", "labels"), list(loss_cases()))
def test_softmax_cross_entropy_accuracy(name, z, labels):
    got = ref.softmax_cross_entropy(z, labels)
    assert isinstance(got, np.float64)
    assert_rel(got, mp_softmax_cross_entropy(z, labels), what=name)


def bce_cases():
    rng = np.random.default_rng(8)
    yield "random hard", rng.normal(0, 3, 20), rng.integers(0, 2, 20)
    yield "random soft", rng.normal(0, 3, (4, 5)), rng.uniform(0, 1, (4, 5))
    z = np.array([-1e4, -40.0, -36.0, 0.0, 36.0, 40.0, 1e4])
    for y in (0.0, 1.0, 0.3, 0.999):
        yield f"saturated y={y}", z, np.full(z.shape, y)
    # Soft labels on large logits: z - z * y (PyTorch's form) cancels here.
    yield "soft, large logits", np.array([40.1, 100.3, 1000.7]), np.full(3, 0.999)
    # Correct and confident: every term is ~e^-40; a rounded sigmoid would give 0.
    yield "confident", np.array([40.0, -40.0]), np.array([1.0, 0.0])


@pytest.mark.parametrize(("name", "z", "y"), list(bce_cases()))
def test_binary_cross_entropy_with_logits_accuracy(name, z, y):
    got = ref.binary_cross_entropy_with_logits(z, y)
    assert isinstance(got, np.float64)
    assert_rel(got, mp_bce(z, y), what=name)


# ------------------------------------------------------------------------------ peers

PEER_RTOL = 2e-15


def test_agrees_with_scipy_elementwise():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(ref.sigmoid(x), special.expit(x), rtol=PEER_RTOL, atol=0)
    np.testing.assert_allclose(ref.log_sigmoid(x), special.log_expit(x), rtol=PEER_RTOL, atol=0)
    # scipy's logit is log(p / (1 - p)), which loses digits near p = 1/2: compare away from it.
    p = np.concatenate([np.linspace(0.001, 0.4, 300), np.linspace(0.6, 0.999, 300)])
    np.testing.assert_allclose(ref.logit(p), special.logit(p), rtol=PEER_RTOL, atol=0)


def test_agrees_with_scipy_vector():
    z = np.random.default_rng(1).normal(0, 3, (20, 6))
    np.testing.assert_allclose(ref.softmax(z), special.softmax(z, axis=-1), rtol=PEER_RTOL)
    np.testing.assert_allclose(ref.softmax(z, axis=0), special.softmax(z, axis=0), rtol=PEER_RTOL)
    np.testing.assert_allclose(ref.log_softmax(z), special.log_softmax(z, axis=-1), rtol=PEER_RTOL)
    np.testing.assert_allclose(ref.logsumexp(z), special.logsumexp(z, axis=-1), rtol=PEER_RTOL)
    np.testing.assert_allclose(
        ref.logsumexp(z, axis=0), special.logsumexp(z, axis=0), rtol=PEER_RTOL
    )


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def test_agrees_with_torch_cross_entropy(torch):
    functional = torch.nn.functional
    rng = np.random.default_rng(11)
    z = rng.normal(0, 3, (16, 5))
    labels = rng.integers(0, 5, 16)
    soft = rng.dirichlet(np.ones(5), 16)
    for target in (labels, soft):
        logits = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        loss = functional.cross_entropy(logits, torch.tensor(target))
        loss.backward()
        np.testing.assert_allclose(
            ref.softmax_cross_entropy(z, target), loss.item(), rtol=PEER_RTOL
        )
        np.testing.assert_allclose(
            ref.softmax_cross_entropy_grad(z, target),
            logits.grad.numpy(),
            rtol=1e-13,
            atol=1e-17,
        )


def test_agrees_with_torch_binary_cross_entropy(torch):
    functional = torch.nn.functional
    rng = np.random.default_rng(12)
    z = rng.normal(0, 3, (6, 7))
    for y in (rng.integers(0, 2, z.shape).astype(float), rng.uniform(0, 1, z.shape)):
        expected = functional.binary_cross_entropy_with_logits(
            torch.tensor(z, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        )
        np.testing.assert_allclose(
            ref.binary_cross_entropy_with_logits(z, y), expected.item(), rtol=PEER_RTOL
        )
