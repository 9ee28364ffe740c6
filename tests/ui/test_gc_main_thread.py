"""The GUI's garbage collection runs on its own thread only: pyqtgraph's items live in reference
cycles, and freeing them on a worker thread started Qt timers there (warnings, once a crash)."""

from __future__ import annotations

import gc
import threading

from lakegui.core.gcpause import gc_paused
from lakegui.ui.gc_main_thread import MainThreadCollector


class Cycle:
    def __init__(self):
        self.me = self


def _collections_by_thread():
    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append(threading.current_thread().name)

    gc.callbacks.append(record)
    return seen, record


def test_worker_threads_never_collect_and_the_gui_thread_does(qapp):
    was = gc.isenabled()
    collector = MainThreadCollector(qapp)
    seen, record = _collections_by_thread()
    try:
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(200_000)], name="worker")
        worker.start()
        worker.join()
        assert "worker" not in seen and not gc.isenabled()
        assert gc.get_count()[0] > collector.threshold[0]
        collector.collect_due()
        assert seen and set(seen) == {threading.current_thread().name}
    finally:
        gc.callbacks.remove(record)
        collector.stop()
    assert gc.isenabled() == was and not collector.timer.isActive()


def test_a_listing_in_progress_holds_collection_off(qapp):
    collector = MainThreadCollector(qapp)
    try:
        garbage = [Cycle() for _ in range(50_000)]
        del garbage
        with gc_paused():
            assert collector.collect_due() == 0
        assert gc.get_count()[0] < collector.threshold[0]  # filed with the oldest generation on resume
    finally:
        collector.stop()
