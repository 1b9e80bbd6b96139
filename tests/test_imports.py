"""The package's import graph has no cycle, between modules or between packages.

Every `import` counts, also those inside functions or under `TYPE_CHECKING`: an import
moved into a function to dodge a cycle still ties the two modules together.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import streamcensus

ROOT = Path(streamcensus.__file__).resolve().parent
PACKAGE = "streamcensus"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The package's modules that `module` imports, anywhere in its file."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name.startswith(PACKAGE + ".") and name in known} - {module}


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _component(module: str) -> str:
    """The package a module belongs to (`load`, `serve`, ...), or the top-level module."""
    return module.split(".")[1]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_modules_import_each_other_without_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 80
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_packages_import_each_other_without_cycles() -> None:
    packages: dict[str, set[str]] = {}
    for module, imported in import_graph().items():
        if module == PACKAGE:
            continue
        source = _component(module)
        packages.setdefault(source, set()).update(
            _component(m) for m in imported if _component(m) != source
        )
    cycle = _cycle(packages)
    assert cycle is None, f"packages in a cycle: {' -> '.join(cycle or [])}"


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("streamcensus.warehouse", "streamcensus.load"),
        ("streamcensus.warehouse", "streamcensus.transform"),
        ("streamcensus.transform", "streamcensus.load"),
        ("streamcensus.bench", "streamcensus.demo"),
        ("streamcensus.bench", "streamcensus.cli"),
        ("streamcensus.keys", "streamcensus.collect"),
        ("streamcensus.lake", "streamcensus.load"),
    ],
)
def test_layers_point_one_way(lower: str, upper: str) -> None:
    offenders = {
        module: sorted(m for m in imported if m == upper or m.startswith(upper + "."))
        for module, imported in import_graph().items()
        if module == lower or module.startswith(lower + ".")
    }
    assert not {k: v for k, v in offenders.items() if v}, f"{lower} must not import {upper}"


def test_the_graph_sees_nested_and_type_checking_imports(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from streamcensus.cli import main\n"
        "def f():\n    from streamcensus import demo\n"
    )
    path = tmp_path / "x.py"
    path.write_text(source)
    known = {"streamcensus.cli", "streamcensus.demo", "streamcensus.x"}
    assert _imports(path, "streamcensus.x", known) == {"streamcensus.cli", "streamcensus.demo"}
