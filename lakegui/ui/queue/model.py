"""The transfer queue's item model: one row per job, updated in place by the queue controller."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, Qt

from ...core.transfers.jobs import Job, display_name
from ...core.units import human_duration, human_size
from ..resources import icon
from ..table_model import ColumnTableModel

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 10
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 11


@dataclass(slots=True)
class JobRow:
    """What the queue view shows of one job; bytes are plain Python ints (no 32-bit overflow)."""

    name: str
    direction: str  # "upload" or "download"
    state: str
    bytes_done: int = 0
    bytes_total: int = 0
    speed: float = 0.0  # bytes per second, rolling average
    error: str = ""
    job_id: int = 0
    uri: str = ""
    local_path: str = ""
    attempts: int = 0
    samples: collections.deque | None = field(default=None, repr=False)  # made when the job first runs

    @classmethod
    def from_job(cls, job: Job) -> "JobRow":
        return cls(job.name, str(job.direction), str(job.state), job.bytes_done, job.size, error=job.error,
                   job_id=job.id, uri=job.uri, local_path=job.local_path, attempts=job.attempts)

    @classmethod
    def from_view_row(cls, r: tuple) -> "JobRow":
        """From JobStore.view_rows(): the fast path for reopening a large queue."""
        job_id, direction, bucket, key, local_path, size, state, bytes_done, error, attempts = r
        return cls(display_name(direction, key, local_path), direction, state, bytes_done, size, 0.0, error, job_id, f"s3://{bucket}/{key}", local_path,
                   attempts)

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0

    @property
    def eta(self) -> float | None:
        if self.speed <= 0 or self.state != "running":
            return None
        return max(0, self.bytes_total - self.bytes_done) / self.speed

    def sample(self, now: float, done: int) -> None:
        """Take a progress reading; speed is the average over the last few seconds."""
        self.bytes_done = done
        if self.samples is None:
            self.samples = collections.deque(maxlen=30)
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > 3.0:
            self.samples.popleft()
        t0, b0 = self.samples[0]
        self.speed = (done - b0) / (now - t0) if now - t0 > 0.2 else self.speed


_STATE_TEXT = {"queued": "Queued", "running": "Running", "paused": "Paused", "done": "Done", "failed": "Failed",
               "cancelled": "Cancelled", "skipped": "Skipped"}


class TransferTableModel(ColumnTableModel):
    COLUMNS = ("Name", "Direction", "Size", "Progress", "Speed", "ETA", "State")
    PROGRESS_COLUMN = 3

    def __init__(self, parent=None):
        super().__init__(parent)
        self._index: dict[int, int] = {}  # job id -> row

    def row(self, i: int) -> JobRow:
        return self._rows[i]

    def row_for(self, job_id: int) -> JobRow | None:
        i = self._index.get(job_id)
        return self._rows[i] if i is not None else None

    def append_rows(self, rows: list) -> int:
        first = len(self._rows)
        n = super().append_rows(rows)
        for i, r in enumerate(rows, first):
            self._index[r.job_id] = i
        return n

    def set_rows(self, rows: list[JobRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._index = {r.job_id: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def remove_ids(self, ids) -> None:
        ids = set(ids)
        if ids:
            self.set_rows([r for r in self._rows if r.job_id not in ids])

    def rows_changed(self, job_ids) -> None:
        """Repaint the rows of these jobs (their JobRow objects were changed in place)."""
        rows = sorted(self._index[j] for j in job_ids if j in self._index)
        if rows:
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], len(self.COLUMNS) - 1))

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.name
            if col == 1:
                return "Upload" if r.direction == "upload" else "Download"
            if col == 2:
                return human_size(r.bytes_total)
            if col == 3:
                return f"{r.fraction:.0%}"
            if col == 4:
                return f"{human_size(r.speed)}/s" if r.speed and r.state == "running" else ""
            if col == 5:
                return human_duration(r.eta)
            if col == 6:
                text = _STATE_TEXT.get(r.state, r.state)
                return f"{text}: {r.error}" if r.error and r.state in ("failed", "skipped") else text
        elif role == Qt.ItemDataRole.DecorationRole and col == 1:
            return icon("upload" if r.direction == "upload" else "download")
        elif role == Qt.ItemDataRole.ToolTipRole:
            lines = [r.uri, r.local_path]
            if r.error:
                lines.append(r.error)
            if r.attempts > 1:
                lines.append(f"{r.attempts} attempts")
            return "\n".join(lines)
        elif role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == FRACTION_ROLE or (role == Qt.ItemDataRole.UserRole and col == self.PROGRESS_COLUMN):
            return r.fraction
        elif role == JOB_ID_ROLE:
            return r.job_id
        return None

