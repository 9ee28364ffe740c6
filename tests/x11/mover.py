"""lakegui's main window in its own process, on the demo lake in a moto server, opened at
data/ticks/daily/ with AAPL/ selected; prints the screen positions of the AAPL/ and MSFT/ rows and
of the "data" breadcrumb segment for xdotool, then, when a move or copy the drop queued has ended,
"ended TEXT" and the keys under the target."""

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
b = window.browser


def on_listed(prefix: str, rows: int) -> None:
    if prefix == "":
        b.navigate("data/ticks/daily/")
    elif prefix == "data/ticks/daily/" and not b.reorganiser.clipboard.current():
        names = [b.model.index(r, 0).data() for r in range(b.model.rowCount())]
        rows = {n: b.model.index(names.index(n), 0) for n in ("AAPL/", "MSFT/")}
        b.table.selectRow(rows["AAPL/"].row())
        points = [b.table.viewport().mapToGlobal(b.table.visualRect(i).center()) for i in rows.values()]
        crumb = b.breadcrumb.buttons[1]  # bucket › data › ticks › daily
        points.append(crumb.mapToGlobal(crumb.rect().center()))
        print("ready", *(f"{p.x()} {p.y()}" for p in points), flush=True)
        b.listing_finished.disconnect(on_listed)


def on_done(text: str) -> None:
    if text.startswith(("Moved", "Copied")):
        s3 = conn.client()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="data/").get("Contents", [])
                if "AAPL/" in o["Key"] and o["Key"].endswith("/ticks.parquet") and "/minute/" not in o["Key"]]
        print("ended", text, flush=True)
        print("keys", *sorted(keys), flush=True)


b.listing_finished.connect(on_listed)
b.reorganiser.done.connect(on_done)
window.set_connection(conn)
with loop:
    loop.run_forever()
