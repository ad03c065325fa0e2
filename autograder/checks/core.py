"""What a grading check is, and how one answer is compared with the reference.

A :class:`Check` is data: a name, the exercise it grades, its points, its
visibility, and a function that builds :class:`Case` objects (inputs together
with the reference's answer) from a random generator.  Nothing here runs a
notebook or a process; :func:`call_case` and :func:`compare` are the two small
pieces that a runner (nbgrader's kernel, or the course's own grader) combines.
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from autograder import reference

Visibility = Literal["visible", "hidden"]
#: What a check grades: what the student's function returns when called on the cases'
#: inputs (``"call"``), or the value the student gave a variable (``"value"``: a prediction,
#: a choice, a number reasoned out before computing).
Kind = Literal["call", "value"]
#: The notebook variable holding the student's id, from which per-student parameters come.
STUDENT_ID_VARIABLE = "STUDENT_ID"

#: Where the textbook formulas of chapters 1 and 2 break in float64: exp overflows past
#: |x| = 709.78 and underflows past 745, sigma(x) rounds to 1 from x = 36.7, and
#: 1 + exp(x) rounds to 1 below x = -37. Hidden checks try both sides of each edge.
_EDGES = [1e-8, 1.0, 20.0, 36.0, 40.0, 700.0, 710.0, 745.0, 1e4]
EXTREME_INPUTS = np.array([-x for x in reversed(_EDGES)] + [0.0, *_EDGES])


@dataclass(frozen=True, eq=False)  # bound arrays have no truth value: compare by identity
class Function:
    """A function passed as an argument to the student's function.

    ``of="reference"`` names a function of :mod:`autograder.reference`;
    ``of="student"`` names one the student defined in the same notebook (for
    exercises such as a gradient check the student runs on their own code).
    ``bound`` arguments are passed after the first, so that
    ``Function("softmax_cross_entropy", bound=(labels,))`` is the one-argument
    function ``z -> softmax_cross_entropy(z, labels)``.  Cases hold names, not
    functions, so that they can be sent to another process as plain data.
    """

    name: str
    of: Literal["reference", "student"] = "reference"
    bound: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Case:
    """One call of a student's function and the answer it must give.

    ``args`` are passed positionally and ``kwargs`` by name: NumPy arrays,
    numbers, strings, or :class:`Function` names.  ``expected`` is the
    reference's answer (an array, a number, or a tuple of them); ``rtol`` and
    ``atol`` say how close the student's answer must be (``numpy.allclose``
    semantics, with infinities and NaNs required in the same places).  When
    an answer cannot be judged by closeness (a trained model, say), ``judge``
    receives the answer and returns ``None`` or a message saying what is wrong.
    """

    args: tuple[Any, ...]
    expected: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    rtol: float = 1e-10
    atol: float = 1e-300
    judge: Callable[[Any], Mismatch | str | None] | None = None


@dataclass(frozen=True)
class Check:
    """A graded check: a name, the exercise it grades, points and visibility.

    ``build(rng)`` returns the cases; hidden checks draw random inputs from
    ``rng`` so that answers cannot be hard-coded.  ``section`` is the MyST
    label of the chapter section a student should reread when it fails.

    ``kind`` says what is graded (:data:`Kind`): for a ``"value"`` check, the
    ``exercise`` is the name of the variable holding the student's answer, and each
    case has no inputs.  A ``per_student`` check draws its parameters for each student
    from the student's id alone (:func:`student_seed`), so that the notebook can show
    the student their own question before they answer it; ``parameters(rng)``, when
    given, draws them (as a dict), and the notebook's question cell draws the same ones
    with the same generator (a test checks the two agree).
    """

    name: str
    exercise: str
    points: float
    visibility: Visibility
    build: Callable[[np.random.Generator], list[Case]]
    description: str
    section: str
    kind: Kind = "call"
    per_student: bool = False
    parameters: Callable[[np.random.Generator], dict[str, Any]] | None = None

    def cases(self, seed: int | Sequence[int] = 0) -> list[Case]:
        """The cases of this check for a seed (the same seed gives the same cases)."""
        return self.build(np.random.default_rng(seed))

    def cases_for_student(self, student_id: str) -> list[Case]:
        """A per-student check's cases for ``student_id`` (what the notebook showed them)."""
        return self.cases(student_seed(student_id, self.name))


def check(
    *,
    exercise: str,
    points: float,
    visibility: Visibility,
    section: str,
    kind: Kind = "call",
    per_student: bool = False,
    parameters: Callable[[np.random.Generator], dict[str, Any]] | None = None,
) -> Callable[[Callable[[np.random.Generator], list[Case]]], Check]:
    """Turn a case-building function into a :class:`Check`; its docstring is the description."""

    def wrap(build: Callable[[np.random.Generator], list[Case]]) -> Check:
        return Check(
            name=build.__name__,
            exercise=exercise,
            points=points,
            visibility=visibility,
            build=build,
            description=inspect.cleandoc(build.__doc__ or ""),
            section=section,
            kind=kind,
            per_student=per_student,
            parameters=parameters,
        )

    return wrap


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and on every machine.

    >>> stable_hash("alice")
    3159282601090220207
    """
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def student_seed(student_id: str, question: str) -> list[int]:
    """The seed of a per-student question's parameters: the student's id and the question's
    name, nothing else, so that the notebook can draw the same parameters the grader will.

    The notebook's set-up cell writes the same rule out in plain Python
    (``numpy.random.default_rng([h(STUDENT_ID), h(question)])`` with ``h`` the first 8 bytes
    of SHA-256), since student notebooks cannot import this package.
    """
    return [stable_hash(student_id), stable_hash(question)]


@dataclass(frozen=True)
class ChoiceJudge:
    """A judge for a multiple-choice answer: one of ``options``, the ``correct`` one.

    The right answer is data (``correct``), so that a test can ask which answer a student's
    variant expects without calling the judge.
    """

    correct: str
    options: tuple[str, ...]

    def __call__(self, got: Any) -> Mismatch | None:
        if not isinstance(got, str) or got.strip() not in self.options:
            shown = _describe(got)
            return Mismatch(
                "shape", f"expected one of {', '.join(map(repr, self.options))}, got {shown}"
            )
        if got.strip() != self.correct:
            return Mismatch("values", f"{got.strip()!r} is not the right choice")
        return None


def choice_judge(correct: str, options: Sequence[str]) -> ChoiceJudge:
    """A judge for a multiple-choice answer: one of ``options``, the ``correct`` one."""
    if correct not in options:
        raise ValueError(f"the right choice {correct!r} is not one of {list(options)}")
    return ChoiceJudge(correct, tuple(options))


def elementwise_cases(
    reference: Callable[[Any], Any], inputs: Sequence[Any], **tolerances: float
) -> list[Case]:
    """One case per input for a one-argument function, with the reference's answer."""
    cases = []
    for x in inputs:
        rtol, atol = _tolerances_for(x, tolerances)
        cases.append(Case(args=(x,), expected=reference(x), rtol=rtol, atol=atol))
    return cases


def _tolerances_for(x: Any, tolerances: dict[str, float]) -> tuple[float, float]:
    # float32 answers carry about 7 significant digits, float64 about 16.
    if np.asarray(x).dtype == np.float32:
        return tolerances.get("rtol32", 1e-5), tolerances.get("atol32", 1e-37)
    return tolerances.get("rtol", 1e-10), tolerances.get("atol", 1e-300)


class CallError(Exception):
    """The student's function raised, or emitted a floating-point warning."""


#: Notices about a library's API, not about the answer: a correct function that calls a
#: deprecated NumPy alias still passes.  (The grader's worker keeps the same list.)
API_NOTICES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def call_case(func: Callable[..., Any], case: Case, namespace: dict[str, Any] | None = None) -> Any:
    """Call ``func`` on the case's inputs with floating-point warnings as errors.

    Overflow, invalid operations and division by zero raise; underflow to zero
    is ordinary (``exp(-745)`` is 5e-324, ``exp(-746)`` is 0) and is allowed.
    Any other warning is an error too (a ``RuntimeWarning`` such as "Mean of
    empty slice"), except :data:`API_NOTICES`.  Inputs are copied so that a
    function that modifies its argument in place cannot change the case.
    :class:`Function` arguments are looked up in the reference module, or in
    ``namespace`` (the student's) for ``of="student"``.
    """
    args = tuple(_resolve(a, namespace) for a in case.args)
    kwargs = {k: _resolve(v, namespace) for k, v in case.kwargs.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for notice in API_NOTICES:
                warnings.simplefilter("ignore", notice)
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                return func(*args, **kwargs)
    except Exception as exc:
        raise CallError(f"{type(exc).__name__}: {exc}") from exc


def _resolve(value: Any, namespace: dict[str, Any] | None) -> Any:
    if isinstance(value, Function):
        if value.of == "reference":
            func = getattr(reference, value.name)
        elif namespace is None or value.name not in namespace:
            raise CallError(f"NameError: the function {value.name!r} is not defined")
        else:
            func = namespace[value.name]
        if not value.bound:
            return func
        bound = tuple(_resolve(b, namespace) for b in value.bound)
        return lambda first: func(first, *bound)
    return value.copy() if isinstance(value, np.ndarray) else value


@dataclass(frozen=True)
class Mismatch:
    """How an answer differs from what a case expects.

    ``kind`` is ``"shape"`` (a wrong shape or type, or a wrong number of results)
    or ``"values"``; ``message`` says where, as the checks word it.  The kind is data
    of its own, so that rewording a message changes no classification.
    """

    kind: Literal["values", "shape"]
    message: str


def mismatch(case: Case, got: Any) -> Mismatch | None:
    """Return ``None`` when ``got`` answers the case, else how it differs.

    A ``judge`` may return a :class:`Mismatch`, or a message (a wrong value).  The
    message names the first wrong entry, the input that produced it, the expected
    value and the value received.
    """
    if case.judge is not None:
        verdict = case.judge(got)
        return Mismatch("values", verdict) if isinstance(verdict, str) else verdict
    if isinstance(case.expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(case.expected):
            return Mismatch(
                "shape", f"expected a tuple of {len(case.expected)} results, got {_describe(got)}"
            )
        for position, (part, expected_part) in enumerate(zip(got, case.expected, strict=True)):
            wrong = mismatch(replace(case, expected=expected_part), part)
            if wrong is not None:
                return Mismatch(wrong.kind, f"result [{position}]: {wrong.message}")
        return None
    expected = np.asarray(case.expected)
    try:
        got_array = np.asarray(got)
    except Exception as exc:
        return Mismatch(
            "shape", f"the result could not be read as an array ({type(exc).__name__}: {exc})"
        )
    if got_array.dtype.kind not in "biuf":
        return Mismatch("shape", f"expected a numeric result, got {_describe(got)}")
    if got_array.shape != expected.shape:
        return Mismatch("shape", f"expected shape {expected.shape}, got shape {got_array.shape}")
    got_array = got_array.astype(np.float64)
    expected = expected.astype(np.float64)
    with np.errstate(all="ignore"):
        close = np.isclose(got_array, expected, rtol=case.rtol, atol=case.atol, equal_nan=True)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    where = f" at index {list(index)}" if index else ""
    n_wrong = int((~close).sum())
    also = f" ({n_wrong} of {close.size} entries are wrong)" if close.size > 1 else ""
    return Mismatch(
        "values",
        f"{describe_input(case, index)}{where}: expected {expected[index]!r}, "
        f"got {got_array[index]!r}{also}",
    )


def compare(case: Case, got: Any) -> str | None:
    """Return ``None`` when ``got`` answers the case, else a message saying how it differs.

    The message of :func:`mismatch`, which nbgrader's hidden test cells raise.
    """
    wrong = mismatch(case, got)
    return None if wrong is None else wrong.message


def describe_input(case: Case, index: tuple[int, ...] = ()) -> str:
    """The case's input, in a few words; with ``index``, the entry there when shapes match."""
    parts = []
    for value in case.args:
        array = np.asarray(value)
        if index and array.shape == np.shape(case.expected):
            parts.append(f"x{list(index)} = {array[index]!r}")
        else:
            parts.append(_describe(value))
    parts += [f"{k}={_describe(v)}" for k, v in case.kwargs.items()]
    return "input " + ", ".join(parts) if parts else "your answer"


def _describe(value: Any) -> str:
    if isinstance(value, Function):
        owner = "your" if value.of == "student" else "the reference"
        bound = "".join(f", {_describe(b)}" for b in value.bound)
        return f"{owner} {value.name}" + (f"(·{bound})" if bound else "")
    array = np.asarray(value) if isinstance(value, np.ndarray | np.generic) else None
    if array is None:
        return repr(value)
    text = np.array2string(array, threshold=12, edgeitems=3, precision=17)
    if array.ndim == 0:
        return f"{text} ({array.dtype})"
    return f"{text} (shape {array.shape}, {array.dtype})"
