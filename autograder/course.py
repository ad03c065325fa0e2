"""The course's layout: where its chapters, solutions and student notebooks live.

The one module that knows the repository's shape.  An assignment's id is its
chapter folder's name (``01_sigmoid``); its source notebook (nbgrader's source
format, the single source) is ``solutions/<id>/<name>_exercise.ipynb``, its
student notebook the same name under ``chapters/<id>/``, and its chapter page the
MyST Markdown file of ``chapters/<id>/``.  The markers nbgrader's source
notebooks carry, and the MyST labels that name a page's sections, are read here
too.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The course folder (a checkout, or a copy of it such as a Gradescope autograder).
ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CHAPTERS = ROOT / "chapters"
#: nbgrader's configuration of the course folder.
NBGRADER_CONFIG = ROOT / "nbgrader_config.py"

#: A hidden-test block of a source notebook's test cell, markers included.
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M
)
#: A line that opens or closes a hidden-test block (to find one left open).
HIDDEN_TESTS_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS", re.M)
#: A line that opens or closes a solution region.
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


def solution_notebooks(assignment_id: str, solutions: Path = SOLUTIONS) -> list[Path]:
    """The notebooks of an assignment's source folder (there must be exactly one)."""
    return sorted((solutions / assignment_id).glob("*.ipynb"))


def chapter_page(assignment_id: str, root: Path = ROOT) -> Path | None:
    """The chapter page (MyST Markdown) of an assignment, if the course folder has it."""
    pages = sorted((root / "chapters" / assignment_id).glob("*.md"))
    return pages[0] if pages else None


def section_title(page: Path | None, label: str) -> str | None:
    """The heading that follows the MyST label ``(label)=`` on ``page``."""
    if page is None or not page.is_file():
        return None
    lines = page.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.strip() == f"({label})=":
            for following in lines[number + 1 : number + 4]:
                if following.startswith("#"):
                    return following.lstrip("#").strip()
    return None
