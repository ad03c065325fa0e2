"""The check definitions: well formed, passed by the reference, failed by planted faults."""

from __future__ import annotations

import functools
import re

import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.checks import (
    ASSIGNMENTS,
    Case,
    Function,
    assert_passes,
    call_case,
    compare,
    get_check,
)
from autograder.checks.core import CallError
from autograder.course import ROOT, SOLUTIONS
from autograder.reference import exponential_family as ef

ALL_CHECKS = [(a, c) for a, checks in ASSIGNMENTS.items() for c in checks]
IDS = [f"{a}:{c.name}" for a, c in ALL_CHECKS]


def section_labels() -> set[str]:
    labels = set()
    for page in (ROOT / "chapters").rglob("*.md"):
        labels |= set(re.findall(r"^\(([\w-]+)\)=\s*$", page.read_text(), re.M))
    return labels


@pytest.mark.parametrize(("assignment", "chosen"), ALL_CHECKS, ids=IDS)
def test_check_is_well_formed(assignment, chosen):
    assert chosen.points > 0
    assert chosen.visibility in {"visible", "hidden"}
    assert chosen.description, "a check says what it checks in its docstring"
    assert chosen.section in section_labels(), f"hint points to a missing section {chosen.section}"
    assert get_check(assignment, chosen.name) is chosen
    assert chosen.cases(0), "a check has at least one case"


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_exercise_has_visible_and_hidden_checks(assignment):
    names = [c.name for c in ASSIGNMENTS[assignment]]
    assert len(names) == len(set(names))
    # A per-student question's worked example is its visible variant, held in a variable of its
    # own: ``untrained_loss_example`` beside the student's ``untrained_loss``.
    tasks = {c.name: c.exercise.removesuffix("_example") for c in ASSIGNMENTS[assignment]}
    for exercise in set(tasks.values()):
        kinds = {c.visibility for c in ASSIGNMENTS[assignment] if tasks[c.name] == exercise}
        assert kinds == {"visible", "hidden"}, exercise


@functools.cache
def solution_namespace(assignment: str) -> dict:
    """The solution notebook's code cells (all but the graded test cells), run in one namespace."""
    (path,) = (SOLUTIONS / assignment).glob("*.ipynb")
    namespace: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not meta.get("grade"):
            # Shell lines (the student's "check your work" cell) are IPython, not Python.
            code = "\n".join(
                line for line in cell.source.splitlines() if not line.lstrip().startswith("!")
            )
            exec(compile(code, f"{path.name}:{meta.get('grade_id')}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("assignment", "chosen"), ALL_CHECKS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_reference_passes_its_own_checks(assignment, chosen, seed):
    if not hasattr(ref, chosen.exercise):
        pytest.skip(f"the reference has no {chosen.exercise}: a numerical tool, not a formula")
    assert_passes(assignment, chosen.name, getattr(ref, chosen.exercise), seed=seed)


@pytest.mark.parametrize(("assignment", "chosen"), ALL_CHECKS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 3])
def test_solution_notebook_passes_every_check(assignment, chosen, seed):
    namespace = solution_namespace(assignment)
    assert_passes(assignment, chosen.name, namespace[chosen.exercise], namespace, seed=seed)


@pytest.mark.parametrize(("assignment", "chosen"), ALL_CHECKS, ids=IDS)
def test_cases_depend_on_the_seed_only_when_hidden(assignment, chosen):
    def plain(value):
        if isinstance(value, Function):
            return [value.name, value.of, [plain(b) for b in value.bound]]
        return np.asarray(value).tolist()

    def inputs(seed):
        if chosen.kind == "value":  # no inputs: what varies is the question's parameters
            if chosen.parameters is not None:
                return chosen.parameters(np.random.default_rng(seed))
            return [plain(case.expected) for case in chosen.cases(seed)]
        return [plain(a) for case in chosen.cases(seed) for a in case.args]

    assert inputs(7) == inputs(7)
    if chosen.visibility == "hidden":
        assert inputs(7) != inputs(8), "hidden inputs must be random per seed"
    else:
        assert inputs(7) == inputs(8), "visible inputs are fixed: the notebook shows them"


# Planted faults: each one must be caught by the check named, with a useful message.
def naive_sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def naive_sigmoid_grad(x):
    s = ref.sigmoid(x)
    return s * (1 - s)


def where_sigmoid(x):
    # Both branches of np.where are evaluated, so exp overflows anyway.
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def softmax_without_shift(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


def forward_difference(f, x):
    return (f(np.asarray(x) + 1e-4) - f(np.asarray(x))) / 1e-4


def log_of_softmax_loss(logits, labels):
    q = ref.softmax(logits)
    return -np.mean(np.log(q[np.arange(len(labels)), labels]))


def gradient_without_mean(logits, labels):
    return ref.softmax_cross_entropy_grad(logits, labels) * len(logits)


def mean_params_naive(eta):
    # exp(eta) overflows for eta > 709.78
    e = np.exp(np.asarray(eta, dtype=float))
    total = 1 + np.sum(e, axis=-1, keepdims=True)
    return np.concatenate([e, np.ones_like(total)], axis=-1) / total


def log_partition_without_log1p(eta):
    # shifted, so nothing overflows, but log(1 + s) is 0 for a tiny s
    z = np.asarray(eta, dtype=float)
    z = np.concatenate([z, np.zeros((*z.shape[:-1], 1))], axis=-1)
    m = np.max(z, axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))[..., 0]


def forward_difference_log_partition(eta, h=1e-4):
    eta = np.asarray(eta, dtype=float)
    a = ef.multinomial_log_partition
    return np.array([(a(eta + h * e) - a(eta)) / h for e in np.eye(eta.size)])


def regression_loss_of_softmax(X, y, W, b, l2=0.0):
    # log(softmax) is log 0 once a probability underflows
    p = ref.softmax(X @ W + b)
    return -np.mean(np.log(p[np.arange(len(y)), y])) + l2 / 2 * np.sum(W**2)


def regression_grad_without_mean(X, y, W, b, l2=0.0):
    G = ref.softmax(X @ W + b) - np.eye(W.shape[1])[y]  # P - Y, not (P - Y) / N
    return X.T @ G + l2 * W, G.sum(axis=0)


def regression_fit(X, y, n_classes, learning_rate, n_epochs, l2, mean=True, penalise_b=False):
    W, b = np.zeros((X.shape[1], n_classes)), np.zeros(n_classes)
    for _ in range(n_epochs):
        G = (ref.softmax(X @ W + b) - np.eye(n_classes)[y]) / (len(X) if mean else 1)
        W, b = (
            W - learning_rate * (X.T @ G + l2 * W),
            b - learning_rate * (G.sum(0) + penalise_b * l2 * b),
        )
    return W, b


@pytest.mark.parametrize(
    ("assignment", "name", "func", "message"),
    [
        ("01_sigmoid", "sigmoid_hidden", naive_sigmoid, "FloatingPointError"),
        ("01_sigmoid", "sigmoid_hidden", where_sigmoid, "FloatingPointError"),
        ("01_sigmoid", "sigmoid_hidden", lambda x: np.float64(0.5), "expected shape"),
        ("01_sigmoid", "sigmoid_visible", lambda x: 1 / (1 + np.exp(x)), "expected"),
        ("01_sigmoid", "sigmoid_grad_hidden", naive_sigmoid_grad, "expected"),
        ("01_sigmoid", "logit_hidden", lambda p: np.log(p / (1 - p)) * (1 + 1e-7), "expected"),
        ("01_sigmoid", "logit_visible", lambda p: "not a number", "numeric"),
        ("02_softplus", "softplus_hidden", lambda x: np.log(1 + np.exp(x)), "FloatingPointError"),
        ("02_softplus", "log_sigmoid_hidden", lambda x: np.log(ref.sigmoid(x)), "Error"),
        ("02_softplus", "central_difference_hidden", forward_difference, "expected"),
        ("03_softmax", "softmax_hidden", softmax_without_shift, "FloatingPointError"),
        ("03_softmax", "softmax_hidden", lambda z, axis=-1: ref.softmax(z), "expected"),
        (
            "03_softmax",
            "log_softmax_hidden",
            lambda z, axis=-1: np.log(ref.softmax(z, axis)),
            "divide",
        ),
        ("04_cross_entropy", "softmax_cross_entropy_hidden", log_of_softmax_loss, "Error"),
        (
            "04_cross_entropy",
            "softmax_cross_entropy_grad_hidden",
            gradient_without_mean,
            "expected",
        ),
        (
            "04_cross_entropy",
            "kl_divergence_hidden",
            lambda p, q: np.sum(p * np.log(p / q), -1),
            "divide",
        ),
        ("04_cross_entropy", "gradient_check_hidden", lambda f, g, z: 0.0, "above"),
        ("04_cross_entropy", "gradient_check_hidden", lambda f, g, z: np.zeros(3), "one number"),
        (
            "05_exponential_family",
            "multinomial_sufficient_statistic_hidden",
            lambda y, k: np.eye(k)[y],  # the full one-hot: the reference class kept
            "expected shape",
        ),
        (
            "05_exponential_family",
            "multinomial_natural_params_hidden",
            lambda p: np.log(p[..., :-1] / p[..., -1:]),
            "FloatingPointError",
        ),
        ("05_exponential_family", "multinomial_mean_params_hidden", mean_params_naive, "Floating"),
        (
            "05_exponential_family",
            "multinomial_mean_params_hidden",
            lambda eta: ref.softmax(eta),  # the reference class forgotten
            "expected shape",
        ),
        (
            "05_exponential_family",
            "multinomial_log_partition_hidden",
            log_partition_without_log1p,
            "expected",
        ),
        (
            "05_exponential_family",
            "multinomial_log_partition_hidden",
            lambda eta: ref.logsumexp(eta),  # log(sum e^eta) without the 1
            "expected",
        ),
        (
            "05_exponential_family",
            "log_partition_gradient_check_hidden",
            forward_difference_log_partition,
            "expected",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_predict_proba_hidden",
            lambda X, W, b: softmax_without_shift(X @ W + b),
            "FloatingPointError",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_loss_hidden",
            regression_loss_of_softmax,
            "divide",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_grad_hidden",
            regression_grad_without_mean,
            "not divided by N",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_grad_hidden",
            lambda X, y, W, b, l2=0.0: regression_grad_without_mean(X, y, W, b, l2)[0],
            "pair",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_fit_visible",
            functools.partial(regression_fit, penalise_b=True),
            "the trained model: .* should be",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_fit_hidden",
            functools.partial(regression_fit, mean=False),
            "training loss",
        ),
        (
            "06_softmax_regression",
            "softmax_regression_fit_accuracy_hidden",
            lambda X, y, n_classes, **settings: (
                np.zeros((X.shape[1], n_classes)),
                np.zeros(n_classes),
            ),
            "held-out",
        ),
    ],
)
def test_planted_fault_is_caught(assignment, name, func, message):
    with pytest.raises(AssertionError, match=message) as failure:
        assert_passes(assignment, name, func)
    text = str(failure.value)
    assert "reread" in text and get_check(assignment, name).section in text


def test_failure_message_names_input_expected_and_got():
    case = Case(args=(np.array([0.0, 40.0]),), expected=ref.sigmoid_grad(np.array([0.0, 40.0])))
    message = compare(case, naive_sigmoid_grad(np.array([0.0, 40.0])))
    assert message is not None
    assert "x[1] = np.float64(40.0)" in message
    assert "expected np.float64(4.24835" in message
    assert "got np.float64(0.0)" in message


def test_compare_accepts_answers_within_tolerance_only():
    case = Case(args=(1.0,), expected=np.float64(2.0), rtol=1e-10, atol=0.0)
    assert compare(case, 2.0 * (1 + 1e-12)) is None
    assert compare(case, 2.0 * (1 + 1e-8)) is not None
    inf_case = Case(args=(1.0,), expected=np.array([np.inf, -np.inf, 1.0]))
    assert compare(inf_case, np.array([np.inf, -np.inf, 1.0])) is None
    assert compare(inf_case, np.array([np.inf, np.inf, 1.0])) is not None
    assert compare(inf_case, np.array([np.nan, -np.inf, 1.0])) is not None


def test_call_case_hands_the_function_a_copy():
    original = np.array([1.0, 2.0])
    case = Case(args=(original,), expected=original)

    def vandal(x):
        x[:] = 0.0
        return x

    call_case(vandal, case)
    assert original.tolist() == [1.0, 2.0]


def test_call_case_turns_warnings_into_errors_but_allows_underflow():
    case = Case(args=(np.array([-1000.0]),), expected=np.array([0.0]))
    assert call_case(np.exp, case)[0] == 0.0
    with pytest.raises(CallError, match="overflow"):
        call_case(lambda x: np.exp(-x), case)
    with pytest.raises(CallError, match="divide"):
        call_case(lambda x: np.log(x * 0), case)


@pytest.mark.slow  # trains softmax regression on the digits, many times
def test_the_accuracy_check_leaves_a_correct_trainer_a_wide_margin():
    """A correct trainer must practically never fail the hidden accuracy check: over 30 random
    splits its accuracy has a mean and a spread that put the threshold at least 5 standard
    deviations below the mean, and a trainer that stops after one step (ignoring
    ``n_epochs``) fails on every one of them."""
    from autograder.checks import softmax_regression as checks
    from autograder.reference import softmax_regression as sr

    check = get_check("06_softmax_regression", "softmax_regression_fit_accuracy_hidden")
    accuracies = []
    for seed in range(30):
        (case,) = check.cases([seed, 1234])
        # The same split the case holds, drawn again from the same seed.
        _, X_test, _, y_test = checks._random_split(np.random.default_rng([seed, 1234]), 0.75)
        W, b = sr.softmax_regression_fit(*case.args, **case.kwargs)
        assert case.judge((W, b)) is None
        accuracies.append(np.mean(sr.softmax_regression_predict(X_test, W, b) == y_test))
        one_step = sr.softmax_regression_fit(*case.args, **{**case.kwargs, "n_epochs": 1})
        assert "held-out" in case.judge(one_step)
    mean, spread = np.mean(accuracies), np.std(accuracies, ddof=1)
    assert checks.ACCURACY_THRESHOLD <= mean - 5 * spread, (mean, spread)
