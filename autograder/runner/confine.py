"""Confining a freshly forked worker, before any student code runs.

:func:`enter_sandbox` is the first thing a worker does.  Inside the zygote's view
(:mod:`autograder.runner.view`), the worker adds only what is its own: a mount
and an IPC namespace with a private tmpfs on ``/tmp`` and ``/dev/shm`` (its working
folder is ``/tmp/submission``), gone when it exits; then resource limits, an
unprivileged uid (or, in a user namespace, no capabilities left), a new session
keyring, and its uid's keyrings emptied of anything a previous submission left.
Without a view (no namespaces on this machine) it gets a temporary folder, the
limits and, as root, a uid of its own; what held is recorded either way.

:func:`refusal` is the one place that decides when student code must not run at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.packages import belongs_to
from autograder.runner import system, view, wire

#: The working folder inside a worker's private tmpfs.
WORKDIR = "/tmp/submission"
#: The option that lets the grader run, as root, where no view can be made.
UNSAFE_OPTION = "--unsafe-no-view"
#: Linux keeps user keyrings per user namespace from 5.3 on; before, emptying a worker's
#: would empty its user's real one.
_KEYRINGS_PER_NAMESPACE = (5, 3)


class SandboxRefused(Exception):
    """The sandbox cannot be made safe enough here: no student code runs."""


@dataclass
class SandboxSettings:
    """How a zygote's workers are confined; decided once, when the zygote starts.

    ``uid`` is the unprivileged uid workers switch to (None: they keep the zygote's);
    ``view`` says that the zygote is inside its view (and its namespaces), which
    workers inherit; ``user_namespace`` that the view lives in a user namespace of
    the grader's uid, where workers must drop the capabilities they inherit;
    ``allow_no_view`` is the instructor's explicit consent to grade as root without
    a view.  ``reference`` is the reference module when the zygote preloaded it;
    ``package_fd`` an open descriptor of the grading package's folder, through which
    a worker that needs the reference imports it when the package is out of the
    view (the worker closes it before student code runs); ``address_space`` is the
    zygote's, for when ``/proc`` cannot tell.  ``held`` records what the view gave;
    ``under_tmp`` lists its folders inside /tmp, which each worker mounts again.
    """

    uid: int | None = None
    view: bool = False
    user_namespace: bool = False
    allow_no_view: bool = False
    reference: Any = None
    package_fd: int | None = None
    address_space: int = 0
    held: dict[str, str] | None = None
    under_tmp: list[str] = field(default_factory=list)


def refusal(settings: SandboxSettings, root: bool) -> str | None:
    """Why student code must not run with ``settings`` (``root``: the grader is root), or None.

    As root a worker without a uid of its own could signal, read and write
    everything; without a view it reads the machine's files (solutions,
    classmates' notebooks, the grades), which only the instructor may accept.
    """
    if not root:
        return None
    if settings.uid is None:
        return (
            "the sandbox refuses to run student code as root: the workers could not get a uid "
            "of their own (see the reasons recorded); as root they could signal, read and "
            "write everything. Use a Python installation other users can read."
        )
    if not settings.view and not settings.allow_no_view:
        return (
            "the sandbox refuses to grade as root without the worker's view of the file "
            "system (it needs mount, PID and network namespaces: a VM, or a container "
            "allowed to unshare): student code could read the solutions, the other "
            f"submissions and the grades. {UNSAFE_OPTION} grades anyway, at that risk."
        )
    return None


@dataclass
class Confinement:
    """What :func:`enter_sandbox` did: what held (for the record), the reference module
    (None unless a call passes one of its functions), and the seconds the worker spent
    on its part of the view (its namespaces, tmpfs and keyrings)."""

    held: dict[str, str]
    reference: Any
    view_seconds: float


def enter_sandbox(
    job: dict[str, Any], result_fd: int, workdir: str, settings: SandboxSettings
) -> Confinement:
    """Confine this process before any student code runs.

    ``workdir`` is the working folder the zygote made, used where there is no view.
    Raises :class:`SandboxRefused` when student code must not run.
    """
    held: dict[str, str] = {}
    view_seconds = 0.0
    limits = job["limits"]
    os.setsid()  # its own session and process group, apart from the grader's
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    reference = load_reference(job, settings)
    # Every descriptor but the result pipe: the package's folder among them.
    os.closerange(3, result_fd)
    os.closerange(result_fd + 1, 1 << 16)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file raises instead of killing

    problem = refusal(settings, os.geteuid() == 0)
    if problem:
        raise SandboxRefused(problem)
    if settings.view:
        held.update(settings.held or {})
        started = time.perf_counter()
        workdir = _private_tmp(held, limits, settings.under_tmp)
        view_seconds += time.perf_counter() - started
    else:
        held.update(_without_view())
    _write_data_files(job.get("data_files") or {}, workdir, settings.uid)
    os.chdir(workdir)

    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, limits["file_size_mb"] << 20)
    # The address space already holds the interpreter and the preloaded libraries,
    # so the limit is what the submission may add to them.
    space = _address_space() or settings.address_space
    _limit(resource.RLIMIT_AS, space + (limits["memory_mb"] << 20))
    held["memory"] = f"{limits['memory_mb']} MiB address space (RLIMIT_AS)"
    _try(held, "no-new-privileges", lambda: system.prctl(system.PR_SET_NO_NEW_PRIVS, 1))
    _become_unprivileged(held, limits, settings)
    if settings.view:
        started = time.perf_counter()
        _reset_keyrings(held, settings)
        view_seconds += time.perf_counter() - started
    held["grading-package"] = (
        "absent from the view; imports detected (static, sys.modules, audit hook)"
        if settings.view
        else "on the file system; imports detected (static, sys.modules, audit hook)"
    )
    for module in [m for m in sys.modules if forbidden_module(m, job)]:
        del sys.modules[module]  # the reference, if imported above: out of the student's sight
    # Set after the uid change, which clears it.
    _try(held, "parent-death", lambda: system.prctl(system.PR_SET_PDEATHSIG, signal.SIGKILL))
    os.environ.update(
        HOME=workdir,
        TMPDIR=workdir,
        PWD=workdir,
        MPLCONFIGDIR=os.path.join(workdir, ".matplotlib"),
    )
    return Confinement(held, reference, round(view_seconds, 6))


def forbidden_module(module: str, job: dict[str, Any]) -> bool:
    """Whether ``module`` belongs to a package student code must not import."""
    return belongs_to(module, job.get("forbidden_modules", ()))


def _private_tmp(held: dict[str, str], limits: dict[str, Any], under_tmp: list[str]) -> str:
    """A mount and an IPC namespace of the worker's own, with a tmpfs on /tmp and /dev/shm.

    Folders of the view that live in /tmp (an interpreter set up there) are mounted
    again, read-only, inside the new tmpfs.
    """
    flags = system.MS_NOSUID | system.MS_NODEV
    kept: list[tuple[str, int]] = []
    try:
        system.unshare(system.CLONE_NEWNS | system.CLONE_NEWIPC)
        # Opened in the new namespace (a bind's source must be one of its mounts).
        kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in under_tmp]
        system.mount("tmpfs", "/tmp", "tmpfs", flags, f"size={limits['workdir_mb']}m,mode=1777")
        view.keep_reachable(kept)
        system.mount("tmpfs", "/dev/shm", "tmpfs", flags, "size=16m,mode=1777")
        os.mkdir(WORKDIR, 0o700)
    except OSError as error:
        raise SandboxRefused(f"the worker's private /tmp could not be made: {error}") from None
    finally:
        for _, fd in kept:
            os.close(fd)
    held["filesystem"] = "writable: only its private /tmp and /dev/shm (tmpfs, gone with it)"
    held["ipc"] = "its own IPC namespace (System V and POSIX queues, gone with it)"
    return WORKDIR


def _without_view() -> dict[str, str]:
    return {
        "view": "none: the machine's files are visible (no namespaces here)",
        "processes": "the machine's: /proc shows every process",
        "network": "not isolated (no network namespace)",
        "filesystem": "a temporary folder, removed after; the machine's shared folders too",
        "ipc": "the machine's",
        "keyrings": "not reset",
    }


def _write_data_files(files: dict[str, Any], workdir: str, uid: int | None) -> None:
    """Write the assignment's data files, handed over by the grader, into the working folder."""
    for name, data in files.items():
        if not name or "/" in name or name in (".", ".."):
            raise SandboxRefused(f"refused a data file named {name!r}")
        path = os.path.join(workdir, name)
        with open(path, "wb") as handle:
            handle.write(np.asarray(data, dtype=np.uint8).tobytes())
        if uid is not None:
            os.chown(path, uid, uid)
    if uid is not None:
        os.chown(workdir, uid, uid)


def _become_unprivileged(
    held: dict[str, str], limits: dict[str, Any], settings: SandboxSettings
) -> None:
    uid = settings.uid
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # as root, this also drops every capability
        held["uid"] = f"unprivileged uid {uid}"
        _limit(resource.RLIMIT_NPROC, limits["processes"])
        held["process-limit"] = f"at most {limits['processes']} (RLIMIT_NPROC)"
        return
    held["uid"] = f"same uid as the grader ({os.getuid()})"
    if settings.user_namespace:
        try:
            system.drop_capabilities()
            held["capabilities"] = "none (dropped in its user namespace)"
        except OSError as error:
            raise SandboxRefused(f"the worker could not drop its capabilities: {error}") from None
    if os.getuid() != 0:
        # Counted over all of this user's processes (in its user namespace, in a view), so
        # allow for those already running.
        mine = sum(1 for p in system.process_table().values() if p.uid == os.getuid())
        _limit(resource.RLIMIT_NPROC, mine + limits["processes"])
        held["process-limit"] = f"{limits['processes']} more than the user's (RLIMIT_NPROC)"


def _reset_keyrings(held: dict[str, str], settings: SandboxSettings) -> None:
    """A session keyring of its own; its uid's keyrings emptied of what earlier workers left.

    Kernel keyrings belong to a uid, not to a file system: a key one submission
    adds to its user keyring would otherwise wait there for the next.
    """
    try:
        system.keyctl(system.KEYCTL_JOIN_SESSION_KEYRING, 0)
    except OSError as error:
        held["keyrings"] = f"not reset ({error.strerror or error})"
        return
    release = tuple(int(n) for n in os.uname().release.split(".")[:2] if n.isdigit())
    if settings.uid is None and release < _KEYRINGS_PER_NAMESPACE:
        held["keyrings"] = "a new session keyring (the user's keyrings are shared on this kernel)"
        return
    try:
        for keyring in (system.KEY_SPEC_USER_KEYRING, system.KEY_SPEC_USER_SESSION_KEYRING):
            system.keyctl(system.KEYCTL_CLEAR, keyring)
        held["keyrings"] = "a new session keyring; its user keyrings emptied before it ran"
    except OSError as error:
        held["keyrings"] = f"a new session keyring; user keyrings not emptied ({error})"


def load_reference(job: dict[str, Any], settings: SandboxSettings) -> Any:
    """The reference module, if some call passes one of its functions; else None.

    Preloaded by the zygote, imported through the package's descriptor when the
    package is out of the view, or imported as usual.
    """

    def refs(values):
        for value in values:
            if isinstance(value, wire.FunctionRef):
                yield value
                yield from refs(value.bound)

    wanted = any(
        ref.of == "reference"
        for g in job["groups"]
        for c in g["cases"]
        for ref in refs([*c["args"], *c["kwargs"].values()])
    )
    name = job.get("reference_module")
    if not wanted or not name:
        return None
    if settings.reference is not None:
        return settings.reference
    if settings.package_fd is not None:
        folder = f"/proc/self/fd/{settings.package_fd}"
        package = name.split(".")[0]
        spec = importlib.util.spec_from_file_location(
            package, f"{folder}/__init__.py", submodule_search_locations=[folder]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(name)


def _limit(which: int, value: int) -> None:
    # Soft and hard alike, so that the student's code cannot raise the limit again.  Where the
    # system refuses a limit (some are not enforced outside Linux), the others still hold.
    try:
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    except (OSError, ValueError):
        pass


def address_space() -> int:
    """This process's virtual memory size in bytes (0 where ``/proc`` cannot tell)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) << 10
    except OSError:  # pragma: no cover - not Linux, or no /proc in the view
        pass
    return 0


_address_space = address_space


def _try(held: dict[str, str], name: str, action) -> None:
    try:
        action()
        held[name] = "yes"
    except OSError as exc:
        held[name] = f"no ({exc.strerror or exc})"
