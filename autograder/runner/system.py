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
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_CLEAR = 7
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5

LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(None, use_errno=True) if LINUX else None
#: System calls glibc has no wrapper for, by machine (``os.uname().machine``).
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "keyctl": 250},
    "aarch64": {"pivot_root": 41, "keyctl": 219},
    "riscv64": {"pivot_root": 41, "keyctl": 219},
    "ppc64le": {"pivot_root": 203, "keyctl": 271},
    "s390x": {"pivot_root": 217, "keyctl": 280},
}


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


def umount2(target: str, flags: int) -> None:
    """umount2(2)."""
    _call("umount2", target.encode(), ctypes.c_int(flags))


def _syscall(name: str, *args) -> int:
    number = _SYSCALLS.get(os.uname().machine, {}).get(name) if LINUX else None
    if number is None:
        raise OSError(f"{name} is not known on this machine")
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result == -1:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")
    return result


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2): make ``new_root`` the root of this mount namespace."""
    _syscall("pivot_root", new_root.encode(), put_old.encode())


def keyctl(operation: int, *args: int) -> int:
    """keyctl(2) with integer arguments (a keyring's serial or a special id, flags)."""
    return _syscall("keyctl", ctypes.c_int(operation), *(ctypes.c_long(a) for a in args))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Give up every capability: the bounding set first, then all the process holds.

    What a process that created a user namespace must do before it runs code it does
    not trust: in that namespace it holds every capability (it could remount the
    view read-write, say) until it drops them.
    """
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 63
    for capability in range(last + 1):
        try:
            prctl(PR_CAPBSET_DROP, capability)
        except OSError:
            pass  # unknown to this kernel, or already gone
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _call("capset", ctypes.byref(header), data)


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


def clear_keyrings_of(uid: int) -> None:
    """Empty the user and user-session keyrings of ``uid`` (a helper child takes that uid).

    Keys outlive the processes that added them; this leaves none of a worker's
    behind.  Needs root; a kernel without keyrings is left as it is.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the helper
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
                keyctl(KEYCTL_CLEAR, keyring)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
