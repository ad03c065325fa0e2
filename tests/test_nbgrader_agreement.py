"""Agreement with nbgrader: honest submissions get the same score from both, student by student.

The same notebooks go through a real ``nbgrader autograde`` (scores read from its
gradebook) and through ``python -m autograder grade``: the honest half of the
adversarial corpus for chapter 1 (complete, untouched, partial, several kinds of
wrong), and for the chapter whose checks pass functions as arguments and judge
answers (cross-entropy) a complete and a partial submission.  nbgrader needs
seconds per notebook, so the other chapters are left to the round-trip test.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from helpers import SUBMISSIONS, set_student_id
from nbgrader_course import NbgraderCourse, fill_in, solution_sources

from autograder.checks import ASSIGNMENTS
from autograder.course import SOLUTIONS

pytestmark = pytest.mark.slow

CORPUS = SUBMISSIONS
AGREEMENT = [a for a in ("01_sigmoid", "04_cross_entropy") if a in ASSIGNMENTS]
HONEST = sorted(
    s for s, e in json.loads((CORPUS / "expected.json").read_text()).items() if e["honest"]
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = NbgraderCourse(tmp_path_factory.mktemp("course"), AGREEMENT)
    ours = tmp_path_factory.mktemp("submitted")
    submitted: dict[str, list[str]] = {}
    for assignment in AGREEMENT:
        released = course.release(assignment)
        students: dict[str, dict] = {}
        for name, notebook in released.items():
            answers = solution_sources(nbformat.read(SOLUTIONS / assignment / name, as_version=4))
            first = dict([next(iter(answers.items()))])
            # Each notebook carries the id it is submitted under, for per-student questions.
            complete = set_student_id(fill_in(notebook, answers), "complete")
            students.setdefault("complete", {})[name] = complete
            students.setdefault("partial", {})[name] = set_student_id(
                fill_in(notebook, first), "partial"
            )
            if assignment == "01_sigmoid":
                for student in HONEST:
                    path = CORPUS / student / assignment / name
                    corpus = set_student_id(nbformat.read(path, 4), f"corpus-{student}")
                    students.setdefault(f"corpus-{student}", {})[name] = corpus
        for student, notebooks in students.items():
            course.submit(student, assignment, notebooks)
            for name, notebook in notebooks.items():
                folder = ours / student / assignment
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, folder / name)
        submitted[assignment] = sorted(students)
        course.autograde(assignment)
    out = tmp_path_factory.mktemp("out")
    command = [sys.executable, "-m", "autograder", "grade", str(ours), "--out", str(out)]
    completed = subprocess.run(
        [*command, "--jobs", "2", "--seed", "2718"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())["submissions"]
    mine = {(r["assignment"], r["student_id"]): (r["score"], r["max_score"]) for r in results}
    return course, submitted, mine


@pytest.mark.parametrize("assignment", AGREEMENT)
def test_scores_equal_nbgrader_student_by_student(graded, assignment):
    course, submitted, mine = graded
    theirs = course.scores(assignment)
    ours = {student: mine[(assignment, student)] for student in submitted[assignment]}
    assert {s: theirs[s] for s in submitted[assignment]} == ours


def test_the_corpus_spans_right_partial_and_wrong(graded):
    _, _, mine = graded
    scores = {mine[("01_sigmoid", f"corpus-{s}")][0] for s in HONEST}
    full = sum(check.points for check in ASSIGNMENTS["01_sigmoid"])
    assert 0 in scores and full in scores and len(scores) >= 5
