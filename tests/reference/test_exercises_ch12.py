"""Accuracy of the reference functions of the exercises of chapters 1 and 2, against mpmath.

``sigmoid_second_derivative`` (chapter 1's derivation) and ``softplus_tau_dtau`` (chapter 2's)
are measured in units in the last place of the exact value, computed with 60 significant
digits, in float64 and in float32, on the inputs where their textbook forms lose every digit:
``x`` next to 0 and far out for the first, ``|x| / tau`` large for the second. Underflow of a
tiny result to a subnormal number is allowed, as everywhere in the reference.
"""

import math

import mpmath
import numpy as np
import pytest

from autograder import reference as ref

pytestmark = pytest.mark.filterwarnings("error")

MAX_ULP = 4
mpf = mpmath.mpf


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        with mpmath.workdps(60):
            yield


def ulp(exact, dtype):
    """The gap between the floats of ``dtype`` at the real number ``exact`` (never below the
    subnormals' spacing)."""
    info = np.finfo(dtype)
    smallest_gap = info.minexp - info.nmant
    if exact == 0:
        return mpf(2) ** smallest_gap
    _, e = mpmath.frexp(exact)
    return mpf(2) ** max(e - 1 - info.nmant, smallest_gap)


def ulp_errors(got, exact, dtype):
    """The error of each result in ulps of its exact value; a result below the smallest normal
    number (underflow, allowed) counts 0 if it is within 2^-1064 (a thousand subnormal gaps)."""
    tiny = mpf(float(np.finfo(dtype).smallest_normal))
    slack = mpf(2) ** (np.finfo(dtype).minexp - np.finfo(dtype).nmant + 10)
    errors = []
    for g, e in zip(got, exact, strict=True):
        error = abs(mpf(float(g)) - e)
        errors.append(0.0 if abs(e) < tiny and error <= slack else float(error / ulp(e, dtype)))
    return np.array(errors)


def sigma(t):
    return 1 / (1 + mpmath.exp(-t))


def second_derivative_mp(x):
    """sigma''(x) = -sigma'(x) tanh(x / 2), with sigma' = e / (1 + e)^2, e = e^-|x|, and
    tanh(|x| / 2) = -expm1(-|x|) / (1 + e): no cancellation, even at x = 1e-300."""
    t = mpf(float(x))
    e = mpmath.exp(-abs(t))
    return -mpmath.sign(t) * e / (1 + e) ** 2 * -mpmath.expm1(-abs(t)) / (1 + e)


def dtau_mp(x, tau, rounded=False):
    """d/dtau [tau zeta(x / tau)] = zeta(u) - u sigma(u), u = x / tau, with enough digits
    that the cancellation of the two terms (about |u| / 2.3 digits) leaves 30 of them.

    ``rounded``: at u = fl(x / tau), the quotient as float64 rounds it. Its relative error u
    changes the answer by about |u| units in the last place (the function's own condition),
    so a few ulp is the bar there, as for any function of a rounded argument."""
    u = mpf(float(np.float64(x) / np.float64(tau))) if rounded else mpf(float(x)) / mpf(float(tau))
    with mpmath.workdps(60 + int(abs(u) / 2)):
        return +(mpmath.log1p(mpmath.exp(u)) - u * sigma(u))


def test_the_exact_second_derivative_is_the_derivative_of_sigma_prime():
    # the closed form of second_derivative_mp against mpmath's own differentiation
    for x in [-30.0, -3.0, -0.5, 1e-3, 0.7, 4.0, 25.0]:
        numeric = mpmath.diff(lambda t: sigma(t) * sigma(-t), mpf(x))
        assert abs(numeric / second_derivative_mp(x) - 1) < mpf(10) ** -40


SECOND_DERIVATIVE_INPUTS = np.concatenate(
    [
        [0.0, -0.0, 5e-324, 1e-300, 1e-100, 1e-20, 1e-8, 1e-5, 0.1, 1.0, 10.0],
        [20.0, 36.0, 37.0, 40.0, 100.0, 500.0, 700.0, 709.0, 740.0, 745.0, 800.0, 1e4, 1e300],
        np.geomspace(1e-12, 700.0, 300),
    ]
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_second_derivative_is_within_4_ulp(dtype):
    x = np.concatenate([SECOND_DERIVATIVE_INPUTS, -SECOND_DERIVATIVE_INPUTS])
    x = x[np.abs(x) <= np.finfo(dtype).max].astype(dtype)
    got = ref.sigmoid_second_derivative(x)
    assert got.dtype == dtype
    errors = ulp_errors(got, [second_derivative_mp(t) for t in x], dtype)
    assert errors.max() <= MAX_ULP, (x[np.argmax(errors)], errors.max())


def test_sigmoid_second_derivative_textbook_forms_fail_the_bar():
    # q (1 - q) (1 - 2 q) with q = sigma(x) is 0 from x = 36.74 and loses half its digits at
    # x = 1e-8; sigma(x) sigma(-x) (1 - 2 sigma(x)) still loses them near 0.
    x = np.array([1e-8, 40.0])
    q = ref.sigmoid(x)
    exact = [second_derivative_mp(t) for t in x]
    assert ulp_errors(q * (1 - q) * (1 - 2 * q), exact, np.float64).min() > 1e6
    assert ulp_errors(ref.sigmoid_grad(x) * (1 - 2 * q), exact, np.float64)[0] > 1e6


def test_sigmoid_second_derivative_is_odd_and_bounded():
    x = np.linspace(-50, 50, 10001)
    g = ref.sigmoid_second_derivative(x)
    np.testing.assert_array_equal(g, -ref.sigmoid_second_derivative(-x))
    # |sigma''| is largest at x = +-log(2 + sqrt 3), where it is 1 / (6 sqrt 3)
    peak = math.log(2 + math.sqrt(3))
    assert np.max(np.abs(g)) <= 1 / (6 * math.sqrt(3)) * (1 + 1e-15)
    assert ref.sigmoid_second_derivative(-peak) == pytest.approx(1 / (6 * math.sqrt(3)), rel=1e-15)


def test_sigmoid_second_derivative_of_infinities_and_integers():
    assert ref.sigmoid_second_derivative(np.inf) == 0
    assert ref.sigmoid_second_derivative(-np.inf) == 0
    assert ref.sigmoid_second_derivative(np.array([0, 1])).dtype == np.float64
    assert np.isnan(ref.sigmoid_second_derivative(np.nan))


# ---------------------------------------------------------------- softplus_tau_dtau

A = np.concatenate(
    [
        [0.0, 1e-300, 1e-8, 0.5, 1.0, 10.0, 36.0, 40.0, 700.0, 740.0, 745.0, 800.0],
        np.geomspace(1e-10, 740.0, 200),
    ]
)


def test_the_exact_dtau_is_the_derivative_of_the_sharpened_softplus():
    for x, tau in [(-3.0, 0.7), (0.0, 2.0), (1.5, 0.25), (20.0, 3.0)]:
        numeric = mpmath.diff(lambda t, x=x: t * mpmath.log1p(mpmath.exp(mpf(x) / t)), mpf(tau))
        assert abs(numeric - dtau_mp(x, tau)) < mpf(10) ** -40


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tau", [1.0, 0.01, 3.0])
def test_softplus_tau_dtau_is_within_4_ulp(dtype, tau):
    x = (np.concatenate([A, -A]) * tau).astype(dtype)
    tau = dtype(tau)
    got = ref.softplus_tau_dtau(x, tau)
    assert got.dtype == dtype
    errors = ulp_errors(got, [dtau_mp(t, tau, rounded=dtype == np.float64) for t in x], dtype)
    assert errors.max() <= MAX_ULP, (x[np.argmax(errors)], errors.max())


def test_softplus_tau_dtau_textbook_form_fails_the_bar():
    # zeta(u) - u sigma(u) cancels: 0 at u = 40, about 1e-12 relative at u = 10
    u = np.array([10.0, 40.0])
    textbook = ref.softplus(u) - u * ref.sigmoid(u)
    errors = ulp_errors(textbook, [dtau_mp(t, 1.0) for t in u], np.float64)
    assert errors.min() > 1e3


def test_softplus_tau_dtau_limits_broadcasting_and_domain():
    # log 2 at x = 0 (the largest value), 0 far out, even in x, broadcast over x and tau
    assert ref.softplus_tau_dtau(0.0, 0.3) == math.log(2)
    assert ref.softplus_tau_dtau(1e300, 1e-10) == 0.0 and ref.softplus_tau_dtau(np.inf, 1.0) == 0
    assert ref.softplus_tau_dtau(5.0, np.inf) == math.log(2)
    x = np.linspace(-5, 5, 11)[:, None]
    tau = np.array([0.1, 1.0, 10.0])
    got = ref.softplus_tau_dtau(x, tau)
    assert got.shape == (11, 3)
    np.testing.assert_array_equal(got, ref.softplus_tau_dtau(-x, tau))
    assert np.all((0 < got) & (got <= math.log(2)))
    # the derivative of the gap tau log(1 + e^(-|x|/tau)), against central differences
    delta = 1e-6
    gap = lambda t: t * np.log1p(np.exp(-np.abs(x) / t))  # noqa: E731
    np.testing.assert_allclose(got, (gap(tau + delta) - gap(tau - delta)) / (2 * delta), rtol=1e-7)
    assert ref.softplus_tau_dtau(np.float32(1), 0.5).dtype == np.float64
    for bad in [0.0, -1.0]:
        with pytest.raises(ValueError, match="positive"):
            ref.softplus_tau_dtau(1.0, bad)
