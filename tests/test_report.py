"""Outputs: grades.csv, results.json, student feedback and the instructor's report."""

from __future__ import annotations

import csv
import io
import json
import os

import nbformat
import pytest
from helpers import CORPUS_EXPECTED, SUBMISSIONS, assert_well_formed

from autograder.grading import grade_submission, load_assignment, preload_modules
from autograder.report import (
    feedback_html,
    grades_csv,
    report_html,
    results_json,
    write_atomic,
)
from autograder.runner.pool import Limits, Sandbox


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    assignment = load_assignment("01_sigmoid")
    hostile = nbformat.read(SUBMISSIONS / "complete" / "01_sigmoid" / assignment.notebook, 4)
    hostile.cells.append(
        nbformat.v4.new_code_cell(
            "print('<script>alert(1)</script>')\nraise ValueError('<img src=x onerror=alert(2)>')"
        )
    )
    folder = tmp_path_factory.mktemp("hostile")
    nbformat.write(hostile, folder / assignment.notebook)
    results = []
    with Sandbox(Limits(timeout=5), preload=preload_modules([assignment])) as sandbox:
        for student in ("complete", "textbook-sigmoid", "magics", "not-a-notebook"):
            path = SUBMISSIONS / student / "01_sigmoid" / assignment.notebook
            results.append(grade_submission(assignment, student, path, sandbox, 5))
        results.append(
            grade_submission(assignment, "<b>hostile</b>", folder / assignment.notebook, sandbox, 5)
        )
    return assignment, results


def test_grades_csv(graded):
    assignment, results = graded
    rows = list(csv.DictReader(io.StringIO(grades_csv(results, [assignment]))))
    exercises = list(dict.fromkeys(c.exercise for c in assignment.checks))
    assert exercises[:3] == ["sigmoid", "sigmoid_grad", "logit"]
    assert list(rows[0]) == [
        "student_id",
        "assignment",
        *exercises,
        "score",
        "max_score",
        "status",
    ]
    by_student = {row["student_id"]: row for row in rows}
    assert by_student["complete"]["score"] == str(CORPUS_EXPECTED["complete"]["score"])
    assert by_student["textbook-sigmoid"]["sigmoid"] == "1"
    assert by_student["not-a-notebook"]["status"] == "not-a-notebook"
    assert len(rows) == len(results)


def test_results_json(graded):
    assignment, results = graded
    document = json.loads(results_json(results, [assignment], {"seed": 5}))
    assert document["run"]["seed"] == 5
    assert document["statuses"]["ok"] >= 2
    check = document["submissions"][0]["checks"][0]
    assert {"name", "points", "passed", "message", "visibility"} <= set(check)
    assert document["assignments"]["01_sigmoid"]["max_score"] == sum(
        c.points for c in assignment.checks
    )


def test_feedback_escapes_what_students_wrote_and_hides_hidden_inputs(graded):
    assignment, results = graded
    hostile = next(r for r in results if r.student_id == "<b>hostile</b>")
    page = feedback_html(hostile, assignment)
    assert_well_formed(page)
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;b&gt;hostile&lt;/b&gt;" in page
    flawed = next(r for r in results if r.student_id == "textbook-sigmoid")
    page = feedback_html(flawed, assignment)
    assert_well_formed(page)
    failed_hidden = [c for c in flawed.checks if c.visibility == "hidden" and not c.passed]
    assert failed_hidden, "the textbook sigmoid fails a hidden check (else nothing is shown)"
    for check in failed_hidden:
        assert check.message.splitlines()[0] not in page
        assert "raised FloatingPointError" in page


def test_feedback_reports_what_was_not_run(graded):
    assignment, results = graded
    magics = next(r for r in results if r.student_id == "magics")
    page = feedback_html(magics, assignment)
    assert "!pip install numpy" in page and "%%bash" in page


def test_report_has_figures_and_common_failures(graded):
    assignment, results = graded
    page = report_html(results, [assignment], {"seed": 5, "seconds": 1.0, "jobs": 2})
    assert_well_formed(page)
    assert page.count("data:image/svg+xml;base64,") == 1
    assert "Most common failures" in page
    assert "sigmoid_hidden" in page


def test_the_report_figure_draws_the_scores_and_pass_rates(graded):
    import base64
    import re
    import xml.etree.ElementTree as ET
    from collections import Counter

    assignment, results = graded
    page = report_html(results, [assignment], {"seed": 5, "seconds": 1.0, "jobs": 2})
    (data,) = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page)
    svg = ET.fromstring(base64.b64decode(data))
    rects = [e for e in svg.iter() if e.tag.endswith("rect")]
    bins = [float(r.get("height")) for r in rects if r.get("class") == "bin"]
    scores = Counter(round(r.score) for r in results)
    counts = [scores[v] for v in range(int(assignment.max_score) + 1)]
    assert len(bins) == len(counts)
    tallest = max(bins)
    assert [round(h / tallest * max(counts), 6) for h in bins] == counts
    widths = [float(r.get("width")) for r in rects if r.get("class") == "rate"]
    passed = Counter(c.name for r in results for c in r.checks if c.passed)
    rates = [passed[c.name] / len(results) for c in assignment.checks]
    assert [round(w / 260, 3) for w in widths] == [round(r, 3) for r in rates]
    alt = re.search(r"<img alt='([^']*)'", page).group(1)
    assert f"Scores out of {assignment.max_score:g}" in alt and "sigmoid_hidden" in alt


def test_writes_are_atomic(tmp_path):
    target = tmp_path / "out" / "grades.csv"
    write_atomic(target, "old\n")

    with pytest.raises(TypeError):
        write_atomic(target, object())  # fails while writing: the old file stays
    assert target.read_text() == "old\n"
    assert os.listdir(target.parent) == ["grades.csv"]


def test_common_failures_come_from_categories_not_wording(graded):
    """The report's common failures list checks that ran and failed, by category: a planted
    rewording (a failed check whose message says 'not verified', an unrun one whose message
    does not) moves nothing."""
    from dataclasses import replace

    from autograder.report import _common_failures

    _, results = graded
    (textbook,) = [r for r in results if r.student_id == "textbook-sigmoid"]
    failed = next(c for c in textbook.checks if not c.passed)
    reworded = replace(failed, message=f"{failed.exercise}: not verified: {failed.message}")
    unrun = replace(failed, category="unverified", message=f"{failed.exercise}: it broke, sorry")
    listed = _common_failures([replace(textbook, checks=[reworded])], 10)
    assert failed.name in listed
    assert "No check failed" in _common_failures([replace(textbook, checks=[unrun])], 10)
