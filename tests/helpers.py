"""Helpers shared by test modules: copies of the course with an environment of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a clone of the course needs to grade and to check (not the tests, the book's build).
COURSE_FILES = (
    "autograder",
    "chapters",
    "solutions",
    "README.md",
    "pyproject.toml",
    "requirements.lock",
    "nbgrader_config.py",
)
UNPRIVILEGED = 65534  # nobody


def readable_by_others(path: Path) -> bool:
    """Whether another user can reach ``path`` (every folder above it searchable by others)."""
    path = path.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in path.parents) and bool(
        os.stat(path).st_mode & 0o004
    )


def second_python() -> str | None:
    """Debian's own python3 when it is not the interpreter of this environment."""
    candidate = shutil.which("python3", path="/usr/bin:/bin")
    if candidate is None:
        return None
    ours = Path(sys._base_executable).resolve()
    return None if Path(candidate).resolve() == ours else candidate


def python_for_everyone() -> str | None:
    """An interpreter other users can run: Debian's, or this environment's base one."""
    for candidate in (second_python(), sys._base_executable):
        if candidate and readable_by_others(Path(candidate)):
            return candidate
    return None


def copy_course(dest: Path) -> Path:
    """A copy of the course's working tree at ``dest`` (what a fresh clone holds)."""
    dest.mkdir(parents=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy(source, dest / name)
    return dest


def runtime_environment(course: Path, python: str) -> Path:
    """``course/.venv`` made with ``python``, holding the grader's run-time dependencies."""
    subprocess.run([python, "-m", "venv", course / ".venv"], check=True)
    installed = subprocess.run(
        [
            course / ".venv" / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            course / "requirements.lock",
            "-e",
            course,
        ],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return course / ".venv" / "bin" / "python"


def as_nobody(*command, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``command`` as ``nobody`` (needs root and setpriv), with HOME above ``cwd``."""
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={UNPRIVILEGED}",
            f"--regid={UNPRIVILEGED}",
            "--clear-groups",
            "--reset-env",
            "env",
            f"HOME={cwd.parent}",
            *command,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
