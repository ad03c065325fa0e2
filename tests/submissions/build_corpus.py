"""Build the adversarial corpus: one student per behaviour, in nbgrader's submitted/ layout.

Each student's notebook is the committed student notebook
(``chapters/01_sigmoid/sigmoid_exercise.ipynb``) with its solution cells
filled in and cells added, as a student would in Jupyter; a few students hand
in something that is not a notebook at all.  ``expected.json`` gives each
student's expected status and score and says what the submission does;
``"honest": true`` marks the submissions that nbgrader must score identically.

Run ``.venv/bin/python tests/submissions/build_corpus.py`` after changing the
exercise, and commit the result.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ASSIGNMENT = "01_sigmoid"
NAME = "sigmoid_exercise.ipynb"
FULL = 9

_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


def solution_answers() -> dict[str, str]:
    """The solution cells' code, without nbgrader's markers, by grade id."""
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NAME, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: _MARKERS.sub("", cell.source).rstrip()
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


TEXTBOOK_SIGMOID = '''def sigmoid(x):
    """The logistic sigmoid, straight from the formula."""
    return 1 / (1 + np.exp(-x))'''

WHERE_SIGMOID = '''def sigmoid(x):
    """Both branches of the stable formula, chosen by np.where."""
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))'''

DEPRECATED_CALL_SIGMOID = '''def sigmoid(x):
    """The stable sigmoid, both branches stacked with np.row_stack (a deprecated alias)."""
    x = np.asarray(x, dtype=float)
    t = np.exp(-np.abs(x))  # never overflows
    both = np.row_stack([np.ravel(1 / (1 + t)), np.ravel(t / (1 + t))])
    return np.where(np.ravel(x) >= 0, both[0], both[1]).reshape(x.shape)[()]'''

NAIVE_GRAD = '''def sigmoid_grad(x):
    """sigma * (1 - sigma), as derived in the chapter."""
    s = sigmoid(x)
    return s * (1 - s)'''

WRONG_LOGIT = '''def logit(p):
    """The log-odds (with a slip: a division instead of a subtraction)."""
    p = np.asarray(p, dtype=float)
    return np.log(p) / np.log1p(-p)'''

SYNTAX_ERROR_LOGIT = '''def logit(p):
    """The log-odds."""
    p = np.asarray(p, dtype=float
    return np.log(p) - np.log1p(-p)'''


def notebook(answers: dict[str, str], added: list[tuple[str, str]] = ()) -> dict:
    """The student notebook with ``answers`` filled in and new cells added after grade ids.

    ``added`` holds ``(grade_id, source)`` pairs; the new cell goes after the
    cell with that grade id (``"end"``: at the end), without nbgrader metadata,
    as Jupyter adds it.
    """
    released = nbformat.read(ROOT / "chapters" / ASSIGNMENT / NAME, as_version=4)
    result = copy.deepcopy(released)
    cells = []
    count = 0
    for cell in result.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        cells.append(cell)
        for after, source in added:
            if after == grade_id:
                count += 1
                cells.append(_new_cell(source, count))
    for after, source in added:
        if after == "end":
            count += 1
            cells.append(_new_cell(source, count))
    result.cells = cells
    return result


def _new_cell(source: str, count: int):
    cell = nbformat.v4.new_code_cell(source)
    cell.id = f"student-cell-{count}"
    return cell


def students() -> dict[str, tuple[str, str, float, bool, dict]]:
    """Each student: (behaviour, expected status, expected score, honest?, notebook)."""
    answers = solution_answers()

    def with_answers(**changes: str) -> dict[str, str]:
        return {**answers, **changes}

    return _students(answers, with_answers)


def _students(answers, with_answers):
    return {
        "complete": ("every function right", "ok", FULL, True, notebook(answers)),
        "untouched": ("hands in the notebook as released", "ok", 0, True, notebook({})),
        "partial": (
            "only the sigmoid done",
            "ok",
            3,
            True,
            notebook({"sigmoid": answers["sigmoid"]}),
        ),
        "textbook-sigmoid": (
            "1/(1+exp(-x)) overflows on hidden inputs, and sigmoid_grad calls it",
            "ok",
            5,
            True,
            notebook(with_answers(sigmoid=TEXTBOOK_SIGMOID)),
        ),
        "where-sigmoid": (
            "np.where evaluates the overflowing branch too",
            "ok",
            5,
            True,
            notebook(with_answers(sigmoid=WHERE_SIGMOID)),
        ),
        "deprecated-call": (
            "a correct sigmoid that calls a deprecated NumPy alias: the warning Jupyter shows"
            " fails the visible tests of sigmoid and sigmoid_grad (nbgrader fails a test cell"
            " that writes to stderr); the hidden checks ignore notices about an API",
            "ok",
            FULL - 2,
            True,
            notebook(with_answers(sigmoid=DEPRECATED_CALL_SIGMOID)),
        ),
        "naive-grad": (
            "sigma*(1-sigma) loses the tiny derivatives of saturated inputs",
            "ok",
            7,
            True,
            notebook(with_answers(sigmoid_grad=NAIVE_GRAD)),
        ),
        "wrong-logit": (
            "a slip in logit",
            "ok",
            6,
            True,
            notebook(with_answers(logit=WRONG_LOGIT)),
        ),
        "syntax-error": (
            "a missing parenthesis in the logit cell",
            "syntax-error",
            6,
            True,
            notebook(with_answers(logit=SYNTAX_ERROR_LOGIT)),
        ),
        "renamed-function": (
            "calls the sigmoid my_sigmoid",
            "ok",
            6,
            True,
            notebook(
                with_answers(
                    sigmoid=answers["sigmoid"].replace("def sigmoid(", "def my_sigmoid("),
                    sigmoid_grad=answers["sigmoid_grad"].replace("sigmoid(", "my_sigmoid("),
                )
            ),
        ),
        "import-error": (
            "imports a module that does not exist before defining sigmoid",
            "cell-error",
            3,
            False,
            notebook(with_answers(sigmoid="import torchy_helpers\n\n" + answers["sigmoid"])),
        ),
        "infinite-loop": (
            "a forgotten `while True` cell between the exercises",
            "timeout",
            FULL,
            False,
            notebook(answers, [("sigmoid_grad", "while True:\n    pass")]),
        ),
        "loop-catching-everything": (
            "an endless loop that swallows every exception, even the time limit's",
            "timeout",
            0,
            False,
            notebook(
                answers,
                [
                    (
                        "setup",
                        "import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                        "    except BaseException:\n        pass",
                    )
                ],
            ),
        ),
        "ignores-signals": (
            "ignores SIGTERM, SIGINT and SIGALRM, then loops",
            "timeout",
            0,
            False,
            notebook(
                answers,
                [
                    (
                        "setup",
                        "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n"
                        "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass",
                    )
                ],
            ),
        ),
        "slow-function": (
            "sigmoid never returns when called",
            "timeout",
            3,
            False,
            notebook(with_answers(sigmoid="def sigmoid(x):\n    while True:\n        pass")),
        ),
        "memory-bomb": (
            "allocates an 800 GB array in a cell",
            "memory",
            FULL,
            False,
            notebook(answers, [("logit", "big = np.ones(10**11)")]),
        ),
        "memory-growth": (
            "keeps allocating 400 MB arrays until memory runs out",
            "memory",
            FULL,
            False,
            notebook(
                answers,
                [("logit", "hoard = []\nwhile True:\n    hoard.append(np.empty(5 * 10**7))")],
            ),
        ),
        "memory-in-function": (
            "sigmoid_grad allocates 80 GB per call",
            "memory",
            6,
            False,
            notebook(
                with_answers(
                    sigmoid_grad="def sigmoid_grad(x):\n    waste = np.ones(10**10)\n"
                    "    return sigmoid(x) * sigmoid(-x)"
                )
            ),
        ),
        "fork-bomb": (
            "forks without end",
            "process-limit",
            FULL,
            False,
            notebook(answers, [("end", "import os\nwhile True:\n    os.fork()")]),
        ),
        "double-fork": (
            "leaves a daemon behind: double fork, new session, sleeps forever",
            "leftover-processes",
            FULL,
            False,
            notebook(
                answers,
                [
                    (
                        "end",
                        "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
                        "    if os.fork() == 0:\n        time.sleep(10**6)\n    os._exit(0)\n",
                    )
                ],
            ),
        ),
        "subprocess-sleep": (
            "starts a background `sleep` process that outlives the notebook",
            "leftover-processes",
            FULL,
            False,
            notebook(
                answers,
                [
                    (
                        "end",
                        "import subprocess\n"
                        "subprocess.Popen(['sleep', '1000'], start_new_session=True)",
                    )
                ],
            ),
        ),
        "os-exit": (
            "calls os._exit(0) in a cell",
            "crashed",
            0,
            False,
            notebook(answers, [("end", "import os\nos._exit(0)")]),
        ),
        "segfault": (
            "crashes the interpreter with ctypes",
            "crashed",
            0,
            False,
            notebook(answers, [("end", "import ctypes\nctypes.string_at(0)")]),
        ),
        "sys-exit": (
            "calls sys.exit() in a cell: Jupyter carries on, so does the grader",
            "cell-error",
            FULL,
            False,
            notebook(answers, [("sigmoid", "import sys\nsys.exit('stop here')")]),
        ),
        "keyboard-interrupt": (
            "raises KeyboardInterrupt in a cell",
            "cell-error",
            FULL,
            False,
            notebook(answers, [("sigmoid", "raise KeyboardInterrupt")]),
        ),
        "kills-everything": (
            "kill(-1, SIGKILL): every process it may signal; with its own uid or in its PID"
            " namespace there is none",
            "ok",
            FULL,
            False,
            notebook(
                answers,
                [
                    (
                        "end",
                        "import os, signal\n"
                        "try:\n"
                        "    os.kill(-1, signal.SIGKILL)\n"
                        "except ProcessLookupError:  # in a PID namespace: nobody to signal\n"
                        "    pass",
                    )
                ],
            ),
        ),
        "fake-scores": (
            "prints a perfect score and writes a fake results.json; its functions are wrong",
            "ok",
            0,
            False,
            notebook(
                with_answers(
                    sigmoid="def sigmoid(x):\n    return 0.5",
                    sigmoid_grad="def sigmoid_grad(x):\n    return 0.25",
                    logit="def logit(p):\n    return 0.0",
                ),
                [
                    (
                        "end",
                        "import json, os\nprint('Score: 9/9 -- all tests passed')\n"
                        "json.dump({'score': 100, 'tests': []}, open('results.json', 'w'))\n"
                        "os.write(1, b'{\"score\": 100}')",
                    )
                ],
            ),
        ),
        "forges-results": (
            "writes a well-formed 'all done' result frame on every open file descriptor",
            "crashed",
            0,
            False,
            notebook(
                answers,
                [
                    (
                        "end",
                        "import os, struct\n"
                        'header = b\'{"message": {"type": "done"}, "buffers": []}\'\n'
                        "frame = struct.pack('!4sIQ', b'AGW1', len(header), 0) + header\n"
                        "for fd in map(int, os.listdir('/proc/self/fd')):\n    try:\n"
                        "        os.write(fd, frame)\n    except OSError:\n        pass",
                    )
                ],
            ),
        ),
        "writes-files": (
            "writes files in its folder, in /tmp and above the notebook's folder",
            "ok",
            FULL,
            False,
            notebook(
                answers,
                [
                    (
                        "end",
                        "import os\nopen('scratch.txt', 'w').write('x' * 1000)\n"
                        "for path in ['/tmp/autograder-corpus-was-here', "
                        "'../../autograder-corpus-was-here', "
                        "os.path.expanduser('~/autograder-corpus-was-here')]:\n"
                        "    try:\n        open(path, 'w').write('pwned')\n"
                        "    except OSError as exc:\n        print('refused:', path, exc)",
                    )
                ],
            ),
        ),
        "huge-output": (
            "prints 40 MB",
            "ok",
            FULL,
            False,
            notebook(answers, [("end", "for i in range(40):\n    print('spam ' * 200_000)")]),
        ),
        "network": (
            "tries to reach the internet and fails loudly",
            "cell-error",
            FULL,
            False,
            notebook(
                answers,
                [("end", "import socket\nsocket.create_connection(('pypi.org', 443), timeout=3)")],
            ),
        ),
        "magics": (
            "IPython magics and shell lines: harmless ones run, others are skipped and reported",
            "ok",
            FULL,
            False,
            notebook(
                answers,
                [
                    (
                        "setup",
                        "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n"
                        "!pip install numpy",
                    ),
                    ("sigmoid", "%time value = sigmoid(1.0)\n%timeit -n 3 sigmoid(2.0)\nvalue"),
                    ("end", "%%bash\necho hello"),
                    ("end", "%run helper.py\nsigmoid?"),
                ],
            ),
        ),
        "imports-autograder": (
            "copies the reference: from autograder.reference import ...",
            "imports-autograder",
            0,
            False,
            notebook(
                with_answers(
                    sigmoid="from autograder.reference import sigmoid",
                    sigmoid_grad="from autograder.reference import sigmoid_grad",
                    logit="from autograder.reference import logit",
                )
            ),
        ),
        "imports-autograder-hidden": (
            "imports the reference under a computed name, at run time",
            "imports-autograder",
            0,
            False,
            notebook(
                with_answers(
                    sigmoid="import importlib\n"
                    "_ref = importlib.import_module('auto' + 'grader.reference')\n"
                    "sigmoid = _ref.sigmoid"
                )
            ),
        ),
        "imports-autograder-late": (
            "imports the reference only when its function is called",
            "imports-autograder",
            0,
            False,
            notebook(
                with_answers(
                    logit="def logit(p):\n    ref = __import__('auto' + 'grader.reference', "
                    "fromlist=['logit'])\n    return ref.logit(p)"
                )
            ),
        ),
        "patches-numpy": (
            "redefines np.allclose and np.isclose to always agree; its functions are wrong",
            "ok",
            0,
            False,
            notebook(
                with_answers(
                    sigmoid="np.allclose = lambda *a, **k: True\n"
                    "np.isclose = lambda *a, **k: True\n"
                    "np.testing.assert_allclose = lambda *a, **k: None\n\n"
                    "def sigmoid(x):\n    return x",
                    sigmoid_grad="def sigmoid_grad(x):\n    return x",
                    logit="def logit(p):\n    return p",
                )
            ),
        ),
        "always-equal": (
            "returns an object equal to everything",
            "ok",
            0,
            False,
            notebook(
                with_answers(
                    sigmoid="class Anything:\n    def __eq__(self, other):\n        return True\n"
                    "    __ne__ = lambda self, other: False\n"
                    "    def __array__(self, dtype=None, copy=None):\n"
                    "        return np.array(Anything(), dtype=object)\n\n"
                    "def sigmoid(x):\n    return Anything()",
                    sigmoid_grad="def sigmoid_grad(x):\n    return Anything()",
                    logit="def logit(p):\n    return Anything()",
                )
            ),
        ),
    }


#: Hand-ins that are not (readable) notebooks: (behaviour, status, file name, bytes).
FILES: dict[str, tuple[str, str, str, bytes]] = {
    "corrupt-notebook": (
        "a notebook cut short in the middle",
        "corrupt-notebook",
        NAME,
        b"",  # filled in below from the complete notebook
    ),
    "empty-notebook": ("an empty file", "corrupt-notebook", NAME, b""),
    "not-a-notebook": (
        "a PNG image saved under the notebook's name",
        "not-a-notebook",
        NAME,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64)),
    ),
    "wrong-file-name": (
        "the right notebook under the name Jupyter gives a copy",
        "missing",
        "sigmoid_exercise-Copy1.ipynb",
        b"",  # the complete notebook
    ),
    "python-file": (
        "hands in a .py export instead of the notebook",
        "missing",
        "sigmoid_exercise.py",
        b"import numpy as np\n",
    ),
}


def build() -> None:
    for old in HERE.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
    expected = {}
    for student, (behaviour, status, score, honest, nb) in students().items():
        folder = HERE / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(nb), folder / NAME)
        expected[student] = {
            "behaviour": behaviour,
            "status": status,
            "score": score,
            "honest": honest,
        }
    complete = (HERE / "complete" / ASSIGNMENT / NAME).read_bytes()
    for student, (behaviour, status, name, data) in FILES.items():
        if student == "corrupt-notebook":
            data = complete[: len(complete) // 2]
        elif student == "wrong-file-name":
            data = complete
        folder = HERE / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        expected[student] = {"behaviour": behaviour, "status": status, "score": 0, "honest": False}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} submissions to {HERE.relative_to(ROOT)}")


if __name__ == "__main__":
    build()
