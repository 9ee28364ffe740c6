"""Security rules that hold by construction: no shell anywhere, TLS verification only turned off
for a named endpoint."""

from __future__ import annotations

import ast
from pathlib import Path

import lakegui
from lakegui.core.connection import ConnectionProfile

FORBIDDEN_CALLS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnl"),
                   ("os", "startfile")}


def test_nothing_runs_a_shell():
    root = Path(lakegui.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("subprocess", "pty") for n in names):
                    found.append(f"{path.name}:{node.lineno} imports a process module")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and (node.func.value.id, node.func.attr) in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {node.func.value.id}.{node.func.attr}")
            if isinstance(node, ast.keyword) and node.arg == "shell":
                found.append(f"{path.name}:{node.value.lineno} passes shell=")
    assert found == []


def test_tls_verification_is_only_turned_off_for_a_named_endpoint():
    aws = ConnectionProfile(name="aws", verify_tls=False)
    assert any("only be turned off for a named endpoint" in p for p in aws.problems())
    lab = ConnectionProfile(name="lab", endpoint_url="https://minio.lab:9000", verify_tls=False)
    assert lab.problems() == [] and lab.describe().endswith("TLS NOT VERIFIED")
    assert "NOT VERIFIED" not in ConnectionProfile(name="ok", endpoint_url="https://minio.lab:9000").describe()
