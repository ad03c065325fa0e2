"""How the modules of ``autograder`` import each other: never in a cycle, however hidden.

The graph (:mod:`autograder.imports`) is read from the source with :mod:`ast`: every
``import`` counts, at the top of a module or inside a function, and so does
``importlib.import_module("...")`` with a literal name.  The reference package goes
further: its modules import at the top of each file only, and load nothing on first use.
The command line parses and prints: it never imports the runner itself.
"""

import ast
from pathlib import Path

import pytest

from autograder.imports import (
    dynamic_import_name,
    find_cycle,
    import_graph,
    imports_in_functions,
)

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


# ------------------------------------------------------------------------------ the package


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_graph_sees_the_imports_that_matter():
    """The graph is not vacuously acyclic: it holds the edges the package is built on."""
    graph = import_graph(PACKAGE)
    assert {
        "autograder.reference.elementary",
        "autograder.reference.exponential_family",
        "autograder.reference.softmax_regression",
    } <= graph["autograder.reference"]
    assert graph["autograder.reference.exponential_family"] == {
        "autograder.reference._dtypes",
        "autograder.reference.elementary",
    }
    assert "autograder.reference.elementary" in graph["autograder.reference.softmax_regression"]
    assert (
        "autograder.reference.softmax_regression" in graph["autograder.checks.softmax_regression"]
    )


def test_the_reference_imports_at_the_top_of_its_modules_only():
    hidden = [
        line
        for path in sorted((PACKAGE / "reference").glob("*.py"))
        for line in imports_in_functions(path)
    ]
    assert hidden == [], "imports inside functions:\n" + "\n".join(hidden)


def test_the_reference_loads_nothing_on_first_use():
    """No ``importlib.import_module`` either: what a reference module needs, it imports at
    its top (the digits' split, which needs scikit-learn, lives in a module of its own)."""
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted((PACKAGE / "reference").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if dynamic_import_name(node) is not None
    ]
    assert found == []


def imports_across(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    """``a -> b`` for each module ``a`` under ``source`` that imports a ``b`` under ``target``."""

    def under(module: str, top: str) -> bool:
        return module == top or module.startswith(top + ".")

    return sorted(
        f"{a} -> {b}" for a, bs in graph.items() if under(a, source) for b in bs if under(b, target)
    )


def test_the_command_line_does_not_import_the_runner():
    graph = import_graph(PACKAGE)
    assert imports_across(graph, "autograder.cli", "autograder.runner") == []
    assert imports_across(graph, "autograder.__main__", "autograder.runner") == []
    assert graph["autograder.cli.grade"]  # not vacuous: the verbs import the library


def test_a_command_line_that_imports_the_runner_is_caught(tmp_path):
    package = write_package(
        tmp_path,
        {
            "runner/__init__.py": "",
            "runner/pool.py": "LIMIT = 1\n",
            "cli/__init__.py": "",
            "cli/grade.py": "def run():\n    from pkg.runner.pool import LIMIT\n    return LIMIT\n",
        },
    )
    assert imports_across(import_graph(package), "pkg.cli", "pkg.runner") == [
        "pkg.cli.grade -> pkg.runner.pool"
    ]


# --------------------------------------------------------------------- the graph can fail


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, source in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source)
    return package


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("from pkg import b\n", "def f():\n    from pkg.a import thing\n    return thing\n"),
        ("import pkg.b\n", "def f():\n    import pkg.a\n"),
        ("from . import b\n", "def f():\n    from .a import thing\n"),
        ("from pkg.b import g\n", "class C:\n    def m(self):\n        from pkg import a\n"),
        (
            "import importlib\nb = importlib.import_module('pkg.b')\n",
            "def f():\n    import pkg.a\n",
        ),
    ],
    ids=["from-package", "import-dotted", "relative", "method", "import_module"],
)
def test_a_cycle_closed_inside_a_function_is_found(tmp_path, first, second):
    package = write_package(tmp_path, {"a.py": first, "b.py": second, "c.py": "import pkg.a\n"})
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"pkg.a", "pkg.b"}
    # The same modules with the import in the function removed: no cycle.
    harmless = write_package(tmp_path / "fixed", {"a.py": first, "b.py": "def f():\n    pass\n"})
    assert find_cycle(import_graph(harmless)) is None


def test_a_cycle_through_a_package_init_is_found(tmp_path):
    package = write_package(
        tmp_path,
        {
            "sub/__init__.py": "from pkg.sub.inner import value\n",
            "sub/inner.py": "def f():\n    from pkg import sub\n",
        },
    )
    assert find_cycle(import_graph(package)) == ["pkg.sub", "pkg.sub.inner", "pkg.sub"]


def test_imports_in_functions_are_reported(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    import sys\n    return sys\n\ng = lambda: 1\n")
    assert imports_in_functions(module) == ["m.py:4: import sys"]
