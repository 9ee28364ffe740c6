"""The backfill dashboard: a backfill's files and bytes, throughput over time and an ETA by
bytes, progress rolled up by a template field, its failures (retry them all), and its manifest.

It asks the queue service, which reads the shared queue database, so a backfill the CLI runs in
another process shows here live. The window's own jobs are followed by the queue's events (a job
ended, a batch was added, the queue went idle): the counts are read again at most EVENT_MS after
one, so the dashboard agrees with the status bar. A once-a-second poll picks up other processes'
changes. The aggregate queries run in the executor, and only when the queue changed. Progress is counted by core (core/transfers/progress.py): skipped
files are already in the lake and count as done, in files and in bytes.

A finished backfill's records stay in the queue database (the queue's "Remove finished" only
hides them) until "Remove backfill…" here clears them, so its manifest can still be exported.
"""

from __future__ import annotations

import asyncio
import collections
import time
from concurrent.futures import Executor
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import backfill
from ...core.preview.ohlcv import ChartColumns, Series
from ...core.rollback import rollback_record
from ...core.transfers import progress
from ...core.transfers.jobs import BACKFILL, JobState
from ...core.transfers.progress import RateMeter
from ...core.units import counted, human_duration, human_size
from ..placement import place_on_first_show
from ..preview.chart import ChartCanvas
from ..start_folder import ask_save_path
from ..tasks import TaskSlot, in_executor
from .cluster_panel import ClusterPanel
from .models import FailuresModel, RollupModel
from .rollback import BackfillRollback

REFRESH_MS = 1000
EVENT_MS = 150  # after a queue event: long enough for the ends of one turn to be written together
EMPTY_TEXT = ("No backfills in the queue. Start one with Transfers › New backfill… (Ctrl+B), "
              "or with lakegui-cli backfill.")
_THROUGHPUT = ChartColumns(time="time", close="throughput (MB/s)")


class BackfillDashboard(QWidget):
    refreshed = Signal()
    manifest_written = Signal(str)
    removed = Signal(int)  # batch id whose records were cleared

    def __init__(self, transfers, executor: Executor, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("backfillDashboard")
        self.setWindowTitle("Backfills — lakegui")
        self.transfers = transfers
        self._executor = executor
        self._slot = TaskSlot("backfill dashboard")
        self._export_slot = TaskSlot("manifest export")
        self._version = -1
        self._samples: collections.deque = collections.deque(maxlen=600)  # (time, bytes done), for the chart
        self._meter = RateMeter(window=10.0, min_span=0.0, maxlen=600)
        self._progress = None  # the chosen backfill's BatchProgress, as last read
        self.choose_manifest_path = self._ask_manifest_path  # replaceable in tests
        self.confirm_remove: Callable[[str], bool] = self._ask_remove  # replaceable in tests

        self.batch_box = QComboBox(self)
        self.batch_box.setObjectName("backfillChooser")
        self.batch_box.setAccessibleName("Backfill")
        self.batch_box.currentIndexChanged.connect(self._on_batch_box_changed)
        self.summary = QLabel(EMPTY_TEXT, self)
        self.summary.setObjectName("backfillSummary")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("backfillBytes")
        self.bar.setAccessibleName("Bytes done")
        self.bar.setRange(0, 1000)
        self.chart = ChartCanvas(self)
        self.chart.setAccessibleName("Throughput over time")
        self.chart.setMinimumHeight(120)
        self.chart.empty_text = "Throughput (MB/s) shows here while the backfill runs"
        # A rate is never negative, and its axis needs no "(x0.001)": a finished backfill's flat 0
        # ran -400…400 with the label clipped to "(MB/s) (x0.0" (trial C 10).
        self.chart.price.getAxis("left").enableAutoSIPrefix(False)
        self.chart.price.setLimits(yMin=0)
        # Until there are two readings (a rate) the plot stays hidden: bare axes say nothing.
        self.chart_placeholder = QLabel(self.chart.empty_text, self)
        self.chart_placeholder.setObjectName("throughputPlaceholder")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_placeholder.setMinimumHeight(120)
        self.chart.hide()
        self.field_box = QComboBox(self)
        self.field_box.setObjectName("rollupField")
        self.field_box.setAccessibleName("Roll up by")
        self.field_box.currentIndexChanged.connect(lambda _i: self.refresh(force=True))
        self.rollup = RollupModel(self)
        self.rollup_view = QTableView(self)
        self.rollup_view.setObjectName("rollupTable")
        self.rollup_view.setAccessibleName("Progress by field")
        self.rollup_view.setModel(self.rollup)
        self.failures = FailuresModel(self)
        self.failures_view = QTableView(self)
        self.failures_view.setObjectName("failuresTable")
        self.failures_view.setAccessibleName("Failures")
        self.failures_view.setModel(self.failures)
        self.failures_view.setWordWrap(False)
        self.failures_view.verticalHeader().hide()
        self.failures_view.setColumnWidth(0, 260)
        self.failures_view.setColumnWidth(1, 260)
        self.rollup_view.setWordWrap(False)
        self.rollup_view.verticalHeader().hide()
        self.rollup_view.horizontalHeader().setDefaultSectionSize(70)
        self.retry_button = QPushButton("Retry all failed", self)
        self.retry_button.setObjectName("retryFailed")
        self.retry_button.clicked.connect(self.retry_failed)
        self.retry_note = QLabel(self)  # what the last retry left, and why
        self.retry_note.setObjectName("retryLeft")
        self.retry_note.setWordWrap(True)
        self.retry_note.hide()
        self.export_button = QPushButton("Export manifest…", self)
        self.export_button.setObjectName("exportManifest")
        self.export_button.setToolTip("Key, size, ETag, state, attempts and error of every file, as CSV or JSON")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.export_button.setEnabled(False)  # until there is a backfill to export
        self.remove_button = QPushButton("Remove backfill…", self)
        self.remove_button.setObjectName("removeBackfill")
        self.remove_button.setToolTip("Clear a finished backfill's records from the queue (its manifest goes too)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.rollback = BackfillRollback(transfers.service, executor, self)  # Roll back… (rollback.py)
        self.rollback.failed.connect(self._on_rollback_failed)
        self.rollback_button = QPushButton("Roll back…", self)
        self.rollback_button.setObjectName("rollbackBackfill")
        self.rollback_button.setToolTip("Undo a finished backfill on a versioned bucket: what it created is "
                                        "removed, what it replaced gets its previous version back; a dry run "
                                        "first")
        self.rollback_button.setEnabled(False)
        self.rollback_button.clicked.connect(self._on_rollback_clicked)

        top = QHBoxLayout()
        top.addWidget(self.batch_box, 1)
        top.addWidget(self.export_button)
        top.addWidget(self.rollback_button)
        top.addWidget(self.remove_button)
        roll = QVBoxLayout()
        roll_bar = QHBoxLayout()
        roll_bar.addWidget(QLabel("Roll up by", self))
        roll_bar.addWidget(self.field_box, 1)
        roll.addLayout(roll_bar)
        roll.addWidget(self.rollup_view)
        fail = QVBoxLayout()
        fail_bar = QHBoxLayout()
        self.failures_label = QLabel("Failures", self)
        fail_bar.addWidget(self.failures_label, 1)
        fail_bar.addWidget(self.retry_button)
        fail.addLayout(fail_bar)
        fail.addWidget(self.failures_view)
        fail.addWidget(self.retry_note)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        for layout in (roll, fail):
            holder = QWidget(lower)
            holder.setLayout(layout)
            lower.addWidget(holder)
        main = QVBoxLayout(self)
        main.addLayout(top)
        main.addWidget(self.summary)
        main.addWidget(self.bar)
        self.cluster = ClusterPanel(executor, self)  # shown while a backfill runs on a Dask cluster
        main.addWidget(self.cluster)
        self.refreshed.connect(lambda: self.cluster.refresh(self.service, self.current_batch()))
        main.addWidget(self.chart, 1)
        main.addWidget(self.chart_placeholder, 1)
        main.addWidget(lower, 2)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(EVENT_MS)
        self._soon.timeout.connect(lambda: self.refresh(force=True))
        self._again = False  # an event came while a read ran: read once more after it
        for signal in (transfers.job_finished, transfers.jobs_added, transfers.idle):
            signal.connect(self._on_queue_event)
        close = QKeySequence.keyBindings(QKeySequence.StandardKey.Close)
        for keys in close + [QKeySequence(k) for k in ("Ctrl+W", "Escape") if QKeySequence(k) not in close]:
            QShortcut(keys, self, self.close)
        self.resize(900, 640)
        place_on_first_show(self)  # on the main window, within the screen

    @property
    def service(self):
        """The queue service the dashboard asks (None when the queue could not be opened)."""
        return self.transfers.service

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh(force=True)
        self.timer.start()

    def hideEvent(self, event) -> None:
        self.timer.stop()
        self._soon.stop()
        self._slot.cancel()
        super().hideEvent(event)

    def shutdown(self) -> None:
        self.timer.stop()
        self._soon.stop()
        self._slot.cancel()
        self.cluster.shutdown()
        self._export_slot.cancel()
        self.rollback.cancel()

    def current_batch(self) -> int | None:
        return self.batch_box.currentData()

    def _on_queue_event(self, *_args) -> None:
        if self.isVisible() and not self._soon.isActive():  # not restarted: a stream of ends still shows
            self._soon.start()

    def refresh(self, force: bool = False) -> None:
        if self.service is None:
            return
        if self._slot.running:
            self._again = self._again or force
            return
        version = self.service.data_version()
        if not force and version == self._version and not self.transfers.running_count:
            return
        self._version = version
        self._slot.start(self._refresh(self.current_batch(), self.field_box.currentText()))

    async def _refresh(self, batch_id: int | None, field: str) -> None:
        service = self.service

        def read():
            batches = service.batches(BACKFILL)
            chosen = next((b for b in batches if b.id == batch_id), batches[-1] if batches else None)
            if chosen is None:
                return batches, None, [], [], [], None
            fields = [f for f in service.metadata_fields(chosen.id) if f not in ("data-type", "source")]
            rolled = service.rollup(chosen.id, field if field in fields else (fields[0] if fields else "")) \
                if fields else []
            failed = service.jobs(states=[JobState.FAILED], batch_id=chosen.id)
            return (batches, service.batch_progress(chosen.id), fields, rolled, failed,
                    rollback_record(service, chosen.id))

        try:
            batches, prog, fields, rolled, failed, record = await in_executor(self._executor, read)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a locked or vanished database: say so, keep the window
            self.summary.setText(f"The queue could not be read: {exc}")
            return
        finally:
            if self._again and self.isVisible():
                self._again = False
                self._soon.start()
        self._show(batches, prog, fields, rolled, failed, record)
        self.refreshed.emit()

    def _show(self, batches, prog, fields, rolled, failed, record=None) -> None:
        ids = [b.id for b in batches]
        if ids != [self.batch_box.itemData(i) for i in range(self.batch_box.count())]:
            current = self.current_batch()
            self.batch_box.blockSignals(True)
            self.batch_box.clear()
            for b in batches:
                self.batch_box.addItem(f"{b.name} (batch {b.id})", b.id)
            self.batch_box.setCurrentIndex(ids.index(current) if current in ids else len(ids) - 1)
            self.batch_box.blockSignals(False)
        self._progress = prog
        self.remove_button.setEnabled(prog is not None and prog.unfinished == 0)
        self.rollback_button.setEnabled(prog is not None and prog.unfinished == 0 and not self.rollback.running)
        self.export_button.setEnabled(prog is not None)
        if prog is None:
            if not batches:
                self.summary.setText(EMPTY_TEXT)
                self._samples.clear()
                self._draw_throughput()
                self.bar.setValue(0)
                self.rollup.set_rows([])
                self.failures.set_rows([])
                self.retry_button.setEnabled(False)
            return
        if fields != [self.field_box.itemText(i) for i in range(self.field_box.count())]:
            self.field_box.blockSignals(True)
            self.field_box.clear()
            self.field_box.addItems(fields)
            self.field_box.blockSignals(False)
        now = time.monotonic()
        if self._samples and self._samples[-1][1] > prog.bytes_done:
            self._samples.clear()  # another batch, or retried jobs: start the rate over
        self._samples.append((now, prog.bytes_done))
        rate = self._meter.add(now, prog.bytes_done)
        left = prog.bytes_left
        eta = human_duration(progress.eta(left, rate)) if rate > 0 and left > 0 else ""  # not "ETA done"
        rolled_back = record.text() if record else ""  # "rolled back 2026-12-02 00:20: 9 objects (…)"
        self.summary.setText(  # the words of `backfill status` (core), then what only a live view knows
            backfill.progress_text(prog) + (f" · {human_size(rate)}/s" if rate else "")
            + (f" · ETA {eta}" if eta else "") + (f"\n{rolled_back[:1].upper()}{rolled_back[1:]}" if rolled_back else ""))
        self.bar.setValue(int(1000 * prog.fraction))
        self.rollup.set_rows(rolled)
        self.failures.set_rows(failed)
        self.failures_label.setText(f"Failures ({len(failed):,})")
        self.retry_button.setEnabled(bool(failed))
        self._draw_throughput()

    def _draw_throughput(self) -> None:
        s = list(self._samples)
        self.chart.setVisible(len(s) >= 2)
        self.chart_placeholder.setVisible(len(s) < 2)
        if len(s) < 2:
            self.chart.set_series(None)
            return
        times = np.array([t for t, _ in s[1:]])
        rates = np.array([(b1 - b0) / max(t1 - t0, 1e-6) / (1 << 20) for (t0, b0), (t1, b1) in zip(s, s[1:])])
        wall = time.time() - time.monotonic()
        self.chart.set_series(Series((times + wall) * 1000, rates, None, len(rates), zone="UTC"), _THROUGHPUT)
        top = float(rates.max())
        self.chart.price.setYRange(0, top * 1.1 if top > 0 else 1.0, padding=0)  # from 0; 0-1 MB/s when flat

    SHOWN_LEFT = 3  # files a retry left that the note names

    def retry_failed(self) -> None:
        """Retry the backfill's failures, but not those retrying cannot help (a file held back for
        its schema, an object that exists with other content): the note says which, and why."""
        ids = self.failures.ids()
        if ids:
            left = self.transfers.retry(ids) or []
            named = "; ".join(j.error or j.uri for j in left[:self.SHOWN_LEFT])
            more = f"; … and {len(left) - self.SHOWN_LEFT:,} more" if len(left) > self.SHOWN_LEFT else ""
            was = "it was" if len(left) == 1 else "they were"
            self.retry_note.setText(f"{counted(len(left), 'file')} left as {was}, retrying cannot help: "
                                    f"{named}{more}" if left else "")
            self.retry_note.setVisible(bool(left))
            self.refresh(force=True)

    def _ask_manifest_path(self) -> str:
        return ask_save_path(self, "Export manifest", "manifest.csv", "CSV (*.csv);;JSON (*.json)")

    def _on_export_clicked(self) -> None:
        batch_id = self.current_batch()
        path = self.choose_manifest_path() if batch_id is not None else ""
        if path:
            self._export_slot.start(self._export(batch_id, path))

    async def _export(self, batch_id: int, path: str) -> None:
        try:
            rows = await in_executor(self._executor, backfill.manifest_rows, self.service, batch_id)
            await in_executor(self._executor, backfill.write_manifest, rows, path)
        except (OSError, ValueError) as exc:
            self.summary.setText(f"The manifest could not be written: {exc}")
            return
        self.manifest_written.emit(path)

    def remove_box(self, name: str) -> QMessageBox:
        """The confirmation of Remove backfill…: No is the default (Enter, Escape), as the
        destructive replace dialog's Cancel is; a stray Enter removed a backfill's records."""
        no = QMessageBox.StandardButton.No
        box = QMessageBox(QMessageBox.Icon.Question, "Remove backfill",
                          f"Remove the records of {name!r} from the queue?\n"
                          "Its manifest can no longer be exported. The objects in the lake stay.",
                          QMessageBox.StandardButton.Yes | no, self)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        return box

    def _ask_remove(self, name: str) -> bool:
        box = self.remove_box(name)
        box.exec()
        yes = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
        box.deleteLater()
        return yes

    def _on_remove_clicked(self) -> None:
        prog = self._progress
        if prog is None or prog.unfinished or not self.confirm_remove(prog.name):
            return
        self.transfers.clear(batch_id=prog.batch_id)
        self.removed.emit(prog.batch_id)
        self._samples.clear()
        self._meter.reset()
        self.refresh(force=True)

    def _on_rollback_clicked(self) -> None:
        prog = self._progress
        if prog is not None and not prog.unfinished and not self.rollback.running:
            self.rollback_button.setEnabled(False)
            self.rollback.start(prog.batch_id).add_done_callback(self._on_rollback_ended)

    def _on_rollback_ended(self, task) -> None:
        if not task.cancelled():  # (cancelled: the window is closing)
            prog = self._progress
            self.rollback_button.setEnabled(prog is not None and prog.unfinished == 0)
            self.refresh(force=True)  # our own write does not change data_version: show the rollback

    def _on_rollback_failed(self, message: str) -> None:
        self.rollback.report("Cannot roll back", message)

    def _on_batch_box_changed(self, _index: int) -> None:
        self._samples.clear()
        self._meter.reset()
        self.refresh(force=True)
