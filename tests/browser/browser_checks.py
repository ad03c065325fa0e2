"""Checks of one web page as a reader's browser shows it (Playwright, sync API).

Each check takes an open page (``Visit`` or Playwright ``Page``) and returns a list of
problems, one readable line each; an empty list means the page passes.  The same
functions run on every page of the built site and on the planted-fault copies
(``test_browser_faults.py``), which shows that each check can fail.

Nothing here needs Playwright at import time, so the module imports where it is missing.
"""

from __future__ import annotations

import re
import struct
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

#: Requests to these addresses stay on this machine; any other is "the outside world".
LOCAL_URL = re.compile(r"^(https?://(127\.0\.0\.1|localhost)(:\d+)?/|data:|blob:|about:)")
OUTSIDE_URL = re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)(:\d+)?/)")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

#: axe-core impacts that fail a page.
FAILING_IMPACTS = ("serious", "critical")


@dataclass
class Visit:
    """A page opened in the browser, with what it logged while it loaded and ran."""

    page: Any
    url: str
    status: int | None = None
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def open_page(context: Any, url: str) -> Visit:
    """Open ``url`` in a new tab of ``context`` and wait until it has settled.

    Requests to the outside world are recorded and aborted (the tests run offline and must
    not wait for a network time-out); console errors and uncaught exceptions are recorded,
    except the console's report of an outside request that failed.
    """
    page = context.new_page()
    visit = Visit(page=page, url=url)

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if where and not LOCAL_URL.match(where):
            return  # an outside request that failed: counted in outside_requests
        visit.errors.append(f"console error: {message.text} (at {where or 'inline'})")

    def on_outside_request(route: Any) -> None:
        visit.outside_requests.append(route.request.url)
        route.abort()

    page.on("console", on_console)

    def on_page_error(error: Any) -> None:
        # The stack's first line names the error: "ReferenceError: x is not defined".
        first = (getattr(error, "stack", "") or str(error)).splitlines()[:1]
        visit.errors.append(f"uncaught exception: {first[0] if first else error}")

    page.on("pageerror", on_page_error)
    page.route(OUTSIDE_URL, on_outside_request)
    response = page.goto(url, wait_until="load")
    visit.status = response.status if response is not None else None
    settle(page)
    return visit


_SETTLE = """async () => {
  // Images load now, even those marked loading="lazy" below the fold.
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all([...document.images].map((img) => img.decode().catch(() => null)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
}"""


def settle(page: Any) -> None:
    """Wait for images, MathJax's first typesetting pass and the web fonts."""
    page.evaluate(_SETTLE)


def _page(target: Any) -> Any:
    return target.page if isinstance(target, Visit) else target


# ---------------------------------------------------------------------------------------
# Loading: HTTP status, console errors, requests that leave the site


def load_problems(visit: Visit) -> list[str]:
    """The page came with HTTP 200 and logged no JavaScript error."""
    problems = [] if visit.status == 200 else [f"HTTP status {visit.status} for {visit.url}"]
    return problems + list(visit.errors)


def outside_request_problems(visit: Visit) -> list[str]:
    """Everything the page loads comes from the site itself (MathJax included)."""
    return [f"request to the outside world: {url}" for url in visit.outside_requests]


# ---------------------------------------------------------------------------------------
# Mathematics

_MATH = r"""() => {
  const skip = "pre, code, kbd, samp, script, style, noscript, textarea, mjx-container, "
    + "mjx-assistive-mml, .highlight, [aria-hidden='true']";
  // Any TeX command: a cross-reference that copied a section title's math as text shows
  // "\zeta" or "\sigma", not only "\frac".
  const raw = /\$|\\([A-Za-z]+|\(|\)|\[|\])/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (!parent.checkVisibility({ visibilityProperty: true })) continue;
    const match = node.textContent.match(raw);
    if (match) {
      const at = match.index;
      found.push(node.textContent.slice(Math.max(0, at - 40), at + 40).replace(/\s+/g, " "));
    }
  }
  const untypeset = [...document.querySelectorAll(".math")]
    .filter((el) => !el.querySelector("mjx-container"))
    .map((el) => el.textContent.trim().slice(0, 80));
  // Prose typeset as math (a "$" pair that spans a sentence): a long run of one-letter
  // identifiers in a row, "yourselfandsay...", where a formula has a few.
  const prose = [];
  for (const mml of document.querySelectorAll("mjx-assistive-mml")) {
    for (const row of [mml.firstElementChild, ...mml.querySelectorAll("*")]) {
      let run = 0;
      for (const child of row ? row.children : []) {
        run = child.tagName.toLowerCase() === "mi" && /^[A-Za-z]$/.test(child.textContent)
          ? run + 1 : 0;
        if (run === 15) {
          prose.push(mml.textContent.slice(0, 80));
          break;
        }
      }
    }
  }
  const errors = [...document.querySelectorAll("mjx-merror")]
    .map((el) => el.getAttribute("data-mjx-error") || el.textContent.slice(0, 80));
  return {
    raw: found,
    prose: [...new Set(prose)],
    untypeset,
    errors,
    mathElements: document.querySelectorAll(".math").length,
    containers: document.querySelectorAll("mjx-container").length,
    mathjax: Boolean(window.MathJax && window.MathJax.startup),
  };
}"""


def math_problems(target: Any) -> list[str]:
    """All math is typeset by MathJax: no TeX left in the text a reader sees.

    Visible text outside code must hold no ``$``, no TeX command (``\\frac``, ``\\zeta``,
    ``\\begin``...) and no ``\\(``, ``\\)``, ``\\[`` or ``\\]``; every element Sphinx marks
    as math holds MathJax output (``mjx-container``), MathJax reported no TeX error, and no
    sentence was typeset as a formula (what a ``$`` pair around prose does).
    """
    page = _page(target)
    settle(page)
    found = page.evaluate(_MATH)
    problems = [f"raw TeX in the text: ...{text}..." for text in found["raw"]]
    if found["mathElements"] and not found["mathjax"]:
        problems.append("the page has math but MathJax did not load")
    problems += [f"math not typeset by MathJax: {text}" for text in found["untypeset"][:10]]
    if len(found["untypeset"]) > 10:
        problems.append(f"... {len(found['untypeset'])} math elements not typeset in all")
    problems += [f"MathJax error: {text}" for text in found["errors"]]
    problems += [f"text typeset as math (a stray $?): {text}" for text in found["prose"]]
    if found["mathElements"] and not found["containers"]:
        problems.append("the page has math but no MathJax output (mjx-container)")
    return problems


# ---------------------------------------------------------------------------------------
# Images

_IMAGES = """() => [...document.images].map((img) => ({
  src: img.getAttribute("src") || "",
  url: img.currentSrc || img.src,
  alt: img.getAttribute("alt"),
  role: img.getAttribute("role") || "",
  hidden: img.getAttribute("aria-hidden") === "true",
  complete: img.complete,
  naturalWidth: img.naturalWidth,
}))"""

_GENERIC_ALT = {
    "image",
    "img",
    "figure",
    "fig",
    "plot",
    "graph",
    "chart",
    "picture",
    "output",
    "png",
    "svg",
    "untitled",
    "alt",
    "alt text",
}
_FILE_LIKE = re.compile(
    r"(\.(png|jpe?g|gif|svg|webp)\b)|(^[\w./-]*/[\w.-]+$)|(^[0-9a-f]{16,})", re.I
)


def alt_text_problem(alt: str | None, src: str = "") -> str | None:
    """Why ``alt`` is not meaningful alt text for an image, or None when it is.

    >>> alt_text_problem("Line plot of the sigmoid rising from 0 to 1") is None
    True
    >>> alt_text_problem("../../_images/0b5933.png")
    'alt text is a file name or path'
    >>> alt_text_problem(None)
    'no alt attribute'
    """
    if alt is None:
        return "no alt attribute"
    text = alt.strip()
    if not text:
        return "empty alt text"
    if _FILE_LIKE.search(text) or (src and Path(src).name and Path(src).name in text):
        return "alt text is a file name or path"
    if text.lower() in _GENERIC_ALT or len(text) < 10:
        return f"alt text {text!r} does not say what the image shows"
    return None


def image_problems(target: Any) -> list[str]:
    """Every image has loaded (``naturalWidth > 0``) and has meaningful alt text.

    An image marked decorative (``role="presentation"`` or ``aria-hidden="true"``) may
    have an empty alt; the course has none.
    """
    page = _page(target)
    settle(page)
    problems = []
    for image in page.evaluate(_IMAGES):
        if not image["complete"] or image["naturalWidth"] == 0:
            problems.append(f"image did not load: {image['src']}")
        decorative = image["role"] in ("presentation", "none") or image["hidden"]
        if decorative and (image["alt"] or "") == "":
            continue
        reason = alt_text_problem(image["alt"], image["src"])
        if reason:
            problems.append(f"image {image['src']}: {reason}")
    return problems


# ---------------------------------------------------------------------------------------
# Links and anchors

_LINKS = """() => [...document.querySelectorAll("a[href], area[href]")].map((a) => ({
  raw: a.getAttribute("href"),
  url: a.href,
}))"""

_HAS_ID = "(id) => Boolean(document.getElementById(id) || document.getElementsByName(id).length)"


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)


@dataclass
class Target:
    """What a URL of the site answers: its HTTP status and, for HTML, its element ids."""

    status: int
    ids: set[str] | None = None


def fetch(url: str) -> Target:
    """GET ``url`` (a page of the local test server)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            kind = response.headers.get_content_type()
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        return Target(status=error.code)
    ids = None
    if kind == "text/html":
        parser = _Ids()
        parser.feed(body.decode("utf-8", errors="replace"))
        ids = parser.ids
    return Target(status=status, ids=ids)


def link_problems(target: Any, cache: dict[str, Target] | None = None) -> list[str]:
    """Every link to the site itself resolves: the page exists, and so does its ``#id``.

    Links to other sites are not followed (the tests run offline).  ``cache`` maps a URL
    (without fragment) to what it answered, so that pages sharing the navigation share the
    requests.
    """
    page = _page(target)
    cache = {} if cache is None else cache
    here = urllib.parse.urldefrag(page.url).url
    origin = urllib.parse.urlsplit(here)[:2]
    problems = []
    for link in page.evaluate(_LINKS):
        raw, url = link["raw"], link["url"]
        if urllib.parse.urlsplit(url)[:2] != origin:
            continue  # another site, mailto:, javascript:
        document, fragment = urllib.parse.urldefrag(url)
        fragment = urllib.parse.unquote(fragment)
        if document == here:
            if fragment and not page.evaluate(_HAS_ID, fragment):
                problems.append(f"link {raw!r}: no element with id {fragment!r} on this page")
            continue
        if document not in cache:
            cache[document] = fetch(document)
        answer = cache[document]
        if answer.status != 200:
            problems.append(f"link {raw!r}: HTTP {answer.status}")
        elif fragment and answer.ids is not None and fragment not in answer.ids:
            problems.append(f"link {raw!r}: no element with id {fragment!r} there")
    return problems


# ---------------------------------------------------------------------------------------
# Layout on a phone

_OVERFLOW = """() => {
  const root = document.scrollingElement;
  const width = root.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const wide = [];
  const cut = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || !el.checkVisibility({ visibilityProperty: true })) continue;
    // The nearest ancestor that does not let content overflow: one that scrolls (a code
    // block, an equation) is fine; one that hides it cuts it off.
    let boxed = null;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.position === "fixed" || style.overflowX !== "visible") {
        boxed = p;
        break;
      }
    }
    if (!boxed) {
      if (box.right > width + 1 && getComputedStyle(el).position !== "fixed") {
        wide.push(`${describe(el)} (right edge at ${Math.round(box.right)} px)`);
      }
      continue;
    }
    const style = getComputedStyle(boxed);
    const clips = style.overflowX === "hidden" || style.overflowX === "clip";
    // Reported once, as the box's child; MathJax's MathML for screen readers is hidden on
    // purpose.
    const reported = el.parentElement === boxed && el.tagName !== "MJX-ASSISTIVE-MML";
    const right = boxed.getBoundingClientRect().right;
    if (clips && reported && el.closest("article") && box.right > right + 1) {
      cut.push(`${describe(el)} in ${describe(boxed)}: "${el.textContent.trim().slice(0, 60)}"`);
    }
  }
  return {
    scrollWidth: root.scrollWidth,
    clientWidth: width,
    wide: wide.slice(-5),
    cut: cut.slice(0, 10),
    cutCount: cut.length,
  };
}"""


def overflow_problems(target: Any) -> list[str]:
    """The page does not scroll sideways, and no text of the article is cut off.

    Code blocks and equations may be wider than the screen if they scroll inside their own
    box.  Run it on a page opened at phone width (``PHONE``).
    """
    page = _page(target)
    found = page.evaluate(_OVERFLOW)
    problems = []
    if found["scrollWidth"] > found["clientWidth"]:
        problems.append(
            f"the page scrolls sideways: {found['scrollWidth']} px of content in a "
            f"{found['clientWidth']} px wide window; widest elements: {found['wide']}"
        )
    problems += [f"cut off at the right edge of its box: {text}" for text in found["cut"]]
    if found["cutCount"] > len(found["cut"]):
        problems.append(f"... {found['cutCount']} elements cut off in all")
    return problems


# ---------------------------------------------------------------------------------------
# Accessibility (axe-core)

_AXE = """async () => {
  // No preload: axe would fetch the style sheets again and resolve their @import against
  // the page instead of the style sheet (a 404 for the theme's "../basic.css").
  const results = await axe.run(document, { resultTypes: ["violations"], preload: false });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    count: v.nodes.length,
  }));
}"""


def axe_problems(target: Any, axe_script: Path, ignored: dict[str, str] | None = None) -> list[str]:
    """No serious or critical accessibility violation reported by axe-core.

    ``axe_script`` is axe-core's ``axe.min.js`` from disk (never fetched at run time);
    ``ignored`` maps rule ids to the reason they are not counted.
    """
    page = _page(target)
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(axe_script))
    problems = []
    for violation in page.evaluate(_AXE):
        if violation["impact"] not in FAILING_IMPACTS or violation["id"] in (ignored or {}):
            continue
        problems.append(
            f"axe {violation['impact']} {violation['id']}: {violation['help']} "
            f"({violation['count']} elements, e.g. {violation['nodes']})"
        )
    return problems


#: A page's screenshot shows text, figures and a menu, anti-aliased: hundreds of colours. One
#: with this many or fewer is blank (one colour) or nearly so.
BLANK_COLOURS = 16


def screenshot_problems(path: Path, viewport: dict) -> list[str]:
    """A full-page PNG screenshot taken at ``viewport``: as wide as the viewport, at least as
    tall, and not blank (more than ``BLANK_COLOURS`` colours)."""
    from PIL import Image

    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return [f"{path.name}: not a PNG file"]
    width, height = struct.unpack(">II", data[16:24])
    problems = []
    if width != viewport["width"]:
        problems.append(f"{path.name}: {width} px wide, the viewport {viewport['width']} px")
    if height < viewport["height"]:
        problems.append(
            f"{path.name}: {height} px tall, less than the viewport's {viewport['height']}"
        )
    with Image.open(path) as image:
        if image.size != (width, height):
            problems.append(
                f"{path.name}: the header says {width}x{height}, the image {image.size}"
            )
        colours = image.convert("RGB").getcolors(maxcolors=BLANK_COLOURS)
    if colours is not None:
        problems.append(f"{path.name}: blank: {len(colours)} colour(s)")
    return problems
