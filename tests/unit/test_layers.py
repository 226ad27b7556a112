"""The rooms of the tree and the direction of their imports (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "scrapers", "notifiers")

# room -> the rooms its modules may import (its own included).
ALLOWED = {
    "bot.core": {"bot.core"},
    "bot.store": {"bot.core", "bot.store"},
    "bot.site": {"bot.core", "bot.store", "bot.site"},
    "scrapers": {"bot.core", "scrapers"},
    "notifiers": {"bot.core", "bot.store", "notifiers"},
    "bot.app": {"bot.core", "bot.store", "bot.site", "bot.app", "scrapers", "notifiers"},
    "bot": {"bot.app"},  # bot/__main__.py
}


def room(module: str) -> str:
    for name in sorted(ALLOWED, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} is in no room")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = modules()
MODULE_NAMES = frozenset(MODULES)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """codecast modules imported by the file; with `top_level_only`, only those run at import
    time (not inside functions or `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULE_NAMES
            # `from package import module` needs the module; anything else, the module named.
            names.update(submodules or {node.module})
    return {n for n in names if n.split(".")[0] in PACKAGES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    allowed = ALLOWED[room(module)]
    wrong = sorted(
        name
        for name in imports(MODULES[module], top_level_only=False)
        if name in MODULES and room(name) not in allowed
    )
    assert not wrong, f"{module} ({room(module)}) imports {wrong}"


def test_no_import_cycles() -> None:
    graph = {
        module: {n for n in imports(path, top_level_only=True) if n in MODULES and n != module}
        for module, path in MODULES.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
