"""What runs in a sandboxed worker: one submission's cells, then calls of its functions.

A worker is a process forked by a zygote (:mod:`autograder.runner.zygote`) for
one submission only.  :func:`serve` confines the process
(:func:`autograder.runner.confine.enter_sandbox`), runs
the notebook's code cells in order in one namespace as Jupyter would, then calls
the named functions on the inputs it was given, and streams what happened back
to the grader as :mod:`~autograder.runner.wire` frames on one file descriptor:

1. ``{"type": "cells", ...}``: per cell, its error (if any) and captured output,
   and which forbidden modules the code imported;
2. ``{"type": "group", ...}`` per group of calls, as soon as it is done, so that
   a later timeout or crash does not lose what was verified before it;
3. ``{"type": "done", ...}``.

The worker never sees an expected answer: it only returns what the student's
functions returned, as plain data; the grader compares.  It never imports the
grading package either (the zygote removed it from ``sys.modules``), so that
importing it from student code is visible: statically in the source, in
``sys.modules`` after the cells ran, and through an audit hook that sees every
import and every opened file while student code runs.
"""

from __future__ import annotations

import builtins
import errno
import io
import linecache
import os
import signal
import sys
import time
import traceback
import warnings
from typing import Any, NoReturn

import numpy as np

from autograder.packages import belongs_to
from autograder.runner import wire
from autograder.runner.confine import (
    Confinement,
    SandboxRefused,
    SandboxSettings,
    enter_sandbox,
)

#: Shares of the wall-clock budget: cells must end by the first, calls by the second;
#: the grader kills the whole process tree at the full budget.
CELLS_SHARE = 0.7
CALLS_SHARE = 0.9
# Taken now, in the zygote: a student who rebinds np.errstate or warnings.simplefilter
# changes the module's attribute, not what the worker calls.
_ERRSTATE = np.errstate
_CATCH_WARNINGS = warnings.catch_warnings
_SIMPLEFILTER = warnings.simplefilter
_FILTERWARNINGS = warnings.filterwarnings
#: Warnings that are not errors in a hidden check's calls: notices about an API, as
#: ``autograder.checks.API_NOTICES`` (a test checks they agree; the worker does not import
#: the checks).
API_NOTICES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
#: Warnings Python's default filters hide in a notebook (deprecations only outside its code).
HIDDEN_BY_JUPYTER = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


class SoftTimeout(BaseException):
    """Raised in student code by the worker's alarm when its share of time is over."""


def serve(job_bytes: bytes, result_fd: int, workdir: str, settings: SandboxSettings) -> NoReturn:
    """Run one job in this freshly forked process, then exit; never returns."""
    code = 0
    try:
        job = wire.decode(job_bytes)
        try:
            confinement = enter_sandbox(job, result_fd, workdir, settings)
        except SandboxRefused as refusal:
            Channel(result_fd).send({"type": "refused", "reason": str(refusal)})
            os._exit(0)
        Session(job, Channel(result_fd), confinement).run()
    except BaseException:  # pragma: no cover - reported as a crash by the grader
        code = 70
    finally:
        os._exit(code)


class Channel:
    """Writes frames to the grader; only the worker process itself may write."""

    def __init__(self, fd: int):
        self.fd = fd
        self.pid = os.getpid()

    def send(self, message: dict[str, Any]) -> None:
        if os.getpid() != self.pid:  # a fork of the student's: not ours to report
            os._exit(0)
        data = memoryview(wire.encode(message))
        while data:
            try:
                written = os.write(self.fd, data)
            except InterruptedError:  # pragma: no cover
                continue
            except OSError:  # the grader is gone: nothing left to do
                os._exit(0)
            data = data[written:]


# --------------------------------------------------------------------------- execution


class Capture(io.TextIOBase):
    """A text stream keeping the first ``limit`` characters written to it."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        return "".join(self.parts)


class IPythonStub:
    """What ``get_ipython()`` returns: magics called through it are recorded, not run."""

    HARMLESS = frozenset({"matplotlib", "config", "load_ext", "reload_ext", "autoreload"})

    def __init__(self, notes: list[str]):
        self._notes = notes

    def run_line_magic(self, name: str, line: str = "", *args: Any, **kwargs: Any) -> None:
        if name not in self.HARMLESS:
            self._notes.append(f"get_ipython().run_line_magic({name!r}, ...) was not run")

    def run_cell_magic(self, name: str, line: str = "", cell: str = "", *args, **kwargs) -> None:
        self._notes.append(f"get_ipython().run_cell_magic({name!r}, ...) was not run")

    def system(self, command: str, *args: Any, **kwargs: Any) -> None:
        self._notes.append("get_ipython().system(...) was not run")

    def __getattr__(self, name: str):
        def ignored(*args: Any, **kwargs: Any) -> None:
            self._notes.append(f"get_ipython().{name}(...) was not run")

        return ignored


class _ImportWatch:
    """A meta path finder that finds nothing: it tells the session which modules are sought."""

    def __init__(self, session: Session):
        self._session = session

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        self._session._attempted(name)
        return None


class Session:
    """One submission's run inside the worker: cells, then groups of calls."""

    def __init__(self, job: dict[str, Any], channel: Channel, confinement: Confinement):
        self.job = job
        self.reference = confinement.reference
        self.channel = channel
        self.isolation = confinement.held
        self.view_seconds = confinement.view_seconds
        self.pid = os.getpid()
        self.start = time.monotonic()
        self.budget = float(job["limits"]["timeout"])
        self.text_limit = int(job["limits"]["text_kb"]) << 10
        self.forbidden = tuple(job.get("forbidden_modules", ()))
        self.forbidden_paths = tuple(job.get("forbidden_paths", ()))
        self.watching = False
        self.seen: list[str] = []
        self.notes: list[str] = []
        self._last_capture = Capture(0)
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": builtins,
            "get_ipython": lambda: IPythonStub(self.notes),
            "display": lambda *objects, **kwargs: print(*objects),
        }
        sys.addaudithook(self._audit)
        # importlib.import_module raises no "import" audit event, and where the package is
        # out of the worker's sight nothing is opened either: a finder that only watches
        # sees every attempt to find a module that is not imported yet.
        sys.meta_path.insert(0, _ImportWatch(self))

    # -- detection of the forbidden package -------------------------------------------

    def _attempted(self, module: str) -> None:
        if self.watching and self._is_forbidden(module) and module not in self.seen:
            self.seen.append(module)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.watching:
            return
        if event == "import" and args and isinstance(args[0], str):
            self._attempted(args[0])
        elif event == "open" and args and isinstance(args[0], str | bytes):
            path = os.fsdecode(args[0])
            if any(path.startswith(p) for p in self.forbidden_paths) and path not in self.seen:
                self.seen.append(path)

    def _is_forbidden(self, module: str) -> bool:
        return belongs_to(module, self.forbidden)

    def _forbidden_modules(self) -> list[str]:
        return sorted(m for m in list(sys.modules) if self._is_forbidden(m))

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        signal.signal(signal.SIGALRM, self._alarm)
        count = len(self.job["cells"])
        cells = [self._run_cell(cell, count - n - 1) for n, cell in enumerate(self.job["cells"])]
        modules = self._forbidden_modules()
        self.channel.send(
            {
                "type": "cells",
                "cells": cells,
                "modules": modules,
                "seen": list(self.seen),
                "notes": list(self.notes),
                "isolation": self.isolation,
                "view_seconds": self.view_seconds,
            }
        )
        if not (modules or self.seen):
            self._run_groups()
        self.channel.send(
            {"type": "done", "modules": self._forbidden_modules(), "seen": list(self.seen)}
        )

    def _alarm(self, signum: int, frame: Any) -> None:
        raise SoftTimeout()

    def _remaining(self, share: float) -> float:
        return self.start + share * self.budget - time.monotonic()

    def _guarded(self, seconds: float, action):
        """Run ``action`` as student code for at most ``seconds``.

        Returns ``("ok", value)`` or ``("raised", exception)``.
        """
        if seconds <= 0:
            return "raised", SoftTimeout()
        signal.signal(signal.SIGALRM, self._alarm)
        capture = Capture(self.text_limit)
        try:
            sys.stdout = sys.stderr = capture
            self.watching = True
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                outcome = "ok", action()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self.watching = False
        except BaseException as exc:
            self.watching = False
            outcome = "raised", exc
        finally:
            sys.stdout = sys.stderr = Capture(0)
        if os.getpid() != self.pid:  # a fork made by student code returned here: end it
            os._exit(0)
        self._last_capture = capture
        return outcome

    def _run_cell(self, cell: dict[str, Any], later: int) -> dict[str, Any]:
        index, source = cell["index"], cell["source"]
        filename = f"<cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        report: dict[str, Any] = {"index": index, "error": None, "output": "", "dropped": 0}
        started = time.monotonic()
        try:
            code = compile(source, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            report["error"] = self._describe(exc, "syntax")
            report["seconds"] = 0.0
            return report
        # A cell that never ends must leave some time to the cells after it.
        remaining = self._remaining(CELLS_SHARE)
        reserve = min(0.5 * remaining, 0.05 * self.budget * later)
        outcome, value = self._guarded(remaining - reserve, lambda: exec(code, self.namespace))
        report["seconds"] = round(time.monotonic() - started, 4)
        report["output"] = self._last_capture.text()
        report["dropped"] = self._last_capture.dropped
        if outcome == "raised":
            report["error"] = self._describe(value, _kind(value))
        return report

    def _run_groups(self) -> None:
        groups = self.job["groups"]
        for position, group in enumerate(groups):
            share = self._remaining(CALLS_SHARE) / (len(groups) - position)
            deadline = time.monotonic() + share
            self.channel.send({"type": "group", **self._run_group(group, deadline)})

    def _run_group(self, group: dict[str, Any], deadline: float) -> dict[str, Any]:
        result: dict[str, Any] = {"name": group["name"], "missing": None, "answers": []}
        if group.get("kind") == "value":  # an answer held by a variable: its value, as data
            if group["function"] not in self.namespace:
                result["missing"] = "not-defined"
                return result
            answer = self.namespace[group["function"]]
            limit = self.job["limits"]["answer_mb"] << 20
            outcome, value = self._guarded(
                deadline - time.monotonic(), lambda: to_plain(answer, limit)
            )
            result["answers"] = [
                {"value": value}
                if outcome == "ok"
                else {
                    "error": _one_line(value),
                    "kind": _kind(value),
                    "exception": _type_name(value),
                }
                for _ in group["cases"]
            ]
            return result
        func = self.namespace.get(group["function"])
        if func is None:
            result["missing"] = "not-defined"
            return result
        if not callable(func):
            result["missing"] = f"not-callable: {type(func).__name__}"
            return result
        as_shown = group.get("warnings") == "as-shown"
        for case in group["cases"]:
            result["answers"].append(self._call(func, case, deadline, as_shown))
        return result

    def _call(self, func, case: dict[str, Any], deadline: float, as_shown=False) -> dict[str, Any]:
        """One call, with the semantics of ``autograder.checks.core.call_case``.

        Floating-point overflow, invalid operations and division by zero raise,
        underflow does not; other warnings are errors, but notices about an API.  With
        ``as_shown``, the warnings that are errors are instead those Jupyter would show
        (as in a notebook's visible test cell, which nbgrader fails when it writes to
        stderr).  Array inputs are fresh copies; functions named by the case are the
        reference's or the student's.
        """
        try:
            args = [self._resolve(v) for v in case["args"]]
            kwargs = {k: self._resolve(v) for k, v in case["kwargs"].items()}
        except NameError as exc:
            return {"error": f"NameError: {exc}", "kind": "error", "exception": "NameError"}

        def attempt():
            with _CATCH_WARNINGS():
                _SIMPLEFILTER("error")
                for notice in HIDDEN_BY_JUPYTER if as_shown else API_NOTICES:
                    _SIMPLEFILTER("ignore", notice)
                if as_shown:  # Jupyter shows the deprecations the notebook's own code causes
                    _FILTERWARNINGS("error", category=DeprecationWarning, module="__main__")
                with _ERRSTATE(over="raise", invalid="raise", divide="raise", under="ignore"):
                    value = func(*args, **kwargs)
            return to_plain(value, self.job["limits"]["answer_mb"] << 20)

        outcome, value = self._guarded(deadline - time.monotonic(), attempt)
        if outcome == "ok":
            return {"value": value}
        return {"error": _one_line(value), "kind": _kind(value), "exception": _type_name(value)}

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, wire.FunctionRef):
            if value.of == "reference" and self.reference is not None:
                func = getattr(self.reference, value.name)
            elif value.of == "student" and value.name in self.namespace:
                func = self.namespace[value.name]
            else:
                raise NameError(f"the function {value.name!r} is not defined")
            if not value.bound:
                return func
            bound = tuple(self._resolve(b) for b in value.bound)
            return lambda first: func(first, *bound)
        return value.copy() if isinstance(value, np.ndarray) else value

    def _describe(self, exc: BaseException, kind: str) -> dict[str, Any]:
        """Type, message and a traceback limited to the student's cells."""
        frames = [
            (frame, line)
            for frame, line in traceback.walk_tb(exc.__traceback__)
            if frame.f_code.co_filename != __file__
        ]
        try:
            lines = traceback.StackSummary.extract(iter(frames)).format()
            if isinstance(exc, SoftTimeout):
                lines.append(_one_line(exc) + "\n")
            else:
                lines += traceback.format_exception_only(type(exc), exc)
            text = "".join(lines)
        except BaseException:
            text = type(exc).__name__
        if frames:
            text = "Traceback (most recent call last):\n" + text
        return {
            "type": _type_name(exc),
            "message": _one_line(exc),
            "traceback": text[-self.text_limit :],
            "kind": kind,
        }


def _kind(exc: BaseException) -> str:
    """A word for what went wrong, which the grader turns into a status."""
    if isinstance(exc, SoftTimeout):
        return "timeout"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, SystemExit):
        return "exit"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt"
    if isinstance(exc, NotImplementedError):
        return "not-implemented"
    if isinstance(exc, SyntaxError):
        return "syntax"
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN:
        return "process-limit"
    return "error"


def _type_name(exc: BaseException) -> str:
    """The exception's type, as the student sees it (a time limit reads as TimeoutError)."""
    return "TimeoutError" if isinstance(exc, SoftTimeout) else type(exc).__name__


def _one_line(exc: BaseException) -> str:
    """``Type: message``, as ``call_case`` words it; the message is the student's, so guarded."""
    if isinstance(exc, SoftTimeout):
        return "TimeoutError: stopped, it ran past its share of the time limit"
    try:
        text = str(exc)
    except BaseException:
        text = "<the exception's message could not be read>"
    return f"{type(exc).__name__}: {text}"[:2000]


def to_plain(value: Any, max_bytes: int) -> Any:
    """The value as data the grader can receive: what ``numpy.asarray`` would see in it.

    Containers keep their kind (a tuple stays a tuple, for checks of several
    results); exact built-in numbers, strings and NumPy numbers pass as they are;
    anything else (array subclasses, objects with ``__array__``, numbers whose
    class redefines comparison) becomes the plain array NumPy makes of it, or a
    :class:`~autograder.runner.wire.Foreign` description when that is not numeric.
    """
    return _plain(value, max_bytes, 0)


def _plain(value: Any, max_bytes: int, depth: int) -> Any:
    kind = type(value)
    if value is None or kind in (bool, int, float, complex):
        return value if kind is not complex else np.complex128(value)
    if kind is str:
        return value[:2000]
    if kind is np.ndarray or kind in wire._NUMPY_SCALARS:
        if value.dtype.kind in "biufc":
            if value.nbytes > max_bytes:
                return wire.Foreign(f"<an array of shape {value.shape}, too large to check>")
            return value
        return wire.Foreign(f"<an array of dtype {value.dtype}>")
    if isinstance(value, tuple | list) and depth < wire.MAX_DEPTH and len(value) <= 10_000:
        items = [_plain(v, max_bytes, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and depth < wire.MAX_DEPTH and len(value) <= 10_000:
        return {str(k): _plain(v, max_bytes, depth + 1) for k, v in value.items()}
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is not None and type(array) is np.ndarray and array.dtype.kind in "biufc":
        return _plain(array, max_bytes, depth)
    try:
        text = repr(value)[:200]
    except Exception:
        text = "?"
    return wire.Foreign(f"<{kind.__name__} object: {text}>")
