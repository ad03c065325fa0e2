"""A Gradescope autograder that grades with this grader: building its zip, and running in it.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
(as root) to build its image, then for each submission copies the student's
files to ``/autograder/submission/`` and runs ``run_autograder``, which must
write ``/autograder/results/results.json``.  The zip holds the course's
package (as source), the assignment's source notebook (test cells and data
files) and its chapter page (for hints); ``run_autograder`` calls
``python -m autograder gradescope ID --run``, i.e. :func:`run`.

Two environment variables let the round trip run anywhere: ``AUTOGRADER_ROOT``
replaces ``/autograder`` and ``AUTOGRADER_PYTHON`` the interpreter.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from autograder import course
from autograder.grading import (
    STATUSES,
    Limits,
    SubmissionResult,
    grade_submission,
    load_assignment,
    open_sandboxes,
)
from autograder.imports import import_graph, modules_of, needed_by
from autograder.report import number, write_atomic

DEFAULT_ROOT = "/autograder"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Choose a base image with Python 3.11 or newer (Ubuntu 24.04 has 3.12).
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
# The interpreter where every user may read it, so that the sandbox's workers can run with
# a uid of their own; the course's folder (solutions included) readable by root only.
python3 -m venv /opt/autograder-venv
/opt/autograder-venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
chmod -R a+rX /opt/autograder-venv
chmod -R go-rwx /autograder/source
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it, write results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-{default_root}}}"
PYTHON="${{AUTOGRADER_PYTHON:-/opt/autograder-venv/bin/python}}"
cd "$ROOT/source" || exit 1
"$PYTHON" -m autograder gradescope {assignment} --run --root "$ROOT"
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    echo '{{"score": 0, "output": "The autograder failed; please tell your instructor."}}' \\
        > "$ROOT/results/results.json"
fi
"""


def build_zip(assignment_id: str, out: Path, root: Path = course.ROOT) -> list[str]:
    """Write the Gradescope autograder of ``assignment_id`` to ``out``; return its file names.

    Of the grading package it ships the modules ``python -m autograder`` imports, and no
    other (the book's Sphinx extensions and the notebook generator need packages that
    ``requirements.txt`` does not install).
    """
    files: dict[str, bytes] = {
        "setup.sh": SETUP_SH.encode(),
        "run_autograder": RUN_AUTOGRADER.format(
            assignment=assignment_id, default_root=DEFAULT_ROOT
        ).encode(),
        "requirements.txt": _requirements(root).encode(),
        **grader_files(assignment_id, root),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    os.replace(temporary, out)
    return list(files)


def grader_files(assignment_id: str, root: Path = course.ROOT) -> dict[str, bytes]:
    """What grading ``assignment_id`` on a hosted platform needs, by path relative to ``root``.

    The modules of the grading package that ``python -m autograder`` imports (and no
    other), the assignment's source folder (notebook and data files) and its chapter
    page (for the hints).  KeyError for an unknown assignment.
    """
    load_assignment(assignment_id, root / "solutions")  # fails early for an unknown id
    package = root / "autograder"
    modules = modules_of(package)
    sources = [
        *sorted(modules[m] for m in needed_by(import_graph(package), "autograder.__main__")),
        *sorted(p for p in (root / "solutions" / assignment_id).rglob("*") if p.is_file()),
        *sorted((root / "chapters" / assignment_id).glob("*.md")),
    ]
    files = {}
    for path in sources:
        relative = path.relative_to(root)
        if not {"__pycache__", ".ipynb_checkpoints"} & set(relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def _requirements(root: Path) -> str:
    """The package's run-time dependencies, pinned as in pyproject.toml."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return "".join(f"{requirement}\n" for requirement in project["dependencies"])


def run(assignment_id: str, root: Path, limits: Limits | None = None) -> dict[str, Any]:
    """Grade the submission in ``root/submission`` and write ``root/results/results.json``."""
    assignment = load_assignment(assignment_id)
    student_id, seed = _identity(root / "submission_metadata.json")
    matches = sorted((root / "submission").rglob(assignment.notebook))
    path = matches[0] if matches else root / "submission" / assignment.notebook
    # Gradescope runs one container per submission, with the course's folder readable by
    # root only: where its container refuses namespaces, grading goes on without the view
    # (results.json records what held) rather than failing every submission.
    with open_sandboxes(
        [assignment],
        limits=limits,
        allow_no_view=True,
        hide=[root / "submission", root / "results"],
    ) as sandboxes:
        result = grade_submission(assignment, student_id, path, sandboxes.sandboxes[0], seed)
    results = gradescope_results(result)
    write_atomic(root / "results" / "results.json", json.dumps(results, indent=1) + "\n")
    return results


def _identity(metadata_path: Path) -> tuple[str, int]:
    """The student's id and a seed, from Gradescope's submission metadata when present.

    The seed is the submission's id, so that a regrade of the same submission
    uses the same hidden inputs; without metadata it is random.
    """
    try:
        metadata = json.loads(metadata_path.read_text())
        users = metadata.get("users") or [{}]
        student = str(users[0].get("email") or users[0].get("id") or "student")
        return student, int(metadata["id"]) % 2**32
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "student", secrets.randbits(32)


def gradescope_results(result: SubmissionResult) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission.

    Visible checks are shown at once with their full message; hidden ones only
    after the due date, with the generic message students get in feedback.
    """
    return {
        "score": result.score,
        "output": "\n".join(summary_lines(result)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": f"{check.exercise}: {check.name}",
                "score": check.points,
                "max_score": check.max_points,
                "status": "passed" if check.passed else "failed",
                "output": check.feedback,
                "visibility": "visible" if check.visibility == "visible" else "after_due_date",
            }
            for check in result.checks
        ],
        "extra_data": {
            "status": result.status,
            "seed": result.seed,
            "isolation": result.worker.isolation,
        },
    }


def summary_lines(result: SubmissionResult) -> list[str]:
    """What a student reads first: the score and status, their cells' errors, the notes
    (what did not run, the id the per-student questions were graded for)."""
    score = f"{number(result.score)} / {number(result.max_score)}"
    summary = [f"Score {score}; status {result.status}."]
    if result.status != "ok":
        summary.append(f"{STATUSES.get(result.status, '')}. {result.detail}".strip())
    for cell in result.cells:
        error = cell.error
        if error and cell.origin == "student" and error.kind != "not-implemented":
            summary.append(f"Cell {cell.index} raised {error.message}")
    summary += [f"Note: {note}" for note in result.notes]
    return summary
