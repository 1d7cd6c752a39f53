"""The package's imports run one way: down the pipeline between its stage packages, and no
module reaches itself again through its imports."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from conftest import ROOT

PACKAGE_DIR = ROOT / "generator" / "pangeo_himat"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, at any depth of the file (functions too)."""
    # os.walk with followlinks: the controller package is a link to the chart's files.
    paths = [
        Path(folder) / name
        for folder, _, files in os.walk(PACKAGE_DIR, followlinks=True)
        for name in files
        if name.endswith(".py")
    ]
    modules = {module_name(path): path for path in paths}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pangeo_himat.render import names` imports pangeo_himat.render.names.
                targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in modules and target not in (name, "pangeo_himat"):
                    graph[name].add(target)
    return graph


# The stage packages, down the pipeline: a package imports only packages of a lower rank (and
# itself); packages of one rank do not import each other. `options` (the settings option and
# the input-error decorator) is one module shared by the root group's verbs and `himat local`.
# The controller runs in the cluster with the standard library alone, so it imports no other
# package and none imports it.
RANKS = {
    "settings": 0,
    "fit": 1,
    "render": 2,
    "cost": 3,
    "lifecycle": 3,
    "options": 3,
    "local": 4,
    "plots": 4,
    "cli": 5,
    "__main__": 6,
}
ISOLATED = {"controller"}


def stage(module: str) -> str | None:
    """The stage of a module: its subpackage or top-level module (None: pangeo_himat itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANKS.keys() | ISOLATED else None


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    """Every import that runs up the pipeline, sideways, or into or out of the controller."""
    found = []
    for module, targets in sorted(graph.items()):
        here = stage(module)
        for target in sorted(targets):
            there = stage(target)
            if here is None or there is None or here == there:
                continue
            if here in ISOLATED or there in ISOLATED or RANKS[there] >= RANKS[here]:
                found.append(f"{module} -> {target}")
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_package_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_imports_run_down_the_pipeline_between_stage_packages():
    assert wrong_way(import_graph()) == []


def test_every_subpackage_and_top_level_module_has_a_rank():
    units = {path.stem for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__"}
    units |= {path.name for path in PACKAGE_DIR.iterdir() if (path / "__init__.py").is_file()}
    assert units == set(RANKS) | ISOLATED


def test_the_direction_check_reports_an_upward_and_a_sideways_import():
    graph = {
        "pangeo_himat.fit.fit": {"pangeo_himat.render.names", "pangeo_himat.settings.errors"},
        "pangeo_himat.cost.cost": {"pangeo_himat.local.shape"},
        "pangeo_himat.controller.loop": {"pangeo_himat.settings.errors"},
        "pangeo_himat.cli.generate": {"pangeo_himat.cost.cost", "pangeo_himat.options"},
    }
    assert wrong_way(graph) == [
        "pangeo_himat.controller.loop -> pangeo_himat.settings.errors",
        "pangeo_himat.cost.cost -> pangeo_himat.local.shape",
        "pangeo_himat.fit.fit -> pangeo_himat.render.names",
    ]


def test_the_cycle_finder_reports_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
