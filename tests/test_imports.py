"""Test modules import no other test module; what they share lives in
``ethpredict.testing``, which imports without pytest (benchmarks run with the
project installed alone)."""

from __future__ import annotations

import ast
from pathlib import Path

import ethpredict.testing
from ethpredict.testing.project import project_root

PROJECT = project_root(__file__)


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and not node.level:
        return [node.module or ""]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def _module_level(tree: ast.AST):
    """The nodes that run when the module is imported (not function bodies)."""
    for node in ast.iter_child_nodes(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield node
            yield from _module_level(node)


def test_no_test_module_imports_another():
    offenders = []
    for folder in ("tests", "benchmarks"):
        for path in sorted((PROJECT / folder).rglob("*.py")):
            rel = path.relative_to(PROJECT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(), rel)):
                for name in _imported(node):
                    if name == "tests" or name.startswith("tests."):
                        offenders.append(f"{rel}:{node.lineno} imports {name}")
    assert not offenders, "move the shared helper to ethpredict.testing:\n" + "\n".join(
        offenders
    )


def test_testing_package_does_not_import_pytest_at_module_level():
    folder = Path(ethpredict.testing.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) > 5
    offenders = []
    for path in modules:
        for node in _module_level(ast.parse(path.read_text(), path.name)):
            for name in _imported(node):
                if name.split(".")[0] in ("pytest", "_pytest"):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_the_check_sees_a_module_level_import_and_skips_a_local_one():
    tree = ast.parse("import pytest\ndef f():\n    from pytest import raises\n")
    found = [n.lineno for n in _module_level(tree) if _imported(n)]
    assert found == [1]
