"""Test-suite settings and fixtures shared by every test module."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import UNPRIVILEGED, copy_course, python_for_everyone, runtime_environment
from hypothesis import HealthCheck, settings

# Property tests call mpmath at 50 digits and run beside a book build on two cores: a
# per-example deadline would make them fail for the machine's load, not for the maths.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
# CI explores the same examples on every run, so that a red run is reproducible.
settings.register_profile(
    "ci",
    parent=settings.get_profile("dev"),
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def student_clone():
    """A student's own copy of the course and environment, owned by ``nobody``.

    As the README's student has it: Debian's python3 (or this machine's, when others may
    run it), a clone of the course, and ``.venv`` made from it with the run-time
    dependencies of the lock (the grader's; the book's are the slow part of `make book`).
    """
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become an unprivileged user")
    python = python_for_everyone()
    if python is None:
        pytest.skip("no Python here that other users may run")
    home = Path(tempfile.mkdtemp(prefix="student-", dir="/tmp"))
    os.chmod(home, 0o755)
    clone = copy_course(home / "course")
    runtime_environment(clone, python)
    subprocess.run(["chown", "-R", f"{UNPRIVILEGED}:{UNPRIVILEGED}", home], check=True)
    yield clone
    shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------- running in parallel
#
# ``-n N --dist loadgroup`` (pytest-xdist) keeps each group of tests on one worker. pytest-xdist
# 3.8 names a test's group in its node id, which pytest 9 no longer lets a plugin change; so
# here each worker writes the groups of the tests it collected to a file, and the controller's
# scheduler reads them when it hands out the tests.

#: Session fixtures worth building once per run: tests that use them share a worker.
EXPENSIVE_SESSION_FIXTURES = {"student_clone"}


def xdist_group(item: pytest.Item) -> str | None:
    """Which tests must share a worker, so that a costly fixture is built once: the tests of a
    module that use its module-scoped fixtures (one group per parameter of a parametrized one,
    so that those spread), and the users of an expensive session fixture; or the group an
    ``xdist_group`` mark names. Any other test goes wherever a worker is free (None)."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    module_scoped, session_scoped = [], []
    for name in fixtures.names_closure:
        definitions = fixtures.name2fixturedefs.get(name)
        if not definitions:
            continue
        scope = definitions[-1].scope
        if scope == "module":
            module_scoped.append(name)
        elif scope == "session" and name in EXPENSIVE_SESSION_FIXTURES:
            session_scoped.append(name)
    if session_scoped:
        return "+".join(sorted(session_scoped))
    if module_scoped:
        split = [f"{name}={params[name]}" for name in sorted(module_scoped) if name in params]
        return item.nodeid.split("::")[0] + "".join(f"({s})" for s in split)
    return None


#: The folder the workers write their groups to (on the controller).
GROUPS = pytest.StashKey[Path]()


#: NumPy's BLAS starts a thread per core in every process; with a worker per core they would
#: fight over the cores (OpenBLAS spins while it waits), so each worker keeps to one.
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.getoption("dist", "no") == "no":
        return
    for variable in ONE_THREAD:  # the workers, started after this, inherit them
        os.environ.setdefault(variable, "1")
    if config.getoption("dist") == "loadgroup":
        config.stash[GROUPS] = Path(tempfile.mkdtemp(prefix="pytest-groups-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if GROUPS in config.stash:
        shutil.rmtree(config.stash[GROUPS], ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """The controller tells each worker where to write its groups (with ``--dist loadgroup``)."""
    if GROUPS in node.config.stash:
        node.workerinput["groups_folder"] = str(node.config.stash[GROUPS])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker: write the groups, and put the long work first (the tests marked slow and
    their groups, then the other groups, then single tests), so that the two workers end
    together rather than one of them on a long test while the other waits."""
    workerinput = getattr(config, "workerinput", {})
    if "groups_folder" not in workerinput:
        return
    groups = {item.nodeid: xdist_group(item) for item in items}
    slow = {item.nodeid for item in items if item.get_closest_marker("slow")}
    slow_groups = {groups[nodeid] for nodeid in slow} - {None}

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        if item.nodeid in slow or group in slow_groups:
            return 0
        return 1 if group is not None else 2

    items.sort(key=rank)  # stable: every worker gets the same order, groups stay together
    path = Path(workerinput["groups_folder"]) / f"{workerinput['workerid']}.json"
    path.write_text(json.dumps({k: v for k, v in groups.items() if v is not None}))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if GROUPS not in config.stash:
        return None
    from xdist.scheduler import LoadScopeScheduling

    folder = config.stash[GROUPS]

    class GroupScheduling(LoadScopeScheduling):
        """Load scheduling whose units are the groups the workers wrote (else single tests)."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # every worker has collected: read what they wrote once
                self.groups = {}
                for path in sorted(folder.glob("*.json")):
                    self.groups.update(json.loads(path.read_text()))
            group = self.groups.get(nodeid)
            return nodeid if group is None else f"group {group}"

    config.option.loadscopereorder = False  # hand the work out in the order collected
    return GroupScheduling(config, log)
