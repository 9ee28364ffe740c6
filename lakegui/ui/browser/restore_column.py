"""The browser's Restore column: the restore state of archived objects, HEADed lazily.

The listing names each object's storage class but not its restore state (only HEAD's
x-amz-restore does), and a HEAD per row would cost a request per key of a 100,000-key folder.
So only objects listed as GLACIER or DEEP_ARCHIVE are asked about, and only once their rows are
on screen; the answers are kept until the folder is listed again. The column shows only while
the folder holds an archived object."""

from __future__ import annotations

from concurrent.futures import Executor, Future

from PySide6.QtCore import QObject, QTimer, Signal

from ...core.listing import ObjectEntry
from ...core.tagging import ARCHIVED, RestoreState, restore_state

PENDING = object()  # a HEAD in flight
SCAN_DELAY_MS = 80  # after a scroll or an insertion: one scan for a burst of them
HEADS_AT_ONCE = 8  # keys a pool job HEADs in turn (the pool runs a few jobs at once)


def short_text(state: RestoreState) -> str:
    if not state.requested:
        return "not restored"
    if state.ongoing:
        return "in progress"
    return f"until {state.expiry:%Y-%m-%d}" if state.expiry else "restored"


class RestoreColumn(QObject):
    # From pool threads: (generation, {key: RestoreState | None}); Qt queues it onto the UI thread.
    # Plain pool jobs rather than asyncio tasks: a HEAD in flight when the window closes is simply dropped.
    _answered = Signal(int, object)

    def __init__(self, browser, executor: Executor, column: int, parent=None):
        super().__init__(parent or browser)
        self.browser = browser
        self.model = browser.model
        self.table = browser.table
        self.executor = executor
        self.column = column
        self._states: dict[str, object] = {}  # key -> RestoreState | PENDING
        self._generation = 0
        self._jobs: set[Future] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SCAN_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._answered.connect(self._on_answered)
        self.model.modelReset.connect(self._on_model_reset)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.layoutChanged.connect(self.schedule)
        self.table.verticalScrollBar().valueChanged.connect(self.schedule)
        self.model.restore_text = self.text  # what the model shows in the column
        self.table.setColumnHidden(column, True)

    def text(self, entry) -> str:
        if entry.storage_class not in ARCHIVED:
            return ""
        state = self._states.get(entry.key)
        if state is None or state is PENDING:
            return "…"
        return short_text(state)

    def state(self, key: str) -> RestoreState | None:
        state = self._states.get(key)
        return state if isinstance(state, RestoreState) else None

    @property
    def busy(self) -> bool:
        return bool(self._jobs) or self._timer.isActive()

    def forget(self, keys) -> None:
        """Ask again about `keys` (after a restore request), when they are on screen.

        A HEAD sent before the request may still be on its way with the old state; had it landed
        after the keys were forgotten it would stay for good, so answers in flight are dropped and
        the keys they were asking about are asked again too."""
        self._drop()
        for key in [k for k, state in self._states.items() if state is PENDING] + list(keys):
            self._states.pop(key, None)
        self.schedule()

    def schedule(self, *_) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._drop()

    def _drop(self) -> None:
        self._generation += 1  # answers still on their way are dropped
        for job in list(self._jobs):
            job.cancel()

    def _on_model_reset(self) -> None:
        self._drop()
        self._states.clear()
        self.table.setColumnHidden(self.column, True)  # until an archived object is listed: no empty column

    def _on_rows_inserted(self, _parent, first: int, last: int) -> None:
        if self.table.isColumnHidden(self.column) and any(
                getattr(self.model.entry(row), "storage_class", "") in ARCHIVED for row in range(first, last + 1)):
            self.table.setColumnHidden(self.column, False)
        self.schedule()

    def _visible_rows(self) -> range:
        n = self.model.rowCount()
        if not n:
            return range(0)
        top = max(self.table.rowAt(0), 0)
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        return range(top, (n - 1 if bottom < 0 else bottom) + 1)

    def _on_timer_timeout(self) -> None:
        connection, bucket = self.browser.connection, self.browser.bucket
        if connection is None or not bucket:
            return
        keys = []
        for row in self._visible_rows():
            entry = self.model.entry(row)
            if isinstance(entry, ObjectEntry) and entry.storage_class in ARCHIVED and entry.key not in self._states:
                self._states[entry.key] = PENDING
                keys.append(entry.key)
        for i in range(0, len(keys), HEADS_AT_ONCE):
            job = self.executor.submit(self._head, connection, bucket, keys[i:i + HEADS_AT_ONCE], self._generation)
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    def _head(self, connection, bucket: str, keys: list[str], generation: int) -> None:
        """On a pool thread: HEAD each key; a failure leaves it to be asked again when next shown."""
        client = connection.client()
        answers = {}
        for key in keys:
            if generation != self._generation:
                return
            try:
                answers[key] = restore_state(client, bucket, key)[1]
            except Exception:
                answers[key] = None
        try:
            self._answered.emit(generation, answers)
        except RuntimeError:  # the window is gone
            pass

    def _on_answered(self, generation: int, answers: dict) -> None:
        if generation != self._generation:
            return
        for key, state in answers.items():
            if state is None:
                self._states.pop(key, None)
            else:
                self._states[key] = state
        rows = self._visible_rows()
        if rows:
            self.model.dataChanged.emit(self.model.index(rows.start, self.column),
                                        self.model.index(rows.stop - 1, self.column))
