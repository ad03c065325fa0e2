"""Chapters 3 and 4: the questions drawn for each student, and the new checks' planted faults.

For every per-student check of the two assignments, the student notebook's set-up cell and
the question's locked cell are run with several student ids, as a student would run them; the
values the cell draws must be what ``check.parameters`` draws from ``student_seed(id, check
name)``, and the cell must print them. The solution notebook, run as one student, answers that
student's questions and not another's. Each new or hardened check catches a planted fault: the
textbook formula where the check asks for more, or a plausible wrong answer to a prediction.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import assert_passes, get_check
from autograder.checks import cross_entropy as ce_checks
from autograder.checks.core import student_seed
from autograder.course import CHAPTERS, SOLUTIONS

#: (assignment, per-student check, the grade id of the cell that draws its question, and the
#: notebook variable that holds each of the check's parameters)
QUESTIONS = [
    (
        "03_softmax",
        "tempered_softmax_hidden",
        "tempered_softmax_question",
        {"q": "q_tempered", "c": "c_tempered", "tau": "tau_tempered"},
    ),
    (
        "03_softmax",
        "shifted_logsumexp_hidden",
        "shifted_logsumexp_question",
        {"n_classes": "n_classes_lse", "m": "m_lse", "c": "c_lse"},
    ),
    (
        "04_cross_entropy",
        "untrained_loss_hidden",
        "untrained_loss_question",
        {"n_classes": "n_classes_mine", "smoothing": "smoothing_mine"},
    ),
    (
        "04_cross_entropy",
        "gradient_choice_hidden",
        "gradient_choice_question",
        {"question": "question_mine", "order": "order_mine"},
    ),
]
IDS = [name for _, name, _, _ in QUESTIONS]
STUDENTS = ["", "alice", "bob-34", "s1234567", "Zoë Ng", "ann.lee@example.org"]


def notebook_cells(folder, assignment: str) -> list:
    (path,) = (folder / assignment).glob("*_exercise.ipynb")
    return nbformat.read(path, as_version=4).cells


def by_grade_id(cells: list) -> dict:
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in cells}


def id_cell_source(cells: list, student: str) -> str:
    (cell,) = [c for c in cells if c.source.lstrip().startswith("STUDENT_ID =")]
    assert "nbgrader" not in cell.metadata, "the id cell is the student's own"
    return cell.source.replace('""', repr(student), 1)


def run_question(assignment: str, question_cell: str, student: str) -> tuple[dict, str]:
    """The namespace and the printed output after the set-up and question cells of the student
    notebook, run as ``student`` (whose id is in the notebook's STUDENT_ID cell)."""
    cells = notebook_cells(CHAPTERS, assignment)
    named = by_grade_id(cells)
    namespace: dict = {}
    exec(id_cell_source(cells, student), namespace)
    assert namespace["STUDENT_ID"] == student
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for grade_id in ("setup", question_cell):
            assert named[grade_id].metadata["nbgrader"]["locked"]
            exec(named[grade_id].source, namespace)
    return namespace, output.getvalue()


@pytest.mark.parametrize(("assignment", "name", "question_cell", "variables"), QUESTIONS, ids=IDS)
def test_the_notebook_draws_the_graders_parameters(assignment, name, question_cell, variables):
    chosen = get_check(assignment, name)
    assert chosen.per_student and chosen.parameters is not None
    assert set(variables) == set(chosen.parameters(np.random.default_rng(0)))
    seen = []
    for student in STUDENTS:
        namespace, printed = run_question(assignment, question_cell, student)
        expected = chosen.parameters(np.random.default_rng(student_seed(student, name)))
        for key, value in expected.items():
            drawn = namespace[variables[key]]
            assert np.shape(drawn) == np.shape(value), (student, key)
            np.testing.assert_array_equal(drawn, value, err_msg=f"{student!r}: {key}")
            if np.ndim(value) == 0 and key != "question":  # a question is shown by its text
                assert str(value) in printed, (student, key, printed)
        assert ("STUDENT_ID is empty" in printed) == (student == ""), printed
        seen.append(repr(expected))
    assert len(set(seen)) == len(STUDENTS), "different students get different questions"


def test_the_question_cell_holds_the_graders_gradient_questions():
    namespace, printed = run_question("04_cross_entropy", "gradient_choice_question", "alice")
    shown = [(loss, list(proposals)) for loss, proposals in namespace["gradient_questions"]]
    assert shown == [(loss, list(p)) for loss, p in ce_checks.GRADIENT_QUESTIONS]
    drawn = ce_checks.choice_parameters(
        np.random.default_rng(student_seed("alice", "gradient_choice_hidden"))
    )
    loss, proposals = ce_checks.GRADIENT_QUESTIONS[drawn["question"]]
    assert loss in printed
    for letter, index in zip("abcd", drawn["order"], strict=True):
        assert f"({letter}) {proposals[index]}\n" in printed


def test_the_question_cell_does_not_give_the_right_proposal_away():
    # The right gradient is not at one fixed place of every question's list.
    assert len(set(ce_checks.GRADIENT_ANSWERS)) >= 3
    assert len(ce_checks.GRADIENT_ANSWERS) == len(ce_checks.GRADIENT_QUESTIONS)


@pytest.mark.parametrize(("assignment", "name", "question_cell", "variables"), QUESTIONS, ids=IDS)
def test_per_student_answers_differ_between_most_students(
    assignment, name, question_cell, variables
):
    # The parameters differ, and so do the answers: a classmate's answer is rarely right.
    chosen = get_check(assignment, name)
    if chosen.cases(0)[0].judge is not None:  # a choice: four letters, one right
        letters = []
        for n in range(60):
            drawn = chosen.parameters(
                np.random.default_rng(student_seed(f"student-{n}", chosen.name))
            )
            answer = ce_checks.GRADIENT_ANSWERS[drawn["question"]]
            letters.append("abcd"[drawn["order"].index(answer)])
        assert set(letters) == set("abcd")
        assert max(map(letters.count, "abcd")) <= 25
        return
    answers = [repr(chosen.cases_for_student(f"student-{n}")[0].expected) for n in range(60)]
    assert len(set(answers)) >= 45


def solution_namespace(assignment: str, student: str) -> dict:
    """The solution notebook's cells but the graded ones, run as ``student``."""
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook_cells(SOLUTIONS, assignment):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or meta.get("grade"):
                continue
            source = cell.source
            if source.lstrip().startswith("STUDENT_ID ="):
                source = id_cell_source([cell], student)
            lines = [line for line in source.splitlines() if not line.lstrip().startswith("!")]
            exec("\n".join(lines), namespace)
    return namespace


@pytest.mark.parametrize("assignment", ["03_softmax", "04_cross_entropy"])
def test_the_solution_answers_its_own_students_questions_only(assignment):
    names = [name for a, name, _, _ in QUESTIONS if a == assignment]
    assert names
    # Two students whose right answers differ on every question (a choice has four letters).
    ann, carl = solution_namespace(assignment, "ann-12"), solution_namespace(assignment, "carl-56")
    for name in names:
        exercise = get_check(assignment, name).exercise
        assert repr(ann[exercise]) != repr(carl[exercise])
        assert_passes(assignment, name, ann[exercise], ann)
        assert_passes(assignment, name, carl[exercise], carl)
        # ann's answer graded as carl (his id in the namespace): the other question
        with pytest.raises(AssertionError, match=exercise):
            assert_passes(assignment, name, ann[exercise], {"STUDENT_ID": "carl-56"})


# --------------------------------------------------------------------------- planted faults
def textbook_logsumexp(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)), axis=axis)


def logsumexp_log1p_without_masked_rows(z, axis=-1):
    # log1p of the others' sum, but a row of -inf gives -inf - (-inf) = nan
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    ties = np.sum(z == m, axis=axis, keepdims=True) - 1
    r = np.sum(np.where(z < m, e, 0.0), axis=axis, keepdims=True) + ties
    return np.squeeze(m + np.log1p(r), axis=axis)


def chapter_log_softmax(z, axis=-1):
    return np.asarray(z, dtype=float) - np.expand_dims(ref.logsumexp(z, axis), axis)


def textbook_jacobian(z):
    q = ref.softmax(z)
    return np.diag(q) - np.outer(q, q)


def temperature_grad_without_centering(z, tau, axis=-1):
    # only diag(q) of the Jacobian: the term -q q^T forgotten
    return -ref.softmax(np.asarray(z) / tau, axis) * np.asarray(z) / tau**2


def temperature_grad_without_shift(z, tau, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z / tau)
    q = e / np.sum(e, axis=axis, keepdims=True)
    return -q * (z - np.sum(q * z, axis=axis, keepdims=True)) / tau**2


def given_log_softmax_loss(logits, labels):
    # the notebook's given log_softmax: log(1 + r) rounds a tiny r away
    z = np.asarray(logits, dtype=float)
    m = np.max(z, axis=-1, keepdims=True)
    log_q = z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    labels = np.asarray(labels)
    p = np.eye(z.shape[1])[labels] if labels.ndim == 1 else labels
    return -np.sum(p * np.where(p > 0, log_q, 0.0)) / len(z)


def textbook_gradient(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    p = np.eye(z.shape[1])[labels] if labels.ndim == 1 else labels
    return (ref.softmax(z) - p) / len(z)


def chapter_binary_cross_entropy(logits, labels):
    x, y = np.asarray(logits, dtype=float), np.asarray(labels, dtype=float)
    return np.mean(np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x))))


def relative_step_gradient_check(f, grad_f, z):
    # the chapter's default step eps^(1/3) max(1, |z_j|): truncation error at logits near 1e5
    z = np.asarray(z, dtype=float)
    g = np.asarray(grad_f(z), dtype=float)
    g_fd = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        delta = np.cbrt(np.finfo(float).eps) * max(1.0, abs(z[index]))
        above, below = z.copy(), z.copy()
        above[index] += delta
        below[index] -= delta
        g_fd[index] = (f(above) - f(below)) / (above[index] - below[index])
    scale = max(np.linalg.norm(g), np.linalg.norm(g_fd), np.finfo(float).tiny)
    return float(np.linalg.norm(g - g_fd) / scale)


def smoothing_only_scales_the_label(logits, labels, smoothing):
    # the uniform part kappa / K of the target forgotten
    return (1 - smoothing) * ref.softmax_cross_entropy_grad(logits, labels)


def smoothed_grad_without_mean(logits, labels, smoothing):
    return ref.smoothed_cross_entropy_grad(logits, labels, smoothing) * len(logits)


def smoothed_grad_without_shift(logits, labels, smoothing):
    z = np.asarray(logits, dtype=float)
    e = np.exp(z)
    q = e / np.sum(e, axis=-1, keepdims=True)
    labels = np.asarray(labels)
    p = np.eye(z.shape[1])[labels] if labels.ndim == 1 else labels
    target = (1 - smoothing) * p + smoothing / z.shape[1]
    return (q - target) / len(z)


@pytest.mark.parametrize(
    ("assignment", "name", "func", "message"),
    [
        ("03_softmax", "logsumexp_hidden", textbook_logsumexp, "expected"),
        ("03_softmax", "logsumexp_hidden", logsumexp_log1p_without_masked_rows, "Error"),
        ("03_softmax", "log_softmax_hidden", chapter_log_softmax, "expected"),
        ("03_softmax", "softmax_jacobian_visible", textbook_jacobian, "expected"),
        ("03_softmax", "softmax_jacobian_hidden", textbook_jacobian, "expected"),
        (
            "03_softmax",
            "softmax_temperature_grad_visible",
            temperature_grad_without_centering,
            "expected",
        ),
        (
            "03_softmax",
            "softmax_temperature_grad_hidden",
            temperature_grad_without_centering,
            "expected",
        ),
        (
            "03_softmax",
            "softmax_temperature_grad_hidden",
            lambda z, tau, axis=-1: -ref.softmax_temperature_grad(z, tau, axis),  # sign
            "expected",
        ),
        (
            "03_softmax",
            "softmax_temperature_grad_extreme_hidden",
            temperature_grad_without_shift,
            "FloatingPointError",
        ),
        ("04_cross_entropy", "softmax_cross_entropy_hidden", given_log_softmax_loss, "expected"),
        ("04_cross_entropy", "softmax_cross_entropy_grad_visible", textbook_gradient, "expected"),
        ("04_cross_entropy", "softmax_cross_entropy_grad_hidden", textbook_gradient, "expected"),
        (
            "04_cross_entropy",
            "binary_cross_entropy_with_logits_hidden",
            chapter_binary_cross_entropy,
            "expected",
        ),
        ("04_cross_entropy", "gradient_check_hidden", relative_step_gradient_check, "near 1e5"),
        (
            "04_cross_entropy",
            "smoothed_cross_entropy_grad_visible",
            smoothing_only_scales_the_label,
            "expected",
        ),
        (
            "04_cross_entropy",
            "smoothed_cross_entropy_grad_hidden",
            smoothing_only_scales_the_label,
            "expected",
        ),
        (
            "04_cross_entropy",
            "smoothed_cross_entropy_grad_hidden",
            smoothed_grad_without_mean,
            "expected",
        ),
        (
            "04_cross_entropy",
            "smoothed_cross_entropy_grad_extreme_hidden",
            smoothed_grad_without_shift,
            "FloatingPointError",
        ),
        (
            "04_cross_entropy",
            "smoothed_cross_entropy_grad_extreme_hidden",
            smoothing_only_scales_the_label,
            "expected",
        ),
    ],
)
def test_planted_fault_is_caught(assignment, name, func, message):
    with pytest.raises(AssertionError, match=message):
        assert_passes(assignment, name, func)


def test_the_hardened_cases_are_what_the_textbook_formulas_miss():
    """Each planted fault above fails on the case added for it, and passes the rest: the
    checks ask for the one thing more, not for a different function."""
    tiny = np.array([0.0, -40.0])
    assert textbook_logsumexp(tiny) == 0.0 and ref.logsumexp(tiny) > 0
    saturated = np.array([36.0, 0.0])
    assert textbook_jacobian(saturated)[0, 0] != ref.softmax_jacobian(saturated)[0, 0]
    gradient = get_check("04_cross_entropy", "softmax_cross_entropy_grad_visible")
    first, second = gradient.cases(0)
    np.testing.assert_allclose(textbook_gradient(*first.args), first.expected, rtol=1e-12)
    assert textbook_gradient(*second.args)[0, 0] != second.expected[0, 0]
    # The chapter's binary cross-entropy passes the visible check, not the smoothed labels.
    visible = get_check("04_cross_entropy", "binary_cross_entropy_with_logits_visible")
    assert_passes("04_cross_entropy", visible.name, chapter_binary_cross_entropy)
    # The relative step passes every other case of the gradient check.
    assert_passes(
        "04_cross_entropy",
        "gradient_check_visible",
        relative_step_gradient_check,
        {
            "softmax_cross_entropy": ref.softmax_cross_entropy,
            "softmax_cross_entropy_grad": ref.softmax_cross_entropy_grad,
        },
    )


@pytest.mark.parametrize(
    ("assignment", "name", "answer", "message"),
    [
        # a shift c changes nothing; tau scales the logits, so ratios go to the power 1 / tau
        (
            "03_softmax",
            "tempered_softmax_visible",
            np.array([0.1, 0.2, 0.3, 0.4]) ** 0.5 / np.sum(np.array([0.1, 0.2, 0.3, 0.4]) ** 0.5),
            "expected",
        ),
        ("03_softmax", "tempered_softmax_visible", np.array([0.1, 0.2, 0.3, 0.4]), "expected"),
        ("03_softmax", "tempered_softmax_visible", np.ones(3) / 3, "shape"),
        # log-sum-exp moves with a shift (it is not softmax), and K equal logits add log K
        ("03_softmax", "shifted_logsumexp_visible", 2.5 + np.log(4), "expected"),
        ("03_softmax", "shifted_logsumexp_visible", 2.5 - 1000.0, "expected"),
        # the smoothed target still sums to 1: the loss is log K, not less
        ("04_cross_entropy", "untrained_loss_visible", 0.9 * np.log(10), "expected"),
        ("04_cross_entropy", "untrained_loss_visible", np.log2(10), "expected"),
        ("04_cross_entropy", "untrained_loss_visible", "2.302585", "numeric"),
        ("04_cross_entropy", "gradient_choice_visible", "a", "not the right choice"),
        ("04_cross_entropy", "gradient_choice_visible", "B", "expected one of"),
        ("04_cross_entropy", "gradient_choice_visible", 2, "expected one of"),
    ],
)
def test_a_wrong_prediction_is_caught(assignment, name, answer, message):
    with pytest.raises(AssertionError, match=message):
        assert_passes(assignment, name, answer)


def test_the_right_predictions_pass_with_some_slack():
    assert_passes("03_softmax", "tempered_softmax_visible", np.array([1, 4, 9, 16]) / 30)
    assert_passes("03_softmax", "shifted_logsumexp_visible", -996.1137056)
    assert_passes("04_cross_entropy", "untrained_loss_visible", 2.302585)
    assert_passes("04_cross_entropy", "gradient_choice_visible", " b ")


@pytest.mark.parametrize("student", ["ann-12", "bob-34", "s1234567"])
def test_a_wrong_answer_to_ones_own_question_is_caught(student):
    namespace = {"STUDENT_ID": student}
    seed = np.random.default_rng
    tempered = get_check("03_softmax", "tempered_softmax_hidden")
    drawn = tempered.parameters(seed(student_seed(student, tempered.name)))
    q, tau = np.asarray(drawn["q"]), drawn["tau"]
    right = q ** (1 / tau) / np.sum(q ** (1 / tau))
    assert_passes("03_softmax", tempered.name, right, namespace)
    with pytest.raises(AssertionError, match="not the answer to your own question"):
        assert_passes("03_softmax", tempered.name, q**tau / np.sum(q**tau), namespace)

    lse = get_check("03_softmax", "shifted_logsumexp_hidden")
    drawn = lse.parameters(seed(student_seed(student, lse.name)))
    assert_passes(
        "03_softmax", lse.name, drawn["m"] + drawn["c"] + np.log(drawn["n_classes"]), namespace
    )
    with pytest.raises(AssertionError, match="not the answer to your own question"):
        assert_passes("03_softmax", lse.name, drawn["m"] + np.log(drawn["n_classes"]), namespace)

    untrained = get_check("04_cross_entropy", "untrained_loss_hidden")
    drawn = untrained.parameters(seed(student_seed(student, untrained.name)))
    assert_passes("04_cross_entropy", untrained.name, np.log(drawn["n_classes"]), namespace)
    with pytest.raises(AssertionError, match="not the answer to your own question"):
        assert_passes("04_cross_entropy", untrained.name, np.log2(drawn["n_classes"]), namespace)

    choice = get_check("04_cross_entropy", "gradient_choice_hidden")
    drawn = choice.parameters(seed(student_seed(student, choice.name)))
    right = "abcd"[drawn["order"].index(ce_checks.GRADIENT_ANSWERS[drawn["question"]])]
    assert_passes("04_cross_entropy", choice.name, right, namespace)
    for wrong in sorted(set("abcd") - {right}):
        with pytest.raises(AssertionError, match="not the answer to your own question"):
            assert_passes("04_cross_entropy", choice.name, wrong, namespace)
