"""A PrairieLearn question graded by this grader: writing its folder, and grading in it.

PrairieLearn grades an externally graded question in a container of its own: it copies
the question's ``tests/`` folder to ``/grade/tests``, the student's files to
``/grade/student`` and the question's data to ``/grade/data/data.json``, runs the
question's entry point (as root), and reads ``/grade/results/results.json``.
:func:`write_question` writes the question's folder: ``info.json`` (external grading,
entry point ``/grade/tests/run_autograder``, networking off), ``question.html`` (a file
upload for the notebook and the results panel) and ``tests/``, which holds the modules of
the grading package that ``python -m autograder`` imports, the assignment's source
notebook (test cells, data files), its chapter page (for hints) and the entry point.
The entry point calls ``python -m autograder prairielearn ID --run``, i.e. :func:`run`.

Student code never runs as root and never reaches what grades it: before grading,
:func:`run` makes ``tests/`` (the solutions), ``student/`` and ``data/`` private to root
and replaces ``results/`` with an empty folder only root may write to; the workers run
with a uid of their own, in a view where ``/grade`` does not exist when the container
allows namespaces; and the results are written in a folder private to root, then moved
into ``results/`` once every process of the student's is gone.

``GRADE_ROOT`` replaces ``/grade`` and ``AUTOGRADER_PYTHON`` the interpreter, so that the
round trip runs anywhere (the test suite runs it in a temporary folder).
"""

from __future__ import annotations

import ast
import html
import json
import os
import secrets
import shutil
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

from autograder import course
from autograder.checks.core import STUDENT_ID_VARIABLE
from autograder.gradescope import grader_files, summary_lines
from autograder.grading import (
    STATUSES,
    Limits,
    SubmissionResult,
    grade_submission,
    load_assignment,
    open_sandboxes,
    section_hint,
)
from autograder.notebook import NotebookProblem, cell_source, read_notebook
from autograder.report import number
from autograder.self_check import plain

#: Where PrairieLearn lays out a grading job.
DEFAULT_ROOT = "/grade"
#: PrairieLearn's own Python image: Python 3.13 in ``/venv`` (readable by every user),
#: with NumPy, SciPy, Matplotlib and scikit-learn installed.
DEFAULT_IMAGE = "prairielearn/grader-python"
#: The interpreter of that image.
DEFAULT_PYTHON = "/venv/bin/python"
#: Seconds PrairieLearn gives a job: starting the interpreter and the sandbox, then the
#: notebook's own limit (``Limits.timeout``), with room to spare.
JOB_TIMEOUT = 60
#: The folder the question's ``tests/`` is copied to, inside ``/grade``.
ENTRY_POINT = "tests/run_autograder"
#: Statuses that say nothing was graded: PrairieLearn then counts no attempt.
NOT_GRADABLE = (
    "missing",
    "too-large",
    "not-a-notebook",
    "corrupt-notebook",
    "sandbox-error",
    "grader-error",
)
#: results.json must stay under 1 MB: no text of it is longer than this.
MAX_TEXT = 20_000
#: The folders of a job that student code has no business reading.
PRIVATE = ("tests", "student", "data", "serverFilesCourse", "shared")
#: What a question folder written here holds (an existing one may be written over).
QUESTION_FILES = ("info.json", "question.html", "tests")

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# PrairieLearn runs this as root for each submission, with this folder at $ROOT/tests and the
# student's files in $ROOT/student: grade the notebook, write $ROOT/results/results.json.
# Arguments go to the grader (e.g. --timeout 20, seconds for the notebook).
set -uo pipefail
ROOT="${{GRADE_ROOT:-{default_root}}}"
PYTHON="${{AUTOGRADER_PYTHON:-{default_python}}}"
cd "$ROOT/tests" || exit 1
"$PYTHON" -m autograder prairielearn {assignment} --run --root "$ROOT" "$@"
status=$?
if [ "$status" -ne 0 ] || [ ! -s "$ROOT/results/results.json" ]; then
    # Whatever is there was not written by the grader: it does not count.
    rm -rf "$ROOT/results"
    mkdir -m 755 "$ROOT/results"
    echo '{{"gradable": false, "format_errors": ["The grader failed on this submission (it \
cost you no attempt): please tell your instructor."]}}' > "$ROOT/results/results.json"
fi
exit 0
"""

QUESTION_HTML = """\
<pl-question-panel>
  <p>
    Upload your notebook <code>{notebook}</code>, saved, under that name. It is run from the
    top in a sandbox, then graded: visible checks say what they expected; hidden checks,
    on other inputs drawn for you, give their name, their points and a hint.
    Check it first: <code>python -m autograder check {notebook}</code>.
  </p>
  <pl-file-upload file-names="{notebook}"></pl-file-upload>
</pl-question-panel>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
</pl-submission-panel>
"""


class QuestionRefused(ValueError):
    """The question folder cannot be written where asked."""


def write_question(
    assignment_id: str,
    out: Path,
    root: Path = course.ROOT,
    image: str = DEFAULT_IMAGE,
) -> list[str]:
    """Write the PrairieLearn question of ``assignment_id`` into the folder ``out``.

    Parameters
    ----------
    assignment_id
        The assignment (its chapter folder's name, e.g. ``01_sigmoid``).
    out
        The question's folder, under the course's ``questions/``.  Written over when it
        holds a question written here before (only ``info.json``, ``question.html`` and
        ``tests/``); made when it does not exist.
    root
        The course folder to take the grader, the solutions and the chapter page from.
    image
        The Docker image PrairieLearn grades in: Python 3.11 or newer in
        :data:`DEFAULT_PYTHON`, readable by every user, with the course's run-time
        dependencies installed.

    Returns
    -------
    list of str
        The files written, relative to ``out``.

    Raises
    ------
    KeyError
        ``assignment_id`` is not a known assignment.
    QuestionRefused
        ``out`` is a file, or a folder holding anything else than a question.

    See Also
    --------
    autograder.gradescope.build_zip : the same grader, for Gradescope.
    run : what the entry point does for each submission.

    Notes
    -----
    The question's ``uuid`` is derived from the assignment's id, so that writing the
    question again keeps PrairieLearn's record of it (and its students' submissions).

    Examples
    --------
    >>> write_question("01_sigmoid", Path("questions/sigmoid"))  # doctest: +SKIP
    ['info.json', 'question.html', 'tests/run_autograder', ...]
    """
    files = {f"tests/{name}": data for name, data in grader_files(assignment_id, root).items()}
    if out.exists() and not out.is_dir():
        raise QuestionRefused(f"{out} is a file, not a question's folder")
    if out.is_dir():
        others = sorted(p.name for p in out.iterdir() if p.name not in QUESTION_FILES)
        if others:
            raise QuestionRefused(
                f"{out} holds {', '.join(others[:5])}: not a question written by this command "
                "(choose a new folder)"
            )
    assignment = load_assignment(assignment_id, root / "solutions")
    files = {
        "info.json": (json.dumps(_info(assignment_id, root, image), indent=2) + "\n").encode(),
        "question.html": QUESTION_HTML.format(notebook=html.escape(assignment.notebook)).encode(),
        ENTRY_POINT: RUN_AUTOGRADER.format(
            assignment=assignment_id, default_root=DEFAULT_ROOT, default_python=DEFAULT_PYTHON
        ).encode(),
        **files,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for name, data in files.items():
            path = building / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o755 if name == ENTRY_POINT else 0o644)
        building.chmod(0o755)
        if out.is_dir():
            shutil.rmtree(out)
        building.rename(out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return list(files)


def _info(assignment_id: str, root: Path, image: str) -> dict[str, Any]:
    page = course.chapter_page(assignment_id, root)
    lines = page.read_text(encoding="utf-8").splitlines() if page is not None else []
    heading = next((line[2:].strip() for line in lines if line.startswith("# ")), None)
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"softmax-course:prairielearn:{assignment_id}")),
        "title": f"Exercise {assignment_id}" + (f": {heading}" if heading else ""),
        "topic": "Notebook exercises",
        "comment": f"Written by `python -m autograder prairielearn {assignment_id}`: write it "
        "again rather than editing tests/.",
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "image": image,
            "entrypoint": f"{DEFAULT_ROOT}/{ENTRY_POINT}",
            "timeout": JOB_TIMEOUT,
            "enableNetworking": False,
        },
    }


def run(
    assignment_id: str, root: Path, limits: Limits | None = None, *, view: bool = True
) -> dict[str, Any]:
    """Grade the notebook in ``root/student`` and write ``root/results/results.json``.

    Parameters
    ----------
    assignment_id
        The assignment the question grades.
    root
        The grading job's folder (``/grade``), laid out as PrairieLearn lays it out.
    limits
        The sandbox's limits per notebook (default :class:`~autograder.grading.Limits`).
    view
        Try the workers' view (False: grade as where the container refuses namespaces,
        which is where grading falls back to by itself when it is refused).

    Returns
    -------
    dict
        The results written, in PrairieLearn's schema (:func:`prairielearn_results`).

    Raises
    ------
    RuntimeError
        No sandbox could start (nothing was graded; the entry point then writes a
        result that costs the student no attempt).

    See Also
    --------
    lock_down : what is made private before student code runs.
    publish : how the results reach ``root/results``.

    Notes
    -----
    PrairieLearn does not tell its grader who submitted: per-student questions are
    graded for the ``STUDENT_ID`` the notebook declares, and the hidden inputs are
    drawn from it and the variant's seed (a regrade draws the same ones).

    Examples
    --------
    >>> run("01_sigmoid", Path("/grade"))["score"]  # doctest: +SKIP
    1.0
    """
    lock_down(root)
    assignment = load_assignment(assignment_id)
    path = root / "student" / assignment.notebook
    student_id = declared_student_id(path)
    with open_sandboxes(
        [assignment], limits=limits, allow_no_view=True, namespaces=view, hide=[root]
    ) as sandboxes:
        result = grade_submission(
            assignment, student_id, path, sandboxes.sandboxes[0], _variant_seed(root)
        )
    results = prairielearn_results(result)
    publish(results, root)
    return results


def lock_down(root: Path) -> None:
    """Make a grading job's folder safe to run student code next to.

    ``tests/`` (the solutions), ``student/``, ``data/`` and the course's shared files
    become private to their owner (root); ``results/`` is replaced by an empty folder
    only its owner may write to, and ``root`` itself stops being writable by others
    (who could otherwise swap ``results/`` for a folder of their own).

    Parameters
    ----------
    root
        The grading job's folder.

    Raises
    ------
    OSError
        A folder could not be changed (the job cannot be graded safely; the entry point
        then writes a result that costs the student no attempt).

    See Also
    --------
    publish : how the results reach ``results/`` afterwards.

    Notes
    -----
    PrairieLearn's own Python grader does the same with ``chmod`` and ``su``: the files
    read-only, the student's code as a user of its own.  Here the workers' uid is the
    sandbox's (``2^30 + ...``), which owns nothing in the job.

    Examples
    --------
    >>> lock_down(Path("/grade"))  # doctest: +SKIP
    """
    mode = root.stat().st_mode
    if mode & 0o022:
        root.chmod(stat.S_IMODE(mode) & ~0o022)
    for name in PRIVATE:
        top = root / name
        if top.is_dir() and not top.is_symlink():
            for folder, _, names in os.walk(top):
                os.chmod(folder, 0o700)
                for file in names:
                    if not (Path(folder) / file).is_symlink():
                        os.chmod(Path(folder) / file, 0o600)
    results = root / "results"
    if results.is_symlink() or results.is_file():
        results.unlink()
    elif results.is_dir():
        shutil.rmtree(results)
    results.mkdir(mode=0o755)
    results.chmod(0o755)


def publish(results: dict[str, Any], root: Path) -> Path:
    """Write ``results`` to ``root/results/results.json`` by way of a folder private to root.

    The file is written whole in a folder only its owner can reach, then renamed into
    ``results/``, replacing whatever is there: no reader sees half a file, and nothing
    another user wrote survives.

    Parameters
    ----------
    results
        PrairieLearn's results (:func:`prairielearn_results`).
    root
        The grading job's folder.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        The file could not be written (the entry point then writes its own result).

    See Also
    --------
    lock_down : which makes ``results/`` root's before student code runs.

    Notes
    -----
    Called once no process of the student's is left (the sandboxes are closed): the
    private folder guards against a process that outlived them all the same.

    Examples
    --------
    >>> publish({"gradable": True, "score": 1.0}, Path("/grade"))  # doctest: +SKIP
    PosixPath('/grade/results/results.json')
    """
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".results-"))
    try:
        written = staging / "results.json"
        written.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        written.chmod(0o644)
        final = root / "results" / "results.json"
        final.parent.mkdir(mode=0o755, exist_ok=True)
        os.replace(written, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def declared_student_id(path: Path) -> str:
    """The ``STUDENT_ID`` a notebook declares (its ``STUDENT_ID = "..."`` cell), read, not run.

    Parameters
    ----------
    path
        The submitted notebook.

    Returns
    -------
    str
        The id, or ``"student"`` when the notebook cannot be read or does not declare one
        as a plain string.

    See Also
    --------
    autograder.grading.grade_submission : which notes a notebook whose ``STUDENT_ID``, once
        run, is another.

    Notes
    -----
    PrairieLearn does not tell its external grader who submitted; the id the notebook
    declares is the one its per-student questions drew their parameters from.

    Examples
    --------
    >>> declared_student_id(Path("no-such-notebook.ipynb"))
    'student'
    """
    try:
        notebook = read_notebook(path)
    except (NotebookProblem, OSError):
        return "student"
    for cell in notebook.get("cells", []):
        source = cell_source(cell)
        if cell.get("cell_type") != "code" or not source.lstrip().startswith(STUDENT_ID_VARIABLE):
            continue
        try:
            statements = ast.parse(source).body
        except SyntaxError:
            return "student"
        for statement in statements:
            if (
                isinstance(statement, ast.Assign)
                and [getattr(t, "id", None) for t in statement.targets] == [STUDENT_ID_VARIABLE]
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                return statement.value.value
    return "student"


def _variant_seed(root: Path) -> int:
    """The seed of the hidden inputs: the variant's, from ``data/data.json``, or random."""
    try:
        return int(json.loads((root / "data" / "data.json").read_text())["variant_seed"]) % 2**32
    except (OSError, ValueError, KeyError, TypeError):
        return secrets.randbits(32)


def prairielearn_results(result: SubmissionResult) -> dict[str, Any]:
    """PrairieLearn's results.json for one graded submission.

    Parameters
    ----------
    result
        The verdict of :func:`~autograder.grading.grade_submission`.

    Returns
    -------
    dict
        ``score`` (a fraction of the points, in [0, 1]), ``gradable``, ``message``,
        ``output`` and one test per check; for a notebook that could not be read,
        ``gradable: false`` with ``format_errors`` instead (no attempt is counted).
        ``grading`` records the status, the seed, the worker's uid and what isolation held.

    See Also
    --------
    autograder.gradescope.gradescope_results : the same verdict, for Gradescope.

    Notes
    -----
    PrairieLearn shows every test at once: a hidden check gives its name, its points and
    the generic message of its category, never its inputs, values or description.  Texts
    are clipped to :data:`MAX_TEXT` characters, so that the file stays under 1 MB.

    Examples
    --------
    >>> prairielearn_results(result)["score"]  # doctest: +SKIP
    0.4
    """
    grading = {
        "status": result.status,
        "seed": result.seed,
        "student_id": result.student_id,
        "uid": result.worker.uid,
        "isolation": result.worker.isolation,
    }
    if result.status in NOT_GRADABLE:
        error = f"{STATUSES[result.status]}: {result.detail}"
        return {"gradable": False, "format_errors": [_clip(error)], "grading": grading}
    summary = summary_lines(result)
    tests = []
    for check in result.checks:
        test = {
            "name": f"{check.exercise}: {check.name}",
            "points": check.points,
            "max_points": check.max_points,
            "message": _clip(check.feedback),
            "output": "",
        }
        if check.visibility == "visible":
            test["description"] = plain(check.description)
            if not check.passed:
                test["output"] = section_hint(result.assignment, check.section)
        tests.append(test)
    return {
        "gradable": True,
        "score": result.score / result.max_score if result.max_score else 0.0,
        "message": f"{number(result.score)} of {number(result.max_score)} points.",
        "output": _clip("\n".join(summary)),
        "tests": tests,
        "grading": grading,
    }


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more)"
