"""Checks for chapter 4, cross-entropy: the losses, their gradient and a gradient check."""

from __future__ import annotations

import numpy as np

from autograder import reference as ref
from autograder.checks.core import Case, Function, Mismatch, check

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
    to 1e4 in size (log(softmax) is log 0 there), -inf logits off the label, float32."""
    return [_case(ref.softmax_cross_entropy, z, y) for z, y in _logits_and_labels(rng)]


@check(
    exercise="softmax_cross_entropy_grad",
    points=1,
    visibility="visible",
    section="cross-entropy-gradient",
)
def softmax_cross_entropy_grad_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy_grad`` of two rows with class indices: (softmax(z) - y) / N."""
    return [_case(ref.softmax_cross_entropy_grad, VISIBLE_LOGITS, VISIBLE_INDICES)]


@check(
    exercise="softmax_cross_entropy_grad",
    points=2,
    visibility="hidden",
    section="cross-entropy-batch",
)
def softmax_cross_entropy_grad_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_cross_entropy_grad`` with class indices and probability rows, huge and
    -inf logits, float32; it is the gradient of the batch MEAN, so it is divided by N."""
    # The textbook q - y loses a few eps absolutely where the label's class saturates.
    return [
        _case(ref.softmax_cross_entropy_grad, z, y, atol=1e-15) for z, y in _logits_and_labels(rng)
    ]


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
    log 0 there), 0/1 and soft labels, and a 2-D batch."""
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
    ]


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
    cross-entropy gradient for the loss, on a batch and on a single row) and flags wrong
    ones (log_softmax or sigmoid offered as the gradient of log-sum-exp)."""
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
    ]


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
]
