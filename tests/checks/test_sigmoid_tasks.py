"""Chapter 1's understanding tasks: the predicted thresholds where the sigmoid breaks, and the
derived second derivative.

The thresholds the checks expect are compared with what NumPy's own formats do (float16,
float32, float64: each threshold found by bisection on the operation itself), and each check
is shown catching the mistakes a student is likely to make.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import assert_passes, get_check
from autograder.checks import sigmoid as checks
from autograder.checks.core import mismatch, student_seed

FORMATS = {  # p, e_min, e_max of NumPy's binary formats
    np.float16: {"p": 11, "e_min": -14, "e_max": 15},
    np.float32: {"p": 24, "e_min": -126, "e_max": 127},
    np.float64: {"p": 53, "e_min": -1022, "e_max": 1023},
}


def bisect(holds, inside: float, outside: float) -> float:
    """The boundary between an x where ``holds`` is true and one where it is false."""
    for _ in range(200):
        middle = (inside + outside) / 2
        if middle in (inside, outside):
            break
        if holds(middle):
            inside = middle
        else:
            outside = middle
    return inside


def observed_thresholds(dtype) -> list[float]:
    """The three thresholds as ``dtype``'s arithmetic produces them: e^x computed in float64
    and rounded once to ``dtype`` (the exact input x, so that the spacing of the format's own
    inputs, 0.016 near -17 in float16, does not blur the boundary), then the sigmoid's
    operations in ``dtype``."""
    one = dtype(1)

    def exp(t: float):
        with np.errstate(over="ignore", under="ignore"):
            return np.array(np.exp(t)).astype(dtype)[()]

    def overflows(x):  # the textbook 1 / (1 + e^-x)
        return bool(np.isinf(exp(-x)))

    def is_one(x):  # the stable form for x >= 0
        return one / (one + exp(-x)) == 1

    def is_zero(x):  # the stable form for x < 0
        r = exp(x)
        return r / (one + r) == 0

    return [bisect(overflows, -2e4, 0.0), bisect(is_one, 2e4, 0.0), bisect(is_zero, -2e4, 0.0)]


@pytest.mark.parametrize("dtype", list(FORMATS), ids=lambda d: d.__name__)
def test_the_thresholds_are_where_numpys_formats_break(dtype):
    expected = checks.sigmoid_thresholds_of(**FORMATS[dtype])
    np.testing.assert_allclose(observed_thresholds(dtype), expected, rtol=0, atol=1e-3)


def test_the_float64_thresholds_are_the_chapters():
    np.testing.assert_allclose(
        checks.sigmoid_thresholds_of(**FORMATS[np.float64]), [-709.78, 36.74, -745.13], atol=0.005
    )


def test_the_worked_example_is_float16():
    (case,) = get_check("01_sigmoid", "sigmoid_thresholds_visible").cases()
    np.testing.assert_allclose(case.expected, observed_thresholds(np.float16), atol=1e-3)


def test_formats_drawn_for_students_are_ieee_like_and_their_answers_finite():
    for n in range(200):
        drawn = checks.format_parameters(np.random.default_rng(n))
        assert 8 <= drawn["p"] <= 64 and drawn["e_min"] == 1 - drawn["e_max"]
        assert drawn["e_max"] in {2**b - 1 for b in range(4, 15)}
        thresholds = checks.sigmoid_thresholds_of(**drawn)
        assert np.all(np.isfinite(thresholds)) and thresholds[2] < thresholds[0] < 0
    # Formats wider than float64 exist among them: the largest float overflows a Python float.
    widest = max(checks.format_parameters(np.random.default_rng(n))["e_max"] for n in range(200))
    assert widest > 1023


def own_thresholds(student: str) -> tuple[list[float], dict]:
    """A student's right answer, and the format drawn for them."""
    name = "sigmoid_thresholds_hidden"
    (case,) = get_check("01_sigmoid", name).cases_for_student(student)
    drawn = checks.format_parameters(np.random.default_rng(student_seed(student, name)))
    return list(case.expected), drawn


def test_a_students_own_thresholds_pass_and_plausible_mistakes_do_not():
    student = "ann-12"
    namespace = {"STUDENT_ID": student}
    right, drawn = own_thresholds(student)
    p, e_min = drawn["p"], drawn["e_min"]
    assert_passes("01_sigmoid", "sigmoid_thresholds_hidden", right, namespace)
    ln2 = math.log(2)
    mistakes = {
        # the smallest subnormal itself, not half of it: one bit off, log 2 too high
        "exactly 0": [right[0], right[1], (e_min - p + 1) * ln2],
        # epsilon 2^(1 - p) instead of the unit roundoff 2^-p
        "exactly 1": [right[0], (p - 1) * ln2, right[2]],
        # the overflow threshold with the sign of e^x's, not of e^-x's
        "its sign is wrong": [-right[0], right[1], right[2]],
        # float64's numbers from the chapter, whatever the format
        "off by more than 0.01": [-709.78, 36.74, -745.13],
    }
    (case,) = get_check("01_sigmoid", "sigmoid_thresholds_hidden").cases_for_student(student)
    for message, answer in mistakes.items():
        wrong = mismatch(case, answer)  # what the instructor's report says
        assert wrong.kind == "values" and message in wrong.message
        assert f"{right[1]:.2f}" not in wrong.message, "the judge keeps the value"
        with pytest.raises(AssertionError, match="not the answer to your own question") as failure:
            assert_passes("01_sigmoid", "sigmoid_thresholds_hidden", answer, namespace)
        assert f"{right[1]:.2f}" not in str(failure.value), "the feedback keeps the value"
    for answer in (right[:2], "7.6"):
        wrong = mismatch(case, answer)
        assert wrong.kind == "shape" and "expected three numbers" in wrong.message
        with pytest.raises(AssertionError):
            assert_passes("01_sigmoid", "sigmoid_thresholds_hidden", answer, namespace)
    # Another student's right answer is wrong here, unless they drew the same format.
    other, other_drawn = own_thresholds("bob-34")
    assert other_drawn != drawn
    with pytest.raises(AssertionError):
        assert_passes("01_sigmoid", "sigmoid_thresholds_hidden", other, namespace)


def textbook_second_derivative(x):
    s = ref.sigmoid(x)
    return s * (1 - s) * (1 - 2 * s)


def second_derivative_with_tanh_only(x):
    # 1 - 2 sigma written without cancellation, but sigma' still as sigma (1 - sigma)
    s = ref.sigmoid(x)
    return -s * (1 - s) * np.tanh(np.asarray(x) / 2)


def second_derivative_with_grad_only(x):
    # sigma' without cancellation, but 1 - 2 sigma still subtracted
    return ref.sigmoid_grad(x) * (1 - 2 * ref.sigmoid(x))


@pytest.mark.parametrize(
    ("name", "func", "message"),
    [
        ("sigmoid_second_derivative_visible", textbook_second_derivative, "expected"),
        ("sigmoid_second_derivative_hidden", textbook_second_derivative, "expected"),
        ("sigmoid_second_derivative_visible", second_derivative_with_tanh_only, "expected"),
        ("sigmoid_second_derivative_visible", second_derivative_with_grad_only, "expected"),
        ("sigmoid_second_derivative_hidden", second_derivative_with_grad_only, "expected"),
        ("sigmoid_second_derivative_hidden", lambda x: -ref.sigmoid_second_derivative(x), "exp"),
    ],
)
def test_the_second_derivative_checks_catch_planted_faults(name, func, message):
    with pytest.raises(AssertionError, match=message):
        assert_passes("01_sigmoid", name, func)


def test_the_second_derivative_checks_pass_the_reference_for_many_seeds():
    for seed in range(5):
        assert_passes(
            "01_sigmoid",
            "sigmoid_second_derivative_hidden",
            ref.sigmoid_second_derivative,
            seed=seed,
        )
