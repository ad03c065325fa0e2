"""``python -m autograder similarity``: pairs of students whose own code is unusually alike.

The class (``tests/similarity_class.py``): honest students who each chose their own
approaches, one who copied a classmate's solution (variables renamed, functions moved
and reordered), and two who submitted the template with one different answer each.
The copied pair must rank first and above the threshold; the template pair below it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import similarity_class as generated
from helpers import assert_well_formed, autograder, set_student_id
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.similarity import (
    DEFAULT_THRESHOLD,
    SimilarityError,
    Template,
    fingerprints,
    normalised_tokens,
    rank,
    template_path,
    winnow,
)

ASSIGNMENT = generated.ASSIGNMENT
NAME = generated.TEMPLATE.name
COPIED = {"honest000", "copier"}
TEMPLATE_PAIR = {"tmpl_a", "tmpl_b"}


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    """Eight honest students, a copier of honest000, a template pair and two bad inputs."""
    root = tmp_path_factory.mktemp("similarity") / "submitted"
    styles = generated.honest_class(root, 8, seed=11)
    copied = generated.copy_of(styles["honest000"], seed=5)
    generated.write(root, "copier", generated.notebook_for("copier", copied, together=True))
    # Each answers one exercise, not the same one: the template is all they share.
    own_a = generated.render(styles["honest001"], generated.draw_names(_rng(1)), [""] * 12)
    own_b = generated.render(styles["honest002"], generated.draw_names(_rng(2)), [""] * 12)
    generated.write(root, "tmpl_a", generated.partial("tmpl_a", "sigmoid", own_a["sigmoid"]))
    generated.write(root, "tmpl_b", generated.partial("tmpl_b", "logit", own_b["logit"]))
    corrupt = root / "corrupt" / ASSIGNMENT
    corrupt.mkdir(parents=True)
    (corrupt / NAME).write_text('{"cells": [{"cell_type": "code", "source": "x = ', "utf-8")
    (root / "absent").mkdir()  # a student folder without the assignment
    return root


def _rng(seed: int):
    import numpy as np

    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def ranked(submitted):
    return rank(submitted, ASSIGNMENT)


def pair_of(result, students: set[str]):
    (found,) = [p for p in result.pairs if {p.student_a, p.student_b} == students]
    return found


# --------------------------------------------------------------------------- the ranking


def test_the_copied_pair_ranks_first_above_the_threshold_and_the_template_pair_below(ranked):
    first = ranked.pairs[0]
    assert {first.student_a, first.student_b} == COPIED
    assert first.score > DEFAULT_THRESHOLD
    assert ranked.flagged == [first]  # no honest pair, and not the template pair
    template_pair = pair_of(ranked, TEMPLATE_PAIR)
    assert template_pair.score < DEFAULT_THRESHOLD
    assert template_pair.score == 0 and template_pair.cells_a == []
    # Every pair of the 11 readable notebooks is there, best first.
    assert len(ranked.pairs) == 11 * 10 // 2
    scores = [p.score for p in ranked.pairs]
    assert scores == sorted(scores, reverse=True)


def test_the_copied_pair_shares_every_exercise_and_the_copier_moved_them_into_one_cell(ranked):
    copied = ranked.pairs[0]
    honest_cells = copied.cells_a if copied.student_a == "honest000" else copied.cells_b
    copier_cells = copied.cells_b if copied.student_a == "honest000" else copied.cells_a
    assert len(honest_cells) == len(generated.EXERCISES)  # a passage of every answer
    assert len(copier_cells) == 1  # every function, in reverse order, in one cell


def test_without_removing_the_template_the_template_pair_would_be_flagged(submitted):
    """The planted fault: compare whole notebooks.  The two students who share only the
    released notebook then look like copies; removing the template is what clears them."""
    whole = rank(submitted, ASSIGNMENT, remove_template=False)
    assert pair_of(whole, TEMPLATE_PAIR).score > DEFAULT_THRESHOLD


def test_the_template_is_the_released_notebook_and_its_cells_are_removed(submitted, ranked):
    path = template_path(ASSIGNMENT)
    assert path == generated.TEMPLATE
    template = Template.load(path)
    assert "setup" in template.locked_ids  # the set-up cell, restored by grading anyway
    own = {cell.label for cell in ranked.submissions["tmpl_a"].cells}
    assert own == {"sigmoid"}  # the STUDENT_ID cell and the untouched stubs are gone


def test_renaming_changes_no_token_and_another_function_does():
    mine = normalised_tokens("def f(x):\n    e = np.exp(-x)  # stable\n    return e / (1 + e)\n")
    renamed = normalised_tokens(
        'def g(z):\n    """Mine."""\n    r = np.exp(-z)\n    return r / (1 + r)'
    )
    other = normalised_tokens("def f(x):\n    e = np.log(-x)\n    return e / (1 + e)\n")
    assert [t.text for t in mine] == [t.text for t in renamed]
    assert [t.text for t in mine] != [t.text for t in other]
    assert "exp" in [t.text for t in mine] and "log" in [t.text for t in other]


def test_a_function_has_the_same_fingerprints_wherever_it_stands():
    one = "def f(x):\n    y = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1 / (1 + y), y)\n"
    two = "def g(p):\n    return np.log(p) - np.log1p(-p) + np.sum(p * p) / 2\n"
    alone = fingerprints(normalised_tokens(one))
    after = fingerprints(normalised_tokens(two + "\n\n" + one))
    assert alone and set(alone) <= set(after)


def test_cells_python_cannot_read_are_still_compared():
    broken = normalised_tokens("%time y = f(x)\ndef f(x:\n    return 'unclosed")
    assert [t.text for t in broken][:4] == ["V", "=", "V", "("]
    assert "return" in [t.text for t in broken]


# --------------------------------------------------------------------------- winnowing


def test_winnowing_the_papers_example():
    # Schleimer, Wilkerson and Aiken (2003), figure 2: window 4 selects 17 17 8 39 17,
    # recorded once each (the second 17 is the first 17 seen again at position 6).
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]
    assert [hashes[i] for i in winnow(hashes, 4)] == [17, 17, 8, 39, 17]
    with pytest.raises(ValueError, match="at least 1"):
        winnow(hashes, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=60),
    st.lists(st.integers(0, 1000), max_size=30),
    st.lists(st.integers(0, 1000), max_size=30),
    st.integers(1, 8),
)
def test_every_window_holds_a_selected_hash_so_shared_windows_are_found(shared, before, after, w):
    selected = winnow(before + shared + after, w)
    total = len(before) + len(shared) + len(after)
    assert selected == sorted(set(selected))
    for start in range(max(total - w + 1, 1)):
        assert any(start <= i < start + w for i in selected)
    if len(shared) >= w:  # the guarantee: both sequences select a hash of the shared run
        alone = {shared[i] for i in winnow(shared, w)}
        within = {(before + shared + after)[i] for i in selected}
        assert alone & within


# --------------------------------------------------------------------------- bad input


def test_missing_and_corrupt_notebooks_are_listed_and_nobody_is_dropped(submitted, ranked):
    problems = {p.student: (p.status, p.message) for p in ranked.problems}
    assert problems == {
        "absent": ("missing", f"no {ASSIGNMENT}/{NAME}"),
        "corrupt": (
            "corrupt-notebook",
            "the notebook is not valid JSON (cut short or edited by hand?)",
        ),
    }
    students = {p.name for p in submitted.iterdir() if p.is_dir()}
    assert students == set(ranked.submissions) | set(problems)


def test_other_bad_inputs_are_listed_with_their_reason(tmp_path):
    root = tmp_path / "submitted"
    for student, name, text in [
        ("empty", NAME, ""),
        ("prose", NAME, "my answers are below\n"),
        ("renamed", "mine.ipynb", json.dumps({"cells": []})),
        ("nbformat3", NAME, json.dumps({"worksheets": [], "nbformat": 3})),
        ("fine", NAME, generated.TEMPLATE.read_text(encoding="utf-8")),
    ]:
        (root / student / ASSIGNMENT).mkdir(parents=True)
        (root / student / ASSIGNMENT / name).write_text(text, encoding="utf-8")
    result = rank(root, ASSIGNMENT)
    reasons = {p.student: f"{p.status}: {p.message}" for p in result.problems}
    assert reasons["empty"] == "corrupt-notebook: the notebook file is empty"
    assert reasons["prose"].startswith("not-a-notebook:")
    assert reasons["renamed"] == f"missing: no {ASSIGNMENT}/{NAME} (the folder holds mine.ipynb)"
    assert "nbformat 4" in reasons["nbformat3"]
    assert list(result.submissions) == ["fine"] and result.pairs == []


def test_unknown_assignment_and_threshold_are_usage_errors(submitted, tmp_path):
    with pytest.raises(SimilarityError, match="unknown assignment '99_nothing'"):
        rank(submitted, "99_nothing")
    with pytest.raises(SimilarityError, match="from 0 to 1"):
        rank(submitted, ASSIGNMENT, threshold=1.5)
    for args in (
        [str(submitted), "--assignment", "99_nothing", "--out", str(tmp_path / "out")],
        [
            str(submitted),
            "--assignment",
            ASSIGNMENT,
            "--out",
            str(tmp_path / "out"),
            "--threshold",
            "2",
        ],
        [str(tmp_path / "nowhere"), "--assignment", ASSIGNMENT, "--out", str(tmp_path / "out")],
        [str(submitted), "--out", str(tmp_path / "out")],
    ):
        completed = autograder("similarity", *args)
        assert completed.returncode == 2, completed.stderr
        assert "usage:" in completed.stderr
        assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the command


def test_the_command_writes_the_csv_and_the_report(submitted, tmp_path):
    out = tmp_path / "out"
    completed = autograder(
        "similarity", str(submitted), "--assignment", ASSIGNMENT, "--out", str(out)
    )
    assert completed.returncode == 0, completed.stderr
    assert "compared 11 notebooks (55 pairs); 1 above 0.8; 2 not compared" in completed.stdout
    assert "not compared: corrupt: corrupt-notebook" in completed.stderr
    assert "not compared: absent: missing" in completed.stderr

    rows = list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text())))
    assert list(rows[0]) == [
        "student_a",
        "student_b",
        "score",
        "above_threshold",
        "shared_tokens",
        "cells_a",
        "cells_b",
    ]
    assert len(rows) == 55
    assert {rows[0]["student_a"], rows[0]["student_b"]} == COPIED
    assert rows[0]["above_threshold"] == "yes" and float(rows[0]["score"]) > DEFAULT_THRESHOLD
    assert "sigmoid" in rows[0]["cells_a"] + rows[0]["cells_b"]
    assert [r["above_threshold"] for r in rows[1:]] == ["no"] * 54
    (template_row,) = [r for r in rows if {r["student_a"], r["student_b"]} == TEMPLATE_PAIR]
    assert float(template_row["score"]) == 0 and template_row["cells_a"] == ""

    page = (out / "similarity.html").read_text()
    assert_well_formed(page)
    assert "Short exercises look alike by nature" in page
    assert "<h3>copier and honest000: score" in page and page.count("<mark>") >= 6
    assert "not valid JSON" in page and f"no {ASSIGNMENT}/{NAME}" in page
    assert "tmpl_a and tmpl_b" not in page  # below the threshold: not side by side


def test_the_histogram_counts_every_pair_and_marks_the_threshold(submitted, tmp_path):
    result = rank(submitted, ASSIGNMENT, threshold=0.5)
    from autograder.similarity import similarity_html

    page = similarity_html(result)
    (encoded,) = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page)
    svg = base64.b64decode(encoded).decode()
    counts = [int(c) for c in re.findall(r"<title>[0-9.]+-[0-9.]+: (\d+)</title>", svg)]
    assert len(counts) == 20 and sum(counts) == len(result.pairs)
    assert counts[-2] + counts[-1] >= 1  # the copied pair, alone at the top
    (x,) = re.findall(r"<line class='threshold' x1='([0-9.]+)'", svg)
    assert float(x) == pytest.approx(60 + 640 * 0.5)


def test_student_code_is_escaped_in_the_report(tmp_path):
    root = tmp_path / "submitted"
    hostile = "def f(x):\n    return '</pre><script>alert(1)</script>' + x * 2 + x * 3 + x\n"
    for student in ("ann", "bob"):
        notebook = generated.partial(student, "sigmoid", hostile.splitlines()[1:])
        notebook["cells"].append({"cell_type": "code", "metadata": {}, "source": hostile})
        generated.write(root, student, notebook)
    result = rank(root, ASSIGNMENT, threshold=0.1)
    assert result.flagged
    from autograder.similarity import similarity_html

    page = similarity_html(result)
    assert_well_formed(page)  # no script, every tag closed
    assert "&lt;script&gt;" in page


def test_scores_do_not_depend_on_the_process(submitted, tmp_path):
    """copydetect's hash() is salted per process; these fingerprints are not."""
    outputs, options = [], ["--assignment", ASSIGNMENT, "--out"]
    for seed in ("1", "2"):
        out = tmp_path / seed
        completed = subprocess.run(  # helpers.autograder, with the hash seed set
            [sys.executable, "-m", "autograder", "similarity", str(submitted), *options, str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=dict(os.environ, PYTHONHASHSEED=seed),
        )
        assert completed.returncode == 0, completed.stderr
        outputs.append((out / "similarity.csv").read_text())
    assert outputs[0] == outputs[1]
    shutil.rmtree(tmp_path / "1")


def test_an_untouched_notebook_is_compared_and_said_to_hold_nothing_of_its_own(tmp_path):
    root = tmp_path / "submitted"
    untouched = json.loads(generated.TEMPLATE.read_text(encoding="utf-8"))
    generated.write(root, "idle", set_student_id(untouched, "idle"))
    generated.write(root, "busy", generated.partial("busy", "logit", ["return np.log(p)"]))
    result = rank(root, ASSIGNMENT)
    assert result.without_own_code == ["idle"]
    assert [(p.student_a, p.student_b, p.score) for p in result.pairs] == [("busy", "idle", 0)]
    from autograder.similarity import similarity_html

    assert "nothing of their own beyond the template (every score 0): idle." in similarity_html(
        result
    )


def test_the_output_folder_inside_the_submissions_is_no_student(submitted, tmp_path):
    root = tmp_path / "submitted"
    for student in ("honest000", "copier"):
        shutil.copytree(submitted / student, root / student)
    completed = autograder(
        "similarity", str(root), "--assignment", ASSIGNMENT, "--out", str(root / "report")
    )
    assert completed.returncode == 0, completed.stderr
    assert "compared 2 notebooks (1 pairs); 1 above 0.8; 0 not compared" in completed.stdout
    assert (root / "report" / "similarity.csv").is_file()
    again = autograder(
        "similarity", str(root), "--assignment", ASSIGNMENT, "--out", str(root / "report")
    )
    assert "0 not compared" in again.stdout  # the report folder, now there, is not a student


def test_the_default_threshold_separates_a_generated_class_of_sixty(tmp_path):
    """The calibration the module states, on its first class: every honest pair below the
    threshold, every copy above it and above every honest pair."""
    students, seed = generated.CALIBRATION[0]
    copies = generated.calibration_class(tmp_path, students, seed)
    result = rank(tmp_path, ASSIGNMENT)
    copied = [p for p in result.pairs if {p.student_a, p.student_b} in copies]
    honest = [
        p.score
        for p in result.pairs
        if not (p.student_a.startswith("copier") or p.student_b.startswith("copier"))
    ]
    assert len(honest) == students * (students - 1) // 2 and len(copied) == generated.COPIES
    assert max(honest) < DEFAULT_THRESHOLD < min(p.score for p in copied)
    assert result.pairs[: generated.COPIES] == sorted(copied, key=result.pairs.index)
