"""Student notebooks generated from the solution notebooks, with nbgrader.

The solution notebook ``solutions/<assignment>/<name>.ipynb`` is the single
source.  ``python -m autograder.exercises`` runs ``nbgrader generate_assignment``
on it in a scratch course folder and writes the released notebook to
``chapters/<assignment>/<name>.ipynb``; ``--check`` only reports notebooks
whose committed student version differs from what generation produces.

:func:`strip_hidden_tests` is what the website uses to show a solution
notebook without its hidden tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CHAPTERS = ROOT / "chapters"

_HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M
)
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


def assignments(solutions: Path = SOLUTIONS) -> list[str]:
    """Assignment ids: the folders of ``solutions/`` that hold a notebook."""
    return sorted(p.name for p in solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader_env() -> dict[str, str]:
    """The environment for running nbgrader from this Python.

    nbgrader runs ``alembic`` when it creates a gradebook, so this
    environment's ``bin/`` must come first on PATH.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate(assignment: str, dest: Path, solutions: Path = SOLUTIONS) -> list[Path]:
    """Release ``assignment`` with nbgrader and copy its notebooks into ``dest``.

    Returns the written notebooks.  nbgrader works in a scratch course folder
    so that its gradebook and its ``--force`` clean-up never touch the repo.
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        course = Path(scratch)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(
            solutions / assignment,
            course / "solutions" / assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        completed = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
            cwd=course,
            env=nbgrader_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"nbgrader generate_assignment {assignment} failed:\n{completed.stderr[-4000:]}"
            )
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for released in sorted((course / "release" / assignment).glob("*.ipynb")):
            target = dest / released.name
            notebook = nbformat.read(released, as_version=4)
            nbformat.write(notebook, target)
            written.append(target)
        return written


def strip_hidden_tests(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove hidden-test blocks and solution markers from a notebook, in place.

    Used for showing a solution notebook: the solution stays, its
    ``### BEGIN/END SOLUTION`` markers and the hidden tests go.
    """
    for cell in notebook.cells:
        if cell.cell_type == "code":
            source = _HIDDEN_TESTS.sub("", cell.source)
            cell.source = _SOLUTION_MARKERS.sub("", source).rstrip("\n")
    return notebook


def differences(
    assignment: str, solutions: Path = SOLUTIONS, chapters: Path = CHAPTERS
) -> list[str]:
    """What is wrong with the committed student notebooks of ``assignment``, if anything."""
    with tempfile.TemporaryDirectory(prefix="generated-") as scratch:
        fresh = generate(assignment, Path(scratch), solutions)
        problems = []
        for path in fresh:
            committed = chapters / assignment / path.name
            if not committed.exists():
                problems.append(f"{committed} is missing")
            elif json.loads(committed.read_text()) != json.loads(path.read_text()):
                problems.append(f"{committed} differs from what its solution generates")
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.exercises", description=__doc__)
    parser.add_argument("assignment", nargs="*", help="assignment ids (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks that are out of date"
    )
    args = parser.parse_args(argv)
    chosen = args.assignment or assignments()
    if args.check:
        problems = [p for a in chosen for p in differences(a)]
        for problem in problems:
            print(f"{problem}: run 'make exercises'", file=sys.stderr)
        return 1 if problems else 0
    for assignment in chosen:
        for path in generate(assignment, CHAPTERS / assignment):
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
