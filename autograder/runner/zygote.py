"""A pre-warmed process that forks one sandboxed worker per submission.

The grader starts one zygote per parallel slot (``python -m`` is not used: see
:func:`command`).  A zygote receives its settings on its control socket, imports
NumPy and the libraries the course's notebooks import, then enters its *view*
(:mod:`autograder.runner.view`): new mount, PID, network and IPC namespaces (and
a user namespace when not root), with a root of its own assembled from read-only
bind mounts.  Only a child can be the first process of a new PID namespace, so
the zygote forks once more: that child, process 1 of the namespace, assembles the
view, mounts its ``/proc``, enters it, and serves jobs; the first process only
waits for it (the grader knows it as the zygote).  Where namespaces are refused,
the zygote serves without a view, and says why.

For each job it receives the job's bytes and the write end of a fresh pipe, forks
a worker (:func:`autograder.runner.worker.serve`) that reports on that pipe, waits
for it, kills and reaps whatever the worker left behind, and reports the exit.
As process 1 of the workers' PID namespace, ``kill(-1)`` reaches every process
they left and nothing else; without a view, the zygote is a *subreaper* (a process
the submission double-forks to escape is re-parented to it, to be found and
killed), and as root it also kills every process of the workers' uid.

Forking from a process that has already imported NumPy is what makes grading
fast (no interpreter start-up per notebook), and forking from a zygote rather
than from the grader keeps the grader's memory (the checks, the reference, the
expected answers) out of reach of student code.  The zygote never runs student
code itself.
"""

from __future__ import annotations

import gc
import importlib
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

from autograder.packages import belongs_to
from autograder.runner import confine, system, view, wire
from autograder.runner.confine import SandboxSettings
from autograder.runner.worker import serve

#: Grader to zygote: a 4-byte verb and a payload size; a job carries the result pipe's fd.
REQUEST = struct.Struct("!4sQ")
JOB, KILL = b"JOB1", b"KILL"
MARKER = "autograder-zygote"
#: How long the zygote keeps killing what a worker left behind before giving up.
REAP_SECONDS = 5.0
#: The largest settings message the zygote accepts.
MAX_CONFIG_BYTES = 1 << 20


def command(run_id: str, slot: int, fd: int) -> list[str]:
    """The command line that starts a zygote (``MARKER`` and ``run_id`` identify it in /proc).

    It names no path: the zygote is started in the folder that holds the grading
    package, and its settings come on the control socket, so that nothing of the
    grader's shows in ``/proc/<pid>/cmdline``.
    """
    boot = (
        "import os, sys; sys.path[0] = os.getcwd(); "
        "from autograder.runner.zygote import main; main(sys.argv[1:])"
    )
    return [sys.executable, "-E", "-s", "-B", "-c", boot, MARKER, run_id, str(slot), str(fd)]


def main(argv: list[str]) -> None:
    """Entry point: ``MARKER run_id slot fd``; the settings follow on the socket ``fd``."""
    _, _, _, fd = argv
    control = socket.socket(fileno=int(fd))
    config = _receive_config(control)
    if config is None:
        return
    # Ctrl-C is for the grader, which then shuts its zygotes down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    os.umask(0o022)
    os.chdir(config["workdir_parent"])
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
    forbidden = tuple(config.get("forbidden_modules", ()))
    for module in list(sys.modules):
        if belongs_to(module, forbidden):
            del sys.modules[module]
    settings.address_space = confine.address_space()
    gc.collect()
    gc.freeze()  # keeps forked workers from copying every page the collector touches
    ready = {
        "type": "ready",
        "preloaded": preloaded,
        "failed": failed,
        "uid": settings.uid,
        "subreaper": subreaper,
        "reasons": reasons,
    }
    if settings.view:
        started = time.perf_counter()
        view_failed = enter_view(control, settings, config, reasons)  # returns in process 1 only
        if view_failed:
            _send(control, {**ready, "view_failed": view_failed})
            return
        if settings.view:
            ready["view"] = dict(settings.held or {})
            ready["view_paths"] = config["view_plan"]
            ready["view_seconds"] = round(time.perf_counter() - started, 6)
    ready["refused"] = confine.refusal(settings, os.geteuid() == 0)
    _send(control, ready)
    if ready["refused"]:
        return
    try:
        serve_forever(control, settings, None if settings.view else config["workdir_parent"])
    finally:
        if settings.uid is not None and not settings.view:
            system.kill_all_of_uid(settings.uid)
        if settings.uid is not None:
            system.clear_keyrings_of(settings.uid)


def _receive_config(control: socket.socket) -> dict[str, Any] | None:
    reader = wire.FrameReader(MAX_CONFIG_BYTES)
    while True:
        try:
            data = control.recv(1 << 16)
        except OSError:
            return None
        if not data:
            return None
        messages = reader.feed(data)
        if messages:
            return messages[0]


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (the setting does not survive fork or setuid)."""
    try:
        system.prctl(system.PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def enter_view(
    control: socket.socket, settings: SandboxSettings, config: dict[str, Any], reasons: list
) -> str | None:
    """Enter new namespaces and the view; return in their first process only.

    Returns None once in the view, or why the view could not be made (then the
    process must not serve: the grader starts a zygote without a view, where that
    is allowed).  Where the namespaces themselves are refused, nothing has changed:
    ``settings.view`` becomes False and the zygote serves without a view.
    """
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    flags = system.CLONE_NEWNS | system.CLONE_NEWPID | system.CLONE_NEWNET | system.CLONE_NEWIPC
    if not root:
        flags |= system.CLONE_NEWUSER
    try:
        system.unshare(flags)
    except OSError as error:
        settings.view = False
        reasons.append(f"no view: the system refused new namespaces ({error.strerror or error})")
        return None
    try:
        if not root:
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        first = os.fork()
    except OSError as error:
        return f"the user namespace could not be set up ({error.strerror or error})"
    if first:  # this process is not in the new PID namespace: it only waits for the first
        control.close()
        _, status = os.waitpid(first, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _die_with_parent()
    if not root:
        # Workers share our uid here: they must not be able to trace us or read /proc/1/fd.
        system.prctl(system.PR_SET_DUMPABLE, 0)
    plan = view.Plan(**config["view_plan"])
    where = os.path.join(config["workdir_parent"], "view")
    try:
        system.mount("none", "/", None, system.MS_REC | system.MS_PRIVATE, None)
        os.makedirs(where, mode=0o755, exist_ok=True)  # an earlier zygote's is empty
        view.assemble(plan, where)
        processes = view.mount_proc(where)
        if processes.startswith("no /proc") and config.get("reference_module"):
            # Without /proc a worker cannot import the reference through the package's
            # descriptor: have it in memory instead, as when it is preloaded.
            settings.reference = settings.reference or importlib.import_module(
                config["reference_module"]
            )
        view.enter(where)
    except (OSError, ImportError) as error:
        return f"the view could not be assembled ({error})"
    settings.user_namespace = not root
    settings.under_tmp = view.under_tmp(plan)
    settings.held = {
        "view": "its own root: Python, the system's libraries, a minimal /dev (run.sandbox.view)",
        "processes": f"its own PID namespace; /proc: {processes}",
        "network": "isolated (an empty network namespace, its loopback down)",
        "keyrings": "not reset",
    }
    return None


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


def python_paths() -> list[str]:
    """The folders this interpreter reads from: its prefixes and ``sys.path``."""
    return [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        *(p for p in sys.path if p and os.path.isabs(p)),
    ]


def decide(config: dict[str, Any]) -> tuple[SandboxSettings, list[str]]:
    """How workers are confined here, and why something could not be used.

    Plans the view (``config["view_plan"]``) where namespaces are wanted, and
    keeps a workers' uid only where that uid can read what they need.
    """
    reasons = []
    settings = SandboxSettings(
        view=bool(config.get("namespaces", True)) and system.LINUX,
        allow_no_view=bool(config.get("allow_no_view")),
    )
    uid = config.get("uid")
    if uid is not None and os.geteuid() != 0:
        uid = None
        reasons.append("not root: workers keep the grader's uid")
    package = config["package_dir"]
    if settings.view:
        plan = view.plan(
            python_paths(), package, config.get("hide", ()), uid or os.getuid(), uid or os.getgid()
        )
        config["view_plan"] = plan.__dict__
        unreadable = view.unreadable(plan) if uid is not None else []
        try:
            # The reference, for workers that need it, through this descriptor only.
            settings.package_fd = os.open(package, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            reasons.append(f"the grading package cannot be opened ({error.strerror})")
    else:
        # Without a view a worker reads the interpreter where it lies: every folder above it
        # must let that uid through.  The course's folder is not needed (everything workers
        # use from it is loaded before they drop root), so it may stay private to the grader.
        needed = {p for p in python_paths() if os.path.isdir(p)} - {config.get("package_parent")}
        unreadable = [p for p in needed if _out_of_reach(p)] if uid is not None else []
    if unreadable:
        uid = None
        reasons.append(f"{unreadable[0]} is not readable by other users: workers stay root")
    settings.uid = uid
    return settings, reasons


def _out_of_reach(path: str) -> bool:
    """Whether another user cannot read ``path``, or cannot pass a folder above it."""
    if os.stat(path).st_mode & 0o005 != 0o005:
        return True
    current = ""
    for part in os.path.abspath(path).split(os.sep)[1:-1]:
        current += os.sep + part
        if not os.stat(current).st_mode & 0o001:
            return True
    return False


def serve_forever(
    control: socket.socket, settings: SandboxSettings, workdir_parent: str | None = None
) -> None:
    """Run jobs until the grader closes the control socket.

    Without a view, working folders go in ``workdir_parent``, which the grader
    removes when it closes the sandbox: whatever happens to this process, none is
    left behind.  In a view, each worker makes its own, in its private tmpfs.
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
    workdir = tempfile.mkdtemp(prefix="job-", dir=workdir_parent) if workdir_parent else ""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        control.detach()
        serve(payload, result_fd, workdir, settings)
    os.close(result_fd)
    _send(control, {"type": "started", "pid": pid})
    status, rusage, grader_gone = _wait(control, pid)
    stragglers = reap(settings)
    if workdir:
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


def reap(settings: SandboxSettings) -> int:
    """Kill and reap every process the last worker left behind; return how many there were.

    In a view this process is the first of the workers' PID namespace, so
    ``kill(-1)`` reaches every process they left and nothing else, and their
    orphans are its children.  Without one, the subreaper flag makes every such
    process a descendant of this zygote, and with a sandbox uid ``kill(-1)`` under
    that uid also stops a fork bomb in one step.
    """
    seen: set[int] = set()
    reaped = 0
    deadline = time.monotonic() + REAP_SECONDS
    while time.monotonic() < deadline:
        if settings.view:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass  # nobody left to signal
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                reaped += 1
        except ChildProcessError:
            return max(reaped, len(seen))  # no child left at all, living or zombie
        if not settings.view:
            if settings.uid is not None:
                system.kill_all_of_uid(settings.uid)
            for pid in system.descendants(os.getpid()):
                seen.add(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.001)
    return max(reaped, len(seen))


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
