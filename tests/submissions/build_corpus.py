"""Build the adversarial corpus: one student per behaviour, in nbgrader's submitted/ layout.

Each student's notebook is the committed student notebook
(``chapters/01_sigmoid/sigmoid_exercise.ipynb``) with its solution cells
filled in and cells added, as a student would in Jupyter; a few students hand
in something that is not a notebook at all.  ``expected.json`` gives each
student's expected status and score and says what the submission does;
``"honest": true`` marks the submissions that nbgrader must score identically.

Every notebook carries its student's id (the folder's name) in its ``STUDENT_ID`` cell, as a
student would write it: the exercise's per-student question is graded for that id.

Run ``.venv/bin/python tests/submissions/build_corpus.py`` after changing the
exercise, and commit the result.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
from helpers import set_student_id  # noqa: E402

ASSIGNMENT = "01_sigmoid"
NAME = "sigmoid_exercise.ipynb"
#: Three functions, the predicted thresholds and the second derivative: 3 points each.
FULL = 15

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

NAIVE_LOGIT = '''def logit(p):
    """The log-odds, straight from the formula."""
    return np.log(p / (1 - p))'''

#: Wrong answers to the predictions and the derivation, for the students whose every answer
#: is wrong.
WRONG_NEW_TASKS = {
    "sigmoid_thresholds_example": "sigmoid_thresholds_example = [0.0, 0.0, 0.0]",
    "sigmoid_thresholds": "sigmoid_thresholds = [0.0, 0.0, 0.0]",
    "sigmoid_second_derivative": "def sigmoid_second_derivative(x):\n    return x",
}

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
            "1/(1+exp(-x)) overflows on hidden inputs, and sigmoid_grad (which the second"
            " derivative calls) calls it",
            "ok",
            FULL - 6,
            True,
            notebook(with_answers(sigmoid=TEXTBOOK_SIGMOID)),
        ),
        "where-sigmoid": (
            "np.where evaluates the overflowing branch too",
            "ok",
            FULL - 6,
            True,
            notebook(with_answers(sigmoid=WHERE_SIGMOID)),
        ),
        "deprecated-call": (
            "a correct sigmoid that calls a deprecated NumPy alias: the warning Jupyter shows"
            " fails the visible tests of sigmoid, sigmoid_grad and the second derivative"
            " (nbgrader fails a test cell that writes to stderr); the hidden checks ignore"
            " notices about an API",
            "ok",
            FULL - 3,
            True,
            notebook(with_answers(sigmoid=DEPRECATED_CALL_SIGMOID)),
        ),
        "naive-grad": (
            "sigma*(1-sigma) loses the tiny derivatives of saturated inputs, and the second"
            " derivative, which calls it, loses them too (x = 40 is a visible example)",
            "ok",
            FULL - 5,
            True,
            notebook(with_answers(sigmoid_grad=NAIVE_GRAD)),
        ),
        "wrong-logit": (
            "a slip in logit",
            "ok",
            FULL - 3,
            True,
            notebook(with_answers(logit=WRONG_LOGIT)),
        ),
        "naive-logit": (
            "log(p / (1 - p)): no warning, but far from a relative 2e-15 next to 1/2",
            "ok",
            FULL - 3,
            True,
            notebook(with_answers(logit=NAIVE_LOGIT)),
        ),
        "syntax-error": (
            "a missing parenthesis in the logit cell",
            "syntax-error",
            FULL - 3,
            True,
            notebook(with_answers(logit=SYNTAX_ERROR_LOGIT)),
        ),
        "renamed-function": (
            "calls the sigmoid my_sigmoid",
            "ok",
            FULL - 3,
            True,
            notebook(
                with_answers(
                    sigmoid=answers["sigmoid"].replace("def sigmoid(", "def my_sigmoid("),
                    sigmoid_grad=answers["sigmoid_grad"].replace("sigmoid(", "my_sigmoid("),
                )
            ),
        ),
        "import-error": (
            "imports a module that does not exist before defining sigmoid: the logit and the"
            " thresholds, which do not call it, are right",
            "cell-error",
            6,
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
            "sigmoid never returns when called: the logit and the thresholds do not call it",
            "timeout",
            6,
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
            "sigmoid_grad allocates 80 GB per call, and the second derivative calls it",
            "memory",
            FULL - 6,
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
                    **WRONG_NEW_TASKS,
                ),
                [
                    (
                        "end",
                        "import json, os\nprint('Score: 15/15 -- all tests passed')\n"
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
                    **WRONG_NEW_TASKS,
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
                    sigmoid_thresholds_example="sigmoid_thresholds_example = Anything()",
                    sigmoid_thresholds="sigmoid_thresholds = Anything()",
                    sigmoid_second_derivative="def sigmoid_second_derivative(x):\n"
                    "    return Anything()",
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


# --------------------------------------------------------------------------- hostile to the view

#: Where the corpus of submissions that go after what the worker's view must not show lives
#: (graded by tests/test_view.py from a course folder it makes, with and without the view).
HOSTILE = ROOT / "tests" / "hostile"
MARK = "autograder-hostile-mark"

#: How a student would look for files: likely places first, then everything, for a while.
SEARCH = """import os, time

def _files(patience=4.0):
    start, seen = time.monotonic(), set()
    skip = {"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "boot", "etc",
            "site-packages", "__pycache__", ".cache", ".pyenv", ".git", "_build", "share"}
    for top in ["/srv", "/home", "/root", "/opt", "/work", "/var", "/run", "/tmp", "/mnt", "/"]:
        for folder, dirs, names in os.walk(top):
            if time.monotonic() - start > patience:
                return
            seen.add(folder)
            dirs[:] = [d for d in sorted(dirs)
                       if d not in skip and os.path.join(folder, d) not in seen]
            yield folder, names
"""

STEAL_SOLUTIONS = """import json, re

def _steal(path):
    for cell in json.load(open(path))["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            source = "".join(cell["source"])
            exec(re.sub(r"^\\s*### (BEGIN|END) SOLUTION.*$", "", source, flags=re.M), globals())

for _folder, _names in _files():
    if _folder.endswith("/solutions/01_sigmoid") and "sigmoid_exercise.ipynb" in _names:
        _steal(os.path.join(_folder, "sigmoid_exercise.ipynb"))
        print("took the solutions in", _folder)
        break
"""

STEAL_CLASSMATE = """import json

for _folder, _names in _files():
    if ("/submitted/" in _folder and _folder.endswith("/01_sigmoid")
            and "steals-classmate" not in _folder and "sigmoid_exercise.ipynb" in _names):
        for cell in json.load(open(os.path.join(_folder, "sigmoid_exercise.ipynb")))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and source.lstrip().startswith("def "):
                exec(source, globals())
        print("took a classmate's code in", _folder)
        break
"""

#: Defines the right functions only when it has found what it looks for: a leak is points.
REWARD = """if _found:
    print("found", _found[:3])
    exec(_ANSWERS, globals())
"""

READS_GRADEBOOK = """_found = []
for _folder, _names in _files():
    if "gradebook.db" in _names:
        _path = os.path.join(_folder, "gradebook.db")
        try:
            _found.append((_path, open(_path, "rb").read(16)))
        except OSError:
            pass
"""

READS_GRADES = """_found = []
for _folder, _names in _files():
    for _name in _names:
        if (_name.startswith("grades") and _name.endswith(".csv")) or _name == "results.json" \\
                or "/feedback/" in _folder + "/":
            try:
                _found.append((_name, open(os.path.join(_folder, _name)).read(200)))
            except OSError:
                pass
"""

READS_PROCESSES = """_found = []
for _entry in os.listdir("/proc"):
    if _entry.isdigit() and int(_entry) != os.getpid():
        try:
            _command = open(f"/proc/{_entry}/cmdline", "rb").read().replace(b"\\0", b" ")
        except OSError:
            continue
        try:
            _environment = open(f"/proc/{_entry}/environ", "rb").read()
        except OSError:
            _environment = b""
        _found.append((_entry, _command[:120], len(_environment)))
"""

#: Every place it may write to, the System V and POSIX IPC objects, and kernel keyrings.
PERSISTENT_PLACES = """import ctypes, ctypes.util, platform

_libc = ctypes.CDLL(None, use_errno=True)
_rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
_SYSCALL = {"x86_64": {"add_key": 248, "keyctl": 250}, "aarch64": {"add_key": 217, "keyctl": 219}}
_CALLS = _SYSCALL.get(platform.machine(), {"add_key": -1, "keyctl": -1})
_SHM_KEY, _QUEUE, _KEYRINGS = 0x41475748, b"/autograder-hostile", (-4, -3)

def _writable_folders():
    found = {"/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue",
             os.path.expanduser("~"), os.getcwd()}
    for folder, _ in _files(patience=3.0):
        if os.access(folder, os.W_OK):
            found.add(folder)
    return sorted(f for f in found if os.path.isdir(f))
"""

WRITES_EVERYWHERE = f"""_MARK = {MARK!r}
_written = []
for _folder in _writable_folders():
    try:
        with open(os.path.join(_folder, _MARK), "w") as _handle:
            _handle.write("planted by a submission")
        _written.append(_folder)
    except OSError:
        pass
_shm = _libc.shmget(_SHM_KEY, 4096, 0o1000 | 0o666)
_queue = _rt.mq_open(_QUEUE, os.O_CREAT | os.O_RDWR, 0o666, None)
_keys = [_libc.syscall(_CALLS["add_key"], b"user", b"autograder-hostile", b"x", 1, ring)
         for ring in _KEYRINGS]
print("planted in", _written, "shm", _shm, "queue", _queue, "keys", _keys)
"""

LOOKS_FOR_PLANTED = f"""_MARK = {MARK!r}
_planted = [f for f in _writable_folders() if os.path.exists(os.path.join(f, _MARK))]
for _folder, _names in _files(patience=2.0):
    if _MARK in _names and _folder not in _planted:
        _planted.append(_folder)
if _libc.shmget(_SHM_KEY, 0, 0) != -1:
    _planted.append("System V shared memory")
if _rt.mq_open(_QUEUE, os.O_RDONLY, 0, None) != -1:
    _planted.append("POSIX message queue")
for _ring in _KEYRINGS:
    if _libc.syscall(_CALLS["keyctl"], 10, _ring, b"user", b"autograder-hostile", 0) != -1:
        _planted.append(f"a key in keyring {{_ring}}")
print("planted:", _planted)
if _planted:  # what an earlier submission left changes this one's grade
    del sigmoid, sigmoid_grad, logit
"""


def hostile_students() -> dict[str, tuple[str, float, float, dict]]:
    """Each student: (what it does, score in its view, whether the score moves without it, nb).

    The third item is the direction of the planted fault: with the view switched off,
    a reader's score rises above its expected 0 and a victim's falls below full marks.
    """
    answers = solution_answers()
    code = "\n\n".join(answers[k] for k in ("sigmoid", "sigmoid_grad", "logit"))
    reward = f"_ANSWERS = {code!r}\n"

    def reader(search: str) -> dict:
        return notebook({}, [("end", SEARCH + "\n" + reward + search + REWARD)])

    return {
        "a-classmate": ("an honest classmate, every function right", FULL, 0, notebook(answers)),
        "b-steals-solutions": (
            "searches the file system for a course's solutions/ and runs their code",
            0,
            +1,
            notebook({}, [("end", SEARCH + "\n" + STEAL_SOLUTIONS)]),
        ),
        "c-steals-classmate": (
            "searches for classmates' notebooks under submitted/ and runs their code",
            0,
            +1,
            notebook({}, [("end", SEARCH + "\n" + STEAL_CLASSMATE)]),
        ),
        "d-reads-gradebook": (
            "right only if it can read nbgrader's gradebook.db",
            0,
            +1,
            reader(READS_GRADEBOOK),
        ),
        "e-reads-grades": (
            "right only if it can read the output folder (grades.csv, results.json, feedback)",
            0,
            +1,
            reader(READS_GRADES),
        ),
        "f-reads-processes": (
            "right only if it can see a process other than itself, with its command line",
            0,
            +1,
            reader(READS_PROCESSES),
        ),
        "g-writes-everywhere": (
            "plants a file in every folder it may write to, a System V segment, a POSIX queue"
            " and keys in its keyrings",
            FULL,
            0,
            notebook(answers, [("end", SEARCH + "\n" + PERSISTENT_PLACES + WRITES_EVERYWHERE)]),
        ),
        "h-victim": (
            "right, but deletes its functions if anything an earlier submission planted is there",
            FULL,
            -1,
            notebook(answers, [("end", SEARCH + "\n" + PERSISTENT_PLACES + LOOKS_FOR_PLANTED)]),
        ),
        "i-victim": (
            "the same, one submission later",
            FULL,
            -1,
            notebook(answers, [("end", SEARCH + "\n" + PERSISTENT_PLACES + LOOKS_FOR_PLANTED)]),
        ),
    }


def build_hostile() -> None:
    if HOSTILE.exists():
        shutil.rmtree(HOSTILE)
    expected = {}
    for student, (behaviour, score, without_view, nb) in hostile_students().items():
        folder = HOSTILE / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(set_student_id(nb, student)), folder / NAME)
        expected[student] = {
            "behaviour": behaviour,
            "status": "ok",
            "score": score,
            "without_view": without_view,
        }
    (HOSTILE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} submissions to {HOSTILE.relative_to(ROOT)}")


def build() -> None:
    build_hostile()
    for old in HERE.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
    expected = {}
    for student, (behaviour, status, score, honest, nb) in students().items():
        folder = HERE / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(set_student_id(nb, student)), folder / NAME)
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
