"""The CLI's coordinator imports distributed without its optional imports (numpy, jinja2):
they cost a third of the import on the path to the first chunk (issue 24)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("distributed")

CHECK = """
import sys
from lakegui.core.transfers import cluster

cluster.import_lean()
assert "distributed" in sys.modules, "distributed was not imported"
assert "numpy" not in sys.modules and "jinja2" not in sys.modules, "an optional import came along"
assert not any(isinstance(f, cluster._Refused) for f in sys.meta_path), "the refusal outlived the import"
import importlib.util
assert importlib.util.find_spec("numpy") and importlib.util.find_spec("jinja2")  # whoever needs them gets them
from distributed.protocol import serialize  # the client still serialises
cluster.import_lean()  # a second call does nothing
print("ok")
"""


def test_distributed_is_imported_without_numpy_and_jinja2_which_import_as_usual_afterwards():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_the_refusal_holds_for_the_importing_thread_only():
    import threading

    from lakegui.core.transfers.cluster import _Refused

    refused = _Refused(("numpy",))
    with pytest.raises(ModuleNotFoundError):
        refused.find_spec("numpy.linalg")
    assert refused.find_spec("numpyish") is None  # a name that only starts alike
    seen = []
    other = threading.Thread(target=lambda: seen.append(refused.find_spec("numpy")))
    other.start()
    other.join()
    assert seen == [None]  # another thread gets the usual finders
