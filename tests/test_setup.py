"""The set-up a student runs first: the lock installs on every Python the project claims.

``requirements.lock`` was once resolved on a newer patch release than the README
promises and silently raised the floor (soupsieve 4.1.3 needs Python 3.11.5; Debian 12
has 3.11.2).  These tests read each locked package's ``Requires-Python`` from the
installed distributions, resolve the lock with a second interpreter where the machine
has one, check that ``make`` stops in one line on an unsupported Python, and run a
student's ``check`` as an unprivileged user.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import UNPRIVILEGED, as_nobody, second_python
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def lowest_supported_python() -> Version:
    """The lowest version ``requires-python`` admits (``>=3.11`` means 3.11.0)."""
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*([0-9]+(?:\.[0-9]+)*)", spec.strip())
    assert match, f"requires-python should be a plain lower bound, not {spec!r}"
    parts = [int(p) for p in match[1].split(".")]
    return Version(".".join(map(str, [*parts, 0, 0][:3])))


def locked() -> dict[str, str]:
    """``{name: version}`` of every package the lock pins."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    return pins


def excluding(
    pins: dict[str, str], requires_python: dict[str, str | None], python: Version
) -> list[str]:
    """The pins whose ``Requires-Python`` (by canonical name) leaves out ``python``."""
    found = []
    for name, version in sorted(pins.items()):
        spec = requires_python.get(canonicalize_name(name))
        if spec and not SpecifierSet(spec).contains(python, prereleases=True):
            found.append(f"{name}=={version} requires Python {spec}")
    return found


def installed_requires_python(pins: dict[str, str]) -> dict[str, str | None]:
    """Each pinned package's ``Requires-Python``, read from the installed distribution."""
    found, wrong = {}, []
    for name, version in pins.items():
        distribution = importlib.metadata.distribution(name)
        if distribution.version != version:
            wrong.append(f"{name} {distribution.version} (locked: {version})")
        found[canonicalize_name(name)] = distribution.metadata.get("Requires-Python")
    assert not wrong, f"the environment is not the lock's (run make setup): {wrong}"
    return found


def test_every_locked_package_installs_on_the_lowest_supported_python():
    lowest = lowest_supported_python()
    pins = locked()
    assert len(pins) > 100, "the lock should pin the whole environment"
    problems = excluding(pins, installed_requires_python(pins), lowest)
    assert not problems, f"the lock cannot install on Python {lowest}: {problems}"


def test_the_check_catches_the_pin_that_broke_debian_12():
    # soupsieve 4.1.3, as it was locked, with its real metadata: it needs Python 3.11.5.
    pins = {"soupsieve": "4.1.3", "numpy": "2.4.6"}
    metadata = {"soupsieve": ">=3.11.5", "numpy": ">=3.11"}
    assert excluding(pins, metadata, Version("3.11.0")) == [
        "soupsieve==4.1.3 requires Python >=3.11.5"
    ]
    assert excluding(pins, metadata, Version("3.11.5")) == []
    assert lowest_supported_python() == Version("3.11.0")


@pytest.mark.slow
def test_the_lock_resolves_with_the_machines_other_python(tmp_path):
    other = second_python()
    if other is None:
        pytest.skip("no second Python (/usr/bin/python3) beside this environment's")
    version = subprocess.run(
        [other, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if Version(version) < lowest_supported_python():
        pytest.skip(f"{other} is Python {version}, older than the course supports")
    # A bare environment of that Python (Debian marks its own as externally managed),
    # resolved by this environment's pip, as `make setup` would install it.
    subprocess.run([other, "-m", "venv", "--without-pip", tmp_path / "venv"], check=True)
    resolved = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            tmp_path / "venv" / "bin" / "python",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--report",
            tmp_path / "report.json",
            "-c",
            LOCK,
            "-e",
            f"{ROOT}[book,grading,test]",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    errors = [line for line in resolved.stderr.splitlines() if "is ignored" not in line]
    assert resolved.returncode == 0, f"the lock does not resolve on Python {version}: {errors}"
    report = (tmp_path / "report.json").read_text()
    assert f'"python_full_version": "{version}"' in report


def run_make(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture
def course_copy(tmp_path):
    """The files set-up reads, in a folder of their own (no .venv yet)."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_make_stops_in_one_line_on_an_unsupported_python(course_copy):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    pyproject = course_copy / "pyproject.toml"
    # This interpreter, against a floor above it: what an older Python meets.
    pyproject.write_text(
        pyproject.read_text().replace('requires-python = ">=3.11"', 'requires-python = ">=3.99"')
    )
    found = ".".join(map(str, sys.version_info[:3]))
    for goal in ("book", "test", "setup"):
        made = run_make(course_copy, goal, f"PYTHON={sys.executable}")
        assert made.returncode != 0
        lines = (made.stdout + made.stderr).strip().splitlines()
        assert len(lines) == 1, lines
        assert f"Python {found}" in lines[0] and "Python 3.99 or newer" in lines[0], lines
    assert not (course_copy / ".venv").exists(), "nothing may be made before the check"
    missing = run_make(course_copy, "book", "PYTHON=/nonexistent/python3")
    assert missing.returncode != 0
    assert "/nonexistent/python3 was not found" in missing.stderr


def test_make_accepts_a_supported_python(course_copy):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n: the check runs when make reads the Makefile; nothing is installed.
    made = run_make(course_copy, "-n", "setup", f"PYTHON={sys.executable}")
    assert made.returncode == 0, made.stderr
    assert "venv" in made.stdout and "requires-python" not in made.stderr


# --------------------------------------------------------------------------- a normal user


@pytest.mark.slow
def test_a_student_checks_a_notebook_as_a_normal_user(student_clone):
    """The README's student path, `python -m autograder check`, run as ``nobody``."""
    folder = student_clone / "chapters" / "01_sigmoid"
    notebook = folder / "sigmoid_exercise.ipynb"
    shutil.copy(student_clone / "solutions" / "01_sigmoid" / notebook.name, notebook)
    shutil.chown(notebook, UNPRIVILEGED, UNPRIVILEGED)
    python = str(student_clone / ".venv" / "bin" / "python")
    checked = as_nobody(python, "-m", "autograder", "check", notebook.name, cwd=folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"Visible checks: (\d+) of \1 points", checked.stdout), checked.stdout
    # A wrong answer fails, with its hint: the check really ran that user's notebook.
    cells = json.loads(notebook.read_text())
    (answer,) = [c for c in cells["cells"] if "".join(c["source"]).startswith("def sigmoid(")]
    answer["source"] = "def sigmoid(x):\n    return np.exp(x)\n"
    notebook.write_text(json.dumps(cells))
    checked = as_nobody(python, "-m", "autograder", "check", notebook.name, cwd=folder)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "FAIL sigmoid_visible" in checked.stdout and "reread" in checked.stdout


WITHOUT_NAMESPACES = """
import json, sys
from pathlib import Path
from autograder.self_check import check_notebook
from autograder.grading import load_assignment, preload_modules
from autograder.runner.pool import Limits, Sandbox, Task

assignment = load_assignment("01_sigmoid")
# As on a laptop whose kernel gives normal users no namespaces.
with Sandbox(Limits(), preload=preload_modules([assignment]), namespaces=False) as box:
    report = check_notebook(assignment, Path(sys.argv[1]), box)
    held = box.run(Task(cells=[])).isolation
print(report.text())
print(json.dumps(held))
"""


@pytest.mark.slow
def test_a_students_check_works_without_namespaces(student_clone):
    folder = student_clone / "chapters" / "01_sigmoid"
    notebook = folder / "solved.ipynb"
    shutil.copy(student_clone / "solutions" / "01_sigmoid" / "sigmoid_exercise.ipynb", notebook)
    shutil.chown(notebook, UNPRIVILEGED, UNPRIVILEGED)
    python = str(student_clone / ".venv" / "bin" / "python")
    checked = as_nobody(python, "-c", WITHOUT_NAMESPACES, notebook.name, cwd=folder)
    assert checked.returncode == 0, checked.stderr[-2000:]
    *report, held = checked.stdout.strip().splitlines()
    assert json.loads(held)["view"].startswith("none")
    assert re.search(r"Visible checks: (\d+) of \1 points", "\n".join(report)), report
