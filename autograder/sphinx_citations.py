"""Sphinx extension: the bibliography's list is an accessible list.

docutils writes the list of citations as ``<div role="list">`` around entries with the
role ``doc-biblioentry``, which ARIA does not accept as the item of a list (axe-core's
rule aria-required-children fails, "critical"): a screen reader would not announce the
entries as a list.  Each entry gets the role ``listitem``, inside the same list.
"""

from __future__ import annotations

from typing import Any

LIST = '<div role="list" class="citation-list">'
ENTRY = 'role="doc-biblioentry"'


def _on_page_context(app: Any, pagename: str, templatename: str, context: dict, doctree):
    body = context.get("body")
    if isinstance(body, str) and LIST in body:
        context["body"] = body.replace(ENTRY, 'role="listitem"')


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
