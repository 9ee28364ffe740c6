"""A folder of MANY keys moved in the real browser (Cut, then Paste in another folder), offscreen,
on a loopback SeaweedFS: is the window responsive while the move runs? (issue 20: no UI stall
over 50 ms while a 10,000-key move runs.)

    .venv/bin/python bench/gui_move.py --many 10000 --rounds 3

Each round lays out MANY keys of MANY-KB under a fresh folder (untimed), then times from Paste to
the batch's end (planning: the folder and the target listed; the jobs written; the moves run),
with a 5 ms timer on the UI thread recording its longest gap and every gap over 30 ms, and the
machine's load average at the round's end (the gaps are wall time: other work inflates them). Prints
one JSON line a round, and the medians.

`--trace` also times, on the UI thread, the queue service's turns (pump, flush, collect_ends,
sample, sync) and the store calls inside them (claim, finish_many, save_progress), and prints
each one's count, total and longest, and every call over 20 ms: where a gap comes from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.qtbench import GapTimer, app_and_loop  # noqa: E402
from bench.transfers import seaweedfs  # noqa: E402

BUCKET = "bench-gui-move"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--many", type=int, default=10000)
    p.add_argument("--many-kb", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--trace", action="store_true", help="time the queue's calls on the UI thread")
    p.add_argument("--switch-interval", type=float, default=0.0,
                   help="sys.setswitchinterval in ms for the run (Python's default is 5 ms)")
    args = p.parse_args()
    with seaweedfs("lakegui-bench-gui-move-") as (work, sw):
        os.environ.update(AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                          AWS_DEFAULT_REGION="us-east-1", LAKEGUI_CONFIG_DIR=str(work / "config"),
                          LAKEGUI_DATA_DIR=str(work / "data"), LAKEGUI_LOG_DIR=str(work / "log"))
        return run(args, sw)


def run(args, sw) -> int:
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval / 1000)
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.ui.browser.widget import PrefixBrowser
    from lakegui.ui.queue.controller import TransferQueue

    client = sw.client()
    client.create_bucket(Bucket=BUCKET)
    body = os.urandom(args.many_kb * 1024)
    conn = Connection(ConnectionProfile.from_options(endpoint_url=sw.endpoint_url, bucket=BUCKET))
    app, loop = app_and_loop()
    from lakegui.ui.gc_main_thread import MainThreadCollector

    collector = MainThreadCollector(app)  # as the app runs: the cyclic collector on the UI thread only
    executor = ThreadPoolExecutor(4)
    queue = TransferQueue(TransferSettings())
    queue.set_connection(conn)
    queue.pool.waitForDone()
    tracer = Tracer(queue.service) if args.trace else None
    queue.start()
    browser = PrefixBrowser(executor)
    browser.reorganiser.attach(queue)
    browser.resize(900, 700)
    browser.show()
    results = []

    async def listed(action) -> None:
        done = asyncio.get_event_loop().create_future()

        def on_finished(*_):
            if not done.done():
                done.set_result(None)

        browser.listing_finished.connect(on_finished)
        action()
        await done
        browser.listing_finished.disconnect(on_finished)

    async def one_round(n: int) -> dict:
        src = f"r{n}/src/"
        with ThreadPoolExecutor(16) as pool:  # laid out untimed
            list(pool.map(lambda i: client.put_object(Bucket=BUCKET, Key=f"{src}d{i % 10}/f{i:06d}.bin", Body=body),
                          range(args.many)))
        await listed(lambda: browser.navigate(f"r{n}/"))
        row = next(r for r in range(browser.model.rowCount()) if browser.model.entry(r).name(f"r{n}/") == "src/")
        browser.table.selectRow(row)
        browser.reorganiser.cut()
        await listed(lambda: browser.navigate(f"r{n}/moved/"))
        ended = asyncio.get_event_loop().create_future()

        def on_done(text: str) -> None:
            if text.startswith("Moved") and not ended.done():
                ended.set_result(text)

        def on_failed(text: str) -> None:
            if not ended.done():
                ended.set_result(text)

        browser.reorganiser.done.connect(on_done)
        browser.reorganiser.failed.connect(on_failed)
        gaps = GapTimer()
        if tracer:
            tracer.reset()
        gaps.start()
        start, cpu = time.perf_counter(), time.thread_time()
        browser.reorganiser.paste()
        text = await ended
        seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
        gaps.stop()
        browser.reorganiser.done.disconnect(on_done)
        browser.reorganiser.failed.disconnect(on_failed)
        moved = sum(k.get("KeyCount", 0) for k in client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"r{n}/moved/src/"))
        left = sum(k.get("KeyCount", 0) for k in client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=src))
        assert (moved, left) == (args.many, 0), (text, moved, left)
        result = {"round": n, "keys": args.many, "seconds": round(seconds, 2), "ui_thread_cpu_s": round(cpu, 2),
                  "max_gap_ms": round(gaps.max * 1000, 1), "gaps_over_50ms": sum(g > 50 for _, g in gaps.long),
                  "load": round(os.getloadavg()[0], 1), "gaps_over_30ms": gaps.long}
        if tracer:
            result["trace"] = tracer.report(gaps.start_time)
        return result

    async def all_rounds() -> None:
        await listed(lambda: browser.set_connection(conn))
        for n in range(args.rounds):
            result = await one_round(n)
            queue.clear()  # the next round's rows only
            print(json.dumps(result), flush=True)
            results.append(result)

    try:
        with loop:
            loop.run_until_complete(all_rounds())
    finally:
        browser.cancel()
        queue.shutdown()
        executor.shutdown()
        collector.stop()
    print(json.dumps({"median_seconds": statistics.median(r["seconds"] for r in results),
                      "median_max_gap_ms": statistics.median(r["max_gap_ms"] for r in results),
                      "worst_gap_ms": max(r["max_gap_ms"] for r in results)}))
    return 0


class Tracer:
    """Wall time of the queue service's calls made on the UI thread (calls from other threads,
    such as the executor's writes, are not counted)."""

    SERVICE = ("pump", "flush", "collect_ends", "sample", "sync", "write_ends")
    STORE = ("claim", "finish_many", "save_progress")

    def __init__(self, service):
        import threading

        self.main = threading.main_thread()
        self.calls: dict[str, list[float]] = {}
        self.slow: list[tuple[float, str, float]] = []
        for obj, names in ((service, self.SERVICE), (service._store, self.STORE)):
            for name in names:
                setattr(obj, name, self._timed(f"{type(obj).__name__}.{name}", getattr(obj, name)))

    def _timed(self, label, fn):
        import threading

        def timed(*a, **kw):
            if threading.current_thread() is not self.main:
                return fn(*a, **kw)
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                d = time.perf_counter() - t
                self.calls.setdefault(label, []).append(d)
                if d > 0.020:
                    self.slow.append((t, label, d))

        return timed

    def reset(self) -> None:
        self.calls, self.slow = {}, []

    def report(self, start: float) -> dict:
        return {"calls": {k: {"n": len(v), "total_ms": round(sum(v) * 1000), "max_ms": round(max(v) * 1000, 1)}
                          for k, v in sorted(self.calls.items())},
                "over_20ms": [(round(t - start, 2), label, round(d * 1000)) for t, label, d in self.slow]}


if __name__ == "__main__":
    sys.exit(main())
