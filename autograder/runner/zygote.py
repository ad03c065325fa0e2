"""A pre-warmed process that forks one sandboxed worker per submission.

The grader starts one zygote per parallel slot (``python -m`` is not used: see
:func:`command`).  A zygote imports NumPy and the libraries the course's
notebooks import, then waits on its control socket.  For each job it receives
the job's bytes and the write end of a fresh pipe, forks a worker
(:func:`autograder.runner.worker.serve`) that reports on that pipe, waits for
it, kills and reaps whatever the worker left behind, and reports the exit.

Forking from a process that has already imported NumPy is what makes grading
fast (no interpreter start-up per notebook), and forking from a zygote rather
than from the grader keeps the grader's memory (the checks, the reference, the
expected answers) out of reach of student code.  The zygote never runs student
code itself.

The zygote is a *subreaper*: a process that the submission double-forks to
escape its process group is re-parented to the zygote instead of ``init``, so
it can still be found and killed, and its exit reaped.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from typing import Any

from autograder.runner import system, wire
from autograder.runner.worker import SandboxSettings, private_ancestor, serve

#: Grader to zygote: a 4-byte verb and a payload size; a job carries the result pipe's fd.
REQUEST = struct.Struct("!4sQ")
JOB, KILL = b"JOB1", b"KILL"
MARKER = "autograder-zygote"
#: How long the zygote keeps killing what a worker left behind before giving up.
REAP_SECONDS = 5.0


def command(package_parent: str, run_id: str, slot: int, fd: int, config: dict) -> list[str]:
    """The command line that starts a zygote (``MARKER`` and ``run_id`` identify it in /proc)."""
    boot = (
        "import sys; sys.path.append(sys.argv[1]); "
        "from autograder.runner.zygote import main; main(sys.argv[2:])"
    )
    return [
        sys.executable,
        "-E",
        "-s",
        "-B",
        "-c",
        boot,
        package_parent,
        MARKER,
        run_id,
        str(slot),
        str(fd),
        json.dumps(config),
    ]


def main(argv: list[str]) -> None:
    """Entry point: ``MARKER run_id slot fd config_json``."""
    _, _, _, fd, config_json = argv
    config = json.loads(config_json)
    control = socket.socket(fileno=int(fd))
    # Ctrl-C is for the grader, which then shuts its zygotes down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        system.prctl(system.PR_SET_CHILD_SUBREAPER, 1)
        subreaper = True
    except OSError:
        subreaper = False
    preloaded, failed = preload(config.get("preload", []))
    settings, reasons = decide(config)
    if config.get("reference_module"):
        # Kept by the settings only: out of sys.modules below, like the rest of the package.
        try:
            settings.reference = importlib.import_module(config["reference_module"])
            preloaded.append(config["reference_module"])
        except Exception:
            failed.append(config["reference_module"])
    if settings.uid is not None:
        system.kill_all_of_uid(settings.uid)  # anything left by an earlier zygote of this slot
    refused = None
    if os.geteuid() == 0 and settings.uid is None and not _pid_namespace_possible(settings):
        refused = (
            "the sandbox refuses to run student code as root without a PID namespace, where "
            "its kill(-1) would stop every process of the machine: grade as a normal user, "
            "as root where namespaces are allowed (a VM, or a container allowed to unshare), "
            "or with a Python installation other users can read, so that workers get a uid "
            "of their own"
        )
    if settings.namespaces and os.geteuid() == 0:
        # One empty network namespace for all of this slot's workers, which run one at a time
        # and inherit it (its loopback is down, and a worker with its own uid cannot bring it
        # up): the same isolation as a namespace per worker, without its cost (about a tenth
        # of a simple notebook's grading).  The control socket, already open, keeps working.
        try:
            system.unshare(system.CLONE_NEWNET)
            settings.network_ready = True
        except OSError:
            pass
    forbidden = tuple(config.get("forbidden_modules", ()))
    for module in list(sys.modules):
        if any(module == p or module.startswith(p + ".") for p in forbidden):
            del sys.modules[module]
    gc.collect()
    gc.freeze()  # keeps forked workers from copying every page the collector touches
    _send(
        control,
        {
            "type": "ready",
            "pid": os.getpid(),
            "preloaded": preloaded,
            "failed": failed,
            "uid": settings.uid,
            "subreaper": subreaper,
            "reasons": reasons,
            "refused": refused,
        },
    )
    if refused:
        return
    serve_forever(control, settings, config.get("workdir_parent"))


def _pid_namespace_possible(settings: SandboxSettings) -> bool:
    """Whether a worker could make a PID namespace here (tried in a child that then exits)."""
    if not settings.namespaces:
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            system.unshare(system.CLONE_NEWPID)
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def preload(modules: list[str]) -> tuple[list[str], list[str]]:
    """Import ``modules`` now, so that workers find them already imported."""
    done, failed = [], []
    for name in modules:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:
            failed.append(name)
    return done, failed


def decide(config: dict[str, Any]) -> tuple[SandboxSettings, list[str]]:
    """How workers are confined here, and why something could not be used."""
    reasons = []
    namespaces = bool(config.get("namespaces", True)) and system.LINUX
    uid = config.get("uid")
    if uid is not None and os.geteuid() != 0:
        uid = None
        reasons.append("not root: workers keep the grader's uid")
    # Folders the interpreter reads from, which a worker must still reach.
    needed = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    needed |= {p for p in sys.path if p and os.path.isdir(p)}
    # Not the course's folder (the grading package, the solutions): everything workers use
    # from it is loaded before they drop root, so it may stay private to the grader.
    needed.discard(config.get("package_parent"))
    expose = []
    if namespaces:
        # A private /tmp would hide an interpreter or a package living under /tmp.
        expose += [p for p in needed if p.startswith(("/tmp/", "/dev/shm/"))]
    if uid is not None:
        hidden = [p for p in needed if private_ancestor(p) is not None]
        unreadable = [p for p in needed if os.stat(p).st_mode & 0o005 != 0o005]
        if unreadable:
            uid = None
            reasons.append(f"{unreadable[0]} is not readable by others: workers stay root")
        elif hidden and not namespaces:
            uid = None
            reasons.append(f"{hidden[0]} is in a private folder: workers stay root")
        else:
            expose += hidden
    # Only the outermost of nested folders needs exposing.
    expose = sorted(set(expose))
    expose = [p for p in expose if not any(p.startswith(q + os.sep) for q in expose)]
    return SandboxSettings(uid=uid, namespaces=namespaces, expose=expose), reasons


def serve_forever(
    control: socket.socket, settings: SandboxSettings, workdir_parent: str | None = None
) -> None:
    """Run jobs until the grader closes the control socket.

    Working folders go in ``workdir_parent``, which the grader removes when it
    closes the sandbox: whatever happens to this process, none is left behind.
    """
    while True:
        request = _receive_request(control)
        if request is None:
            return
        verb, size, fds = request
        if verb != JOB or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        payload = _receive_exactly(control, size)
        if payload is None:
            os.close(fds[0])
            return
        run_job(control, payload, fds[0], settings, workdir_parent)


def run_job(
    control: socket.socket, payload: bytes, result_fd: int, settings, workdir_parent=None
) -> None:
    """Fork a worker for one job, wait for it, clean up after it, report its exit."""
    workdir = tempfile.mkdtemp(prefix="job-", dir=workdir_parent)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        control.detach()
        serve(payload, result_fd, workdir, settings)
    os.close(result_fd)
    _send(control, {"type": "started", "pid": pid})
    status, rusage, grader_gone = _wait(control, pid)
    stragglers = reap(settings.uid)
    remove_tree(workdir)
    report = {
        "type": "exited",
        "pid": pid,
        "code": os.waitstatus_to_exitcode(status) if status is not None else None,
        "max_rss_kb": rusage.ru_maxrss if rusage is not None else None,
        "cpu_seconds": round(rusage.ru_utime + rusage.ru_stime, 4) if rusage is not None else None,
        "stragglers": stragglers,
        "seconds": round(time.monotonic() - started, 4),
    }
    if grader_gone:
        sys.exit(0)
    _send(control, report)


def _wait(control: socket.socket, pid: int):
    """Wait for the worker while obeying KILL requests; (status, rusage, grader_gone)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    grader_gone = False
    try:
        while True:
            watched = [control] + ([pidfd] if pidfd is not None else [])
            readable, _, _ = select.select(watched, [], [], None if pidfd is not None else 0.005)
            if control in readable:
                request = _receive_request(control)
                if request is None:
                    grader_gone = True
                for fd in request[2] if request else ():
                    os.close(fd)
                _kill_worker(pid)
            if pidfd is None or pidfd in readable or grader_gone:
                if pidfd is None and not grader_gone:
                    done, status, rusage = os.wait4(pid, os.WNOHANG)
                    if done == 0:
                        continue
                    return status, rusage, grader_gone
                # Still a zombie, so its process group id cannot have been reused yet.
                _kill_group(pid)
                _, status, rusage = os.wait4(pid, 0)
                return status, rusage, grader_gone
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _kill_worker(pid: int) -> None:
    # The worker is our unreaped child, so these ids cannot belong to anyone else.
    _kill_group(pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap(uid: int | None) -> int:
    """Kill and reap every process the last worker left behind; return how many there were.

    Thanks to the subreaper flag every such process is a descendant of this
    zygote; with a sandbox uid, ``kill(-1)`` under that uid also stops a fork
    bomb in one step.
    """
    seen: set[int] = set()
    deadline = time.monotonic() + REAP_SECONDS
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return len(seen)  # no child left at all, living or zombie
        if uid is not None:
            system.kill_all_of_uid(uid)
        for pid in system.descendants(os.getpid()):
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.001)
    return len(seen)


def remove_tree(path: str) -> None:
    """Remove a worker's folder, whatever permissions student code left inside it.

    Nothing outside the folder is ever changed, and a folder that is already gone
    is left alone.  Links are removed, never followed (a student's link to
    another file must not lend that file our permissions).
    """
    root = os.path.abspath(path)
    if not os.path.lexists(root):
        return

    def inside(name: str) -> bool:
        return name == root or name.startswith(root + os.sep)

    def force(function, failed: str, excinfo) -> None:
        # rmtree's error handler: student code may have removed permissions; restore them.
        error = excinfo[1] if isinstance(excinfo, tuple) else excinfo
        if isinstance(error, FileNotFoundError) or not inside(failed):
            return
        try:
            parent = os.path.dirname(failed)
            if inside(parent):
                os.chmod(parent, 0o700)
            if os.path.islink(failed) or not os.path.isdir(failed):
                os.unlink(failed)
            else:
                os.chmod(failed, 0o700)
                shutil.rmtree(failed, ignore_errors=True)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=force)
    else:  # pragma: no cover - Python 3.11
        shutil.rmtree(root, onerror=force)


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    try:
        control.sendall(wire.encode(message))
    except OSError:
        sys.exit(0)  # the grader is gone


def _receive_request(control: socket.socket):
    """(verb, size, fds) of the next request, or None when the grader has closed the socket."""
    try:
        data, fds, _, _ = socket.recv_fds(control, REQUEST.size, 4)
    except OSError:
        return None
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    rest = _receive_exactly(control, REQUEST.size - len(data))
    if rest is None:
        return None
    verb, size = REQUEST.unpack(data + rest)
    return verb, size, fds


def _receive_exactly(control: socket.socket, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        try:
            chunk = control.recv(min(missing, 1 << 20))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
