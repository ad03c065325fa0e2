"""``python -m autograder grade`` as an instructor runs it: a late policy, Canvas's gradebook,
a regrade against an earlier run, bad options refused before anything is made, and a run
stopped by Ctrl-C or SIGTERM that keeps every graded row and resumes to the same scores."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import SUBMISSIONS, autograder, leftover_processes

from autograder.class_grading import Policies, grade_class
from autograder.grading import load_assignment
from autograder.regrade import read_previous
from autograder.runner import system
from autograder.runner.pool import Limits

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the sandbox needs Linux")

NAME = "sigmoid_exercise.ipynb"
SEED = "20261205"


def make_class(root: Path, students: dict[str, str], stamps: dict[str, str] | None = None):
    """``submitted/<student>/01_sigmoid/`` from the corpus; nbgrader's timestamp.txt where
    ``stamps`` gives one."""
    for student, source in students.items():
        folder = root / student / "01_sigmoid"
        folder.mkdir(parents=True)
        shutil.copy(SUBMISSIONS / source / "01_sigmoid" / NAME, folder / NAME)
        if stamps and student in stamps:
            (folder / "timestamp.txt").write_text(stamps[student] + "\n")
    return root


def table(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# ------------------------------------------------------------------ policies, end to end


def test_a_late_policy_and_a_canvas_gradebook(tmp_path):
    submitted = make_class(
        tmp_path / "submitted",
        {"ada": "complete", "alan": "complete", "emmy": "complete", "grace": "complete"},
        stamps={
            "ada": "2026-12-10 23:00:00.000000 UTC",  # before the due date
            "alan": "2026-12-11 00:00:30.000000 UTC",  # 31 seconds late: one day
            "emmy": "2026-12-13 12:00:00.000000 UTC",  # three started days late
            "grace": "Friday at noon",  # not a time: on time, and said so
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Final Grade\n"
        "    Points Possible,,,,,\n"
        "Ada,1,u1,ada,S1,\nAlan,2,u2,alan,S1,\nEmmy,3,u3,emmy,S1,\nKatherine,4,u4,kj,S2,\n"
    )
    out = tmp_path / "out"
    completed = autograder(
        "grade", str(submitted), "--out", str(out), "--seed", SEED,
        "--due", "2026-12-10T23:59:59Z", "--late-policy", "per-day:10:25",
        "--lms", "canvas", "--roster", str(roster),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rows = {r["student_id"]: r for r in table(out / "grades.csv")}
    full, raw = float(rows["ada"]["max_score"]), float(rows["ada"]["raw_score"])
    assert raw > 0.25 * full
    assert {s: float(r["raw_score"]) for s, r in rows.items()} == dict.fromkeys(rows, raw)
    # A percentage of the assignment's points per started day late, at most 25 %.
    penalties = {s: float(r["late_penalty"]) for s, r in rows.items()}
    assert penalties == pytest.approx(
        {"ada": 0.0, "alan": 0.1 * full, "emmy": 0.25 * full, "grace": 0.0}
    )
    finals = {s: raw - p for s, p in penalties.items()}
    assert {s: float(r["score"]) for s, r in rows.items()} == pytest.approx(finals)
    assert "not understood" in rows["grace"]["late_note"]
    assert "Friday at noon" in completed.stderr  # the instructor is told, not only the CSV

    canvas = table(out / "canvas.csv")
    assert list(canvas[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                               "01_sigmoid"]  # fmt: skip
    assert float(canvas[0]["01_sigmoid"]) == full  # the Points Possible row
    by_login = {r["SIS Login ID"]: r["01_sigmoid"] for r in canvas[1:]}
    assert by_login.pop("kj") == ""  # no submission: left alone in Canvas
    assert {k: float(v) for k, v in by_login.items()} == pytest.approx(
        {k: finals[k] for k in ("ada", "alan", "emmy")}
    )
    # Listed, never dropped: the roster student without a submission, the submission
    # without a roster row, and the roster's column the gradebook leaves out.
    assert "Katherine (SIS Login ID kj)" in completed.stderr
    assert "grace" in completed.stderr.split("not on the roster", 1)[1]
    assert "Final Grade" in completed.stderr
    generic = {r["student_id"]: r["01_sigmoid"] for r in table(out / "gradebook.csv")}
    assert set(generic) == {"ada", "alan", "emmy", "grace"}
    policy = json.loads((out / "results.json").read_text())["run"]["late_policy"]
    assert policy["due"] == "2026-12-10T23:59:59+00:00"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--due", "10/12/2026", "--late-policy", "per-day:10"], "is not a date and time"),
        (["--due", "2026-12-10T23:59"], "--due and --late-policy go together"),
        (["--due", "2026-12-10", "--late-policy", "per-week:5"], "expected per-day"),
        (["--lms", "canvas"], "--lms and --roster go together"),
        (["--lms", "canvas", "--roster", "nowhere.csv"], "nowhere.csv"),
        (["--previous", "no-earlier-run"], "results.json"),
        (["--resume", "no-earlier-run"], "no run to resume"),
    ],
)
def test_bad_options_are_refused_before_anything_is_made(tmp_path, options, says):
    submitted = make_class(tmp_path / "submitted", {"ada": "complete"})
    out = [] if "--resume" in options else ["--out", str(tmp_path / "out")]
    completed = autograder("grade", str(submitted), *out, *options, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert says in completed.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- a regrade


def test_a_regrade_after_one_checks_points_change(tmp_path):
    submitted = make_class(
        tmp_path / "submitted",
        {"ada": "complete", "bob": "textbook-sigmoid", "cyd": "untouched"},
    )
    assignment = load_assignment("01_sigmoid")
    changed = "sigmoid_hidden"
    limits, students = Limits(timeout=10), ["ada", "bob", "cyd"]
    first = tmp_path / "first"
    grade_class(submitted, first, students, [assignment], limits, run_seed=5)
    before = {r.student_id: r for r in read_previous(first)}
    old_points = next(c.points for c in assignment.checks if c.name == changed)
    reweighted = replace(
        assignment,
        checks=tuple(replace(c, points=c.points + 2) if c.name == changed else c
                     for c in assignment.checks),
    )  # fmt: skip
    second = tmp_path / "second"
    grade_class(
        submitted, second, students, [reweighted], limits, run_seed=5,
        policies=Policies(previous=read_previous(first)),
    )  # fmt: skip
    passed = {s for s, r in before.items() if any(c.name == changed and c.passed for c in r.checks)}
    assert passed == {"ada"}  # the textbook sigmoid overflows on the hidden inputs
    rows = table(second / "regrade.csv")
    # Only the submission that passed the check changed; the others' max rose, not their score.
    assert [r["student_id"] for r in rows] == ["ada"]
    (row,) = rows
    assert float(row["score_after"]) - float(row["score_before"]) == 2.0
    assert row["change"] == "+2"
    assert row["checks_flipped"] == f"{changed} {old_points:g} -> {old_points + 2:g}"
    page = (second / "regrade.html").read_text()
    assert "1 of 3 submissions changed" in page and changed in page


# --------------------------------------------------------------- interrupted, resumed

#: Two honest notebooks for each endless loop, which holds its slot for the time limit:
#: long enough a run to stop in the middle.
CLASS = {f"s{i:02d}": ("infinite-loop" if i % 3 == 0 else "complete") for i in range(12)}


def graded_rows(out: Path) -> list[tuple[str, str, float, str]]:
    return sorted(
        (r["student_id"], r["assignment"], float(r["score"]), r["status"])
        for r in table(out / "grades.csv")
    )


def check_points(out: Path) -> dict:
    document = json.loads((out / "results.json").read_text())
    return {
        (s["student_id"], s["assignment"]): {c["name"]: c["points"] for c in s["checks"]}
        for s in document["submissions"]
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    submitted = make_class(root / "submitted", CLASS)
    completed = autograder(
        "grade", str(submitted), "--out", str(root / "out"), "--seed", SEED,
        "--jobs", "1", "--timeout", "1",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return root / "out"


@pytest.mark.parametrize(
    ("signal_number", "exit_code", "whole_group"),
    [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupted_run_keeps_its_rows_and_resumes(
    tmp_path, uninterrupted, signal_number, exit_code, whole_group
):
    submitted = make_class(tmp_path / "submitted", CLASS)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
         "--seed", SEED, "--jobs", "1", "--timeout", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # Ctrl-C reaches the terminal's whole process group
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list((out / "rows").glob("*/*.json"))) < 4:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no row was written"
        time.sleep(0.05)
    if whole_group:
        os.killpg(process.pid, signal_number)
    else:
        process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr

    assert "Traceback" not in stderr
    said = [line for line in stderr.splitlines() if "--resume" in line]
    assert len(said) == 1 and said[0].endswith(f"--resume {out}")
    state = json.loads((out / "run.json").read_text())
    assert state["state"] == "interrupted"
    kept = graded_rows(out)
    assert 4 <= len(kept) < len(CLASS)  # stopped in the middle, every graded row written
    assert json.loads((out / "results.json").read_text())["run"]["complete"] is False
    assert "stopped before it finished" in (out / "report.html").read_text()
    run_id = json.loads((out / "results.json").read_text())["run"]["sandbox"]["run_id"]
    assert leftover_processes(run_id) == []

    resumed = autograder("grade", str(submitted), "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert f"graded {len(CLASS)} notebooks" in resumed.stdout
    assert json.loads((out / "run.json").read_text())["state"] == "complete"
    rows = graded_rows(out)
    assert len({(s, a) for s, a, *_ in rows}) == len(rows) == len(CLASS)  # each once
    assert rows == graded_rows(uninterrupted)
    assert check_points(out) == check_points(uninterrupted)
    assert set(kept) <= set(rows)  # the rows graded before the stop were not graded again
    results = json.loads((out / "results.json").read_text())["run"]
    assert results["complete"] is True and results["resumed_rows"] == len(kept)
    assert "stopped before it finished" not in (out / "report.html").read_text()


def test_resume_refuses_another_seed(tmp_path, uninterrupted):
    copy = tmp_path / "out"
    shutil.copytree(uninterrupted, copy)
    submitted = make_class(tmp_path / "submitted", CLASS)
    completed = autograder("grade", str(submitted), "--resume", str(copy), "--seed", "1")
    assert completed.returncode == 2
    assert f"is not the seed of the run to resume ({SEED})" in completed.stderr
