"""The Gradescope round trip: build the zip, unpack it into an /autograder-shaped folder, run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import CORPUS_EXPECTED, corpus_submission

from autograder.checks import ASSIGNMENTS
from autograder.gradescope import build_zip
from autograder.runner import system

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the sandbox needs Linux")

NAME = "sigmoid_exercise.ipynb"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "gradescope", "01_sigmoid", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return out


def gradescope_run(autograder_zip: Path, root: Path, submission: Path | None, metadata=None):
    """Lay out ``root`` as Gradescope does, then run ``run_autograder``; return results.json."""
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
        setup = archive.read("setup.sh").decode()
    # As setup.sh leaves it: the course's folder, solutions included, private to root.
    assert "chmod -R go-rwx /autograder/source" in setup
    subprocess.run(["chmod", "-R", "go-rwx", str(root / "source")], check=True)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    if submission is not None:
        shutil.copy(submission, root / "submission" / NAME)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "AUTOGRADER_PYTHON": sys.executable,
    }
    completed = subprocess.run(
        ["bash", str(root / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_holds_what_gradescope_needs(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "autograder/__main__.py" in names and "autograder/runner/zygote.py" in names
    assert f"solutions/01_sigmoid/{NAME}" in names
    assert "chapters/01_sigmoid/sigmoid.md" in names
    assert not any("__pycache__" in n for n in names)
    assert "numpy==" in requirements and "nbgrader" not in requirements


def test_the_zip_ships_the_modules_grading_imports_and_no_other(autograder_zip):
    """The book's Sphinx extensions and the notebook generator need nbformat and Sphinx,
    which requirements.txt does not install: they stay out; every shipped module's own
    imports are shipped too, and none needs a package the requirements leave out."""
    with zipfile.ZipFile(autograder_zip) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("autograder/")}
        sources = {n: archive.read(n).decode() for n in shipped}
    assert "autograder/exercises.py" not in shipped
    assert not [n for n in shipped if Path(n).name.startswith("sphinx_")]
    assert {"autograder/reference/__init__.py", "autograder/runner/view.py"} <= shipped
    for name, source in sources.items():
        for line in source.splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                top = words[1].split(".")[0]
                assert top not in ("nbformat", "sphinx", "nbgrader", "docutils"), (name, line)


def test_a_complete_submission(autograder_zip, tmp_path):
    # Gradescope names the student by their email: the id their notebook answers as.
    results = gradescope_run(
        autograder_zip,
        tmp_path,
        corpus_submission("complete", "ann@example.edu", tmp_path / "mine" / NAME),
        {"id": 123456, "users": [{"email": "ann@example.edu", "id": 7}]},
    )
    assert results["score"] == CORPUS_EXPECTED["complete"]["score"]
    assert len(results["tests"]) == len(ASSIGNMENTS["01_sigmoid"])
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert test["score"] == test["max_score"]
    visibility = {t["name"]: t["visibility"] for t in results["tests"]}
    assert visibility["sigmoid: sigmoid_visible"] == "visible"
    assert visibility["sigmoid: sigmoid_hidden"] == "after_due_date"
    assert results["extra_data"]["seed"][0] == 123456


def test_a_flawed_submission_gets_generic_hidden_messages(autograder_zip, tmp_path):
    results = gradescope_run(
        autograder_zip,
        tmp_path,
        corpus_submission("textbook-sigmoid", "student", tmp_path / "mine" / NAME),
    )
    assert results["score"] == CORPUS_EXPECTED["textbook-sigmoid"]["score"]
    hidden = next(t for t in results["tests"] if t["name"] == "sigmoid: sigmoid_hidden")
    assert hidden["score"] == 0
    assert "FloatingPointError" in hidden["output"] and "745" not in hidden["output"]


def test_student_code_cannot_read_the_solutions(autograder_zip, tmp_path):
    import nbformat

    mine = corpus_submission("complete", "student", tmp_path / "mine" / NAME)
    notebook = nbformat.read(mine, as_version=4)
    root = tmp_path / "root"
    solutions = root / "source" / "solutions" / "01_sigmoid" / NAME
    notebook.cells.append(
        nbformat.v4.new_code_cell(f"print(open({str(solutions)!r}).read()[:100])")
    )
    planted = tmp_path / "submitted.ipynb"
    nbformat.write(notebook, planted)
    results = gradescope_run(autograder_zip, root, planted)
    # The answers are right; the peek failed.
    assert results["score"] == CORPUS_EXPECTED["complete"]["score"]
    output = results["output"]
    assert "PermissionError" in output or "FileNotFoundError" in output, output
    assert "BEGIN SOLUTION" not in json.dumps(results)


def test_a_missing_notebook_still_gets_results(autograder_zip, tmp_path):
    results = gradescope_run(autograder_zip, tmp_path, None)
    assert results["score"] == 0
    assert "missing" in results["output"]


def test_build_zip_refuses_unknown_assignments(tmp_path):
    with pytest.raises(KeyError):
        build_zip("99_nothing", tmp_path / "x.zip")


def test_a_notebook_answered_as_another_student_is_told_so(autograder_zip, tmp_path):
    results = gradescope_run(
        autograder_zip,
        tmp_path,
        corpus_submission("complete", "bob@example.edu", tmp_path / "mine" / NAME),
        {"id": 99, "users": [{"email": "ann@example.edu", "id": 7}]},
    )
    per_student = [c for c in ASSIGNMENTS["01_sigmoid"] if c.per_student]
    assert per_student
    assert results["score"] < CORPUS_EXPECTED["complete"]["score"]  # bob's answers, not ann's
    assert (
        "Note: the notebook's STUDENT_ID is 'bob@example.edu', but it was graded as "
        "'ann@example.edu'" in results["output"]
    )
