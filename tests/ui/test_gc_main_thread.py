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


def _generations_collected():
    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    return seen, record


def _run_until_oldest_due(collector, kept):
    """Keep objects alive and collect as the timer would, until the oldest generation is due."""
    for _ in range(400):
        kept.append([[] for _ in range(collector.threshold[0] + 50)])
        collector.collect_due()
        c0, c1, c2 = gc.get_count()
        if c2 > collector.threshold[2] and c1 > collector.threshold[1]:
            return True
    return False


def test_a_full_collection_waits_for_a_quarter_of_the_heap_to_be_new(qapp):
    # A full collection walks every object (hundreds of ms with a 10,000-row queue under load):
    # as CPython's own collector, it waits until what was promoted since the last is a quarter.
    kept = [[[] for _ in range(5000)]]  # a long-lived heap of its own: the suite freezes the session's
    gc.collect()
    collector = MainThreadCollector(qapp)
    collector.timer.stop()
    seen, record = _generations_collected()
    try:
        assert collector.long_lived > 1000
        collector.pending = 0
        assert _run_until_oldest_due(collector, kept)
        collector.collect_due()
        assert 2 not in seen and 1 in seen and collector.pending > 0
        collector.long_lived = 4 * collector.pending - 1  # now a quarter is new
        kept.append([[] for _ in range(collector.threshold[0] + 50)])
        collector.collect_due()
        assert seen[-1] == 2 and collector.pending == 0 and collector.long_lived > len(kept)
    finally:
        gc.callbacks.remove(record)
        collector.stop()
