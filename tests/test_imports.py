"""The code's structure: each module imports only downward, so every module imports alone.

Read statically (no imports run): the graph of `import` statements between the project's
modules, skipping `if TYPE_CHECKING:` blocks. Module-level imports must form no cycle (else a
module fails to import on its own, as `schema.event_mutations` once did). Imports inside
functions may close a cycle only between the GraphQL type modules listed below, whose types
point at each other (a component's page, a page's components) through `strawberry.lazy`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.onepass

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "resolvers", "schema", "notifications", "realtime", "web", "i18n")
TOP_MODULES = ("settings", "settings_sso", "cli", "logsetup")
# The GraphQL type graph is cyclic (Component.page → StatusPage.components → Component …);
# these modules build each other's types inside resolvers, imported when the field runs.
TYPE_GRAPH = frozenset({"schema.page", "schema.component", "schema.event",
                        "schema.availability"})


def modules() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in TOP_MODULES}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(path: Path, name: str, known: set[str], *, module_level: bool) -> set[str]:
    """The project modules `path` imports (at module level only, or anywhere)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
        if module_level and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hidden.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known and t != name}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    search = _Tarjan(graph)
    for node in graph:
        if node not in search.index:
            search.visit(node)
    return search.found


class _Tarjan:
    def __init__(self, graph: dict[str, set[str]]) -> None:
        self.graph = graph
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.found: list[set[str]] = []

    def visit(self, node: str) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        for target in self.graph[node]:
            if target not in self.index:
                self.visit(target)
                self.low[node] = min(self.low[node], self.low[target])
            elif target in self.stack:
                self.low[node] = min(self.low[node], self.index[target])
        if self.low[node] == self.index[node]:
            self.pop_component(node)

    def pop_component(self, root: str) -> None:
        component: set[str] = set()
        while True:
            top = self.stack.pop()
            component.add(top)
            if top == root:
                break
        if len(component) > 1:
            self.found.append(component)


def graph(*, module_level: bool) -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(path, name, known, module_level=module_level)
            for name, path in found.items()}


def test_module_level_imports_form_no_cycle() -> None:
    assert cycles(graph(module_level=True)) == []


def test_imports_inside_functions_close_no_cycle_outside_the_graphql_type_graph() -> None:
    outside = [sorted(c) for c in cycles(graph(module_level=False)) if not c <= TYPE_GRAPH]
    assert outside == []


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_event_mutations_imports_on_a_fresh_interpreter() -> None:
    # The module that once imported only through alphabetical order (schema/event.py imported
    # it at its bottom).
    done = subprocess.run([sys.executable, "-c", "import schema.event_mutations"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_top_level_module_is_installed() -> None:
    """`pip install` ships only the modules pyproject names: a top-level module missing from
    `py-modules` imports from a checkout but not from the installed `heliograph` command."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = set(config["py-modules"])
    assert set(TOP_MODULES) <= shipped, sorted(set(TOP_MODULES) - shipped)
    at_root = {p.stem for p in ROOT.glob("*.py")}
    assert at_root <= shipped, sorted(at_root - shipped)


# Imports each module with every project module forgotten first (third-party libraries stay
# loaded, which keeps this to seconds): what `python -c "import X"` does on a fresh interpreter,
# as far as the project's own import order goes.
ALONE = """
import importlib, sys
roots = {roots!r}
bad = []
for name in {names!r}:
    for loaded in [n for n in sys.modules if n.split(".")[0] in roots]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        bad.append(f"{{name}}: {{exc!r}}")
print("\\n".join(bad))
"""


def test_every_module_imports_alone() -> None:
    names = sorted(modules())
    roots = set(PACKAGES) | set(TOP_MODULES)
    done = subprocess.run([sys.executable, "-c", ALONE.format(roots=roots, names=names)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
