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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import course
from autograder.checks import ASSIGNMENTS

SOLUTIONS = course.SOLUTIONS
CHAPTERS = course.CHAPTERS


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
        folder = Path(scratch)
        shutil.copy(course.NBGRADER_CONFIG, folder / "nbgrader_config.py")
        shutil.copytree(
            solutions / assignment,
            folder / "solutions" / assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        completed = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
            cwd=folder,
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
        for released in sorted((folder / "release" / assignment).glob("*.ipynb")):
            target = dest / released.name
            notebook = nbformat.read(released, as_version=4)
            nbformat.write(notebook, target)
            written.append(target)
        return written


def strip_hidden_tests(notebook: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """Remove hidden-test blocks and solution markers from a notebook, in place.

    Used for showing a solution notebook: the solution stays, its
    ``### BEGIN/END SOLUTION`` markers and the hidden tests go.

    Raises
    ------
    ValueError
        A cell opens a hidden-test block it never closes (or closes one it never
        opened): its tests would otherwise be published.  The message names the
        notebook (``name``) and the cell, as nbgrader does.
    """
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            source = course.HIDDEN_TESTS.sub("", cell.source)
            if course.HIDDEN_TESTS_MARKER.search(source):
                raise ValueError(
                    f"{name or 'a notebook'}: cell {number} "
                    f"({cell.get('metadata', {}).get('nbgrader', {}).get('grade_id', 'no id')}) "
                    "has a '### BEGIN HIDDEN TESTS' without its '### END HIDDEN TESTS' "
                    "(or the other way round)"
                )
            cell.source = course.SOLUTION_MARKERS.sub("", source).rstrip("\n")
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
    chosen = args.assignment or sorted(ASSIGNMENTS)
    if args.check:
        problems = [p for a in chosen for p in differences(a)]
        for problem in problems:
            print(f"{problem}: run 'make exercises'", file=sys.stderr)
        return 1 if problems else 0
    for assignment in chosen:
        for path in generate(assignment, CHAPTERS / assignment):
            print(f"wrote {path.relative_to(course.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
