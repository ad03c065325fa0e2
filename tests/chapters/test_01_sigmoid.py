"""Tests for every identity stated in chapter 1, "The sigmoid" (chapters/01_sigmoid/sigmoid.md).

Each test names, in a comment above it, the section label of the statement it checks. Values
are checked on the reference implementations in ``autograder.reference`` and, where accuracy
is the point, against 50-digit mpmath. The "naive" formulas of the chapter are re-stated here
so that the breakdown points the text quotes can be checked on them.
"""

import math
import re
from pathlib import Path

import mpmath
import nbformat
import numpy as np
import pytest
from helpers import EPS, SMALLEST_SUBNORMAL
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.checks import assert_passes
from autograder.checks.sigmoid import floats_next_to_half
from autograder.reference import logit, sigmoid, sigmoid_grad, softplus

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "chapters" / "01_sigmoid" / "sigmoid.md"
SOLUTION = ROOT / "solutions" / "01_sigmoid" / "sigmoid_exercise.ipynb"
DPS = 50
EPS32 = float(np.finfo(np.float32).eps)  # 2**-23
LN2 = math.log(2)

SETTINGS = settings(deadline=None, database=None, derandomize=True)


# ---------------------------------------------------------------- helpers


def finite_floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def to_mp(x):
    """An mpf as it is, any float (float32 included) at its exact value."""
    return x if isinstance(x, mpmath.mpf) else mpmath.mpf(float(x))


def sigmoid_mp(x):
    """sigma(x) with 50 significant digits."""
    with mpmath.workdps(DPS):
        return 1 / (1 + mpmath.exp(-to_mp(x)))


def sigmoid_grad_mp(x):
    """sigma'(x) = e^{-x} / (1 + e^{-x})^2 with 50 significant digits."""
    with mpmath.workdps(DPS):
        t = mpmath.exp(-to_mp(x))
        return t / (1 + t) ** 2


def logit_mp(p):
    """log(p / (1 - p)) with 50 significant digits."""
    with mpmath.workdps(DPS):
        p = to_mp(p)
        return mpmath.log(p / (1 - p))


def rel_error(value, exact):
    """|value / exact - 1| in 50 digits, as a float (0 if both are 0)."""
    with mpmath.workdps(DPS):
        if exact == 0:
            return 0.0 if value == 0 else math.inf
        return float(abs(mpmath.mpf(float(value)) / exact - 1))


# For mpmath.diff, which raises the working precision itself: no fixed precision inside.
def sigma_expr(t):
    return 1 / (1 + mpmath.exp(-t))


def logit_expr(q):
    return mpmath.log(q / (1 - q))


def raises_fp_error(f, *args, **errstate):
    """True if f(*args) raises FloatingPointError under np.errstate(**errstate)."""
    with np.errstate(**errstate):
        try:
            f(*args)
        except FloatingPointError:
            return True
    return False


# The textbook formulas of the chapter, evaluated in the precision of their input.
def sigmoid_naive(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_naive2(x):
    return np.exp(x) / (1 + np.exp(x))


def sigmoid_grad_naive(x):
    s = sigmoid(x)
    return s * (1 - s)


def logit_naive(p):
    return np.log(p / (1 - p))


# ---------------------------------------------------------------- sigmoid-definition


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_two_forms_of_the_definition_agree_in_50_digits(x):
    with mpmath.workdps(DPS):
        t = mpmath.mpf(x)
        first = 1 / (1 + mpmath.exp(-t))
        second = mpmath.exp(t) / (mpmath.exp(t) + 1)
        assert abs(first / second - 1) < mpmath.mpf(10) ** -45


@SETTINGS
@given(finite_floats(-1e4, 1e4))
def test_reference_sigmoid_is_the_definition(x):
    s = sigmoid(x)
    exact = sigmoid_mp(x)
    # a few ulp relative, and subnormal results to within their (absolute) spacing
    assert abs(float(s) - float(exact)) <= 4 * EPS * float(exact) + 2 * SMALLEST_SUBNORMAL


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_elementwise_and_keeps_the_shape(shape, dtype):
    x = np.random.default_rng(1).normal(0, 10, size=shape).astype(dtype)
    s = sigmoid(x)
    assert np.shape(s) == shape and s.dtype == dtype
    expected = [sigmoid(dtype(v)) for v in x.flat]
    np.testing.assert_array_equal(np.ravel(s), expected)


def test_sigmoid_of_integers_is_float64():
    assert sigmoid(np.array([-1, 0, 1])).dtype == np.float64
    assert sigmoid(0) == 0.5


# ---------------------------------------------------------------- sigmoid-range


@SETTINGS
@given(finite_floats(-708.0, 36.0))
def test_range_is_the_open_interval(x):
    assert 0 < sigmoid(x) < 1


@SETTINGS
@given(st.floats(allow_nan=False))
def test_range_is_within_closed_interval_for_every_float(x):
    assert 0 <= sigmoid(x) <= 1


@SETTINGS
@given(finite_floats(0.01, 50.0))
def test_tails_are_bounded_by_exponentials(x):
    # 1 - sigma(x) < e^{-x} and sigma(-x) < e^{-x}, in 50 digits (float64 sigma(50) is 1)
    with mpmath.workdps(DPS):
        t = mpmath.mpf(x)
        assert 0 < 1 - sigmoid_mp(t) < mpmath.exp(-t)
        assert 0 < sigmoid_mp(-t) < mpmath.exp(-t)


def test_limits_at_infinity():
    assert sigmoid(np.inf) == 1.0 and sigmoid(-np.inf) == 0.0
    assert sigmoid(1e4) == 1.0 and sigmoid(-1e4) == 0.0


def test_centre_is_one_half_exactly():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(-0.0) == 0.5
    assert sigmoid(np.float32(0.0)) == np.float32(0.5)


def test_sigmoid_is_increasing():
    x = np.sort(np.random.default_rng(2).uniform(-800, 800, size=5000))
    assert np.all(np.diff(sigmoid(x)) >= 0)
    x = np.linspace(-20, 20, 4001)  # where float64 resolves it: strictly increasing
    assert np.all(np.diff(sigmoid(x)) > 0)


def test_float64_sigmoid_of_50_is_one_but_the_true_gap_is_2e_22():
    assert sigmoid(50.0) == 1.0
    with mpmath.workdps(DPS):
        gap = 1 - sigmoid_mp(50)
    assert 1.92e-22 < gap < 1.93e-22


# ---------------------------------------------------------------- sigmoid-symmetry


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_symmetry_in_50_digits(x):
    with mpmath.workdps(DPS):
        assert abs(sigmoid_mp(-x) - (1 - sigmoid_mp(x))) < mpmath.mpf(10) ** -45


@SETTINGS
@given(finite_floats(-40.0, 40.0))
def test_symmetry_of_the_reference_to_absolute_rounding(x):
    assert abs(sigmoid(-x) - (1 - sigmoid(x))) <= EPS


@SETTINGS
@given(finite_floats(0.0, 700.0))
def test_sigmoid_of_minus_x_is_the_small_complement_with_full_relative_accuracy(x):
    with mpmath.workdps(400):  # 1 - sigma(x) cancels about x / 2.3 digits even in mpmath
        complement = 1 - 1 / (1 + mpmath.exp(-mpmath.mpf(x)))
    assert rel_error(sigmoid(-x), complement) < 4 * EPS


# ---------------------------------------------------------------- sigmoid-derivative


@SETTINGS
@given(finite_floats(-20.0, 20.0))
def test_derivative_formula_matches_numerical_differentiation_in_50_digits(x):
    with mpmath.workdps(DPS):
        numeric = mpmath.diff(sigma_expr, mpmath.mpf(x))
        closed = sigmoid_mp(x) * sigmoid_mp(-x)
        assert abs(numeric / closed - 1) < mpmath.mpf(10) ** -30
        assert abs(closed - sigmoid_mp(x) * (1 - sigmoid_mp(x))) < mpmath.mpf(10) ** -45


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_sigmoid_grad_is_sigma_x_sigma_minus_x(x):
    g = sigmoid_grad(x)
    assert rel_error(g, sigmoid_grad_mp(x)) < 4 * EPS
    np.testing.assert_allclose(g, sigmoid(x) * sigmoid(-x), rtol=4 * EPS)


def test_sigmoid_grad_matches_central_differences():
    x = np.linspace(-20, 20, 801)
    h = 1e-5
    central = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_grad(x), central, rtol=0, atol=1e-10)


@SETTINGS
@given(finite_floats(-700.0, 2.0))
def test_sigma_one_minus_sigma_is_accurate_where_sigma_is_not_near_one(x):
    # 1 - sigma is computed exactly once sigma >= 1/2, so the only error is sigma's own,
    # magnified by sigma / (1 - sigma) <= e^2 here.
    assert rel_error(sigmoid_grad_naive(x), sigmoid_grad_mp(x)) < 16 * EPS


@SETTINGS
@given(finite_floats(-1e4, 1e4))
def test_sigma_one_minus_sigma_is_always_right_in_absolute_terms(x):
    assert abs(sigmoid_grad_naive(x) - float(sigmoid_grad_mp(x))) <= EPS


@SETTINGS
@given(st.floats(allow_nan=False))
def test_derivative_is_even_and_at_most_one_quarter(x):
    assert sigmoid_grad(-x) == sigmoid_grad(x)
    assert 0 <= sigmoid_grad(x) <= 0.25


def test_maximum_of_the_derivative_is_one_quarter_at_zero():
    assert sigmoid_grad(0.0) == 0.25
    x = np.linspace(-10, 10, 20001)
    g = sigmoid_grad(x)
    assert x[np.argmax(g)] == 0.0
    assert np.all(g[np.abs(x) >= 1e-3] < 0.25)


@SETTINGS
@given(finite_floats(1e-9, 1 - 1e-9))
def test_completing_the_square(s):
    # s (1 - s) = 1/4 - (s - 1/2)^2, in 50 digits
    with mpmath.workdps(DPS):
        s = mpmath.mpf(s)
        assert abs(s * (1 - s) - (mpmath.mpf(1) / 4 - (s - mpmath.mpf(1) / 2) ** 2)) < 1e-45


def test_backward_pass_from_the_cached_output():
    # sigmoid_layer_backward: dL/dx = upstream * s * (1 - s), for L = sum(w * sigma(x))
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=5), rng.normal(size=5)
    s = sigmoid(x)
    grad = w * s * (1 - s)
    with mpmath.workdps(DPS):
        for i in range(5):
            exact = w[i] * mpmath.diff(sigma_expr, mpmath.mpf(x[i]))
            assert abs(grad[i] - exact) < 1e-15


# ---------------------------------------------------------------- sigmoid-logit


@SETTINGS
@given(finite_floats(1e-300, 1 - 2.0**-53))
def test_logit_solves_p_equals_sigma_x_in_50_digits(p):
    with mpmath.workdps(DPS):
        assert abs(sigmoid_mp(logit_mp(p)) / mpmath.mpf(p) - 1) < mpmath.mpf(10) ** -40


@SETTINGS
@given(finite_floats(-700.0, 30.0))
def test_logit_of_sigmoid_is_the_identity_up_to_the_resolution_of_sigma(x):
    # sigma(x) is known to a relative 2 eps, which moves logit by about 2 eps / (1 - sigma),
    # i.e. 2 eps (1 + e^x); logit itself adds a few ulp of |x|.
    error = abs(logit(sigmoid(x)) - x)
    assert error <= 4 * EPS * (1 + math.exp(x) + abs(x))


@SETTINGS
@given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True))
def test_sigmoid_of_logit_is_the_identity(p):
    y = logit(p)
    # an error of a few ulp of |y| in y is a relative error of the same size in sigma(y)
    assert abs(sigmoid(y) - p) <= 4 * EPS * (1 + abs(y)) * p + 2 * SMALLEST_SUBNORMAL


def test_round_trip_limits_quoted_in_the_text():
    assert sigmoid(1e-20) == 0.5 and logit(sigmoid(1e-20)) == 0.0
    assert sigmoid(40.0) == 1.0 and logit(sigmoid(40.0)) == np.inf
    # at x = 36 the round trip may be off by up to about 2**-53 e^36 ~ 0.5
    assert 2.0**-53 * math.exp(36) == pytest.approx(0.48, abs=0.01)
    assert abs(logit(sigmoid(36.0)) - 36.0) <= 2.0**-52 * math.exp(36)


@SETTINGS
@given(finite_floats(0.5, 1 - 2.0**-53))
def test_logit_is_odd_about_one_half(p):
    # 1 - p is exact for p >= 1/2
    assert logit(1 - p) == pytest.approx(-logit(p), rel=4 * EPS, abs=4 * EPS * SMALLEST_SUBNORMAL)


def test_log_odds_readings():
    assert logit(0.8) == pytest.approx(math.log(4), rel=2 * EPS)
    with mpmath.workdps(DPS):
        for x in [-7.3, 0.0, 1.0, 12.5]:
            p, q = sigmoid_mp(x), sigmoid_mp(x + 1)
            assert abs(p / (1 - p) - mpmath.exp(mpmath.mpf(x))) < 1e-40 * mpmath.exp(x)
            assert abs((q / (1 - q)) / (p / (1 - p)) - mpmath.e) < 1e-40


@SETTINGS
@given(finite_floats(1e-6, 1 - 1e-6))
def test_logit_derivative_in_50_digits(p):
    with mpmath.workdps(DPS):
        q = mpmath.mpf(p)
        exact = 1 / (q * (1 - q))
        assert abs(mpmath.diff(logit_expr, q) / exact - 1) < mpmath.mpf(10) ** -30
        # inverse-function rule: logit'(sigma(x)) sigma'(x) = 1 with x = logit(p)
        assert abs(exact * sigmoid_grad_mp(logit_mp(q)) - 1) < mpmath.mpf(10) ** -40


def test_logit_derivative_against_central_differences():
    p = np.linspace(0.01, 0.99, 197)
    h = 1e-4 * np.minimum(p, 1 - p)
    central = (logit(p + h) - logit(p - h)) / (2 * h)
    np.testing.assert_allclose(central, 1 / (p * (1 - p)), rtol=1e-6)
    assert np.min(1 / (p * (1 - p))) >= 4.0 and 1 / (0.5 * 0.5) == 4.0


# ---------------------------------------------------------------- sigmoid-overflow


def test_float_formats_the_numerics_rely_on():
    # (quoted in the floating-point appendix, fp-epsilon and fp-overflow)
    assert 1.79e308 < np.finfo(np.float64).max < 1.8e308
    assert 3.40e38 < float(np.finfo(np.float32).max) < 3.41e38
    assert 1 - np.nextafter(1.0, 0.0) == 2.0**-53 and np.nextafter(1.0, 2.0) - 1 == 2.0**-52
    assert np.float32(1) - np.nextafter(np.float32(1), np.float32(0)) == np.float32(2.0**-24)
    assert np.nextafter(np.float32(1), np.float32(2)) - np.float32(1) == np.float32(2.0**-23)


@pytest.mark.parametrize(
    ("dtype", "ok", "bad"), [(np.float64, 709.78, 709.79), (np.float32, 88.72, 88.73)]
)
def test_exp_overflows_just_above_log_of_the_largest_float(dtype, ok, bad):
    with mpmath.workdps(DPS):
        threshold = mpmath.log(mpmath.mpf(float(np.finfo(dtype).max)))
    assert ok < threshold < bad
    assert not raises_fp_error(np.exp, dtype(ok), over="raise")
    assert raises_fp_error(np.exp, dtype(bad), over="raise")


@pytest.mark.parametrize(
    ("dtype", "ok", "bad"), [(np.float64, -709.78, -709.79), (np.float32, -88.72, -88.73)]
)
def test_naive_sigmoid_overflows_where_the_text_says(dtype, ok, bad):
    assert not raises_fp_error(sigmoid_naive, dtype(ok), over="raise")
    assert raises_fp_error(sigmoid_naive, dtype(bad), over="raise")
    with pytest.warns(RuntimeWarning, match="overflow"), np.errstate(over="warn"):
        value = sigmoid_naive(dtype(bad))
    assert value == 0  # 1 / (1 + inf): right to within the smallest normal number


def test_naive_value_at_minus_710_is_zero_but_the_true_value_is_subnormal():
    with np.errstate(over="ignore"):
        assert sigmoid_naive(-710.0) == 0.0
    exact = sigmoid_mp(-710)
    assert 4.47e-309 < exact < 4.48e-309
    assert math.exp(-709.78) == pytest.approx(5.6e-309, rel=0.01)
    assert sigmoid(-710.0) > 0
    assert abs(sigmoid(-710.0) - float(exact)) <= 2 * SMALLEST_SUBNORMAL


def test_second_form_gives_nan_for_large_positive_x():
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(sigmoid_naive2(np.float64(710.0)))
    assert raises_fp_error(sigmoid_naive2, np.float64(710.0), over="ignore", invalid="raise")
    assert sigmoid(710.0) == 1.0


# ---------------------------------------------------------------- sigmoid-stable


def test_np_where_with_the_two_textbook_forms_still_overflows():
    def trap(x):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

    assert raises_fp_error(trap, np.array([-1000.0, 1000.0]), over="raise")


def test_stable_form_in_50_digits():
    # 1 / (1 + e^{-|x|}) for x >= 0 and e^{-|x|} / (1 + e^{-|x|}) for x < 0
    with mpmath.workdps(DPS):
        for x in [-300.0, -5.5, -1e-3, 0.0, 2.0, 300.0]:
            z = mpmath.exp(-abs(mpmath.mpf(x)))
            stable = 1 / (1 + z) if x >= 0 else z / (1 + z)
            assert abs(stable / sigmoid_mp(x) - 1) < mpmath.mpf(10) ** -45


EXTREMES = np.array(
    [
        -np.inf,
        -1e4,
        -800,
        -745.2,
        -710,
        -709.79,
        -40,
        -1e-8,
        0,
        1e-8,
        40,
        709.79,
        710,
        745.2,
        800,
        1e4,
        np.inf,
    ]
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", [sigmoid, sigmoid_grad])
def test_no_floating_point_error_on_extreme_inputs(f, dtype):
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = f(EXTREMES.astype(dtype))
    assert y.dtype == dtype and np.all(np.isfinite(y))


def test_logit_has_no_floating_point_error_inside_the_open_interval():
    p = np.array(
        [SMALLEST_SUBNORMAL, 1e-300, 1e-8, 0.25, np.nextafter(0.5, 0), 0.5, 0.75, 1 - 2.0**-53]
    )
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = logit(p)
        y32 = logit(p[2:].astype(np.float32))
    assert np.all(np.isfinite(y)) and y32.dtype == np.float32


def test_underflow_below_minus_745_13_is_the_correctly_rounded_zero():
    with mpmath.workdps(DPS):
        half_smallest = mpmath.mpf(2) ** -1075
        assert mpmath.exp(-745.14) < half_smallest < mpmath.exp(-745.13)
    assert sigmoid(-745.14) == 0.0 and sigmoid(-745.13) > 0.0


# ---------------------------------------------------------------- sigmoid-grad-numerics


def test_one_plus_exp_minus_x_rounds_to_one_at_53_ln_2_in_float64():
    threshold = 53 * LN2
    assert round(threshold, 2) == 36.74
    assert sigmoid_naive(threshold - 1e-4) < 1.0
    assert sigmoid_naive(threshold + 1e-4) == 1.0
    assert sigmoid_naive(36.73) < 1.0 and sigmoid_naive(36.74) == 1.0


def test_one_plus_exp_minus_x_rounds_to_one_at_24_ln_2_in_float32():
    threshold = 24 * LN2
    assert round(threshold, 2) == 16.64
    assert sigmoid_naive(np.float32(threshold - 1e-3)) < 1
    assert sigmoid_naive(np.float32(threshold + 1e-3)) == 1
    assert sigmoid_naive(np.float32(16.63)) < 1 and sigmoid_naive(np.float32(16.64)) == 1


def test_even_a_correctly_rounded_sigmoid_reaches_one_at_54_ln_2():
    # 1 - e^{-x} rounds to 1 once e^{-x} < 2**-54, half the spacing below 1
    assert round(54 * LN2, 2) == 37.43
    assert float(sigmoid_mp(54 * LN2 - 1e-4)) < 1.0
    assert float(sigmoid_mp(54 * LN2 + 1e-4)) == 1.0
    # the reference rounds at one of the two thresholds, whichever its formula gives
    assert sigmoid(36.7) < 1.0 and sigmoid(37.5) == 1.0
    assert sigmoid(np.float32(16.6)) < 1 and sigmoid(np.float32(17.4)) == 1


@pytest.mark.parametrize(("dtype", "x"), [(np.float64, 37.5), (np.float32, 17.4)])
def test_naive_derivative_is_zero_where_sigma_rounds_to_one(dtype, x):
    x = dtype(x)
    assert sigmoid_grad_naive(x) == 0
    assert sigmoid_grad(x) > 0
    assert rel_error(sigmoid_grad(x), sigmoid_grad_mp(x)) < 2 * (
        EPS32 if dtype == np.float32 else EPS
    )


def test_values_of_the_comparison_table():
    assert sigmoid_grad(40.0) == pytest.approx(4.248354e-18, rel=1e-6)
    assert sigmoid_grad(36.0) == pytest.approx(2.319523e-16, rel=1e-6)
    assert sigmoid_grad_naive(36.0) < 2.3e-16  # already wrong in the second digit


def test_naive_relative_error_grows_like_u_e_x():
    x = np.linspace(20, 30, 101)
    worst = max(
        rel_error(v, sigmoid_grad_mp(t)) for t, v in zip(x, sigmoid_grad_naive(x), strict=True)
    )
    assert worst > 1e-6
    # ... and stays below the predicted u e^x (u = 2**-53), up to a small factor
    for t, v in zip(x, sigmoid_grad_naive(x), strict=True):
        assert rel_error(v, sigmoid_grad_mp(t)) < 4 * 2.0**-53 * math.exp(t)


@pytest.mark.parametrize(("dtype", "eps"), [(np.float64, EPS), (np.float32, EPS32)])
def test_stable_derivative_keeps_relative_accuracy_on_0_60(dtype, eps):
    x = np.linspace(0, 60, 241).astype(dtype)
    for g in (sigmoid_grad(x), sigmoid(x) * sigmoid(-x)):
        assert g.dtype == dtype
        worst = max(rel_error(v, sigmoid_grad_mp(t)) for t, v in zip(x, g, strict=True))
        assert worst < 4 * eps


# ---------------------------------------------------------------- sigmoid-logit-numerics


@SETTINGS
@given(finite_floats(1e-9, 1 - 1e-9))
def test_logit_is_twice_artanh_of_2p_minus_1(p):
    with mpmath.workdps(DPS):
        assert abs(2 * mpmath.atanh(2 * mpmath.mpf(p) - 1) - logit_mp(p)) < 1e-40


@pytest.mark.parametrize("p", [0.25, 0.3, 0.49, 0.5, 0.75, 0.9999])
def test_2p_minus_1_is_exact_for_p_at_least_one_quarter(p):
    for q in [p, np.nextafter(p, 0), np.nextafter(p, 1)]:
        if q >= 0.25:
            with mpmath.workdps(DPS):
                assert mpmath.mpf(2 * q - 1) == 2 * mpmath.mpf(q) - 1


def test_naive_logit_is_fifty_percent_off_just_below_one_half():
    p = np.nextafter(0.5, 0)
    assert rel_error(logit_naive(p), logit_mp(p)) > 0.4
    assert rel_error(logit(p), logit_mp(p)) < 2 * EPS


def test_naive_logit_loses_relative_accuracy_near_one_half():
    rng = np.random.default_rng(1)
    d = 1e-14 * rng.uniform(1, 10, size=100)
    p = np.concatenate([0.5 + d, 0.5 - d])
    naive = max(rel_error(v, logit_mp(q)) for q, v in zip(p, logit_naive(p), strict=True))
    stable = max(rel_error(v, logit_mp(q)) for q, v in zip(p, logit(p), strict=True))
    assert naive > 1e-4 and stable < 4 * EPS


@SETTINGS
@given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True))
def test_reference_logit_has_full_relative_accuracy(p):
    assert rel_error(logit(p), logit_mp(p)) < 4 * EPS


# ---------------------------------------------------------------- the exercise's logit


def solution_function(name):
    """A function of the solution notebook: its set-up cell and the cell defining it, run."""
    namespace = {}
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in {"setup", name}:
            exec(compile(cell.source, f"{SOLUTION.name}:{grade_id}", "exec"), namespace)
    return namespace[name]


def near_half(dtype):
    """Probabilities near 1/2: the 8 floats on either side, 1/2 +- 10^-k, and (1/4, 3/4)."""
    powers = 10.0 ** -np.arange(1, 17)
    rng = np.random.default_rng(12)
    distances = 10 ** -rng.uniform(1, 16, 200) * rng.choice([-1, 1], 200)
    p = np.concatenate([0.5 - powers, 0.5 + powers, 0.5 + distances])
    spread = rng.uniform(0.25, 0.75, 300)
    return np.concatenate([floats_next_to_half(dtype, 8), p.astype(dtype), spread.astype(dtype)])


def logit_difference_of_logs(p):
    """The solution's former logit: log p - log1p(-p), which cancels near 1/2."""
    p = np.asarray(p, dtype=np.result_type(np.asarray(p).dtype, np.float32))
    return np.log(p) - np.log1p(-p)


@pytest.mark.parametrize(("dtype", "eps"), [(np.float64, EPS), (np.float32, EPS32)])
def test_the_solution_logit_is_accurate_near_one_half(dtype, eps):
    # sigmoid-logit-numerics: the exercise's answer meets the chapter's standard, a few ulps
    solution_logit = solution_function("logit")
    p = near_half(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = solution_logit(p)
    assert values.dtype == dtype
    worst = max(rel_error(v, logit_mp(q)) for q, v in zip(p, values, strict=True))
    assert worst < 2 * eps
    # ... where the textbook formula and the difference of logarithms are not
    for other in (logit_naive, logit_difference_of_logs):
        worst = max(rel_error(v, logit_mp(q)) for q, v in zip(p, other(p), strict=True))
        assert worst > 16 * eps


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_logit_checks_fail_the_formulas_that_lose_accuracy_near_one_half(seed):
    # The exercise assesses what sigmoid-logit-numerics teaches: only the accurate form passes.
    assert_passes("01_sigmoid", "logit_hidden", solution_function("logit"), seed=seed)
    for check in ("logit_visible", "logit_hidden"):
        for flawed in (logit_naive, logit_difference_of_logs):
            with pytest.raises(AssertionError, match="expected"):
                assert_passes("01_sigmoid", check, flawed, seed=seed)


# ---------------------------------------------------------------- sigmoid-relu


def test_sigmoid_derivative_values_quoted_for_saturation():
    assert sigmoid_grad(5.0) == pytest.approx(0.0066, abs=5e-5)
    assert sigmoid_grad(10.0) == pytest.approx(4.5e-5, abs=5e-7)
    # sigma'(x) = sigma(x) sigma(-x) < e^{-|x|}: strictly in 50 digits, up to rounding in floats
    x = np.linspace(0.1, 700, 1000)
    assert np.all(sigmoid_grad(x) <= np.exp(-x)) and np.all(sigmoid_grad(-x) <= np.exp(-x))
    with mpmath.workdps(DPS):
        for t in [0.1, 1.0, 5.0, 10.0, 50.0]:
            assert sigmoid_grad_mp(t) < mpmath.exp(-t) and sigmoid_grad_mp(-t) < mpmath.exp(-t)


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 10, 20])
def test_gradient_through_a_chain_of_sigmoids_shrinks_geometrically(depth):
    grad, h = 1.0, 0.0
    for _ in range(depth):
        grad *= sigmoid_grad(h)
        h = sigmoid(h)

    def chain_mp(t):
        for _ in range(depth):
            t = 1 / (1 + mpmath.exp(-t))
        return t

    with mpmath.workdps(DPS):
        exact = mpmath.diff(chain_mp, 0)
    assert abs(grad / exact - 1) < 1e-13
    assert grad <= 0.25**depth
    if depth == 10:
        assert grad < 1e-6
    if depth == 20:
        assert grad < 1e-12


@SETTINGS
@given(finite_floats(-20.0, 20.0))
def test_tanh_is_a_rescaled_sigmoid(x):
    with mpmath.workdps(DPS):
        t = mpmath.mpf(x)
        assert abs(mpmath.tanh(t) - (2 * sigmoid_mp(2 * t) - 1)) < 1e-45
    assert abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1)) <= 2 * EPS


@SETTINGS
@given(finite_floats(-30.0, 30.0))
def test_softplus_derivative_is_sigmoid(x):
    with mpmath.workdps(DPS):
        d = mpmath.diff(lambda t: mpmath.log(1 + mpmath.exp(t)), mpmath.mpf(x))
        assert abs(d / sigmoid_mp(x) - 1) < mpmath.mpf(10) ** -30


@SETTINGS
@given(finite_floats(-700.0, 700.0))
def test_softplus_exceeds_relu_by_at_most_log_2(x):
    gap = softplus(x) - max(x, 0.0)
    assert 0 <= gap <= LN2 * (1 + 4 * EPS)
    with mpmath.workdps(400):  # log(1 + e^x) - x cancels about x / 2.3 digits
        t = mpmath.mpf(x)
        exact_gap = mpmath.log(1 + mpmath.exp(t)) - max(t, 0)
        assert abs(exact_gap - mpmath.log(1 + mpmath.exp(-abs(t)))) < 1e-45
        assert 0 < exact_gap <= mpmath.log(2)


@SETTINGS
@given(finite_floats(1e-6, 1 - 1e-6), st.sampled_from([0, 1]))
def test_bernoulli_in_exponential_family_form(phi, y):
    with mpmath.workdps(DPS):
        f = mpmath.mpf(phi)
        bernoulli = f**y * (1 - f) ** (1 - y)
        exp_family = mpmath.exp(y * logit_mp(phi) + mpmath.log(1 - f))
        assert abs(exp_family / bernoulli - 1) < mpmath.mpf(10) ** -40
    assert sigmoid(logit(phi)) == pytest.approx(phi, rel=4 * EPS * (1 + abs(logit(phi))))


# ---------------------------------------------------------------- the chapter's text


def test_chapter_has_the_labels_other_pages_and_the_grader_use():
    text = CHAPTER.read_text(encoding="utf-8")
    for label in [
        "sigmoid-chapter",
        "sigmoid-goals",
        "sigmoid-backprop",
        "sigmoid-overflow",
        "sigmoid-definition",
        "sigmoid-range",
        "sigmoid-symmetry",
        "sigmoid-derivative",
        "sigmoid-logit",
        "sigmoid-numerics",
        "sigmoid-stable",
        "sigmoid-grad-numerics",
        "sigmoid-logit-numerics",
        "sigmoid-relu",
        "sigmoid-summary",
    ]:
        assert f"({label})=" in text, label
    assert "{doc}`sigmoid_exercise`" in text


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
    quoted = {
        "exp overflow, float64": f"{math.floor(over64 * 100) / 100:.2f}",  # 709.78
        "exp overflow, float32": f"{math.floor(over32 * 100) / 100:.2f}",  # 88.72
        "sigma rounds to 1, float64": f"{53 * LN2:.2f}",  # 36.74
        "sigma rounds to 1, float32": f"{24 * LN2:.2f}",  # 16.64
        "correctly rounded sigma reaches 1": f"{54 * LN2:.2f}",  # 37.43
        "underflow to 0": f"{math.floor(1075 * LN2 * 100) / 100:.2f}",  # 745.13
    }
    for what, number in quoted.items():
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", text), (what, number)
