"""Checks for chapter 6, softmax regression: the model, its loss and gradient, a trainer, a
prediction (the biases a model learns from blank images) and a decision (the L2 penalty, chosen
on a validation set the student splits off).

The trainer and the decision are judged by what they achieve, not by their numbers: the grader
computes the reference loss at the returned ``(W, b)``, and the accuracy on digits the student's
code never saw (a random split per seed, drawn here, in the grader's process) of the returned
model, or of the model the chosen penalty gives.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from autograder.checks.core import Case, Mismatch, check
from autograder.reference import softmax_regression as sr

ASSIGNMENT = "06_softmax_regression"

# A batch of four examples with two features and three classes, shown in the notebook.
VISIBLE_X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.0], [0.0, 1.0]])
VISIBLE_Y = np.array([0, 2, 1, 2])
VISIBLE_W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4]])
VISIBLE_B = np.array([0.1, 0.0, -0.1])
VISIBLE_L2 = [0.0, 0.1]

# Six points in the plane, two per class, for the visible trainer check.
FIT_X = np.array([[2.0, 1.0], [1.5, 2.0], [-1.0, 1.5], [-2.0, 0.5], [0.5, -2.0], [-0.5, -1.5]])
FIT_Y = np.array([0, 0, 1, 1, 2, 2])
FIT_SETTINGS = {"learning_rate": 0.5, "n_epochs": 25, "l2": 0.1}
FIT_RTOL, FIT_ATOL = 1e-6, 1e-9
GRAD_RTOL, GRAD_ATOL = 1e-10, 1e-12

#: The held-out accuracy a trained model must reach on a random split of the digits.  A
#: correct trainer reaches 96.3% on average, with a standard deviation of 0.85 points over
#: random splits (2000 splits: none below 93.3%), so 92% is about 5 deviations below it: a
#: correct answer practically never fails, while a trainer that does not train (one step
#: of gradient descent already reaches about 85%) does.
ACCURACY_THRESHOLD = 0.92
ACCURACY_SETTINGS = {"learning_rate": 0.25, "n_epochs": 300, "l2": 1e-3}
#: How far above the reference gradient descent's loss a trained model may end.
LOSS_SLACK = 0.01


def visible_grad_expected() -> list[tuple[float, tuple[np.ndarray, np.ndarray]]]:
    """``(l2, (dW, db))`` for the visible gradient check (the notebook shows these numbers)."""
    return [
        (l2, sr.softmax_regression_grad(VISIBLE_X, VISIBLE_Y, VISIBLE_W, VISIBLE_B, l2))
        for l2 in VISIBLE_L2
    ]


def visible_fit_expected() -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` after the visible trainer check's gradient descent."""
    return sr.softmax_regression_fit(FIT_X, FIT_Y, 3, **FIT_SETTINGS)


# ---------------------------------------------------------------------------- judges


def _pair(got, shapes: tuple[tuple[int, ...], tuple[int, ...]], names: tuple[str, str]):
    """``(first, second)`` as float arrays of the given shapes, or a :class:`Mismatch`."""
    pair = f"({names[0]}, {names[1]})"
    if not isinstance(got, tuple | list) or len(got) != 2:
        kind = type(got).__name__
        length = f" of length {len(got)}" if isinstance(got, tuple | list) else ""
        return None, Mismatch("values", f"expected the pair {pair}, got a {kind}{length}")
    arrays = []
    for name, shape, part in zip(names, shapes, got, strict=True):
        try:
            array = np.asarray(part, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            unread = f"{name} could not be read as an array of numbers ({exc})"
            return None, Mismatch("values", unread)
        if array.shape != shape:
            wrong = f"{name} should have shape {shape}, got shape {array.shape}"
            return None, Mismatch("shape", wrong)
        if not np.all(np.isfinite(array)):
            count = np.sum(~np.isfinite(array))
            return None, Mismatch("values", f"{name} holds {count} entries that are inf or nan")
        arrays.append(array)
    return tuple(arrays), None


def _prefixed(what: str, problem: Mismatch) -> Mismatch:
    return Mismatch(problem.kind, f"{what}: {problem.message}")


def _close_pair(expected, names, rtol, atol, what):
    """Judge: the answer is the pair ``expected`` to within ``rtol``/``atol``, entry by entry."""
    shapes = tuple(np.shape(e) for e in expected)

    def judge(got) -> Mismatch | str | None:
        arrays, problem = _pair(got, shapes, names)
        if problem is not None:
            return _prefixed(what, problem)
        for name, array, want in zip(names, arrays, expected, strict=True):
            close = np.isclose(array, want, rtol=rtol, atol=atol)
            if not close.all():
                index = tuple(int(i) for i in np.argwhere(~close)[0])
                return (
                    f"{what}: {name}{list(index)} should be {want[index]!r}, got {array[index]!r} "
                    f"({int((~close).sum())} of {close.size} entries of {name} are wrong)"
                )
        return None

    return judge


def _flat(W, b):
    return np.concatenate([np.ravel(W), np.ravel(b)])


def _relative_error(g, g_fd) -> float:
    scale = max(np.linalg.norm(g), np.linalg.norm(g_fd), np.finfo(float).tiny)
    return float(np.linalg.norm(g - g_fd) / scale)


def _matches_central_differences(X, y, W, b, l2):
    """Judge: ``(dW, db)`` agrees with central differences of the reference loss at (W, b)."""
    d, n_classes = W.shape
    size = d * n_classes  # the weights come first in the flattened parameters

    def loss_at(omega):
        return sr.softmax_regression_loss(
            X, y, omega[:size].reshape(d, n_classes), omega[size:], l2
        )

    omega = _flat(W, b)  # every parameter in one vector
    g_fd = np.zeros_like(omega)
    for i in range(omega.size):
        delta = np.cbrt(np.finfo(float).eps) * max(1.0, abs(omega[i]))  # the step
        up, down = omega.copy(), omega.copy()
        up[i] += delta
        down[i] -= delta
        g_fd[i] = (loss_at(up) - loss_at(down)) / (up[i] - down[i])
    dW, db = sr.softmax_regression_grad(X, y, W, b, l2)
    n = X.shape[0]
    typical = {
        "the cross-entropy part is not divided by N": _flat((dW - l2 * W) * n + l2 * W, db * n),
        "the L2 term l2 * W is missing": _flat(dW - l2 * W, db),
        "the L2 term is 2 * l2 * W, but the penalty is (l2 / 2) ||W||^2": _flat(dW + l2 * W, db),
        "the sign is flipped": -_flat(dW, db),
    }

    def judge(got) -> Mismatch | str | None:
        arrays, problem = _pair(got, ((d, n_classes), (n_classes,)), ("dW", "db"))
        if problem is not None:
            return problem
        g = _flat(*arrays)
        error = _relative_error(g, g_fd)
        if error < 1e-6:
            return None
        hint = next(
            (
                f"; it looks as if {why}"
                for why, wrong in typical.items()
                if _relative_error(g, wrong) < 1e-6
            ),
            "",
        )
        return (
            f"(dW, db) differs from the central-difference gradient of the loss at a random "
            f"(W, b) (N = {n}, l2 = {l2}) by a relative error of {error:.2e}; a correct gradient "
            f"gives less than 1e-6{hint}"
        )

    return judge


def _trained_loss_below(X, y, n_classes, settings, bound, reference_loss):
    """Judge: the returned (W, b) has the right shapes and a reference loss below ``bound``."""
    d = X.shape[1]
    start = np.log(n_classes)
    l2 = settings["l2"]
    how = ", ".join(f"{name} = {value!r}" for name, value in settings.items())

    def judge(got) -> Mismatch | str | None:
        arrays, problem = _pair(got, ((d, n_classes), (n_classes,)), ("W", "b"))
        if problem is not None:
            return _prefixed("the trained model", problem)
        value = float(sr.softmax_regression_loss(X, y, *arrays, l2))
        if value <= bound:
            return None
        return (
            f"the training loss at your (W, b), computed by the grader, is {value:.6g}; "
            f"it starts at log K = {start:.6g} for W = 0, b = 0, and gradient descent "
            f"({how}, N = {len(y)}) reaches {reference_loss:.6g}, so it should be at most "
            f"{bound:.6g}"
        )

    return judge


def _held_out_accuracy_at_least(X_test, y_test, n_features, n_classes, threshold):
    """Judge: the returned (W, b) classifies the held-out images with the stated accuracy."""

    def judge(got) -> Mismatch | str | None:
        arrays, problem = _pair(got, ((n_features, n_classes), (n_classes,)), ("W", "b"))
        if problem is not None:
            return _prefixed("the trained model", problem)
        accuracy = float(np.mean(sr.softmax_regression_predict(X_test, *arrays) == y_test))
        if accuracy >= threshold:
            return None
        return (
            f"your trained model classifies {accuracy:.1%} of {len(y_test)} held-out digit "
            f"images correctly; at least {threshold:.0%} is required"
        )

    return judge


# ------------------------------------------------------------------------------ data


def _problem(rng: np.random.Generator, n: int, d: int, n_classes: int, scale: float = 1.0):
    X = rng.normal(size=(n, d))
    y = rng.integers(0, n_classes, size=n)
    W = scale * rng.normal(size=(d, n_classes))
    return X, y, W, scale * rng.normal(size=n_classes)


def _random_split(rng: np.random.Generator, train_share: float):
    """A random split of the digits, stratified by class, standardised with its training
    statistics: ``X_train, X_test, y_train, y_test``.  NumPy only, so that grading does not
    import scikit-learn."""
    X, y = sr.digits_data()
    train = np.zeros(len(y), dtype=bool)
    for k in range(10):
        members = rng.permutation(np.flatnonzero(y == k))
        train[members[: round(train_share * len(members))]] = True
    X_train, X_test = sr.standardize(X[train], X[~train])
    return X_train, X_test, y[train], y[~train]


def _case(reference, *args, rtol=1e-10, atol=1e-300) -> Case:
    return Case(args=args, expected=reference(*args), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- checks


@check(
    exercise="softmax_regression_predict_proba",
    points=1,
    visibility="visible",
    section="softmax-regression-model",
)
def softmax_regression_predict_proba_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_predict_proba(X, W, b)`` on a batch of four examples with three
    classes, and with all parameters zero (every class 1/3)."""
    return [
        _case(sr.softmax_regression_predict_proba, VISIBLE_X, VISIBLE_W, VISIBLE_B),
        _case(sr.softmax_regression_predict_proba, VISIBLE_X, np.zeros((2, 3)), np.zeros(3)),
    ]


@check(
    exercise="softmax_regression_predict_proba",
    points=2,
    visibility="hidden",
    section="softmax-regression-model",
)
def softmax_regression_predict_proba_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_predict_proba`` on random batches, one example, two classes, and
    logits near 800 (exp overflows without the max-shift of the stable softmax)."""
    X, _, W, b = _problem(rng, 7, 4, 5)
    X1, _, W1, b1 = _problem(rng, 1, 3, 4)
    X2, _, W2, b2 = _problem(rng, 6, 2, 2, scale=3.0)
    Xs, _, Ws, bs = _problem(rng, 5, 3, 4)
    shifted = bs + 800.0 + rng.uniform(-2.0, 2.0)
    return [
        _case(sr.softmax_regression_predict_proba, X, W, b),
        _case(sr.softmax_regression_predict_proba, X1, W1, b1),
        _case(sr.softmax_regression_predict_proba, X2, W2, b2),
        _case(sr.softmax_regression_predict_proba, Xs, Ws, shifted),
    ]


@check(
    exercise="softmax_regression_loss",
    points=1,
    visibility="visible",
    section="softmax-regression-loss",
)
def softmax_regression_loss_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_loss(X, y, W, b, l2)`` on a batch of four examples, without and
    with the L2 term, and at W = 0, b = 0 (log 3)."""
    cases = [
        _case(sr.softmax_regression_loss, VISIBLE_X, VISIBLE_Y, VISIBLE_W, VISIBLE_B, l2)
        for l2 in VISIBLE_L2
    ]
    zeros = (VISIBLE_X, VISIBLE_Y, np.zeros((2, 3)), np.zeros(3), 0.0)
    return [*cases, _case(sr.softmax_regression_loss, *zeros)]


@check(
    exercise="softmax_regression_loss",
    points=2,
    visibility="hidden",
    section="softmax-regression-loss",
)
def softmax_regression_loss_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_loss`` on random batches with several l2, one example, a class that
    never occurs, and logits up to about 1e3 (log(softmax) is log 0 there: use log-softmax)."""
    X, y, W, b = _problem(rng, 9, 4, 5)
    X1, y1, W1, b1 = _problem(rng, 1, 3, 3)
    Xm, _, Wm, bm = _problem(rng, 8, 3, 6)
    ym = rng.integers(0, 5, size=8)  # class 5 never occurs
    Xb, yb, Wb, bb = _problem(rng, 10, 3, 4, scale=300.0)
    tolerance = {"rtol": 1e-10, "atol": 1e-14}
    return [
        _case(sr.softmax_regression_loss, X, y, W, b, 0.0, **tolerance),
        _case(sr.softmax_regression_loss, X, y, W, b, float(rng.uniform(0.01, 2.0)), **tolerance),
        _case(sr.softmax_regression_loss, X1, y1, W1, b1, 0.5, **tolerance),
        _case(sr.softmax_regression_loss, Xm, ym, Wm, bm, 0.1, **tolerance),
        _case(sr.softmax_regression_loss, Xb, yb, Wb, bb, 0.0, **tolerance),
    ]


@check(
    exercise="softmax_regression_grad",
    points=1,
    visibility="visible",
    section="softmax-regression-gradient",
)
def softmax_regression_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_grad(X, y, W, b, l2)`` returns the pair (dW, db) for a batch of four
    examples, without and with the L2 term."""
    return [
        Case(
            args=(VISIBLE_X, VISIBLE_Y, VISIBLE_W, VISIBLE_B, l2),
            judge=_close_pair(expected, ("dW", "db"), GRAD_RTOL, GRAD_ATOL, f"l2 = {l2}"),
        )
        for l2, expected in visible_grad_expected()
    ]


@check(
    exercise="softmax_regression_grad",
    points=2,
    visibility="hidden",
    section="softmax-regression-gradient-check",
)
def softmax_regression_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_grad`` against central differences of the loss (the mean's 1/N,
    the L2 term l2 * W, no penalty on b) and against the reference on random batches (several
    l2, one example, logits up to about 1e3, and logits near 800 in every row, where exp
    overflows without the max-shift of the stable softmax, whatever the draw)."""
    X, y, W, b = _problem(rng, 9, 4, 5)
    X1, y1, W1, b1 = _problem(rng, 1, 3, 3)
    Xb, yb, Wb, bb = _problem(rng, 10, 3, 4, scale=300.0)
    Xc, yc, Wc, bc = _problem(rng, 12, 3, 4)
    Xs, ys, Ws, bs = _problem(rng, 6, 3, 4)
    tolerance = {"rtol": 1e-9, "atol": 1e-13}
    l2 = float(rng.uniform(0.05, 1.0))
    return [
        # First, so that a typical mistake gets the diagnosis this judge can give.
        Case(
            args=(Xc, yc, Wc, bc, l2),
            judge=_matches_central_differences(Xc, yc, Wc, bc, l2),
        ),
        _case(sr.softmax_regression_grad, X, y, W, b, 0.0, **tolerance),
        _case(sr.softmax_regression_grad, X, y, W, b, l2, **tolerance),
        _case(sr.softmax_regression_grad, X1, y1, W1, b1, 0.3, **tolerance),
        _case(sr.softmax_regression_grad, Xb, yb, Wb, bb, 0.01, **tolerance),
        # Drawn last, so that the inputs of the cases above stay what they were.
        _case(sr.softmax_regression_grad, Xs, ys, Ws, bs + 800.0, 0.1, **tolerance),
    ]


@check(
    exercise="softmax_regression_fit",
    points=1,
    visibility="visible",
    section="softmax-regression-training",
)
def softmax_regression_fit_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_fit`` on six points with three classes (learning_rate 0.5, 25 epochs,
    l2 0.1) returns the (W, b) of full-batch gradient descent started at W = 0, b = 0."""
    return [
        Case(
            args=(FIT_X, FIT_Y, 3),
            kwargs=dict(FIT_SETTINGS),
            judge=_close_pair(
                visible_fit_expected(), ("W", "b"), FIT_RTOL, FIT_ATOL, "the trained model"
            ),
        )
    ]


@check(
    exercise="softmax_regression_fit",
    points=2,
    visibility="hidden",
    section="softmax-regression-training",
)
def softmax_regression_fit_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_fit`` lowers the training loss (computed by the grader at the
    returned W, b) from log K to what gradient descent reaches, after 5 and after 60 epochs on
    about 400 random digit images, and on a small problem where one of four classes never
    occurs."""
    X, _, y, _ = _random_split(rng, train_share=0.22)  # about 400 random images
    settings = [(X, y, 10, 0.25, 5, 1e-3), (X, y, 10, 0.25, 60, 1e-3)]
    Xm, ym, _, _ = _problem(rng, 30, 3, 3)
    Xm[np.arange(30), ym % 3] += 2.0  # make the three classes that occur separable-ish
    settings.append((Xm, ym, 4, 0.5, 40, 0.01))
    cases = []
    for X_, y_, n_classes, alpha, epochs, l2 in settings:
        W_ref, b_ref = sr.softmax_regression_fit(X_, y_, n_classes, alpha, epochs, l2)
        reached = float(sr.softmax_regression_loss(X_, y_, W_ref, b_ref, l2))
        kwargs = {"learning_rate": alpha, "n_epochs": epochs, "l2": l2}
        cases.append(
            Case(
                args=(X_, y_, n_classes),
                kwargs=kwargs,
                judge=_trained_loss_below(X_, y_, n_classes, kwargs, reached + LOSS_SLACK, reached),
            )
        )
    return cases


@check(
    exercise="softmax_regression_fit",
    points=2,
    visibility="hidden",
    section="softmax-regression-evaluation",
)
def softmax_regression_fit_accuracy_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_regression_fit`` trained on three quarters of the digits, split at random (not
    the chapter's split) and standardised with the training statistics, classifies at least
    92% of the held-out quarter correctly (learning_rate 0.25, 300 epochs, l2 0.001)."""
    X_train, X_test, y_train, y_test = _random_split(rng, train_share=0.75)
    return [
        Case(
            args=(X_train, y_train, 10),
            kwargs=dict(ACCURACY_SETTINGS),
            judge=_held_out_accuracy_at_least(X_test, y_test, 64, 10, ACCURACY_THRESHOLD),
        )
    ]


# ------------------------------------------ predict: the biases learned from blank images

#: The worked example: K = 4 classes with 1, 2, 4 and 8 images, lambda = 0.1.
BLANK_EXAMPLE = {"K": 4, "counts": [1, 2, 4, 8], "l2": 0.1}
#: The prediction is right to 1e-6 relative (1e-9 absolute, for an entry that is 0).
BLANK_RTOL, BLANK_ATOL = 1e-6, 1e-9


def blank_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's question: K classes (3 to 7), the number of images of each class (1 to
    40) and the penalty lambda (which does not matter), as plain Python numbers. The notebook's
    question cell draws them with the same calls, in the same order."""
    n_classes = int(rng.integers(3, 8))
    counts = rng.integers(1, 41, size=n_classes)
    l2 = float(rng.choice([0.0, 0.001, 0.01, 0.1, 1.0]))
    return {"K": n_classes, "counts": counts.tolist(), "l2": l2}


def blank_answer(counts: list[int]) -> np.ndarray:
    """The limit of gradient descent from W = 0, b = 0 when every feature is 0: W stays 0, the
    gradient in b is softmax(b) - (class shares), so softmax(b) = n_k / N at the limit, and the
    zero sum of b that gradient descent keeps fixes the constant: b_k = log n_k - mean log n."""
    log_counts = np.log(np.asarray(counts, dtype=float))
    return log_counts - log_counts.mean()


def _blank_judge(parameters: dict[str, Any], expected: np.ndarray, reveal: bool):
    counts = ", ".join(str(n) for n in parameters["counts"])
    where = f"K = {parameters['K']} classes with ({counts}) images, lambda = {parameters['l2']}"

    def judge(got: Any) -> Mismatch | None:
        try:
            value = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            wanted = f"an array of {len(expected)} numbers"
            return Mismatch("shape", f"expected {wanted}, got {got!r:.60}")
        if value.shape != expected.shape:
            return Mismatch(
                "shape", f"expected an array of shape {expected.shape}, got shape {value.shape}"
            )
        if np.allclose(value, expected, rtol=BLANK_RTOL, atol=BLANK_ATOL):
            return None
        if reveal:
            return Mismatch("values", f"for {where}: expected {expected!r}, got {value!r}")
        return Mismatch(
            "values",
            f"{np.array2string(value, precision=6)} is not the limit of b for your {where} "
            f"(the question cell drew them from STUDENT_ID: was it set before the cell ran?)",
        )

    return judge


@check(
    exercise="blank_bias_example",
    points=1,
    visibility="visible",
    section="softmax-regression-gradient",
    kind="value",
)
def blank_bias_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example, ``blank_bias_example``: the biases b that gradient descent from
    W = 0, b = 0 converges to on images whose features are all 0, for K = 4 classes with 1, 2,
    4 and 8 images and lambda = 0.1: log 2 (-1.5, -0.5, 0.5, 1.5), to 1e-6 relative."""
    expected = blank_answer(BLANK_EXAMPLE["counts"])
    return [Case(args=(), expected=expected, judge=_blank_judge(BLANK_EXAMPLE, expected, True))]


@check(
    exercise="blank_bias",
    points=2,
    visibility="hidden",
    section="softmax-regression-gradient",
    kind="value",
    per_student=True,
    parameters=blank_parameters,
)
def blank_bias_hidden(rng: np.random.Generator) -> list[Case]:
    """``blank_bias``, the same limit for the student's own K (3 to 7), numbers of images per
    class (1 to 40) and lambda, drawn from their id: b_k = log n_k - (1/K) sum_j log n_j,
    whatever lambda is, to 1e-6 relative. The feedback does not say the value."""
    parameters = blank_parameters(rng)
    expected = blank_answer(parameters["counts"])
    return [Case(args=(), expected=expected, judge=_blank_judge(parameters, expected, False))]


# ------------------------------------------ decide: the L2 penalty, on a validation set

#: The penalties to choose among, and the trainer's settings (alpha = 0.25 is a descent
#: step for every lambda of the grid on standardised digits: see the reference).
L2_GRID = sr.L2_GRID
CHOICE_SETTINGS = sr.CHOICE_SETTINGS
#: The data given to ``choose_l2``: images per digit, and the share of their labels replaced
#: by a random digit. The clean set wants little or no penalty; the scrambled one (a model
#: without penalty learns the wrong labels) wants lambda = 0.1. The held-out images, the other
#: 1797 - 10 per_class, keep their true labels. With 40% scrambled (not 30%, nor 40 images a
#: digit) the validation cross-entropy of a third of the images tells lambda = 0.1 from its
#: neighbours every time: with 30% it picked a penalty 5 points short in 1 seed of 300.
CHOICE_DATA = {"clean": (60, 0.0), "scrambled": (50, 0.4)}
#: The visible example: the scrambled data drawn with this seed.
CHOICE_VISIBLE_SEED = 6
#: How many points of held-out accuracy the chosen penalty may lose to the best of the grid.
#: Measured with this check over seeds 0 to 299 (both data sets each): the notebook's rule (a
#: random third as the validation set, the lowest validation cross-entropy; the solution and
#: the reference) loses at most 0.6 points and passes every seed; with a quarter as the
#: validation set it fails 1 seed in 300, by the validation accuracy 9% of the seeds (which is
#: why the notebook asks for the cross-entropy). Choosing by the training accuracy (always
#: lambda = 0) fails every seed (it loses at least 3.5 points on the scrambled set), always the
#: largest lambda and always lambda = 0 every seed, always 0.01 96% of them; always 0.1, the
#: best value for the scrambled set and 1.6 points short on the clean one on average, only 0.3%.
CHOICE_TOLERANCE = 0.03


def choice_data(rng: np.random.Generator, per_class: int, scrambled: float):
    """``per_class`` random images of each digit, standardised with their own statistics, with
    a share ``scrambled`` of their labels replaced by a random digit; and the other images,
    standardised with the same statistics, with their true labels: ``X, y, X_held, y_held``.
    NumPy only, so that grading does not import scikit-learn."""
    X_all, y_all = sr.digits_data()
    given = np.zeros(len(y_all), dtype=bool)
    for k in range(10):
        given[rng.permutation(np.flatnonzero(y_all == k))[:per_class]] = True
    X, X_held = sr.standardize(X_all[given], X_all[~given])
    y = y_all[given]
    replaced = rng.random(len(y)) < scrambled
    y[replaced] = rng.integers(0, 10, size=int(replaced.sum()))
    return X, y, X_held, y_all[~given]


def lean_fit(X, y, n_classes, learning_rate, n_epochs, l2):
    """The steps of :func:`~autograder.reference.softmax_regression_fit`, without its checks
    of the input and with the softmax written out: the grader trains eight models per
    notebook, and this spares a third of their time. (A test compares the two.)"""
    n = len(y)
    rows = np.arange(n)
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    for _ in range(n_epochs):
        Z = X @ W + b
        Q = np.exp(Z - Z.max(axis=1, keepdims=True))
        Q /= Q.sum(axis=1, keepdims=True)
        Q[rows, y] -= 1.0
        G = Q / n  # (Q - Y) / N
        W = W - learning_rate * (X.T @ G + l2 * W)
        b = b - learning_rate * G.sum(axis=0)
    return W, b


def grid_accuracies(X, y, X_held, y_held) -> tuple[float, ...]:
    """The held-out accuracy of the model each penalty of the grid gives, trained on all of
    ``(X, y)`` by gradient descent with :data:`CHOICE_SETTINGS`."""
    accuracies = []
    for l2 in L2_GRID:
        W, b = lean_fit(X, y, 10, l2=l2, **CHOICE_SETTINGS)
        accuracies.append(float(np.mean(np.argmax(X_held @ W + b, axis=1) == y_held)))
    return tuple(accuracies)


@functools.cache
def visible_choice() -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """The visible example's data and the held-out accuracies of the grid (the notebook shows
    these numbers, not the held-out images)."""
    X, y, X_held, y_held = choice_data(
        np.random.default_rng(CHOICE_VISIBLE_SEED), *CHOICE_DATA["scrambled"]
    )
    return X, y, grid_accuracies(X, y, X_held, y_held)


def _choice_judge(what: str, accuracies: tuple[float, ...], n_held: int):
    best = max(accuracies)
    best_l2 = L2_GRID[accuracies.index(best)]
    grid = ", ".join(f"{value:g}" for value in L2_GRID)

    def judge(got: Any) -> Mismatch | None:
        try:
            value = float(np.asarray(got, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            return Mismatch("shape", f"{what}: expected one number of the grid, got {got!r:.60}")
        matches = [i for i, l2 in enumerate(L2_GRID) if np.isclose(value, l2, rtol=1e-12, atol=0)]
        if not matches:
            return Mismatch("values", f"{what}: {value!r} is not one of the grid ({grid})")
        accuracy = accuracies[matches[0]]
        if accuracy >= best - CHOICE_TOLERANCE:
            return None
        return Mismatch(
            "values",
            f"{what}: you chose l2 = {value:g}; trained on all of X, y it classifies "
            f"{accuracy:.1%} of {n_held} held-out images correctly, while l2 = {best_l2:g} gives "
            f"{best:.1%}; at least {best - CHOICE_TOLERANCE:.1%} is required (the best of the "
            f"grid minus {CHOICE_TOLERANCE * 100:g} points)",
        )

    return judge


@check(
    exercise="choose_l2",
    points=1,
    visibility="visible",
    section="softmax-regression-validation",
)
def choose_l2_visible(rng: np.random.Generator) -> list[Case]:
    """``choose_l2(X, y)`` on 500 digit images (50 of each digit), 40% of whose labels were
    replaced by a random digit, returns a penalty of the grid (0, 0.01, 0.1, 1) whose model
    classifies the other 1297 images at most 3 points less accurately than the best one."""
    X, y, accuracies = visible_choice()
    n_held = len(sr.digits_data()[1]) - len(y)
    return [Case(args=(X, y), judge=_choice_judge("scrambled labels", accuracies, n_held))]


@check(
    exercise="choose_l2",
    points=2,
    visibility="hidden",
    section="softmax-regression-validation",
)
def choose_l2_hidden(rng: np.random.Generator) -> list[Case]:
    """``choose_l2`` on two random draws of the digits: 600 images with their true labels,
    where little or no penalty is best, and 500 images 40% of whose labels were replaced by a
    random digit, where lambda = 0.1 is. Each chosen penalty is judged by the held-out accuracy
    (on the other images, true labels) of the model it gives, trained by the grader on all of
    X, y: at most 3 points below the best of the grid. (Over 300 seeds, the notebook's rule
    passed every one, losing at most 0.6 points; choosing by the training accuracy, or always
    the largest or the smallest penalty, failed every one.)"""
    cases = []
    for per_class, scrambled in CHOICE_DATA.values():
        X, y, X_held, y_held = choice_data(rng, per_class, scrambled)
        accuracies = grid_accuracies(X, y, X_held, y_held)
        label = "true labels" if scrambled == 0 else f"{scrambled:.0%} of the labels scrambled"
        judge = _choice_judge(f"{len(y)} images, {label}", accuracies, len(y_held))
        cases.append(Case(args=(X, y), judge=judge))
    return cases


CHECKS = [
    softmax_regression_predict_proba_visible,
    softmax_regression_predict_proba_hidden,
    softmax_regression_loss_visible,
    softmax_regression_loss_hidden,
    softmax_regression_grad_visible,
    softmax_regression_grad_hidden,
    softmax_regression_fit_visible,
    softmax_regression_fit_hidden,
    softmax_regression_fit_accuracy_hidden,
    blank_bias_visible,
    blank_bias_hidden,
    choose_l2_visible,
    choose_l2_hidden,
]
