"""The window's queue writes job ends in batches: a transaction per turn of the event loop stalled
the UI thread 20-70 ms at a time during a 10,000-key move under load, while freed slots are still
claimed at once (workers never wait) and every end is written soon after."""

from __future__ import annotations

from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.jobs import Direction, JobState, Outcome
from lakegui.core.transfers.store import NewJob
from lakegui.ui.queue.controller import TransferQueue


class HeldExecutor:
    """Keeps submitted jobs until the test ends them, as the pool's workers would."""

    def __init__(self):
        self.held = {}

    def submit(self, running, work, done):
        self.held[running.job.id] = (running, done)

    def end(self, job_id):
        running, done = self.held.pop(job_id)
        done(running, Outcome(JobState.DONE, bytes_done=running.job.size))

    def set_workers(self, n):
        pass

    def close(self, timeout=None):
        self.held.clear()


def test_ends_share_a_write_while_freed_slots_are_claimed_at_once(qtbot, qloop):
    q = TransferQueue(TransferSettings(concurrent_files=2))
    held = q.service.executor = HeldExecutor()
    q.WRITE_EVERY = 1.0  # wide enough that a loaded machine cannot split the ends below
    writes = []
    real_write = q.service.write_ends
    q.service.write_ends = lambda: (writes.append(len(q.service._ends)), real_write())
    try:
        q.start()
        jobs = [NewJob(Direction.UPLOAD, "bkt", f"k/{i}", f"/data/{i}", size=10) for i in range(6)]
        batch = q.enqueue("b", "upload", {}, jobs)
        first, second = sorted(held.held)[:2]
        writes.clear()

        def done_in_store():
            return q.service.counts(batch).get("done", (0, 0))[0]

        held.end(first)
        qtbot.waitUntil(lambda: len(held.held) == 2 and done_in_store() == 1)  # written at once: none for 1 s
        held.end(second)
        qtbot.waitUntil(lambda: len(held.held) == 2)  # its slot claimed again in the next turn...
        assert q.row_for(second).state == "done" and done_in_store() == 1  # ...its end not yet written
        for job_id in sorted(held.held):
            held.end(job_id)
        qtbot.waitUntil(lambda: len(held.held) == 2)
        assert done_in_store() == 1
        qtbot.waitUntil(lambda: done_in_store() == 4, timeout=5000)  # all three in one write, soon after
        assert [n for n in writes if n] == [1, 3]
    finally:
        q.shutdown()
    assert not q.write_timer.isActive()
