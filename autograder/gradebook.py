"""Gradebooks an LMS takes, and late policies: what a grading run's scores become for a course.

- :func:`read_timestamp` reads nbgrader's ``timestamp.txt`` of a submission;
  :class:`LatePolicy` turns how late it was into a penalty (``per-day:10`` takes 10 % of
  the assignment's points per day late, ``per-day:10:50`` at most 50 %; ``zero-after:WHEN``
  gives 0 after a cut-off), and :func:`late_rows` applies it to every row, keeping the raw
  score, the penalty and the final score side by side.
- :func:`generic_csv` is one row per student, one column per assignment (final scores).
- :func:`canvas_csv` fills the gradebook a Canvas course exports (``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then the assignments) so that Canvas's
  grade import takes it: one column per assignment and a ``Points Possible`` row.  The
  roster's students are matched to the submissions' folder names by ``SIS Login ID``, else
  ``SIS User ID``, else ``ID``; students found on one side only are listed, never dropped.

Times without a timezone are read as UTC (stated in every output that uses them).  Nothing
here reads a notebook or runs anything: it works on the rows grading produced.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autograder.grading import SubmissionResult

#: nbgrader writes the submission time here, beside the notebook.
TIMESTAMP_FILE = "timestamp.txt"
#: The columns every Canvas gradebook export starts with.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
#: Roster columns tried, in order, to match a submission folder's name.
CANVAS_KEYS = ("SIS Login ID", "SIS User ID", "ID")
POINTS_POSSIBLE = "    Points Possible"


class GradebookError(ValueError):
    """A due date, a policy or a roster that cannot be used as given; the message says why."""


def parse_time(text: str) -> datetime:
    """A time as nbgrader, ISO 8601 or a person writes it; naive times are UTC.

    >>> parse_time("2026-12-01 23:59:59.123456 UTC").isoformat()
    '2026-12-01T23:59:59.123456+00:00'
    >>> parse_time("2026-12-02T08:00").isoformat()
    '2026-12-02T08:00:00+00:00'

    Raises ``ValueError`` for anything else.
    """
    cleaned = text.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    cleaned = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", cleaned)
    moment = datetime.fromisoformat(cleaned)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_timestamp(folder: Path) -> tuple[datetime | None, str]:
    """The submission time recorded in ``folder``, or None and why it is not known."""
    path = folder / TIMESTAMP_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None, "no timestamp.txt: treated as on time"
    except OSError as error:
        return None, f"timestamp.txt unreadable ({error.strerror}): treated as on time"
    try:
        return parse_time(text.splitlines()[0] if text.strip() else ""), ""
    except (ValueError, IndexError):
        return None, f"timestamp {text.strip()[:40]!r} not understood: treated as on time"


@dataclass(frozen=True)
class LatePolicy:
    """``per-day`` (``percent`` of the points per day late, started days counting, at most
    ``cap`` percent) or ``zero-after`` (0 after ``cutoff``, no penalty before)."""

    kind: str
    percent: float = 0.0
    cap: float = 100.0
    cutoff: datetime | None = None

    @classmethod
    def parse(cls, text: str) -> LatePolicy:
        """``per-day:PERCENT[:CAP]`` or ``zero-after:WHEN``; GradebookError otherwise."""
        kind, _, rest = text.partition(":")
        try:
            if kind == "per-day":
                percent, _, cap = rest.partition(":")
                policy = cls("per-day", float(percent), float(cap) if cap else 100.0)
                if not (0 <= policy.percent <= 100 and 0 <= policy.cap <= 100):
                    raise ValueError("percentages between 0 and 100")
                return policy
            if kind == "zero-after":
                return cls("zero-after", cutoff=parse_time(rest))
        except ValueError as error:
            raise GradebookError(f"late policy {text!r}: {error}") from None
        raise GradebookError(
            f"late policy {text!r}: expected per-day:PERCENT[:CAP] or zero-after:WHEN"
        )

    def penalty(self, due: datetime, submitted: datetime, max_score: float) -> float:
        """The points taken off a submission made at ``submitted`` (due at ``due``)."""
        if submitted <= due:
            return 0.0
        if self.kind == "zero-after":
            return max_score if self.cutoff is not None and submitted > self.cutoff else 0.0
        days = math.ceil((submitted - due).total_seconds() / 86400)
        return max_score * min(self.percent * days, self.cap) / 100


@dataclass(frozen=True)
class LateRow:
    """A row's lateness: the raw score, the days late, the penalty, the final score."""

    raw: float
    days_late: float
    penalty: float
    final: float
    note: str = ""


def late_rows(
    results: Sequence[SubmissionResult],
    submitted: Path,
    due: datetime,
    policy: LatePolicy,
) -> dict[tuple[str, str], LateRow]:
    """Each row's lateness under ``policy`` for a due date, from nbgrader's timestamps."""
    rows = {}
    for result in results:
        folder = submitted / result.student_id / result.assignment
        when, note = read_timestamp(folder) if folder.is_dir() else (None, "")
        if when is None:
            rows[(result.student_id, result.assignment)] = LateRow(
                result.score, 0.0, 0.0, result.score, note
            )
            continue
        days = max(0.0, (when - due).total_seconds() / 86400)
        penalty = min(result.score, policy.penalty(due, when, result.max_score))
        rows[(result.student_id, result.assignment)] = LateRow(
            result.score, round(days, 3), penalty, result.score - penalty
        )
    return rows


def final_scores(
    results: Sequence[SubmissionResult], late: dict[tuple[str, str], LateRow] | None = None
) -> dict[tuple[str, str], float]:
    """Every row's final score: the raw score, less the late penalty where a policy applies."""
    return {
        (r.student_id, r.assignment): (
            late[(r.student_id, r.assignment)].final if late else r.score
        )
        for r in results
    }


def generic_csv(
    results: Sequence[SubmissionResult], assignments: Sequence[str], scores: dict
) -> str:
    """One row per student, one column per assignment (final scores; empty: not graded)."""
    students = sorted({r.student_id for r in results})
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["student_id", *assignments])
    for student in students:
        writer.writerow([student, *(_points(scores.get((student, a))) for a in assignments)])
    return stream.getvalue()


@dataclass
class Roster:
    """A Canvas gradebook export: its rows (Points Possible row set aside), its headers,
    and the columns it holds beyond Canvas's student columns (other assignments, totals,
    notes), which the gradebook written from it leaves out: Canvas's import changes only the
    columns it is given."""

    headers: list[str]
    rows: list[dict[str, str]]

    @property
    def ignored(self) -> list[str]:
        return [h for h in self.headers if h not in CANVAS_COLUMNS]

    @classmethod
    def read(cls, path: Path) -> Roster:
        """Read an exported gradebook; GradebookError names what is missing."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise GradebookError(f"roster {path}: {error.strerror or error}") from None
        reader = csv.DictReader(io.StringIO(text))
        headers = list(reader.fieldnames or [])
        missing = [c for c in ("Student", "ID") if c not in headers]
        if missing:
            raise GradebookError(
                f"roster {path}: no column {', '.join(missing)} (export the gradebook from "
                "Canvas's Grades page: Export > Export Entire Gradebook)"
            )
        # Besides students, an export holds a "Points Possible" row, and sometimes a row of
        # posting policies: neither has a student's ID.
        rows = [
            row
            for row in reader
            if (row.get("Student") or "").strip() not in ("", "Points Possible")
            and (row.get("ID") or "").strip()
        ]
        return cls(headers, rows)

    def key_for(self, students: set[str]) -> str:
        """The roster column whose values name the most submission folders."""
        usable = [k for k in CANVAS_KEYS if k in self.headers]
        return max(usable, key=lambda k: sum((r.get(k) or "") in students for r in self.rows))


@dataclass
class CanvasGradebook:
    """The CSV to import, and who was found on one side only."""

    text: str
    key: str
    without_submission: list[str]
    not_in_roster: list[str]


def canvas_csv(
    roster: Roster,
    results: Sequence[SubmissionResult],
    assignments: Sequence[tuple[str, float]],
    scores: dict,
) -> CanvasGradebook:
    """The roster with one column per ``(assignment id, points possible)``, filled in.

    Roster students without any graded row keep empty cells (Canvas leaves those grades
    alone) and are listed; graded students the roster lacks are listed too.
    """
    students = {r.student_id for r in results}
    key = roster.key_for(students)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    columns = [c for c in CANVAS_COLUMNS if c in roster.headers]
    names = [assignment for assignment, _ in assignments]
    writer.writerow([*columns, *names])
    writer.writerow(
        [POINTS_POSSIBLE, *([""] * (len(columns) - 1)), *(_points(p) for _, p in assignments)]
    )
    matched, without = set(), []
    for row in roster.rows:
        student = (row.get(key) or "").strip()
        if student in students:
            matched.add(student)
        else:
            without.append(f"{row.get('Student', '').strip()} ({key} {student or 'empty'})")
        writer.writerow(
            [row.get(c, "") for c in columns] + [_points(scores.get((student, a))) for a in names]
        )
    return CanvasGradebook(stream.getvalue(), key, without, sorted(students - matched))


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
