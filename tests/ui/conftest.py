from __future__ import annotations

import pytest

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.demo import DEMO_BUCKET, seed


def profile_for(url: str, bucket: str = DEMO_BUCKET) -> ConnectionProfile:
    return ConnectionProfile(name="test", endpoint_url=url, bucket=bucket, addressing_style="path")


@pytest.fixture
def demo_connection(moto_endpoint) -> Connection:
    """The demo lake seeded into a real HTTP endpoint (moto server)."""
    conn = Connection(profile_for(moto_endpoint))
    seed(conn.client("transfer"))
    return conn


@pytest.fixture
def window(qtbot, qloop, io_executor):
    from lakegui.ui.main_window import MainWindow

    w = MainWindow(io_executor)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()
