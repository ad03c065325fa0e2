"""Chapter 7: the notebook draws a student's question with the grader's parameters, every check
catches a planted fault, and the decision check tells a right procedure from wrong ones.

The student notebook's set-up cell and the question cell of ``smoothing_gap`` are run with
several student ids, as a student would run them; the values the cell draws must be what
``smoothing_parameters`` draws from ``student_seed(id, "smoothing_gap_hidden")``. The visible
problem of ``choose_penalty`` is built by the notebook's ``make_problem`` and by the check's
``decide_problem``: the two must be the same data.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import numpy as np
import pytest

from autograder.checks import assert_passes, get_check
from autograder.checks import softmax_in_practice as ch7
from autograder.checks.core import student_seed
from autograder.course import CHAPTERS, SOLUTIONS

ASSIGNMENT = "07_softmax_in_practice"
STUDENTS = ["", "alice", "bob-34", "s1234567", "Zoë Ng", "ann.lee@example.org"]


def notebook_cells(folder=CHAPTERS) -> dict:
    (path,) = (folder / ASSIGNMENT).glob("*_exercise.ipynb")
    notebook = nbformat.read(path, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    (id_cell,) = [c for c in notebook.cells if c.source.lstrip().startswith("STUDENT_ID =")]
    assert "nbgrader" not in id_cell.metadata, "the id cell is the student's own"
    cells["student_id"] = id_cell
    return cells


def run_cells(names: list[str], student: str = "", folder=CHAPTERS) -> tuple[dict, str]:
    """The namespace and printed output after the id cell (holding ``student``) and the cells
    ``names`` of the notebook, run in order."""
    cells = notebook_cells(folder)
    namespace: dict = {}
    exec(cells["student_id"].source.replace('""', repr(student), 1), namespace)
    assert namespace["STUDENT_ID"] == student
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for name in names:
            exec(cells[name].source, namespace)
    return namespace, output.getvalue()


@pytest.fixture(scope="module")
def solved() -> dict:
    """The solution notebook's namespace: every given and solution cell, run as "alice"."""
    names = [
        "setup",
        "given",
        "expected_calibration_error",
        "temperature_nll_grad",
        "temperature_nll_curvature",
        "fit_temperature",
        "smoothing_gap_example",
        "smoothing_gap_question",
        "smoothing_gap",
        "choose_penalty",
    ]
    namespace, _ = run_cells(names, "alice", folder=SOLUTIONS)
    return namespace


# ---------------------------------------------------------- predict: smoothing_gap


def test_the_notebook_draws_the_graders_parameters():
    chosen = get_check(ASSIGNMENT, "smoothing_gap_hidden")
    assert chosen.per_student and chosen.parameters is ch7.smoothing_parameters
    seen = []
    for student in STUDENTS:
        namespace, printed = run_cells(["setup", "smoothing_gap_question"], student)
        expected = chosen.parameters(np.random.default_rng(student_seed(student, chosen.name)))
        assert namespace["n_classes_mine"] == expected["n_classes"]
        assert namespace["smoothing_mine"] == expected["smoothing"]
        assert f"K = n_classes_mine = {expected['n_classes']} classes" in printed
        seen.append(repr(expected))
    assert len(set(seen)) == len(STUDENTS), "different students get different questions"
    assert "STUDENT_ID is empty" in run_cells(["setup", "smoothing_gap_question"], "")[1]


def test_the_notebook_lists_the_checks_smoothing_choices():
    source = notebook_cells()["smoothing_gap_question"].source
    assert repr(list(ch7.SMOOTHING_CHOICES)) in source


def test_the_expected_gap_is_where_the_smoothed_loss_is_flat():
    """The gap the check expects makes softmax(z) the smoothed target, where the gradient
    q - y~ of the loss with label smoothing vanishes."""
    for n_classes, kappa in [(10, 0.1), (3, 0.3), (1000, 0.01)]:
        z = np.zeros(n_classes)
        z[0] = ch7.smoothing_gap(n_classes, kappa)
        target = (1 - kappa) * np.eye(n_classes)[0] + kappa / n_classes
        q = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(q, target, rtol=1e-12)


def test_each_student_passes_their_own_question_and_fails_a_classmates(solved):
    chosen = get_check(ASSIGNMENT, "smoothing_gap_hidden")
    for student, other in [("alice", "bob-34"), ("s1234567", "Zoë Ng")]:
        mine = chosen.parameters(np.random.default_rng(student_seed(student, chosen.name)))
        theirs = chosen.parameters(np.random.default_rng(student_seed(other, chosen.name)))
        assert mine != theirs
        answer = ch7.smoothing_gap(**mine)
        assert_passes(ASSIGNMENT, chosen.name, answer, {"STUDENT_ID": student})
        with pytest.raises(AssertionError, match="your own question"):
            assert_passes(ASSIGNMENT, chosen.name, answer, {"STUDENT_ID": other})


# ---------------------------------------------------------- planted faults, check by check


def test_the_solutions_pass_every_check(solved):
    for chosen in ch7.CHECKS:
        value = solved[chosen.exercise]
        assert_passes(ASSIGNMENT, chosen.name, value, solved, seed=3)


FAULTS = {
    # bins numbered floor(c B): confidence 1 falls out of every bin
    "expected_calibration_error_hidden": lambda ns: (
        lambda q, labels, n_bins=15: float(
            sum(
                np.mean(inside) * abs(np.mean(right[inside]) - np.mean(c[inside]))
                for c, right, bins in [
                    (
                        np.max(q, axis=1),
                        np.argmax(q, axis=1) == labels,
                        np.floor(np.max(q, axis=1) * n_bins),
                    )
                ]
                for b in range(n_bins)
                for inside in [bins == b]
                if inside.any()
            )
        )
    ),
    # the derivative in gamma instead of tau
    "temperature_nll_grad_hidden": lambda ns: (
        lambda z, y, tau: -(tau**2) * ns["temperature_nll_grad"](z, y, tau)
    ),
    # E[z^2] - E[z]^2, which cancels near 1e6
    "temperature_nll_curvature_hidden": lambda ns: (
        lambda z, y, tau: np.mean(
            np.sum(ns["softmax"](z / tau) * z**2, axis=1)
            - np.sum(ns["softmax"](z / tau) * z, axis=1) ** 2
        )
    ),
    # 1 / tau returned
    "fit_temperature_hidden": lambda ns: lambda z, y: 1 / ns["fit_temperature"](z, y),
    # the penalty chosen on the training loss
    "choose_penalty_hidden": lambda ns: (
        lambda X, y: ns["L2_GRID"][
            int(
                np.argmin(
                    [
                        ns["softmax_cross_entropy"](X @ fit[0] + fit[1], y)
                        for fit in (
                            ns["fit_softmax_regression"](X, y, 3, l2) for l2 in ns["L2_GRID"]
                        )
                    ]
                )
            )
        ]
    ),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_hidden_check_catches_its_planted_fault(name, solved):
    for seed in range(3):
        with pytest.raises(AssertionError):
            assert_passes(ASSIGNMENT, name, FAULTS[name](solved), solved, seed=seed)


def test_the_visible_checks_catch_the_floor_binning_and_the_missing_chain_rule(solved):
    floor_bins = FAULTS["expected_calibration_error_hidden"](solved)
    with pytest.raises(AssertionError):
        assert_passes(ASSIGNMENT, "expected_calibration_error_visible", floor_bins)
    in_gamma = FAULTS["temperature_nll_grad_hidden"](solved)
    with pytest.raises(AssertionError):
        assert_passes(ASSIGNMENT, "temperature_nll_grad_visible", in_gamma)


def test_a_wrong_smoothing_gap_is_caught():
    with pytest.raises(AssertionError):
        assert_passes(ASSIGNMENT, "smoothing_gap_visible", np.log(0.9 / 0.1))
    assert_passes(ASSIGNMENT, "smoothing_gap_visible", np.log(91))


# ---------------------------------------------------------- decide: choose_penalty


def test_the_visible_problem_is_the_notebooks(solved):
    X, y = solved["make_problem"](np.random.default_rng(ch7.DECIDE_VISIBLE_SEED), 100)
    ((case,),) = [get_check(ASSIGNMENT, "choose_penalty_visible").cases(0)]
    np.testing.assert_array_equal(X, case.args[0])
    np.testing.assert_array_equal(y, case.args[1])
    assert tuple(solved["L2_GRID"]) == ch7.L2_GRID


def test_the_notebooks_trainer_is_the_references(solved):
    X, y, _, _ = ch7.decide_problem(np.random.default_rng(5), 100)
    from autograder.reference import softmax_regression_newton

    for l2 in (1e-4, 1e-1):
        W, b = solved["fit_softmax_regression"](X, y, 3, l2)
        W_ref, b_ref = softmax_regression_newton(X, y, 3, l2=l2)
        np.testing.assert_allclose(W, W_ref, atol=1e-8)
        np.testing.assert_allclose(b, b_ref, atol=1e-8)


def always(value):
    def choose_penalty(X, y):
        return value

    return choose_penalty


@pytest.mark.parametrize("constant", [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
def test_constant_answers_fail_on_one_of_the_two_problems(constant):
    """No penalty is right for both problems: the weak ones fail the problem where a strong
    one is best, 0.1 and 1 the one where a weak one is best."""
    for seed in range(3):
        with pytest.raises(AssertionError, match="held-out"):
            assert_passes(ASSIGNMENT, "choose_penalty_hidden", always(constant), seed=seed)


def test_a_wrong_answer_says_what_to_do():
    with pytest.raises(AssertionError, match="validation split"):
        assert_passes(ASSIGNMENT, "choose_penalty_hidden", lambda X, y: 1e-4, seed=0)
    with pytest.raises(AssertionError, match="not one of the grid"):
        assert_passes(ASSIGNMENT, "choose_penalty_visible", lambda X, y: 0.5)
