"""Sphinx extension: the site's search finds the glossary's terms.

Sphinx keeps glossary terms out of the search index (their search priority is -1), so a
reader who searches for "log-sum-exp" got the pages that use the words log, sum and exp,
the glossary far down among them. Here the terms are indexed with the highest priority:
the search lists "log-sum-exp (glossary term)" first, and the glossary's entry links to the
section that introduces it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sphinx.domains import ObjType
from sphinx.domains.std import StandardDomain

#: Sphinx's search priorities: 0 important, 1 default, 2 unimportant, -1 not indexed.
IMPORTANT = 0


class StandardDomainWithSearchableTerms(StandardDomain):
    """Sphinx's standard domain, its glossary terms in the search index."""

    object_types: ClassVar[dict[str, ObjType]] = {
        **StandardDomain.object_types,
        "term": ObjType(
            StandardDomain.object_types["term"].lname,
            *StandardDomain.object_types["term"].roles,
            searchprio=IMPORTANT,
        ),
    }


def setup(app: Any) -> dict[str, Any]:
    app.add_domain(StandardDomainWithSearchableTerms, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
