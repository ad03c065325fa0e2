"""A real JupyterLab on 127.0.0.1, and a student's path through an exercise notebook in it.

:func:`jupyterlab` starts ``jupyter lab`` from the course's environment on a folder of its
own, with fresh configuration, data and settings folders (nothing of the machine's user
leaks in, and JupyterLab renders every cell: no windowing).  :func:`work_through` drives it
with Chromium as a student would: open the notebook, type an answer into a solution cell,
run it and the visible test below it, save, run the "Check your work" cell, and read what
each printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: JupyterLab's settings for the test: every cell rendered, no news fetched from the Internet.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
START_SECONDS = 60.0


@dataclass
class Lab:
    """A running JupyterLab: its address (with the token) and the folder it serves."""

    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, home: Path) -> Iterator[Lab]:
    """JupyterLab serving ``root``; ``home`` holds its configuration and runtime folders."""
    settings = home / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), _free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    log = (home / "jupyterlab.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(home / 'jupyterlab.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not answer in time") from None
                time.sleep(0.2)
        yield Lab(url, token, root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


@dataclass
class Session:
    """What a student saw: the visible test's output, the check cell's output, the file saved."""

    visible_test: str
    check: str
    saved: dict


def dismiss_dialogs(page) -> None:
    """Accept any dialog JupyterLab opened meanwhile (a kernel to choose, a notice), as a
    student would click its default button before going on."""
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            return
        accept = dialog.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(200)


#: The id the student types into the notebook's STUDENT_ID cell.
STUDENT = "ada"


def cell_with(page, text: str, timeout: float = 60.0):
    """The notebook cell whose code holds ``text`` (exactly one), once its editor shows it:
    on a cold start the cells exist before their text is rendered."""
    cells = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=text)
    deadline = time.monotonic() + timeout
    while (count := cells.count()) != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    if count != 1:
        raise AssertionError(f"expected one cell holding {text!r}, found {count}")
    return cells.first


def _output(cell, until: tuple[str, ...], timeout: float = 60.0) -> str:
    """The cell's output once it holds one of ``until`` (what its run ends with)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = cell.locator(".jp-OutputArea").inner_text()
        if any(marker in text for marker in until):
            return text
        time.sleep(0.2)
    raise AssertionError(f"the cell's output never showed {until}: {text!r}")


def run_cell(page, cell, timeout: float = 60.0) -> None:
    """Run ``cell`` as a student does (click it, Shift+Enter) until its prompt shows its
    execution count; on a cold start a dialog may swallow the first key press."""
    prompt = cell.locator(".jp-InputPrompt")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dismiss_dialogs(page)
        cell.locator(".jp-InputArea").click()
        page.keyboard.press("Shift+Enter")
        retry = time.monotonic() + 10
        while time.monotonic() < min(retry, deadline):
            if re.search(r"\[\d+\]", prompt.inner_text()):  # "[ ]" before, "[*]" running
                return
            time.sleep(0.2)
    raise AssertionError(f"the cell did not run: its prompt shows {prompt.inner_text()!r}")


def work_through(page, lab: Lab, notebook: str, function: str, answer: str) -> Session:
    """Open ``notebook``, run its set-up cell, answer ``function``'s cell with ``answer``, run
    it and its visible test, save, and run the check cell; return what each printed."""
    page.goto(lab.notebook_url(notebook))
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000, state="attached"
    )
    # As a student does on opening the notebook: their id into its cell, then the set-up cell
    # (it imports NumPy and defines the visible tests' helper), which follows it.
    dismiss_dialogs(page)
    id_cell = cell_with(page, "STUDENT_ID =")
    id_cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(f"STUDENT_ID = {STUDENT!r}")
    run_cell(page, id_cell)
    run_cell(
        page, id_cell.locator("xpath=following-sibling::*[contains(@class, 'jp-CodeCell')][1]")
    )
    solution = cell_with(page, f"def {function}(")
    editor = solution.locator(".cm-content")
    dismiss_dialogs(page)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(answer)  # as text, so the editor adds no indentation of its own
    page.keyboard.press("Shift+Enter")  # runs the answer; the visible test is selected next
    page.keyboard.press("Shift+Enter")  # runs the visible test
    test = solution.locator("xpath=following-sibling::*[contains(@class, 'jp-CodeCell')][1]")
    visible = _output(test, ("examples pass", "Error"))
    page.keyboard.press("Control+s")
    path = lab.root / notebook
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        saved = json.loads(path.read_text())
        if answer in ("".join(c["source"]) for c in saved["cells"]):
            break
        time.sleep(0.2)
    check_cell = cell_with(page, "-m autograder check")
    dismiss_dialogs(page)
    check_cell.locator(".jp-InputArea").click()
    page.keyboard.press("Shift+Enter")
    check = _output(check_cell, ("Visible checks:", "error:", "Error"), timeout=120)
    return Session(visible, check, saved)


def verdicts(text: str) -> dict[str, str]:
    """``{check name: "PASS" or "FAIL"}`` from what ``python -m autograder check`` printed."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("PASS", "FAIL"):
            found[words[1]] = words[0]
    return found
