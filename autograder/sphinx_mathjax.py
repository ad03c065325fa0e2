"""Sphinx extension: the website serves MathJax itself instead of loading it from a CDN.

A default Jupyter Book build loads MathJax from a CDN, so a reader who is offline, or on a
network that blocks the CDN, sees every formula as raw ``\\( ... \\)``.  MathJax 3 comes
from PyPI with the book's dependencies (the ``django-static-mathjax`` distribution ships
the official MathJax 3.2.2 build as the package ``mathjax``; Django is not needed).  This
extension copies the parts the website uses (the ``tex-chtml`` component, its TeX
extensions, fonts, menu and accessibility modules) into ``_static/mathjax/`` of the built
site, and ``mathjax_path`` in ``_config.yml`` points there (``mathjax/tex-chtml.js``,
relative to ``_static``).

It is not put in the book's ``_static/`` folder: Jupyter Book adds every ``.js`` file
found there to every page.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Where MathJax goes in the built site, relative to its ``_static`` folder.
TARGET = "mathjax"

#: Files of the MathJax distribution the site never loads: other combined components
#: (SVG output, MathML input, the full and speech bundles) and the Node.js entry points.
UNUSED = (
    "*-full*.js",
    "*svg*",
    "mml-*.js",
    "tex-mml-*.js",
    "node-main.js",
    "latest.js",
    "adaptors",
)


def mathjax_source() -> Path:
    """The ``es5`` folder of the installed MathJax 3 distribution (browser-ready files)."""
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec else []
    root = Path(locations[0]) / "static" / "mathjax" if locations else None
    if root is None or not (root / "package.json").is_file():
        raise ExtensionError(
            "MathJax is not installed: install the book's dependencies "
            "('make setup', or pip install -e '.[book]'), which include django-static-mathjax"
        )
    version = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    if not version.startswith("3."):
        raise ExtensionError(f"MathJax 3 is needed, found {version} in {root}")
    return root / "es5"


def _unused(directory: str, names: list[str]) -> set[str]:
    return {name for name in names for pattern in UNUSED if fnmatch.fnmatch(name, pattern)}


def _check_config(app: Any, config: Any) -> None:
    path = config.mathjax_path
    if "://" in path or path.startswith("//"):
        logger.warning(
            "mathjax_path loads MathJax from another site (%s): set it to "
            "'%s/tex-chtml.js' in _config.yml to serve it with the book",
            path,
            TARGET,
        )
    elif path.startswith(f"{TARGET}/"):
        source = mathjax_source()
        relative = path.removeprefix(f"{TARGET}/").split("?")[0]
        if not (source / relative).is_file() or _unused(str(source), [Path(relative).name]):
            raise ExtensionError(f"mathjax_path {path!r} is not a file this extension copies")


def _copy_mathjax(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / TARGET
    shutil.copytree(mathjax_source(), target, ignore=_unused, dirs_exist_ok=True)


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _check_config)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
