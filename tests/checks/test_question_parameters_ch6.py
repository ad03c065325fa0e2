"""Chapter 6: the notebook draws a student's question with the grader's parameters, and the
decision check tells a right procedure from planted wrong ones.

The student notebook's set-up cell and the question cell of ``blank_bias`` are run with several
student ids, as a student would run them; the values the cell draws (``K_mine``,
``counts_mine``, ``l2_mine``) must be what ``blank_parameters`` draws from
``student_seed(id, "blank_bias_hidden")``. The visible example of ``choose_l2`` is built by the
notebook with scikit-learn and by the check with NumPy alone: the two must be the same data,
and the accuracies the notebook states must be the check's.
"""

from __future__ import annotations

import ast
import contextlib
import io

import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import assert_passes, get_check
from autograder.checks import softmax_regression as ch6
from autograder.checks.core import CallError, call_case, mismatch, student_seed
from autograder.course import CHAPTERS, SOLUTIONS

ASSIGNMENT = "06_softmax_regression"
STUDENTS = ["", "alice", "bob-34", "s1234567", "Zoë Ng", "ann.lee@example.org"]


def notebook_cells(folder=CHAPTERS) -> dict:
    (path,) = (folder / ASSIGNMENT).glob("*_exercise.ipynb")
    notebook = nbformat.read(path, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    (id_cell,) = [c for c in notebook.cells if c.source.lstrip().startswith("STUDENT_ID =")]
    assert "nbgrader" not in id_cell.metadata, "the id cell is the student's own"
    cells["student_id"] = id_cell
    return cells


def run_cells(names: list[str], student: str = "") -> tuple[dict, str]:
    """The namespace and the printed output after the id cell (holding ``student``) and the
    locked cells ``names`` of the student notebook, run in order."""
    cells = notebook_cells()
    namespace: dict = {}
    exec(cells["student_id"].source.replace('""', repr(student), 1), namespace)
    assert namespace["STUDENT_ID"] == student
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for name in names:
            assert cells[name].metadata["nbgrader"]["locked"]
            exec(cells[name].source, namespace)
    return namespace, output.getvalue()


# ------------------------------------------------------------------ predict: blank_bias


def test_the_notebook_draws_the_graders_parameters():
    chosen = get_check(ASSIGNMENT, "blank_bias_hidden")
    assert chosen.per_student and chosen.parameters is ch6.blank_parameters
    seen = []
    for student in STUDENTS:
        namespace, printed = run_cells(["setup", "blank_bias_question"], student)
        expected = chosen.parameters(np.random.default_rng(student_seed(student, chosen.name)))
        assert namespace["K_mine"] == expected["K"]
        assert namespace["counts_mine"].tolist() == expected["counts"]
        assert namespace["l2_mine"] == expected["l2"]
        assert f"Your K is {expected['K']}." in printed
        assert "n = (" + ", ".join(map(str, expected["counts"])) + ")" in printed
        assert f"Your lambda is {expected['l2']}." in printed
        seen.append(repr(expected))
    assert len(set(seen)) == len(STUDENTS), "different students get different questions"
    assert "STUDENT_ID is empty" in run_cells(["setup", "blank_bias_question"], "")[1]


def test_answers_differ_between_students_and_follow_from_the_counts_alone():
    answers = [
        repr(np.round(ch6.blank_bias_hidden.cases_for_student(f"s{n}")[0].expected, 9))
        for n in range(60)
    ]
    assert len(set(answers)) >= 58
    # Lambda is a distractor: two students with the same counts share the answer.
    assert np.allclose(ch6.blank_answer([3, 3, 3]), 0.0)


def test_the_answer_is_where_gradient_descent_on_blank_images_ends():
    # Planted: the reference trainer, run long on X = 0, reaches the stated limit (W stays 0).
    parameters = {"K": 5, "counts": [7, 1, 30, 12, 4], "l2": 0.1}
    y = np.repeat(np.arange(5), parameters["counts"])
    W, b = ref.softmax_regression_fit(np.zeros((len(y), 3)), y, 5, 2.0, 3000, parameters["l2"])
    assert np.all(W == 0)
    np.testing.assert_allclose(b, ch6.blank_answer(parameters["counts"]), rtol=1e-9)
    np.testing.assert_allclose(ref.softmax(b), np.array(parameters["counts"]) / len(y))


@pytest.mark.parametrize(
    ("wrong", "why"),
    [
        (lambda n: np.log(n / np.sum(n)), "log of the shares: its entries do not sum to 0"),
        (lambda n: np.log(n) - np.log(n).mean() + 0.1, "a constant too many"),
        (lambda n: n / np.sum(n) - 1 / len(n), "the first gradient step, not the limit"),
        (lambda n: np.zeros(len(n)), "b stays 0"),
    ],
)
def test_planted_wrong_predictions_lose(wrong, why):
    (case,) = ch6.blank_bias_hidden.cases_for_student("alice")
    counts = np.array(
        ch6.blank_parameters(np.random.default_rng(student_seed("alice", "blank_bias_hidden")))[
            "counts"
        ]
    )
    assert mismatch(case, case.expected) is None
    found = mismatch(case, wrong(counts.astype(float)))
    assert found is not None and found.kind == "values", why
    assert "STUDENT_ID" in found.message and repr(case.expected[0]) not in found.message
    shape = mismatch(case, np.zeros(len(counts) + 1))
    assert shape is not None and shape.kind == "shape"


def test_the_worked_example_states_the_checks_value():
    source = notebook_cells(SOLUTIONS)["blank_bias_visible"].source
    (node,) = [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Assign) and n.targets[0].id == "expected"
    ]
    stated = np.array(ast.literal_eval(node.value.args[0]))
    (case,) = ch6.blank_bias_visible.cases(0)
    np.testing.assert_array_equal(stated, case.expected)
    assert mismatch(case, stated) is None
    assert "expected" in mismatch(case, -stated).message  # the example's feedback reveals it


# ---------------------------------------------------------------------- decide: choose_l2


def test_the_notebooks_visible_data_are_the_checks():
    namespace, printed = run_cells(["setup", "choose_l2_data"])
    X, y, accuracies = ch6.visible_choice()
    np.testing.assert_array_equal(namespace["X_scrambled"], X)
    np.testing.assert_array_equal(namespace["y_scrambled"], y)
    assert namespace["L2_GRID"] == ch6.L2_GRID
    assert namespace["CHOICE_SETTINGS"] == ch6.CHOICE_SETTINGS
    assert f"{len(y)} images" in printed
    (case,) = ch6.choose_l2_visible.cases(0)
    np.testing.assert_array_equal(case.args[0], X)
    # The accuracies the visible test cell states are the check's, to the last digit.
    source = notebook_cells(SOLUTIONS)["choose_l2_visible"].source
    (node,) = [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Assign) and n.targets[0].id == "held_out_accuracy"
    ]
    assert ast.literal_eval(node.value) == dict(zip(ch6.L2_GRID, accuracies, strict=True))


def test_the_scrambled_example_needs_the_validation_set():
    # The point of the example: the training set prefers no penalty, which loses.
    accuracies = ch6.visible_choice()[2]
    best = max(accuracies)
    assert accuracies[0] < best - 2 * ch6.CHOICE_TOLERANCE
    assert ch6.L2_GRID[accuracies.index(best)] == 0.1


def choose_on_training_accuracy(X, y):
    """Planted: the same split and trainer, but the training accuracy decides."""
    order = np.random.default_rng(0).permutation(len(y))
    train = order[round(len(y) / 3) :]
    scores = []
    for lam in ch6.L2_GRID:
        W, b = ref.softmax_regression_fit(X[train], y[train], 10, l2=lam, **ch6.CHOICE_SETTINGS)
        scores.append(np.mean(ref.softmax_regression_predict(X[train], W, b) == y[train]))
    return ch6.L2_GRID[int(np.argmax(scores))]


def always(value):
    return lambda X, y: value


def failures(func, seed: int) -> list[str]:
    """The messages of the cases of choose_l2_hidden (for ``seed``) that ``func`` fails."""
    found = []
    for case in ch6.choose_l2_hidden.cases(seed):
        wrong = mismatch(case, call_case(func, case))
        if wrong is not None:
            found.append(wrong.message)
    return found


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_the_reference_procedure_passes(seed):
    assert failures(ref.choose_l2, seed) == []
    assert_passes(ASSIGNMENT, "choose_l2_hidden", ref.choose_l2, seed=seed)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("planted", "losing_case"),
    [
        (choose_on_training_accuracy, "scrambled"),  # always 0: learns the wrong labels
        (always(0.0), "scrambled"),
        (always(1.0), "true labels"),  # the largest penalty underfits the clean images
    ],
    ids=["training-accuracy", "always-0", "always-largest"],
)
def test_planted_faults_lose(planted, losing_case, seed):
    messages = failures(planted, seed)
    assert any(losing_case in m for m in messages), messages
    assert all("held-out images correctly" in m and "at least" in m for m in messages)
    with pytest.raises(AssertionError, match="reread: the section 'softmax-regression-validation'"):
        assert_passes(ASSIGNMENT, "choose_l2_hidden", planted, seed=seed)


def test_the_visible_check_catches_the_training_accuracy_too():
    (case,) = ch6.choose_l2_visible.cases(0)
    assert mismatch(case, call_case(ref.choose_l2, case)) is None
    assert mismatch(case, call_case(choose_on_training_accuracy, case)).kind == "values"


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (0.05, "values", "not one of the grid"),
        ("0.1", "values", None),
        ([0.1, 1.0], "shape", "one number"),
    ],
)
def test_an_answer_off_the_grid_is_named(answer, kind, words):
    (case,) = ch6.choose_l2_visible.cases(0)
    found = mismatch(case, answer)
    if answer == "0.1":  # a string NumPy reads as a number is that number
        assert found is None
        return
    assert found.kind == kind and words in found.message


def test_a_function_that_raises_is_reported():
    (case,) = ch6.choose_l2_visible.cases(0)

    def broken(X, y):
        return np.log(-1.0)

    with pytest.raises(CallError, match="FloatingPointError"):
        call_case(broken, case)


def test_hidden_data_differ_by_seed_and_keep_true_held_out_labels():
    rng = np.random.default_rng(3)
    X, y, X_held, y_held = ch6.choice_data(rng, 40, 0.3)
    assert X.shape == (400, 64) and len(y_held) == 1797 - 400 == len(X_held)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    assert 0.2 < np.mean(y != ch6.choice_data(np.random.default_rng(3), 40, 0.0)[1]) < 0.35
    first = [c.args[1] for c in ch6.choose_l2_hidden.cases(7)]
    second = [c.args[1] for c in ch6.choose_l2_hidden.cases(8)]
    assert not np.array_equal(first[1], second[1])


@pytest.mark.parametrize("l2", ch6.L2_GRID)
def test_the_graders_trainer_takes_the_references_steps(l2):
    X, y, _, _ = ch6.choice_data(np.random.default_rng(11), 20, 0.3)
    lean = ch6.lean_fit(X, y, 10, l2=l2, **ch6.CHOICE_SETTINGS)
    reference = ref.softmax_regression_fit(X, y, 10, l2=l2, **ch6.CHOICE_SETTINGS)
    for mine, theirs in zip(lean, reference, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    # Planted: a step that forgets the penalty ends elsewhere (except for l2 = 0).
    if l2 > 0:
        wrong = ch6.lean_fit(X, y, 10, l2=0.0, **ch6.CHOICE_SETTINGS)
        assert not np.allclose(wrong[0], reference[0], rtol=1e-6)


def unshifted_softmax_grad(X, y, W, b, l2=0.0):
    """Planted: the gradient with the textbook softmax, exp(z) / sum exp(z)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    e = np.exp(X @ W + b)
    G = (e / e.sum(axis=1, keepdims=True) - np.eye(np.shape(W)[1])[y]) / len(X)
    return X.T @ G + l2 * W, G.sum(axis=0)


@pytest.mark.parametrize("seed", range(25))
def test_the_unshifted_softmax_fails_the_hidden_gradient_check_at_every_seed(seed):
    # The round trip's flawed gradient: it must lose its cell whatever the grader's seed.
    assert_passes(
        ASSIGNMENT, "softmax_regression_grad_hidden", ref.softmax_regression_grad, seed=seed
    )
    with pytest.raises(AssertionError, match=r"FloatingPointError|overflow|invalid"):
        assert_passes(
            ASSIGNMENT, "softmax_regression_grad_hidden", unshifted_softmax_grad, seed=seed
        )
    # It passes the visible check: ordinary logits do not overflow.
    assert_passes(ASSIGNMENT, "softmax_regression_grad_visible", unshifted_softmax_grad)
