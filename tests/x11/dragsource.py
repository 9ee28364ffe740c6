"""lakegui's main window in its own process, on the demo lake in a moto server, opened at
data/ticks/daily/ with AAPL/ selected; prints the row's screen position for xdotool."""

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

import qasync
from PySide6.QtWidgets import QApplication

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.demo import DEMO_BUCKET, seed
from tests.support.endpoints import start_moto_server

server, url = start_moto_server()
conn = Connection(ConnectionProfile(name="demo", endpoint_url=url, bucket=DEMO_BUCKET, addressing_style="path"))
seed(conn.client("transfer"))
app = QApplication(sys.argv)
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)

from lakegui.ui.main_window import MainWindow  # noqa: E402  (after the QApplication)

window = MainWindow(ThreadPoolExecutor(4))
window.setGeometry(0, 0, 900, 700)
window.show()


def on_listed(prefix: str, rows: int) -> None:
    b = window.browser
    if prefix == "":
        b.navigate("data/ticks/daily/")
    elif prefix == "data/ticks/daily/":
        names = [b.model.index(r, 0).data() for r in range(b.model.rowCount())]
        index = b.model.index(names.index("AAPL/"), 0)
        b.table.selectRow(index.row())
        point = b.table.viewport().mapToGlobal(b.table.visualRect(index).center())
        print("ready", point.x(), point.y(), flush=True)


window.browser.listing_finished.connect(on_listed)
window.set_connection(conn)
with loop:
    loop.run_forever()
