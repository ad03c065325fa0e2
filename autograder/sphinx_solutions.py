"""Sphinx extension: the website shows solution notebooks without their hidden tests.

Solution notebooks under ``solutions/`` carry nbgrader's hidden tests.  The
page is built from a copy with those blocks removed (``source-read``), and the
``.ipynb`` offered for download from ``_sources/`` is rewritten the same way
once the build has finished, so neither the page nor its download shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

from autograder.exercises import strip_hidden_tests

SOLUTIONS_PREFIX = "solutions/"


def _strip_text(text: str, name: str) -> str:
    notebook = nbformat.reads(text, as_version=4)
    return nbformat.writes(strip_hidden_tests(notebook, name))


def _on_source_read(app: Any, docname: str, source: list[str]) -> None:
    if docname.startswith(SOLUTIONS_PREFIX) and str(app.env.doc2path(docname)).endswith(".ipynb"):
        source[0] = _strip_text(source[0], docname)


def _on_build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for copied in (Path(app.outdir) / "_sources" / SOLUTIONS_PREFIX).rglob("*.ipynb"):
        text = copied.read_text(encoding="utf-8")
        json.loads(text)  # a copied source that is not JSON is a build error, not a silent skip
        copied.write_text(_strip_text(text, str(copied)), encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _on_source_read)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
