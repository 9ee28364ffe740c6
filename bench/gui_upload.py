"""One upload through the GUI's transfer queue, offscreen, as a drop would start it.

Prints one JSON line: seconds from the drop to the queue going idle, the UI thread's CPU time
meanwhile (what the queue costs it, which load on the machine does not inflate the way it does
wall time), and the longest gap the UI thread had between two ticks of a 5 ms timer (a stall)."""

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
    from PySide6.QtWidgets import QWidget

    from bench.qtbench import GapTimer, app_and_loop, target
    from lakegui.core.settings import TransferSettings
    from lakegui.ui.queue.controller import TransferQueue
    from lakegui.ui.queue.transfer_actions import TransferActions

    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    args, conn = target(parser)
    app, loop = app_and_loop()
    executor = ThreadPoolExecutor(4)
    queue = TransferQueue(TransferSettings())
    queue.set_connection(conn)  # as the app does on connecting: clients and engine are prepared
    queue.pool.waitForDone()
    queue.start()
    parent = QWidget()
    actions = TransferActions(queue, executor, parent)
    gaps = GapTimer()

    async def run() -> dict:
        idle = asyncio.get_event_loop().create_future()
        queue.idle.connect(lambda: idle.done() or idle.set_result(True))
        gaps.start()
        start, cpu = time.perf_counter(), time.thread_time()
        await actions.upload(conn, args.bucket, args.prefix, [args.source], keep_folder_name=False)
        await idle
        seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
        gaps.stop()
        states = {queue.model.row(i).state for i in range(queue.model.rowCount())}
        return {"seconds": round(seconds, 3), "ui_thread_cpu_s": round(cpu, 3),
                "max_gap_ms": round(gaps.max * 1000, 1),
                "gaps_over_30ms": gaps.long,
                "jobs": queue.model.rowCount(), "states": sorted(states),
                "engine": next(iter(queue.service.engines.engine_names()), None)}

    try:
        with loop:
            result = loop.run_until_complete(run())
    finally:
        queue.shutdown()
        executor.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
