"""The durable queue at backfill scale: enqueue 75,000 jobs, reopen them in the GUI's queue,
scroll the view, open the backfill dashboard on them, and the process's memory. Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))



def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, default=75_000)
    p.add_argument("--queue", required=True)
    args = p.parse_args()

    from concurrent.futures import ThreadPoolExecutor

    from bench.qtbench import GapTimer, app_and_loop, rss_mb
    from lakegui.core.transfers.jobs import Direction, JobState
    from lakegui.core.transfers.store import JobStore, NewJob
    from lakegui.ui.backfills.dashboard import BackfillDashboard
    from lakegui.ui.queue.controller import TransferQueue
    from lakegui.ui.queue.view import TransferQueueView

    app, loop = app_and_loop()
    base_rss = rss_mb()
    # The seeds' backfill: 5,000 symbols x 15 years of daily ticks.
    jobs = [NewJob(Direction.UPLOAD, "us-equity-datalake", f"data/ticks/daily/S{i // 15:04d}/{2010 + i % 15}/ticks.parquet",
                   f"/backfill/S{i // 15:04d}_{2010 + i % 15}.parquet", size=250_000,
                   metadata={"symbol": f"S{i // 15:04d}", "year": str(2010 + i % 15), "data-type": "daily-ticks"})
            for i in range(args.jobs)]
    store = JobStore(args.queue)
    start = time.perf_counter()
    batch = store.create_batch("seeds backfill", "backfill", {"endpoint_url": "http://127.0.0.1:1"}, runner="gui")
    store.add_jobs(batch, jobs)
    enqueue_s = time.perf_counter() - start
    store.set_state(None, JobState.PAUSED, from_states=[JobState.QUEUED])  # nothing may run
    store.close()
    del jobs

    start = time.perf_counter()
    queue = TransferQueue(store_path=args.queue)
    view = TransferQueueView(queue)
    view.resize(900, 600)
    view.show()
    app.processEvents()
    reopen_s = time.perf_counter() - start
    rows = queue.model.rowCount()
    # Scroll through the whole list a page at a time; the slowest step is a stall.
    bar = view.table.verticalScrollBar()
    worst = 0.0
    for value in range(0, bar.maximum() + 1, max(1, bar.maximum() // 200)):
        t = time.perf_counter()
        bar.setValue(value)
        app.processEvents()
        worst = max(worst, time.perf_counter() - t)
    queue_rss = rss_mb()

    # The dashboard over the same 75,000 jobs: its first read (totals, roll-up by symbol: 5,000
    # rows) and a forced re-read, while a 5 ms timer measures the UI thread's longest gap.
    executor = ThreadPoolExecutor(2)
    dashboard = BackfillDashboard(queue, executor)
    gaps = GapTimer()
    reads = []

    async def watch() -> None:
        for _ in range(2):
            done = asyncio.Event()
            dashboard.refreshed.connect(done.set)
            t = time.perf_counter()
            dashboard.show() if not dashboard.isVisible() else dashboard.refresh(force=True)
            await done.wait()
            dashboard.refreshed.disconnect(done.set)
            reads.append(time.perf_counter() - t)
            await asyncio.sleep(0.2)

    import asyncio

    gaps.start()
    with loop:
        loop.run_until_complete(watch())
        gaps.stop()
        memory = rss_mb()
        rollup_rows = dashboard.rollup.rowCount()
        dashboard.shutdown()
        queue.shutdown()
        executor.shutdown()
    print(json.dumps({"jobs": rows, "enqueue_s": round(enqueue_s, 3), "reopen_s": round(reopen_s, 3),
                      "scroll_worst_ms": round(worst * 1000, 1), "rss_mb": round(queue_rss, 1),
                      "rss_growth_mb": round(queue_rss - base_rss, 1),
                      "dashboard_read_s": [round(r, 3) for r in reads], "dashboard_rollup_rows": rollup_rows,
                      "dashboard_ui_gap_ms": round(gaps.max * 1000, 1), "dashboard_rss_mb": round(memory, 1)}))
    return 0



if __name__ == "__main__":
    sys.exit(main())
