"""Sphinx extension: every inline script once, and no Thebe scripts while Thebe is off.

Every page of a default Jupyter Book 1 build logs ``SyntaxError: Identifier 'THEBE_JS_URL'
has already been declared``.  The cause is in Sphinx 7.4: an extension that adds an
inline script (``app.add_js_file(None, body=...)``) after the builder is initialised gets
it twice on every page.  ``Sphinx.add_js_file`` hands it to the builder at once, as a
script whose file name is ``None``, and ``StandaloneHTMLBuilder.prepare_writing`` adds every
registered script again, with the file name ``''``; the two are not equal, so both stay.
sphinx-thebe adds ``const THEBE_JS_URL = ...`` that way (on ``env-before-read-docs``),
and a ``const`` declared twice is a syntax error.  sphinx-togglebutton's
``var togglebuttonSelector`` is doubled the same way, silently.

This extension (``html-page-context``) keeps the first of identical scripts on each page,
and, while ``launch_buttons.thebe`` is off in ``_config.yml`` (Thebe needs the repository
on a public BinderHub), drops sphinx-thebe's scripts and style sheet, which nothing on the
page would use.
"""

from __future__ import annotations

from typing import Any

THEBE_FILES = ("_static/sphinx-thebe.js", "_static/sphinx-thebe.css")


def _key(asset: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    filename = str(getattr(asset, "filename", asset) or "")
    attributes = getattr(asset, "attributes", {})
    return filename, tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def _is_thebe(asset: Any) -> bool:
    filename, attributes = _key(asset)
    return filename in THEBE_FILES or "THEBE_JS_URL" in dict(attributes).get("body", "")


def thebe_enabled(app: Any) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    return bool(launch.get("thebe"))


def _on_page_context(app: Any, pagename: str, templatename: str, context: dict, doctree) -> None:
    drop_thebe = not thebe_enabled(app)
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not isinstance(assets, list):
            continue
        seen: set[tuple] = set()
        kept = []
        for asset in assets:
            key = _key(asset)
            if key in seen or (drop_thebe and _is_thebe(asset)):
                continue
            seen.add(key)
            kept.append(asset)
        assets[:] = kept


def setup(app: Any) -> dict[str, Any]:
    # After the themes' own handlers (priority 500), which may add assets of their own.
    app.connect("html-page-context", _on_page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
