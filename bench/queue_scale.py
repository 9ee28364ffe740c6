"""The durable queue at backfill scale: enqueue 75,000 jobs, reopen them in the GUI's queue,
scroll the view, and the process's memory. Prints one JSON line."""

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

    from PySide6.QtWidgets import QApplication

    from bench.qtbench import rss_mb

    from lakegui.core.transfers.jobs import Direction, JobState
    from lakegui.core.transfers.store import JobStore, NewJob
    from lakegui.ui.queue.controller import TransferQueue
    from lakegui.ui.queue.view import TransferQueueView

    app = QApplication([sys.argv[0]])
    base_rss = rss_mb()
    # The seeds' backfill: 5,000 symbols x 15 years of daily ticks.
    jobs = [NewJob(Direction.UPLOAD, "us-equity-datalake", f"data/ticks/daily/S{i // 15:04d}/{2010 + i % 15}/ticks.parquet",
                   f"/backfill/S{i // 15:04d}_{2010 + i % 15}.parquet", size=250_000,
                   metadata={"symbol": f"S{i // 15:04d}", "year": str(2010 + i % 15), "data-type": "daily-ticks"})
            for i in range(args.jobs)]
    store = JobStore(args.queue)
    start = time.perf_counter()
    batch = store.create_batch("backfill", "upload", {"endpoint_url": "http://127.0.0.1:1"}, runner="gui")
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
    memory = rss_mb()
    queue.shutdown()
    print(json.dumps({"jobs": rows, "enqueue_s": round(enqueue_s, 3), "reopen_s": round(reopen_s, 3),
                      "scroll_worst_ms": round(worst * 1000, 1), "rss_mb": round(memory, 1),
                      "rss_growth_mb": round(memory - base_rss, 1)}))
    return 0



if __name__ == "__main__":
    sys.exit(main())
