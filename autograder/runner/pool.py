"""The grader's side of the sandbox: zygotes, jobs, time limits, and what came back.

:class:`Sandbox` owns one zygote (:mod:`autograder.runner.zygote`) and runs one
:class:`Task` at a time in a fresh worker forked from it; :class:`SandboxPool`
runs tasks on several sandboxes in parallel.  Everything a worker sends is read
from a pipe with a size cap and decoded by :mod:`autograder.runner.wire` (no
pickle, no eval), then checked against the shape of the protocol before the
grader uses it.  The wall-clock limit is enforced here: when it passes, the
zygote kills the worker's whole process tree.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.runner import wire, zygote

#: The grading package's folder, and the folder that holds it (the course's, in a checkout).
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
PACKAGE_PARENT = str(Path(PACKAGE_DIR).parent)
#: How long a zygote may take to start (importing the preloaded libraries).
START_SECONDS = 60.0
#: How long after a kill request the zygote has to report the worker's exit.
KILL_GRACE_SECONDS = 10.0
MAX_SLOTS = 64


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    ``timeout`` is wall-clock seconds for the whole submission; ``memory_mb`` the
    address space it may add to the pre-loaded interpreter; ``processes`` the
    processes it may run at once; ``file_size_mb`` the largest file it may write
    and ``workdir_mb`` all its files together (where a private tmpfs is
    available); ``output_mb`` what its worker may send back; ``text_kb`` the
    printed output kept per cell; ``answer_mb`` the largest single answer.
    """

    timeout: float = 10.0
    memory_mb: int = 1024
    processes: int = 32
    file_size_mb: int = 64
    workdir_mb: int = 128
    output_mb: int = 64
    text_kb: int = 64
    answer_mb: int = 16


@dataclass
class Task:
    """One submission's code and the calls to make.

    ``cells`` are ``{"index": int, "source": str}`` run in order; ``groups`` are
    ``{"name": str, "function": str, "cases": [{"args": tuple, "kwargs": dict}]}``
    whose arguments are arrays, numbers, strings or :class:`wire.FunctionRef`, and
    optionally ``"warnings": "as-shown"`` (see :meth:`worker.Session._call`; the
    default is ``"strict"``).
    ``data_files`` (file name: content) are written into the worker's working folder
    first: the worker itself reads nothing of the instructor's folders.
    """

    cells: list[dict[str, Any]]
    groups: list[dict[str, Any]] = field(default_factory=list)
    data_files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Answer:
    """What one call returned (``value``) or why it did not.

    ``error`` is the exception as ``Type: message``; ``exception`` its type's name
    alone and ``kind`` a word for what went wrong (``"error"``, ``"timeout"``,
    ``"memory"``...), each a field of its own so that nothing is read back out of
    the message.
    """

    value: Any = None
    error: str | None = None
    kind: str | None = None
    exception: str | None = None


@dataclass
class GroupResult:
    """The answers of one group of calls; ``missing`` when the function was not there."""

    name: str
    missing: str | None
    answers: list[Answer]


@dataclass
class CellError:
    """Why a cell stopped: the exception's type and message, the traceback of the
    student's cells, and ``kind``, a word for what went wrong (``"syntax"``,
    ``"timeout"``, ``"memory"``, ``"exit"``, ``"interrupt"``, ``"not-implemented"``,
    ``"process-limit"``, ``"error"``)."""

    type: str
    message: str
    traceback: str
    kind: str


@dataclass
class CellReport:
    """One code cell's run: its error, if any, and what it printed."""

    index: int
    seconds: float = 0.0
    output: str = ""
    dropped: int = 0
    error: CellError | None = None


@dataclass
class Outcome:
    """Everything known about one task's run.

    ``ended`` is ``"finished"``, ``"timeout"``, ``"crashed"``, ``"too-much-output"``
    or ``"sandbox-error"``; ``detail`` says more in a sentence.  ``pid`` is the
    worker's pid in its PID namespace where it has one (in a view); ``view_seconds``
    is what its part of the view cost it.
    """

    ended: str
    detail: str = ""
    cells: list[CellReport] = field(default_factory=list)
    groups: dict[str, GroupResult] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolation: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    seconds: float = 0.0
    max_rss_mb: float | None = None
    cpu_seconds: float | None = None
    stragglers: int = 0
    pid: int | None = None
    uid: int | None = None
    view_seconds: float | None = None


class Sandbox:
    """One zygote and the tasks it runs, one at a time.

    Parameters
    ----------
    limits
        Applied to every task.
    preload
        Modules the zygote imports before forking (NumPy and whatever the
        course's notebooks import), so that workers start with them loaded.
    slot
        Index of this sandbox in its pool; with ``run_id``, names the zygote in
        ``/proc`` and chooses its unprivileged uid.
    namespaces, drop_uid
        Ask for the workers' view (namespaces and a root of their own, see
        :mod:`autograder.runner.view`), and for an unprivileged uid when running as
        root.  Where the system refuses namespaces, workers run without a view
        (refused as root unless ``allow_no_view``), and :attr:`Outcome.isolation`
        says what held.
    allow_no_view
        As root, grade even where no view can be made (the instructor's
        ``--unsafe-no-view``): student code then sees the machine's files.
    hide
        Paths student code must not see besides the grading package and the course
        folder (the submissions and the output folder): never part of the view, and
        covered where they lie inside a folder it binds.
    forbidden_modules, reference_module
        The package student code must not import, and the module whose
        functions a case may pass to the student's function.
    preload_reference
        Import ``reference_module`` in the zygote, so that workers need not each
        import it.  Its functions are then in every worker's memory (out of
        ``sys.modules``): ask for it only when every task passes some of them to
        student code anyway.
    wait
        Wait here until the zygote is ready (False: the caller calls
        :meth:`wait_ready`, so that several zygotes import their libraries at once).
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        preload: Iterable[str] = ("numpy",),
        slot: int = 0,
        run_id: str | None = None,
        namespaces: bool = True,
        drop_uid: bool = True,
        allow_no_view: bool = False,
        hide: Iterable[str] = (),
        forbidden_modules: tuple[str, ...] = ("autograder",),
        reference_module: str | None = "autograder.reference",
        preload_reference: bool = False,
        wait: bool = True,
    ):
        if not 0 <= slot < MAX_SLOTS:
            raise ValueError(f"slot must be in [0, {MAX_SLOTS})")
        self.limits = limits or Limits()
        self.slot = slot
        self.run_id = run_id or f"{os.getpid()}-{secrets.token_hex(4)}"
        self.forbidden_modules = forbidden_modules
        self.reference_module = reference_module
        self.forbidden_paths = [
            str(Path(PACKAGE_PARENT, *name.split("."))) + os.sep for name in forbidden_modules
        ]
        self.fallback: str | None = None
        # A uid per grader process and slot, far above ordinary users' (see the docs).
        uid = (1 << 30) | ((os.getpid() & 0x3FFFFF) << 6) | slot
        # The zygote's folder, and its workers' (removed with it, whatever happens to them).
        self._scratch = tempfile.mkdtemp(prefix="autograder-zygote-")
        os.chmod(self._scratch, 0o711)  # a worker with its own uid may enter its folder in it
        self.config = {
            "preload": list(dict.fromkeys(["numpy", *preload])),
            # Workers never read the course's own folder: it may stay private to the grader.
            "package_parent": PACKAGE_PARENT,
            "package_dir": PACKAGE_DIR,
            "hide": [PACKAGE_PARENT, *(str(Path(p).resolve()) for p in hide)],
            "reference_module": reference_module if preload_reference else None,
            "namespaces": namespaces,
            "allow_no_view": allow_no_view,
            "uid": uid if drop_uid else None,
            "forbidden_modules": list(forbidden_modules),
            "workdir_parent": self._scratch,
        }
        self.ready: dict[str, Any] = {}
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._closed = False
        try:
            self._launch()
        except BaseException:
            self.close()
            raise
        if wait:
            self.wait_ready()

    # -- the zygote ----------------------------------------------------------------------

    def _start(self) -> None:
        self._launch()
        self._await_ready()

    def _launch(self) -> None:
        """Start the zygote process; :meth:`_await_ready` waits until it has its imports."""
        if self._closed:
            # A run stopped (Ctrl-C) while this slot's thread was still grading: its zygote
            # was closed under it, and must not be replaced by one that outlives the run.
            raise SandboxClosed(f"the sandbox of slot {self.slot} was closed")
        ours, theirs = socket.socketpair()
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": os.environ.get("HOME", self._scratch),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "MPLBACKEND": "Agg",
            # One thread per worker: the machine's cores are shared between the slots.
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        command = zygote.command(self.run_id, self.slot, theirs.fileno())
        try:
            self._process = subprocess.Popen(
                command,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=PACKAGE_PARENT,  # where it finds the package; it moves to its scratch
                env=env,
                start_new_session=True,  # Ctrl-C reaches the grader only
            )
        finally:
            theirs.close()
        self._control = ours
        if self._closed:  # closed while it started: stop it here, nobody else will
            self._stop()
            raise SandboxClosed(f"the sandbox of slot {self.slot} was closed")
        with contextlib.suppress(OSError):  # a zygote that died at once shows when awaited
            ours.sendall(wire.encode(self.config))
        self._replies = wire.FrameReader(1 << 30)
        self._pending: list[dict[str, Any]] = []

    def _await_ready(self) -> None:
        ready = self._next_reply(time.monotonic() + START_SECONDS)
        if ready is None or ready.get("type") != "ready":
            self._stop()
            raise RuntimeError("the grading sandbox could not start a worker process")
        if ready.get("view_failed"):
            # Namespaces were granted but the view could not be assembled (a kernel or a
            # security module that allows a user namespace without its capabilities): a
            # zygote without a view, where that is allowed, with the reason on record.
            self._stop()
            self.fallback = f"no view: {ready['view_failed']}"
            if os.geteuid() == 0 and not self.config["allow_no_view"]:
                raise RuntimeError(
                    f"the grading sandbox could not make the workers' view "
                    f"({ready['view_failed']}), and as root it refuses to grade without one: "
                    f"{zygote.confine.UNSAFE_OPTION} grades anyway, at that risk"
                )
            self.config["namespaces"] = False
            self._launch()
            return self._await_ready()
        if ready.get("refused"):
            self._stop()
            raise RuntimeError(str(ready["refused"]))
        if self.fallback:
            ready.setdefault("reasons", []).append(self.fallback)
        self.ready = ready

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(timeout=REAP_WAIT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
            self._process = None

    def _restart(self, worker: int | None = None) -> None:
        """Replace a zygote that died or stopped answering, killing its worker first.

        The worker, still its zygote's unreaped child, keeps its pid and process
        group until then, so killing them by number cannot hit another process.
        """
        if worker is not None and self._process is not None and self._process.poll() is None:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(worker, signal.SIGKILL)
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._stop()
        self._start()

    def wait_ready(self) -> None:
        """Wait for a zygote started with ``wait=False``; RuntimeError if it cannot start."""
        if not self.ready:
            try:
                self._await_ready()
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        """Stop the zygote (it kills its current worker first); it is not started again."""
        self._closed = True
        self._stop()
        zygote.remove_tree(self._scratch)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _next_reply(self, deadline: float) -> dict[str, Any] | None:
        """The zygote's next message, or None if it is gone or silent until ``deadline``."""
        while not self._pending:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self._control], [], [], wait)[0]:
                return None
            try:
                data = self._control.recv(1 << 16)
                if not data:
                    return None
                self._pending += self._replies.feed(data)
            except (OSError, wire.ProtocolError):
                return None
        reply = self._pending.pop(0)
        return reply if isinstance(reply, dict) else None

    # -- a task --------------------------------------------------------------------------

    def run(self, task: Task) -> Outcome:
        """Run ``task`` in a fresh worker; never raises for anything the submission does."""
        job = {
            "cells": task.cells,
            "groups": task.groups,
            "data_files": {
                name: np.frombuffer(data, dtype=np.uint8) for name, data in task.data_files.items()
            },
            "limits": asdict(self.limits),
            "forbidden_modules": list(self.forbidden_modules),
            "forbidden_paths": self.forbidden_paths,
            "reference_module": self.reference_module,
        }
        payload = wire.encode(job)
        if self._process is None or self._process.poll() is not None:
            self._restart()
        read_end, write_end = os.pipe()
        started = time.monotonic()
        try:
            header = zygote.REQUEST.pack(zygote.JOB, len(payload))
            socket.send_fds(self._control, [header], [write_end])
            self._control.sendall(payload)
        except OSError:
            os.close(read_end)
            self._restart()
            return Outcome("sandbox-error", "the sandbox stopped; it was restarted")
        finally:
            os.close(write_end)
        try:
            return self._collect(task, read_end, started)
        finally:
            os.close(read_end)

    def _collect(self, task: Task, read_end: int, started: float) -> Outcome:
        outcome = Outcome("finished", uid=self.ready.get("uid"))
        protocol = _Protocol(task, outcome)
        reader = wire.FrameReader(self.limits.output_mb << 20)
        deadline = started + self.limits.timeout
        kill_sent_at = None
        pipe_open, exited = True, None
        os.set_blocking(read_end, False)
        while exited is None:
            now = time.monotonic()
            # A worker that said it is done gets a moment to exit before it is killed.
            limit = deadline + (2.0 if protocol.done else 0.0)
            if kill_sent_at is None and now >= limit:
                kill_sent_at = self._kill(outcome, "timeout", self._timeout_detail())
            if kill_sent_at is not None:
                limit = kill_sent_at + KILL_GRACE_SECONDS
                if now > limit:
                    outcome.ended, outcome.detail = "sandbox-error", "the sandbox did not respond"
                    self._restart(outcome.pid)
                    return outcome
            wait = limit - now
            watched = [self._control] + ([read_end] if pipe_open else [])
            if self._pending:
                readable = [self._control]
            else:
                readable = select.select(watched, [], [], max(0.0, wait))[0]
            if read_end in readable:
                pipe_open = self._read_pipe(read_end, reader, protocol, outcome)
                if outcome.ended in ("too-much-output", "crashed") and kill_sent_at is None:
                    kill_sent_at = self._kill(outcome, outcome.ended, outcome.detail)
            if self._control in readable:
                reply = self._next_reply(time.monotonic() + 1.0)
                if reply is None:
                    outcome.ended, outcome.detail = "sandbox-error", "the sandbox stopped"
                    self._restart()
                    return outcome
                if reply.get("type") == "started":
                    outcome.pid = reply.get("pid")
                elif reply.get("type") == "exited":
                    exited = reply
        # Everything that could write to the pipe is dead now: take what is left.
        while pipe_open and select.select([read_end], [], [], 1.0)[0]:
            pipe_open = self._read_pipe(read_end, reader, protocol, outcome)
        outcome.exit_code = exited.get("code")
        outcome.stragglers += int(exited.get("stragglers") or 0)
        if exited.get("max_rss_kb") is not None:
            outcome.max_rss_mb = round(exited["max_rss_kb"] / 1024, 1)
        if exited.get("cpu_seconds") is not None:
            outcome.cpu_seconds = float(exited["cpu_seconds"])
        outcome.seconds = round(time.monotonic() - started, 4)
        if outcome.ended == "finished" and not protocol.done:
            outcome.ended = "crashed"
            outcome.detail = _exit_detail(outcome.exit_code)
        return outcome

    def _timeout_detail(self) -> str:
        return f"the submission ran for more than {self.limits.timeout:g} s and was stopped"

    def _kill(self, outcome: Outcome, ended: str, detail: str) -> float:
        if outcome.ended == "finished":
            outcome.ended, outcome.detail = ended, detail
        with contextlib.suppress(OSError):
            self._control.sendall(zygote.REQUEST.pack(zygote.KILL, 0))
        return time.monotonic()

    def _read_pipe(self, fd: int, reader, protocol: _Protocol, outcome: Outcome) -> bool:
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            return True
        if not data:
            return False
        if outcome.ended in ("too-much-output", "crashed") and protocol.broken:
            return True  # discard: the stream is no longer trusted
        try:
            for message in reader.feed(data):
                protocol.accept(message)
        except wire.ProtocolError as exc:
            protocol.broken = True
            if isinstance(exc, wire.TooLarge):
                outcome.ended = "too-much-output"
                outcome.detail = f"the worker sent more than {self.limits.output_mb} MiB"
            else:
                outcome.ended, outcome.detail = "crashed", f"the worker sent malformed data ({exc})"
        return True


REAP_WAIT = 10.0


def _exit_detail(code: int | None) -> str:
    if code is None:
        return "the worker ended before finishing"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker was killed by {name} before finishing"
    return f"the worker exited (code {code}) before finishing, e.g. through os._exit"


class _Protocol:
    """Checks the order and shape of a worker's messages and files them in an Outcome."""

    def __init__(self, task: Task, outcome: Outcome):
        self.outcome = outcome
        self.expected_groups = [g["name"] for g in task.groups]
        self.cells_seen = False
        self.done = False
        self.reaped = False
        self.broken = False

    def accept(self, message: Any) -> None:
        if self.broken:
            return
        if not isinstance(message, dict) or self.reaped:
            raise wire.ProtocolError("unexpected message")
        kind = message.get("type")
        if kind == "refused" and not self.cells_seen and not self.done:
            # The worker would not run the code (see worker.SandboxRefused): the grader's
            # sandbox is at fault, not the submission.
            self.done = True
            self.outcome.ended = "sandbox-error"
            self.outcome.detail = _text(_expect(message.get("reason"), str), 500)
        elif kind == "reaped":
            # From the PID namespace's init, after the session ended: the last message.
            self.reaped = True
            self.outcome.stragglers += _expect(message.get("stragglers"), int)
        elif self.done:
            raise wire.ProtocolError("a message after the end")
        elif kind == "cells" and not self.cells_seen:
            self.cells_seen = True
            self._cells(message)
        elif kind == "group" and self.cells_seen:
            self._group(message)
        elif kind == "done" and self.cells_seen:
            self.done = True
            self._modules(message)
        else:
            raise wire.ProtocolError(f"unexpected message {kind!r}")

    def _cells(self, message: dict[str, Any]) -> None:
        cells = _expect(message.get("cells"), list)
        for cell in cells:
            cell = _expect(cell, dict)
            error = cell.get("error")
            if error is not None:
                error = _expect(error, dict)
                error = CellError(
                    type=_text(_expect(error.get("type"), str)),
                    message=_text(_expect(error.get("message"), str), 100_000),
                    traceback=_text(_expect(error.get("traceback"), str), 100_000),
                    kind=_text(_expect(error.get("kind"), str)),
                )
            self.outcome.cells.append(
                CellReport(
                    index=_expect(cell.get("index"), int),
                    seconds=float(_expect(cell.get("seconds", 0.0), int | float)),
                    output=_text(_expect(cell.get("output", ""), str), 1_000_000),
                    dropped=_expect(cell.get("dropped", 0), int),
                    error=error,
                )
            )
        self.outcome.notes += [_text(n) for n in _expect(message.get("notes", []), list)]
        isolation = _expect(message.get("isolation", {}), dict)
        self.outcome.isolation = {_text(k): _text(_expect(v, str)) for k, v in isolation.items()}
        self.outcome.view_seconds = float(_expect(message.get("view_seconds", 0.0), int | float))
        self._modules(message)

    def _modules(self, message: dict[str, Any]) -> None:
        for key in ("modules", "seen"):
            for name in _expect(message.get(key, []), list):
                name = _text(_expect(name, str))
                if name not in self.outcome.modules:
                    self.outcome.modules.append(name)

    def _group(self, message: dict[str, Any]) -> None:
        name = _expect(message.get("name"), str)
        if name not in self.expected_groups or name in self.outcome.groups:
            raise wire.ProtocolError(f"unexpected group {name!r}")
        missing = message.get("missing")
        if missing is not None:
            missing = _text(_expect(missing, str))
        answers = []
        for raw in _expect(message.get("answers", []), list):
            raw = _expect(raw, dict)
            if "value" in raw:
                answers.append(Answer(value=raw["value"]))
            else:
                answers.append(
                    Answer(
                        error=_text(_expect(raw.get("error"), str)),
                        kind=_text(_expect(raw.get("kind", "error"), str)),
                        exception=_text(_expect(raw.get("exception", "Exception"), str), 80),
                    )
                )
        self.outcome.groups[name] = GroupResult(name, missing, answers)


def _expect(value: Any, kind) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise wire.ProtocolError(f"expected {kind}, got {type(value).__name__}")
    return value


def _text(value: Any, limit: int = 2000) -> str:
    return str(value)[:limit]


class SandboxClosed(RuntimeError):
    """A closed sandbox was asked to start a zygote again."""


class SandboxPool:
    """Several sandboxes grading in parallel, one thread each.

    Parameters
    ----------
    jobs
        How many tasks run at once (one zygote each).
    **options
        Passed to every :class:`Sandbox`.
    """

    def __init__(self, jobs: int = 1, **options: Any):
        if not 1 <= jobs <= MAX_SLOTS:
            raise ValueError(f"jobs must be between 1 and {MAX_SLOTS}")
        run_id = options.pop("run_id", None) or f"{os.getpid()}-{secrets.token_hex(4)}"
        self.sandboxes: list[Sandbox] = []
        try:
            # All zygotes import their libraries at once, then the pool waits for each.
            for slot in range(jobs):
                self.sandboxes.append(Sandbox(slot=slot, run_id=run_id, wait=False, **options))
            for sandbox in self.sandboxes:
                sandbox.wait_ready()
        except BaseException:
            self.close()
            raise
        self.run_id = run_id

    def map_unordered(
        self, work: Callable[[Sandbox, Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, work(sandbox, item))`` as each item finishes, in any order.

        ``work`` must not raise; if it does, the exception is yielded as the result.
        """
        todo: queue.Queue = queue.Queue()
        done: queue.Queue = queue.Queue()
        count = 0
        for item in items:
            todo.put(item)
            count += 1

        def serve(sandbox: Sandbox) -> None:
            while True:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = work(sandbox, item)
                except Exception as exc:  # pragma: no cover - a bug in the caller's work
                    result = exc
                done.put((item, result))

        threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in self.sandboxes]
        self._threads = threads
        for thread in threads:
            thread.start()
        try:
            for _ in range(count):
                yield done.get()
        finally:  # also when the consumer stops early (Ctrl-C): no thread takes another item
            with contextlib.suppress(queue.Empty):
                while True:
                    todo.get_nowait()
        for thread in threads:
            thread.join()

    def close(self) -> None:
        """Stop every zygote, then wait for the threads still grading to see them gone."""
        for sandbox in self.sandboxes:
            sandbox.close()
        for thread in getattr(self, "_threads", []):
            thread.join(timeout=REAP_WAIT + KILL_GRACE_SECONDS)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
