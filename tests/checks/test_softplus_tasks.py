"""Chapter 2's understanding tasks: the verdicts on proposed forms of log sigma, log(1 - sigma)
and zeta(x) - x, and the derived temperature derivative of the sharpened softplus.

Every verdict the checks hold is measured here: each form is run, with the reference's stable
functions, on a dense grid of float64 inputs from 1e-300 to 1.7e308 in size (and on both sides
of the edges where exp overflows and sigma rounds to 1), with floating-point warnings as errors,
and compared with its target computed by mpmath with 40 significant digits.
"""

from __future__ import annotations

import contextlib
import io
import re

import mpmath
import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import assert_passes, get_check
from autograder.checks import softplus as checks
from autograder.checks.core import mismatch
from autograder.course import CHAPTERS, SOLUTIONS

NOTEBOOK = "softplus_exercise.ipynb"
#: Accurate: within 10 units of float64's machine epsilon, relative to the target.
ACCURATE = 10 * np.finfo(np.float64).eps
#: Losing digits: off by more than a millionth, where the target is a normal float.
LOSES = 1e-6


def mp_zeta(x):
    return mpmath.log1p(mpmath.exp(x))


TARGETS = {  # each target in exact arithmetic
    "zeta(x)": mp_zeta,
    "log sigma(x)": lambda x: -mp_zeta(-x),
    "log(1 - sigma(x))": lambda x: -mp_zeta(x),
    "zeta(x) - x": lambda x: mp_zeta(-x),
}
STABLE = {
    "np": np,
    "sigmoid": ref.sigmoid,
    "softplus": ref.softplus,
    "log_sigmoid": ref.log_sigmoid,
}


def grid() -> np.ndarray:
    edges = [36.04, 36.74, 37.0, 37.5, 40.0, 709.78, 709.79, 710.0, 745.13, 745.14, 746.0]
    sizes = np.concatenate(
        [
            10.0 ** np.linspace(-300, 308, 609),
            np.linspace(0.0, 800.0, 1601),
            edges,
            [1.7e308, np.finfo(np.float64).max],
        ]
    )
    return np.unique(np.concatenate([-sizes, sizes]))


X = grid()


@pytest.fixture(scope="module")
def exact() -> dict[str, np.ndarray]:
    with mpmath.workdps(40):
        return {
            name: np.array([float(target(mpmath.mpf(float(x)))) for x in X])
            for name, target in TARGETS.items()
        }


def measure(form: str, target: str, exact: dict[str, np.ndarray]) -> str:
    """The verdict a form earns, by the definitions the notebook gives."""
    f = eval("lambda x: " + form, dict(STABLE))
    moderate = np.abs(X) <= 3
    with np.errstate(all="ignore"):
        got = np.array([f(x) for x in X], dtype=float)
    if not np.allclose(got[moderate], exact[target][moderate], rtol=1e-6, atol=0):
        return "wrong"
    for x in X:
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                f(x)
        except FloatingPointError:
            return "warns"
    normal = np.abs(exact[target]) >= np.finfo(np.float64).tiny
    error = np.abs(got[normal] - exact[target][normal]) / np.abs(exact[target][normal])
    if np.max(error) > LOSES:
        return "loses digits"
    assert np.max(error) <= ACCURATE, (form, np.max(error))  # no form is in between
    return "accurate"


ALL_FORMS = [
    (target, form, verdict) for target, forms in checks.FORMS.items() for form, verdict in forms
] + [("zeta(x)", form, verdict) for form, verdict in checks.EXAMPLE_FORMS]


@pytest.mark.parametrize(("target", "form", "verdict"), ALL_FORMS)
def test_each_verdict_is_what_the_form_does(target, form, verdict, exact):
    assert measure(form, target, exact) == verdict


def test_every_target_has_forms_of_every_verdict_and_no_form_twice():
    for forms in checks.FORMS.values():
        assert {verdict for _, verdict in forms} == set(checks.VERDICTS)
        assert len({form for form, _ in forms}) == len(forms)
    assert sorted(v for _, v in checks.EXAMPLE_FORMS) == sorted(checks.VERDICTS)


def cells(folder) -> dict[str, nbformat.NotebookNode]:
    notebook = nbformat.read(folder / "02_softplus" / NOTEBOOK, as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}


def test_the_notebook_shows_the_checks_forms():
    released = cells(CHAPTERS)
    namespace: dict = {"STUDENT_ID": "ann-12"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(released["setup"].source, namespace)
        exec(released["softplus_forms_question"].source, namespace)
    assert namespace["TARGETS"] == {
        target: [form for form, _ in forms] for target, forms in checks.FORMS.items()
    }
    listed = re.findall(r"^\d\. `(.+)`$", released["softplus_forms_text"].source, re.M)
    assert listed == [form for form, _ in checks.EXAMPLE_FORMS]


def test_the_visible_cell_states_the_checks_verdicts():
    source = cells(SOLUTIONS)["softplus_forms_visible"].source
    (literal,) = re.findall(r"^expected = (\[.*\])$", source, re.M)
    (case,) = get_check("02_softplus", "softplus_forms_visible").cases()
    assert eval(literal) == case.expected == [v for _, v in checks.EXAMPLE_FORMS]


def test_the_forms_judge_catches_wrong_verdicts_without_revealing_them():
    student = "ann-12"
    namespace = {"STUDENT_ID": student}
    (case,) = get_check("02_softplus", "softplus_forms_hidden").cases_for_student(student)
    right = list(case.expected)
    assert_passes("02_softplus", "softplus_forms_hidden", right, namespace)
    assert_passes(
        "02_softplus", "softplus_forms_hidden", [f" {v.upper()}" for v in right], namespace
    )
    swapped = [*right[1:], right[0]] if len(set(right)) > 1 else right[::-1]
    wrong = sum(a != b for a, b in zip(swapped, right, strict=True))
    verdict = mismatch(case, swapped)  # what the instructor's report says
    assert verdict.message == f"{wrong} of your 4 verdicts are not right"
    with pytest.raises(AssertionError, match="not the answer to your own question") as failure:
        assert_passes("02_softplus", "softplus_forms_hidden", swapped, namespace)
    assert str(right) not in str(failure.value)
    for answer, message in [
        (right[:3], "expected 4 verdicts"),
        ("accurate", "a list of 4 strings"),
        ([*right[:3], "fine"], "'fine' is not a verdict"),
        ([*right[:3], None], "a list of 4 strings"),
    ]:
        assert message in mismatch(case, answer).message
        with pytest.raises(AssertionError):
            assert_passes("02_softplus", "softplus_forms_hidden", answer, namespace)
    # The worked example names the right verdicts.
    with pytest.raises(AssertionError, match="expected \\['loses digits'"):
        assert_passes("02_softplus", "softplus_forms_visible", ["accurate"] * 4)


def textbook_dtau(x, tau):
    u = np.asarray(x) / tau
    return ref.softplus(u) - u * ref.sigmoid(u)


def slope_in_x(x, tau):  # the derivative in x, not in tau
    return ref.sigmoid(np.asarray(x) / tau)


@pytest.mark.parametrize(
    ("name", "func", "message"),
    [
        ("softplus_tau_dtau_visible", textbook_dtau, "expected"),
        ("softplus_tau_dtau_hidden", textbook_dtau, "expected"),
        ("softplus_tau_dtau_visible", slope_in_x, "expected"),
        ("softplus_tau_dtau_hidden", lambda x, tau: np.log(2.0), "expected shape"),
    ],
)
def test_the_temperature_derivative_checks_catch_planted_faults(name, func, message):
    with pytest.raises(AssertionError, match=message):
        assert_passes("02_softplus", name, func)


def test_the_temperature_derivative_checks_pass_the_reference_for_many_seeds():
    for seed in range(5):
        assert_passes("02_softplus", "softplus_tau_dtau_hidden", ref.softplus_tau_dtau, seed=seed)
