from __future__ import annotations

import gc

import pytest

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.demo import DEMO_BUCKET
from tests.support.demolake import DemoLake


def profile_for(url: str, bucket: str = DEMO_BUCKET) -> ConnectionProfile:
    return ConnectionProfile(name="test", endpoint_url=url, bucket=bucket, addressing_style="path")


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> DemoLake:
    """The demo lake on a real HTTP endpoint (moto's server, in a process of its own), seeded once."""
    lake = DemoLake(tmp_path_factory.mktemp("demo-lake")).start()
    yield lake
    lake.stop()


@pytest.fixture
def demo_connection(demo_lake) -> Connection:
    """A connection to the demo lake, as seeded: whatever an earlier test changed is put back."""
    demo_lake.restore()
    return Connection(profile_for(demo_lake.endpoint_url))


@pytest.fixture
def window(qtbot, qloop, io_executor):
    from lakegui.ui.main_window import MainWindow

    w = MainWindow(io_executor)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


@pytest.fixture(autouse=True)
def gc_on_the_gui_thread(qapp):
    """As in the app: cyclic garbage (pyqtgraph's items) is collected on this thread only, never on a
    worker that happens to allocate; teardown collects what the test left, here."""
    from lakegui.ui.gc_main_thread import MainThreadCollector

    collector = MainThreadCollector(qapp)
    yield
    collector.stop()
    # What survived is kept out of every later collection: each test's full collection walked the
    # whole session's heap (0.3-1 s a test under load), though it can only free this test's cycles.
    gc.freeze()
