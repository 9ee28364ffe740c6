"""QThreadPool workers: a QRunnable runs one job; a QObject beside it carries its signals
(a QRunnable cannot), emitted from the pool thread and delivered on the main thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, Signal

from ..core.transfers.jobs import JobState, Outcome
from ..core.transfers.runner import EnginePool, RunningJob, run_one
from ..core.transfers.store import JobStore


class WorkerSignals(QObject):
    finished = Signal(int, object)  # job id, Outcome


class TransferWorker(QRunnable):
    """Runs one claimed job through the engine; the store records its end before `finished`."""

    def __init__(self, store: JobStore, engines: EnginePool, running: RunningJob):
        super().__init__()
        self.setAutoDelete(False)  # the queue holds a reference until `finished` arrives
        self.store = store
        self.engines = engines
        self.running = running
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            outcome = run_one(self.store, self.engines, self.running)
        except Exception as exc:  # the store itself failed; the job must still end
            outcome = Outcome(JobState.FAILED, f"The queue could not record this job: {exc}")
        self.signals.finished.emit(self.running.job.id, outcome)
