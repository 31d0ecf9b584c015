"""The house: each concern in its module, no import circles, and nothing on the query side that imports the index
pipeline (README, "Layout"). Read from the source: imports inside functions count, and so do those made for type
checkers only (a circle through type hints is still two modules that lean on each other)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "talksearch"
QUERY_SIDE = ("talksearch.kb", "talksearch.search", "talksearch.store", "talksearch.minilm", "talksearch.lexical",
              "talksearch.web")
PIPELINE = ("talksearch.build", "talksearch.passages", "talksearch.text", "talksearch.facets", "talksearch.link",
            "talksearch.readers", "talksearch.adapt")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The talksearch modules `name` imports (a package: its __init__)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom):
                base = package.split(".")
                base = base[: len(base) - child.level + 1] if child.level else []
                target = ".".join([*base, *(child.module.split(".") if child.module else [])])
                for alias in child.names:  # `from . import store`: the submodule, if it is one
                    found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_is_read():
    # the reader sees lazy imports and relative ones (a test that reads nothing would pass below)
    assert "talksearch.store" in GRAPH["talksearch.search.searcher"]
    assert "talksearch.minilm" in GRAPH["talksearch.search.collection"]  # imported inside a method
    assert "talksearch.store.tables" in GRAPH["talksearch.store.fields"]
    assert "talksearch.build" in GRAPH["talksearch.cli"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_itself_through_others(name):
    circle = name in reachable(name)
    assert not circle, f"{name} imports itself through {sorted(m for m in GRAPH[name] if name in reachable(m))}"


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m.startswith(QUERY_SIDE)))
def test_the_query_side_never_imports_the_index_pipeline(name):
    pulled = sorted(m for m in reachable(name) if m.startswith(PIPELINE))
    assert not pulled, f"{name} pulls in {pulled}"


def test_every_module_is_in_the_readmes_module_map():
    readme = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    mapped = readme[readme.index("## Layout"):readme.index("## Robustness")]
    for name, path in MODULES.items():
        if name.startswith("talksearch.readers.") or path.name == "__init__.py" and name != "talksearch":
            continue
        assert f"\n{'  ' * (name.count('.') - 1)}{path.name} " in mapped, name
