"""The package's layers import downwards only, and the package graph has no cycle.

Read statically from every module's imports (lazy ones inside functions included), so a
new upward import fails here whether or not a test runs the code that makes it.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "achroma"

# What each part of the package may import (besides itself), lowest layers first.
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "errors": set(),
    "config": set(),
    "progress": set(),
    "emulation": {"errors"},
    "core": {"errors", "emulation"},
    "embeddings": {"errors", "core"},
    "schema": {"errors", "core", "embeddings"},
    "search": {"errors", "core"},
    "data_loaders": {"embeddings", "errors"},
    "backend": {"core", "errors", "config"},
    "engine": {
        "backend",
        "core",
        "emulation",
        "errors",
        "_version",
        "config",
        "progress",
        "search",
    },
    "http": {"backend", "core", "emulation", "errors", "_version", "config", "search"},
    "api": {
        "backend",
        "core",
        "config",
        "data_loaders",
        "embeddings",
        "emulation",
        "errors",
        "search",
        "schema",
    },
    "sync": {"errors"},
    "sync_api": {
        "sync",
        "api",
        "config",
        "core",
        "data_loaders",
        "embeddings",
        "schema",
        "search",
    },
    "utils": {"core", "embeddings", "data_loaders"},
    "clients": {
        "api",
        "backend",
        "core",
        "config",
        "engine",
        "http",
        "sync",
        "sync_api",
        "errors",
        "search",
    },
    "server": {
        "api",
        "backend",
        "core",
        "config",
        "engine",
        "http",
        "emulation",
        "errors",
        "search",
    },
    "transfer": {"api", "clients", "core", "config", "errors", "progress"},
    # chromadb's module tree, served by drop_in (which names its modules only as strings).
    "chromadb": {"api", "core", "config", "embeddings", "sync_api", "search"},
    "drop_in": set(),
}
# The entry points: free to import any layer.
TOP = {"__init__", "__main__", "cli"}


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_parts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "achroma":
                names += [f"achroma.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "achroma" and len(parts) > 1:
                found.add(parts[1])
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        part = _part(path)
        graph.setdefault(part, set()).update(_imported_parts(path) - {part})
    return graph


def test_every_part_of_the_package_has_a_layer() -> None:
    assert set(_graph()) - TOP <= set(ALLOWED), "add the new package to ALLOWED"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_layer_imports_only_what_lies_below(part: str) -> None:
    upward = _graph().get(part, set()) - ALLOWED[part]
    assert not upward, f"achroma.{part} imports {sorted(upward)}"


def test_the_package_graph_has_no_cycle() -> None:
    graph = {part: deps for part, deps in _graph().items() if part not in TOP}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_the_allowed_layers_form_no_cycle() -> None:
    graphlib.TopologicalSorter(ALLOWED).prepare()
