"""Checks for chapter 3: ``softmax``, ``logsumexp``, ``log_softmax`` and ``softmax_jacobian``."""

from __future__ import annotations

import numpy as np

from autograder import reference as ref
from autograder.checks.core import Case, check

ASSIGNMENT = "03_softmax"


def _cases(reference, inputs, **kwargs) -> list[Case]:
    """A case per (z, axis) pair; float32 inputs are compared to float32 accuracy."""
    cases = []
    for z, axis in inputs:
        single = np.asarray(z).dtype == np.float32
        extra = {} if axis is None else {"axis": axis}
        cases.append(
            Case(
                args=(z,),
                kwargs=extra,
                expected=reference(z, **extra),
                rtol=kwargs.get("rtol32", 1e-5) if single else kwargs.get("rtol", 1e-10),
                atol=kwargs.get("atol32", 1e-30) if single else kwargs.get("atol", 1e-300),
            )
        )
    return cases


VISIBLE_ROWS = [
    np.array([1.0, 2.0, 3.0]),
    np.array([0.0, 0.0]),
    np.array([[1.0, 0.0, -1.0], [3.0, 3.0, 3.0]]),
]


def _hidden_inputs(rng: np.random.Generator) -> list[tuple[np.ndarray, int | None]]:
    """Batches on both axes, huge logits, rows with -inf, float32."""
    batch = rng.normal(0.0, 3.0, size=(5, 4))
    huge = rng.uniform(-1e4, 1e4, size=(4, 6))
    masked = rng.normal(0.0, 3.0, size=(3, 5))
    masked[:, 0] = -np.inf
    masked[1, 3] = -np.inf
    return [
        (batch, None),
        (batch, 0),
        (huge, None),
        (np.array([1000.0, 999.0, 998.0]), None),
        (np.array([-1000.0, -1001.0, -1002.0]), None),
        (masked, None),
        (rng.normal(0.0, 10.0, size=(6, 3)), 0),
        (rng.normal(0.0, 30.0, size=(4, 5)).astype(np.float32), None),
        (np.array([[88.0, 89.0, 90.0]], dtype=np.float32), -1),
    ]


@check(exercise="softmax", points=1, visibility="visible", section="softmax-definition")
def softmax_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.softmax, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="softmax", points=2, visibility="hidden", section="softmax-max-shift")
def softmax_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax`` of batches along both axes, of logits up to 1e4 in size (overflow
    without the max-shift), of rows holding -inf, and in float32."""
    return _cases(ref.softmax, _hidden_inputs(rng))


@check(exercise="logsumexp", points=1, visibility="visible", section="softmax-logsumexp")
def logsumexp_visible(rng: np.random.Generator) -> list[Case]:
    """``logsumexp`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.logsumexp, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="logsumexp", points=2, visibility="hidden", section="softmax-lse-stable")
def logsumexp_hidden(rng: np.random.Generator) -> list[Case]:
    """``logsumexp`` of batches along both axes, of logits up to 1e4 in size, of rows
    holding -inf, and in float32."""
    return _cases(ref.logsumexp, _hidden_inputs(rng))


@check(exercise="log_softmax", points=1, visibility="visible", section="softmax-log-softmax")
def log_softmax_visible(rng: np.random.Generator) -> list[Case]:
    """``log_softmax`` of a few small vectors and of a batch of two rows."""
    return _cases(ref.log_softmax, [(z, None) for z in VISIBLE_ROWS])


@check(exercise="log_softmax", points=2, visibility="hidden", section="softmax-log-softmax")
def log_softmax_hidden(rng: np.random.Generator) -> list[Case]:
    """``log_softmax`` of batches along both axes, of rows whose softmax underflows to 0
    (log of it is -inf, the answer is finite), of rows holding -inf, and in float32."""
    # Absolute error of z - LSE(z) is a few spacings of max|z|: allow it, relative to
    # the largest logit in the case.
    cases = []
    for z, axis in _hidden_inputs(rng):
        (case,) = _cases(ref.log_softmax, [(z, axis)])
        finite = np.abs(z[np.isfinite(z)])
        scale = float(finite.max()) if finite.size else 1.0
        eps = float(np.finfo(np.asarray(z).dtype).eps)
        cases.append(
            Case(
                args=case.args,
                kwargs=case.kwargs,
                expected=case.expected,
                rtol=case.rtol,
                atol=8 * eps * max(scale, 1.0),
            )
        )
    return cases


@check(exercise="softmax_jacobian", points=1, visibility="visible", section="softmax-jacobian")
def softmax_jacobian_visible(rng: np.random.Generator) -> list[Case]:
    """``softmax_jacobian`` of [1, 2, 3] and of [0, 0]: J = diag(q) - q q^T, q = softmax(z)."""
    return _cases(ref.softmax_jacobian, [(VISIBLE_ROWS[0], None), (VISIBLE_ROWS[1], None)])


@check(exercise="softmax_jacobian", points=2, visibility="hidden", section="softmax-jacobian")
def softmax_jacobian_hidden(rng: np.random.Generator) -> list[Case]:
    """``softmax_jacobian`` of random vectors of several lengths K and of large logits
    (which overflow without the max-shift)."""
    inputs = [(rng.normal(0.0, 2.0, size=n_classes), None) for n_classes in (1, 2, 5, 10)] + [
        (rng.uniform(-1e3, 1e3, size=4), None),
        (np.array([1000.0, 999.0]), None),
    ]
    # The diagonal q_i (1 - q_i) is tiny for saturated entries; an absolute tolerance of a
    # few eps keeps the textbook diag(q) - q q^T acceptable there.
    return _cases(ref.softmax_jacobian, inputs, atol=1e-15)


CHECKS = [
    softmax_visible,
    softmax_hidden,
    logsumexp_visible,
    logsumexp_hidden,
    log_softmax_visible,
    log_softmax_hidden,
    softmax_jacobian_visible,
    softmax_jacobian_hidden,
]
