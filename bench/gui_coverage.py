"""Open the coverage window on a bucket, offscreen, and measure it. Prints one JSON line: time to
the grid, the process's memory with it shown, and the UI thread's longest gap (5 ms timer) while
the listing ran and while the grid was scrolled top to bottom, page by page, and across."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    from bench.qtbench import GapTimer, app_and_loop, rss_mb, target
    from lakegui.ui.coverage.view import CoverageWindow
    from lakegui.ui.queue.controller import TransferQueue

    args, conn = target(argparse.ArgumentParser())
    app, loop = app_and_loop()
    executor = ThreadPoolExecutor(4)
    conn.client()  # as after connecting
    transfers = TransferQueue()
    view = CoverageWindow(transfers, executor)
    view.resize(1000, 700)
    base = rss_mb()
    listing, scrolling = GapTimer(), GapTimer()

    async def run() -> dict:
        done = asyncio.Event()
        view.loaded.connect(done.set)
        view.load_failed.connect(lambda m: sys.exit(m))
        view.set_target(conn, args.bucket, args.prefix)
        listing.start()
        start = time.perf_counter()
        view.show()
        await done.wait()
        loaded = time.perf_counter() - start
        await asyncio.sleep(0.1)
        listing.stop()
        m = view.model
        scrolling.start()
        bar = view.table.verticalScrollBar()
        for value in range(0, bar.maximum() + 1, max(1, bar.pageStep())):
            bar.setValue(value)
            await asyncio.sleep(0)
            app.processEvents()
        for value in range(bar.maximum(), -1, -max(1, bar.maximum() // 50)):
            bar.setValue(value)
            app.processEvents()
        view.filter_edit.setText("AB")
        app.processEvents()
        view.filter_edit.clear()
        view.sort_box.setCurrentIndex(1)
        app.processEvents()
        scrolling.stop()
        return {"cells": m.rowCount() * m.columnCount(), "rows": m.rowCount(), "cols": m.columnCount(),
                "objects": len(m.coverage.keys), "grid_s": round(loaded, 3), "rss_mb": round(rss_mb(), 1),
                "rss_growth_mb": round(rss_mb() - base, 1),
                "listing_max_gap_ms": round(listing.max * 1000, 1),
                "scroll_max_gap_ms": round(scrolling.max * 1000, 1), "scroll_gaps_over_30ms": scrolling.long}

    try:
        with loop:
            result = loop.run_until_complete(run())
    finally:
        view.shutdown()
        transfers.shutdown()
        executor.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
