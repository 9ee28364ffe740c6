"""The backfill wizard: a local folder, a layout template and a target, planned against the
bucket before anything is sent. The table shows each file's target key, lineage metadata and
status (new, exists-same, exists-different, invalid with the reason); the user chooses what
happens to objects that differ, then the valid files go to the queue as one named backfill.

Planning runs in the executor and is replanned (debounced) as the inputs change; a newer plan
cancels the older one, so the table never shows a plan for inputs the user has left.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
)

from ...core import paths
from ...core.backfill import (
    DIFFERENT,
    INVALID,
    NEW,
    SAME,
    SCHEMA_DIFFERS,
    PlanCancelled,
    backfill_jobs,
    files_sent,
    plan_backfill,
    restrict,
)
from ...core.connection import Connection
from ...core.errors import classify
from ...core.layouts import BUILTIN_LAYOUTS, LayoutTemplate, load_layouts, save_layout
from ...core.listing import parse_s3_uri
from ...core.rollback import note_replaced
from ...core.transfers.jobs import BACKFILL, OverwritePolicy
from ...core.units import counted, human_size
from ...core.versions import NEVER, versioning_state
from ..browser.drag import accept_as_copy, dropped_local_paths
from ..column_fit import fit_columns
from ..start_folder import ask_folder
from ..tasks import TaskSlot, in_executor
from .models import PlanModel

REPLAN_MS = 400
_STATUSES = (("All files", ""), ("New", NEW), ("Already there, same", SAME), ("Already there, different", DIFFERENT),
             ("Invalid", INVALID), ("Schema differs", SCHEMA_DIFFERS))


class BackfillWizard(QDialog):
    planned = Signal(object)  # BackfillPlan now shown
    plan_failed = Signal(str)  # why there is no plan, for a person
    enqueued = Signal(int, int)  # batch id, jobs

    def __init__(self, transfers, executor: Executor, connection: Connection, bucket: str, prefix: str = "",
                 parent=None, *, folder: str = "", template: str = "daily-ticks",
                 cells: list[dict[str, str]] | None = None):
        super().__init__(parent)
        self.setObjectName("backfillWizard")
        self.setWindowTitle("New backfill — lakegui")
        self.setAcceptDrops(True)
        self.transfers = transfers
        self.connection = connection
        self.cells = cells  # only files of these field values (the coverage view's chosen cells)
        self.plan = None
        self._executor = executor
        self._slot = TaskSlot("backfill planning")
        self._enqueue_slot = TaskSlot("backfill enqueue")
        self._cancel = threading.Event()
        self.layouts, problems = load_layouts(paths.config_dir())
        self.choose_folder = self._ask_folder  # replaceable in tests

        self.folder_edit = QLineEdit(folder, self)
        self.folder_edit.setObjectName("backfillFolder")
        self.folder_edit.setAccessibleName("Local folder")
        self.folder_edit.setPlaceholderText("A folder of files to place into the lake (or drop one here)")
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Browse for the local folder")
        browse.clicked.connect(self._on_browse_clicked)
        self.layout_box = QComboBox(self)
        self.layout_box.setObjectName("backfillLayout")
        self.layout_box.setAccessibleName("Layout template")
        self.layout_box.addItems(sorted(self.layouts))
        self.key_edit = QLineEdit(self)
        self.key_edit.setObjectName("backfillKeyTemplate")
        self.key_edit.setAccessibleName("Key template")
        self.key_edit.setToolTip("Where each file goes, with {fields}; Hive-style partitions work too, "
                                 "e.g. data/ticks/symbol={symbol}/year={year}/ticks.parquet")
        self.pattern_edit = QLineEdit(self)
        self.pattern_edit.setObjectName("backfillPattern")
        self.pattern_edit.setAccessibleName("File name pattern")
        self.pattern_edit.setToolTip("How file names give the fields, e.g. {symbol}_{year}.parquet; "
                                     "with a '/', it matches the path under the folder")
        self.save_layout_button = QPushButton("Save as layout…", self)
        self.save_layout_button.setToolTip("Keep this key template and pattern as a named layout")
        self.save_layout_button.clicked.connect(self._on_save_layout_clicked)
        self.target_edit = QLineEdit(f"s3://{bucket}/{prefix}", self)
        self.target_edit.setObjectName("backfillTarget")
        self.target_edit.setAccessibleName("Target bucket and prefix")
        self.source_edit = QLineEdit("lakegui", self)
        self.source_edit.setAccessibleName("Source metadata")
        self.source_edit.setToolTip("The 'source' lineage metadata every object gets")
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("backfillName")
        self.name_edit.setAccessibleName("Backfill name")

        self.summary = QLabel("Choose a local folder to backfill from.", self)
        self.summary.setObjectName("backfillPlanSummary")
        self.summary.setWordWrap(True)
        self.status_box = QComboBox(self)
        self.status_box.setAccessibleName("Show files")
        for title, status in _STATUSES:
            self.status_box.addItem(title, status)
        self.status_box.currentIndexChanged.connect(
            lambda _i: self.model.set_status(self.status_box.currentData()))
        self.model = PlanModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("backfillPlan")
        self.table.setAccessibleName("Backfill plan")
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        # Each plan's first rows set the widths, the long ones capped so "Why" (last, stretching)
        # keeps room for a reason; every cell's whole text is its tooltip.
        fit_columns(self.table, max_width=280)
        for col, width in enumerate((110, 170, 300, 300, 70)):
            self.table.setColumnWidth(col, width)  # until the first plan
        self.keep_radio = QRadioButton("Keep them (skip)", self)
        self.keep_radio.setChecked(True)
        self.overwrite_radio = QRadioButton("Replace them with the local files", self)
        self.keep_radio.toggled.connect(self._update_queue_button)
        # Parquet files whose schema is not the lake's: left out (not queued) unless ticked. The
        # window's counterpart of lakegui-cli backfill --allow-schema-drift.
        self.drift_box = QCheckBox("Send files whose schema differs", self)
        self.drift_box.setObjectName("allowSchemaDrift")
        self.drift_box.setToolTip("Parquet files whose columns or types differ from the lake's (see Why) are "
                                  "not queued unless this is ticked; ticked, they go as new or existing files do")
        self.drift_box.toggled.connect(self._update_queue_button)
        self.drift_box.hide()  # until a plan has such files
        # On a bucket without versions, replacing is for good and the backfill cannot be rolled back.
        self.versioning = ""  # the target bucket's versioning state, read with each plan
        self.overwrite_warning = QLabel(self)
        self.overwrite_warning.setObjectName("overwriteWarning")
        self.overwrite_warning.setWordWrap(True)
        self.overwrite_warning.setStyleSheet("color: #b3261e;")
        self.overwrite_warning.hide()
        self.confirm_overwrite = self._ask_overwrite  # (text) -> bool or a future of one; replaceable in tests
        self.queue_button = QPushButton("Queue", self)
        self.queue_button.setObjectName("queueBackfill")
        self.queue_button.setDefault(True)
        self.queue_button.setEnabled(False)
        self.queue_button.clicked.connect(self.enqueue)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)

        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow(self._label("Local &folder:", self.folder_edit), row)
        form.addRow("&Layout:", self.layout_box)
        form.addRow("&Key template:", self.key_edit)
        row = QHBoxLayout()
        row.addWidget(self.pattern_edit, 1)
        row.addWidget(self.save_layout_button)
        form.addRow(self._label("File &names:", self.pattern_edit), row)
        form.addRow("&Into:", self.target_edit)
        form.addRow("&Source:", self.source_edit)
        form.addRow("Backfill &name:", self.name_edit)
        main = QVBoxLayout(self)
        if cells:
            shown = ", ".join(" ".join(c.values()) for c in cells[:6]) + (" …" if len(cells) > 6 else "")
            only = QLabel(f"Only files for the {len(cells):,} cells chosen in the coverage view: {shown}", self)
            only.setObjectName("backfillCells")
            only.setWordWrap(True)
            main.addWidget(only)
        main.addLayout(form)
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(QLabel("Show:", self))
        bar.addWidget(self.status_box)
        main.addLayout(bar)
        main.addWidget(self.table, 1)
        policy = QHBoxLayout()
        self.policy_label = QLabel("Objects that exist with different content:", self)
        policy.addWidget(self.policy_label)
        policy.addWidget(self.keep_radio)
        policy.addWidget(self.overwrite_radio)
        policy.addWidget(self.drift_box)
        policy.addStretch(1)
        policy.addWidget(cancel)
        policy.addWidget(self.queue_button)
        main.addLayout(policy)
        main.addWidget(self.overwrite_warning)
        self.resize(1180, 680)

        self._replan = QTimer(self)
        self._replan.setSingleShot(True)
        self._replan.setInterval(REPLAN_MS)
        self._replan.timeout.connect(self.replan)
        self.layout_box.currentTextChanged.connect(self._on_layout_changed)
        self.layout_box.setCurrentText(template if template in self.layouts else "daily-ticks")
        self._on_layout_changed(self.layout_box.currentText())
        for edit in (self.folder_edit, self.key_edit, self.pattern_edit, self.target_edit, self.source_edit):
            edit.textEdited.connect(self._schedule_replan)
        self.folder_edit.textChanged.connect(self._schedule_replan)
        if problems:
            self.summary.setText("; ".join(problems))
        if folder:
            self.replan()

    def _label(self, text: str, buddy) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # inputs

    def _on_layout_changed(self, name: str) -> None:
        t = self.layouts.get(name)
        if t is None:
            return
        self.key_edit.setText(t.key_template)
        self.pattern_edit.setText(t.local_pattern)
        self.name_edit.setText(f"{name} {time.strftime('%Y-%m-%d %H:%M')}")
        self._schedule_replan()

    def template(self) -> LayoutTemplate:
        """The chosen layout as edited here."""
        base = self.layouts.get(self.layout_box.currentText())
        key, pattern = self.key_edit.text().strip(), self.pattern_edit.text().strip()
        if base is not None and base.key_template == key:
            return LayoutTemplate(base.name, key, base.data_type, pattern)
        name = base.name if base is not None else "custom"
        return LayoutTemplate(name, key, base.data_type if base is not None else name, pattern)

    def _schedule_replan(self, *_args) -> None:
        base = self.layouts.get(self.layout_box.currentText())
        t = self.template()
        self.save_layout_button.setEnabled(
            base is None or (t.key_template, t.local_pattern) != (base.key_template, base.local_pattern))
        self._replan.start()

    def _inputs(self):
        """(problem, None) or ('', (folder, bucket, prefix, template))."""
        folder = self.folder_edit.text().strip()
        if not folder:
            return "Choose a local folder to backfill from.", None
        if not Path(folder).is_dir():
            return f"{folder} is not a folder.", None
        try:
            bucket, prefix = parse_s3_uri(self.target_edit.text().strip())
        except ValueError as exc:
            return f"Into: {exc}.", None
        t = self.template()
        problem = t.check()
        if problem:
            return problem[0].upper() + problem[1:] + ".", None
        if not t.local_pattern:
            return "Say how file names give the fields, e.g. {symbol}_{year}.parquet.", None
        return "", (Path(folder), bucket, prefix, t)

    # planning

    def replan(self) -> None:
        self._replan.stop()
        self._cancel.set()  # the older plan's thread stops at its next page
        self._slot.cancel()
        self.plan = None
        self.queue_button.setEnabled(False)
        problem, inputs = self._inputs()
        if problem:
            self.model.set_items([])
            self.summary.setText(problem)
            self.plan_failed.emit(problem)
            return
        self._cancel = threading.Event()
        self._slot.start(self._plan(*inputs, self.source_edit.text().strip() or "lakegui", self._cancel))

    async def _plan(self, folder: Path, bucket: str, prefix: str, template: LayoutTemplate, source: str,
                    cancel: threading.Event) -> None:
        conn = self.connection
        service = self.transfers.service
        chunksize = self.transfers.settings.multipart_chunksize
        self.summary.setText(f"Planning: reading {folder} and listing s3://{bucket}/{prefix}{template.static_prefix}…")
        started = time.perf_counter()

        def run():
            plan = plan_backfill(conn.client(), bucket, folder, template, prefix=prefix, source=source,
                                 chunksize=chunksize, known=service.uploaded_records(bucket) if service else {},
                                 listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls},
                                 cancel=cancel)
            try:  # whether replacing can be undone (the warning below the policy)
                state = versioning_state(conn.client(), bucket)
            except Exception:  # noqa: BLE001  not allowed to read it: no warning either way
                state = ""
            return plan, state

        try:
            plan, self.versioning = await in_executor(self._executor, run)
        except asyncio.CancelledError:
            cancel.set()
            raise
        except PlanCancelled:
            return
        except ValueError as exc:
            return self._fail(str(exc)[0].upper() + str(exc)[1:] + ".")
        except Exception as exc:
            return self._fail(f"Could not plan the backfill: {classify(exc, bucket=bucket, key=prefix).message}")
        left_out = ""
        if self.cells is not None:
            # Say what the chosen cells left out, or an empty table looks like an empty folder.
            invalid = sum(1 for i in plan.items if i.status == INVALID)
            placed = len(plan.items) - invalid
            plan = restrict(plan, self.cells)
            outside = placed - len(plan.items)
            if outside or invalid:
                left_out = (f" {counted(outside, 'file')} {'is' if outside == 1 else 'are'} outside the "
                            f"{counted(len(self.cells), 'chosen cell')}"
                            + (f"; {invalid:,} could not be placed by the layout" if invalid else "") + ".")
        self.plan = plan
        self.model.set_items(plan.items)
        c = plan.counts()
        self.summary.setText(
            f"{c[NEW]:,} new, {c[SAME]:,} already there (same), {c[DIFFERENT]:,} already there (different), "
            f"{c.get(SCHEMA_DIFFERS, 0):,} schema differs, "
            f"{c[INVALID]:,} invalid · {human_size(plan.total_bytes)} · planned in "
            f"{time.perf_counter() - started:.1f} s. Nothing is sent until you queue it.{left_out}"
            + (" Files whose schema differs are not queued unless you tick “Send files whose schema differs”."
               if c.get(SCHEMA_DIFFERS) else ""))
        for i, (title, status) in enumerate(_STATUSES):
            self.status_box.setItemText(i, f"{title} ({c.get(status, 0) if status else len(plan.items):,})")
        self._update_queue_button()
        self.planned.emit(plan)

    def _fail(self, message: str) -> None:
        self.model.set_items([])
        self.summary.setText(message)
        self.plan_failed.emit(message)

    def _update_queue_button(self, *_args) -> None:
        c = self.plan.counts() if self.plan else {NEW: 0, DIFFERENT: 0}
        drift = c.get(SCHEMA_DIFFERS, 0)
        self.drift_box.setText(f"Send files whose schema differs ({drift:,})" if drift
                               else "Send files whose schema differs")
        self.drift_box.setVisible(bool(drift))
        # What will really be uploaded: not the files recorded as skipped, nor those held back.
        sent = files_sent(self.plan, overwrite=self.overwrite_radio.isChecked(),
                          allow_schema_drift=self.drift_box.isChecked()) if self.plan else 0
        self.overwrite_radio.setText(f"Replace them with the local files ({counted(c[DIFFERENT], 'object')})"
                                     if c[DIFFERENT] else "Replace them with the local files")
        self.queue_button.setText(f"Queue {counted(sent, 'file')}" if self.plan else "Queue")
        held = drift if not self.drift_box.isChecked() else 0
        self.queue_button.setToolTip(f"{counted(sent, 'file')} will be uploaded"
                                     + (f"; {counted(held, 'file')} whose schema differs "
                                        f"{'is' if held == 1 else 'are'} not queued" if held else ""))
        self.queue_button.setEnabled(sent > 0 and self.transfers.available)
        replacing = self.overwrite_radio.isChecked() and c[DIFFERENT] > 0
        self.overwrite_warning.setText(self._unversioned_text(c[DIFFERENT]) if replacing else "")
        self.overwrite_warning.setVisible(replacing and self.versioning == NEVER)

    def _unversioned_text(self, n: int) -> str:
        bucket = self.plan.bucket if self.plan is not None else ""
        return (f"s3://{bucket} does not keep versions: the {counted(n, 'object')} replaced will be gone for "
                "good, and this backfill cannot be rolled back. Turn on versioning first (Edit › Enable "
                "bucket versioning…) to keep them.")

    # queueing

    def enqueue(self) -> None:
        plan = self.plan
        if plan is None or self._enqueue_slot.running:
            return
        name = self.name_edit.text().strip()
        if not name:
            self.summary.setText("Give the backfill a name; the dashboard and lakegui-cli backfill status use it.")
            return
        if any(b.name == name for b in self.transfers.service.batches(BACKFILL)):
            self.summary.setText(f"A backfill named {name!r} is already in the queue: choose another name.")
            return
        overwrite = self.overwrite_radio.isChecked()
        # Files whose schema differs are left out unless sent: the table showed them, and a
        # record of a job that cannot run would only fail the backfill.
        jobs = backfill_jobs(plan, skip_existing=not overwrite, overwrite=overwrite,
                             allow_schema_drift=self.drift_box.isChecked(), record_held=False)
        profile = self.connection.profile.to_dict()
        self.queue_button.setEnabled(False)
        replacing = sum(1 for j in jobs if j.policy is OverwritePolicy.OVERWRITE)  # drifted ones sent too
        self._enqueue_slot.start(self._enqueue(name, profile, jobs, plan.bucket, replacing))

    async def _enqueue(self, name: str, profile: dict, jobs: list, bucket: str = "", replacing: int = 0) -> None:
        if replacing and self.versioning == NEVER:
            answer = self.confirm_overwrite(self._unversioned_text(replacing) + "\n\nReplace them anyway?")
            if not (await answer if asyncio.isfuture(answer) else answer):
                self._update_queue_button()
                return
        self.summary.setText(f"Queueing {len(jobs):,} files…")
        conn = self.connection

        def store():
            nonlocal jobs
            if replacing and self.versioning != NEVER:  # the versions replaced, so a rollback brings them back
                jobs = note_replaced(conn.client(), bucket, jobs, raw=conn.profile.raw_listing,
                                     verify=conn.profile.verify_tls)
            return self.transfers.store_batch(name, BACKFILL, profile, jobs)

        try:  # a 75,000-job write takes a second: not on the UI thread
            batch, rows = await in_executor(self._executor, store)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.summary.setText(f"Could not queue the backfill: {exc}")
            self._update_queue_button()
            return
        self.transfers.show_stored(batch, rows)
        self.enqueued.emit(batch, len(rows))
        self.accept()

    def _ask_overwrite(self, text: str) -> asyncio.Future:
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace objects for good", text,
                          QMessageBox.StandardButton.Cancel, self)
        replace = box.addButton("Replace for good", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        future = asyncio.get_event_loop().create_future()

        def on_finished(_result) -> None:
            if not future.done():
                future.set_result(box.clickedButton() is replace)
            box.deleteLater()

        box.finished.connect(on_finished)
        box.open()
        return future

    # folder choice, drops, layouts

    def _ask_folder(self) -> str:
        return ask_folder(self, "Backfill from folder", "backfill", current=self.folder_edit.text())

    def _on_browse_clicked(self) -> None:
        folder = self.choose_folder()
        if folder:
            self.folder_edit.setText(folder)

    @staticmethod
    def _dropped_folder(event) -> str:
        paths = dropped_local_paths(event.mimeData())
        return paths[0] if len(paths) == 1 and Path(paths[0]).is_dir() else ""

    def dragEnterEvent(self, event) -> None:
        if self._dropped_folder(event):
            accept_as_copy(event)  # the folder is read, never moved

    def dropEvent(self, event) -> None:
        folder = self._dropped_folder(event)
        if folder and accept_as_copy(event):
            self.folder_edit.setText(folder)

    def _on_save_layout_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "Save layout", "Name of the layout:", text=self.layout_box.currentText()
                                        + "-custom")
        if ok and name.strip():
            self.save_layout(name.strip())

    def save_layout(self, name: str) -> str:
        """Save the edited template as a user layout; '' or why it could not be saved."""
        t = self.template()
        if name in BUILTIN_LAYOUTS:
            problem = f"{name!r} is a built-in layout: choose another name."
        else:
            try:
                save_layout(paths.config_dir(), LayoutTemplate(name, t.key_template, t.data_type, t.local_pattern))
                problem = ""
            except (OSError, ValueError) as exc:
                problem = f"The layout could not be saved: {exc}"
        if problem:
            self.summary.setText(problem)
            return problem
        self.layouts, _ = load_layouts(paths.config_dir())
        self.layout_box.blockSignals(True)
        self.layout_box.clear()
        self.layout_box.addItems(sorted(self.layouts))
        self.layout_box.setCurrentText(name)
        self.layout_box.blockSignals(False)
        self._schedule_replan()
        return ""

    # closing

    def shutdown(self) -> None:
        self._replan.stop()
        self._cancel.set()
        self._slot.cancel()
        self._enqueue_slot.cancel()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)
