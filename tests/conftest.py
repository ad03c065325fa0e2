"""Test-suite settings and fixtures shared by every test module."""

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
