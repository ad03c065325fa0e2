"""How the modules of ``autograder`` import each other: never in a cycle, however hidden.

The graph is read from the source with :mod:`ast`, not by importing anything: every
``import`` statement counts, at the top of a module or inside a function (an import inside a
function is how a cycle hides until that function runs), and so does
``importlib.import_module("...")`` or ``__import__("...")`` with a literal name.  A module that
imports ``autograder.a.b`` depends on ``autograder.a.b``; importing a package means its
``__init__``.  The reference package goes further: its modules import each other at the top
of each file only.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def modules_of(folder: Path) -> dict[str, Path]:
    """The modules of the package ``folder``, by dotted name (a package is its ``__init__``)."""
    modules = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder.parent).with_suffix("").parts
        inside = [folder.parent.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if not all((package / "__init__.py").is_file() for package in inside):
            continue  # a script in a folder that is no package
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _dynamic_name(node: ast.AST) -> ast.expr | None:
    """The name given to ``importlib.import_module`` or ``__import__``, if ``node`` calls one."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return node.args[0] if name in DYNAMIC_IMPORTS else None


def imported_names(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """Every import in ``tree``, wherever it is: ``(base, names)`` pairs, absolute.

    ``import a.b`` is ``("a.b", [])``; ``from a import b, c`` is ``("a", ["b", "c"])``, where
    ``b`` may be a module of its own; relative imports are resolved from ``module``.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            found.append((base, [alias.name for alias in node.names]))
        else:
            argument = _dynamic_name(node)
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append((argument.value, []))
    return found


def import_graph(folder: Path) -> dict[str, set[str]]:
    """For each module of the package ``folder``, the modules of that package it imports."""
    modules = modules_of(folder)

    def known(name: str) -> str | None:
        # The deepest module that ``name`` names or lies in (``a.b.f``, a function, is ``a.b``).
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in modules:
                return ".".join(parts[:end])
        return None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for base, names in imported_names(tree, module, path.name == "__init__.py"):
            if base.split(".")[0] != folder.name:
                continue
            if not names or names == ["*"]:
                targets.add(known(base))
            for name in names:
                targets.add(known(f"{base}.{name}"))
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as ``[a, b, ..., a]``, or ``None`` when it has none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor in on_path:
                return [*path[path.index(successor) :], successor]
            if successor not in done:
                cycle = visit(successor)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def imports_in_functions(path: Path) -> list[str]:
    """``line: source`` of every import statement inside a function body of ``path``."""
    source = path.read_text(encoding="utf-8")
    found = []
    for function in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.append(
                        f"{path.name}:{node.lineno}: {ast.get_source_segment(source, node)}"
                    )
    return sorted(set(found))


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


def test_the_reference_loads_no_module_of_the_package_on_first_use():
    """A third-party library may be loaded when a function first needs it (scikit-learn, which
    the grader must not pay for), through importlib; never a module of the package."""
    for path in sorted((PACKAGE / "reference").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            argument = _dynamic_name(node)
            if argument is None:
                continue
            literal = argument if isinstance(argument, ast.Constant) else None
            if isinstance(argument, ast.JoinedStr) and isinstance(argument.values[0], ast.Constant):
                literal = argument.values[0]  # f"sklearn.{name}": the part before the first {}
            prefix = literal.value if literal is not None else ""
            assert "." in prefix and prefix.split(".")[0] != "autograder", (
                f"{path.name}:{node.lineno}: a dynamic import of {ast.unparse(argument)}"
            )


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
