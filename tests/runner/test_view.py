"""The workers' view, tried as an instructor grades: hostile submissions against a real course.

An instructor clones the course into a world-readable folder outside ``/tmp`` (here
under ``/srv``), with its own environment, collects the class into ``submitted/``
inside it, has nbgrader's ``gradebook.db`` and an earlier run's ``grades/`` there,
and grades as root.  The corpus (``tests/hostile/``, built by
``tests/submissions/build_corpus.py``) goes after what the view must not show:
solutions of any course, a classmate's notebook, the gradebook, the output folder,
the machine's processes, and every place a submission could leave something for the
next one (world-writable folders, System V and POSIX IPC, kernel keyrings).

Each expectation is shown twice: met with the view, and failing with the view
switched off (``--unsafe-no-view``), so that the checks can fail.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import (
    HOSTILE,
    ROOT,
    as_nobody,
    copy_course,
    python_for_everyone,
    requires_view,
    runtime_environment,
)

from autograder.runner import system, view
from autograder.runner.pool import PACKAGE_DIR, Limits, Sandbox, Task

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the view needs Linux")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as grading does")

EXPECTED = json.loads((HOSTILE / "expected.json").read_text())
MARK = "autograder-hostile-mark"
QUEUE = b"/autograder-hostile"
SEED = 7
_RT = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)


def world_writable_folders() -> list[Path]:
    """The machine's world-writable folders (what a default Debian system shares)."""
    found = subprocess.run(
        ["find", "/", "-xdev", "-type", "d", "-perm", "-0002", "-not", "-path", "/proc/*"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return sorted({Path(p) for p in found} | {Path("/dev/shm"), Path("/tmp")})


def leftovers() -> list[str]:
    """What a submission planted that is still on the machine."""
    found = [str(folder / MARK) for folder in world_writable_folders() if (folder / MARK).exists()]
    segments = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    if "0x41475748" in segments:
        found.append("System V segment 0x41475748")
    queue = _RT.mq_open(QUEUE, os.O_RDONLY, 0, None)
    if queue != -1:
        os.close(queue)
        found.append("POSIX queue /autograder-hostile")
    return found


def clean_up() -> None:
    for folder in world_writable_folders():
        (folder / MARK).unlink(missing_ok=True)
    subprocess.run(["ipcrm", "-M", "0x41475748"], capture_output=True)
    _RT.mq_unlink(QUEUE)


def keys_left(uids: list[int]) -> list[str]:
    """Keys named like the corpus's in the user keyrings of ``uids`` (a helper takes each uid)."""
    found = []
    for uid in uids:
        probe = subprocess.run(
            [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "python3",
                "-c",
                "import ctypes, platform, sys\n"
                "call = {'x86_64': 250, 'aarch64': 219}[platform.machine()]\n"
                "libc = ctypes.CDLL(None)\n"
                "sys.exit(libc.syscall(call, 10, -4, b'user', b'autograder-hostile', 0) != -1)",
            ],
            capture_output=True,
        )
        if probe.returncode == 1:
            found.append(f"a key in the user keyring of uid {uid}")
    return found


@pytest.fixture(scope="module")
def course():
    if os.geteuid() != 0:
        pytest.skip("grading as root, as the README recommends")
    """The instructor's course folder: a clone with its own environment, under /srv."""
    python = python_for_everyone()
    if python is None:
        pytest.skip("no Python here that the workers' uid may run")
    Path("/srv").mkdir(exist_ok=True)
    top = Path(tempfile.mkdtemp(prefix="autograder-view-", dir="/srv"))
    top.chmod(0o755)
    folder = copy_course(top / "course")
    runtime_environment(folder, python)
    # Another course on the same machine, and the class and the instructor's files.
    other = top / "another-course" / "solutions" / "01_sigmoid"
    other.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "01_sigmoid" / "sigmoid_exercise.ipynb", other)
    shutil.copytree(HOSTILE, folder / "submitted", ignore=shutil.ignore_patterns("*.json"))
    with sqlite3.connect(folder / "gradebook.db") as gradebook:
        gradebook.execute("create table grade (student text, score real)")
        gradebook.execute("insert into grade values ('a-classmate', 9)")
    (folder / "grades" / "feedback" / "a-classmate").mkdir(parents=True)
    # An earlier export kept in the output folder (the grader's own outputs are private).
    (folder / "grades" / "grades-2026-11.csv").write_text("student_id,score\na-classmate,9\n")
    (folder / "grades" / "feedback" / "a-classmate" / "01_sigmoid.html").write_text("<p>9/9</p>")
    subprocess.run(["chmod", "-R", "a+rX", top], check=True)
    yield folder
    shutil.rmtree(top, ignore_errors=True)
    clean_up()


def grade(course: Path, *options: str) -> dict:
    clean_up()
    completed = subprocess.run(
        [
            course / ".venv" / "bin" / "python",
            "-m",
            "autograder",
            "grade",
            "submitted",
            "--out",
            "grades",
            "--jobs",
            "1",  # one slot: every submission follows the one before it, with the same uid
            "--timeout",
            "30",
            "--seed",
            str(SEED),
            *options,
        ],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((course / "grades" / "results.json").read_text())
    return {
        "results": results,
        "scores": {s["student_id"]: (s["status"], s["score"]) for s in results["submissions"]},
        "leftovers": leftovers() + keys_left(results["run"]["sandbox"]["uids"]),
        "report": (course / "grades" / "report.html").read_text(),
    }


@pytest.fixture(scope="module")
def with_view(course):
    return grade(course)


@pytest.fixture(scope="module")
def without_view(course, with_view):
    graded = grade(course, "--unsafe-no-view")
    clean_up()
    return graded


@as_root
@pytest.mark.slow
def test_the_corpus_covers_what_the_view_must_hold():
    behaviours = " ".join(e["behaviour"] for e in EXPECTED.values())
    for target in ("solutions", "classmates", "gradebook", "output folder", "process", "plants"):
        assert target in behaviours, target
    assert sum(e["without_view"] < 0 for e in EXPECTED.values()) >= 2  # victims, one after another


@as_root
@pytest.mark.slow
def test_every_hostile_submission_gets_its_expected_score(with_view):
    assert with_view["results"]["run"]["isolation"]["view"].startswith("its own root")
    wrong = {
        student: (expected["score"], with_view["scores"].get(student))
        for student, expected in EXPECTED.items()
        if with_view["scores"].get(student) != ("ok", expected["score"])
    }
    assert not wrong, wrong


@as_root
@pytest.mark.slow
def test_nothing_planted_is_left_on_the_machine(with_view):
    assert with_view["leftovers"] == []


@as_root
@pytest.mark.slow
def test_the_report_says_the_view_held(with_view, without_view):
    assert "not confined" not in with_view["report"]
    first_screen = without_view["report"].split("<h2>")[0]
    assert "Student code was not confined to its view" in first_screen
    assert "--unsafe-no-view" in first_screen


@as_root
@pytest.mark.slow
def test_without_the_view_every_expectation_fails(without_view):
    """The planted fault: with the view switched off, readers gain and victims lose."""
    assert without_view["results"]["run"]["isolation"]["view"].startswith("none")
    held = {}
    for student, expected in EXPECTED.items():
        _, score = without_view["scores"][student]
        direction = expected["without_view"]
        if direction > 0:
            held[student] = score > expected["score"]
        elif direction < 0:
            held[student] = score < expected["score"]
    assert held and all(held.values()), held


@as_root
@pytest.mark.slow
def test_without_the_view_plants_stay_behind(without_view):
    assert without_view["leftovers"], "the fault could not be seen: nothing was left"


# --------------------------------------------------------------------------- the view itself


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(Limits(timeout=10)) as box:
        yield box


def seen_in_view(sandbox: Sandbox, source: str):
    """What the cell ``source`` prints as JSON, run in a worker's view (skip where none)."""
    outcome = sandbox.run(Task(cells=[{"index": 1, "source": source}]))
    requires_view(outcome.isolation)
    assert outcome.cells[0].error is None, outcome.cells[0].error
    return json.loads(outcome.cells[0].output)


def test_the_view_holds_the_interpreter_and_the_system_only(sandbox):
    seen = seen_in_view(
        sandbox,
        "import json, os\n"
        "listing = lambda p: sorted(os.listdir(p)) if os.path.isdir(p) else None\n"
        f"print(json.dumps({{p: listing(p) for p in ['/', '/etc', '/dev', {str(ROOT)!r}]}}))",
    )
    binds = sandbox.ready["view_paths"]["binds"]
    bound_tops = {Path(p).parts[1] for p in binds}
    system_tops = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp"}
    assert set(seen["/"]) <= system_tops | bound_tops, seen["/"]
    assert not {"home", "srv", "var", "run", "opt", "mnt", "media"} & (set(seen["/"]) - bound_tops)
    assert set(seen["/etc"]) <= {"group", "passwd", *(Path(p).name for p in view.ETC)}
    assert seen["/dev"] == sorted([*view.DEVICES, *view.DEVICE_LINKS, "shm"])
    # Of the course folder, only the path to an environment inside it (.venv), if any.
    inside = [Path(p).relative_to(ROOT).parts[0] for p in binds if view.inside(p, str(ROOT))]
    assert str(ROOT) not in binds
    assert seen[str(ROOT)] == (sorted(set(inside)) or None)
    assert not any(view.inside(p, PACKAGE_DIR) for p in binds)


def test_nothing_but_its_private_tmp_is_writable(sandbox):
    writable = seen_in_view(
        sandbox,
        "import json, os\nfound = []\n"
        "for folder, dirs, _ in os.walk('/'):\n"
        "    dirs[:] = [d for d in dirs if os.path.join(folder, d) != '/proc']\n"
        "    if os.access(folder, os.W_OK):\n"
        "        found.append(folder)\n"
        "print(json.dumps(found))",
    )
    assert writable and all(view.inside(p, "/tmp") or view.inside(p, "/dev/shm") for p in writable)
    assert "/tmp/submission" in writable


def test_proc_shows_only_its_own_processes(sandbox):
    seen = seen_in_view(
        sandbox,
        "import json, os, subprocess\n"
        "import time\nchild = subprocess.Popen(['sleep', '5'])\n"
        "for _ in range(100):  # until the child has exec'd (and become visible to its uid)\n"
        "    pids = sorted(int(e) for e in os.listdir('/proc') if e.isdigit())\n"
        "    if child.pid in pids:\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "child.kill()\n"
        "print(json.dumps({'pids': pids, 'mine': [os.getpid(), child.pid]}))",
    )
    assert sorted(seen["pids"]) == sorted(seen["mine"])


def test_a_path_to_hide_inside_a_bound_folder_is_covered(tmp_path):
    import sklearn

    data = str(Path(sklearn.__file__).parent / "datasets" / "data")
    source = f"import json, os\nprint(json.dumps(os.listdir({data!r})))"
    with Sandbox(Limits(timeout=10), hide=[data]) as box:
        assert seen_in_view(box, source) == []
    with Sandbox(Limits(timeout=10)) as box:  # the planted fault: not named
        assert "digits.csv.gz" in seen_in_view(box, source)


def test_the_plan_never_binds_the_package_or_what_it_must_hide(tmp_path):
    course = tmp_path / "course"
    site = tmp_path / "venv" / "site-packages"
    for folder in (course / "autograder", course / ".venv" / "lib", site / "autograder"):
        folder.mkdir(parents=True)
    paths = [str(course), str(course / ".venv"), str(site)]
    installed = view.plan(paths, str(site / "autograder"), [str(course)], 1000, 1000)
    assert str(course) not in installed.binds
    assert {str(course / ".venv"), str(site)} <= set(installed.binds)
    assert installed.hidden == [str(site / "autograder")]  # installed in site-packages: covered
    planted = view.plan(paths, str(site / "autograder"), [], 1000, 1000)
    assert str(course) in planted.binds  # the fault the hide list prevents


def writable_in(root: str, paths: list[str]) -> list[str]:
    """Which of ``paths`` (inside the view at ``root``) accept a new file."""
    found = []
    for path in paths:
        try:
            with open(os.path.join(root + path, ".probe"), "w"):
                pass
            found.append(path)
        except OSError:
            pass
    return found


def assembled_and_probed(monkeypatch_mount=None) -> list[str]:
    """Assemble a view in a child's own mount namespace; return what was writable in it."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read)
            if monkeypatch_mount is not None:
                system.mount = monkeypatch_mount(system.mount)
            system.unshare(system.CLONE_NEWNS)
            system.mount("none", "/", None, system.MS_REC | system.MS_PRIVATE, None)
            root = tempfile.mkdtemp()
            plan = view.plan([sys.prefix], PACKAGE_DIR, [], 1000, 1000)
            view.assemble(plan, root)
            probes = ["/", "/usr", "/etc", "/dev", os.path.realpath(sys.prefix)]
            os.write(write, json.dumps(writable_in(root, probes)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    data = os.read(read, 1 << 16)
    os.close(read)
    _, status = os.waitpid(child, 0)
    assert status == 0
    return json.loads(data)


@as_root
def test_assembling_leaves_nothing_writable():
    assert assembled_and_probed() == []

    def forgets_read_only(mount):  # planted: every read-only remount forgotten
        def patched(source, target, fstype, flags, data):
            if flags & system.MS_REMOUNT:
                return None
            return mount(source, target, fstype, flags, data)

        return patched

    assert set(assembled_and_probed(forgets_read_only)) >= {"/", "/dev", "/usr"}


CAPABILITIES_PROBE = r"""
import json, sys
from autograder.runner.pool import Limits, Sandbox, Task

probe = (
    "import ctypes, json, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
    "remount = libc.mount(b'none', b'/usr', None, 32 | 4096, None)\n"
    "print(json.dumps({'CapEff': status['CapEff'].strip(), 'CapBnd': status['CapBnd'].strip(),"
    " 'remount': remount, 'errno': ctypes.get_errno()}))\n"
)
with Sandbox(Limits(timeout=10)) as box:
    outcome = box.run(Task(cells=[{"index": 1, "source": probe}]))
print(json.dumps({"isolation": outcome.isolation, "output": outcome.cells[0].output,
                  "error": outcome.cells[0].error}))
"""


@as_root
@pytest.mark.slow
def test_a_normal_users_worker_keeps_no_capability(student_clone):
    """Without root the view lives in a user namespace, where the zygote holds every
    capability: its workers drop them all, so they cannot remount the view read-write."""
    python = str(student_clone / ".venv" / "bin" / "python")
    confine = student_clone / "autograder" / "runner" / "confine.py"

    def probe() -> dict:
        ran = as_nobody(python, "-c", CAPABILITIES_PROBE, cwd=student_clone)
        assert ran.returncode == 0, ran.stderr[-2000:]
        result = json.loads(ran.stdout)
        if not result["isolation"].get("view", "").startswith("its own root"):
            pytest.skip(f"no user namespaces for normal users here: {result['isolation']}")
        assert result["error"] is None, result["error"]
        return json.loads(result["output"])

    seen = probe()
    assert int(seen["CapEff"], 16) == 0 and int(seen["CapBnd"], 16) == 0, seen
    assert seen["remount"] == -1
    original = confine.read_text()
    try:  # planted: a worker that forgets to drop them
        confine.write_text(original.replace("system.drop_capabilities()", "pass"))
        planted = probe()
    finally:
        confine.write_text(original)
    assert int(planted["CapEff"], 16) != 0 and planted["remount"] == 0, planted
