"""Tests for every identity stated in chapter 3, "Softmax" (chapters/03_softmax/softmax.md).

Each test names the section label of the statement it checks. Values are checked against the
reference implementations in ``autograder.reference`` and, where accuracy is the point, against
50-digit mpmath.
"""

import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autograder import reference as ref

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "03_softmax" / "softmax.md"
DPS = 50
EPS = float(np.finfo(np.float64).eps)


# ---------------------------------------------------------------- helpers


def finite_floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def vectors(lo=-50.0, hi=50.0, min_size=1, max_size=8):
    """1-D float64 logit vectors with entries in [lo, hi]."""
    return arrays(np.float64, st.integers(min_size, max_size), elements=finite_floats(lo, hi))


def softmax_mp(z):
    with mpmath.workdps(DPS):
        e = [mpmath.exp(mpmath.mpf(float(zi))) for zi in z]
        total = mpmath.fsum(e)
        return [ei / total for ei in e]


def lse_mp(z):
    with mpmath.workdps(DPS):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(zi))) for zi in z))


def to_float(xs):
    return np.array([float(x) for x in xs])


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def central_jacobian(f, z, h):
    cols = []
    for j in range(len(z)):
        step = np.zeros_like(z)
        step[j] = h
        cols.append((f(z + step) - f(z - step)) / (2 * h))
    return np.stack(cols, axis=-1)


# ---------------------------------------------------------------- definition (softmax-definition)


@settings(max_examples=60, deadline=None)
@given(vectors(-1000.0, 1000.0))
def test_softmax_equals_definition_in_50_digits(z):
    np.testing.assert_allclose(ref.softmax(z), to_float(softmax_mp(z)), rtol=1e-12, atol=1e-300)


def test_softmax_worked_example_of_the_text():
    z = np.array([1.0, 2.0, 3.0, 0.5])
    s = ref.softmax(z)
    np.testing.assert_allclose(s, [0.0854, 0.2321, 0.6308, 0.0518], atol=5e-5)
    assert s.shape == z.shape  # vector -> vector, unlike max (scalar) and argmax (index)
    assert np.argmax(s) == np.argmax(z)


# ---------------------------------------------------------------- range and sum (softmax-range-sum)


@given(vectors(-1e4, 1e4))
def test_softmax_outputs_in_closed_unit_interval_and_sum_to_one(z):
    s = ref.softmax(z)
    assert np.all((s >= 0) & (s <= 1))
    assert abs(s.sum() - 1) <= 1e-13


@given(vectors(-15.0, 15.0, min_size=2))
def test_softmax_outputs_strictly_inside_unit_interval_for_moderate_logits(z):
    s = ref.softmax(z)
    assert np.all((s > 0) & (s < 1))


def test_softmax_single_component_is_one():
    np.testing.assert_array_equal(ref.softmax(np.array([-123.4])), [1.0])


def test_softmax_rounds_to_end_points_in_floating_point():
    assert ref.softmax(np.array([0.0, -40.0]))[0] == 1.0
    assert 0 < ref.softmax(np.array([0.0, -40.0]))[1] < 1e-17
    assert ref.softmax(np.array([0.0, -800.0]))[1] == 0.0


# ---------------------------------------------------------------- order (softmax-order)


@given(vectors(-30.0, 30.0, min_size=2))
def test_softmax_keeps_the_order_of_components(z):
    s = ref.softmax(z)
    for i in range(len(z)):
        for j in range(len(z)):
            if z[i] > z[j] + 1e-6:
                assert s[i] > s[j]
            if z[i] == z[j]:
                assert s[i] == s[j]


@given(vectors(-1e3, 1e3, min_size=2))
def test_softmax_argmax_is_argmax_of_logits(z):
    top = np.sort(z)[-2:]
    assume(top[1] - top[0] > 1e-12)  # closer logits may round to a tie
    assert np.argmax(ref.softmax(z)) == np.argmax(z)


# ---------------------------------------------------------------- shift and scale


@given(vectors(-100.0, 100.0), finite_floats(-100.0, 100.0))
def test_softmax_is_invariant_to_adding_a_constant(z, c):
    # softmax-shift
    np.testing.assert_allclose(ref.softmax(z + c), ref.softmax(z), rtol=1e-10, atol=1e-14)


def test_softmax_is_not_invariant_to_scaling_example():
    # softmax-scale: the two-class example of the text
    z = np.array([1.0, 2.0])
    np.testing.assert_allclose(ref.softmax(z), [0.2689, 0.7311], atol=5e-5)
    np.testing.assert_allclose(ref.softmax(2 * z), [0.1192, 0.8808], atol=5e-5)
    np.testing.assert_allclose(ref.softmax(z / 2), [0.3775, 0.6225], atol=5e-5)


@given(vectors(-10.0, 10.0, min_size=2), finite_floats(0.2, 10.0))
def test_softmax_scaling_raises_ratios_to_a_power(z, tau):
    # prop-softmax-scale: the ratios of softmax(z / tau) are (q_i / q_j)^(1 / tau)
    q, q_tau = ref.softmax(z), ref.softmax(z / tau)
    with mpmath.workdps(DPS):
        expected = float(mpmath.exp((mpmath.mpf(z[1]) - mpmath.mpf(z[0])) / mpmath.mpf(tau)))
    np.testing.assert_allclose(q_tau[1] / q_tau[0], expected, rtol=1e-12)
    np.testing.assert_allclose(q[1] / q[0], np.exp(z[1] - z[0]), rtol=1e-12)


@given(vectors(-2.0, 2.0, min_size=2), finite_floats(0.25, 0.65))
def test_softmax_of_scaled_logits_differs_unless_components_equal(z, tau):
    assume(z.max() - z.min() > 0.5)
    assert not np.allclose(ref.softmax(z / tau), ref.softmax(z), atol=1e-3)
    # in log space the gap between the largest and smallest log-probability scales by 1 / tau
    gap = np.ptp(ref.log_softmax(z))
    assert np.ptp(ref.log_softmax(z / tau)) == pytest.approx(gap / tau, rel=1e-12)
    flat = np.full(len(z), z[0])
    np.testing.assert_allclose(ref.softmax(flat / tau), ref.softmax(flat), rtol=1e-15)


# ---------------------------------------------------------------- overflow (softmax-overflow)


def test_naive_softmax_breaks_where_the_text_says():
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(naive_softmax(np.array([1000.0, 999.0, 998.0]))))
        assert np.all(np.isnan(naive_softmax(np.array([-1000.0, -1001.0, -1002.0]))))
        row32 = naive_softmax(np.array([90.0, 85.0, 80.0], dtype=np.float32))
        assert np.isnan(row32[0])
    for z in ([1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]):
        np.testing.assert_allclose(ref.softmax(np.array(z)), to_float(softmax_mp(z)), rtol=1e-15)
    np.testing.assert_allclose(
        ref.softmax(np.array([1000.0, 999.0, 998.0])), [0.665, 0.245, 0.090], atol=5e-4
    )


@pytest.mark.parametrize(
    ("dtype", "over", "under"),
    [(np.float16, 11.09, -17.33), (np.float32, 88.72, -103.97), (np.float64, 709.78, -745.13)],
)
def test_exp_overflow_and_underflow_thresholds(dtype, over, under):
    # softmax-float-limits: z > log(max) overflows, z < log(smallest subnormal / 2) gives 0
    info = np.finfo(dtype)
    with mpmath.workdps(DPS):
        exact_over = mpmath.log(mpmath.mpf(float(info.max)))
        exact_under = mpmath.log(mpmath.mpf(float(info.smallest_subnormal)) / 2)
    assert round(float(exact_over), 2) == over
    assert round(float(exact_under), 2) == under
    with np.errstate(over="ignore", under="ignore"):
        assert np.isfinite(np.exp(dtype(over - 0.05)))
        assert np.isinf(np.exp(dtype(over + 0.05)))
        assert np.exp(dtype(under + 0.05)) > 0
        assert np.exp(dtype(under - 0.05)) == 0


def test_thresholds_quoted_in_the_text():
    text = CHAPTER.read_text(encoding="utf-8")
    for number in ("709.78", "88.72", "745.13", "103.97"):
        assert number in text
    assert re.search(r"\$e\^\{1000\} \\approx 2 \\times 10\^\{434\}\$", text)
    with mpmath.workdps(DPS):
        assert mpmath.nint(mpmath.log10(mpmath.exp(1000))) == 434
        assert 1.5 < mpmath.exp(1000) / mpmath.mpf(10) ** 434 < 2.5


@settings(deadline=None)
@given(vectors(-1e4, 1e4))
def test_softmax_never_warns_and_stays_finite_for_huge_logits(z):
    # softmax-max-shift: exponents <= 0, denominator in [1, n]; warnings are errors here
    s = ref.softmax(z)
    assert np.all(np.isfinite(s))
    assert np.isclose(s[np.argmax(z)], 1 / np.sum(np.exp(z - z.max())), rtol=1e-14)


def test_softmax_float32_rows_with_large_logits():
    logits = np.array([[90.0, 85.0, 80.0], [10.0, 5.0, 0.0]], dtype=np.float32)
    s = ref.softmax(logits)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0], s[1], rtol=1e-6)
    np.testing.assert_allclose(s[0], to_float(softmax_mp(logits[0])), rtol=1e-6)


# ---------------------------------------------------------------- log-sum-exp (softmax-logsumexp)


@settings(max_examples=60, deadline=None)
@given(vectors(-1e3, 1e3))
def test_logsumexp_equals_definition_in_50_digits(z):
    np.testing.assert_allclose(ref.logsumexp(z), float(lse_mp(z)), rtol=1e-14, atol=1e-13)


@settings(deadline=None)
@given(vectors(-50.0, 50.0, min_size=2))  # spread <= 100: e^-100 is visible at 50 digits
def test_logsumexp_strict_bounds_for_finite_vectors(z):
    # softmax-lse-bounds: max < LSE for finite z, K >= 2; LSE < max + log K unless all equal
    value = lse_mp(z)
    with mpmath.workdps(DPS):
        upper = max(z) + mpmath.log(len(z))
        assert max(z) < value
        if np.all(z == z[0]):
            assert mpmath.almosteq(value, upper, 1e-45)
        elif np.ptp(z) > 1e-30:  # smaller gaps are invisible at 50 digits
            assert value < upper


@given(vectors(-1e4, 1e4))
def test_logsumexp_bounds_hold_in_floating_point(z):
    value = ref.logsumexp(z)
    assert z.max() <= value <= z.max() + np.log(len(z)) + 1e-12 * max(1.0, abs(z.max()))


@settings(deadline=None)
@given(finite_floats(-700.0, 700.0))
def test_logsumexp_of_x_and_zero_is_softplus(x):
    # softmax-lse-softplus: LSE(x, 0) = zeta(x), and 0 < LSE(x, 0) - max(x, 0) <= log 2
    with mpmath.workdps(DPS):
        exact = mpmath.log1p(mpmath.exp(mpmath.mpf(x)))
        assert mpmath.almosteq(lse_mp([x, 0.0]), exact, 1e-45)
        gap = mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(x))))  # > 0 at any precision
        assert 0 < gap <= mpmath.log(2)
        assert mpmath.almosteq(exact - max(mpmath.mpf(x), 0), gap, 1e-40, 1e-45)
    value = ref.logsumexp(np.array([x, 0.0]))
    assert value == pytest.approx(float(exact), rel=4 * EPS, abs=1e-300)
    assert value == pytest.approx(float(ref.softplus(x)), rel=4 * EPS, abs=1e-300)


def test_logsumexp_of_x_and_zero_gap_is_largest_at_zero():
    # the upper bound log K of thm-softmax-lse-bounds with K = 2, attained at x = 0
    assert ref.logsumexp(np.array([0.0, 0.0])) == np.log(2.0)
    xs = np.linspace(-6.0, 6.0, 1201)
    gaps = np.array([ref.logsumexp(np.array([x, 0.0])) - max(x, 0.0) for x in xs])
    assert xs[np.argmax(gaps)] == 0.0
    assert np.all(gaps <= np.log(2.0))


def test_plain_log_of_one_plus_r_rounds_to_zero_below_minus_36_7():
    # softmax-lse-softplus: 1 + e^x rounds to 1 for x < -53 log 2 ~ -36.7; log1p does not
    threshold = -53 * np.log(2.0)
    assert round(threshold, 1) == -36.7
    for x in (threshold - 0.01, -40.0):
        assert np.log(1 + np.exp(x)) == 0.0
        assert np.log1p(np.exp(x)) == pytest.approx(np.exp(x), rel=1e-15)
    assert np.log(1 + np.exp(threshold + 0.01)) > 0
    assert np.spacing(40.0) == pytest.approx(7.1e-15, rel=0.01)


@given(finite_floats(-1e3, 1e3))
def test_logsumexp_lower_bound_equality_for_one_entry(x):
    assert ref.logsumexp(np.array([x])) == pytest.approx(x, rel=1e-15, abs=1e-15)


@given(finite_floats(-1e3, 1e3), st.integers(2, 6))
def test_logsumexp_lower_bound_equality_with_masked_entries(x, n):
    z = np.full(n, -np.inf)
    z[n // 2] = x
    assert ref.logsumexp(z) == pytest.approx(x, rel=1e-15, abs=1e-15)


@given(finite_floats(-1e3, 1e3), st.integers(1, 50))
def test_logsumexp_upper_bound_equality_for_equal_entries(c, n):
    with mpmath.workdps(DPS):
        expected = float(mpmath.mpf(c) + mpmath.log(n))
    assert ref.logsumexp(np.full(n, c)) == pytest.approx(expected, rel=1e-14, abs=1e-14)


@settings(deadline=None)
@given(vectors(-100.0, 100.0), finite_floats(-500.0, 500.0))
def test_logsumexp_moves_with_a_shift(z, c):
    # softmax-lse-shift: LSE(z + c) = LSE(z) + c, NOT translation invariant
    shifted = ref.logsumexp(z + c)
    assert shifted == pytest.approx(ref.logsumexp(z) + c, rel=1e-12, abs=1e-11)
    with mpmath.workdps(DPS):
        exact = lse_mp(z) + mpmath.mpf(c)
        # the exact shift of the rounded input z + c
        exact_rounded_input = lse_mp(z + c)
    assert abs(exact_rounded_input - exact) < 1e-11 * (1 + abs(exact))
    if abs(c) > 1e-3:
        assert shifted != pytest.approx(ref.logsumexp(z), abs=1e-4)


def test_logsumexp_stable_where_naive_breaks():
    # softmax-lse-stable
    big, small = np.array([1000.0, 999.0, 998.0]), np.array([-1000.0, -1001.0, -1002.0])
    with np.errstate(all="ignore"):
        assert np.log(np.sum(np.exp(big))) == np.inf
        assert np.log(np.sum(np.exp(small))) == -np.inf
    assert ref.logsumexp(big) == pytest.approx(float(lse_mp(big)), rel=1e-15)
    assert ref.logsumexp(small) == pytest.approx(float(lse_mp(small)), rel=1e-15)
    assert ref.logsumexp(big) == pytest.approx(1000.4076059644444, rel=1e-15)


# ---------------------------------------------------------------- gradient (softmax-lse-gradient)


@settings(deadline=None)
@given(vectors(-1e3, 1e3))
def test_gradient_of_logsumexp_is_softmax_by_finite_differences(z):
    fd = central_jacobian(lambda v: np.atleast_1d(ref.logsumexp(v)), z, h=1e-4)[0]
    np.testing.assert_allclose(fd, ref.softmax(z), atol=1e-8)


@pytest.mark.parametrize("z", [[1.0, 2.0, 3.0, 0.5], [1000.0, 999.0, 998.0], [-3.0, 0.25]])
def test_gradient_of_logsumexp_is_softmax_in_50_digits(z):
    with mpmath.workdps(DPS):
        grad = []
        for i in range(len(z)):

            def lse_i(t, i=i):
                w = [mpmath.mpf(v) for v in z]
                w[i] = t
                return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in w))

            grad.append(mpmath.diff(lse_i, mpmath.mpf(z[i])))
    np.testing.assert_allclose(ref.softmax(np.array(z)), to_float(grad), rtol=1e-14)


# ---------------------------------------------------------------- log-softmax (softmax-log-softmax)


@settings(max_examples=60, deadline=None)
@given(vectors(-1e3, 1e3))
def test_log_softmax_equals_logits_minus_logsumexp(z):
    ls = ref.log_softmax(z)
    np.testing.assert_allclose(ls, z - ref.logsumexp(z), rtol=1e-12, atol=1e-12)
    with mpmath.workdps(DPS):
        exact = [mpmath.log(p) for p in softmax_mp(z)]
    np.testing.assert_allclose(ls, to_float(exact), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("z", "expected"), [([0.0, -800.0], -800.0), ([1000.0, 0.0], -1000.0)])
def test_log_softmax_finite_where_log_of_softmax_is_minus_inf(z, expected):
    z = np.array(z)
    with np.errstate(divide="ignore"):
        assert np.log(ref.softmax(z))[1] == -np.inf
    ls = ref.log_softmax(z)
    assert ls[1] == pytest.approx(expected, rel=1e-15)
    assert ls[0] == 0.0


# ---------------------------------------------------------------- temperature (softmax-temperature)


@given(vectors(-50.0, 50.0, min_size=2))
def test_temperature_to_zero_gives_one_hot_argmax(z):
    top = np.sort(z)[-2:]
    assume(top[1] - top[0] > 0.1)
    np.testing.assert_allclose(ref.softmax(z / 1e-3), np.eye(len(z))[np.argmax(z)], atol=1e-12)


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        ([2.0, 2.0, 1.0, 2.0], [1 / 3, 1 / 3, 0, 1 / 3]),
        ([5.0, -1.0, 5.0], [0.5, 0.0, 0.5]),
        ([0.0, 0.0], [0.5, 0.5]),
    ],
)
def test_temperature_to_zero_splits_ties_evenly(z, expected):
    for tau in (1e-3, 1e-6):
        np.testing.assert_allclose(ref.softmax(np.array(z) / tau), expected, atol=1e-12)


@given(vectors(-50.0, 50.0))
def test_temperature_to_infinity_gives_uniform(z):
    n = len(z)
    np.testing.assert_allclose(ref.softmax(z / 1e6), np.full(n, 1 / n), atol=2e-4)
    np.testing.assert_allclose(ref.softmax(z / 1e12), np.full(n, 1 / n), atol=1e-9)


@given(vectors(-50.0, 50.0), st.sampled_from([10.0, 1.0, 0.1, 0.01, 1e-4]))
def test_temperature_smooth_max_bounds(z, tau):
    smooth = tau * ref.logsumexp(z / tau)
    slack = 1e-12 * max(1.0, abs(z.max()))
    assert z.max() - slack <= smooth <= z.max() + tau * np.log(len(z)) + slack


def test_temperature_example_of_the_text():
    zt = np.array([3.0, 2.0, 1.5, 0.5, -1.0])
    assert 0.1 * ref.logsumexp(zt / 0.1) == pytest.approx(3.000005, abs=5e-7)
    assert ref.logsumexp(zt) == pytest.approx(3.525563, abs=5e-7)


# ---------------------------------------------------------------- two classes (softmax-sigmoid)


@settings(deadline=None)
@given(finite_floats(-500.0, 500.0), finite_floats(-500.0, 500.0))
def test_two_class_softmax_is_sigmoid_of_difference(z1, z2):
    s = ref.softmax(np.array([z1, z2]))
    assert s[0] == pytest.approx(float(ref.sigmoid(z1 - z2)), rel=1e-12, abs=1e-300)
    assert s[1] == pytest.approx(float(ref.sigmoid(z2 - z1)), rel=1e-12, abs=1e-300)
    with mpmath.workdps(DPS):
        exact = 1 / (1 + mpmath.exp(-(mpmath.mpf(z1) - mpmath.mpf(z2))))
    assert s[0] == pytest.approx(float(exact), rel=1e-12, abs=1e-300)


@given(finite_floats(-700.0, 700.0))
def test_softmax_of_x_and_zero_is_sigmoid(x):
    s = ref.softmax(np.array([x, 0.0]))
    assert s[0] == pytest.approx(float(ref.sigmoid(x)), rel=1e-14, abs=1e-300)


# ---------------------------------------------------------------- Jacobian (softmax-jacobian)


def jacobian_mp(z):
    """J_ij = q_i (1{i = j} - q_j) with 50 significant digits, rounded to float64 at the end."""
    with mpmath.workdps(DPS):
        q = softmax_mp(z)
        n_classes = len(z)
        entries = [[q[i] * ((i == j) - q[j]) for j in range(n_classes)] for i in range(n_classes)]
        return np.array([[float(e) for e in row] for row in entries])


@settings(deadline=None)
@given(vectors(-20.0, 20.0, min_size=1))
def test_jacobian_formula_matches_definition_and_finite_differences(z):
    # thm-softmax-jacobian. The expected value is the exact Jacobian of the float input, from
    # 50-digit arithmetic, so the tolerance bounds only the reference's own rounding error
    # (an expected value computed in float64, such as q_i (1 - q_i) with 1 - q_i ~ 1e-11 for
    # z = [-10.25, 15.5], carries an absolute error of one ulp of 1 and made this test flaky).
    # Each entry is a product of exponentials exp(z_i - m) / S: rounding z_i - m (at most
    # ptp(z) in size) is amplified by exp into a relative error of up to ptp(z) u, so the
    # entries are accurate to about (2 ptp(z) + a few) u relative to themselves.
    J = ref.softmax_jacobian(z)
    rtol = (2 * float(np.ptp(z)) + 16) * EPS
    np.testing.assert_allclose(J, jacobian_mp(z), rtol=rtol, atol=0)
    # The textbook diag(q) - q q^T in float64 is accurate only in absolute terms (q_i - q_i^2
    # cancels when q_i ~ 1): each q_i carries a few ulp, so each entry is within a few eps.
    q = ref.softmax(z)
    np.testing.assert_allclose(J, np.diag(q) - np.outer(q, q), rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(J, central_jacobian(ref.softmax, z, h=1e-6), atol=1e-9)


@pytest.mark.parametrize("z", [[-10.25, 15.5], [36.0, 0.0], [-20.0, 20.0, 19.75]])
def test_jacobian_of_saturated_softmax_is_accurate_entry_by_entry(z):
    # the example that made the textbook comparison flaky, and saturated ones beside it
    z = np.array(z)
    J = ref.softmax_jacobian(z)
    np.testing.assert_allclose(J, jacobian_mp(z), rtol=(2 * np.ptp(z) + 16) * EPS, atol=0)


@pytest.mark.parametrize("z", [[1.0, 2.0, 3.0, 0.5], [0.3, -1.2], [2.0, 2.0, -1.0]])
def test_jacobian_entries_in_50_digits(z):
    J = ref.softmax_jacobian(np.array(z))
    with mpmath.workdps(DPS):
        for j in range(len(z)):

            def s_of(t, j=j):
                w = [mpmath.mpf(v) for v in z]
                w[j] = t  # keep t as an mpmath number: no rounding to float here
                e = [mpmath.exp(v) for v in w]
                return [ei / mpmath.fsum(e) for ei in e]

            for i in range(len(z)):
                exact = mpmath.diff(lambda t, i=i, s_of=s_of: s_of(t)[i], mpmath.mpf(z[j]))
                assert J[i, j] == pytest.approx(float(exact), rel=1e-13, abs=1e-16)


@given(vectors(-50.0, 50.0))
def test_jacobian_is_symmetric_with_zero_row_and_column_sums(z):
    J = ref.softmax_jacobian(z)
    np.testing.assert_allclose(J, J.T, atol=1e-17)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(J @ np.ones(len(z)), 0, atol=1e-15)


@given(
    vectors(-3.0, 3.0, min_size=2),
    arrays(np.float64, 8, elements=finite_floats(-10.0, 10.0)),
)
def test_jacobian_is_psd_with_variance_quadratic_form_and_null_vector_one(z, v_all):
    n = len(z)
    J = ref.softmax_jacobian(z)
    s = ref.softmax(z)
    eig = np.linalg.eigvalsh(J)
    assert eig.min() > -1e-15
    assert np.sum(np.abs(eig) < 1e-10) == 1  # rank n - 1: only 1 spans the null space
    v = v_all[:n]
    variance = s @ (v - s @ v) ** 2
    np.testing.assert_allclose(v @ J @ v, variance, rtol=1e-9, atol=1e-12)
    # the null space is the line through 1: a non-constant v has positive quadratic form
    if v.max() - v.min() > 1e-3:
        assert v @ J @ v > 0


# ---------------------------------------------------------------- VJP (softmax-vjp)


@given(
    vectors(-50.0, 50.0),
    arrays(np.float64, 8, elements=finite_floats(-10.0, 10.0)),
)
def test_vector_jacobian_product_without_building_the_jacobian(z, v_all):
    v = v_all[: len(z)]
    s = ref.softmax(z)
    np.testing.assert_allclose(
        s * (v - s @ v), ref.softmax_jacobian(z).T @ v, rtol=1e-12, atol=1e-13
    )


@given(vectors(-20.0, 20.0, min_size=2), st.data())
def test_vjp_with_cross_entropy_gradient_is_softmax_minus_label(z, data):
    s = ref.softmax(z)
    y = np.zeros(len(z))
    y[data.draw(st.integers(0, len(z) - 1))] = 1.0
    vjp = s * (-y / s - s @ (-y / s))
    np.testing.assert_allclose(vjp, s - y, atol=1e-12)
    np.testing.assert_allclose(ref.softmax_jacobian(z).T @ (-y / s), s - y, atol=1e-12)


# ---------------------------------------------------------------- batches (softmax-batches)


batch = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(1, 5)),
    elements=finite_floats(-1e3, 1e3),
)


@given(batch)
def test_batched_softmax_along_both_axes(Z):
    rows = ref.softmax(Z, axis=-1)
    cols = ref.softmax(Z, axis=0)
    np.testing.assert_allclose(rows.sum(axis=-1), 1, rtol=1e-13)
    np.testing.assert_allclose(cols.sum(axis=0), 1, rtol=1e-13)
    for i in range(Z.shape[0]):
        np.testing.assert_allclose(rows[i], ref.softmax(Z[i]), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(cols, ref.softmax(Z.T, axis=-1).T, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(ref.softmax(Z, axis=1), rows, rtol=1e-15, atol=1e-300)


@given(batch)
def test_batched_logsumexp_and_log_softmax_along_both_axes(Z):
    for axis in (-1, 0):
        lse = ref.logsumexp(Z, axis=axis)
        assert lse.shape == ((Z.shape[0],) if axis == -1 else (Z.shape[1],))
        moved = np.moveaxis(Z, axis, -1)
        for k in range(moved.shape[0]):
            assert lse[k] == pytest.approx(float(lse_mp(moved[k])), rel=1e-14, abs=1e-13)
        np.testing.assert_allclose(
            ref.log_softmax(Z, axis=axis),
            Z - np.expand_dims(lse, axis),
            rtol=1e-12,
            atol=1e-12,
        )


def test_batch_examples_of_the_text():
    Z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]])
    np.testing.assert_allclose(
        ref.softmax(Z, axis=-1), [[0.0900, 0.2447, 0.6652], [0.5, 0.5, 0.0]], atol=5e-5
    )
    np.testing.assert_allclose(
        ref.softmax(Z, axis=0), [[0.0, 0.0, 0.9526], [1.0, 1.0, 0.0474]], atol=5e-5
    )


def test_shifting_columns_instead_of_rows_changes_a_square_batch():
    # what a max-shift without keepdims computes on a square batch
    Z3 = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0], [4.0, 1.0, 1.0]])
    wrong = ref.softmax(Z3 - Z3.max(axis=-1))
    assert not np.allclose(wrong, ref.softmax(Z3))
    np.testing.assert_allclose(wrong[0], [0.2447, 0.0900, 0.6652], atol=5e-5)
    np.testing.assert_allclose(ref.softmax(Z3 - Z3.max(axis=-1, keepdims=True)), ref.softmax(Z3))


@given(vectors(-1e3, 1e3), st.integers(1, 4), st.data())
def test_masked_entries_get_probability_zero(z, n_masked, data):
    n = len(z) + n_masked
    positions = data.draw(st.permutations(range(n)))
    masked_idx, kept_idx = np.sort(positions[:n_masked]), np.sort(positions[n_masked:])
    full = np.empty(n)
    full[masked_idx] = -np.inf
    full[kept_idx] = z
    s = ref.softmax(full)  # no warnings allowed (pytest turns them into errors)
    assert np.all(s[masked_idx] == 0.0)
    np.testing.assert_allclose(s[kept_idx], ref.softmax(z), rtol=1e-14, atol=1e-300)
    assert ref.logsumexp(full) == pytest.approx(float(ref.logsumexp(z)), rel=1e-15, abs=1e-15)
    ls = ref.log_softmax(full)
    assert np.all(ls[masked_idx] == -np.inf)
    np.testing.assert_allclose(ls[kept_idx], ref.log_softmax(z), rtol=1e-14, atol=1e-14)


def test_numbers_quoted_in_the_text():
    # softmax-log-softmax: the spacing of doubles near m = 1e4 is about 2e-12
    assert np.spacing(1e4) == pytest.approx(2e-12, rel=0.1)
    # softmax-reference: the spacing near 1000 in float64 and float32
    assert np.spacing(1000.0) == pytest.approx(1e-13, rel=0.15)
    assert float(np.spacing(np.float32(1000))) == pytest.approx(6e-5, rel=0.05)
    # softmax-vjp: 50,000 classes, K numbers against K^2
    assert 50_000**2 == 2_500_000_000
    # softmax-lse-stable: log(1 + e^-40) ~ 4.2e-18
    with mpmath.workdps(DPS):
        assert float(mpmath.log1p(mpmath.exp(-40))) == pytest.approx(4.2e-18, rel=0.02)


def test_chapter_labels_and_statements():
    text = CHAPTER.read_text(encoding="utf-8")
    labels = [
        "softmax-chapter", "softmax-definition", "softmax-properties", "softmax-range-sum",
        "softmax-order", "softmax-shift", "softmax-scale", "softmax-overflow",
        "softmax-float-limits", "softmax-max-shift", "softmax-logsumexp", "softmax-lse-bounds",
        "softmax-lse-shift", "softmax-lse-stable", "softmax-lse-softplus", "softmax-lse-gradient",
        "softmax-log-softmax", "softmax-temperature", "softmax-sigmoid", "softmax-jacobian",
        "softmax-jacobian-properties", "softmax-vjp", "softmax-batches", "softmax-reference",
        "softmax-summary",
    ]  # fmt: skip
    for label in labels:
        assert f"({label})=" in text, label
    assert "{ref}`softplus-smooth-max`" in text
    for statement in ("def-softmax", "thm-softmax-shift", "thm-softmax-lse-bounds",
                      "thm-softmax-jacobian", "prop-softmax-lse-softplus"):  # fmt: skip
        assert f":label: {statement}" in text, statement
    # the notation of the course: no s for softmax, no Kronecker delta, no alpha, no n classes
    assert "delta_{ij}" not in text.replace("$\\delta_{ij}$, Kronecker", "")
    assert "\\alpha" not in text
    assert "\\log n" not in text and "= s_" not in text


def test_masked_float32_batch_with_large_entries():
    Z = np.array([[95.0, -np.inf, 90.0], [-np.inf, 0.0, -np.inf]], dtype=np.float32)
    s = ref.softmax(Z, axis=-1)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0], [1 / (1 + np.exp(-5.0)), 0.0, 1 / (1 + np.exp(5.0))], 1e-6)
    np.testing.assert_array_equal(s[1], [0.0, 1.0, 0.0])
