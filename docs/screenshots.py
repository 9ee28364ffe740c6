"""Render the README's screenshots from the real window on the embedded demo lake.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py docs/

Writes screenshot-preview.png (a daily ticks file charted, the mouse over it: crosshair and the
values under it), screenshot-dark.png (the same in the dark palette), screenshot-json.png (a fundamentals JSON file in the preview),
screenshot-backfill-wizard.png (a folder planned against the lake), screenshot-coverage.png
(the demo lake's daily ticks with their deliberate gaps, two missing cells chosen) and
screenshot-transfers.png (four minute ticks.parquet downloads, named by their paths, then an upload
mid-flight, throttled so the progress bars, speeds and ETAs show) and
screenshot-query.png (the Query window: four symbols' closes over five years). Folders and the queue
database live in a temp dir, never the user's. Names after the folder (`docs/ query`) render only those.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


async def wait_for(condition, timeout=30.0) -> None:
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the window did not get there in time")
        await asyncio.sleep(0.05)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    only = set(sys.argv[2:])
    work = Path(tempfile.mkdtemp(prefix="lakegui-shots-"))
    for var, sub in (("LAKEGUI_CONFIG_DIR", "config"), ("LAKEGUI_DATA_DIR", "data"), ("LAKEGUI_LOG_DIR", "log")):
        os.environ[var] = str(work / sub)

    import qasync
    from PySide6.QtWidgets import QApplication

    from lakegui.core.demo import DemoServer
    from lakegui.core.settings import MB, TransferSettings
    from lakegui.ui.main_window import MainWindow

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(4)
    demo = DemoServer().start()
    window = MainWindow(executor, TransferSettings(max_bandwidth=2 * MB, concurrent_files=3,
                                                  multipart_threshold=5 * MB, multipart_chunksize=5 * MB))
    window.resize(1380, 860)
    window.show()

    async def shoot() -> None:
        b = window.browser
        window.set_connection(demo.connection(20))
        await wait_for(lambda: not b.loading and b.model.rowCount() > 0)
        if only:
            if "query" in only:
                await shoot_query()
            return
        b.navigate("data/ticks/daily/AAPL/2024/")
        await wait_for(lambda: not b.loading and b.model.rowCount() == 1)
        b.table.selectRow(0)
        preview = window.preview
        await wait_for(lambda: preview.parquet.rows_model is not None and preview.stats_label.text())
        preview.tabs.setCurrentWidget(preview.parquet.chart)
        await asyncio.sleep(0.2)
        await hover_chart(preview.parquet.chart)
        out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out / "screenshot-preview.png"), "PNG")
        print(f"saved {out / 'screenshot-preview.png'}")
        # The same window in the dark palette.
        from lakegui.ui.theme import apply_theme

        apply_theme(app, "dark")
        await asyncio.sleep(0.3)
        await hover_chart(preview.parquet.chart, 0.35)  # the chart repaints in the new palette
        window.grab().save(str(out / "screenshot-dark.png"), "PNG")
        print(f"saved {out / 'screenshot-dark.png'}")
        apply_theme(app, "light")
        preview.tabs.setCurrentWidget(preview.parquet.data_page)
        await shoot_json()
        await shoot_wizard()
        await shoot_coverage()
        await shoot_query()
        # Downloads of several ticks.parquet files: each row says which one it is.
        queue = window.transfers
        days = [f"data/ticks/minute/{s}/2024/12/{d}/" for s, d in (("AAPL", "02"), ("AAPL", "03"), ("MSFT", "02"),
                                                                    ("NVDA", "04"))]
        window.transfer_actions.download(window.connection, b.bucket, "data/ticks/minute/", [], days,
                                         str(work / "downloads"))
        await wait_for(lambda: queue.model.rowCount() == 4 and all(
            queue.model.row(i).state == "done" for i in range(4)))
        backfill = work / "backfill"
        backfill.mkdir()
        for symbol, size in (("NVDA", 9), ("AMD", 6), ("INTC", 4), ("QCOM", 3), ("TXN", 2)):
            (backfill / f"{symbol}_2024.parquet").write_bytes(os.urandom(size * MB))
        window.transfer_actions.upload(window.connection, b.bucket, "uploads/", [str(backfill)])
        await wait_for(lambda: queue.model.rowCount() == 9 and any(
            queue.model.row(i).bytes_done > 2 * MB for i in range(4, 9)))
        await asyncio.sleep(0.3)  # one more 10 Hz repaint of speeds and ETAs
        out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out / "screenshot-transfers.png"), "PNG")
        print(f"saved {out / 'screenshot-transfers.png'}")

    async def hover_chart(chart, where: float = 0.6) -> None:
        """Move the mouse over the chart (crosshair and the values under it), as a user does."""
        from PySide6.QtCore import QPointF
        from PySide6.QtTest import QTest

        canvas = chart.canvas
        s = canvas.series
        i = int(len(s.close) * where)
        x, y = s.times_ms[i] / 1000.0, float(s.close[i])
        point = canvas.mapFromScene(canvas.price.vb.mapViewToScene(QPointF(x, y)))
        QTest.mouseMove(canvas.viewport(), point)
        await wait_for(lambda: chart.hover.text() != "")
        await asyncio.sleep(0.2)

    async def shoot_json() -> None:
        b = window.browser
        b.navigate("data/fundamental/AAPL/2024/")
        await wait_for(lambda: not b.loading and b.model.rowCount() == 4)
        b.table.selectRow(3)
        preview = window.preview
        await wait_for(lambda: preview.tabs.currentWidget() is preview.json_tree)
        tree = preview.json_tree
        tree.expandToDepth(0)
        await asyncio.sleep(0.3)
        window.grab().save(str(out / "screenshot-json.png"), "PNG")
        print(f"saved {out / 'screenshot-json.png'}")

    async def shoot_wizard() -> None:
        from lakegui.core.demo import SYMBOLS, _parquet, daily_table

        local = work / "daily"
        local.mkdir()
        for symbol in list(SYMBOLS)[:4]:  # in the lake already
            (local / f"{symbol}_2024.parquet").write_bytes(_parquet(daily_table(symbol, 2024)))
        (local / "GOOGL_2024.parquet").write_bytes(b"re-exported")
        for symbol in ("AMD", "INTC", "QCOM", "TXN", "ADBE", "CRM", "ORCL", "IBM"):
            for year in (2023, 2024):
                (local / f"{symbol}_{year}.parquet").write_bytes(os.urandom(200_000))
        (local / "nvda_2024.parquet").write_bytes(b"x")
        (local / "README.md").write_text("notes")
        wizard = window.open_backfill_wizard(folder=str(local))
        await wait_for(lambda: wizard.plan is not None)
        await asyncio.sleep(0.2)
        wizard.grab().save(str(out / "screenshot-backfill-wizard.png"), "PNG")
        print(f"saved {out / 'screenshot-backfill-wizard.png'}")
        wizard.close()

    async def shoot_coverage() -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        view = window.coverage_window()
        window.open_coverage()
        await wait_for(lambda: view.model.matrix is not None and view.model.rowCount() > 0)
        view.resize(980, 560)
        m = view.model
        sel = QItemSelection()
        for symbol, year in (("V", "2021"), ("V", "2022")):
            index = m.index(m.matrix.rows.index(symbol), m.matrix.cols.index(year))
            sel.select(index, index)
        view.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        shown = []
        view.details_shown.connect(shown.append)
        view.show_details(m.index(m.matrix.rows.index("NVDA"), m.matrix.cols.index("2024")))
        await wait_for(lambda: shown)
        await asyncio.sleep(0.2)
        view.grab().save(str(out / "screenshot-coverage.png"), "PNG")
        print(f"saved {out / 'screenshot-coverage.png'}")
        view.close()

    async def shoot_query() -> None:
        view = window.open_query()
        await wait_for(lambda: view.schema is not None)
        view.resize(1180, 780)
        view.pickers["symbol"].check(["AAPL", "MSFT", "NVDA", "GOOGL"])
        view.set_columns(["date", "close", "volume"])
        view.filter_edit.setText("volume > 1000000")
        done = []
        view.query_finished.connect(done.append)
        view.run()
        await wait_for(lambda: done)
        view.tabs.setCurrentWidget(view.chart)
        await asyncio.sleep(0.3)
        out.mkdir(parents=True, exist_ok=True)
        view.grab().save(str(out / "screenshot-query.png"), "PNG")
        print(f"saved {out / 'screenshot-query.png'}")
        view.close()

    try:
        with loop:
            loop.run_until_complete(shoot())
    finally:
        window.shutdown()
        executor.shutdown(wait=False, cancel_futures=True)
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
