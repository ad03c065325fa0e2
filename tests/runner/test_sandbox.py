"""The sandboxed runner: notebook semantics, call semantics, limits, isolation and clean-up.

Each test plants one fault (an endless loop, a fork bomb, a forged message...)
and checks that the runner reports it and that nothing of it survives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import leftover_processes, requires_view

from autograder import reference
from autograder.checks import Case, Function, call_case
from autograder.checks.core import CallError
from autograder.grading import _to_wire
from autograder.runner import system, wire
from autograder.runner.pool import Limits, Sandbox, SandboxPool, Task

pytestmark = pytest.mark.skipif(not system.LINUX, reason="the sandbox needs Linux")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(Limits(timeout=3)) as box:
        yield box
    assert not leftover_processes(box.run_id), "the zygote outlived close()"
    assert not Path(box._scratch).exists(), "the workers' folders outlived close()"


def task(*sources: str, groups=()) -> Task:
    return Task(
        cells=[{"index": i, "source": s} for i, s in enumerate(sources, start=1)],
        groups=list(groups),
    )


def group(function: str, *cases: tuple, name: str | None = None) -> dict:
    return {
        "name": name or function,
        "function": function,
        "cases": [{"args": tuple(args), "kwargs": {}} for args in cases],
    }


def test_cells_run_in_order_in_one_namespace(sandbox):
    outcome = sandbox.run(
        task(
            "x = 2\nprint('x is', x)",
            "raise ValueError('planted')",
            "y = x + 1\ndef f(v):\n    return v * y",
            groups=[group("f", (np.arange(3.0),), (np.float32(2),))],
        )
    )
    assert outcome.ended == "finished"
    first, second, third = outcome.cells
    assert first.output == "x is 2\n" and first.error is None
    assert second.error.type == "ValueError"
    assert 'File "<cell 2>", line 1' in second.error.traceback
    assert third.error is None
    answers = outcome.groups["f"].answers
    np.testing.assert_array_equal(answers[0].value, [0.0, 3.0, 6.0])
    assert type(answers[1].value) is np.float32


def test_every_outcome_is_plain_data(sandbox):
    outcome = sandbox.run(
        task(
            "class Liar:\n    def __eq__(self, other):\n        return True\n"
            "def f(x):\n    return Liar()",
            groups=[group("f", (1.0,))],
        )
    )
    (answer,) = outcome.groups["f"].answers
    assert isinstance(answer.value, wire.Foreign)
    assert answer.value != 1.0


def like_a_visible_test_cell(func, case, namespace):
    """``(value, error)`` of a call in a notebook's visible test cell, under nbgrader.

    The cell fails when the call raises, or when Jupyter shows a warning (nbgrader gives no
    points to a test cell that writes to stderr): Python's default filters, plus IPython's,
    which shows the deprecations that code run in ``__main__`` causes.
    """
    from autograder.checks.core import _resolve

    args = [_resolve(a, namespace) for a in case.args]
    with warnings.catch_warnings(record=True) as shown:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", hidden)
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                value, error = func(*args), None
        except Exception as exc:
            value, error = None, f"{type(exc).__name__}: {exc}"
    if shown:  # the first problem, as the worker reports it
        return None, f"{shown[0].category.__name__}: {shown[0].message}"
    return value, error


# Each function meets call_case and the worker with the same case; both must agree.
SEMANTICS = {
    "returns": "def f(x):\n    return x * 2",
    "raises": "def f(x):\n    raise ValueError('no')",
    "overflows": "import numpy as np\ndef f(x):\n    return np.exp(x * 1000)",
    "divides-by-zero": "import numpy as np\ndef f(x):\n    return np.log(x * 0)",
    "underflows": "import numpy as np\ndef f(x):\n    return np.exp(-1000 * x)",
    "warns": "import warnings\ndef f(x):\n    warnings.warn('careful')\n    return x",
    "deprecated-call": "import numpy as np\ndef f(x):\n    return np.row_stack([x, x]).sum(0)",
    "empty-mean": "import numpy as np\ndef f(x):\n    return x + np.mean(x[:0])",
    "library-deprecation": (  # raised inside a library: Jupyter does not show it
        "import warnings\ndef f(x):\n    warnings.warn_explicit("
        "'old', DeprecationWarning, 'lib.py', 1, module='numpy.lib')\n    return x"
    ),
    "mutates": "def f(x):\n    x[...] = 0\n    return x.sum()",
    "uses-reference": "def f(x, g):\n    return g(x)",
    "uses-student": "def f(x, g):\n    return g(x)\ndef double(v):\n    return 2 * v",
    "uses-bound": "def f(x, g):\n    return g(x)\ndef scale(v, by):\n    return v * by",
}


@pytest.mark.parametrize("strict", [True, False], ids=["hidden", "visible"])
@pytest.mark.parametrize("name", sorted(SEMANTICS))
def test_calls_have_call_case_semantics(sandbox, name, strict):
    """A hidden check's calls follow ``call_case``; a visible check's follow the notebook's
    visible test cells, which fail when a call raises or Jupyter shows a warning."""
    x = np.array([1.0, 2.0])
    args = (x,)
    if name == "uses-reference":
        args = (x, Function("sigmoid"))
    elif name == "uses-student":
        args = (x, Function("double", of="student"))
    elif name == "uses-bound":
        args = (x, Function("scale", of="student", bound=(np.float64(3.0),)))
    case = Case(args=args)
    namespace: dict = {"__name__": "__main__"}  # as a notebook's code, and the worker's
    exec(SEMANTICS[name], namespace)
    try:
        if strict:
            expected, expected_error = call_case(namespace["f"], case, namespace), None
        else:
            expected, expected_error = like_a_visible_test_cell(namespace["f"], case, namespace)
    except CallError as exc:
        expected, expected_error = None, str(exc)
    sent = tuple(_to_wire(a) for a in args)
    calls = {**group("f", sent, sent), "warnings": "strict" if strict else "as-shown"}
    outcome = sandbox.run(task(SEMANTICS[name], groups=[calls]))
    first, second = outcome.groups["f"].answers
    assert first.error == expected_error
    if expected_error is None:
        np.testing.assert_array_equal(first.value, expected)
        np.testing.assert_array_equal(second.value, expected)  # inputs are fresh copies
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_warnings_are_errors_only_where_they_should_be():
    from autograder.checks.core import API_NOTICES
    from autograder.runner import worker

    assert worker.API_NOTICES == API_NOTICES
    namespace: dict = {}
    exec(SEMANTICS["warns"] + "\n" + SEMANTICS["empty-mean"].replace("def f", "def g"), namespace)
    for function in ("f", "g"):  # a UserWarning, and NumPy's "Mean of empty slice"
        with pytest.raises(CallError, match="Warning"):
            call_case(namespace[function], Case(args=(np.array([1.0]),)))
    exec(SEMANTICS["deprecated-call"], namespace)
    assert call_case(namespace["f"], Case(args=(np.array([1.0]),))) == 2.0


def test_a_missing_student_function_is_named(sandbox):
    outcome = sandbox.run(
        task(
            "def f(x, g):\n    return g(x)",
            groups=[group("f", (1.0, wire.FunctionRef("nope", "student"))), group("g", (1.0,))],
        )
    )
    assert outcome.groups["f"].answers[0].error == "NameError: the function 'nope' is not defined"
    assert outcome.groups["g"].missing == "not-defined"


def test_reference_is_resolved_when_asked(sandbox):
    outcome = sandbox.run(
        task(
            "def f(x, g):\n    return g(x)",
            groups=[group("f", (0.0, wire.FunctionRef("sigmoid", "reference")))],
        )
    )
    assert outcome.groups["f"].answers[0].value == reference.sigmoid(0.0)
    assert outcome.modules == []  # the harness's own import is not the student's


def test_a_preloaded_reference_is_used_and_stays_out_of_sight():
    with Sandbox(Limits(timeout=3), preload_reference=True) as box:
        assert "autograder.reference" in box.ready["preloaded"]
        outcome = box.run(
            task(
                "import sys\nseen = sorted(m for m in sys.modules if m.startswith('autograder'))\n"
                "print(seen)\ndef f(x, g):\n    return g(x)",
                groups=[group("f", (0.0, wire.FunctionRef("sigmoid", "reference")))],
            )
        )
        assert outcome.cells[0].output == "[]\n"
        assert outcome.groups["f"].answers[0].value == reference.sigmoid(0.0)
        assert outcome.modules == []
        caught = box.run(task("from autograder import reference as r\nr.sigmoid(0.0)"))
        assert "autograder" in caught.modules


def test_a_loop_that_ignores_every_signal_is_killed_on_time(sandbox):
    started = time.monotonic()
    outcome = sandbox.run(
        task(
            "import signal\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):\n"
            "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass"
        )
    )
    assert outcome.ended == "timeout"
    assert time.monotonic() - started < sandbox.limits.timeout + 2
    assert not leftover_processes(sessions=[outcome.pid], uids=[outcome.uid])


def test_soft_time_limits_keep_later_work(sandbox):
    outcome = sandbox.run(
        task(
            "while True:\n    pass",
            "def f(x):\n    return x",
            "def g(x):\n    while True:\n        pass",
            groups=[group("g", (1,)), group("f", (1,))],
        )
    )
    assert outcome.ended == "finished"
    assert outcome.cells[0].error.kind == "timeout"
    assert outcome.cells[1].error is None
    assert outcome.groups["g"].answers[0].kind == "timeout"
    assert outcome.groups["f"].answers[0].value == 1


def test_memory_is_limited(sandbox):
    outcome = sandbox.run(
        task(
            "import numpy as np\nbig = np.ones(10**10)",
            "def f(x):\n    return np.ones(10**10)",
            groups=[group("f", (1,))],
        )
    )
    assert outcome.cells[0].error.kind == "memory"
    assert outcome.groups["f"].answers[0].kind == "memory"  # the worker carried on


def test_a_fork_bomb_is_capped_and_cleaned_up(sandbox):
    if sandbox.ready["uid"] is None and os.geteuid() == 0:
        pytest.skip("root without a sandbox uid has no process cap")
    outcome = sandbox.run(task("import os\nwhile True:\n    os.fork()", "z = 1"))
    assert outcome.ended == "finished"
    assert outcome.cells[0].error.kind == "process-limit"
    assert not leftover_processes(sessions=[outcome.pid], uids=[outcome.uid])


def test_double_fork_escapees_are_killed(sandbox):
    outcome = sandbox.run(
        task(
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        time.sleep(1000)\n    os._exit(0)\ntime.sleep(0.2)"
        )
    )
    assert outcome.ended == "finished"
    assert outcome.stragglers >= 1
    uids = [outcome.uid] if outcome.uid is not None else []
    assert not leftover_processes(sessions=[outcome.pid], uids=uids)


def test_the_network_is_unreachable(sandbox):
    outcome = sandbox.run(
        task("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)")
    )
    if not outcome.isolation["network"].startswith("isolated"):
        pytest.skip(f"no network namespace here: {outcome.isolation['network']}")
    assert outcome.cells[0].error.type in ("OSError", "TimeoutError")


def skip_unless_a_uid_can_run_python_without_a_view() -> None:
    """Without a view, a worker's uid reads Python where it lies (not under a private /root)."""
    from autograder.runner import zygote

    hidden = [p for p in zygote.python_paths() if os.path.isdir(p) and zygote._out_of_reach(p)]
    if os.geteuid() == 0 and hidden:
        pytest.skip(f"without a view, a worker's uid could not run Python from {hidden[0]}")


def test_files_stay_in_the_worker(sandbox, tmp_path):
    marker = f"autograder-test-{os.getpid()}"
    first = sandbox.run(
        task(
            f"open('/tmp/{marker}', 'w').write('x')\nopen('here.txt', 'w').write('y')\n"
            "import os\nprint(os.getcwd(), sorted(os.listdir('.')))"
        )
    )
    requires_view(first.isolation)
    assert first.cells[0].error is None
    assert first.cells[0].output == "/tmp/submission ['here.txt']\n"
    second = sandbox.run(
        task(f"import os\nprint(os.path.exists('/tmp/{marker}'), os.listdir('.'))")
    )
    assert not Path("/tmp", marker).exists()
    assert second.cells[0].output == "False []\n"


def test_file_size_is_limited(sandbox):
    outcome = sandbox.run(task("open('big', 'wb').write(bytes(100 << 20))"))
    assert outcome.cells[0].error.type == "OSError"  # EFBIG, not a killed worker
    assert outcome.ended == "finished"


def test_data_files_are_handed_to_the_working_folder(sandbox):
    outcome = sandbox.run(
        Task(
            cells=[
                {"index": 1, "source": "print(open('data.csv').read(), open('b', 'rb').read())"}
            ],
            data_files={"data.csv": b"1,2\n", "b": bytes(range(256))},
        )
    )
    assert outcome.cells[0].output == f"1,2\n {bytes(range(256))!r}\n"
    planted = sandbox.run(Task(cells=[{"index": 1, "source": "x = 1"}], data_files={"../x": b""}))
    assert planted.ended == "sandbox-error" and "refused a data file" in planted.detail


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("import os\nos._exit(3)", "code 3"),
        ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "SIGKILL"),
        (
            "import os\nfor fd in range(3, 64):\n    try:\n"
            "        os.write(fd, b'AGW1' + bytes(12) + b'{}')\n    except OSError:\n        pass",
            "malformed",
        ),
    ],
    ids=["os-exit", "segfault", "self-kill", "forged-frames"],
)
def test_a_worker_that_dies_or_lies_is_a_crash(sandbox, source, detail):
    outcome = sandbox.run(task("def f(x):\n    return x", source, groups=[group("f", (1,))]))
    assert outcome.ended == "crashed"
    assert detail in outcome.detail
    assert "f" not in outcome.groups  # nothing unverified is reported as an answer


def test_too_much_output_is_cut_off():
    with Sandbox(Limits(timeout=5, output_mb=1)) as box:
        outcome = box.run(
            task(
                "import numpy as np\ndef f(x):\n    return np.ones(100_000)",
                groups=[group("f", *[(1,)] * 20)],
            )
        )
    assert outcome.ended == "too-much-output"


def test_imports_of_the_grading_package_are_seen(sandbox):
    in_cell = sandbox.run(task("import importlib\nimportlib.import_module('auto' + 'grader')"))
    assert in_cell.modules
    in_call = sandbox.run(
        task(
            "def f(x):\n    try:\n        __import__('auto' + 'grader.checks')\n"
            "    except ImportError:\n        pass\n    return x",
            groups=[group("f", (1,))],
        )
    )
    assert in_call.modules
    package = Path(reference.__file__).parent
    peek = sandbox.run(
        task(f"try:\n    open({str(package / 'reference.py')!r}).read()\nexcept OSError:\n    pass")
    )
    assert peek.modules
    honest = sandbox.run(task("import numpy, json, fractions\nfrom scipy import special"))
    assert honest.modules == [] and all(c.error is None for c in honest.cells)


def test_an_attempt_on_a_package_nowhere_in_sight_is_seen_too():
    """Where the package is out of the worker's sight (a course folder under /tmp, hidden by
    the private /tmp), importing it fails: the attempt still counts, however it is made."""
    with Sandbox(Limits(timeout=3), forbidden_modules=("nowhere_package",)) as box:
        for attempt in (
            "import importlib\nimportlib.import_module('nowhere_' + 'package.sub')",
            "__import__('nowhere_' + 'package')",
            "import nowhere_package",
        ):
            outcome = box.run(
                task(f"try:\n    {attempt.replace(chr(10), '; ')}\nexcept ImportError:\n    pass")
            )
            assert outcome.cells[0].error is None
            assert any(m.startswith("nowhere_package") for m in outcome.modules), attempt
        honest = box.run(task("import importlib\nimportlib.import_module('fractions')"))
        assert honest.modules == []


def test_the_sandbox_survives_the_death_of_its_zygote():
    with Sandbox(Limits(timeout=3)) as box:
        os.killpg(box._process.pid, signal.SIGKILL)
        box._process.wait()
        outcome = box.run(task("x = 1"))
        assert outcome.ended == "finished"


def test_rebinding_numpy_error_handling_does_not_reach_the_calls(sandbox):
    outcome = sandbox.run(
        task(
            "import contextlib, warnings\nimport numpy as np\n"
            "np.errstate = lambda **k: contextlib.nullcontext()\n"
            "warnings.simplefilter = lambda *a, **k: None\n"
            "def f(x):\n    return np.exp(x)",
            groups=[group("f", (np.float64(1000.0),))],
        )
    )
    assert outcome.groups["f"].answers[0].error == "FloatingPointError: overflow encountered in exp"


def test_a_frozen_sandbox_is_replaced(monkeypatch):
    from autograder.runner import pool

    monkeypatch.setattr(pool, "KILL_GRACE_SECONDS", 1.0)
    with Sandbox(Limits(timeout=1)) as box:
        zygote_pid = box._process.pid
        # The whole group: in a view the zygote's first process only waits for the one that serves.
        threading_timer = __import__("threading").Timer(
            0.3, os.killpg, (zygote_pid, signal.SIGSTOP)
        )
        threading_timer.start()
        outcome = box.run(task("import time\ntime.sleep(30)"))
        threading_timer.join()
        assert outcome.ended == "sandbox-error"
        assert box._process.pid != zygote_pid
        assert box.run(task("x = 1")).ended == "finished"
    # The worker died with its zygote; only its exit status may remain, for init to collect.
    left = leftover_processes(box.run_id, sessions=[outcome.pid] if outcome.pid else [])
    assert all("(Z)" in entry for entry in left)


def test_root_without_a_view_or_a_uid_is_refused():
    """As root, student code runs only with a uid of its own and in its view, unless the
    instructor explicitly accepts grading without the view: the sandbox will not start
    otherwise, and says why."""
    if os.geteuid() != 0:
        pytest.skip("only root is refused")
    run_id = f"refused-{os.getpid()}"
    with pytest.raises(RuntimeError, match="refuses to run student code as root"):
        Sandbox(Limits(timeout=3), drop_uid=False, run_id=run_id)
    with pytest.raises(RuntimeError, match="refuses to run student code as root"):
        Sandbox(Limits(timeout=3), namespaces=False, allow_no_view=True, drop_uid=False)
    assert not leftover_processes(run_id)
    skip_unless_a_uid_can_run_python_without_a_view()
    with pytest.raises(RuntimeError, match="refuses to grade as root without the worker's view"):
        Sandbox(Limits(timeout=3), namespaces=False, run_id=run_id)
    assert not leftover_processes(run_id)
    with Sandbox(Limits(timeout=3), namespaces=False, allow_no_view=True) as box:
        outcome = box.run(task("import os\nprint(os.getuid())"))
        assert outcome.isolation["view"].startswith("none")
        assert outcome.cells[0].output == f"{box.ready['uid']}\n"


def test_a_worker_that_refuses_is_a_sandbox_error_not_the_students():
    from autograder.runner.pool import Outcome, _Protocol

    outcome = Outcome("finished")
    protocol = _Protocol(task("x = 1"), outcome)
    protocol.accept({"type": "refused", "reason": "no PID namespace"})
    assert (outcome.ended, outcome.detail, protocol.done) == (
        "sandbox-error",
        "no PID namespace",
        True,
    )
    with pytest.raises(wire.ProtocolError):  # nothing may follow it
        protocol.accept({"type": "cells", "cells": []})


def test_without_namespaces_stragglers_are_still_reaped():
    try:
        box = Sandbox(Limits(timeout=3), namespaces=False, allow_no_view=True)
    except RuntimeError as refused:  # root, and the interpreter is out of reach of a uid
        pytest.skip(str(refused)[:120])
    with box:
        outcome = box.run(
            task(
                "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                "        time.sleep(1000)\n    os._exit(0)\ntime.sleep(0.2)"
            )
        )
        assert outcome.isolation["network"].startswith("not isolated")
        assert outcome.stragglers >= 1
        uids = [outcome.uid] if outcome.uid is not None else []
        assert not leftover_processes(sessions=[outcome.pid], uids=uids)


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """How many of the (start, end) intervals were open at the same moment, at most."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, change in events:  # at a tie an end (-1) sorts first: touching is not overlapping
        running += change
        most = max(most, running)
    return most


def test_most_at_once_counts_overlaps_only():
    assert most_at_once([(0, 1), (1, 2), (2, 3)]) == 1  # one after another
    assert most_at_once([(0, 2), (1, 3), (2.5, 4)]) == 2
    assert most_at_once([(0, 5), (1, 2), (1.5, 3)]) == 3


def pool_runs(slots: int, items: list[int]) -> tuple[str, dict]:
    """Run a short sleeping task per item in a pool of ``slots``; each prints when it ran."""
    source = "import time\nstart = time.time()\ntime.sleep(0.4)\nprint(start, time.time())\n"
    with SandboxPool(slots, limits=Limits(timeout=3)) as pool:
        results = dict(pool.map_unordered(lambda box, n: box.run(task(source + f"n = {n}")), items))
    return pool.run_id, results


def test_a_pool_grades_in_parallel_and_leaves_nothing():
    items = list(range(6))
    run_id, results = pool_runs(2, items)
    assert sorted(results) == items
    assert all(o.ended == "finished" for o in results.values())
    # Two submissions ran at the same time: their sandboxes' intervals overlap.
    intervals = [tuple(map(float, o.cells[0].output.split())) for o in results.values()]
    assert most_at_once(intervals) == 2, intervals
    # A uid per slot as root; the grader's (recorded as None) otherwise.
    assert len({o.uid for o in results.values()}) == (2 if os.geteuid() == 0 else 1)
    assert not leftover_processes(run_id)


def test_a_pool_of_one_slot_is_seen_running_one_at_a_time():
    """Planted: one slot, so the overlap the test above asks for cannot happen."""
    run_id, results = pool_runs(1, list(range(4)))
    intervals = [tuple(map(float, o.cells[0].output.split())) for o in results.values()]
    assert most_at_once(intervals) == 1, intervals
    assert not leftover_processes(run_id)


def test_warnings_in_the_grader_are_not_touched(sandbox):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sandbox.run(task("import warnings\nwarnings.warn('inside the worker')"))
    assert not caught


def test_removing_a_workers_folder_touches_nothing_outside_it(tmp_path):
    from autograder.runner.zygote import remove_tree

    parent = tmp_path / "scratch"
    parent.mkdir(mode=0o711)
    parent.chmod(0o711)
    outside = tmp_path / "secret"
    outside.write_text("keep me")
    outside.chmod(0o600)
    work = parent / "job"
    (work / "locked" / "deeper").mkdir(parents=True)
    (work / "locked" / "deeper" / "file").write_text("x")
    (work / "link").symlink_to(outside)  # planted: a link out of the folder
    (work / "locked").chmod(0o000)  # planted: a folder nobody may list
    (work / "readonly").mkdir()
    (work / "readonly" / "file").write_text("x")
    (work / "readonly").chmod(0o500)
    remove_tree(str(work))
    assert not work.exists()
    assert outside.read_text() == "keep me" and (outside.stat().st_mode & 0o777) == 0o600
    assert (parent.stat().st_mode & 0o777) == 0o711
    remove_tree(str(work))  # already gone: its parent keeps its permissions
    assert (parent.stat().st_mode & 0o777) == 0o711


def test_a_pool_whose_zygote_cannot_start_cleans_up(monkeypatch, tmp_path):
    from autograder.runner import pool as pool_module

    monkeypatch.setattr(pool_module, "START_SECONDS", 0.0)  # planted: no zygote is ever ready
    monkeypatch.setattr(pool_module.tempfile, "tempdir", str(tmp_path))
    tmp_path.chmod(0o755)  # so that a clean-up that chmods the scratch folder's parent shows
    with pytest.raises(RuntimeError, match="could not start"):
        SandboxPool(2, limits=Limits(timeout=3))
    assert list(tmp_path.iterdir()) == []
    assert (tmp_path.stat().st_mode & 0o777) == 0o755


@pytest.mark.parametrize("view", [True, False], ids=["view", "no-view"])
def test_kill_everything_reaches_nothing_outside_the_submission(view):
    """``kill(-1, SIGKILL)`` in student code: its PID namespace, or else its uid, confines it."""
    if not view and os.geteuid() != 0:
        pytest.skip("without root and without a view, kill(-1) would reach the grader's processes")
    if not view:
        skip_unless_a_uid_can_run_python_without_a_view()
    bystander = subprocess.Popen(["sleep", "60"])  # a process of the grader's uid
    try:
        with Sandbox(Limits(timeout=3), namespaces=view, allow_no_view=not view) as box:
            outcome = box.run(task("import os, signal\nos.kill(-1, signal.SIGKILL)", "after = 1"))
            if view:
                requires_view(outcome.isolation)
            assert outcome.ended == "finished", outcome.detail
            # In a PID namespace there is nobody to signal (ESRCH); outside one, Linux reports
            # success though every process it counted refused.
            error = outcome.cells[0].error
            assert error is None or error.type == "ProcessLookupError", error
            assert outcome.cells[1].error is None
            assert box.run(task("x = 1")).ended == "finished"  # the zygote survived
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_the_network_namespace_is_not_the_graders_and_its_loopback_is_down(sandbox):
    probe = (
        "import os, socket\n"
        "print(os.readlink('/proc/self/ns/net'))\n"
        "server = socket.socket()\n"
        "try:\n"
        "    server.bind(('127.0.0.1', 0))\n"
        "    server.listen()\n"
        "    socket.create_connection(server.getsockname(), timeout=1)\n"
        "    print('loopback works')\n"
        "except OSError as error:\n"
        "    print('no loopback:', type(error).__name__)\n"
    )
    first, second = sandbox.run(task(probe)), sandbox.run(task(probe))
    if not first.isolation["network"].startswith("isolated"):
        pytest.skip(f"no network namespace here: {first.isolation['network']}")
    namespace, loopback = first.cells[0].output.splitlines()
    assert namespace != os.readlink("/proc/self/ns/net")
    assert loopback.startswith("no loopback"), loopback
    assert second.cells[0].output.splitlines()[1].startswith("no loopback")


@pytest.mark.parametrize("namespaces", [True, False], ids=["view", "no-view"])
def test_the_course_folder_may_stay_private_to_the_grader(tmp_path, monkeypatch, namespaces):
    """Workers get their own uid though the course's folder (solutions included) is private:
    they never read it (a view does not even hold it), so the grader need not open it."""
    from autograder.runner import view, zygote

    if os.geteuid() != 0:
        pytest.skip("workers get a uid of their own only under root")
    if not namespaces:
        skip_unless_a_uid_can_run_python_without_a_view()
    course = tmp_path / "course"
    (course / "autograder").mkdir(parents=True)
    course.chmod(0o700)
    monkeypatch.setattr(sys, "path", [*sys.path, str(course)])
    config = {
        "uid": (1 << 30) | 7,
        "package_dir": str(course / "autograder"),
        "namespaces": namespaces,
    }
    chosen = {**config, "package_parent": str(course), "hide": [str(course)]}
    settings, reasons = zygote.decide(chosen)
    assert settings.uid == config["uid"], reasons
    if namespaces:
        binds = chosen["view_plan"]["binds"]
        assert not [b for b in binds if view.inside(b, str(course)) or view.inside(str(course), b)]
    planted = {**config, "hide": []}  # planted: the course folder not named as hidden
    unreadable, _ = zygote.decide(planted)
    assert unreadable.uid is None
    if namespaces:
        assert str(course) in planted["view_plan"]["binds"]


def test_the_refusal_rules():
    """Who may run student code: as root, only with a uid of its own, and only in a view
    unless the instructor accepted the risk; a normal user always (the README's table)."""
    from autograder.runner.confine import UNSAFE_OPTION, SandboxSettings, refusal

    in_view = SandboxSettings(uid=1 << 30, view=True)
    no_view = SandboxSettings(uid=1 << 30, view=False)
    accepted = SandboxSettings(uid=1 << 30, view=False, allow_no_view=True)
    assert refusal(in_view, root=True) is None
    assert UNSAFE_OPTION in refusal(no_view, root=True)
    assert refusal(accepted, root=True) is None
    for settings in (SandboxSettings(view=True), SandboxSettings(view=False, allow_no_view=True)):
        assert "as root" in refusal(settings, root=True)  # no uid of its own: never
    for settings in (in_view, no_view, SandboxSettings(view=False)):
        assert refusal(settings, root=False) is None


def test_a_value_group_sends_the_variables_value(sandbox):
    """A prediction is a variable's value: the worker sends it as data, or says it is missing;
    an object that never converts is stopped like a call."""
    values = {
        "name": "x",
        "function": "answer",
        "kind": "value",
        "cases": [{"args": (), "kwargs": {}}],
    }
    outcome = sandbox.run(
        task(
            "answer = [88.72, 'b']\nchoice = 'b'\n"
            "class Slow:\n    def __array__(self, dtype=None, copy=None):\n        while True:\n"
            "            pass\nslow = Slow()",
            groups=[
                values,
                {**values, "name": "c", "function": "choice"},
                {**values, "name": "m", "function": "nowhere"},
                {**values, "name": "s", "function": "slow"},
            ],
        )
    )
    assert outcome.groups["x"].answers[0].value == [88.72, "b"]
    assert outcome.groups["c"].answers[0].value == "b"
    assert outcome.groups["m"].missing == "not-defined"
    assert outcome.groups["s"].answers[0].kind == "timeout"
