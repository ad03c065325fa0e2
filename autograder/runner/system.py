"""The few Linux facilities the sandbox needs, through ctypes, and a view of ``/proc``.

Every function here raises :class:`OSError` where the facility is missing (another
operating system, a container that forbids it, a user without the privilege); the
callers decide what to do without it and record what held.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(None, use_errno=True) if LINUX else None


def _call(name: str, *args) -> None:
    if _libc is None:
        raise OSError(f"{name} is only available on Linux")
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    """Move this process into new namespaces (``CLONE_NEW*`` flags)."""
    _call("unshare", ctypes.c_int(flags))


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    """mount(2); ``fstype`` and ``data`` may be None."""
    _call(
        "mount",
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def prctl(option: int, value: int) -> None:
    """prctl(2) with one argument."""
    _call("prctl", ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0)


@dataclass(frozen=True)
class ProcessInfo:
    """One line of the process table: ids, real uid and state (``Z`` for a zombie)."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    uid: int
    state: str


def process_table() -> dict[int, ProcessInfo]:
    """Every process visible in ``/proc``, by pid (processes that vanish meanwhile are skipped)."""
    table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            info = process_info(int(entry))
            if info is not None:
                table[info.pid] = info
    return table


def process_info(pid: int) -> ProcessInfo | None:
    """The process ``pid`` as ``/proc`` shows it, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read().decode("ascii", "replace")
        with open(f"/proc/{pid}/status", "rb") as status_file:
            status = status_file.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name, in parentheses, may itself hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    uid = -1
    for line in status.splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[1])  # the real uid
            break
    return ProcessInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        uid=uid,
        state=fields[0],
    )


def descendants(root: int, table: dict[int, ProcessInfo] | None = None) -> list[int]:
    """The pids of every descendant of ``root`` (children, their children...)."""
    table = process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def kill_all_of_uid(uid: int) -> None:
    """SIGKILL every process whose real or saved uid is ``uid``, at once.

    A helper child takes that uid and calls ``kill(-1, SIGKILL)``, which the
    kernel applies to all of the uid's processes in one step, so a fork bomb
    cannot outrun it.  Needs root; the caller reaps the helper.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the helper
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
