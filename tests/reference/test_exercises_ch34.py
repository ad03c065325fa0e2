"""The references of the derive-then-implement exercises of chapters 3 and 4.

``softmax_temperature_grad`` (the derivative of softmax(z / tau) in tau) and
``smoothed_cross_entropy_grad`` (the cross-entropy gradient with label smoothing kappa):
each against 50-digit mpmath on the exact float inputs, against central differences of the
function it differentiates, and on the inputs where a careless formula breaks.  Every check
runs with all floating-point exceptions raised and warnings as errors.
"""

import mpmath
import numpy as np
import pytest

from autograder import reference as ref

pytestmark = pytest.mark.filterwarnings("error")

mpf = mpmath.mpf
EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"), mpmath.workdps(50):
        yield


def central_difference(f, x, delta):
    """(f(x + delta) - f(x - delta)) / (2 delta), divided by the step actually taken."""
    up, down = x + delta, x - delta
    return (f(up) - f(down)) / (up - down)


# ----------------------------------------------------------- softmax_temperature_grad


def mp_temperature_grad(z, tau, eps=EPS, tiny=0.0):
    """d softmax(z / tau) / d tau of one row, exactly: -(q_i / tau^2) (z_i - sum_j q_j z_j).

    Masked entries (-inf) have q_i = 0 and a derivative 0.  Returns the derivative and, for
    each entry, the size of its rounding error in a format of machine epsilon ``eps`` whose
    smallest subnormal is ``tiny``.  With w = (z - max z) / tau the entry is
    -(q_i / tau) (w_i - sum_j q_j w_j).  Each q_j carries an error of eps q_j (1 + |w_j|)
    (rounding w_j is an absolute error of eps |w_j|, which exp turns into a relative one),
    or all of q_j once it underflows (min(tiny, q_j)); these reach entry i through
    (w_i - mean) / tau and through q_i w_j / tau; the result is rounded last (tiny).
    """
    tau = mpf(float(tau))
    finite = [mpf(float(v)) for v in z if np.isfinite(v)]
    m = max(finite)
    w = [(mpf(float(v)) - m) / tau if np.isfinite(v) else None for v in z]
    e = [mpmath.exp(wi) if wi is not None else mpf(0) for wi in w]
    total = mpmath.fsum(e)
    q = [ei / total for ei in e]
    eps, tiny = mpf(eps), mpf(tiny)
    err_q = [
        (eps * qj * (1 + abs(wj)) + min(tiny, qj)) if wj is not None else mpf(0)
        for qj, wj in zip(q, w, strict=True)
    ]
    pairs = [(qj, wj, ej) for qj, wj, ej in zip(q, w, err_q, strict=True) if wj is not None]
    mean = mpmath.fsum(qj * wj for qj, wj, _ in pairs)
    err_mean = mpmath.fsum(ej * abs(wj) + eps * qj * abs(wj) for qj, wj, ej in pairs)
    exact, unit = [], []
    for qi, wi, ei in zip(q, w, err_q, strict=True):
        if wi is None:
            exact.append(mpf(0))
            unit.append(mpf(0))
        else:
            exact.append(-qi * (wi - mean) / tau)
            spread = abs(wi) + abs(mean)
            unit.append((ei * spread + qi * (err_mean + eps * spread)) / tau + tiny)
    return exact, unit


def assert_temperature_grad_accurate(z, tau, dtype=np.float64, factor=16):
    z = np.asarray(z, dtype=dtype)
    got = ref.softmax_temperature_grad(z, tau)
    assert got.dtype == dtype and got.shape == z.shape
    eps = EPS32 if dtype == np.float32 else EPS
    tiny = float(np.finfo(dtype).smallest_subnormal)
    for row, row_got in zip(np.atleast_2d(z), np.atleast_2d(got), strict=True):
        # float32 input is exact in float64, so the exact answer is that of the float64 row
        exact, unit = mp_temperature_grad(row.astype(np.float64), tau, eps, tiny)
        for i, (g, e, u) in enumerate(zip(row_got, exact, unit, strict=True)):
            error = abs(mpf(float(g)) - e)
            assert error <= factor * u, (
                f"entry {i} of softmax_temperature_grad({row!r}, {tau}): got {g!r}, exact "
                f"{mpmath.nstr(e, 17)}, error {mpmath.nstr(error, 3)} = "
                f"{mpmath.nstr(error / u, 3)} units (bar {factor})"
            )


TEMPERATURE_CASES = {
    "small": ([1.0, 2.0, 3.0], 1.0),
    "two equal": ([0.0, 0.0], 2.0),
    "one class": ([-3.5], 0.7),
    "spread": ([3.0, 2.0, 1.5, 0.5, -1.0], 0.3),
    "hot": ([3.0, 2.0, 1.5, 0.5, -1.0], 1e4),
    "cold": ([3.0, 2.0, 1.5, 0.5, -1.0], 1e-3),
    "large logits": ([1000.0, 999.0, 998.0], 1.0),
    "huge logits": ([1e4, -1e4, 5e3, 9999.0], 10.0),
    "near 1e8": ([1e8, 1e8 - 1.0, 1e8 - 2.5, 1e8 - 0.25], 0.8),
    "very negative": ([-1000.0, -1001.0, -1002.0], 0.5),
    "masked": ([2.0, -np.inf, 0.5, -np.inf], 1.5),
    "ties at the top": ([2.0, 2.0, 1.0, 2.0], 0.01),
    "saturated": ([36.0, 0.0], 1.0),
    "far below": ([0.0, -800.0, -30.0], 1.0),
}


@pytest.mark.parametrize("case", sorted(TEMPERATURE_CASES))
def test_temperature_grad_float64_against_mpmath(case):
    z, tau = TEMPERATURE_CASES[case]
    assert_temperature_grad_accurate(z, tau)


@pytest.mark.parametrize("case", sorted(TEMPERATURE_CASES))
def test_temperature_grad_float32_against_mpmath(case):
    z, tau = TEMPERATURE_CASES[case]
    if np.any(np.abs(np.asarray(z)[np.isfinite(z)]) > 1e6):
        pytest.skip("logits near 1e8 are not representable to this spacing in float32")
    assert_temperature_grad_accurate(z, tau, dtype=np.float32)


def test_temperature_grad_random_rows_against_mpmath():
    rng = np.random.default_rng(20)
    for _ in range(40):
        k = int(rng.integers(1, 9))
        z = rng.normal(0.0, float(rng.choice([0.5, 3.0, 30.0, 1e3])), size=k)
        tau = float(np.exp(rng.uniform(np.log(1e-2), np.log(1e2))))
        assert_temperature_grad_accurate(z, tau)


def test_the_textbook_formula_fails_the_bar_near_1e8():
    # -(q / tau^2) (z - q.z) subtracts numbers near 1e8: spacing 1.5e-8 in an answer of order 0.1
    z, tau = np.array(TEMPERATURE_CASES["near 1e8"][0]), TEMPERATURE_CASES["near 1e8"][1]
    q = ref.softmax(z / tau)
    textbook = -(q * (z - q @ z)) / tau**2
    exact, unit = mp_temperature_grad(z, tau)
    worst = max(abs(mpf(float(t)) - e) / u for t, e, u in zip(textbook, exact, unit, strict=True))
    assert worst > 1e4  # error units: far above the bar of 16 the reference meets
    assert_temperature_grad_accurate(z, tau)


def test_temperature_grad_is_the_central_difference_in_tau():
    rng = np.random.default_rng(7)
    for _ in range(30):
        z = rng.normal(0.0, 3.0, size=int(rng.integers(2, 7)))
        tau = float(rng.uniform(0.2, 5.0))
        g = ref.softmax_temperature_grad(z, tau)
        fd = central_difference(lambda t, z=z: ref.softmax(z / t), tau, EPS ** (1 / 3) * tau)
        # truncation ~ delta^2 and rounding ~ eps / delta of entries of size 1, not of size |g|
        assert np.linalg.norm(g - fd) <= 1e-9 + 1e-8 * np.linalg.norm(g)


def test_temperature_grad_along_an_axis_and_in_batches():
    rng = np.random.default_rng(3)
    Z = rng.normal(0.0, 4.0, size=(5, 3))
    by_rows = ref.softmax_temperature_grad(Z, 0.7)
    by_columns = ref.softmax_temperature_grad(Z, 0.7, axis=0)
    for n in range(5):
        np.testing.assert_array_equal(by_rows[n], ref.softmax_temperature_grad(Z[n], 0.7))
    for k in range(3):
        np.testing.assert_array_equal(by_columns[:, k], ref.softmax_temperature_grad(Z[:, k], 0.7))
    np.testing.assert_allclose(by_rows.sum(axis=-1), 0, atol=1e-16)
    np.testing.assert_allclose(by_columns.sum(axis=0), 0, atol=1e-16)


def test_raising_the_temperature_lowers_the_largest_component():
    rng = np.random.default_rng(11)
    for _ in range(50):
        z = rng.normal(0.0, 3.0, size=6)
        g = ref.softmax_temperature_grad(z, float(rng.uniform(0.1, 10.0)))
        assert g[np.argmax(z)] < 0 and g[np.argmin(z)] > 0


def test_temperature_grad_of_rows_without_a_maximum_is_nan():
    g = ref.softmax_temperature_grad([[-np.inf, -np.inf], [np.inf, 0.0], [1.0, 2.0]], 1.0)
    assert np.all(np.isnan(g[:2])) and np.all(np.isfinite(g[2]))


@pytest.mark.parametrize(
    ("z", "tau", "error"),
    [
        ([1.0, 2.0], 0.0, ValueError),
        ([1.0, 2.0], -1.0, ValueError),
        ([1.0, 2.0], np.inf, ValueError),
        ([1.0, 2.0], np.nan, ValueError),
        ([1.0, 2.0], [1.0, 2.0], ValueError),
        ([1.0, 2.0], "1", TypeError),
        (np.array([1.0 + 1j, 2.0]), 1.0, TypeError),
        (1.0, 1.0, ValueError),
    ],
)
def test_temperature_grad_refuses_what_has_no_derivative(z, tau, error):
    with pytest.raises(error):
        ref.softmax_temperature_grad(z, tau)


# ---------------------------------------------------------- smoothed_cross_entropy_grad


def mp_smoothed_grad(z, target):
    """(q - t) / N, row by row, exactly, for float rows z and exact targets t (mpmath)."""
    n = len(z)
    rows = []
    for row, t in zip(z, target, strict=True):
        finite = [mpf(float(v)) for v in row if np.isfinite(v)]
        m = max(finite)
        e = [mpmath.exp(mpf(float(v)) - m) if np.isfinite(v) else mpf(0) for v in row]
        total = mpmath.fsum(e)
        rows.append([(ei / total - tk) / n for ei, tk in zip(e, t, strict=True)])
    return rows


def smoothed_targets_mp(labels, k, kappa):
    """(1 - kappa) p + kappa / K, exactly, for class indices or probability rows."""
    kappa = mpf(float(kappa))
    labels = np.asarray(labels)
    if labels.ndim == 1:
        rows = [[mpf(int(j == y)) for j in range(k)] for y in labels]
    else:
        rows = [[mpf(float(v)) for v in row] for row in labels]
    return [[(1 - kappa) * p + kappa / k for p in row] for row in rows]


def smoothed_targets(labels, k, kappa):
    labels = np.asarray(labels)
    p = np.eye(k)[labels] if labels.ndim == 1 else labels.astype(float)
    return (1 - kappa) * p + kappa / k


SMOOTHING_CASES = {
    "ordinary": ([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], [0, 2], 0.1),
    "no smoothing": ([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], [0, 2], 0.0),
    "all smoothing": ([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], [0, 2], 1.0),
    "soft labels": ([[0.3, -1.0, 2.0, 0.0]], [[0.25, 0.5, 0.0, 0.25]], 0.2),
    "huge logits": ([[1e4, -1e4, 5e3], [-1e4, 1e4, 0.0]], [0, 0], 0.05),
    "saturated": ([[36.0, 0.0], [40.0, -3.0]], [0, 0], 0.01),
    "masked": ([[2.0, -np.inf, 0.5, -np.inf]], [0], 0.1),
    "at the optimum": ([[np.log(0.9), np.log(0.05), np.log(0.05)]], [0], 0.15),
}


@pytest.mark.parametrize("case", sorted(SMOOTHING_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smoothed_grad_against_mpmath(case, dtype):
    # Each entry within a few ulp of max(q_k, t_k) / N, the scale of its two terms: the only
    # cancellation is that of q ~ t, near the loss's minimiser.
    logits, labels, kappa = SMOOTHING_CASES[case]
    z = np.asarray(logits, dtype=dtype)
    got = ref.smoothed_cross_entropy_grad(z, labels, kappa)
    assert got.dtype == dtype and got.shape == z.shape
    k = z.shape[1]
    targets = smoothed_targets_mp(labels, k, kappa)
    exact = mp_smoothed_grad(z.astype(np.float64), targets)
    eps = EPS32 if dtype == np.float32 else EPS
    tiny = float(np.finfo(dtype).smallest_subnormal)
    for n, (row_got, row_exact, row_t) in enumerate(zip(got, exact, targets, strict=True)):
        for j, (g, e, t) in enumerate(zip(row_got, row_exact, row_t, strict=True)):
            q = e * len(z) + t
            bound = 8 * (mpf(eps) * max(abs(q), abs(t)) / len(z) + mpf(tiny))
            assert abs(mpf(float(g)) - e) <= bound, (case, n, j, g, mpmath.nstr(e, 17))


def test_without_smoothing_it_is_the_plain_gradient_and_keeps_saturated_entries():
    rng = np.random.default_rng(5)
    for logits in (rng.normal(0.0, 3.0, size=(6, 4)), np.array([[36.0, 0.0], [40.0, -3.0]])):
        labels = rng.integers(0, logits.shape[1], size=len(logits))
        np.testing.assert_array_equal(
            ref.smoothed_cross_entropy_grad(logits, labels, 0.0),
            ref.softmax_cross_entropy_grad(logits, labels),
        )
    # q_0 - 1 at z = (36, 0) is -2.3e-16, to full relative precision
    g = ref.smoothed_cross_entropy_grad([[36.0, 0.0]], [0], 0.0)
    with mpmath.workdps(50):
        exact = -1 / (1 + mpmath.exp(36))
    assert abs(g[0, 0] / float(exact) - 1) < 4 * EPS


def test_smoothed_grad_is_the_central_difference_of_the_smoothed_loss():
    rng = np.random.default_rng(9)
    for _ in range(20):
        n, k = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        Z = rng.normal(0.0, 2.0, size=(n, k))
        labels = rng.integers(0, k, size=n)
        kappa = float(rng.uniform(0.0, 0.5))
        T = smoothed_targets(labels, k, kappa)
        g = ref.smoothed_cross_entropy_grad(Z, labels, kappa)
        fd = np.zeros_like(Z)
        for index in np.ndindex(Z.shape):

            def loss(v, index=index, Z=Z, T=T):
                W = Z.copy()
                W[index] = v
                return ref.softmax_cross_entropy(W, T)

            fd[index] = central_difference(loss, Z[index], EPS ** (1 / 3) * max(1, abs(Z[index])))
        assert np.linalg.norm(g - fd) <= 1e-8 * np.linalg.norm(g)


def test_smoothing_keeps_a_gradient_however_sure_the_model_is():
    # With kappa > 0 the true logit is pulled back: q_y - (1 - kappa + kappa / K) -> kappa (K-1)/K
    g = ref.smoothed_cross_entropy_grad([[1e4, 0.0, 0.0, 0.0]], [0], 0.2)
    np.testing.assert_allclose(g, [[0.15, -0.05, -0.05, -0.05]], rtol=1e-15)
    g_plain = ref.smoothed_cross_entropy_grad([[1e4, 0.0, 0.0, 0.0]], [0], 0.0)
    assert np.all(g_plain == 0.0)


def test_smoothing_everything_gives_uniform_targets():
    rng = np.random.default_rng(2)
    Z = rng.normal(0.0, 2.0, size=(3, 5))
    g = ref.smoothed_cross_entropy_grad(Z, [0, 4, 2], 1.0)
    np.testing.assert_allclose(g, (ref.softmax(Z) - 1 / 5) / 3, atol=1e-16)


@pytest.mark.parametrize(
    ("smoothing", "error"),
    [
        (-0.1, ValueError),
        (1.5, ValueError),
        (np.nan, ValueError),
        ([0.1], ValueError),
        ("0.1", TypeError),
    ],
)
def test_smoothed_grad_refuses_a_weight_outside_zero_one(smoothing, error):
    with pytest.raises(error):
        ref.smoothed_cross_entropy_grad([[1.0, 2.0]], [0], smoothing)
