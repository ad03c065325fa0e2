"""A student's path through an exercise, in real JupyterLab driven by headless Chromium.

Open the exercise notebook, type an answer into a solution cell, run it and the visible test
below it, save, run the "Check your work" cell, and read the check's verdict on the page:
once with a right answer and once with a wrong one.  What the page shows must be what
``python -m autograder check`` says of the saved file; a check cell that prints anything else
(planted below) is caught.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course

from .jupyterlab import Lab, Session, jupyterlab, verdicts, work_through

pytestmark = pytest.mark.slow  # a JupyterLab server and a browser per test: seconds each

ASSIGNMENT, NOTEBOOK, FUNCTION = "01_sigmoid", "sigmoid_exercise.ipynb", "sigmoid"
WRONG = "def sigmoid(x):\n    return np.exp(x)"


def solution_answer(function: str) -> str:
    """The solution's code for ``function``, as a student who got it right would type it."""
    notebook = json.loads((course.SOLUTIONS / ASSIGNMENT / NOTEBOOK).read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"def {function}("):
            return course.SOLUTION_MARKERS.sub("", source).rstrip()
    raise AssertionError(f"no solution cell defines {function}")


@pytest.fixture
def lab(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(course.CHAPTERS / ASSIGNMENT / NOTEBOOK, work / NOTEBOOK)
    with jupyterlab(work, tmp_path / "home") as running:
        yield running


def cli_verdicts(path: Path) -> dict[str, str]:
    """What the command line says of the saved notebook: the ground truth for the page."""
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return verdicts(completed.stdout)


def session_problems(session: Session, lab: Lab, right: bool) -> list[str]:
    """How what the student saw differs from what they should have seen."""
    problems = []
    passed = "examples pass" in session.visible_test and "Error" not in session.visible_test
    if passed != right:
        problems.append(f"the visible test printed {session.visible_test!r}")
    source = next(
        "".join(c["source"])
        for c in session.saved["cells"]
        if "".join(c["source"]).startswith(f"def {FUNCTION}(")
    )
    if (source.strip() == WRONG) == right:
        problems.append(f"the saved notebook holds {source!r}")
    shown, truth = verdicts(session.check), cli_verdicts(lab.root / NOTEBOOK)
    if not truth:
        problems.append("the command line gave no verdict on the saved notebook")
    if shown != truth:
        problems.append(f"the check cell showed {shown}; the saved notebook checks as {truth}")
    if truth.get(f"{FUNCTION}_visible") != ("PASS" if right else "FAIL"):
        problems.append(f"{FUNCTION}_visible is {truth.get(f'{FUNCTION}_visible')}")
    return problems


def test_a_right_answer_passes_its_visible_test_and_the_check(browser, lab):
    page = browser.new_page()
    try:
        session = work_through(page, lab, NOTEBOOK, FUNCTION, solution_answer(FUNCTION))
    finally:
        page.close()
    assert session_problems(session, lab, right=True) == []
    assert "PASS sigmoid_visible" in session.check


def test_a_wrong_answer_fails_its_visible_test_and_the_check(browser, lab):
    page = browser.new_page()
    try:
        session = work_through(page, lab, NOTEBOOK, FUNCTION, WRONG)
    finally:
        page.close()
    assert session_problems(session, lab, right=False) == []
    assert "FAIL sigmoid_visible" in session.check and "smallest failing input" in session.check


def test_a_check_cell_whose_output_is_wrong_is_caught(browser, tmp_path):
    """Planted: the notebook's check cell prints a perfect verdict instead of checking."""
    work = tmp_path / "work"
    work.mkdir()
    notebook = json.loads((course.CHAPTERS / ASSIGNMENT / NOTEBOOK).read_text())
    for cell in notebook["cells"]:
        if "-m autograder check" in "".join(cell["source"]):
            cell["source"] = (
                "# -m autograder check (forged)\n"
                "print('PASS sigmoid_visible (1/1): forged')\n"
                "print('Visible checks: 3 of 3 points.')"
            )
    (work / NOTEBOOK).write_text(json.dumps(notebook))
    page = browser.new_page()
    try:
        with jupyterlab(work, tmp_path / "home") as running:
            session = work_through(page, running, NOTEBOOK, FUNCTION, WRONG)
            problems = session_problems(session, running, right=False)
    finally:
        page.close()
    assert any("the check cell showed" in p for p in problems), problems
