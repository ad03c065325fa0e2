"""Chapter 5's understanding tasks: the predicted curvature of the log-partition along a
direction (per student), and the derived Hessian-vector product.

The notebook's question cell must draw the grader's parameters for every student id; the
expected curvature is measured independently (mpmath's second derivative of a(eta + t v));
and each check is shown catching the mistakes a student is likely to make.
"""

from __future__ import annotations

import contextlib
import io
import re
from fractions import Fraction

import mpmath
import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import assert_passes, get_check
from autograder.checks import exponential_family as checks
from autograder.checks.core import mismatch, student_seed
from autograder.course import CHAPTERS, SOLUTIONS

ASSIGNMENT = "05_exponential_family"
NOTEBOOK = "exponential_family_exercise.ipynb"
STUDENTS = ["", "alice", "bob-34", "s1234567", "Zoë Ng", "ann.lee@example.org"]


def cells(folder) -> dict[str, nbformat.NotebookNode]:
    notebook = nbformat.read(folder / ASSIGNMENT / NOTEBOOK, as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}


def run_question(student: str) -> tuple[dict, str]:
    """The namespace and the output after the student notebook's id, set-up and question
    cells, run as ``student`` would run them."""
    notebook = nbformat.read(CHAPTERS / ASSIGNMENT / NOTEBOOK, as_version=4)
    (id_cell,) = [c for c in notebook.cells if c.source.lstrip().startswith("STUDENT_ID =")]
    assert "nbgrader" not in id_cell.metadata, "the id cell is the student's own"
    released = cells(CHAPTERS)
    namespace: dict = {}
    exec(id_cell.source.replace('""', repr(student), 1), namespace)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for grade_id in ("setup", "curvature_question"):
            assert released[grade_id].metadata["nbgrader"]["locked"]
            exec(released[grade_id].source, namespace)
    return namespace, output.getvalue()


def test_the_notebook_draws_the_graders_parameters():
    chosen = get_check(ASSIGNMENT, "curvature_hidden")
    assert chosen.per_student and chosen.parameters is checks.curvature_parameters
    seen = set()
    for student in STUDENTS:
        namespace, printed = run_question(student)
        expected = chosen.parameters(np.random.default_rng(student_seed(student, chosen.name)))
        assert namespace["K_mine"] == expected["K"]
        assert namespace["weights_mine"].tolist() == expected["weights"]
        assert namespace["v_mine"].tolist() == expected["v"]
        total = sum(expected["weights"])
        assert f"Your K is {expected['K']}." in printed
        phi = ", ".join(f"{w}/{total}" for w in expected["weights"])
        assert f"Your phi is ({phi})." in printed
        assert f"Your v is ({', '.join(map(str, expected['v']))})." in printed
        seen.add(repr(expected))
    assert len(seen) == len(STUDENTS), "different students get different questions"


def test_answers_differ_between_most_students():
    chosen = get_check(ASSIGNMENT, "curvature_hidden")
    answers = {repr(chosen.cases_for_student(f"student-{n}")[0].expected) for n in range(60)}
    assert len(answers) >= 50


def curvature_mp(weights, v) -> float:
    """d^2/dt^2 a(eta + t v) at t = 0, by mpmath from the exact natural parameters."""
    with mpmath.workdps(40):
        eta = [mpmath.log(mpmath.mpf(w) / weights[-1]) for w in weights[:-1]]

        def a(t):
            return mpmath.log(
                1 + mpmath.fsum(mpmath.exp(e + t * d) for e, d in zip(eta, v, strict=True))
            )

        return float(mpmath.diff(a, 0, 2))


def curvature_exact(weights, v) -> Fraction:
    """Var[v^T T(y)] as a fraction: v_y for y < K, 0 for the reference class."""
    total = sum(weights)
    values = [*v, 0]
    mean = sum(Fraction(w, total) * x for w, x in zip(weights, values, strict=True))
    return sum(Fraction(w, total) * (x - mean) ** 2 for w, x in zip(weights, values, strict=True))


@pytest.mark.parametrize("student", STUDENTS)
def test_the_expected_curvature_is_the_second_derivative_of_a(student):
    drawn = checks.curvature_parameters(
        np.random.default_rng(student_seed(student, "curvature_hidden"))
    )
    (case,) = get_check(ASSIGNMENT, "curvature_hidden").cases_for_student(student)
    assert case.expected == pytest.approx(curvature_mp(drawn["weights"], drawn["v"]), rel=1e-12)
    assert case.expected == pytest.approx(float(curvature_exact(drawn["weights"], drawn["v"])))


def test_the_worked_example_and_its_cell_agree_with_the_check():
    (case,) = get_check(ASSIGNMENT, "curvature_visible").cases()
    assert curvature_exact([2, 1, 1], [1, -1]) == Fraction(11, 16) == case.expected
    source = cells(SOLUTIONS)["curvature_visible"].source
    stated = set(re.findall(r"0\.6875", source))
    assert stated == {"0.6875"} and f"{case.expected!r}" == "0.6875"
    assert "rtol=1e-06, atol=0" in source and checks.CURVATURE_RTOL == 1e-6
    text = cells(SOLUTIONS)["curvature_text"].source
    assert "$\\varphi = (1/2, 1/4, 1/4)$ and $\\mathbf v = (1, -1)$" in text


def test_the_curvature_judge_catches_plausible_mistakes_without_revealing_the_value():
    student = "ann-12"
    namespace = {"STUDENT_ID": student}
    drawn = checks.curvature_parameters(
        np.random.default_rng(student_seed(student, "curvature_hidden"))
    )
    weights, v = drawn["weights"], drawn["v"]
    right = curvature_exact(weights, v)
    (case,) = get_check(ASSIGNMENT, "curvature_hidden").cases_for_student(student)
    assert_passes(ASSIGNMENT, "curvature_hidden", right.numerator / right.denominator, namespace)
    assert_passes(ASSIGNMENT, "curvature_hidden", np.float32(right), namespace)
    total = sum(weights)
    phi = [Fraction(w, total) for w in weights]
    second_moment = sum(p * x**2 for p, x in zip(phi, v, strict=False))  # v has K - 1
    mistakes = {
        # E[(v^T T)^2] = v^T diag(phi) v: the mean's square forgotten
        "second moment": second_moment,
        "rounded to two digits": round(float(right), 2),
        # the classes shifted by one: phi_2 ... phi_K weigh v_1 ... v_{K-1}
        "shifted": sum(p * x**2 for p, x in zip(phi[1:], v, strict=True))
        - sum(p * x for p, x in zip(phi[1:], v, strict=True)) ** 2,
    }
    caught = 0
    for why, answer in mistakes.items():
        if abs(float(answer) - float(right)) <= 1e-6 * float(right):
            continue  # this student's numbers happen to forgive the mistake
        wrong = mismatch(case, float(answer))  # what the instructor's report says
        assert "is not the curvature" in wrong.message
        assert repr(float(right)) not in wrong.message, why
        with pytest.raises(AssertionError, match="not the answer to your own question") as failure:
            assert_passes(ASSIGNMENT, "curvature_hidden", float(answer), namespace)
        assert repr(float(right)) not in str(failure.value), why
        caught += 1
    assert caught >= 2
    for answer in ([1.0, 2.0], "0.5", None):
        wrong = mismatch(case, answer)
        assert wrong.kind == "shape" and "expected one number" in wrong.message
        with pytest.raises(AssertionError):
            assert_passes(ASSIGNMENT, "curvature_hidden", answer, namespace)
    # The worked example says what was expected.
    with pytest.raises(AssertionError, match=r"expected 0\.6875, got 0\.75"):
        assert_passes(ASSIGNMENT, "curvature_visible", 0.75)


def hvp_diagonal_only(eta, v):
    return ref.multinomial_mean_params(eta)[..., :-1] * v


def hvp_outer_only(eta, v):
    phi = ref.multinomial_mean_params(eta)[..., :-1]
    return -phi * np.sum(phi * v, axis=-1, keepdims=True)


def hvp_with_softmax_of_eta(eta, v):
    q = ref.softmax(np.asarray(eta, dtype=float))  # the reference class's 0 left out
    return q * (v - np.sum(q * v, axis=-1, keepdims=True))


def hvp_by_central_difference(eta, v):
    eta, v = np.asarray(eta, dtype=float), np.asarray(v, dtype=float)
    delta = 1e-5
    above = ref.multinomial_mean_params(eta + delta * v)[..., :-1]
    below = ref.multinomial_mean_params(eta - delta * v)[..., :-1]
    return (above - below) / (2 * delta)


def hvp_textbook_exp(eta, v):
    e = np.exp(np.asarray(eta, dtype=float))  # overflows for eta > 709.78
    phi = e / (1 + np.sum(e, axis=-1, keepdims=True))
    return phi * (v - np.sum(phi * v, axis=-1, keepdims=True))


@pytest.mark.parametrize(
    ("name", "func", "message"),
    [
        ("multinomial_log_partition_hvp_visible", hvp_diagonal_only, "expected"),
        ("multinomial_log_partition_hvp_hidden", hvp_diagonal_only, "term -phi \\(phi\\^T v\\)"),
        ("multinomial_log_partition_hvp_hidden", hvp_outer_only, "term diag\\(phi\\) v"),
        (
            "multinomial_log_partition_hvp_hidden",
            lambda eta, v: -ref.multinomial_log_partition_hvp(eta, v),
            "the sign is flipped",
        ),
        ("multinomial_log_partition_hvp_hidden", hvp_with_softmax_of_eta, "reference class"),
        ("multinomial_log_partition_hvp_hidden", hvp_by_central_difference, "expected"),
        ("multinomial_log_partition_hvp_hidden", hvp_textbook_exp, "FloatingPointError"),
        (
            "multinomial_log_partition_hvp_hidden",
            lambda eta, v: ref.multinomial_log_partition_hvp(eta, v)[..., :-1],
            "expected shape",
        ),
    ],
)
def test_the_product_checks_catch_planted_faults(name, func, message):
    with pytest.raises(AssertionError, match=message):
        assert_passes(ASSIGNMENT, name, func)


def test_the_product_checks_pass_the_reference_for_many_seeds():
    for seed in range(4):
        assert_passes(
            ASSIGNMENT,
            "multinomial_log_partition_hvp_hidden",
            ref.multinomial_log_partition_hvp,
            seed=seed,
        )
