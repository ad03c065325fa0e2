"""Tests for every identity stated in chapter 2, "Softplus" (chapters/02_softplus/softplus.md).

Each group of tests names, in a comment above it, the section label of the statements it checks.
Values are checked on the reference implementations in ``autograder.reference`` and, where
accuracy is the point, against 50-digit mpmath. The "naive" formulas of the chapter are
re-stated here so that the breakdown points the text quotes can be checked on them.
"""

import math
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
from helpers import EPS, SMALLEST_SUBNORMAL
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from autograder.reference import (
    binary_cross_entropy_with_logits,
    log_sigmoid,
    sigmoid,
    sigmoid_grad,
    softplus,
)

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "02_softplus" / "softplus.md"
DPS = 50
EPS32 = float(np.finfo(np.float32).eps)  # 2**-23
LN2 = math.log(2)

SETTINGS = settings(deadline=None, database=None, derandomize=True)
FEW = settings(deadline=None, database=None, derandomize=True, max_examples=25)


# ---------------------------------------------------------------- helpers


def finite_floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def to_mp(x):
    """An mpf as it is, any float (float32 included) at its exact value."""
    return x if isinstance(x, mpmath.mpf) else mpmath.mpf(float(x))


def softplus_mp(x):
    """zeta(x) = log(1 + e^x) in the current mpmath precision."""
    return mpmath.log1p(mpmath.exp(to_mp(x)))


def sigmoid_mp(x):
    return 1 / (1 + mpmath.exp(-to_mp(x)))


def zeta_expr(t):
    """log(1 + e^t) for mpmath.diff and mpmath.quad (no conversion to float)."""
    return mpmath.log(1 + mpmath.exp(t))


def rel_error(value, exact):
    """|value / exact - 1| in 50 digits, as a float."""
    with mpmath.workdps(DPS):
        return float(abs(mpmath.mpf(float(value)) / exact - 1))


def raises_fp_error(f, *args, **errstate):
    """True if f(*args) raises FloatingPointError under np.errstate(**errstate)."""
    with np.errstate(**errstate):
        try:
            f(*args)
        except FloatingPointError:
            return True
    return False


# The formulas of the chapter, evaluated in the precision of their input.
def softplus_naive(x):
    x = np.asarray(x)
    return np.log(x.dtype.type(1) + np.exp(x))


def softplus_stable(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_inv(v):
    """zeta^{-1}(v) = v + log(-expm1(-v)), eq. (eq-softplus-inverse)."""
    v = np.asarray(v, dtype=np.float64)
    return v + np.log(-np.expm1(-v))


def softplus_inv_naive(v):
    return np.log(np.exp(v) - 1)


def central_difference(x, delta, dtype):
    x, delta = dtype(x), dtype(delta)
    return (softplus(x + delta) - softplus(x - delta)) / (2 * delta)


# ---------------------------------------------------------------- softplus-definition


@SETTINGS
@given(finite_floats(-745.0, 1e6))
def test_reference_softplus_is_the_definition_in_50_digits(x):
    with mpmath.workdps(DPS):
        exact = softplus_mp(x)
        assert (
            abs(mpmath.mpf(float(softplus(x))) - exact) <= 4 * EPS * exact + 2 * SMALLEST_SUBNORMAL
        )


@FEW
@given(finite_floats(-60.0, 60.0))
def test_integral_of_sigmoid_from_minus_infinity_is_softplus_in_50_digits(x):
    with mpmath.workdps(DPS):
        area = mpmath.quad(lambda t: 1 / (1 + mpmath.exp(-t)), [-mpmath.inf, min(x, 0), x])
        assert abs(area - softplus_mp(x)) <= mpmath.mpf(10) ** -40 * softplus_mp(x)


@pytest.mark.parametrize("x", [-30.0, -5.0, -1.0, 0.0, 2.0, 10.0, 30.0])
def test_integral_of_sigmoid_by_scipy_quad_is_softplus(x):
    area, _ = integrate.quad(lambda t: float(sigmoid(t)), -np.inf, x, epsabs=0, epsrel=1e-12)
    assert area == pytest.approx(float(softplus(x)), rel=1e-12)


@SETTINGS
@given(finite_floats(-20.0, 20.0), finite_floats(-20.0, 20.0))
def test_integral_of_sigmoid_between_two_points_is_a_softplus_difference(a, b):
    area, _ = integrate.quad(lambda t: float(sigmoid(t)), a, b, epsabs=1e-14, epsrel=1e-12)
    assert area == pytest.approx(float(softplus(b) - softplus(a)), rel=1e-11, abs=1e-13)


def test_constant_of_integration_is_zero():
    # zeta(x) -> 0 as x -> -inf, like the area under sigma from -inf: C = 0
    with mpmath.workdps(DPS):
        assert softplus_mp(-100) < mpmath.mpf(10) ** -43
        assert mpmath.quad(lambda t: 1 / (1 + mpmath.exp(-t)), [-mpmath.inf, -100]) < 1e-43
    assert softplus(-800.0) == 0.0 and softplus(-700.0) > 0.0


@SETTINGS
@given(finite_floats(-40.0, 40.0))
def test_derivative_of_softplus_is_sigmoid_in_50_digits(x):
    with mpmath.workdps(DPS):
        assert abs(mpmath.diff(zeta_expr, mpmath.mpf(x)) - sigmoid_mp(x)) < mpmath.mpf(10) ** -40


@SETTINGS
@given(finite_floats(-40.0, 40.0))
def test_second_derivative_is_sigmoid_grad_and_positive(x):
    with mpmath.workdps(DPS):
        second = mpmath.diff(zeta_expr, mpmath.mpf(x), 2)
        s = sigmoid_mp(x)
        assert abs(second - s * (1 - s)) < mpmath.mpf(10) ** -40 and second > 0
    assert float(second) == pytest.approx(float(sigmoid_grad(x)), rel=1e-14)


def test_central_differences_with_the_chapters_step_match_the_reference_sigmoid():
    x = np.linspace(-30, 30, 601)
    delta = 1e-5 * np.maximum(1, np.abs(x))
    central = (softplus(x + delta) - softplus(x - delta)) / (2 * delta)
    np.testing.assert_allclose(central, sigmoid(x), rtol=0, atol=1e-10)


# ---------------------------------------------------------------- softplus-range


@SETTINGS
@given(finite_floats(-700.0, 1e300))
def test_range_is_positive_and_above_relu(x):
    z = softplus(x)
    assert z > 0 and z >= max(0.0, x)
    with mpmath.workdps(DPS):
        # strictly: zeta(x) - max(0, x) = log(1 + e^{-|x|}) > 0 (mpmath has no underflow)
        assert softplus_mp(x) > 0 and mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(x)))) > 0


def test_softplus_is_strictly_increasing():
    x = np.linspace(-700, 700, 14001)
    assert np.all(np.diff(softplus(x)) > 0)


def test_softplus_rounds_to_x_from_about_33_3_in_float64():
    below = np.linspace(-700, 33.2, 20001)
    above = np.linspace(33.3, 700, 20001)
    assert np.all(softplus(below) > below)
    assert np.all(softplus(above) == above)
    # the reason: the spacing of floats between 32 and 64 is 2**-47, half of it 2**-48
    assert np.spacing(33.0) == 2.0**-47
    assert math.exp(-33.2) > 2.0**-48 > math.exp(-33.3)
    with mpmath.workdps(DPS):
        assert softplus_mp(40) > 40


# ---------------------------------------------------------------- softplus-smooth-max


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_gap_to_relu_is_log1p_exp_minus_abs_x(x):
    # zeta(x) - x cancels about |x| / ln(10) digits for x > 0: enough precision for that
    with mpmath.workdps(DPS + 320):
        gap = softplus_mp(x) - max(0, mpmath.mpf(x))
        assert (
            abs(gap - mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(x))))) <= mpmath.mpf(10) ** -45 * gap
        )


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_gap_lies_in_zero_log2_and_below_exp_minus_abs_x(x):
    with mpmath.workdps(DPS + 320):  # gap and e^{-|x|} differ by a factor 1 - e^{-|x|}/2
        gap = mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(x))))
        assert 0 < gap <= mpmath.log(2)
        assert gap == mpmath.log(2) if x == 0 else gap < mpmath.exp(-abs(mpmath.mpf(x)))
    # the reference, to rounding: the subtraction cancels for large x, so absolute terms
    ref_gap = float(softplus(x)) - max(0.0, x)
    assert -4 * EPS * max(1.0, abs(x)) <= ref_gap <= LN2
    assert abs(ref_gap - math.log1p(math.exp(-abs(x)))) <= 2 * EPS * max(1.0, abs(x))


@SETTINGS
@given(finite_floats(0.0, 700.0), finite_floats(0.0, 700.0))
def test_gap_is_largest_at_zero_and_shrinks_with_abs_x(a, b):
    assume(a != b)
    lo, hi = min(a, b), max(a, b)
    with mpmath.workdps(DPS + 320):
        for sign in (1, -1):
            g_lo = softplus_mp(sign * lo) - max(0, sign * mpmath.mpf(lo))
            g_hi = softplus_mp(sign * hi) - max(0, sign * mpmath.mpf(hi))
            assert g_hi < g_lo <= mpmath.log(2)


def test_gap_at_zero_is_log2_and_below_one_percent_from_five():
    assert softplus(0.0) == LN2
    with mpmath.workdps(DPS):
        assert mpmath.log1p(mpmath.exp(-5)) < 0.01 < mpmath.log1p(mpmath.exp(-4.6))
    x = np.linspace(-30, 30, 6001)
    gap = softplus(x) - np.maximum(0, x)
    assert x[np.argmax(gap)] == 0.0 and np.all(gap[np.abs(x) >= 5] < 0.01)


def test_slopes_are_sigmoid_against_a_step():
    # zeta' = sigma is a smoothed step: 1/2 at 0, towards 0 and 1 on the two sides
    assert sigmoid(0.0) == 0.5
    assert sigmoid(-40.0) < 1e-17 and 1 - sigmoid(40.0) < 1e-16


# ---------------------------------------------------------------- softplus-odd-part


@SETTINGS
@given(finite_floats(-1e3, 1e3))
def test_softplus_minus_softplus_of_minus_x_is_x_in_50_digits(x):
    with mpmath.workdps(DPS + 450):  # zeta(x) - zeta(-x) cancels for large |x|
        assert abs(softplus_mp(x) - softplus_mp(-x) - x) < mpmath.mpf(10) ** -45


@SETTINGS
@given(finite_floats(-1e4, 1e4))
def test_softplus_minus_softplus_of_minus_x_is_x_for_the_reference(x):
    diff = float(softplus(x)) - float(softplus(-x))
    assert abs(diff - x) <= 4 * EPS * max(float(softplus(x)), float(softplus(-x)))


def test_relu_satisfies_the_same_rule():
    x = np.linspace(-5, 5, 101)
    np.testing.assert_array_equal(np.maximum(0, x) - np.maximum(0, -x), x)


# ---------------------------------------------------------------- softplus-log-sigmoid


@SETTINGS
@given(finite_floats(-1e4, 745.0))
def test_reference_log_sigmoid_is_minus_softplus_of_minus_x_in_50_digits(x):
    with mpmath.workdps(DPS + 330):  # log(sigma(x)) for sigma(x) ~ 1 cancels up to 324 digits
        exact = mpmath.log(sigmoid_mp(x))
        assert abs(exact + softplus_mp(-x)) <= mpmath.mpf(10) ** -45 * abs(exact)
        assert (
            abs(mpmath.mpf(float(log_sigmoid(x))) - exact)
            <= 4 * EPS * abs(exact) + 2 * SMALLEST_SUBNORMAL
        )


@SETTINGS
@given(finite_floats(-1e4, 1e4))
def test_reference_log_sigmoid_equals_minus_reference_softplus_of_minus_x(x):
    assert log_sigmoid(x) == -softplus(-x)


@SETTINGS
@given(finite_floats(-40.0, 40.0))
def test_log_one_minus_sigmoid_is_minus_softplus_in_100_digits(x):
    with mpmath.workdps(100):  # 1 - sigma(40) cancels 17 digits
        exact = mpmath.log(1 - sigmoid_mp(x))
        assert abs(exact + softplus_mp(x)) < mpmath.mpf(10) ** -80
        # and 1 - sigma(x) = sigma(-x)
        assert abs(1 - sigmoid_mp(x) - sigmoid_mp(-x)) < mpmath.mpf(10) ** -90


def test_float_checks_of_the_two_log_identities_on_their_ranges():
    x = np.linspace(-30, 5, 3501)
    np.testing.assert_allclose(np.log(sigmoid(x)), -softplus(-x), rtol=1e-13)
    x = np.linspace(-5, 15, 2001)
    np.testing.assert_allclose(np.log(1 - sigmoid(x)), -softplus(x), rtol=1e-8)
    np.testing.assert_array_equal(log_sigmoid(-x), -softplus(x))


def test_logs_of_a_rounded_sigmoid_break_where_the_text_says():
    with mpmath.workdps(DPS):
        assert 1e-4 < rel_error(np.log(sigmoid(30.0)), -softplus_mp(-30)) < 1e-2
        assert 1e-4 < rel_error(np.log(1 - sigmoid(-30.0)), -softplus_mp(-30)) < 1e-2
    assert np.log(sigmoid(40.0)) == 0.0
    assert sigmoid(36.7) < 1.0 == sigmoid(36.8)  # sigma rounds to 1 from 53 ln 2 = 36.74
    assert raises_fp_error(lambda: np.log(1 - sigmoid(40.0)), divide="raise")


@SETTINGS
@given(finite_floats(-50.0, 50.0), finite_floats(0.0, 1.0))
def test_binary_cross_entropy_is_softplus_minus_yz_in_50_digits(z, y):
    with mpmath.workdps(DPS + 25):
        zm, ym = mpmath.mpf(z), mpmath.mpf(y)
        s = sigmoid_mp(zm)
        bce = -ym * mpmath.log(s) - (1 - ym) * mpmath.log(1 - s)
        assert abs(bce - (ym * softplus_mp(-zm) + (1 - ym) * softplus_mp(zm))) < 1e-45
        assert abs(bce - (softplus_mp(zm) - ym * zm)) < 1e-45


def test_reference_binary_cross_entropy_is_the_mean_of_softplus_minus_yz():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 10, size=200)
    y = rng.uniform(0, 1, size=200)
    with mpmath.workdps(DPS):
        terms = [
            softplus_mp(zi) - mpmath.mpf(yi) * mpmath.mpf(zi) for zi, yi in zip(z, y, strict=True)
        ]
        exact = mpmath.fsum(terms) / len(terms)
    assert rel_error(binary_cross_entropy_with_logits(z, y), exact) < 1e-13


# ---------------------------------------------------------------- softplus-inverse


@SETTINGS
@given(finite_floats(1e-300, 1e4))
def test_inverse_formulas_agree_and_invert_softplus_in_50_digits(y):
    with mpmath.workdps(DPS + 310):  # e^y - 1 cancels about -log10(y) digits for small y
        ym = mpmath.mpf(y)
        naive = mpmath.log(mpmath.exp(ym) - 1)
        stable = ym + mpmath.log(-mpmath.expm1(-ym))
        assert abs(naive - stable) <= mpmath.mpf(10) ** -40 * max(1, abs(stable))
        assert abs(softplus_mp(stable) / ym - 1) < mpmath.mpf(10) ** -45


@SETTINGS
@given(finite_floats(1e-300, 1e300))
def test_stable_inverse_is_accurate_and_round_trips_through_the_reference(y):
    with mpmath.workdps(DPS):
        exact = mpmath.log(mpmath.expm1(mpmath.mpf(y)))
        x = softplus_inv(y)
        assert abs(mpmath.mpf(float(x)) - exact) <= 4 * EPS * abs(exact)
    # zeta(x) ~ e^x for x << 0 magnifies the error of x by |x| <= 691: rtol 1e-12
    assert float(softplus(x)) == pytest.approx(y, rel=1e-12)


def test_inverse_of_softplus_recovers_x():
    x = np.linspace(-30, 700, 7301)
    np.testing.assert_allclose(softplus_inv(softplus(x)), x, rtol=1e-12, atol=1e-14)


def test_naive_inverse_breaks_where_the_text_says():
    with mpmath.workdps(DPS):
        exact = mpmath.log(mpmath.expm1(mpmath.mpf(1e-12)))
        err = rel_error(softplus_inv_naive(1e-12), exact)
    assert 1e-6 < err < 1e-4  # wrong in the fifth significant digit
    assert raises_fp_error(softplus_inv_naive, 710.0, over="raise")
    assert not raises_fp_error(softplus_inv_naive, 709.78, over="raise")
    with np.errstate(over="raise"):
        assert softplus_inv(800.0) == 800.0


def test_initialisation_values_quoted_in_the_text():
    s0 = float(softplus_inv(0.5))
    assert round(s0, 3) == -0.433
    assert s0 == pytest.approx(math.log(math.exp(0.5) - 1), rel=1e-14)
    for target in [0.5, 1e-3, 100.0]:
        assert float(softplus(softplus_inv(target))) == pytest.approx(target, rel=1e-14)


# ---------------------------------------------------------------- softplus-sharpness


@SETTINGS
@given(finite_floats(-5.0, 5.0), finite_floats(1e-3, 100.0))
def test_sharpened_gap_formula_and_bound_in_50_digits(x, tau):
    assume(abs(x / tau) <= 300)
    with mpmath.workdps(DPS + 140):  # tau zeta(x / tau) - x cancels for x / tau up to 300
        t, x_mp = mpmath.mpf(tau), mpmath.mpf(x)
        gap = t * softplus_mp(x_mp / t) - max(0, x_mp)
        formula = t * mpmath.log1p(mpmath.exp(-abs(x_mp) / t))
        assert abs(gap - formula) <= mpmath.mpf(10) ** -45 * formula
        assert 0 < gap <= t * mpmath.log(2)


@SETTINGS
@given(finite_floats(-3.0, 3.0), finite_floats(0.01, 10.0))
def test_sharpened_gap_shrinks_with_the_temperature(x, tau):
    assume(abs(x / tau) <= 100)
    with mpmath.workdps(DPS + 100):
        x_mp = mpmath.mpf(x)

        def gap(t):
            return t * softplus_mp(x_mp / t) - max(0, x_mp)

        assert gap(mpmath.mpf(tau) / 2) < gap(mpmath.mpf(tau))


@pytest.mark.parametrize("tau", [2.0, 1.0, 0.1, 0.01, 0.001, 1e-6])
def test_sharpened_softplus_converges_uniformly_to_relu(tau):
    x = np.linspace(-3, 3, 6001)  # contains 0
    gap = tau * softplus(x / tau) - np.maximum(0, x)
    assert gap.max() == pytest.approx(tau * LN2, rel=1e-15)
    assert x[np.argmax(gap)] == 0.0 and np.all(gap > -1e-15)


@SETTINGS
@given(finite_floats(-3.0, 3.0), finite_floats(0.01, 10.0))
def test_slope_of_the_sharpened_softplus_is_sigmoid_of_x_over_tau(x, tau):
    with mpmath.workdps(DPS):
        t = mpmath.mpf(tau)
        slope = mpmath.diff(lambda u: t * zeta_expr(u / t), mpmath.mpf(x))
        assert abs(slope - sigmoid_mp(mpmath.mpf(x) / t)) < mpmath.mpf(10) ** -35


def test_softplus_is_the_log_sum_exp_of_zero_and_x():
    # the temperature of softmax-temperature: zeta(x) = LSE(0, x), tau zeta(x/tau) = tau LSE
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(
        softplus(x), special.logsumexp(np.stack([0 * x, x]), axis=0), rtol=4 * EPS
    )


def test_pytorch_threshold_correction_quoted_in_the_text():
    # at x / tau = 20 the dropped term tau log(1 + e^{-20}) is below tau e^{-20} ~ 2e-9 tau
    assert math.log1p(math.exp(-20)) < math.exp(-20) < 2.1e-9
    assert round(math.exp(-20), 9) == 2e-9


# ---------------------------------------------------------------- softplus-naive


@pytest.mark.parametrize(
    ("dtype", "ok", "bad"),
    [(np.float64, 709.78, 709.79), (np.float32, 88.72, 88.73)],
)
def test_naive_softplus_overflows_where_the_text_says(dtype, ok, bad):
    assert not raises_fp_error(softplus_naive, dtype(ok), over="raise")
    assert raises_fp_error(softplus_naive, dtype(bad), over="raise")
    with np.errstate(over="raise"):
        assert softplus(dtype(bad)) == pytest.approx(bad, rel=1e-6)


def test_last_good_inputs_of_the_naive_softplus_quoted_in_the_text():
    last64, last32 = np.float64(709.782712893384), np.float32(88.72283)
    with np.errstate(over="ignore"):
        assert np.isfinite(softplus_naive(last64))
        assert np.isinf(softplus_naive(np.nextafter(last64, np.inf)))
        assert np.isfinite(softplus_naive(last32))
        assert np.isinf(softplus_naive(np.nextafter(last32, np.float32(np.inf))))
    with mpmath.workdps(DPS):
        log_max64 = mpmath.log(mpmath.mpf(float(np.finfo(np.float64).max)))
        log_max32 = mpmath.log(mpmath.mpf(float(np.finfo(np.float32).max)))
        assert last64 <= log_max64 < np.nextafter(last64, np.inf)
        assert last32 < log_max32 < np.nextafter(last32, np.float32(np.inf))
        assert mpmath.nstr(log_max32, 9) == "88.7228391"


@pytest.mark.parametrize(("dtype", "bits"), [(np.float64, 53), (np.float32, 24)])
def test_naive_softplus_is_exactly_zero_from_minus_bits_log2(dtype, bits):
    one = dtype(1)
    # 1 + 2**-bits is a tie between 1 and 1 + eps, and ties go to the even neighbour, 1
    assert one + dtype(2.0**-bits) == one
    assert one + np.nextafter(dtype(2.0**-bits), dtype(0)) == one
    assert one + np.nextafter(dtype(2.0**-bits), dtype(1)) > one
    threshold = -bits * LN2
    # the float nearest to -bits ln 2 lies just above it (so e^x > 2**-bits there): exclude it
    below = np.linspace(threshold - 60, threshold, 1001).astype(dtype)
    below = below[below.astype(np.float64) < threshold]  # compare in float64, not in dtype
    assert np.all(softplus_naive(below) == 0)
    # exactly at the threshold: the last float below -bits ln 2 gives 0, the next one does not
    nearest = dtype(threshold)
    last = nearest if float(nearest) < threshold else np.nextafter(nearest, dtype(-np.inf))
    assert softplus_naive(last) == 0 and softplus_naive(np.nextafter(last, dtype(0))) > 0
    with mpmath.workdps(DPS):
        assert softplus_mp(below[-1]) > 0  # the true value is not 0: 100 % error
        assert rel_error(softplus_naive(below[-1]), softplus_mp(below[-1])) == 1.0


def test_naive_zero_thresholds_quoted_in_the_text_to_two_decimals():
    assert f"{53 * LN2:.2f}" == "36.74" and f"{24 * LN2:.2f}" == "16.64"
    assert softplus_naive(np.float64(-36.74)) == 0 and softplus_naive(np.float64(-36.73)) > 0
    assert softplus_naive(np.float32(-16.64)) == 0 and softplus_naive(np.float32(-16.63)) > 0


def test_the_correction_at_1000_is_below_1e_minus_434():
    # zeta(1000) = 1000 + zeta(-1000), and zeta(-1000) < e^{-1000} (equal to 50 digits)
    with mpmath.workdps(DPS):
        assert 0 < softplus_mp(-1000) <= mpmath.exp(-1000) < mpmath.mpf("1e-434")


def test_naive_relative_error_grows_like_half_eps_times_exp_minus_x():
    x = np.linspace(-36, -1, 351)
    with mpmath.workdps(DPS):
        err = np.array([rel_error(softplus_naive(t), softplus_mp(t)) for t in x])
    bound = EPS / 2 * np.exp(-x) * 1.01 + 2 * EPS
    assert np.all(err <= bound)
    with mpmath.workdps(DPS):
        at_20 = rel_error(softplus_naive(-20.0), softplus_mp(-20))
    assert 1e-8 < at_20 < EPS / 2 * math.exp(20) and f"{at_20:.1e}" == "3.4e-08"


# ---------------------------------------------------------------- softplus-stable


@pytest.mark.parametrize(("dtype", "eps"), [(np.float64, EPS), (np.float32, EPS32)])
def test_stable_formula_is_within_two_eps_on_minus_60_60(dtype, eps):
    x = np.linspace(-60, 60, 1201).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = softplus_stable(x)
    assert values.dtype == dtype
    with mpmath.workdps(DPS):
        errs = [rel_error(v, softplus_mp(t)) for t, v in zip(x, values, strict=True)]
    assert max(errs) < 2 * eps


@SETTINGS
@given(finite_floats(-708.0, 1e300))
def test_stable_formula_agrees_with_the_reference(x):
    assert float(softplus_stable(np.float64(x))) == pytest.approx(
        float(softplus(x)), rel=4 * EPS, abs=2 * SMALLEST_SUBNORMAL
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_has_no_floating_point_error_on_extreme_inputs(dtype):
    big = float(np.finfo(dtype).max)
    x = np.array([-big, -1e4, -800, -40, 0, 40, 800, 1e4, big], dtype=np.float64).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        z, ls = softplus(x), log_sigmoid(x)
        np.log(sigmoid(np.asarray([0.0])))  # the raise mode is on
    assert z.dtype == dtype == ls.dtype
    assert np.all(z >= 0) and np.all(ls <= 0) and np.all(np.isfinite(z))
    assert z[-1] == x[-1] and z[0] == 0 and ls[0] == x[0]


def test_log_sigmoid_naive_breaks_and_the_stable_form_does_not():
    assert np.log(sigmoid(40.0)) == 0.0
    assert raises_fp_error(lambda: np.log(sigmoid(-800.0)), divide="raise")
    assert log_sigmoid(-800.0) == -800.0
    with mpmath.workdps(DPS):
        assert rel_error(log_sigmoid(40.0), -softplus_mp(-40)) < 2 * EPS
        assert rel_error(softplus(-40.0), softplus_mp(-40)) < 2 * EPS
    assert f"{float(softplus(-40.0)):.1e}" == "4.2e-18"


def test_library_softplus_functions_agree_with_the_reference():
    x = np.concatenate([np.linspace(-745, 745, 14901), [-1e4, 1e4, -1e300, 1e300]])
    for other in [np.logaddexp(0, x), special.softplus(x)]:
        np.testing.assert_allclose(other, softplus(x), rtol=4 * EPS, atol=2 * SMALLEST_SUBNORMAL)
    np.testing.assert_allclose(
        special.log_expit(x), log_sigmoid(x), rtol=4 * EPS, atol=2 * SMALLEST_SUBNORMAL
    )


# ---------------------------------------------------------------- softplus-positive


@SETTINGS
@given(finite_floats(-1e3, 1e3), finite_floats(-1e3, 1e3))
def test_softplus_is_one_lipschitz(a, b):
    assert abs(float(softplus(a)) - float(softplus(b))) <= abs(a - b)
    with mpmath.workdps(DPS + 450):
        if a != b:
            assert abs(softplus_mp(a) - softplus_mp(b)) < abs(mpmath.mpf(a) - mpmath.mpf(b))


@SETTINGS
@given(finite_floats(-100.0, 700.0))
def test_sigma_over_zeta_is_below_one(s):
    with mpmath.workdps(DPS):
        assert sigmoid_mp(s) / softplus_mp(s) < 1
        t = mpmath.exp(mpmath.mpf(s))
        assert mpmath.log1p(t) > t / (1 + t)


@SETTINGS
@given(finite_floats(-100.0, 0.0))
def test_softplus_is_close_to_exp_for_negative_s(s):
    # zeta(s) / e^s = 1 - e^s/2 + e^{2s}/3 - ...: resolving the e^{2s} term needs 2 |s| / ln 10
    # digits beyond 1
    with mpmath.workdps(DPS + 100):
        ratio = softplus_mp(s) / mpmath.exp(mpmath.mpf(s))
        assert 0 < 1 - ratio <= mpmath.exp(mpmath.mpf(s)) / 2


def test_exp_overflows_where_softplus_stays_linear():
    assert raises_fp_error(np.exp, np.float64(800.0), over="raise")
    assert raises_fp_error(np.exp, np.float32(88.73), over="raise")
    with np.errstate(over="raise"):
        assert softplus(800.0) == 800.0 and softplus(np.float32(1e4)) == np.float32(1e4)
    assert round(math.exp(10), -3) == 22_000


def gaussian_nll_mp(mu, beta, y):
    """-log N(y | mu, 1 / beta): the normal with mean mu and precision beta."""
    return mpmath.log(2 * mpmath.pi) / 2 - mpmath.log(beta) / 2 + beta * (y - mu) ** 2 / 2


@SETTINGS
@given(finite_floats(-5.0, 5.0), finite_floats(0.01, 100.0), finite_floats(-5.0, 5.0))
def test_gaussian_nll_is_minus_the_log_density_with_precision_beta(mu, beta, y):
    with mpmath.workdps(DPS):
        mu_m, beta_m, y_m = mpmath.mpf(mu), mpmath.mpf(beta), mpmath.mpf(y)
        density = mpmath.npdf(y_m, mu_m, 1 / mpmath.sqrt(beta_m))  # standard deviation
        assert abs(-mpmath.log(density) - gaussian_nll_mp(mu_m, beta_m, y_m)) < 1e-45


@SETTINGS
@given(finite_floats(-5.0, 5.0), finite_floats(-5.0, 5.0), finite_floats(-5.0, 5.0))
def test_gaussian_nll_gradient_with_a_softplus_precision(mu, s, y):
    # (eq-gaussian-nll-grad), and the same gradient as g'/g (g (y - mu)^2 - 1) / 2 for
    # beta = g(s), with g = zeta and g = exp
    with mpmath.workdps(DPS):
        mu_m, s_m, y_m = mpmath.mpf(mu), mpmath.mpf(s), mpmath.mpf(y)
        d_s = mpmath.diff(lambda t: gaussian_nll_mp(mu_m, softplus_mp(t), y_m), s_m)
        d_mu = mpmath.diff(lambda m: gaussian_nll_mp(m, softplus_mp(s_m), y_m), mu_m)
        expected_s = sigmoid_mp(s_m) / 2 * ((y_m - mu_m) ** 2 - 1 / softplus_mp(s_m))
        assert abs(d_s - expected_s) <= mpmath.mpf(10) ** -35 * max(1, abs(expected_s))
        assert abs(d_mu - softplus_mp(s_m) * (mu_m - y_m)) < mpmath.mpf(10) ** -35 * max(
            1, abs(d_mu)
        )
        for g, factor in [(zeta_expr, sigmoid_mp(s_m) / softplus_mp(s_m)), (mpmath.exp, 1)]:
            grad = mpmath.diff(lambda t, g=g: gaussian_nll_mp(mu_m, g(t), y_m), s_m)
            expected = factor * (g(s_m) * (y_m - mu_m) ** 2 - 1) / 2
            assert abs(grad - expected) <= mpmath.mpf(10) ** -35 * max(1, abs(expected))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fitted_precision_is_the_inverse_mean_squared_residual(seed):
    rng = np.random.default_rng(seed)
    mu, y = 1.0, rng.normal(1.0, rng.uniform(0.1, 3.0), size=500)
    mse = np.mean((y - mu) ** 2)

    def mean_loss(s):
        beta = float(softplus(s))
        return np.mean(0.5 * np.log(2 * np.pi) - 0.5 * np.log(beta) + 0.5 * beta * (y - mu) ** 2)

    fit = optimize.minimize_scalar(mean_loss, bracket=(-5.0, 5.0), tol=1e-12)
    assert float(softplus(fit.x)) == pytest.approx(1 / mse, rel=1e-6)
    s_star = float(softplus_inv(1 / mse))
    assert mean_loss(s_star) <= min(mean_loss(s_star - 1e-3), mean_loss(s_star + 1e-3))


def test_the_variance_floor_caps_the_precision():
    s = np.linspace(-30, 700, 7301)
    v_min = 1e-6
    beta = 1 / (1 / softplus(s) + v_min)
    assert np.all(beta < 1 / v_min) and np.all(beta > 0) and np.all(np.diff(beta) >= 0)


def test_the_chapter_corrects_the_source_articles_mean():
    text = CHAPTER.read_text(encoding="utf-8")
    assert "Erratum" in text and r"\beta = \zeta(s)" in text
    assert "precision" in text and "sigma_{\\mathrm{std}}" not in text
    assert "goodfellow2016" in text


# ---------------------------------------------------------------- softplus-step


@SETTINGS
@given(finite_floats(-30.0, 30.0))
def test_third_derivative_is_sigma_one_minus_sigma_one_minus_two_sigma(x):
    with mpmath.workdps(DPS):
        s = sigmoid_mp(x)
        third = mpmath.diff(zeta_expr, mpmath.mpf(x), 3)
        assert abs(third - s * (1 - s) * (1 - 2 * s)) < mpmath.mpf(10) ** -35


@pytest.mark.parametrize("x", [-2.0, 1.0, 3.0])
def test_central_difference_truncation_error_is_h2_over_6_times_zeta3(x):
    with mpmath.workdps(DPS):
        s = sigmoid_mp(x)
        third = s * (1 - s) * (1 - 2 * s)
        for delta in [mpmath.mpf("1e-3"), mpmath.mpf("1e-4")]:
            d = (softplus_mp(x + delta) - softplus_mp(x - delta)) / (2 * delta)
            assert abs((d - s) / delta**2 - third / 6) < 10 * delta**2


@pytest.mark.parametrize("delta", [0.5, 0.1, 1e-3, 1e-6])
def test_central_difference_at_zero_is_exact(delta):
    with mpmath.workdps(DPS):
        d = (softplus_mp(delta) - softplus_mp(-delta)) / (2 * mpmath.mpf(delta))
        assert abs(d - mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -45
    assert abs(central_difference(0.0, delta, np.float64) - 0.5) < 1e-15 / delta


def errors_over_steps(x, dtype, deltas):
    with mpmath.workdps(DPS):
        exact = sigmoid_mp(dtype(x))
        return np.array(
            [
                float(abs(mpmath.mpf(float(central_difference(x, delta, dtype))) - exact))
                for delta in deltas
            ]
        )


@pytest.mark.parametrize(("dtype", "eps"), [(np.float64, EPS), (np.float32, EPS32)])
@pytest.mark.parametrize("x", [-1.0, 0.5, 1.0, 2.0])
def test_best_step_is_of_the_order_of_eps_to_the_one_third(dtype, eps, x):
    deltas = np.logspace(-13, -0.5, 126)
    err = errors_over_steps(x, dtype, deltas)
    best = np.argmin(err)
    assert eps ** (1 / 3) / 10 < deltas[best] < 10 * eps ** (1 / 3)
    assert err[best] < 10 * eps ** (2 / 3)
    # the V: both far ends are much worse than the bottom
    assert err[0] > 100 * err[best] and err[-1] > 100 * err[best]


def test_step_numbers_quoted_in_the_text():
    assert f"{EPS ** (1 / 3):.0e}" == "6e-06" and f"{EPS32 ** (1 / 3):.0e}" == "5e-03"
    assert f"{EPS ** (2 / 3):.0e}" == "4e-11"
    # the model's optimum at x = 1, (3 eps zeta(1) / |zeta'''(1)|)^(1/3), is about 2e-5
    with mpmath.workdps(DPS):
        s = sigmoid_mp(1)
        third = abs(s * (1 - s) * (1 - 2 * s))
        h_model = float((3 * EPS * softplus_mp(1) / third) ** (mpmath.mpf(1) / 3))
    assert 1e-5 < h_model < 3e-5
    # float64 central differences at the best step have about 10 correct digits, or more
    err = errors_over_steps(1.0, np.float64, [EPS ** (1 / 3)])[0]
    assert err < 1e-9


def test_float32_tiny_steps_give_a_zero_difference():
    x, delta = np.float32(1), np.float32(1e-8)
    assert x + delta == x and central_difference(1.0, 1e-8, np.float32) == 0


# ---------------------------------------------------------------- the chapter's text


def test_chapter_has_the_labels_other_pages_and_the_grader_use():
    text = CHAPTER.read_text(encoding="utf-8")
    for label in [
        "softplus-chapter",
        "softplus-goals",
        "softplus-definition",
        "softplus-range",
        "softplus-smooth-max",
        "softplus-identities",
        "softplus-odd-part",
        "softplus-log-sigmoid",
        "softplus-inverse",
        "softplus-sharpness",
        "softplus-numerics",
        "softplus-naive",
        "softplus-stable",
        "softplus-positive",
        "softplus-step",
        "softplus-summary",
    ]:
        assert f"({label})=" in text, label
    assert "{doc}`softplus_exercise`" in text
    assert text.index("(softplus-chapter)=") < text.index("# Softplus")


def visible_assert_lines(text):
    """Assert lines in the page's code cells that are shown (not folded or removed)."""
    count = 0
    for body in re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", text, re.M | re.S):
        tags = re.search(r"^:tags:\s*\[(.*)\]", body, re.M)
        if tags and {"hide-input", "remove-input", "remove-cell"} & {
            t.strip().strip("'\"") for t in tags.group(1).split(",")
        }:
            continue
        count += sum(
            1
            for line in body.splitlines()
            if line.strip().startswith("assert") or "np.testing.assert" in line
        )
    return count


def test_the_page_shows_at_most_15_assert_lines():
    # Verification code is folded; the assertions that teach stay in the open.
    assert 0 < visible_assert_lines(CHAPTER.read_text(encoding="utf-8")) <= 15


def test_chapter_quotes_the_thresholds_these_tests_compute():
    text = CHAPTER.read_text(encoding="utf-8")
    with mpmath.workdps(DPS):
        over64 = mpmath.log(mpmath.mpf(float(np.finfo(np.float64).max)))
        over32 = mpmath.log(mpmath.mpf(float(np.finfo(np.float32).max)))
    last32 = np.float32(88.72283)
    quoted = {
        "naive overflow, float64": f"{math.floor(over64 * 100) / 100:.2f}",  # 709.78
        "naive overflow, float32": f"{math.floor(over32 * 100) / 100:.2f}",  # 88.72
        "last finite input, float64": repr(float(np.float64(over64))),  # 709.782712893384
        "last finite input, float32": str(last32),  # 88.72283
        "log of the largest float32": mpmath.nstr(over32, 9),  # 88.7228391
        "naive is 0, float64": f"{53 * LN2:.2f}",  # 36.74
        "naive is 0, float32": f"{24 * LN2:.2f}",  # 16.64
        "rounds to x from": "33.3",
        "inverse at 0.5": f"{float(softplus_inv(0.5)):.3f}",  # -0.433
    }
    for what, number in quoted.items():
        assert re.search(rf"(?<![\d.]){re.escape(number.lstrip('-'))}(?!\d)", text), (
            what,
            number,
        )
