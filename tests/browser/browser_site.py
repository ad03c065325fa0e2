"""The built site and how the browser suite reaches it: pages, a local HTTP server, tools.

The site is ``_build/html`` (``make test`` builds it first); ``COURSE_SITE_DIR`` points the
suite at another build.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE_DIR_VARIABLE = "COURSE_SITE_DIR"
#: Debian's Chromium (``make browser-setup``); ``COURSE_CHROMIUM`` names another build.
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def site_dir() -> Path:
    """The built website: ``$COURSE_SITE_DIR``, or ``_build/html`` of this repository."""
    return Path(os.environ.get(SITE_DIR_VARIABLE) or ROOT / "_build" / "html")


def toc_docnames() -> list[str]:
    """Every page listed in ``_toc.yml``, in reading order (``intro``, ``chapters/...``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                names.append(str(entry["file"]).removesuffix(".md").removesuffix(".ipynb"))
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return names


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class's attribute, extended)
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ipynb": "application/x-ipynb+json",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) while in the block."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def axe_script() -> Path | None:
    """axe-core's ``axe.min.js``, vendored by the ``axe-playwright-python`` package (PyPI)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    for location in (spec.submodule_search_locations or []) if spec else []:
        script = Path(location) / "axe.min.js"
        if script.is_file():
            return script
    return None
