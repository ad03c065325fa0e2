"""Sphinx extension: a reference to a section whose title holds math shows the math.

``{ref}`softplus-step``` takes the title of the section it points to as its text.  Sphinx
keeps only the title's plain text, so that a title such as "Checking $\\zeta' = \\sigma$
numerically" reached the page as the raw TeX "Checking \\zeta' = \\sigma numerically".
Such references (and only those) are resolved here, before Sphinx's own resolver, with a
copy of the title itself, formulas included: the website typesets them, the PDF too.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode


def math_titles(doctree: nodes.Node) -> dict[str, nodes.title]:
    """The titles holding math of a document's sections, by each id of their section."""
    titles = {}
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None and next(title.findall(nodes.math), None) is not None:
            titles.update(dict.fromkeys(section["ids"], title))
    return titles


class MathInSectionReferences(SphinxPostTransform):
    """Resolve ``{ref}`` without an explicit text to a section whose title holds math."""

    default_priority = 5  # before sphinx's ReferencesResolver (10)

    def run(self, **kwargs: Any) -> None:
        labels = self.env.get_domain("std").labels
        cache = self.app.__dict__.setdefault("_course_math_titles", {})
        for pending in list(self.document.findall(addnodes.pending_xref)):
            if (
                pending.get("refdomain") != "std"
                or pending.get("reftype") != "ref"
                or pending.get("refexplicit")
                or pending["reftarget"] not in labels
            ):
                continue
            docname, labelid, _ = labels[pending["reftarget"]]
            if docname not in cache:
                cache[docname] = math_titles(self.env.get_doctree(docname))
            title = cache[docname].get(labelid)
            if title is None:
                continue
            text = nodes.inline(
                "",
                "",
                *(child.deepcopy() for child in title.children),
                classes=["xref", "std", "std-ref"],
            )
            pending.replace_self(
                make_refnode(self.app.builder, self.env.docname, docname, labelid, text)
            )


def setup(app: Any) -> dict[str, Any]:
    app.add_post_transform(MathInSectionReferences)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
