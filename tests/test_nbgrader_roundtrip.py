"""A real nbgrader round trip for every assignment, scores read from nbgrader's gradebook.

For each assignment: the student notebook filled in with the solutions gets
full marks, the untouched student notebook gets 0, and a plausible flawed
answer to each task loses exactly its named cells; ``python -m autograder``, grading
nbgrader's own ``submitted/`` folder, gives every check the points nbgrader gave its cell.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from helpers import set_student_id
from nbgrader_course import NbgraderCourse, fill_in, solution_sources

from autograder.checks import ASSIGNMENTS
from autograder.course import SOLUTIONS

pytestmark = pytest.mark.slow

# A flawed but plausible answer per assignment: which cells it replaces, and the graded
# cells that must then lose all their points while the others keep theirs.
FLAWED = {
    "01_sigmoid": {
        "answers": {
            # The textbook formula: right values, but exp(-x) overflows for x < -709.78.
            "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
            # The textbook logit: no warning, but near 1/2 rounding p / (1 - p) swamps the
            # tiny result (50 % off at the float just below 1/2).
            "logit": "def logit(p):\n    return np.log(p / (1 - p))",
            # The student's own thresholds with the smallest subnormal number itself, not
            # half of it, as where e^x rounds to 0: log 2 off in the third (the worked
            # example's cell keeps the solution).
            "sigmoid_thresholds": (
                "ln2 = np.log(2)\n"
                "sigmoid_thresholds = [\n"
                "    -(e_max_mine + 1) * ln2, p_mine * ln2, (e_min_mine - p_mine + 1) * ln2\n"
                "]"
            ),
            # sigma' (1 - 2 sigma) as derived: 1 - 2 sigma cancels next to x = 0.
            "sigmoid_second_derivative": (
                "def sigmoid_second_derivative(x):\n"
                "    return sigmoid_grad(x) * (1 - 2 * sigmoid(x))"
            ),
        },
        # sigmoid_grad calls the student's sigmoid, so it overflows too (and so does the
        # second derivative's hidden check, by either flaw); the logit misses the relative
        # 2e-15 next to 1/2, in the visible check and in the hidden one; the second
        # derivative misses 1e-14 relative at x = 1e-5, a visible example.
        "losing": {
            "sigmoid_hidden",
            "sigmoid_grad_hidden",
            "logit_visible",
            "logit_hidden",
            "sigmoid_thresholds_hidden",
            "sigmoid_second_derivative_visible",
            "sigmoid_second_derivative_hidden",
        },
    },
    "02_softplus": {
        "answers": {
            # Overflows past x = 709.78; log_sigmoid calls it and overflows too.
            "softplus": "def softplus(x):\n    return np.log(1 + np.exp(x))",
            # Every form that is right in exact arithmetic trusted in floating point: the
            # student's own forms include one that warns and one that loses digits (the
            # worked example's cell keeps the solution, whose verdicts try the chapter's
            # stable functions, not the flawed softplus).
            "softplus_forms": (
                "softplus_forms = [\n"
                "    'wrong' if verdict(form, TARGET_FUNCTIONS[target_mine]) == 'wrong'\n"
                "    else 'accurate'\n"
                "    for form in forms_mine\n"
                "]"
            ),
            # The derivative as first derived, zeta(u) - u sigma(u): it cancels at u = 40.
            "softplus_tau_dtau": (
                "def softplus_tau_dtau(x, tau):\n"
                "    u = np.asarray(x) / tau\n"
                "    return softplus(u) - u * sigmoid(u)"
            ),
        },
        # The solution's temperature derivative does not call softplus, so the flawed
        # softplus costs only its own hidden check and log_sigmoid's.
        "losing": {
            "softplus_hidden",
            "log_sigmoid_hidden",
            "softplus_forms_hidden",
            "softplus_tau_dtau_visible",
            "softplus_tau_dtau_hidden",
        },
    },
    "03_softmax": {
        "answers": {
            # No max-shift: exp overflows for large logits.
            "softmax": (
                "def softmax(z, axis=-1):\n"
                "    e = np.exp(z)\n"
                "    return e / np.sum(e, axis=axis, keepdims=True)"
            ),
            # The temperature as a power tau, not 1 / tau (the worked example's cell keeps
            # the solution).
            "tempered_softmax": (
                "powered = q_tempered**tau_tempered\ntempered_softmax = powered / np.sum(powered)"
            ),
            # Log-sum-exp taken for shift invariant, as softmax is.
            "shifted_logsumexp": "shifted_logsumexp = m_lse + np.log(n_classes_lse)",
            # Only diag(q) of the Jacobian: the term -q q^T forgotten.
            "softmax_temperature_grad": (
                "def softmax_temperature_grad(z, tau, axis=-1):\n"
                "    z = np.asarray(z, dtype=float)\n"
                "    e = np.exp(z / tau - np.max(z / tau, axis=axis, keepdims=True))\n"
                "    q = e / np.sum(e, axis=axis, keepdims=True)\n"
                "    return -q * z / tau**2"
            ),
        },
        # The Jacobian and the temperature derivative compute their own softmax, so that each
        # flaw loses its own cells only.
        "losing": {
            "softmax_hidden",
            "tempered_softmax_hidden",
            "shifted_logsumexp_hidden",
            "softmax_temperature_grad_visible",
            "softmax_temperature_grad_hidden",
            "softmax_temperature_grad_extreme_hidden",
        },
    },
    "04_cross_entropy": {
        "answers": {
            # log(softmax) instead of log_softmax: log 0 once a probability underflows.
            "softmax_cross_entropy": (
                "def softmax_cross_entropy(logits, labels):\n"
                "    q = softmax(logits)\n"
                "    labels = np.asarray(labels)\n"
                "    if labels.ndim == 1:\n"
                "        labels = np.eye(q.shape[1])[labels]\n"
                "    return -np.sum(labels * np.log(q)) / len(q)"
            ),
            # The loss in bits, not nats (the worked example's cell keeps the solution).
            "untrained_loss": "untrained_loss = np.log2(n_classes_mine)",
            # The student "flawed" draws the binary cross-entropy, proposals in the order
            # listed: (a) sigma(x) - y is right, (b) y - sigma(x) has its sign flipped.
            "gradient_choice": 'gradient_choice = "b"',
            # Smoothing taken to scale the label only: the uniform part kappa / K forgotten.
            "smoothed_cross_entropy_grad": (
                "def smoothed_cross_entropy_grad(logits, labels, smoothing):\n"
                "    return (1 - smoothing) * softmax_cross_entropy_grad(logits, labels)"
            ),
        },
        "losing": {
            "softmax_cross_entropy_hidden",
            "untrained_loss_hidden",
            "gradient_choice_hidden",
            "smoothed_cross_entropy_grad_visible",
            "smoothed_cross_entropy_grad_hidden",
            "smoothed_cross_entropy_grad_extreme_hidden",
        },
    },
    "05_exponential_family": {
        "answers": {
            # The textbook formula: exp(eta) overflows for eta > 709.78 (inf / inf = nan).
            "multinomial_mean_params": (
                "def multinomial_mean_params(eta):\n"
                "    e = np.exp(np.asarray(eta, dtype=float))\n"
                "    total = 1 + np.sum(e, axis=-1, keepdims=True)\n"
                "    return np.concatenate([e, np.ones_like(total)], axis=-1) / total"
            ),
            # The curvature as E[(v^T T)^2], the mean's square forgotten: right for the worked
            # example (whose cell keeps the solution), wrong for the student's own phi and v.
            "curvature": ("curvature = phi_mine[:-1] @ v_mine**2"),
            # Only diag(phi) v: the term -phi (phi^T v) of the Hessian forgotten.
            "multinomial_log_partition_hvp": (
                "def multinomial_log_partition_hvp(eta, v):\n"
                "    eta, v = np.asarray(eta, dtype=float), np.asarray(v, dtype=float)\n"
                "    phi = np.exp(eta - multinomial_log_partition(eta)[..., None])\n"
                "    return phi * v"
            ),
        },
        # The product computes phi without the student's (flawed) mean parameters, so that it
        # loses its own cells only.
        "losing": {
            "multinomial_mean_params_hidden",
            "curvature_hidden",
            "multinomial_log_partition_hvp_visible",
            "multinomial_log_partition_hvp_hidden",
        },
    },
    "06_softmax_regression": {
        "answers": {
            # The textbook softmax inside the gradient: right for the logits of training, but
            # exp overflows at logits near 1e3. (A gradient without the L2 term would make
            # every penalty train the same model, and sink the decision's cells too.)
            "softmax_regression_grad": (
                "def softmax_regression_grad(X, y, W, b, l2=0.0):\n"
                "    X, y = np.asarray(X, dtype=float), np.asarray(y)\n"
                "    e = np.exp(X @ W + b)\n"
                "    Q = e / e.sum(axis=1, keepdims=True)\n"
                "    G = (Q - np.eye(np.shape(W)[1])[y]) / len(X)\n"
                "    return X.T @ G + l2 * W, G.sum(axis=0)"
            ),
            # The biases as the log of the class shares: softmax(b) is right, but gradient
            # descent keeps sum(b) = 0 (the worked example's cell keeps the solution).
            "blank_bias": "blank_bias = np.log(counts_mine / counts_mine.sum())",
            # The penalty chosen on the training accuracy: always the smallest, which learns
            # the scrambled labels.
            "choose_l2": (
                "def choose_l2(X, y):\n"
                "    order = np.random.default_rng(0).permutation(len(y))\n"
                "    train = order[round(len(y) / 3) :]\n"
                "    scores = []\n"
                "    for lam in L2_GRID:\n"
                "        W, b = softmax_regression_fit(\n"
                "            X[train], y[train], 10, l2=lam, **CHOICE_SETTINGS\n"
                "        )\n"
                "        scores.append(np.mean(np.argmax(X[train] @ W + b, axis=1) == y[train]))\n"
                "    return L2_GRID[int(np.argmax(scores))]"
            ),
        },
        "losing": {
            "softmax_regression_grad_hidden",
            "blank_bias_hidden",
            "choose_l2_visible",
            "choose_l2_hidden",
        },
    },
    "07_softmax_in_practice": {
        "answers": {
            # Bins numbered floor(c * B): a confidence on an edge lands one bin up, and a
            # confidence of exactly 1 in no bin at all.
            "expected_calibration_error": (
                "def expected_calibration_error(q, labels, n_bins=15):\n"
                "    q, labels = np.asarray(q, dtype=float), np.asarray(labels)\n"
                "    confidence = q.max(axis=1)\n"
                "    right = q.argmax(axis=1) == labels\n"
                "    bins = np.floor(confidence * n_bins).astype(int)\n"
                "    ece = 0.0\n"
                "    for b in range(n_bins):\n"
                "        inside = bins == b\n"
                "        if inside.any():\n"
                "            gap = abs(right[inside].mean() - confidence[inside].mean())\n"
                "            ece += inside.mean() * gap\n"
                "    return ece"
            ),
            # The derivative in gamma = 1 / tau: the chain rule's -1 / tau^2 is forgotten.
            "temperature_nll_grad": (
                "def temperature_nll_grad(logits, labels, tau):\n"
                "    z, labels = np.asarray(logits, dtype=float), np.asarray(labels)\n"
                "    q = softmax(z / tau)\n"
                "    return np.mean(np.sum(q * z, axis=1) - z[np.arange(len(labels)), labels])"
            ),
            # The variance as E[z^2] - E[z]^2: right for small logits, all digits lost near 1e6.
            "temperature_nll_curvature": (
                "def temperature_nll_curvature(logits, labels, tau):\n"
                "    z = np.asarray(logits, dtype=float)\n"
                "    q = softmax(z / tau)\n"
                "    return np.mean(np.sum(q * z**2, axis=1) - np.sum(q * z, axis=1) ** 2)"
            ),
            # The minimiser in gamma returned as if it were tau.
            "fit_temperature": (
                "def fit_temperature(logits, labels):\n"
                "    z, labels = np.asarray(logits, dtype=float), np.asarray(labels)\n"
                "    chosen = z[np.arange(len(labels)), labels]\n"
                "    def slope(gamma):\n"
                "        return np.mean(np.sum(softmax(gamma * z) * z, axis=1) - chosen)\n"
                "    low, high = 0.0, 1.0\n"
                "    while slope(high) < 0:\n"
                "        low, high = high, 2 * high\n"
                "    while high - low > 1e-13 * high:\n"
                "        middle = 0.5 * (low + high)\n"
                "        low, high = (middle, high) if slope(middle) < 0 else (low, middle)\n"
                "    return 0.5 * (low + high)"
            ),
            # log((1 - kappa) / kappa): the smoothed target's kappa / K on the label forgotten
            # (the worked example's cell keeps the solution).
            "smoothing_gap": "smoothing_gap = np.log((1 - smoothing_mine) / smoothing_mine)",
            # The penalty chosen on the training loss: always the smallest.
            "choose_penalty": (
                "def choose_penalty(X, y):\n"
                "    scores = []\n"
                "    for l2 in L2_GRID:\n"
                "        W, b = fit_softmax_regression(X, y, 3, l2)\n"
                "        scores.append(softmax_cross_entropy(X @ W + b, y))\n"
                "    return L2_GRID[int(np.argmin(scores))]"
            ),
        },
        "losing": {
            "expected_calibration_error_visible",
            "expected_calibration_error_hidden",
            "temperature_nll_grad_visible",
            "temperature_nll_grad_hidden",
            "temperature_nll_curvature_hidden",
            "fit_temperature_visible",
            "fit_temperature_hidden",
            "smoothing_gap_hidden",
            "choose_penalty_hidden",
        },
    },
}


@pytest.fixture(scope="module", params=sorted(ASSIGNMENTS))
def assignment(request) -> str:
    """One assignment at a time: each gets a course of its own, so that they can run apart."""
    return request.param


@pytest.fixture(scope="module")
def graded(assignment, tmp_path_factory):
    """Release, submit three students, and autograde ``assignment``, once for its tests."""
    course = NbgraderCourse(tmp_path_factory.mktemp(f"course-{assignment}"), [assignment])
    released = course.release(assignment)
    complete, untouched, flawed = {}, {}, {}
    for name, notebook in released.items():
        solution = nbformat.read(SOLUTIONS / assignment / name, as_version=4)
        answers = solution_sources(solution)
        # Each student writes their id into the notebook, as per-student questions ask.
        complete[name] = set_student_id(fill_in(notebook, answers), "complete")
        untouched[name] = notebook
        flawed_answers = answers | FLAWED[assignment]["answers"]
        flawed[name] = set_student_id(fill_in(notebook, flawed_answers), "flawed")
    course.submit("complete", assignment, complete)
    course.submit("untouched", assignment, untouched)
    course.submit("flawed", assignment, flawed)
    course.autograde(assignment)
    return course


def test_every_assignment_has_a_flawed_answer(assignment):
    assert assignment in FLAWED


def test_solutions_get_full_marks(graded, assignment):
    score, max_score = graded.scores(assignment)["complete"]
    expected_max = sum(check.points for check in ASSIGNMENTS[assignment])
    assert max_score == expected_max
    assert score == max_score


def test_untouched_notebook_gets_zero(graded, assignment):
    score, max_score = graded.scores(assignment)["untouched"]
    assert max_score > 0
    assert score == 0


def test_flawed_answer_scores_strictly_between(graded, assignment):
    score, max_score = graded.scores(assignment)["flawed"]
    assert 0 < score < max_score
    cells = graded.cell_scores(assignment, "flawed")
    losing = FLAWED[assignment]["losing"]
    assert {name for name, points in cells.items() if points == 0} == losing
    points = {check.name: check.points for check in ASSIGNMENTS[assignment]}
    assert score == sum(points.values()) - sum(points[name] for name in losing)


def test_the_course_grader_agrees_with_nbgrader_check_by_check(graded, assignment, tmp_path):
    """The same three submissions, nbgrader's own folder, graded by ``python -m autograder``:
    every check's points equal nbgrader's for its cell, for every student."""
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(graded.root / "submitted"),
         "--out", str(out), "--assignment", assignment, "--seed", "2718"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    submissions = json.loads((out / "results.json").read_text())["submissions"]
    ours = {s["student_id"]: {c["name"]: c["points"] for c in s["checks"]} for s in submissions}
    assert sorted(ours) == ["complete", "flawed", "untouched"]
    for student, points in ours.items():
        assert points == graded.cell_scores(assignment, student), student
