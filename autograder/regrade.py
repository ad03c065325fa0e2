"""A regrade, before and after: who changed, by how much, which checks flipped, and why.

:func:`compare_runs` reads the ``results.json`` of an earlier run and compares it with a new
run's rows, submission by submission; :func:`regrade_csv` and :func:`regrade_html` write what
changed.  A check *flipped* when it passed in one run and failed in the other, or when its
points changed (a check whose points were changed in its definition); the reason shown is the
check's message in each run (the instructor's, with inputs and values).  Submissions present
in only one run are listed as added or removed.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import SubmissionResult


class RegradeError(ValueError):
    """The earlier run's results cannot be read; the message says why."""


@dataclass(frozen=True)
class Flip:
    """One check that changed: its points before and after, and each run's message."""

    check: str
    before: float | None
    after: float | None
    message_before: str
    message_after: str


@dataclass
class Change:
    """One submission that changed between the runs."""

    student_id: str
    assignment: str
    before: float | None
    after: float | None
    status_before: str
    status_after: str
    flips: list[Flip] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)


def read_previous(out: Path) -> list[SubmissionResult]:
    """The rows of an earlier run's output folder (its ``results.json``)."""
    path = out / "results.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [SubmissionResult.from_json(s) for s in document["submissions"]]
    except OSError as error:
        raise RegradeError(f"{path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise RegradeError(f"{path} is not a results.json of this grader ({error})") from None


def compare_runs(
    before: Sequence[SubmissionResult], after: Sequence[SubmissionResult]
) -> list[Change]:
    """Every submission whose score, status or checks differ between the two runs."""
    old = {(r.student_id, r.assignment): r for r in before}
    new = {(r.student_id, r.assignment): r for r in after}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        first, second = old.get(key), new.get(key)
        flips = _flips(first, second) if first and second else []
        same = (
            first is not None
            and second is not None
            and first.score == second.score
            and first.status == second.status
            and not flips
        )
        if same:
            continue
        changes.append(
            Change(
                student_id=key[0],
                assignment=key[1],
                before=first.score if first else None,
                after=second.score if second else None,
                status_before=first.status if first else "(not in the earlier run)",
                status_after=second.status if second else "(not in this run)",
                flips=flips,
            )
        )
    return changes


def _flips(first: SubmissionResult, second: SubmissionResult) -> list[Flip]:
    old = {c.name: c for c in first.checks}
    new = {c.name: c for c in second.checks}
    flips = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        if a and b and a.passed == b.passed and a.points == b.points:
            continue
        flips.append(
            Flip(
                check=name,
                before=a.points if a else None,
                after=b.points if b else None,
                message_before=a.message if a else "(no such check)",
                message_after=b.message if b else "(no such check)",
            )
        )
    return flips


def regrade_csv(changes: Sequence[Change]) -> str:
    """One row per changed submission: scores, the change, statuses and the flipped checks."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(
        [
            "student_id",
            "assignment",
            "score_before",
            "score_after",
            "change",
            "status_before",
            "status_after",
            "checks_flipped",
        ]
    )
    for change in changes:
        writer.writerow(
            [
                change.student_id,
                change.assignment,
                _number(change.before),
                _number(change.after),
                f"{change.delta:+g}",
                change.status_before,
                change.status_after,
                "; ".join(
                    f"{f.check} {_number(f.before)} -> {_number(f.after)}" for f in change.flips
                ),
            ]
        )
    return stream.getvalue()


def regrade_html(changes: Sequence[Change], total: int) -> str:
    """The instructor's page: each changed submission, its flipped checks and their messages."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<title>Regrade: what changed</title>\n<style>body{font-family:system-ui,sans-serif;"
        "max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;"
        "width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;"
        "vertical-align:top}pre{white-space:pre-wrap;margin:0;font-size:.85rem}</style>\n"
        "</head>\n<body>\n<h1>Regrade: what changed</h1>",
        f"<p>{len(changes)} of {total} submissions changed.</p>",
    ]
    if changes:
        parts.append(
            "<table><tr><th>student</th><th>assignment</th><th>score</th><th>status</th>"
            "<th>checks that flipped, and why</th></tr>"
        )
    for change in changes:
        why = "".join(
            f"<p><code>{e(f.check)}</code> {_number(f.before)} → {_number(f.after)}</p>"
            f"<pre>before: {e(f.message_before)}\nafter:  {e(f.message_after)}</pre>"
            for f in change.flips
        )
        parts.append(
            f"<tr><td>{e(change.student_id)}</td><td>{e(change.assignment)}</td>"
            f"<td>{_number(change.before)} → {_number(change.after)} ({change.delta:+g})</td>"
            f"<td>{e(change.status_before)} → {e(change.status_after)}</td><td>{why}</td></tr>"
        )
    if changes:
        parts.append("</table>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
