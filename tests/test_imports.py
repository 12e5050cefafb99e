"""The package's import graph: no module imports another that imports it back (lazy imports inside
functions count: they are cycles deferred, not removed), and no ``_private`` name crosses modules."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "modelraising"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        out[".".join(("modelraising", *parts)).removesuffix(".__init__")] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, str | None]]:
    """(module imported, name imported from it or None), every import statement anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("modelraising"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((sub, None) if sub in modules else (node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("modelraising")]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {m: {d for d, _ in _imports(p, modules) if d in modules and d != m} for m, p in modules.items()}
    assert _cycles(graph) == []


def test_no_package_imports_one_that_imports_it_back():
    """Between packages too (modelraising.raising, .teacher, .sources, ... and the top-level modules):
    the teacher client knows nothing of raising, sources nothing of the pillars, config nothing of either."""
    modules = _modules()

    def package(m: str) -> str:
        return ".".join(m.split(".")[:2])

    graph: dict[str, set[str]] = {package(m): set() for m in modules}
    for m, p in modules.items():
        graph[package(m)] |= {package(d) for d, _ in _imports(p, modules) if d in modules} - {package(m)}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_private_name_is_imported_from_another_module():
    modules = _modules()
    crossing = [
        f"{m} imports {name} from {d}"
        for m, p in modules.items()
        for d, name in _imports(p, modules)
        if name and name.startswith("_") and d != m
    ]
    assert crossing == []


def test_the_command_line_starts_without_torch():
    """`modelraising --help` and config validation must not pay for torch (about a second) or a GPU."""
    import subprocess
    import sys

    code = (
        "import sys, modelraising.cli; print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
