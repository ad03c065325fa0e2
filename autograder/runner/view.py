"""The worker's view of the machine: a root of its own, assembled once per zygote.

Student code must see only what running the course's notebooks needs.  After a
zygote has imported NumPy and the notebooks' libraries, it enters new mount, PID,
network and IPC namespaces (and a user namespace when it is not root) and
assembles a root on an empty tmpfs (:func:`assemble`), from read-only bind mounts:

- the Python installation and the folders on ``sys.path`` (never the grading
  package or the course folder), and the folders of every shared library the
  zygote has loaded, so that a library imported later finds its files (the
  digits bundled with scikit-learn, say);
- ``/usr`` and the top-level ``/bin``, ``/lib``... (links on a merged-``/usr``
  system): the system's libraries and commands;
- of ``/etc``, only the dynamic linker's cache and the time zone, and a generated
  ``passwd`` and ``group`` that name no one but root and the sandbox's user;
- a minimal ``/dev`` (``null``, ``zero``, ``full``, ``random``, ``urandom``, the
  ``fd`` links) and its own ``/proc`` (:func:`mount_proc`): its PID namespace's
  processes only, and among those only its own uid's;
- empty ``/tmp`` and ``/dev/shm``, where each worker mounts a tmpfs of its own.

:func:`enter` then makes it the root with ``pivot_root`` and detaches the machine's
root: home folders, the course folder, every ``solutions/`` and ``submitted/``
folder, the output folder, nbgrader's gradebook, ``/srv``, ``/var``, ``/run`` are
not hidden, they are absent.  A path the grader names in ``hide`` that would lie
inside a bound folder is covered by an empty read-only folder (or ``/dev/null``).

Assembling costs a few milliseconds once per zygote; a worker then only makes a
mount and an IPC namespace with two small tmpfs (see :mod:`autograder.runner.confine`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from autograder.runner import system

#: Top-level folders of the system's programs and libraries: on a merged-/usr system,
#: links into /usr, which the view keeps as links.
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: What the dynamic linker and the time functions read from /etc.
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
DEVICES = ("null", "zero", "full", "random", "urandom")
DEVICE_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
}
#: Mount flags that ``statvfs`` reports and a read-only remount must keep: a mount that
#: came from a more privileged namespace refuses to lose them.
_KEPT = (
    (os.ST_NOEXEC, system.MS_NOEXEC),
    (os.ST_NOATIME, system.MS_NOATIME),
    (os.ST_NODIRATIME, system.MS_NODIRATIME),
    (os.ST_RELATIME, system.MS_RELATIME),
)


@dataclass
class Plan:
    """What a view holds.

    ``binds`` are host paths (folders or files) bound read-only at the same path;
    ``links`` are symbolic links to make (path: target); ``hidden`` are paths inside
    a bound folder to cover; ``files`` are generated files (path: text).
    """

    binds: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def plan(
    python_paths: Iterable[str], package: str, hide: Iterable[str], uid: int, gid: int
) -> Plan:
    """The view for this interpreter: what it needs, and nothing of ``package`` or ``hide``.

    ``python_paths`` are the interpreter's folders (prefixes and ``sys.path``);
    ``package`` is the grading package's folder, of which nothing is ever bound;
    ``hide`` are other paths student code must not see (the course folder, the
    submissions, the output): never bound themselves, and covered where they lie
    inside a bound folder (a ``.venv`` inside the course folder is still bound).
    ``uid`` and ``gid`` name the sandbox's user in the generated ``/etc/passwd``.
    """
    package = os.path.realpath(package)
    hidden = sorted({package} | {os.path.realpath(h) for h in hide if h and os.path.lexists(h)})

    def excluded(path: str) -> bool:
        return inside(path, package) or path in hidden

    wanted: list[str] = ["/usr"]
    links: dict[str, str] = {}
    for path in (*TOP_LEVEL, *ETC):
        if os.path.islink(path):
            links[path] = os.readlink(path)
        elif os.path.exists(path):
            wanted.append(path)
    for path in python_paths:
        if not path or not os.path.isabs(path):
            continue  # '' is the working folder: never part of the view
        real = os.path.realpath(path)
        if not os.path.exists(real) or excluded(real):
            continue
        wanted.append(real)
        if os.path.abspath(path) != real:
            links[os.path.abspath(path)] = real
    for library in mapped_files():
        folder = os.path.dirname(library)
        if not any(inside(library, w) for w in wanted) and not excluded(folder):
            wanted.append(folder)
    binds = outermost(wanted)
    return Plan(
        binds=binds,
        links={p: t for p, t in links.items() if not any(inside(p, b) for b in binds)},
        hidden=[h for h in hidden if any(inside(h, b) for b in binds)],
        files={
            "/etc/passwd": (
                "root:x:0:0:root:/:/usr/sbin/nologin\n"
                f"sandbox:x:{uid}:{gid}:sandbox:/tmp/submission:/usr/sbin/nologin\n"
            ),
            "/etc/group": f"root:x:0:\nsandbox:x:{gid}:\n",
        },
    )


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths that lie inside no other of them, sorted."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(q != p and inside(p, q) for q in unique)]


def mapped_files() -> list[str]:
    """The files this process has mapped (its shared libraries), from ``/proc/self/maps``."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    path = parts[5].rstrip("\n")
                    if not path.startswith(("/dev/", "/proc/", "/memfd:")) and os.path.isfile(path):
                        found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def unreadable(view: Plan) -> list[str]:
    """Bound paths that a user other than their owner cannot read (or enter)."""
    found = []
    for path in view.binds:
        mode = os.stat(path).st_mode
        needed = 0o005 if os.path.isdir(path) else 0o004
        if mode & needed != needed:
            found.append(path)
    return found


# --------------------------------------------------------------------------- assembling


def assemble(view: Plan, root: str) -> None:
    """Build ``view`` under the empty folder ``root``, in this process's mount namespace.

    The caller has made every mount private (so nothing of this reaches the
    machine's namespace).  Raises OSError when a mount is refused.
    """
    flags = system.MS_NOSUID | system.MS_NODEV
    system.mount("tmpfs", root, "tmpfs", flags, "mode=755,size=8m")
    for path in view.binds:
        target = root + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        system.mount(path, target, None, system.MS_BIND | system.MS_REC, None)
        read_only_tree(target)
    for path, target in view.links.items():
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        os.symlink(target, root + path)
    for path in view.hidden:
        cover(root + path)
    _devices(root + "/dev")
    for name in ("proc", "tmp"):  # /tmp may hold a bound interpreter already
        os.makedirs(root + "/" + name, mode=0o755, exist_ok=True)
    for path, text in view.files.items():
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "w") as handle:
            handle.write(text)
        os.chmod(root + path, 0o644)
    # Nothing of the view itself is writable: a worker writes only in its own tmpfs.
    system.mount("none", root, None, system.MS_REMOUNT | system.MS_RDONLY | flags, None)


def under_tmp(view: Plan) -> list[str]:
    """Bound paths inside /tmp, which each worker's private tmpfs would hide.

    An interpreter there (a course cloned and set up under /tmp) must be mounted
    again inside that tmpfs: see :func:`keep_reachable`.
    """
    return [path for path in view.binds if inside(path, "/tmp")]


def keep_reachable(kept: list[tuple[str, int]]) -> None:
    """Bind again, read-only, folders a fresh tmpfs has just covered.

    ``kept`` holds ``(path, descriptor)`` pairs opened before the tmpfs was mounted.
    """
    for path, fd in kept:
        os.makedirs(path, mode=0o755, exist_ok=True)
        system.mount(f"/proc/self/fd/{fd}", path, None, system.MS_BIND | system.MS_REC, None)
        read_only_tree(path)


def cover(path: str) -> None:
    """Hide ``path``, inside a bound folder, under an empty read-only folder or file."""
    flags = system.MS_NOSUID | system.MS_NODEV | system.MS_RDONLY
    if os.path.isdir(path):
        system.mount("tmpfs", path, "tmpfs", flags, "size=4k,mode=555")
    else:
        system.mount("/dev/null", path, None, system.MS_BIND, None)
        system.mount("none", path, None, system.MS_BIND | system.MS_REMOUNT | flags, None)


def read_only_tree(top: str) -> None:
    """Remount ``top`` and every mount under it read-only, keeping the flags they must keep."""
    for point in mount_points(top):
        flags = system.MS_BIND | system.MS_REMOUNT | system.MS_RDONLY
        flags |= system.MS_NOSUID | system.MS_NODEV
        flag = os.statvfs(point).f_flag
        flags |= sum(ms for st, ms in _KEPT if flag & st)
        system.mount("none", point, None, flags, None)


def mount_points(top: str) -> list[str]:
    """The mount points at or under ``top``, outermost first (from ``/proc/self/mountinfo``)."""
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = _unescape(line.split()[4])
            if inside(point, top):
                points.append(point)
    return sorted(set(points), key=len)


def _unescape(field_text: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field_text)


def _devices(dev: str) -> None:
    os.mkdir(dev, 0o755)
    system.mount("tmpfs", dev, "tmpfs", system.MS_NOSUID | system.MS_NOEXEC, "mode=755,size=64k")
    for name in DEVICES:
        open(f"{dev}/{name}", "w").close()
        system.mount(f"/dev/{name}", f"{dev}/{name}", None, system.MS_BIND, None)
    for name, target in DEVICE_LINKS.items():
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(f"{dev}/shm", 0o755)
    flags = system.MS_REMOUNT | system.MS_RDONLY | system.MS_NOSUID | system.MS_NOEXEC
    system.mount("none", dev, None, flags, None)


def mount_proc(root: str) -> str:
    """Mount this PID namespace's ``/proc`` in the view; say what held.

    Must run in the namespace's first process, before :func:`enter` (a user
    namespace may mount a ``/proc`` only while the machine's is still visible).
    ``hidepid=2`` hides the processes of other uids (the zygote's, as root).
    """
    flags = system.MS_NOSUID | system.MS_NODEV | system.MS_NOEXEC
    for options, held in (("hidepid=2", "its own processes only"), (None, "its PID namespace")):
        try:
            system.mount("proc", root + "/proc", "proc", flags, options)
            return held
        except OSError as error:
            reason = error.strerror or str(error)
    return f"no /proc ({reason})"


def enter(root: str) -> None:
    """Make ``root`` this mount namespace's root and detach the machine's."""
    os.chdir(root)
    system.pivot_root(".", ".")
    system.umount2(".", system.MNT_DETACH)
    os.chdir("/")
