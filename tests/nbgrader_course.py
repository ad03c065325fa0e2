"""A scratch nbgrader course for tests: release, submit, autograde, read the gradebook.

Everything runs the real ``nbgrader`` command in a temporary folder with the
repository's ``nbgrader_config.py``, and scores come from nbgrader's own
gradebook.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.course import ROOT, SOLUTIONS
from autograder.exercises import nbgrader_env


class NbgraderCourse:
    """An nbgrader course folder holding copies of the course's solution notebooks."""

    def __init__(self, root: Path, assignments: list[str]):
        self.root = root
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        for assignment in assignments:
            shutil.copytree(SOLUTIONS / assignment, root / "solutions" / assignment)

    def nbgrader(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.root,
            env=nbgrader_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{completed.stderr[-6000:]}")
        return completed

    def release(self, assignment: str) -> dict[str, nbformat.NotebookNode]:
        """Generate the student version; returns the released notebooks by file name."""
        self.nbgrader("generate_assignment", assignment, "--force")
        folder = self.root / "release" / assignment
        return {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}

    def submit(self, student: str, assignment: str, notebooks: dict[str, nbformat.NotebookNode]):
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, notebook in notebooks.items():
            nbformat.write(notebook, folder / name)

    def autograde(self, assignment: str) -> None:
        self.nbgrader("autograde", assignment, "--force")

    def scores(self, assignment: str) -> dict[str, tuple[float, float]]:
        """(score, max_score) by student, read from nbgrader's gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            return {
                submission.student.id: (submission.score, submission.max_score)
                for submission in gradebook.assignment_submissions(assignment)
            }

    def cell_scores(self, assignment: str, student: str) -> dict[str, float]:
        """Points by graded cell (grade_id) for one student's submission."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission(assignment, student)
            return {
                grade.name: grade.score
                for notebook in submission.notebooks
                for grade in notebook.grades
            }


def solution_sources(solution: nbformat.NotebookNode) -> dict[str, str]:
    """The source of each solution cell of a solution notebook, by grade_id."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def fill_in(released: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of a student notebook with the given solution cells answered, as a student would."""
    notebook = copy.deepcopy(released)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook
