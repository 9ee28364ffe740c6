"""The window's executor for the queue service: QThreadPool workers move the bytes.

Claimed jobs wait in a ready line; each worker takes jobs from it until it is empty, so the
main thread starts a worker only when the pool has a free slot, not once per job: per-job
calls into Qt from the main thread contend with busy workers for the GIL and stalled the UI.
Workers start a few per turn of the event loop: each new thread wants the GIL at once, and
starting 32 in one go stalled the UI for 70 ms. Ends go straight to the service's `done`
callback (it wakes the main thread itself).
"""

from __future__ import annotations

import collections
import threading
import time

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer

WORKERS_PER_TURN = 4  # workers started per turn of the event loop
# Seconds a worker waits for the next job before it ends: the window claims one job per worker, so
# the line is empty between claims, and a worker started per job (a QRunnable and a thread that
# wants the GIL) cost the UI thread 0.3-0.4 ms a job during a 10,000-key move.
LINGER = 0.05


class QtPoolExecutor(QObject):
    """A JobExecutor (core/transfers/service.py) over a QThreadPool; lives on the main thread."""

    def __init__(self, workers: int, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, workers))
        self._limit = max(1, workers)
        self._ready: collections.deque = collections.deque()  # (running, work, done)
        self._lock = threading.Lock()
        self._job_ready = threading.Condition(self._lock)
        self._alive = 0
        self._idle = 0  # alive workers waiting for a job (they take the next one; none need start)
        self._starting = 0  # workers started that have not asked for their first job yet
        self._started_in_turn = 0  # workers started since the event loop last turned
        self._turn_scheduled = False
        self._closing = False

    def submit(self, running, work, done) -> None:
        with self._lock:
            self._ready.append((running, work, done))
            self._job_ready.notify()
        self._start_workers()

    def set_workers(self, n: int) -> None:
        self._limit = max(1, n)
        self.pool.setMaxThreadCount(self._limit)
        self._start_workers()

    def call(self, fn) -> None:
        """Run one plain call on a pool thread (warming up clients and engines)."""
        if not self._closing:
            self.pool.start(CallRunnable(fn))

    def _start_workers(self) -> None:
        """Start workers for the ready line: at once, but at most WORKERS_PER_TURN in one turn of
        the event loop; the rest on the next turns. Workers alive take new jobs themselves."""
        if self._closing:
            return
        with self._lock:
            # Every worker runs one job at a time, so workers alive <= the limit bounds the jobs.
            # Workers started but not yet at the line will take jobs too: counting them keeps the
            # next turn from starting a second worker for a job the first is about to take.
            wanted = min(self._limit - self._alive, len(self._ready) - self._idle - self._starting)
            start = max(0, min(wanted, WORKERS_PER_TURN - self._started_in_turn))
            self._alive += start
            self._starting += start
            self._started_in_turn += start
        for _ in range(start):
            self.pool.start(_Worker(self))
        if (start or wanted > start) and not self._turn_scheduled:
            self._turn_scheduled = True
            QTimer.singleShot(0, self._next_turn)

    def _next_turn(self) -> None:
        self._turn_scheduled = False
        self._started_in_turn = 0
        self._start_workers()

    def next_ready(self, first: bool = False):
        """For workers (any thread): the next job, or None, and then the worker ends. `first`:
        the worker's first call, once it has started."""
        with self._lock:
            if first:
                self._starting -= 1
            until = time.monotonic() + LINGER
            while not self._closing:
                if self._ready:
                    return self._ready.popleft()
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._idle += 1
                self._job_ready.wait(left)
                self._idle -= 1
            self._alive -= 1
            return None

    def close(self, timeout: float | None = None) -> None:
        """Start nothing more (jobs in the ready line stay claimed; the service hands them back)
        and wait for the running ones."""
        self._closing = True
        with self._lock:
            self._ready.clear()
            self._job_ready.notify_all()
        self.pool.waitForDone(-1 if timeout is None else int(timeout * 1000))


class _Worker(QRunnable):
    def __init__(self, line: QtPoolExecutor):
        super().__init__()
        self.setAutoDelete(True)
        self.line = line

    def run(self) -> None:
        item = self.line.next_ready(first=True)
        while item is not None:
            running, work, done = item
            done(running, work(running))
            item = self.line.next_ready()


class CallRunnable(QRunnable):
    """Runs one plain call on a pool thread."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            self.fn()
        except Exception:  # a failure here shows again, with a message, when a job runs
            pass
