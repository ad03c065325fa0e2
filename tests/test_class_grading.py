"""The adversarial corpus (tests/submissions/) graded in one run of ``python -m autograder grade``.

Every student meets the status and score of ``expected.json``; afterwards no
process of the run is left, the output files are whole and valid, and nothing
was written outside the grader's output folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SUBMISSIONS, assert_well_formed, leftover_processes

from autograder.runner import system
from autograder.runner.pool import Limits, Sandbox, Task

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the sandbox needs Linux")

CORPUS = SUBMISSIONS
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
SEED = 20260101
OUTSIDE = [Path("/tmp/autograder-corpus-was-here"), Path.home() / "autograder-corpus-was-here"]


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    with Sandbox(Limits(timeout=5)) as probe:
        isolation = probe.run(Task(cells=[])).isolation
    root = tmp_path_factory.mktemp("corpus")
    submitted = root / "submitted"
    shutil.copytree(CORPUS, submitted, ignore=shutil.ignore_patterns("*.py", "*.json", "*.toml"))
    expected = dict(EXPECTED)
    own_processes = isolation.get("processes", "").startswith("its own PID namespace")
    if not (own_processes or isolation.get("uid", "").startswith("unprivileged")):
        # Without a PID namespace kill(-1) reaches every process of the worker's uid: with
        # the grader's own uid, the grader itself.
        shutil.rmtree(submitted / "kills-everything")
        del expected["kills-everything"]
    for path in OUTSIDE:
        path.unlink(missing_ok=True)
    before = snapshot(submitted)
    out = root / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out)]
    completed = subprocess.run(
        [*command, "--jobs", "2", "--timeout", "4", "--seed", str(SEED)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return {
        "completed": completed,
        "out": out,
        "expected": expected,
        "submitted": submitted,
        "before": before,
        "results": json.loads((out / "results.json").read_text()),
    }


def test_the_corpus_is_big_enough():
    assert len(EXPECTED) >= 25
    statuses = {e["status"] for e in EXPECTED.values()}
    assert {
        "ok",
        "timeout",
        "memory",
        "crashed",
        "corrupt-notebook",
        "not-a-notebook",
        "missing",
        "imports-autograder",
        "syntax-error",
        "cell-error",
        "process-limit",
        "leftover-processes",
    } <= statuses


def test_grading_completes(graded):
    completed = graded["completed"]
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"seed {SEED}" in completed.stdout


def test_every_expectation_is_met(graded):
    results = {s["student_id"]: s for s in graded["results"]["submissions"]}
    assert set(results) == set(graded["expected"])
    network = graded["results"]["run"]["isolation"].get("network", "")
    wrong = {}
    for student, expected in graded["expected"].items():
        if student == "network" and not network.startswith("isolated"):
            continue  # the connection may work here: the test below says it was not checked
        got = results[student]
        if (got["status"], got["score"]) != (expected["status"], expected["score"]):
            wrong[student] = (
                expected["status"],
                expected["score"],
                got["status"],
                got["score"],
                got["detail"],
            )
    assert not wrong


def test_the_network_is_out_of_reach(graded):
    """The ``network`` student's connection fails, where workers have no network of their own."""
    network = graded["results"]["run"]["isolation"].get("network", "")
    if not network.startswith("isolated"):
        pytest.skip(f"no network namespace here ({network}): the connection may work")
    (got,) = [s for s in graded["results"]["submissions"] if s["student_id"] == "network"]
    expected = graded["expected"]["network"]
    assert (got["status"], got["score"]) == (expected["status"], expected["score"])


def test_kill_everything_is_graded_and_harms_nobody(graded):
    """``kill(-1)`` in student code, graded where its PID namespace or its uid confines it."""
    if "kills-everything" not in graded["expected"]:
        pytest.skip("workers have neither a PID namespace nor a uid of their own here")
    (got,) = [s for s in graded["results"]["submissions"] if s["student_id"] == "kills-everything"]
    expected = EXPECTED["kills-everything"]
    assert (got["status"], got["score"]) == (expected["status"], expected["score"])
    assert graded["completed"].returncode == 0  # the grader itself survived


def test_nothing_is_left_running(graded):
    run = graded["results"]["run"]
    pids = [s["worker"]["pid"] for s in graded["results"]["submissions"] if s["worker"].get("pid")]
    assert run["sandbox"]["run_id"]
    assert not leftover_processes(run["sandbox"]["run_id"], run["sandbox"]["uids"], pids)


def test_outputs_are_whole(graded):
    out = graded["out"]
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no temporary files
    rows = list(csv.reader((out / "grades.csv").read_text().splitlines()))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["student_id", "assignment"] and header[-3:] == [
        "score",
        "max_score",
        "status",
    ]
    assert all(len(row) == len(header) for row in body)
    assert sorted(row[0] for row in body) == sorted(graded["expected"])
    for student in graded["expected"]:
        assert_well_formed((out / "feedback" / student / "01_sigmoid.html").read_text())
    report = (out / "report.html").read_text()
    assert_well_formed(report)
    assert "data:image/svg+xml;base64," in report
    assert graded["results"]["run"]["seed"] == SEED


def test_nothing_is_written_outside_the_output(graded):
    assert snapshot(graded["submitted"]) == graded["before"]
    for path in OUTSIDE:
        assert not path.exists(), path
    assert not (graded["submitted"].parent / "autograder-corpus-was-here").exists()


def test_hidden_inputs_stay_hidden_in_feedback(graded):
    out = graded["out"]
    page = (out / "feedback" / "textbook-sigmoid" / "01_sigmoid.html").read_text()
    assert "sigmoid_hidden" in page and "FloatingPointError" in page
    assert "-745" not in page and "1e+04" not in page and "10000." not in page
