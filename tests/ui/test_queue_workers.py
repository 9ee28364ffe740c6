"""The window's executor: a worker that ran a job takes the next one submitted soon after, rather
than a worker being started per job (the window claims one job per worker, so its ready line is
empty between claims)."""

from __future__ import annotations

import threading

from lakegui.ui.queue import workers
from lakegui.ui.queue.workers import QtPoolExecutor


def test_a_worker_takes_the_next_job_submitted_soon_after_its_last(qtbot, monkeypatch):
    started = []

    class CountedWorker(workers._Worker):
        def __init__(self, line):
            super().__init__(line)
            started.append(self)

    monkeypatch.setattr(workers, "_Worker", CountedWorker)
    monkeypatch.setattr(workers, "LINGER", 5.0)  # a loaded machine must not let it end between the two
    ex = QtPoolExecutor(2)
    ends = []
    lock = threading.Lock()

    def done(running, outcome):
        with lock:
            ends.append(running)

    try:
        ex.submit("a", lambda r: r, done)
        qtbot.waitUntil(lambda: ends == ["a"] and ex._idle == 1)  # back in the line, waiting
        ex.submit("b", lambda r: r, done)
        qtbot.waitUntil(lambda: ends == ["a", "b"])
        assert len(started) == 1
    finally:
        ex.close()
    assert ex.pool.activeThreadCount() == 0  # close woke the waiting worker
