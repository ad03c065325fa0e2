"""The PrairieLearn round trip: write the question, lay out a ``/grade``-shaped job, run its
entry point as PrairieLearn does (as root), and read ``results/results.json``.

Honest, blank, hostile and corrupt notebooks; with the workers' view (a VM) and without it
(PrairieLearn's containers, which may refuse namespaces), where only the job's permissions
stand between student code and the results; and planted faults in the written grader,
which these tests catch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT, autograder, readable_by_others, set_student_id

from autograder.checks import ASSIGNMENTS
from autograder.prairielearn import MAX_TEXT, declared_student_id
from autograder.runner import system

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the sandbox needs Linux")

ASSIGNMENT = "01_sigmoid"
NAME = "sigmoid_exercise.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NAME
BLANK = ROOT / "chapters" / ASSIGNMENT / NAME
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="PrairieLearn runs its entry point as root")


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("course") / "questions" / "sigmoid"
    completed = autograder("prairielearn", ASSIGNMENT, "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    return out


@pytest.fixture(scope="module")
def python_for_workers() -> Iterator[str]:
    """An interpreter whose files every user may read, as ``/venv`` is in PrairieLearn's image.

    Without the view, workers read the interpreter where it lies, with their own uid.
    This one is this environment's when other users may read it; otherwise the system's
    Python of the same version, in a virtual environment that borrows this one's packages.
    """
    from autograder.runner.zygote import python_paths

    if all(readable_by_others(Path(p)) for p in python_paths() if os.path.isdir(p)):
        yield sys.executable
        return
    system_python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    packages = Path(sys.prefix, "lib", system_python.name, "site-packages")
    if not system_python.is_file() or not readable_by_others(packages):
        pytest.skip("no Python here that the workers' uid may read")
    home = Path(tempfile.mkdtemp(prefix="grader-python-", dir="/tmp"))  # others may enter /tmp
    home.chmod(0o755)
    subprocess.run([system_python, "-m", "venv", "--without-pip", home / "env"], check=True)
    borrowed = home / "env" / "lib" / system_python.name / "site-packages" / "borrowed.pth"
    borrowed.write_text(f"{packages}\n")
    yield str(home / "env" / "bin" / "python")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def grade() -> Iterator[Path]:
    """Where the job goes: like ``/grade``, a folder every user can reach (pytest's own
    temporary folders are private to root, which would hide the job from student code
    whatever the entry point does)."""
    top = Path(tempfile.mkdtemp(prefix="prairielearn-job-", dir="/tmp"))
    top.chmod(0o755)
    yield top / "grade"
    shutil.rmtree(top, ignore_errors=True)


def lay_out(question: Path, job: Path, notebook: Path | bytes | None) -> Path:
    """A grading job as PrairieLearn lays it out: tests/, student/, data/data.json."""
    shutil.copytree(question / "tests", job / "tests")
    (job / "student").mkdir(parents=True)
    (job / "data").mkdir()
    (job / "data" / "data.json").write_text(json.dumps({"params": {}, "variant_seed": 4242}))
    if isinstance(notebook, Path):
        shutil.copy(notebook, job / "student" / NAME)
    elif isinstance(notebook, bytes):
        (job / "student" / NAME).write_bytes(notebook)
    return job


def run_entry_point(
    job: Path, *args: str, python: str = sys.executable
) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """Run ``tests/run_autograder`` as PrairieLearn does: its own file, as a program."""
    entry = job / "tests" / "run_autograder"
    entry.chmod(0o755)  # PrairieLearn makes the entry point executable before running it
    completed = subprocess.run(
        [str(entry), *args],
        cwd=job,
        env={**os.environ, "GRADE_ROOT": str(job), "AUTOGRADER_PYTHON": python},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((job / "results" / "results.json").read_text()), completed


def notebook_with_cell(base: Path, source: str, student: str | None = None) -> bytes:
    notebook = nbformat.read(base, as_version=4)
    if student is not None:
        set_student_id(notebook, student)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(notebook).encode()


def hostile_cell(job: Path) -> str:
    """A cell that forges the results and reads the solutions, then says how it fared."""
    return f"""
import json, pathlib
job = pathlib.Path({str(job)!r})
fared = {{}}
forged = {{"gradable": True, "score": 1.0, "message": "FORGED", "tests": []}}
for name, attempt in [
    ("forge", lambda: (job / "results" / "results.json").write_text(json.dumps(forged))),
    ("plant", lambda: (job / "results" / "planted.json").write_text(json.dumps(forged))),
    ("solutions", lambda: (job / "tests" / "solutions" / {ASSIGNMENT!r} / {NAME!r}).read_text()),
    ("tests", lambda: sorted(p.name for p in (job / "tests").iterdir())),
]:
    try:
        attempt()
        fared[name] = "DONE"
    except OSError as error:
        fared[name] = type(error).__name__
raise RuntimeError(f"fared: {{fared}}")
"""


def forgery_problems(results: dict, job: Path) -> list[str]:
    """What a hostile notebook got away with: the ways the tests below could fail."""
    problems = []
    if results.get("message") == "FORGED" or results.get("score") != 0:
        problems.append(f"the results are not the grader's: {results}")
    output = results.get("output", "")
    if "fared: " not in output:
        problems.append(f"the hostile cell did not run: {output}")
    for attempt in ("forge", "plant", "solutions", "tests"):
        if f"'{attempt}': 'DONE'" in output:
            problems.append(f"student code could {attempt}")
    if "BEGIN SOLUTION" in json.dumps(results):
        problems.append("the solutions reached the results")
    if sorted(p.name for p in (job / "results").iterdir()) != ["results.json"]:
        problems.append(f"results/ holds {sorted(p.name for p in (job / 'results').iterdir())}")
    return problems


def assert_graded_as_root_wants(results: dict, job: Path) -> None:
    """Student code ran with a uid of its own; the job's files are as the entry point left them."""
    uid = results["grading"]["uid"]
    assert uid is not None and uid >= 1 << 30, results["grading"]
    modes = {p: oct((job / p).stat().st_mode & 0o777) for p in ("tests", "student", "results")}
    assert modes == {"tests": "0o700", "student": "0o700", "results": "0o755"}
    written = (job / "results" / "results.json").stat()
    assert (written.st_uid, written.st_mode & 0o777) == (0, 0o644)


# ------------------------------------------------------------------------- the question


def test_the_question_holds_what_prairielearn_needs(question):
    info = json.loads((question / "info.json").read_text())
    assert info["gradingMethod"] == "External" and info["type"] == "v3"
    assert {"uuid", "title", "topic"} <= set(info)
    options = info["externalGradingOptions"]
    assert options["entrypoint"] == "/grade/tests/run_autograder"
    assert options["image"] == "prairielearn/grader-python"
    assert options["enableNetworking"] is False and 0 < options["timeout"] <= 600
    page = (question / "question.html").read_text()
    assert f'<pl-file-upload file-names="{NAME}">' in page
    assert "<pl-external-grader-results>" in page
    entry = question / "tests" / "run_autograder"
    assert entry.stat().st_mode & 0o111
    assert f"autograder prairielearn {ASSIGNMENT} --run" in entry.read_text()
    shipped = {p.relative_to(question / "tests").as_posix() for p in entry.parent.rglob("*")}
    assert {"autograder/prairielearn.py", "autograder/cli/prairielearn.py"} <= shipped
    assert f"solutions/{ASSIGNMENT}/{NAME}" in shipped
    assert not [n for n in shipped if "__pycache__" in n or Path(n).name.startswith("sphinx_")]


def test_writing_the_question_again_keeps_its_uuid_and_refuses_other_folders(question, tmp_path):
    again = tmp_path / "sigmoid"
    shutil.copytree(question, again)
    (again / "tests" / "stale.txt").write_text("from an older export\n")
    completed = autograder("prairielearn", ASSIGNMENT, "--out", str(again))
    assert completed.returncode == 0, completed.stderr
    assert not (again / "tests" / "stale.txt").exists()
    uuid = json.loads((again / "info.json").read_text())["uuid"]
    assert uuid == json.loads((question / "info.json").read_text())["uuid"]
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "server.py").write_text("# a question of its own\n")
    completed = autograder("prairielearn", ASSIGNMENT, "--out", str(other))
    assert completed.returncode == 2 and "server.py" in completed.stderr
    assert sorted(p.name for p in other.iterdir()) == ["server.py"]


@pytest.mark.parametrize(
    "args",
    [
        ["prairielearn", "99_nothing", "--out", "q"],
        ["prairielearn", ASSIGNMENT],
        ["prairielearn", ASSIGNMENT, "--run", "--root", "no-such-job"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    completed = autograder(*args, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert "usage:" in completed.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------- the round trip


@AS_ROOT
def test_an_honest_notebook_scores_1(question, grade):
    honest = notebook_with_cell(SOLUTION, "print('done')", student="ann")
    job = lay_out(question, grade, honest)
    started = time.monotonic()
    results, completed = run_entry_point(job)
    seconds = time.monotonic() - started
    assert results["gradable"] is True and results["score"] == 1.0, results["output"]
    assert len(results["tests"]) == len(ASSIGNMENTS[ASSIGNMENT])
    for test in results["tests"]:
        assert test["points"] == test["max_points"] > 0
        assert {"name", "points", "max_points", "message", "output"} <= set(test)
    assert results["grading"]["student_id"] == "ann"  # per-student questions: the declared id
    assert results["grading"]["seed"][0] == 4242  # the variant's seed: a regrade draws the same
    assert_graded_as_root_wants(results, job)
    assert completed.stdout.startswith("score 1: ")
    print(f"round trip of an honest notebook: {seconds:.2f} s ({completed.stdout.strip()})")


@AS_ROOT
def test_a_blank_notebook_scores_0_and_hidden_checks_say_little(question, grade):
    job = lay_out(question, grade, BLANK)
    results, _ = run_entry_point(job)
    assert results["gradable"] is True and results["score"] == 0
    checks = {c.name: c for c in ASSIGNMENTS[ASSIGNMENT]}
    hidden = [
        t for t in results["tests"] if checks[t["name"].split(": ")[1]].visibility != "visible"
    ]
    visible = [t for t in results["tests"] if t not in hidden]
    assert hidden and visible
    for test in hidden:  # only the name, the points and a generic message
        assert set(test) == {"name", "points", "max_points", "message", "output"}
        assert test["output"] == "" and test["points"] == 0
        assert test["message"].startswith("failed: ") and "expected" not in test["message"]
    for test in visible:  # what was expected, and where to reread
        assert "description" in test and "reread" in test["output"]
    assert_graded_as_root_wants(results, job)


@AS_ROOT
def test_a_hostile_notebook_forges_nothing_and_reads_nothing(question, grade):
    job = grade
    lay_out(question, job, notebook_with_cell(BLANK, hostile_cell(job)))
    results, _ = run_entry_point(job)
    assert forgery_problems(results, job) == []
    assert "FileNotFoundError" in results["output"]  # in the view, the job does not exist
    assert_graded_as_root_wants(results, job)


@AS_ROOT
@pytest.mark.parametrize(
    "content, status",
    [
        (b"this is not JSON {", "not-a-notebook"),
        (b"", "corrupt-notebook"),
        (b'{"hello": "world"}', "corrupt-notebook"),
        (None, "missing"),
    ],
    ids=["corrupt", "empty", "json-not-a-notebook", "missing"],
)
def test_an_unreadable_notebook_is_not_gradable(question, grade, content, status):
    job = lay_out(question, grade, content)
    results, completed = run_entry_point(job)
    assert results["gradable"] is False and "score" not in results
    assert results["grading"]["status"] == status
    assert results["format_errors"] and all(isinstance(e, str) for e in results["format_errors"])
    word = "expected a notebook named" if content is None else "notebook"
    assert word in results["format_errors"][0]
    assert completed.stdout.startswith("not gradable: ")


@AS_ROOT
def test_a_results_file_the_grader_did_not_write_never_counts(question, grade):
    """When the grader cannot run at all, whatever lies in results/ is replaced."""
    job = lay_out(question, grade, BLANK)
    (job / "results").mkdir(mode=0o777)
    (job / "results" / "results.json").write_text('{"gradable": true, "score": 1.0}')
    results, _ = run_entry_point(job, python="/bin/false")
    assert results["gradable"] is False
    assert "grader failed" in results["format_errors"][0]


@AS_ROOT
@pytest.mark.parametrize("planted", [False, True], ids=["clipped", "planted-no-clip"])
def test_a_flood_of_error_text_still_fits_in_1_mb(question, grade, planted):
    """800 cells that each raise with a long message: what the results say of them is clipped.
    With the clipping planted away, the same notebook breaks PrairieLearn's 1 MB limit."""
    notebook = nbformat.read(BLANK, as_version=4)
    flood = "raise RuntimeError('x' * 100_000)"
    notebook.cells += [nbformat.v4.new_code_cell(flood) for _ in range(800)]
    job = lay_out(question, grade, nbformat.writes(notebook).encode())
    if planted:
        plant(job, f"MAX_TEXT = {MAX_TEXT:_}", "MAX_TEXT = 10**9")
    results, _ = run_entry_point(job)
    assert results["gradable"] is True and "RuntimeError" in results["output"]
    size = (job / "results" / "results.json").stat().st_size
    assert (size > 1_000_000) if planted else (size < 100_000), size


@pytest.mark.parametrize(
    "source, declared",
    [
        ('STUDENT_ID = "ann#1"  # your student id, exactly as your roster has it', "ann#1"),
        ('STUDENT_ID = ""  # your student id', ""),
        ("STUDENT_ID = input()", "student"),
        ("STUDENT_ID = 'ann' +", "student"),
        ("x = 1", "student"),
    ],
)
def test_the_student_id_is_read_from_the_notebook_not_run(tmp_path, source, declared):
    notebook = nbformat.read(BLANK, as_version=4)
    cell = next(c for c in notebook.cells if c.source.lstrip().startswith("STUDENT_ID ="))
    cell.source = source
    nbformat.write(notebook, tmp_path / NAME)
    assert declared_student_id(tmp_path / NAME) == declared
    (tmp_path / NAME).write_text("not JSON")
    assert declared_student_id(tmp_path / NAME) == "student"


# ------------------------------------------------------------------------- without the view


@AS_ROOT
def test_without_the_view_honest_and_hostile_notebooks_as_in_a_container(
    question, grade, python_for_workers
):
    """Where the container refuses namespaces, the job's permissions keep student code out."""
    job = lay_out(question, grade.with_name("honest"), SOLUTION)
    results, _ = run_entry_point(job, "--no-view", python=python_for_workers)
    assert results["score"] == 1.0, results["output"]
    assert results["grading"]["isolation"]["view"].startswith("none")
    assert_graded_as_root_wants(results, job)

    job = grade.with_name("hostile")
    lay_out(question, job, notebook_with_cell(BLANK, hostile_cell(job)))
    results, _ = run_entry_point(job, "--no-view", python=python_for_workers)
    assert forgery_problems(results, job) == []
    assert "PermissionError" in results["output"]  # the job is there, but not theirs
    assert_graded_as_root_wants(results, job)


# ------------------------------------------------------------------------- planted faults


def plant(job: Path, old: str, new: str) -> None:
    """Break the grader written into the job, as a careless change to it would."""
    module = job / "tests" / "autograder" / "prairielearn.py"
    source = module.read_text()
    assert source.count(old) == 1, old
    module.write_text(source.replace(old, new))


@AS_ROOT
@pytest.mark.parametrize(
    "fault, old, new, caught",
    [
        (
            "results/ writable by student code",
            "results.chmod(0o755)",
            "results.chmod(0o777)",
            "student code could plant",
        ),
        (
            "the solutions left readable",
            "os.chmod(folder, 0o700)",
            "os.chmod(folder, 0o755)",
            "student code could tests",
        ),
    ],
    ids=["results-writable", "tests-readable"],
)
def test_the_hostile_test_catches_a_planted_fault(
    question, grade, python_for_workers, fault, old, new, caught
):
    job = grade
    lay_out(question, job, notebook_with_cell(BLANK, hostile_cell(job)))
    plant(job, old, new)
    results, _ = run_entry_point(job, "--no-view", python=python_for_workers)
    problems = forgery_problems(results, job)
    assert any(caught in p for p in problems), (fault, problems)
    print(f"{fault}: caught: {problems}")
