"""Which of a package's modules import which: the graph, its cycles, and what a module needs.

Read from the source with :mod:`ast`, never by importing anything: every ``import``
counts, at the top of a module or inside a function (an import inside a function is
how a cycle hides until that function runs), and so does
``importlib.import_module("...")`` or ``__import__("...")`` with a literal name.  A
module that imports ``autograder.a.b`` depends on ``autograder.a.b``; importing a
package means its ``__init__``.  Used by the test suite (no cycle; the command line
never imports the runner) and by the Gradescope zip (exactly the modules grading
needs).
"""

from __future__ import annotations

import ast
from pathlib import Path

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


def dynamic_import_name(node: ast.AST) -> ast.expr | None:
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
            argument = dynamic_import_name(node)
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


def needed_by(graph: dict[str, set[str]], start: str) -> set[str]:
    """``start`` and every module it imports, directly or not, with the packages above them.

    Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first.
    """
    seen: set[str] = set()
    stack = [start]
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        stack += graph.get(module, ())
        parent = module.rpartition(".")[0]
        if parent:
            stack.append(parent)
    return seen
