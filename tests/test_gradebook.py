"""Gradebooks and late policies (:mod:`autograder.gradebook`): due dates and nbgrader's
timestamps read as they come, a late policy's penalty on each side of the due date, a
Canvas gradebook written from an exported roster and read back, and bad input refused with
a message or kept under a stated default, never a row lost."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from autograder.gradebook import (
    POINTS_POSSIBLE,
    GradebookError,
    LatePolicy,
    Roster,
    canvas_csv,
    final_scores,
    generic_csv,
    late_rows,
    parse_time,
    read_timestamp,
)
from autograder.grading import SubmissionResult

DUE = datetime(2026, 12, 10, 23, 59, tzinfo=UTC)


def row(student: str, assignment: str = "01_sigmoid", score: float = 8.0, max_score=10.0):
    return SubmissionResult(
        student, assignment, "sigmoid_exercise.ipynb", "graded", "", score, max_score
    )


def stamp(submitted, student, assignment, text):
    folder = submitted / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / "timestamp.txt").write_text(text)


# ------------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 23:59:59.123456 UTC", datetime(2026, 12, 1, 23, 59, 59, 123456, UTC)),
        ("2026-12-02T08:00", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        ("2026-12-02T08:00Z", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        ("2026-12-02 09:00:00 +01:00", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        ("  2026-12-02  ", datetime(2026, 12, 2, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_nbgrader_iso_and_people_write_them(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "next friday", "12/10/2026", "2026-13-01"])
def test_a_time_that_is_not_one_raises(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_a_timestamp_file_is_read_and_its_problems_are_stated(tmp_path):
    stamp(tmp_path, "ok", "a", "2026-12-11 10:00:00.000001 UTC\n")
    stamp(tmp_path, "odd", "a", "Fri Dec 11 10:00 2026\n")
    stamp(tmp_path, "empty", "a", "")
    stamp(tmp_path, "none", "a", None)
    assert read_timestamp(tmp_path / "ok" / "a") == (
        datetime(2026, 12, 11, 10, 0, 0, 1, UTC),
        "",
    )
    for student, why in [
        ("odd", "not understood"),
        ("empty", "not understood"),
        ("none", "no timestamp"),
    ]:
        when, note = read_timestamp(tmp_path / student / "a")
        assert when is None
        assert why in note and "treated as on time" in note


# -------------------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("per-day:10", LatePolicy("per-day", 10.0, 100.0)),
        ("per-day:12.5:50", LatePolicy("per-day", 12.5, 50.0)),
        ("zero-after:2026-12-12T23:59", LatePolicy("zero-after", cutoff=DUE + timedelta(days=2))),
    ],
)
def test_policies_parse(text, expected):
    assert LatePolicy.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("per-day:ten", "ten"),
        ("per-day:150", "between 0 and 100"),
        ("per-day:10:-5", "between 0 and 100"),
        ("weekly:5", "expected per-day"),
        ("zero-after:soon", "soon"),
        ("", "expected per-day"),
    ],
)
def test_a_malformed_policy_is_refused_with_its_reason(text, says):
    with pytest.raises(GradebookError, match="late policy") as raised:
        LatePolicy.parse(text)
    assert says in str(raised.value)


def test_per_day_counts_started_days_and_stops_at_the_cap(tmp_path):
    policy = LatePolicy.parse("per-day:10:30")
    cases = {  # student: (submitted, expected penalty in points of 10)
        "early": (DUE - timedelta(days=2), 0.0),
        "on-the-dot": (DUE, 0.0),
        "a-second-late": (DUE + timedelta(seconds=1), 1.0),
        "a-day-late": (DUE + timedelta(days=1), 1.0),
        "a-day-and-a-minute": (DUE + timedelta(days=1, minutes=1), 2.0),
        "five-days-late": (DUE + timedelta(days=4, hours=3), 3.0),  # 50 %, capped at 30 %
    }
    for student, (when, _) in cases.items():
        stamp(tmp_path, student, "01_sigmoid", when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    results = [row(s) for s in cases]
    late = late_rows(results, tmp_path, DUE, policy)
    for student, (when, penalty) in cases.items():
        kept = late[(student, "01_sigmoid")]
        assert (kept.raw, kept.penalty, kept.final) == (8.0, penalty, 8.0 - penalty), student
        assert kept.days_late == pytest.approx(max(0.0, (when - DUE) / timedelta(days=1)), abs=1e-3)
        assert kept.note == ""


def test_a_penalty_never_takes_a_score_below_zero(tmp_path):
    stamp(tmp_path, "late", "01_sigmoid", "2026-12-20 00:00:00 UTC")
    late = late_rows([row("late", score=2.0)], tmp_path, DUE, LatePolicy.parse("per-day:25"))
    assert late[("late", "01_sigmoid")].final == 0.0
    assert late[("late", "01_sigmoid")].penalty == 2.0


def test_zero_after_a_cutoff_and_nothing_before_it(tmp_path):
    policy = LatePolicy.parse("zero-after:2026-12-12T23:59")
    stamp(tmp_path, "grace", "a", "2026-12-12 23:58:59 UTC")  # late, before the cut-off
    stamp(tmp_path, "cut", "a", "2026-12-12 23:59:01 UTC")
    late = late_rows([row("grace", "a"), row("cut", "a")], tmp_path, DUE, policy)
    assert late[("grace", "a")].final == 8.0
    assert late[("cut", "a")].final == 0.0 and late[("cut", "a")].penalty == 8.0


def test_rows_without_a_usable_timestamp_are_kept_on_time_and_say_why(tmp_path):
    stamp(tmp_path, "no-file", "a", None)
    stamp(tmp_path, "other-format", "a", "11/12/2026 10:00 PM")
    results = [row("no-file", "a"), row("other-format", "a"), row("no-folder", "a")]
    late = late_rows(results, tmp_path, DUE, LatePolicy.parse("per-day:10"))
    assert set(late) == {(r.student_id, "a") for r in results}  # no row lost
    assert all(kept.final == 8.0 and kept.penalty == 0.0 for kept in late.values())
    assert "no timestamp.txt" in late[("no-file", "a")].note
    assert "'11/12/2026 10:00 PM' not understood" in late[("other-format", "a")].note
    assert final_scores(results, late) == {(r.student_id, "a"): 8.0 for r in results}


# ------------------------------------------------------------------------- gradebooks

ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Homework 1 (1234),Notes,Current Score\n"
    "    Points Possible,,,,,10,,\n"
    '"Lovelace, Ada",101,u101,ada,S1,7,likes proofs,70\n'
    '"Noether, Emmy",102,u102,emmy,S1,,,\n'
    '"Turing, Alan",103,u103,alan,S2,,,\n'
)


def read_roster(tmp_path, text=ROSTER):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return Roster.read(path)


def test_a_canvas_gradebook_is_written_from_the_roster_and_read_back(tmp_path):
    roster = read_roster(tmp_path)
    results = [
        row("ada", "01_sigmoid", 9.0, 10.0),
        row("ada", "02_softplus", 5.5, 8.0),
        row("emmy", "01_sigmoid", 10.0, 10.0),
        row("grace", "01_sigmoid", 4.0, 10.0),  # not on the roster
    ]
    scores = final_scores(results)
    book = canvas_csv(roster, results, [("01_sigmoid", 10.0), ("02_softplus", 8.0)], scores)
    table = list(csv.DictReader(io.StringIO(book.text)))
    assert list(table[0]) == [
        "Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_sigmoid", "02_softplus"
    ]  # fmt: skip
    assert table[0]["Student"] == POINTS_POSSIBLE
    assert (table[0]["01_sigmoid"], table[0]["02_softplus"]) == ("10", "8")
    by_login = {r["SIS Login ID"]: r for r in table[1:]}
    assert set(by_login) == {"ada", "emmy", "alan"}  # every roster student, in its order
    assert (by_login["ada"]["01_sigmoid"], by_login["ada"]["02_softplus"]) == ("9", "5.5")
    assert (by_login["emmy"]["01_sigmoid"], by_login["emmy"]["02_softplus"]) == ("10", "")
    assert (by_login["alan"]["01_sigmoid"], by_login["alan"]["02_softplus"]) == ("", "")
    assert by_login["ada"]["Student"] == "Lovelace, Ada" and by_login["ada"]["ID"] == "101"
    assert book.key == "SIS Login ID"
    assert book.without_submission == ["Turing, Alan (SIS Login ID alan)"]
    assert book.not_in_roster == ["grace"]


def test_the_roster_column_that_names_the_submissions_is_the_key(tmp_path):
    roster = read_roster(tmp_path)
    results = [row("u101"), row("u103")]
    book = canvas_csv(roster, results, [("01_sigmoid", 10.0)], final_scores(results))
    assert book.key == "SIS User ID"
    assert book.not_in_roster == []
    assert [r["01_sigmoid"] for r in csv.DictReader(io.StringIO(book.text))][1:] == ["8", "", "8"]


def test_a_roster_with_unknown_columns_is_read_and_they_are_named(tmp_path):
    roster = read_roster(tmp_path)
    assert [r["SIS Login ID"] for r in roster.rows] == ["ada", "emmy", "alan"]
    assert roster.ignored == ["Homework 1 (1234)", "Notes", "Current Score"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Name,Email\nAda,ada@example.org\n", "no column Student, ID"),
        ("Student,Section\nAda,S1\n", "no column ID"),
        ("", "no column Student, ID"),
    ],
)
def test_a_roster_without_the_columns_canvas_exports_is_refused(tmp_path, text, says):
    with pytest.raises(GradebookError, match=says):
        read_roster(tmp_path, text)


def test_a_missing_roster_is_refused_with_its_path(tmp_path):
    with pytest.raises(GradebookError, match=r"roster .*nowhere\.csv"):
        Roster.read(tmp_path / "nowhere.csv")


def test_the_generic_gradebook_has_one_row_per_student_and_the_final_scores(tmp_path):
    stamp(tmp_path, "ada", "a", "2026-12-11 00:30:00 UTC")
    results = [row("ada", "a"), row("ada", "b", 3.0), row("bob", "a", 10.0)]
    late = late_rows(results, tmp_path, DUE, LatePolicy.parse("per-day:10"))
    table = list(
        csv.reader(io.StringIO(generic_csv(results, ["a", "b"], final_scores(results, late))))
    )
    assert table == [["student_id", "a", "b"], ["ada", "7", "3"], ["bob", "10", ""]]
