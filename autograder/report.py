"""What grading writes: grades.csv, results.json, student feedback and the instructor's report.

Every file is written atomically (a temporary file in the same folder, then a
rename), so an interrupted run leaves either the previous file or the new one,
never half of one.  Everything a student wrote or printed is HTML-escaped; the
student's feedback shows hidden checks only by name, points and a generic
message.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import itertools
import json
import os
import re
import statistics
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.grading import (
    FAILED_ON_ITS_OWN,
    STATUSES,
    Assignment,
    SubmissionResult,
    section_hint,
)
from autograder.runner.confine import UNSAFE_OPTION


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def number(value: float) -> str:
    """Points as people write them: 2, 1.5."""
    return f"{value:g}"


# --------------------------------------------------------------------------- CSV and JSON


def grades_csv(
    results: Sequence[SubmissionResult],
    assignments: Sequence[Assignment],
    late: dict[tuple[str, str], Any] | None = None,
) -> str:
    """One row per student and assignment; one column per exercise (empty where not graded).

    With ``late`` (:func:`autograder.gradebook.late_rows`), each row also shows the raw
    score, the days late, the penalty and why a row was not judged late (``late_note``);
    ``score`` is then the final score.
    """
    exercises = list(dict.fromkeys(e for a in assignments for e in a.exercises))
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    lateness = ["raw_score", "days_late", "late_penalty"] if late else []
    writer.writerow(
        ["student_id", "assignment", *exercises, *lateness, "score", "max_score", "status"]
        + (["late_note"] if late else [])
    )
    for result in sorted(results, key=lambda r: (r.student_id, r.assignment)):
        scores = result.exercise_scores()
        row = late.get((result.student_id, result.assignment)) if late else None
        writer.writerow(
            [
                result.student_id,
                result.assignment,
                *(number(scores[e]) if e in scores else "" for e in exercises),
                *(
                    [number(row.raw), number(row.days_late), number(row.penalty)]
                    if row
                    else [""] * len(lateness)
                ),
                number(row.final if row else result.score),
                number(result.max_score),
                result.status,
            ]
            + ([row.note if row else ""] if late else [])
        )
    return stream.getvalue()


def results_json(
    results: Sequence[SubmissionResult], assignments: Sequence[Assignment], run: dict[str, Any]
) -> str:
    """Every check of every submission, with the run's seed and settings."""
    document = {
        "run": run,
        "statuses": dict(Counter(r.status for r in results).most_common()),
        "status_meanings": STATUSES,
        "assignments": {
            a.id: {
                "notebook": a.notebook,
                "max_score": a.max_score,
                "checks": [
                    {
                        "name": c.name,
                        "exercise": c.exercise,
                        "points": c.points,
                        "visibility": c.visibility,
                        "section": c.section,
                    }
                    for c in a.checks
                ],
            }
            for a in assignments
        },
        "submissions": [
            r.to_json() for r in sorted(results, key=lambda r: (r.student_id, r.assignment))
        ],
    }
    return json.dumps(document, indent=1, allow_nan=False, default=str) + "\n"


# --------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap;
      font-size: 0.85rem; margin: 0.2rem 0; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #cf222e; font-weight: bold; }
.status { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 0.3rem;
          background: #eee; font-family: monospace; }
.muted { color: #666; font-size: 0.9rem; }
img { max-width: 100%; }
.warning { border: 2px solid #cf222e; background: #fff5f5; padding: 0.6rem 0.9rem;
           border-radius: 0.3rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def feedback_html(result: SubmissionResult, assignment: Assignment) -> str:
    """The page a student reads: visible checks in full, hidden checks by outcome only."""
    parts = [
        f"<p>Notebook <code>{_e(result.notebook)}</code> · score "
        f"<strong>{number(result.score)} / {number(result.max_score)}</strong> · "
        f"status <span class='status'>{_e(result.status)}</span></p>"
    ]
    if result.status != "ok":
        parts.append(f"<p>{_e(STATUSES.get(result.status, ''))}.</p>")
        if result.detail:
            parts.append(f"<pre>{_e(result.detail)}</pre>")
    for exercise in assignment.exercises:
        rows = [c for c in result.checks if c.exercise == exercise]
        earned = sum(c.points for c in rows)
        possible = sum(c.max_points for c in rows)
        parts.append(
            f"<h2><code>{_e(exercise)}</code> · {number(earned)} / {number(possible)}</h2>"
        )
        parts.append("<table><tr><th>check</th><th>points</th><th>result</th></tr>")
        for check in rows:
            verdict = (
                "<span class='pass'>passed</span>"
                if check.passed
                else ("<span class='fail'>failed</span>")
            )
            kind = "visible" if check.visibility == "visible" else "hidden"
            detail = (
                ""
                if check.passed
                else (
                    f"<pre>{_e(check.feedback)}</pre>"
                    f"<span class='muted'>{_e(section_hint(assignment.id, check.section))}</span>"
                )
            )
            description = (
                check.description.replace("``", "") if check.visibility == "visible" else ""
            )
            parts.append(
                f"<tr><td><code>{_e(check.name)}</code> <span class='muted'>({kind})</span>"
                f"{'<br><span class=muted>' + _e(description) + '</span>' if description else ''}"
                f"</td><td>{number(check.points)} / {number(check.max_points)}</td>"
                f"<td>{verdict}{detail}</td></tr>"
            )
        parts.append("</table>")
    problems = [c for c in result.cells if c.error and c.origin == "student"]
    if problems:
        parts.append("<h2>Cells that raised an error</h2>")
        parts.append(
            "<p class='muted'>Your notebook runs top to bottom as after <em>Restart &amp; Run "
            "All</em>; a cell that fails is reported and the next cells still run.</p>"
        )
        for cell in problems:
            parts.append(f"<p>Cell {cell.index}:</p><pre>{_e(cell.error.traceback)}</pre>")
    if result.notes:
        parts.append("<h2>Notes on grading</h2><ul>")
        parts += [f"<li>{_e(note)}</li>" for note in result.notes]
        parts.append("</ul>")
    parts.append(
        "<p class='muted'>Hidden checks try inputs you have not seen (arrays of other shapes, "
        "extreme values, float32), drawn at random for each student; their inputs are not "
        "shown. A failed check names the chapter section to reread.</p>"
    )
    title = f"{assignment.id}: feedback for {result.student_id}"
    return _page(title, "\n".join(parts))


def report_html(
    results: Sequence[SubmissionResult],
    assignments: Sequence[Assignment],
    run: dict[str, Any],
    common: int = 10,
) -> str:
    """The instructor's report: scores, pass rates, statuses and the most common failures.

    Where student code was not confined to its view, the first thing on the page says
    so, and why, before any score.
    """
    parts = [
        *_incomplete_warning(run),
        *_unconfined_warning(run),
        f"<p>{len(results)} notebooks graded in {run.get('seconds', 0):.1f} s with "
        f"{run.get('jobs')} parallel worker(s); seed <code>{_e(run.get('seed'))}</code> "
        f"(<code>--seed {_e(run.get('seed'))}</code> reproduces every grade).</p>",
    ]
    for assignment in assignments:
        mine = [r for r in results if r.assignment == assignment.id]
        parts.append(
            f"<h2>{_e(assignment.id)} <span class='muted'>({len(mine)} notebooks)</span></h2>"
        )
        if not mine:
            continue
        scores = [r.score for r in mine]
        parts.append(
            f"<p>mean {statistics.fmean(scores):.2f}, median {statistics.median(scores):g} "
            f"of {number(assignment.max_score)} points.</p>"
        )
        parts.append(_figures(assignment, mine))
        statuses = Counter(r.status for r in mine)
        parts.append("<table><tr><th>status</th><th>notebooks</th><th>meaning</th></tr>")
        for status, count in statuses.most_common():
            parts.append(
                f"<tr><td><span class='status'>{_e(status)}</span></td><td>{count}</td>"
                f"<td>{_e(STATUSES.get(status, ''))}</td></tr>"
            )
        parts.append("</table>")
        parts.append(_common_failures(mine, common))
        unusual = [r for r in mine if r.status not in ("ok", "missing")]
        if unusual:
            parts.append("<h3>Submissions with an unusual status</h3><table>")
            parts.append("<tr><th>student</th><th>status</th><th>score</th><th>detail</th></tr>")
            for r in sorted(unusual, key=lambda r: (r.status, r.student_id))[:200]:
                parts.append(
                    f"<tr><td>{_e(r.student_id)}</td><td>{_e(r.status)}</td>"
                    f"<td>{number(r.score)}</td><td>{_e(r.detail[:300])}</td></tr>"
                )
            parts.append("</table>")
    isolation = run.get("isolation") or {}
    if isolation:
        parts.append("<h2>Isolation that held in this run</h2><table>")
        parts += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in isolation.items()]
        parts.append("</table>")
    return _page("Grading report", "\n".join(parts))


def confined(run: dict[str, Any]) -> bool:
    """Whether student code ran in its view (its own root, processes, IPC) in this run."""
    return (run.get("isolation") or {}).get("view", "").startswith("its own root")


def _incomplete_warning(run: dict[str, Any]) -> list[str]:
    if run.get("complete", True):
        return []
    return [
        "<div class='warning' role='alert'><p><strong>This run was stopped before it "
        f"finished</strong>: {int(run.get('notebooks', 0))} notebooks were graded and are "
        "shown here; the others have no row yet. <code>python -m autograder grade "
        "SUBMITTED_DIR --resume OUT_DIR</code> grades the rest with the same seed.</p></div>"
    ]


def _unconfined_warning(run: dict[str, Any]) -> list[str]:
    if confined(run) or not run.get("notebooks"):
        return []
    sandbox = run.get("sandbox") or {}
    why = (
        f"it was graded with <code>{_e(UNSAFE_OPTION)}</code>"
        if sandbox.get("unsafe_no_view")
        else _e("; ".join(sandbox.get("reasons") or ["the system refused namespaces"]))
    )
    return [
        "<div class='warning' role='alert'><p><strong>Student code was not confined to its "
        f"view in this run</strong> ({why}).</p><p>It could read every file its uid can "
        "read (the solutions, other submissions, these grades) and see the machine's "
        "processes; files it wrote in shared folders could reach later submissions. Check "
        "unusual scores before trusting them; see <em>Isolation that held</em> below.</p>"
        "</div>"
    ]


def _normalized(message: str) -> str:
    """A failure's first line without its exercise and numbers, so that random inputs group."""
    first = message.splitlines()[0] if message else ""
    first = first.split(": ", 1)[-1]
    first = re.sub(r"0x[0-9a-f]+", "0x#", first)
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", first)[:300]


def _common_failures(results: Sequence[SubmissionResult], common: int) -> str:
    """The most frequent ways checks failed; runs that did not finish are in the status table."""
    notebooks: dict[str, set[tuple[str, str]]] = {}
    checks: dict[str, set[str]] = {}
    examples: dict[str, str] = {}
    for result in results:
        for check in result.checks:
            if check.category not in FAILED_ON_ITS_OWN:  # passed, or never ran
                continue
            key = _normalized(check.message)
            notebooks.setdefault(key, set()).add((result.student_id, result.assignment))
            checks.setdefault(key, set()).add(check.name)
            examples.setdefault(key, check.message.splitlines()[0])
    if not notebooks:
        return "<p>No check failed on code that ran.</p>"
    ranked = sorted(notebooks, key=lambda k: (-len(notebooks[k]), k))[:common]
    rows = [
        f"<tr><td>{', '.join(f'<code>{_e(c)}</code>' for c in sorted(checks[key]))}</td>"
        f"<td>{len(notebooks[key])}</td><td><pre>{_e(examples[key])}</pre></td></tr>"
        for key in ranked
    ]
    return (
        "<h3>Most common failures</h3><table><tr><th>checks</th><th>notebooks</th>"
        "<th>example message</th></tr>" + "".join(rows) + "</table>"
    )


def _figures(assignment: Assignment, results: Sequence[SubmissionResult]) -> str:
    """The score histogram and per-check pass rates, as one SVG image (with its data in words).

    Drawn by hand rather than with matplotlib, whose import and drawing took about half
    a second of every grading run.
    """
    top = assignment.max_score
    scores = [r.score for r in results]
    if float(top).is_integer() and top <= 60:
        bins = [(v - 0.5, v + 0.5, number(v)) for v in range(int(top) + 1)]
    else:
        edges = [top * i / 20 for i in range(21)]
        bins = [
            (low, high, f"{number(round(low, 2))}-{number(round(high, 2))}")
            for low, high in itertools.pairwise(edges)
        ]
    counts = [
        sum(low <= s < high or (i == len(bins) - 1 and s == high) for s in scores)
        for i, (low, high, _) in enumerate(bins)
    ]
    names = [c.name for c in assignment.checks]
    passes = Counter(c.name for r in results for c in r.checks if c.passed)
    rates = [100 * passes[name] / len(results) for name in names]
    svg = score_chart_svg([label for _, _, label in bins], counts, names, rates, number(top))
    words = (
        f"Scores out of {number(top)}: "
        + ", ".join(f"{label}: {n}" for (_, _, label), n in zip(bins, counts, strict=True) if n)
        + ". Pass rate per check: "
        + ", ".join(f"{name} {rate:.0f}%" for name, rate in zip(names, rates, strict=True))
        + "."
    )
    data = base64.b64encode(svg.encode()).decode("ascii")
    return f"<img alt='{_e(words)}' src='data:image/svg+xml;base64,{data}'>"


def score_chart_svg(
    labels: Sequence[str],
    counts: Sequence[int],
    names: Sequence[str],
    rates: Sequence[float],
    top: str,
) -> str:
    """Two panels: notebooks per score (a histogram) and the percentage passing each check."""
    width, row = 1000, 22
    height = max(300, 90 + row * len(names))
    plot_top, plot_bottom = 40, height - 50
    x0, x1 = 60, 460  # the histogram's plot area
    tallest = max(max(counts, default=0), 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='12'>",
        f"<text x='{(x0 + x1) / 2}' y='20' text-anchor='middle' font-size='14'>"
        f"Scores (out of {_e(top)})</text>",
        f"<line x1='{x0}' y1='{plot_bottom}' x2='{x1}' y2='{plot_bottom}' stroke='#333'/>",
        f"<line x1='{x0}' y1='{plot_top}' x2='{x0}' y2='{plot_bottom}' stroke='#333'/>",
        f"<text x='{x0 - 6}' y='{plot_top + 4}' text-anchor='end'>{tallest}</text>",
        f"<text x='{x0 - 6}' y='{plot_bottom + 4}' text-anchor='end'>0</text>",
        f"<text x='16' y='{(plot_top + plot_bottom) / 2}' text-anchor='middle' "
        f"transform='rotate(-90 16 {(plot_top + plot_bottom) / 2})'>notebooks</text>",
        f"<text x='{(x0 + x1) / 2}' y='{height - 12}' text-anchor='middle'>score</text>",
    ]
    slot = (x1 - x0) / max(len(counts), 1)
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        bar = (plot_bottom - plot_top) * count / tallest
        left = x0 + i * slot
        parts.append(
            f"<rect class='bin' x='{left + 1:.1f}' y='{plot_bottom - bar:.1f}' "
            f"width='{slot - 2:.1f}' height='{bar:.1f}' fill='#4c72b0'>"
            f"<title>{_e(label)}: {count}</title></rect>"
        )
        if len(labels) <= 21:
            parts.append(
                f"<text x='{left + slot / 2:.1f}' y='{plot_bottom + 16}' "
                f"text-anchor='middle'>{_e(label)}</text>"
            )
    bars0, bars1 = 720, 980  # the pass rates' plot area
    parts += [
        f"<text x='{(bars0 + bars1) / 2}' y='20' text-anchor='middle' font-size='14'>"
        "Pass rate per check</text>",
        f"<line x1='{bars0}' y1='{plot_top - 6}' x2='{bars0}' "
        f"y2='{plot_top + row * len(names)}' stroke='#333'/>",
        f"<text x='{(bars0 + bars1) / 2}' y='{plot_top + row * len(names) + 18}' "
        "text-anchor='middle'>% of notebooks passing</text>",
    ]
    for i, (name, rate) in enumerate(zip(names, rates, strict=True)):
        y = plot_top + i * row
        length = (bars1 - bars0) * rate / 100
        parts.append(
            f"<text x='{bars0 - 6}' y='{y + 14}' text-anchor='end'>{_e(name)}</text>"
            f"<rect class='rate' x='{bars0}' y='{y + 3}' width='{length:.1f}' height='{row - 6}' "
            f"fill='#2e7d32'><title>{_e(name)}: {rate:.0f}%</title></rect>"
            + (  # the percentage inside a long bar, after a short one
                f"<text x='{bars0 + length - 4:.1f}' y='{y + 14}' text-anchor='end' "
                f"fill='white'>{rate:.0f}%</text>"
                if length > 40
                else f"<text x='{bars0 + length + 4:.1f}' y='{y + 14}'>{rate:.0f}%</text>"
            )
        )
    parts.append("</svg>")
    return "".join(parts)
