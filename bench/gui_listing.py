"""Open one prefix in the real browser, offscreen, and time it. Prints one JSON line: time to the
first rows, to the full listing, memory growth, and the UI thread's longest gap (5 ms timer)."""

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
    from lakegui.ui.browser.widget import PrefixBrowser

    args, conn = target(argparse.ArgumentParser())
    app, loop = app_and_loop()
    executor = ThreadPoolExecutor(4)
    conn.client()  # as after connecting: the client exists before the user navigates
    browser = PrefixBrowser(executor)
    browser.resize(900, 700)
    browser.show()
    gaps = GapTimer()

    async def run() -> dict:
        browser._connection, browser._bucket = conn, args.bucket  # connected, without listing the root
        first, done = asyncio.get_event_loop().create_future(), asyncio.get_event_loop().create_future()
        browser.model.rowsInserted.connect(lambda *a: first.done() or first.set_result(time.perf_counter()))
        browser.listing_finished.connect(lambda p, n: done.done() or done.set_result((time.perf_counter(), n)))
        before = rss_mb()
        gaps.start()
        start = time.perf_counter()
        browser.navigate(args.prefix)
        t_first = await first
        t_done, rows = await done
        app.processEvents()
        gaps.stop()
        return {"first_rows_ms": round((t_first - start) * 1000, 1), "full_s": round(t_done - start, 3),
                "rows": rows, "rss_growth_mb": round(rss_mb() - before, 1),
                "max_gap_ms": round(gaps.max * 1000, 1), "gaps_over_30ms": gaps.long}

    try:
        with loop:
            result = loop.run_until_complete(run())
    finally:
        browser.cancel()
        executor.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
