"""The package's shape: imports point one way, and modules stay small enough to read.

The rules are those of docs/design.md ("Module map"): ``mlrpy.callbacks`` never imports
``mlrpy.learners``; nothing imports the command line; no two modules import each other, directly
or through a chain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mlrpy"
#: longer modules, each with the reason it stays whole
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 420


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of mlrpy imported by ``path``, at any depth, except under ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlrpy"):
            found.add(node.module)
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mlrpy"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_callbacks_never_import_learners():
    offenders = {
        name: sorted(m for m in deps if m.startswith("mlrpy.learners"))
        for name, deps in GRAPH.items()
        if name.startswith("mlrpy.callbacks")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_imports_the_command_line():
    assert sorted(n for n, deps in GRAPH.items() if "mlrpy.cli" in deps and n != "mlrpy.__main__") == []


def _package_of(name: str) -> str:
    return name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def test_no_import_cycles_between_modules():
    # a package's __init__ re-exports its children, so edges into an __init__ from its own
    # children are the children's business, not a cycle of the design
    def edges(name: str) -> set[str]:
        return {
            m for m in GRAPH[name]
            if not (MODULES[m].name == "__init__.py" and name.startswith(m + "."))
            and not (MODULES[name].name == "__init__.py" and m.startswith(name + "."))
        }

    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges(node)):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            walk(name)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_stays_readable(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES or name in LONG_MODULES, (
        f"{name} has {lines} lines; split it by responsibility or record why it stays whole"
    )
