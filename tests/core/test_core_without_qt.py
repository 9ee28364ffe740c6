"""The core, the CLI and the Python API must import and work with Qt unavailable: the CLI and
scripts share the core with the GUI, on machines that may have no Qt at all."""

import subprocess
import sys

BLOCKER = r"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'qasync', 'PyQt5', 'PyQt6', 'pyqtgraph'):
            raise ImportError('Qt blocked: ' + name)
sys.meta_path.insert(0, Block())
import lakegui.core, lakegui.cli
names = []
for package in (lakegui.core, lakegui.cli):
    for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):
        if not m.name.endswith('.__main__'):  # runs the CLI: done below, with --help
            importlib.import_module(m.name)
            names.append(m.name)
import lakegui.lake
sys.argv = ['lakegui-cli', '--help']
try:
    import lakegui.cli.__main__
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
assert not any(m.startswith(('PySide6', 'shiboken6', 'qasync', 'pyqtgraph')) for m in sys.modules), 'Qt got imported'
print(' '.join(names))
"""


def test_core_cli_and_api_import_with_qt_blocked():
    r = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    imported = set(r.stdout.split()[-1000:])
    # Every module was really imported, in both trees, subpackages too.
    for name in ("lakegui.core.transfers.engine", "lakegui.core.preview.parquet", "lakegui.cli.common",
                 "lakegui.cli.transfers", "lakegui.cli.listing"):
        assert name in imported, name
    assert sum(n.startswith("lakegui.core.") for n in imported) >= 30
    assert sum(n.startswith("lakegui.cli.") for n in imported) >= 6


def test_blocker_catches_qt_imports():
    # Guard against a blocker that silently blocks nothing.
    code = BLOCKER.split("import lakegui.core")[0] + "import PySide6.QtCore\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Qt blocked" in r.stderr
