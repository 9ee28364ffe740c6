"""The window's queue keeps SQLite off the UI thread while jobs run (issue 20: no UI stall over
50 ms during a 10,000-key move): claims for freed slots and the writes of job ends run on the
queue's store thread, and ends arriving together are taken a slice per turn of the event loop
and announced in one jobs_finished call (every call between Qt and Python waits for the GIL
behind the workers)."""

from __future__ import annotations

import threading

from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.jobs import Direction, JobState
from lakegui.core.transfers.store import NewJob
from lakegui.ui.queue.controller import TransferQueue

from .test_queue_writes import HeldExecutor


def test_claims_and_writes_run_off_the_ui_thread_and_ends_come_in_slices(qtbot, qloop):
    q = TransferQueue(TransferSettings(concurrent_files=40))
    held = q.service.executor = HeldExecutor()
    calls = []  # (store call, made on the UI thread)
    store = q.service._store
    for name in ("claim", "finish_many"):
        def recorded(*args, _real=getattr(store, name), _name=name, **kwargs):
            calls.append((_name, threading.current_thread() is threading.main_thread()))
            return _real(*args, **kwargs)

        setattr(store, name, recorded)
    taken = []
    real_collect = q.service.collect_ends

    def collect(limit=None):
        ends = real_collect(limit)
        taken.append(len(ends))
        return ends

    q.service.collect_ends = collect
    announced = []  # the lists of jobs_finished: one call for the ends of a turn
    q.jobs_finished.connect(announced.append)
    try:
        q.start()
        batch = q.enqueue("b", "upload", {}, [NewJob(Direction.UPLOAD, "bkt", f"k/{i}", f"/data/{i}", size=10)
                                              for i in range(80)])
        assert len(held.held) == 40  # the batch's first claim
        calls.clear()
        ending = threading.Thread(target=lambda: [held.end(i) for i in sorted(held.held)])
        ending.start()  # 40 ends at once, from a worker's thread
        ending.join()
        qtbot.waitUntil(lambda: q.service.counts(batch).get(str(JobState.DONE), (0, 0))[0] == 40, timeout=5000)
        qtbot.waitUntil(lambda: len(held.held) == 40, timeout=5000)  # the freed slots claimed again
        assert sum(taken) == 40 and max(taken) == q.ENDS_PER_TURN < 40
        assert sorted(job_id for ends in announced for job_id, _ in ends) == sorted(range(1, 41))
        assert [len(ends) for ends in announced] == [n for n in taken if n]
        assert {name for name, _ in calls} == {"claim", "finish_many"}
        assert not [name for name, on_ui in calls if on_ui]
    finally:
        q.shutdown()
