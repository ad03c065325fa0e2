"""Sphinx extension: the PDF edition reads as a printed book (LaTeX builder only).

Sphinx turns one web site into one LaTeX document.  Three things the website does well
read badly on paper, and are changed here, on the assembled document of the LaTeX build
(the website is not touched):

* The home page's sections would become chapters 1 to 3, ahead of the sigmoid: they form
  one unnumbered chapter, "Introduction", whose sections are unnumbered headings.
* The captions of ``_toc.yml`` ("Chapters", "Appendices", "Solutions") become parts, and
  the appendices and solutions are numbered A, B, ...; a solution's chapter takes its
  title from ``_toc.yml`` ("Solution: the sigmoid"), not from the notebook, whose heading
  is the exercise's.
* Cells folded on the website (``hide-input``, ``hide-cell``), the code of figures and of
  checks, cannot be unfolded on paper: the PDF shows their output without their code.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes

INTRODUCTION = "Introduction"
APPENDIX_CAPTION = "Appendices"
#: myst-nb's ``hide_mode`` of a cell whose code is folded on the website.
FOLDED_CODE = {"input", "input+output", "all"}


def _latex(text: str) -> nodes.raw:
    return nodes.raw("", text, format="latex")


def drop_folded_code(doctree: nodes.Node) -> int:
    """Remove the source of every cell whose code is folded on the website; return how many."""
    removed = 0
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code" or cell.get("hide_mode") not in FOLDED_CODE:
            continue
        for child in list(cell.children):
            if isinstance(child, nodes.container) and child.get("nb_element") == (
                "cell_code_source"
            ):
                cell.remove(child)
                removed += 1
    return removed


def introduction_as_preface(doctree: nodes.document) -> None:
    """The root page: one unnumbered chapter, its own sections as unnumbered headings."""
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    for section in [c for c in top.children if isinstance(c, nodes.section)]:
        title = section.next_node(nodes.title)
        heading = nodes.rubric("", "", *title.children, classes=["course-introduction"])
        body = [child for child in section.children if child is not title]
        # The section's ids move to a target, so that links to it still resolve.
        section.replace_self([nodes.target(ids=section["ids"]), heading, *body])
    position = next(
        (i for i, child in enumerate(top.children) if not isinstance(child, nodes.title)), 0
    )
    top.insert(
        position,
        _latex(
            f"\\chapter*{{{INTRODUCTION}}}\\addcontentsline{{toc}}{{chapter}}{{{INTRODUCTION}}}"
            f"\\markboth{{{INTRODUCTION}}}{{{INTRODUCTION}}}\n"
        ),
    )


def parts_and_titles(doctree: nodes.document, site_map: Any, root: str) -> None:
    """A part for each caption of the table of contents; ``_toc.yml``'s titles of chapters."""
    files = {node["docname"]: node for node in doctree.findall(addnodes.start_of_file)}
    for tree in site_map[root].subtrees:
        names = [name for name in tree.files() if name in files]
        if not names or not tree.caption:
            continue
        first = files[names[0]]
        start = "\\appendix\n" if tree.caption == APPENDIX_CAPTION else ""
        first.parent.insert(first.parent.index(first), _latex(f"{start}\\part{{{tree.caption}}}\n"))
        for name in names:
            title = site_map[name].title if name in site_map else None
            heading = files[name].next_node(nodes.title)
            if title and heading is not None:
                heading.children = []
                heading += nodes.Text(title)


def _on_doctree_resolved(app: Any, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    drop_folded_code(doctree)
    site_map = getattr(app.env, "external_site_map", None)
    if site_map is not None:
        parts_and_titles(doctree, site_map, docname)
    introduction_as_preface(doctree)


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-resolved", _on_doctree_resolved)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
