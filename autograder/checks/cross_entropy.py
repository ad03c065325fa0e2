"""Checks for chapter 4, cross-entropy: the losses, their gradient and a gradient check; two
predictions (the loss of an untrained model, which proposed gradient is right); and the
derived gradient with label smoothing, ``smoothed_cross_entropy_grad``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder import reference as ref
from autograder.checks.core import Case, Function, Mismatch, check, choice_judge

ASSIGNMENT = "04_cross_entropy"


def _case(reference, *args, atol=1e-300) -> Case:
    single = any(np.asarray(a).dtype == np.float32 for a in args)
    return Case(
        args=args,
        expected=reference(*args),
        rtol=1e-5 if single else 1e-10,
        atol=max(atol, 1e-30) if single else atol,
    )


def _distributions(rng: np.random.Generator, shape, zeros: bool = False) -> np.ndarray:
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if zeros:
        p[..., 0] = 0.0  # 0 log 0 = 0: the entry must not turn into nan or a warning
        p /= p.sum(axis=-1, keepdims=True)
    return p


def _logits_and_labels(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches with class indices and with probability rows, huge and -inf logits, float32."""
    n_examples, n_classes = 6, 4  # N and K
    shape = (n_examples, n_classes)
    ordinary = rng.normal(0.0, 2.0, size=shape)
    huge = rng.uniform(-1e4, 1e4, size=shape)
    indices = rng.integers(0, n_classes, size=n_examples)
    masked = rng.normal(0.0, 2.0, size=shape)
    masked[np.arange(n_examples), (indices + 1) % n_classes] = -np.inf  # never the label's class
    return [
        (ordinary, indices),
        (ordinary, _distributions(rng, shape)),
        (huge, indices),
        (huge, _distributions(rng, shape)),
        (np.array([[1000.0, 0.0, -1000.0]]), np.array([2])),
        (masked, indices),
        (rng.normal(0.0, 3.0, size=shape).astype(np.float32), indices),
    ]


VISIBLE_LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
#: The label's class saturates: q_0 - 1 = -2.3e-16, of which q_0 - 1 as written keeps 0 or
#: -2.2e-16.
SATURATED_LOGITS = np.array([[36.0, 0.0]])
VISIBLE_INDICES = np.array([0, 2])
VISIBLE_P = np.array([0.5, 0.25, 0.25])
VISIBLE_Q = np.array([0.25, 0.25, 0.5])


@check(exercise="cross_entropy", points=1, visibility="visible", section="cross-entropy-definition")
def cross_entropy_visible(rng: np.random.Generator) -> list[Case]:
    """``cross_entropy(p, q)`` and ``cross_entropy(q, p)`` of two small distributions."""
    return [
        _case(ref.cross_entropy, VISIBLE_P, VISIBLE_Q),
        _case(ref.cross_entropy, VISIBLE_Q, VISIBLE_P),
    ]


@check(exercise="cross_entropy", points=2, visibility="hidden", section="cross-entropy-definition")
def cross_entropy_hidden(rng: np.random.Generator) -> list[Case]:
    """``cross_entropy`` of batches of rows (one value per row), with p = 0 entries
    (0 log 0 = 0, also where q = 0) and near-deterministic q."""
    p = _distributions(rng, (5, 4), zeros=True)
    q = _distributions(rng, (5, 4))
    q_with_zero = q.copy()
    q_with_zero[:, 0] = 0.0  # only where p is 0 too
    q_with_zero /= q_with_zero.sum(axis=-1, keepdims=True)
    sharp = _distributions(rng, (3, 6)) ** 8
    sharp /= sharp.sum(axis=-1, keepdims=True)
    return [
        _case(ref.cross_entropy, p, q),
        _case(ref.cross_entropy, p, q_with_zero),
        _case(ref.cross_entropy, _distributions(rng, (3, 6)), sharp),
        _case(ref.cross_entropy, _distributions(rng, (7,)), _distributions(rng, (7,))),
    ]


@check(exercise="kl_divergence", points=1, visibility="visible", section="cross-entropy-kl")
def kl_divergence_visible(rng: np.random.Generator) -> list[Case]:
    """``kl_divergence(p, q)``, ``kl_divergence(q, p)`` and ``kl_divergence(p, p)`` = 0."""
    return [
        _case(ref.kl_divergence, VISIBLE_P, VISIBLE_Q),
        _case(ref.kl_divergence, VISIBLE_Q, VISIBLE_P),
        _case(ref.kl_divergence, VISIBLE_P, VISIBLE_P),
    ]


@check(exercise="kl_divergence", points=2, visibility="hidden", section="cross-entropy-kl")
def kl_divergence_hidden(rng: np.random.Generator) -> list[Case]:
    """``kl_divergence`` of batches of rows, with p = 0 entries (0 log 0 = 0), and of a
    distribution with itself (exactly 0)."""
    p = _distributions(rng, (5, 4), zeros=True)
    q = _distributions(rng, (5, 4))
    return [
        _case(ref.kl_divergence, p, q, atol=1e-15),
        _case(ref.kl_divergence, p, p, atol=1e-15),
        _case(ref.kl_divergence, _distributions(rng, (9,)), _distributions(rng, (9,)), atol=1e-15),
    ]


@check(
    exercise="softmax_cross_entropy",
    points=1,
    visibility="visible",
    section="cross-entropy-softmax-loss",
)
def softmax_cross_entropy_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy`` of a batch of two rows, with class indices and with
    one-hot probability rows (the same loss)."""
    one_hot = np.eye(3)[VISIBLE_INDICES]
    return [
        _case(ref.softmax_cross_entropy, VISIBLE_LOGITS, VISIBLE_INDICES),
        _case(ref.softmax_cross_entropy, VISIBLE_LOGITS, one_hot),
    ]


@check(
    exercise="softmax_cross_entropy",
    points=2,
    visibility="hidden",
    section="cross-entropy-log-softmax",
)
def softmax_cross_entropy_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy`` with class indices and with probability rows, logits up
    to 1e4 in size (log(softmax) is log 0 there), -inf logits off the label, float32; and a
    confident, right model, whose loss (about 1e-13) must keep its relative precision:
    LSE(z) - z_y subtracts two numbers near 30 and keeps only a few digits of it."""
    confident = np.array([[30.0, -5.0, 0.0], [1.0, 33.0, -2.0]]) + rng.uniform(0.0, 1.0, (2, 1))
    return [_case(ref.softmax_cross_entropy, z, y) for z, y in _logits_and_labels(rng)] + [
        _case(ref.softmax_cross_entropy, confident, np.array([0, 1]))
    ]


@check(
    exercise="softmax_cross_entropy_grad",
    points=1,
    visibility="visible",
    section="cross-entropy-gradient",
)
def softmax_cross_entropy_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy_grad`` of two rows with class indices, (softmax(z) - y) / N,
    and of z = [36, 0] with label 0, where q_y - 1 = -2.3e-16 must keep its digits (1 - q_y
    is the share of the other classes, not 1 minus a rounded q_y)."""
    return [
        _case(ref.softmax_cross_entropy_grad, VISIBLE_LOGITS, VISIBLE_INDICES),
        _case(ref.softmax_cross_entropy_grad, SATURATED_LOGITS, np.array([0])),
    ]


@check(
    exercise="softmax_cross_entropy_grad",
    points=2,
    visibility="hidden",
    section="cross-entropy-batch",
)
def softmax_cross_entropy_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy_grad`` with class indices and probability rows, huge and
    -inf logits, float32; it is the gradient of the batch MEAN, so it is divided by N. With
    class indices every entry keeps its relative precision, q_y - 1 too where the label's
    class saturates (rows near [36, 0] and [0, 40, -3] with the first two labels)."""
    saturated = np.array([[36.0, 0.0, -1.0], [0.0, 40.0, -3.0]]) + rng.uniform(0.0, 1.0, (2, 1))
    cases = []
    for z, y in [*_logits_and_labels(rng), (saturated, np.array([0, 1]))]:
        # Soft labels: q - p cancels where q is close to p, so a few eps absolutely.
        cases.append(
            _case(ref.softmax_cross_entropy_grad, z, y, atol=1e-15 if y.ndim == 2 else 1e-300)
        )
    return cases


@check(
    exercise="binary_cross_entropy_with_logits",
    points=1,
    visibility="visible",
    section="cross-entropy-binary",
)
def binary_cross_entropy_with_logits_visible(rng: np.random.Generator) -> list[Case]:
    """``binary_cross_entropy_with_logits`` of four logits with 0/1 labels."""
    z = np.array([2.0, -1.0, 0.0, 3.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    return [_case(ref.binary_cross_entropy_with_logits, z, y)]


@check(
    exercise="binary_cross_entropy_with_logits",
    points=2,
    visibility="hidden",
    section="cross-entropy-binary",
)
def binary_cross_entropy_with_logits_hidden(rng: np.random.Generator) -> list[Case]:
    """``binary_cross_entropy_with_logits`` with logits up to 1e4 in size (log(sigmoid) is
    log 0 there), 0/1 and soft labels, and a 2-D batch; and large logits with soft labels
    just below 1, whose tiny loss must keep its relative precision."""
    huge = rng.uniform(-1e4, 1e4, size=16)
    return [
        _case(ref.binary_cross_entropy_with_logits, huge, rng.integers(0, 2, 16).astype(float)),
        _case(ref.binary_cross_entropy_with_logits, huge, rng.uniform(0.0, 1.0, 16)),
        _case(
            ref.binary_cross_entropy_with_logits,
            rng.normal(0.0, 5.0, size=(4, 3)),
            rng.integers(0, 2, size=(4, 3)).astype(float),
        ),
        _case(
            ref.binary_cross_entropy_with_logits, np.array([-800.0, 800.0]), np.array([1.0, 0.0])
        ),
        _case(ref.binary_cross_entropy_with_logits, *_soft_labels_near_one(rng)),
    ]


def _soft_labels_near_one(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Large positive logits with soft labels just below 1 (label smoothing makes them): the
    loss, about (1 - y) x, is tiny, and max(x, 0) - x y loses most of its digits to the
    rounding of x y; y softplus(-x) + (1 - y) softplus(x) keeps them all."""
    x = rng.uniform(30.0, 60.0, size=4)
    y = 1.0 - np.array([1e-12, 3e-13, 2e-12, 7e-13]) * rng.uniform(1.0, 2.0, size=4)
    return x, y


def _relative_error(what: str, *, below: float | None = None, above: float | None = None):
    """A judge for a returned relative error: one finite number below, or above, a bound."""

    def judge(got) -> Mismatch | str | None:
        if np.ndim(got) != 0:
            return Mismatch(
                "shape",
                f"expected one number (the relative error), got an array of shape {np.shape(got)}",
            )
        value = float(np.asarray(got, dtype=float))
        if below is not None and not value < below:  # nan and inf must not pass
            return f"{what}: expected a relative error below {below:g}, got {value!r}"
        if above is not None and not value > above:
            return f"{what}: expected a relative error above {above:g}, got {value!r}"
        return None

    return judge


@check(
    exercise="gradient_check",
    points=1,
    visibility="visible",
    section="cross-entropy-gradient-check",
)
def gradient_check_visible(rng: np.random.Generator) -> list[Case]:
    """``gradient_check`` on your own loss and gradient: the relative error is below 1e-6."""
    labels = VISIBLE_INDICES
    return [
        Case(
            args=(
                Function("softmax_cross_entropy", of="student", bound=(labels,)),
                Function("softmax_cross_entropy_grad", of="student", bound=(labels,)),
                VISIBLE_LOGITS,
            ),
            judge=_relative_error(
                below=1e-6,
                what="your softmax_cross_entropy_grad against your softmax_cross_entropy",
            ),
        )
    ]


@check(
    exercise="gradient_check",
    points=2,
    visibility="hidden",
    section="cross-entropy-gradient-check",
)
def gradient_check_hidden(rng: np.random.Generator) -> list[Case]:
    """``gradient_check`` passes correct gradients (softmax for log-sum-exp, the
    cross-entropy gradient for the loss, on a batch, on a single row, and at logits near
    1e5, where a step proportional to |z_j| overshoots into truncation error) and flags
    wrong ones (log_softmax or sigmoid offered as the gradient of log-sum-exp)."""
    z = rng.normal(0.0, 2.0, size=5)
    logits = rng.normal(0.0, 2.0, size=(4, 3))
    labels = rng.integers(0, 3, size=4)
    loss = Function("softmax_cross_entropy", bound=(labels,))
    return [
        Case(
            args=(Function("logsumexp"), Function("softmax"), z),
            judge=_relative_error(below=1e-6, what="softmax"),
        ),
        Case(
            args=(loss, Function("softmax_cross_entropy_grad", bound=(labels,)), logits),
            judge=_relative_error(below=1e-6, what="the cross-entropy gradient"),
        ),
        Case(
            args=(Function("logsumexp"), Function("log_softmax"), z),
            judge=_relative_error(
                above=1e-2, what="log_softmax is not the gradient of log-sum-exp"
            ),
        ),
        Case(
            args=(Function("logsumexp"), Function("sigmoid"), z),
            judge=_relative_error(above=1e-2, what="sigmoid is not the gradient of log-sum-exp"),
        ),
        Case(
            args=(
                Function("softmax_cross_entropy", bound=(labels[:1],)),
                Function("softmax_cross_entropy_grad", bound=(labels[:1],)),
                logits[:1],
            ),
            judge=_relative_error(
                below=1e-6, what="the cross-entropy gradient of a batch of one row"
            ),
        ),
        Case(
            args=(loss, Function("softmax_cross_entropy_grad", bound=(labels,)), logits + 1e5),
            judge=_relative_error(below=1e-6, what="the cross-entropy gradient at logits near 1e5"),
        ),
    ]


# ------------------------------------------------- predict: the loss of an untrained model

#: The worked example's parameters: K = 10 classes, label smoothing kappa = 0.1.
UNTRAINED_EXAMPLE = {"n_classes": 10, "smoothing": 0.1}


def untrained_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's number of classes K (3 to 1000) and label smoothing kappa. The
    notebook's question cell draws them with the same calls, in the same order."""
    n_classes = int(rng.integers(3, 1001))
    smoothing = float(rng.choice([0.0, 0.05, 0.1, 0.2]))
    return {"n_classes": n_classes, "smoothing": smoothing}


def untrained_case(n_classes: int, smoothing: float) -> Case:
    """The mean loss of a model whose logits are all 0, on 5 examples of K classes with the
    targets (1 - kappa) y + kappa / K: every q is uniform, and H(t, uniform) = log K for any
    target t that sums to 1, kappa or not."""
    labels = np.arange(5) % n_classes
    targets = (1 - smoothing) * np.eye(n_classes)[labels] + smoothing / n_classes
    expected = ref.softmax_cross_entropy(np.zeros((5, n_classes)), targets)
    return Case(args=(), expected=expected, rtol=1e-6, atol=0.0)


@check(
    exercise="untrained_loss_example",
    points=1,
    visibility="visible",
    section="cross-entropy-softmax-loss",
    kind="value",
)
def untrained_loss_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: the mean loss of a model whose logits are all 0, on K = 10
    classes with label smoothing kappa = 0.1: log 10 = 2.302585, as the smoothed target
    still sums to 1."""
    return [untrained_case(**UNTRAINED_EXAMPLE)]


@check(
    exercise="untrained_loss",
    points=2,
    visibility="hidden",
    section="cross-entropy-softmax-loss",
    kind="value",
    per_student=True,
    parameters=untrained_parameters,
)
def untrained_loss_hidden(rng: np.random.Generator) -> list[Case]:
    """The same prediction for the student's own K and kappa (drawn from their id), in nats,
    to a relative 1e-6."""
    return [untrained_case(**untrained_parameters(rng))]


# --------------------------------------------- predict: which proposed gradient is right

#: The letters of the four proposals of a gradient question.
LETTERS = ("a", "b", "c", "d")
#: The worked example (the notebook's visible variant), its proposals in the order shown.
GRADIENT_EXAMPLE = (
    "the loss l(z, y) = -log softmax(z)_y of one example with one-hot label y; "
    "its gradient with respect to the logits z",
    ["y * (q - 1)", "q - y", "J(z) (q - y)", "-y / q"],
)
GRADIENT_EXAMPLE_ANSWER = "b"
#: The questions drawn for each student: a loss, and four proposals for its gradient (the
#: order a student sees is drawn too). q = softmax(z), Q = softmax(Z) row by row, * is the
#: entry-by-entry product, 1 the all-ones vector. The notebook's question cell holds the same
#: list (a test compares them); which proposal is right is kept here only, in
#: GRADIENT_ANSWERS, so that reading the question cell does not give it away.
GRADIENT_QUESTIONS = [
    (
        "the batch mean (1/N) sum_n l(z_n, y_n) of the cross-entropy of N rows of logits Z "
        "with one-hot rows Y; its gradient with respect to Z",
        ["Q - Y", "Y * (Q - 1) / N", "(Q - Y) / N", "(Q - Y) / K"],
    ),
    (
        "the squared error E(z, y) = (1/2) ||softmax(z) - y||^2 of one example with one-hot "
        "label y; its gradient with respect to z",
        [
            "q - y",
            "q * (1 - q) * (q - y)",
            "(q - y) - (q . (q - y)) 1",
            "q * ((q - y) - (q . (q - y)) 1)",
        ],
    ),
    (
        "the loss l(z, p) = -sum_k p_k log softmax(z)_k for weights p >= 0 that need not sum "
        "to 1; its gradient with respect to z",
        ["q - p", "(sum_k p_k) q - p", "q - p / (sum_k p_k)", "(sum_k p_k) (q - p)"],
    ),
    (
        "the binary cross-entropy l(x, y) = -[y log sigma(x) + (1 - y) log(1 - sigma(x))] of "
        "one logit x and a label y in [0, 1]; its derivative with respect to x",
        [
            "sigma(x) - y",
            "y - sigma(x)",
            "sigma(x) (1 - sigma(x)) - y",
            "(sigma(x) - y) / (sigma(x) (1 - sigma(x)))",
        ],
    ),
    (
        "the loss in bits, -log2 softmax(z)_y, of one example with one-hot label y; its "
        "gradient with respect to z",
        ["q - y", "(q - y) ln 2", "(q - y) / ln 2", "q / ln 2 - y"],
    ),
]
#: The position of the right proposal in each question's list above.
GRADIENT_ANSWERS = [2, 3, 1, 0, 2]


def choice_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One student's question (an index into GRADIENT_QUESTIONS) and the order in which its
    four proposals are shown: the letters a, b, c, d label the proposals order[0], order[1],
    order[2], order[3] of the list. The notebook's question cell draws them with the same
    calls, in the same order."""
    question = int(rng.integers(len(GRADIENT_QUESTIONS)))
    order = [int(i) for i in rng.permutation(len(LETTERS))]
    return {"question": question, "order": order}


@check(
    exercise="gradient_choice_example",
    points=1,
    visibility="visible",
    section="cross-entropy-article-gradient",
    kind="value",
)
def gradient_choice_visible(rng: np.random.Generator) -> list[Case]:
    """The worked example: of y * (q - 1) (the article's literal wording), q - y, J(z)(q - y)
    (the squared error's) and -y / q (the gradient with respect to q), the gradient of
    -log softmax(z)_y with respect to z is (b), q - y."""
    return [Case(args=(), judge=choice_judge(GRADIENT_EXAMPLE_ANSWER, LETTERS))]


@check(
    exercise="gradient_choice",
    points=2,
    visibility="hidden",
    section="cross-entropy-gradient",
    kind="value",
    per_student=True,
    parameters=choice_parameters,
)
def gradient_choice_hidden(rng: np.random.Generator) -> list[Case]:
    """The student's own question (drawn from their id, with its proposals in a drawn
    order): the letter of the right gradient."""
    drawn = choice_parameters(rng)
    right = LETTERS[drawn["order"].index(GRADIENT_ANSWERS[drawn["question"]])]
    return [Case(args=(), judge=choice_judge(right, LETTERS))]


# ------------------------------- derive, then implement: the gradient with label smoothing


def _smoothed_case(z: np.ndarray, labels: np.ndarray, smoothing: float) -> Case:
    """The reference's gradient, to a relative 1e-10 (1e-4 in float32), or within 1e-15
    (1e-7) absolutely: q_k - t_k cancels where the model predicts the target."""
    single = np.asarray(z).dtype == np.float32
    return Case(
        args=(z, labels, smoothing),
        expected=ref.smoothed_cross_entropy_grad(z, labels, smoothing),
        rtol=1e-4 if single else 1e-10,
        atol=1e-7 if single else 1e-15,
    )


@check(
    exercise="smoothed_cross_entropy_grad",
    points=2,
    visibility="visible",
    section="cross-entropy-gradient",
)
def smoothed_cross_entropy_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``smoothed_cross_entropy_grad`` of the two rows of the other visible tests with
    kappa = 0.1, of one row of zeros with kappa = 0.3, and of the same two rows with
    kappa = 0 (the plain gradient)."""
    return [
        _smoothed_case(VISIBLE_LOGITS, VISIBLE_INDICES, 0.1),
        _smoothed_case(np.zeros((1, 3)), np.array([1]), 0.3),
        _smoothed_case(VISIBLE_LOGITS, VISIBLE_INDICES, 0.0),
    ]


@check(
    exercise="smoothed_cross_entropy_grad",
    points=2,
    visibility="hidden",
    section="cross-entropy-gradient",
)
def smoothed_cross_entropy_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``smoothed_cross_entropy_grad`` of random batches, with class indices and with
    probability rows, for kappa = 0, a random kappa, and kappa = 1 (uniform targets); the
    gradient of the batch MEAN, so divided by N."""
    n_examples, n_classes = 6, 5
    z = rng.normal(0.0, 2.0, size=(n_examples, n_classes))
    indices = rng.integers(0, n_classes, size=n_examples)
    rows = _distributions(rng, (n_examples, n_classes))
    kappa = float(rng.uniform(0.02, 0.3))
    return [
        _smoothed_case(z, indices, kappa),
        _smoothed_case(z, rows, kappa),
        _smoothed_case(z, indices, 0.0),
        _smoothed_case(z[:1], indices[:1], 1.0),
        _smoothed_case(rng.normal(0.0, 2.0, size=(3, 2)), np.array([1, 0, 1]), kappa),
    ]


@check(
    exercise="smoothed_cross_entropy_grad",
    points=2,
    visibility="hidden",
    section="cross-entropy-gradient",
)
def smoothed_cross_entropy_grad_extreme_hidden(rng: np.random.Generator) -> list[Case]:
    """``smoothed_cross_entropy_grad`` of logits up to 1e4 in size (softmax overflows
    without the max-shift), of -inf logits off the label (their probability is 0, their
    gradient -kappa / (K N)), of [1000, 0, -1000], and in float32."""
    kappa = float(rng.uniform(0.02, 0.3))
    extreme = _logits_and_labels(rng)[2:]  # all but the two ordinary batches
    return [_smoothed_case(z, y, kappa) for z, y in extreme]


CHECKS = [
    cross_entropy_visible,
    cross_entropy_hidden,
    kl_divergence_visible,
    kl_divergence_hidden,
    softmax_cross_entropy_visible,
    softmax_cross_entropy_hidden,
    softmax_cross_entropy_grad_visible,
    softmax_cross_entropy_grad_hidden,
    binary_cross_entropy_with_logits_visible,
    binary_cross_entropy_with_logits_hidden,
    gradient_check_visible,
    gradient_check_hidden,
    untrained_loss_visible,
    untrained_loss_hidden,
    gradient_choice_visible,
    gradient_choice_hidden,
    smoothed_cross_entropy_grad_visible,
    smoothed_cross_entropy_grad_hidden,
    smoothed_cross_entropy_grad_extreme_hidden,
]
