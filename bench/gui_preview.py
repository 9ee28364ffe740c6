"""One preview in the real pane, offscreen: from selecting a Parquet object (as the listing
gave it) to its first rows on screen. Prints one JSON line. Run by bench/preview.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.qtbench import GapTimer, app_and_loop, target  # noqa: E402


def main() -> int:
    args, conn = target(argparse.ArgumentParser(description=__doc__))
    app, loop = app_and_loop()
    from lakegui.core.listing import PrefixLister
    from lakegui.ui.browser.location import Location
    from lakegui.ui.preview.pane import PreviewPane

    executor = ThreadPoolExecutor(4)
    pane = PreviewPane(executor)
    pane.resize(700, 800)
    pane.show()
    pane.set_location(Location(conn, args.bucket))
    entry = next(o for page in PrefixLister(conn.client(), args.bucket, args.prefix)
                 for o in page.objects if o.key == args.prefix)
    conn.client()  # a warm client, as the app has after its listing
    gaps = GapTimer()

    async def measure() -> dict:
        done = loop.create_future()
        pane.preview_finished.connect(lambda key: done.done() or done.set_result(key))
        pane.preview_failed.connect(lambda key, msg: done.done() or done.set_exception(RuntimeError(msg)))
        gaps.start()
        t0 = time.perf_counter()
        pane.show_entry(entry)
        await done
        ms = (time.perf_counter() - t0) * 1000
        await asyncio.sleep(0.05)  # the paint that follows
        gaps.stop()
        stats = pane.source.stats
        return {"ms": ms, "requests": stats.requests, "bytes": stats.bytes, "max_gap_ms": gaps.max * 1000,
                "rows_shown": pane.parquet.rows_model.rowCount()}

    try:
        with loop:
            result = loop.run_until_complete(measure())
    finally:
        pane.cancel()
        executor.shutdown(wait=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
