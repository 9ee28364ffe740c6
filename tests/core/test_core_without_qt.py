"""The core must import and work with Qt unavailable (a CLI and GUI share it)."""

import subprocess
import sys

BLOCKER = r"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'qasync', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt blocked: ' + name)
sys.meta_path.insert(0, Block())
import lakegui.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, 'lakegui.core.')]
for n in names:
    importlib.import_module(n)
import lakegui.cli
assert not any(m.startswith(('PySide6', 'qasync')) for m in sys.modules), 'Qt got imported'
print('imported', len(names))
"""


def test_core_imports_with_qt_blocked():
    r = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    count = int(r.stdout.split()[-1])
    assert count >= 8  # every core module was really imported


def test_blocker_catches_qt_imports():
    # Guard against a blocker that silently blocks nothing.
    code = BLOCKER.split("import lakegui.core")[0] + "import PySide6.QtCore\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Qt blocked" in r.stderr
