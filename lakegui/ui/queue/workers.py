"""QThreadPool workers for the transfer queue.

A QRunnable cannot carry signals, so one QObject beside the workers carries them,
created and connected once on the main thread; workers emit from pool threads and
Qt delivers on the main thread. Each worker takes claimed jobs from the queue's
ready line until it is empty, so the main thread starts a worker only when the
pool has a free slot, not once per job: per-job calls into Qt from the main thread
contend with busy workers for the GIL and stalled the UI.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, Signal

from ...core.transfers.runner import run_one


class WorkerSignals(QObject):
    finished = Signal(int, object)  # job id, Outcome


class TransferWorker(QRunnable):
    """Runs jobs from `line` (a TransferQueue's ready line) until there are none."""

    def __init__(self, line, signals: WorkerSignals):
        super().__init__()
        self.setAutoDelete(True)
        self.line = line
        self.signals = signals

    def run(self) -> None:
        while (running := self.line.next_ready()) is not None:
            # The queue records the end on the main thread, batched with its next claim.
            outcome = run_one(self.line.store, self.line.engines, running, record=False)
            self.line.outcomes[running.job.id] = outcome
            self.signals.finished.emit(running.job.id, outcome)


class CallRunnable(QRunnable):
    """Runs one plain call on a pool thread (warming up clients and engines)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            self.fn()
        except Exception:  # a failure here shows again, with a message, when a job runs
            pass
