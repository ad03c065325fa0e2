"""Benchmark: grade a generated class with ``python -m autograder``, and compare with nbgrader.

1. Generates a class of ``--students`` students (default 300), each submitting
   every assignment of ``autograder.checks.ASSIGNMENTS``, in nbgrader's
   ``submitted/`` layout, with a realistic mix: most complete, some partial,
   some wrong, a few broken files, a few malicious notebooks (fork and memory
   bombs, imports of the grading package, os._exit, and rare endless loops).
2. Grades it with ``python -m autograder grade --jobs N``, one run per assignment as an
   instructor would (and as ``nbgrader autograde`` works), and reports notebooks/s;
   then grades the honest submissions alone (complete, partial, wrong) the same way.
3. Times real ``nbgrader autograde`` on a sample of the same (honest)
   submissions, reports the per-notebook ratios (the whole class, and the honest
   notebooks alone, against nbgrader's honest ones), and whether both gave the same
   scores.
4. Reports what the workers' view costs: its assembly, once per zygote, and each
   worker's own part (a mount and an IPC namespace, two tmpfs, its keyrings), as
   the zygotes and workers measured them.
5. Times ``python -m autograder check`` per assignment (per exercise).

Run it with ``make bench`` or ``.venv/bin/python benchmarks/grade_class.py --help``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import set_student_id  # noqa: E402
from nbgrader_course import NbgraderCourse  # noqa: E402

from autograder.checks import ASSIGNMENTS  # noqa: E402
from autograder.exercises import nbgrader_env  # noqa: E402

_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)

#: Kinds of submission and how often they occur (the weights add up to 1000).
MIX = {
    "complete": 520,
    "partial": 180,
    "wrong": 150,
    "syntax-error": 30,
    "corrupt": 10,
    "empty": 5,
    "wrong-name": 10,
    "missing": 15,
    "memory-bomb": 12,
    "fork-bomb": 8,
    "imports-autograder": 15,
    "patches-numpy": 10,
    "os-exit": 8,
    "huge-output": 4,
    "endless-loop": 3,
    "writes-files": 20,
}
HONEST = ("complete", "partial", "wrong")


class Exercise:
    """One assignment's released notebook and solution answers."""

    def __init__(self, assignment: str):
        (solution_path,) = sorted((ROOT / "solutions" / assignment).glob("*.ipynb"))
        self.assignment = assignment
        self.name = solution_path.name
        self.released = nbformat.read(ROOT / "chapters" / assignment / self.name, as_version=4)
        solution = nbformat.read(solution_path, as_version=4)
        self.answers = {
            cell.metadata["nbgrader"]["grade_id"]: _MARKERS.sub("", cell.source).rstrip()
            for cell in solution.cells
            if cell.metadata.get("nbgrader", {}).get("solution")
        }

    def notebook(self, answers: dict[str, str], extra: list[str] = ()):
        notebook = copy.deepcopy(self.released)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        for number, source in enumerate(extra):
            cell = nbformat.v4.new_code_cell(source)
            cell.id = f"extra-{number}"
            notebook.cells.append(cell)
        return notebook


def wrong_answer(source: str) -> str:
    """The answer with every function's body replaced by ``return zeros like the first arg``,
    and every answer to a question (an assignment) by ``None``."""
    tree = ast.parse(source)
    lines = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            lines.append(" = ".join(t.id for t in node.targets) + " = None")
        elif isinstance(node, ast.FunctionDef) and node.args.args:
            first = node.args.args[0].arg
            arguments = ast.unparse(node.args)
            lines.append(
                f"def {node.name}({arguments}):\n"
                f"    return np.zeros_like(np.asarray({first}, dtype=float))"
            )
    return "\n\n".join(lines) or source


def write_submission(folder: Path, exercise: Exercise, kind: str, rng: random.Random) -> None:
    answers = dict(exercise.answers)
    extra: list[str] = []
    name = exercise.name
    if kind == "missing":
        return
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "partial":
        keep = rng.randrange(len(answers))
        answers = dict(list(answers.items())[:keep])
    elif kind == "wrong":
        grade_id = rng.choice(sorted(answers))
        answers[grade_id] = wrong_answer(answers[grade_id])
    elif kind == "syntax-error":
        grade_id = rng.choice(sorted(answers))
        answers[grade_id] += "\n\ndef oops(:\n    pass"
    elif kind == "memory-bomb":
        extra.append("hoard = []\nwhile True:\n    hoard.append(np.empty(10**8))")
    elif kind == "fork-bomb":
        extra.append("import os\nwhile True:\n    os.fork()")
    elif kind == "imports-autograder":
        extra.append("from autograder import reference")
    elif kind == "patches-numpy":
        extra.append("np.allclose = lambda *a, **k: True")
        answers = {k: wrong_answer(v) for k, v in answers.items()}
    elif kind == "os-exit":
        extra.append("import os\nos._exit(0)")
    elif kind == "huge-output":
        extra.append("for _ in range(20):\n    print('spam ' * 200_000)")
    elif kind == "endless-loop":
        extra.append("while True:\n    pass")
    elif kind == "writes-files":
        extra.append("open('notes.txt', 'w').write('draft')")
    notebook = set_student_id(exercise.notebook(answers, extra), folder.parent.name)
    if kind == "wrong-name":
        name = name.replace(".ipynb", " (1).ipynb")
    nbformat.write(notebook, folder / name)
    if kind == "corrupt":
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 3])
    elif kind == "empty":
        (folder / name).write_bytes(b"")


def generate(submitted: Path, students: int, seed: int) -> dict[tuple[str, str], str]:
    rng = random.Random(seed)
    exercises = [Exercise(a) for a in sorted(ASSIGNMENTS)]
    kinds, weights = zip(*MIX.items(), strict=True)
    plan = {}
    for number in range(students):
        student = f"student{number:04d}"
        (submitted / student).mkdir(parents=True)
        for exercise in exercises:
            kind = rng.choices(kinds, weights)[0]
            plan[(student, exercise.assignment)] = kind
            write_submission(submitted / student / exercise.assignment, exercise, kind, rng)
    return plan


def run(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    return time.perf_counter() - started, completed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--sample", type=int, default=5, help="honest notebooks per assignment graded by nbgrader"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the class and the outputs in this folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    submitted, out = work / "submitted", work / "out"
    shutil.rmtree(submitted, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    try:
        print(f"generating {args.students} students x {len(ASSIGNMENTS)} assignments...")
        plan = generate(submitted, args.students, args.seed)
        print("  mix:", dict(Counter(plan.values()).most_common()))

        # One run per assignment, as an instructor grades (and as nbgrader autograde works).
        ours, graded, statuses, seconds, runs = grade_each(submitted, out, args)
        if ours is None:
            return 1
        rate = len(graded) / seconds
        print(
            f"\npython -m autograder grade --jobs {args.jobs}, one run per assignment: "
            f"{len(graded)} notebooks in {seconds:.1f} s = {rate:.1f} notebooks/s "
            f"({1000 / rate:.0f} ms per notebook)"
        )
        print("  statuses:", dict(statuses.most_common()))
        # A class per assignment holding its honest submissions only (a run grades every
        # student folder it finds, and a folder without the assignment is a row too).
        honest_dir = work / "honest"
        shutil.rmtree(honest_dir, ignore_errors=True)
        for (student, assignment), kind in plan.items():
            if kind in HONEST:
                where = honest_dir / assignment / student / assignment
                shutil.copytree(submitted / student / assignment, where)
        honest_out = work / "out-honest"
        honest, honest_graded, _, honest_seconds, _ = grade_each(honest_dir, honest_out, args)
        if honest is None:
            return 1
        print(
            f"the honest notebooks alone: {len(honest_graded)} in {honest_seconds:.1f} s = "
            f"{len(honest_graded) / honest_seconds:.1f} notebooks/s"
        )
        view_cost(graded, runs, args.jobs)

        nbgrader, startup, same = time_nbgrader(work, submitted, plan, graded, args)
        print(
            f"\nseconds per notebook, by assignment; nbgrader on {args.sample} honest notebooks "
            f"each, without / with its start-up of {startup:.1f} s per run:"
        )
        print(
            f"  {'assignment':24} {'ours':>8} {'nbgrader':>17} {'ratio':>13}"
            f" {'ours, honest':>13} {'ratio, honest':>14}"
        )
        for assignment in sorted(ASSIGNMENTS):
            marginal, whole = nbgrader[assignment]
            mine, mine_honest = ours[assignment], honest[assignment]
            print(
                f"  {assignment:24} {mine:8.3f} {marginal:8.2f} {whole:8.2f} "
                f"{marginal / mine:6.0f}x {whole / mine:5.0f}x {mine_honest:13.3f} "
                f"{marginal / mine_honest:7.0f}x {whole / mine_honest:5.0f}x"
            )
        # Both means weigh every assignment equally, as the class does.
        mean_ours = seconds / len(graded)
        mean_honest = honest_seconds / len(honest_graded)
        marginal = sum(m for m, _ in nbgrader.values()) / len(nbgrader)
        whole = sum(w for _, w in nbgrader.values()) / len(nbgrader)
        print(
            f"  {'all (mean)':24} {mean_ours:8.3f} {marginal:8.2f} {whole:8.2f} "
            f"{marginal / mean_ours:6.0f}x {whole / mean_ours:5.0f}x {mean_honest:13.3f} "
            f"{marginal / mean_honest:7.0f}x {whole / mean_honest:5.0f}x"
            "   (target: honest notebooks at least 100x)"
        )
        print(f"scores identical to nbgrader's on the honest sample: {same}")

        check_latency(submitted, plan)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def grade_each(submitted: Path, out: Path, args):
    """Grade ``submitted`` one assignment per run; per-notebook seconds, results, totals.

    ``submitted/<assignment>/``, where it exists, is that assignment's class.

    Returns ``(seconds per notebook by assignment, submissions, statuses, seconds,
    each run's record)``, or Nones when a run failed.
    """
    ours, graded, statuses, seconds, runs = {}, [], Counter(), 0.0, []
    for assignment in sorted(ASSIGNMENTS):
        folder = submitted / assignment if (submitted / assignment).is_dir() else submitted
        command = [sys.executable, "-m", "autograder", "grade", str(folder)]
        command += ["--out", str(out / assignment), "--assignment", assignment]
        took, completed = run([*command, "--jobs", str(args.jobs), "--seed", str(args.seed)])
        if completed.returncode != 0:
            print(completed.stderr[-3000:])
            return None, None, None, None, None
        results = json.loads((out / assignment / "results.json").read_text())
        graded += results["submissions"]
        statuses.update(results["statuses"])
        runs.append(results["run"])
        ours[assignment] = took / len(results["submissions"])
        seconds += took
    return ours, graded, statuses, seconds, runs


def view_cost(graded: list[dict], runs: list[dict], jobs: int) -> None:
    """What the workers' view cost, as the zygotes and the workers measured it."""
    own = [s["worker"]["view_seconds"] for s in graded if s["worker"].get("view_seconds")]
    assembly = [r["sandbox"].get("view_seconds") for r in runs if r["sandbox"].get("view_seconds")]
    if not own or not assembly:
        print("\nthe workers' view: not made in this run (see results.json, run.isolation)")
        return
    per_zygote = sum(assembly) / len(assembly)
    amortised = per_zygote * jobs * len(runs) / len(graded)
    mean_own = sum(own) / len(own)
    print(
        f"\nthe workers' view: assembled in {1000 * per_zygote:.1f} ms per zygote "
        f"({1000 * amortised:.2f} ms per notebook over this class); each worker's own part "
        f"{1000 * mean_own:.2f} ms (median {1000 * sorted(own)[len(own) // 2]:.2f} ms): "
        f"{1000 * (mean_own + amortised):.2f} ms per notebook in all"
    )


def time_nbgrader(work, submitted, plan, graded, args):
    """nbgrader autograde's seconds per notebook for each assignment, on honest submissions.

    Returns ``{assignment: (without start-up, with start-up)}``, nbgrader's
    start-up (the median time of a run that finds nothing to grade) and
    whether nbgrader's scores of the sample equal ours.
    """
    rng = random.Random(args.seed)
    assignments = sorted(ASSIGNMENTS)
    course_root = work / "nbgrader-course"
    shutil.rmtree(course_root, ignore_errors=True)
    course_root.mkdir()
    course = NbgraderCourse(course_root, assignments)
    mine = {(s["student_id"], s["assignment"]): s["score"] for s in graded}
    per_notebook, same = {}, True
    startups = []
    for assignment in assignments:
        course.release(assignment)  # not timed: done once per assignment
        # Fails at once ("no notebooks matched") after nbgrader's start-up: that is its cost.
        startups.append(
            run(
                [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", "nobody"],
                cwd=course_root,
                env=nbgrader_env(),
            )[0]
        )
        honest = [s for (s, a), kind in sorted(plan.items()) if a == assignment and kind in HONEST]
        sample = rng.sample(honest, min(args.sample, len(honest)))
        for student in sample:
            shutil.copytree(
                submitted / student / assignment, course_root / "submitted" / student / assignment
            )
        started = time.perf_counter()
        course.autograde(assignment)
        per_notebook[assignment] = (time.perf_counter() - started, len(sample))
        theirs = course.scores(assignment)
        for student in sample:
            if theirs[student][0] != mine[(student, assignment)]:
                same = False
                print(
                    f"  differs: {student} {assignment}: nbgrader {theirs[student][0]}, "
                    f"ours {mine[(student, assignment)]}"
                )
    startup = sorted(startups)[len(startups) // 2]
    timings = {a: ((t - startup) / n, t / n) for a, (t, n) in per_notebook.items()}
    return timings, startup, same


def check_latency(submitted: Path, plan) -> None:
    """Wall-clock time of ``python -m autograder check`` on one notebook per assignment."""
    print("\npython -m autograder check (a student's notebook with a wrong answer, wall clock):")
    for assignment in sorted(ASSIGNMENTS):
        student = next(
            s for (s, a), kind in sorted(plan.items()) if a == assignment and kind == "wrong"
        )
        (notebook,) = (submitted / student / assignment).glob("*.ipynb")
        seconds, completed = run([sys.executable, "-m", "autograder", "check", str(notebook)])
        exercises = len({c.exercise for c in ASSIGNMENTS[assignment] if c.visibility == "visible"})
        print(
            f"  {assignment}: {seconds:.2f} s for {exercises} exercises "
            f"= {seconds / exercises:.2f} s per exercise (exit {completed.returncode})"
        )


if __name__ == "__main__":
    sys.exit(main())
