"""Progress arithmetic every view of transfers shares: the totals of a set of jobs, a rolling
speed, an ETA by bytes, and a batch's (a backfill's) progress.

The CLI's terminal line, the queue's header and rows, the backfill dashboard, the notifier and
`lakegui-cli backfill status` all count with these, so they agree.

"Bytes done" has one meaning everywhere: bytes that are in their place. For a batch that is
the size of its done jobs, plus its skipped jobs (their targets already hold the same
content, so nothing is left to send for them), plus what running jobs have moved so far.
Failed and cancelled jobs count in the total and not as done: their files are not in place.
The queue's header leaves cancelled jobs out of its totals (the user asked them not to run).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from .jobs import FINISHED, JobState

FINISHED_STATES = frozenset(str(s) for s in FINISHED)
UNFINISHED_STATES = frozenset(str(s) for s in JobState) - FINISHED_STATES


@dataclass(frozen=True)
class Totals:
    """What the queue's header says about every job it shows."""

    files_done: int = 0  # done or skipped
    files_total: int = 0  # all but cancelled
    failed: int = 0
    running: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    speed: float = 0.0
    eta: float | None = None
    paused: int = 0  # jobs paused: all that is left, and the header says the queue is paused
    held: bool = False  # paused as a whole: jobs added now wait too (QueueService.pause of all)


class Counts(NamedTuple):
    files_done: int  # done or skipped
    files_total: int  # not cancelled
    failed: int
    bytes_done: int  # of done jobs, and what paused or queued ones kept of an interrupted run
    bytes_total: int  # of jobs neither cancelled nor skipped
    bytes_left: int  # of jobs not finished
    paused: int = 0  # jobs


def count_rows(rows: Iterable) -> Counts:
    """Counts of rows with `state` and `bytes_total` (the queue's view rows), one pass."""
    files_done = files_total = failed = bytes_done = bytes_total = left = paused = 0
    for r in rows:
        state = r.state
        if state == "cancelled":
            continue
        files_total += 1
        if state == "skipped":
            files_done += 1
            continue
        bytes_total += r.bytes_total
        if state == "done":
            files_done += 1
            bytes_done += r.bytes_total
        elif state == "failed":
            failed += 1
        elif state not in FINISHED_STATES:
            left += r.bytes_total
            paused += state == "paused"
            if state != "running":  # a paused or queued job's kept bytes are in place (issue 19);
                bytes_done += r.bytes_done  # a running one's come from its counter (in_flight)
                left -= r.bytes_done
    return Counts(files_done, files_total, failed, bytes_done, bytes_total, left, paused)


def eta(bytes_left: int, speed: float) -> float | None:
    """Seconds until `bytes_left` are moved at `speed` bytes a second; None when unknown."""
    if speed <= 0:
        return None
    return max(0, bytes_left) / speed


class RateMeter:
    """Bytes per second over the last `window` seconds of (time, bytes moved) readings.

    Until the readings span `min_span` seconds the previous speed stands (0 at first), so a
    reading taken just after another does not make the speed jump. Bytes that go down (a job
    retried from zero, another batch chosen) start the meter over.
    """

    __slots__ = ("window", "min_span", "_samples", "speed")

    def __init__(self, window: float = 5.0, min_span: float = 0.3, maxlen: int = 60):
        self.window = window
        self.min_span = min_span
        self._samples: collections.deque = collections.deque(maxlen=maxlen)
        self.speed = 0.0

    def add(self, now: float, moved: int) -> float:
        """Take a reading; returns the speed."""
        s = self._samples
        if s and moved < s[-1][1]:
            s.clear()
            self.speed = 0.0
        s.append((now, moved))
        while len(s) > 2 and now - s[0][0] > self.window:
            s.popleft()
        t0, b0 = s[0]
        if now - t0 > self.min_span:
            self.speed = (moved - b0) / (now - t0)
        return self.speed

    def reset(self) -> None:
        self._samples.clear()
        self.speed = 0.0


@dataclass(frozen=True)
class BatchProgress:
    """How one batch (a backfill, an upload) is doing, from the queue's counts."""

    batch_id: int
    name: str
    kind: str
    created: float
    states: dict = field(default_factory=dict)  # {state: (jobs, bytes)}
    in_flight: int = 0  # bytes running jobs have moved

    @classmethod
    def of(cls, batch, states: dict, in_flight: int = 0) -> "BatchProgress":
        return cls(batch.id, batch.name, batch.kind, batch.created, dict(states), in_flight)

    def jobs(self, state: str) -> int:
        return self.states.get(state, (0, 0))[0]

    @property
    def files(self) -> int:
        return sum(n for n, _ in self.states.values())

    @property
    def done(self) -> int:
        return self.jobs("done")

    @property
    def skipped(self) -> int:
        return self.jobs("skipped")

    @property
    def failed(self) -> int:
        return self.jobs("failed")

    @property
    def finished(self) -> int:
        """Jobs that ended: done, skipped or failed (cancelled ones are left out, as the user asked)."""
        return self.done + self.skipped + self.failed

    @property
    def unfinished(self) -> int:
        """Jobs still to run: queued, running or paused."""
        return sum(self.jobs(s) for s in UNFINISHED_STATES)

    @property
    def bytes_total(self) -> int:
        return sum(b for _, b in self.states.values())

    @property
    def bytes_skipped(self) -> int:
        return self.states.get("skipped", (0, 0))[1]

    @property
    def bytes_done(self) -> int:
        """Bytes in place: done and skipped jobs' sizes plus what running jobs moved."""
        return self.states.get("done", (0, 0))[1] + self.bytes_skipped + self.in_flight

    @property
    def bytes_left(self) -> int:
        return max(0, self.bytes_total - self.bytes_done)

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 1.0

    def to_json(self) -> dict:
        """What `lakegui-cli backfill status --json` says of one backfill."""
        files = {str(s): self.jobs(str(s)) for s in JobState}
        files["total"] = self.files
        return {"name": self.name, "batch": self.batch_id, "created": self.created, "files": files,
                "bytes": {"total": self.bytes_total, "done": self.bytes_done, "skipped": self.bytes_skipped}}
