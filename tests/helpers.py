"""Helpers shared by test modules (fixtures live in ``conftest.py``): where the corpora are,
copies of the course with an environment of their own, what a sandbox leaves behind, HTML
that must be well formed, and gradients by central differences.

No test module imports another: what two of them share is here.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The adversarial corpus (``tests/submissions/build_corpus.py`` writes it, and the next one).
SUBMISSIONS = ROOT / "tests" / "submissions"
#: What each notebook of the corpus scores, graded as the student its folder names.
CORPUS_EXPECTED = json.loads((SUBMISSIONS / "expected.json").read_text())
#: The submissions that go after the workers' view.
HOSTILE = ROOT / "tests" / "hostile"
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


# ------------------------------------------------------------------------ the command


def autograder(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m autograder ARGS`` as a user runs it, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


# --------------------------------------------------------------------------- the sandbox


def leftover_processes(run_id: str | None = None, uids=(), sessions=()) -> list[str]:
    """Processes that belong to a sandbox: by uid, by session or group, or a zygote's command."""
    from autograder.runner import system
    from autograder.runner.zygote import MARKER

    found = []
    for info in system.process_table().values():
        reasons = []
        if info.uid in uids:
            reasons.append(f"uid {info.uid}")
        if info.sid in sessions or info.pgid in sessions:
            reasons.append(f"session {info.sid}")
        if run_id is not None:
            try:
                with open(f"/proc/{info.pid}/cmdline", "rb") as handle:
                    words = handle.read().split(b"\0")
            except OSError:
                words = []
            if MARKER.encode() in words and run_id.encode() in words:
                reasons.append("a zygote of this run")
        if reasons:
            found.append(f"pid {info.pid} ({info.state}): {', '.join(reasons)}")
    return found


def requires_view(isolation: dict[str, str]) -> None:
    """Skip, saying why, where the machine cannot give workers their view.

    ``isolation`` is what a run reported (``Outcome.isolation``, or a result's
    ``isolation`` in results.json).
    """
    if not isolation.get("view", "").startswith("its own root"):
        pytest.skip(f"no view here: {isolation.get('view')}")


# --------------------------------------------------------------------------- HTML

#: Elements that have no end tag.
VOID = {"meta", "br", "img", "hr", "input", "link"}


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def assert_well_formed(text: str) -> None:
    """An HTML page whose tags all close in order, and without any script."""
    assert text.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    assert checker.scripts == 0


# --------------------------------------------------------------------------- numerics

EPS = float(np.finfo(np.float64).eps)  # 2**-52
#: The smallest positive normal float64 (``np.finfo(np.float64).tiny``).
SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)  # 2**-1022
#: The smallest positive float64 of all, a subnormal.
SMALLEST_SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)  # 2**-1074


def central_difference_gradient(f, theta, h=None):
    """The gradient of the scalar ``f`` at ``theta``, entry by entry, by central differences.

    The default step ``eps**(1/3) * max(1, |theta_i|)`` balances the O(h^2) truncation
    against rounding; ``h`` may instead be a step, or a function of ``theta_i`` giving one.
    Dividing by the step actually taken (``up - down``) removes the step's own rounding.
    """
    theta = np.array(theta, dtype=float)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        if h is None:
            step = EPS ** (1 / 3) * max(1.0, abs(theta[i]))
        else:
            step = h(theta[i]) if callable(h) else h
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        g[i] = (f(up) - f(down)) / (up[i] - down[i])
    return g


def relative_error(g, g_fd):
    """``|g - g_fd| / max(|g|, |g_fd|)``, safe when both are zero."""
    g, g_fd = np.asarray(g, dtype=float), np.asarray(g_fd, dtype=float)
    return np.linalg.norm(g - g_fd) / max(np.linalg.norm(g), np.linalg.norm(g_fd), SMALLEST_NORMAL)


def set_student_id(notebook: dict, student: str) -> dict:
    """Write ``student`` into the notebook's ``STUDENT_ID = ...`` cell, as that student would.

    Per-student questions draw their parameters from that id; a notebook without the cell
    is returned unchanged.  Works on nbformat nodes and plain JSON dicts alike.
    """
    for cell in notebook["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and source.lstrip().startswith("STUDENT_ID ="):
            first, _, rest = source.lstrip().partition("\n")
            comment = first.partition("#")[2]
            line = f"STUDENT_ID = {student!r}" + (f"  #{comment}" if comment else "")
            cell["source"] = line + ("\n" + rest if rest else "")
    return notebook


def corpus_submission(source: str, student: str, dest: Path) -> Path:
    """Chapter 1's notebook of the corpus's ``source`` folder, answered as ``student`` (its
    ``STUDENT_ID`` set), written to ``dest``: it then scores ``CORPUS_EXPECTED[source]``
    when graded as ``student``."""
    notebook = json.loads(
        (SUBMISSIONS / source / "01_sigmoid" / "sigmoid_exercise.ipynb").read_text()
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(set_student_id(notebook, student)))
    return dest


# ------------------------------------------------- the pages: the test set used once


def myst_code_cells(text):
    """The page's code cells in order: ``(line, tags, source)``, line counted from 1."""
    cells = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```{code-cell}"):
            j, tags = i + 1, set()
            while j < len(lines) and lines[j].startswith(":"):
                found = re.match(r":tags:\s*\[(.*)\]", lines[j])
                if found:
                    tags = {tag.strip(" '\"") for tag in found.group(1).split(",")}
                j += 1
            end = j
            while not lines[end].startswith("```"):
                end += 1
            cells.append((i + 1, tags, "\n".join(lines[j:end])))
            i = end
        i += 1
    return cells


#: Names that contain "test" but do not reach the test images (numpy.testing is NumPy's).
NOT_THE_TEST_SET = {"train_test_split", "test_size", "testing"}
#: What loads the test images: the course's loader.
TEST_LOADERS = {"load_digits_split"}


def mentions_of_the_test_set(source):
    """Where a cell's code reaches for the test set: a name with "test" in it (X_test,
    y_test, X_test_raw, acc_test..., also inside f-strings, as attributes, arguments or
    imports), the course's loader that returns it, or a string that is such a name (a
    dictionary key such as history["test"])."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"\w*test\w*", node.value, re.IGNORECASE):
                found.append(repr(node.value))
            continue
        name = {
            ast.Name: lambda n: n.id,
            ast.Attribute: lambda n: n.attr,
            ast.alias: lambda n: n.name,
            ast.arg: lambda n: n.arg,
            ast.keyword: lambda n: n.arg,
            ast.FunctionDef: lambda n: n.name,
        }.get(type(node), lambda n: None)(node)
        if name and (
            name in TEST_LOADERS or ("test" in name.lower() and name not in NOT_THE_TEST_SET)
        ):
            found.append(name)
    return found


def peeks_before(text, evaluation):
    """``(line, mentions)`` for every code cell of a page before its ``evaluation`` label (the
    section where the test set is first opened) that mentions the test set."""
    assert text.count(evaluation) == 1, "the evaluation section must be there, once"
    evaluation_line = text[: text.index(evaluation)].count("\n") + 1
    return [
        (line, mentions_of_the_test_set(source))
        for line, _, source in myst_code_cells(text)
        if line < evaluation_line and mentions_of_the_test_set(source)
    ]
