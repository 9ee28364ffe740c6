"""The house rules of issue 16, read from the source: no private name is imported across modules,
and nothing outside core/transfers opens the queue's store (views and commands ask the service)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "lakegui"


def _imports():
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                yield path.relative_to(ROOT).as_posix(), node


def test_no_private_name_crosses_a_module():
    crossing = [f"{where}: from {'.' * n.level}{n.module or ''} import {a.name}"
                for where, n in _imports() for a in n.names
                if a.name.startswith("_") and not a.name.startswith("__")]
    assert crossing == []


def test_only_the_transfers_package_opens_the_store():
    reaching = [f"{where}: {a.name}" for where, n in _imports() for a in n.names
                if a.name == "JobStore" and not where.startswith("core/transfers/")]
    assert reaching == []
