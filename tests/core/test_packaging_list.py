"""What `pip install .` puts in the wheel. The tests import lakegui from the checkout, so a package
missing from pyproject.toml passes every other test and still breaks an install (a plain install
once lacked lakegui.core.lake: the demo's browser and `lakegui-cli ls` failed to import it)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_of_the_tree_is_listed():
    listed = set(_setuptools()["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lakegui").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found - {"lakegui.resources"} == set(), "listed packages that do not exist"


def test_every_resource_file_is_package_data():
    patterns = _setuptools()["package-data"]["lakegui.resources"]
    root = ROOT / _setuptools()["package-dir"]["lakegui.resources"]
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".py"
             and "__pycache__" not in p.parts]
    assert files
    missed = [f for f in files if not any(fnmatch.fnmatch(f, pat) and f.count("/") == pat.count("/")
                                          for pat in patterns)]
    assert missed == [], "add patterns for these to [tool.setuptools.package-data]"
