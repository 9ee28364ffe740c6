"""The shape of lakegui/cli/ (issue 17, item 2), read from the modules' imports with `ast`:
`__init__` holds main and the parser, one module per command group, `common` the shared parts;
command modules import nothing of each other, and no private name crosses a module line."""

from __future__ import annotations

import ast
from pathlib import Path

import lakegui.cli

CLI = Path(lakegui.cli.__file__).parent
SHARED = {"common"}
# Every other module is a command group (later issues add more: one module per group).
COMMAND_MODULES = {p.stem for p in CLI.glob("*.py")} - {"__init__", "__main__"} - SHARED
EXPECTED = {"listing", "transfers", "backfill", "coverage", "preview", "demo", "completion"}


def _imports(path: Path):
    """(module imported relative to lakegui.cli or None for absolute, names) of each import."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) or isinstance(node, ast.Import):
            yield node, [a.name for a in node.names]


def _cli_targets(node, names) -> set[str]:
    """Which lakegui.cli modules an import reaches."""
    if isinstance(node, ast.Import):
        return {n.split(".")[2] for n in names if n.startswith("lakegui.cli.")}
    if node.level == 1:  # from . import x / from .x import y
        return {node.module.split(".")[0]} if node.module else set(names)
    if node.level == 0 and (node.module or "").startswith("lakegui.cli"):
        parts = node.module.split(".")
        return {parts[2]} if len(parts) > 2 else set(names)
    return set()


def test_the_package_has_main_the_groups_and_common():
    assert EXPECTED <= COMMAND_MODULES and (CLI / "common.py").exists()
    init = ast.parse((CLI / "__init__.py").read_text())
    defined = {n.name for n in init.body if isinstance(n, ast.FunctionDef)}
    assert {"main", "build_parser"} <= defined
    for name in COMMAND_MODULES:
        tree = ast.parse((CLI / f"{name}.py").read_text())
        assert "add_parser" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, name


def test_no_imports_between_command_modules_and_no_private_names():
    problems = []
    for path in sorted(CLI.glob("*.py")):
        me = path.stem
        for node, names in _imports(path):
            targets = _cli_targets(node, names)
            if me in COMMAND_MODULES | SHARED:
                bad = targets - SHARED - {me}
                if bad:
                    problems.append(f"{me} imports {sorted(bad)} (line {node.lineno})")
            if isinstance(node, ast.ImportFrom):
                private = [n for n in names if n.startswith("_") and not n.endswith("__")]  # dunders are public
                if private:
                    problems.append(f"{me} imports private {private} from {node.module} (line {node.lineno})")
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_violation(tmp_path):
    # Guard against a check that passes on anything.
    bad = tmp_path / "bad.py"
    bad.write_text("from .listing import _helper\nfrom . import transfers\n")
    found = [(_cli_targets(node, names), names) for node, names in _imports(bad)]
    assert found == [({"listing"}, ["_helper"]), ({"transfers"}, ["transfers"])]


def test_console_script_is_main():
    import tomllib

    project = tomllib.loads((CLI.parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["lakegui-cli"] == "lakegui.cli:main"
