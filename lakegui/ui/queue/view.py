"""The transfer queue view: jobs with progress bars, the controls, and totals in the header."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QToolButton,
    QVBoxLayout,
)

from ...core.transfers.jobs import Direction, advised, said_once
from ...core.units import human_duration, human_size
from ..column_fit import fit_columns
from ..resources import icon
from .controller import Totals, TransferQueue
from .model import CONFLICT_ADVICE, FRACTION_ROLE, JOB_ID_ROLE, direction_text


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a bar (the model keeps the fraction as a float)."""

    def paint(self, painter, option, index):
        fraction = index.data(FRACTION_ROLE)
        if fraction is None:
            return super().paint(painter, option, index)
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(2, 1, -2, -1))
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(fraction * 1000)
        bar.text = f"{fraction:.0%}"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        # Qt 6 has no orientation field: without State_Horizontal the style draws a vertical bar.
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class StateDelegate(QStyledItemDelegate):
    """The State column: a skip's text says its gist first, so it is cut at its end (the column
    elides in the middle otherwise, where a failure's paths are); the tooltip has it whole."""

    def initStyleOption(self, option, index):
        super().initStyleOption(option, index)
        if str(index.data() or "").startswith("Skipped: "):
            option.textElideMode = Qt.TextElideMode.ElideRight


class TransferQueueView(QFrame):
    failed = Signal(str)  # a message for a person (e.g. no application shows folders)

    def __init__(self, queue: TransferQueue, parent=None):
        super().__init__(parent)
        self.open_url = QDesktopServices.openUrl  # tests replace it
        self.setObjectName("TransferQueueView")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.queue = queue
        self.model = queue.model
        self.title = QLabel("Transfers", self)
        self.title.setObjectName("queueTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.totals_label = QLabel("", self)
        self.totals_label.setObjectName("queueTotals")
        self.totals_label.setAccessibleName("Transfer totals")

        self.pause_action = self._action("Pause", "pause", "Pause the selected transfers (all if none)",
                                         lambda: self._control(self.queue.pause, "pause", "running or queued",
                                                               ("running", "queued")), "Ctrl+P")
        self._totals = Totals()  # the header's, as last told
        self.resume_action = self._action("Resume", "resume", "Resume the selected transfers (all if none, "
                                          "or if the whole queue is paused)", self.resume, "Ctrl+R")
        self.cancel_action = self._action("Cancel", "cancel",
                                          "Cancel the selected transfers (all if none)",
                                          lambda: self._control(self.queue.cancel, "cancel", "queued, running or paused",
                                                                ("running", "queued", "paused")), "Ctrl+Shift+X")
        self.retry_action = self._action("Retry failed", "retry",
                                         "Queue the failed transfers again",
                                         lambda: self._control(self.retry, "retry", "failed", ("failed",)),
                                         "Ctrl+Shift+R")
        self.remove_finished_action = self._action("Remove finished", "done",
                                                   "Remove done, skipped and cancelled transfers from the list",
                                                   self.queue.remove_finished, "Ctrl+Shift+Del")
        self.clear_action = self._action("Clear…", "clear", "Remove every transfer that is not running",
                                         self._on_clear_triggered, "")

        self.show_in_folder_action = QAction("Show in folder", self)
        self.show_in_folder_action.setStatusTip("Open the folder holding the downloaded file")
        self.show_in_folder_action.setShortcut(QKeySequence("Ctrl+Alt+O"))  # as file managers' Open Location
        self.show_in_folder_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.show_in_folder_action.triggered.connect(self.show_in_folder)
        self.addAction(self.show_in_folder_action)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title)
        bar.addWidget(self.totals_label, 1)
        for action in (self.pause_action, self.resume_action, self.cancel_action, self.retry_action,
                       self.remove_finished_action, self.clear_action):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            button.setAccessibleName(action.text().rstrip("…"))
            bar.addWidget(button)

        self.table = QTableView(self)
        self.table.setObjectName("transferTable")
        self.table.setAccessibleName("Transfer queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves for the next pane; it replaced the selection
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(self.model.PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setItemDelegateForColumn(len(self.model.COLUMNS) - 1, StateDelegate(self.table))
        # Paths and errors are long: cut in the middle, where a path's folders are, the end stays.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # To the first rows' contents (room for any direction when the first rows are all uploads);
        # Speed and ETA follow the rows shown (as narrow as their headers while nothing runs: they
        # kept ~130 px empty). State stretches; Name keeps its width while the shown states fit beside
        # it, else gives way down to 40% of their room (elided; State's tooltip has its whole text).
        directions = [direction_text(str(d)) for d in Direction]
        widest = max(directions, key=self.table.fontMetrics().horizontalAdvance)
        fitter = fit_columns(self.table, samples={1: widest, 2: "999.9 MB", 3: "100% progress"}, live=(4, 5), icons=(1,),
                    squeeze=0, squeeze_min=40, squeeze_share=0.4,
                    stretch_min=self.table.fontMetrics().horizontalAdvance("Failed: the object exists"))
        header = self.table.horizontalHeader()
        # State may get narrower than Qt's minimum section rather than push out a horizontal scroll bar.
        header.setMinimumSectionSize(self.table.fontMetrics().horizontalAdvance("State") + 12)
        # A click on a header sorts by it (names naturally: the model's SORT_ROLE); a third click
        # goes back to the order the jobs were queued in, which is where the queue starts.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorClearable(True)
        self.table.setSortingEnabled(True)
        for col, width in ((0, 240), (1, 95), (2, 75), (3, 110), (4, 60), (5, 45)):
            header.resizeSection(col, width)  # until the first rows arrive
        if self.model.rowCount():
            # Rows already there (the queue kept from the last run) were fitted above; those
            # defaults undid it: Direction read "Mak…ket" in the window, not in a fresh queue.
            fitter.fit()
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        # Esc clears the selection, so the controls act on every transfer again ("all if none").
        deselect = QAction("Clear the selection", self.table)
        deselect.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        deselect.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        deselect.triggered.connect(self.table.clearSelection)
        self.table.addAction(deselect)

        self.empty_label = QLabel("No transfers yet. Drop files on the browser to upload them under the "
                                  "current prefix; drag objects out of it to a folder to download them.", self)
        self.empty_label.setObjectName("queueEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        if queue.error:
            self.empty_label.setText(f"The transfer queue is unavailable: {queue.error}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        self.model.rowsInserted.connect(self._update_empty)
        self.model.modelReset.connect(self._update_empty)
        queue.totals_changed.connect(self._on_queue_totals_changed)
        self._update_empty()

    def _action(self, text, icon_name, tip, slot, shortcut) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.setStatusTip(tip)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            # The menus and F1 list these as the window's shortcuts: they must work with focus anywhere.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        # Not connected straight: triggered(bool) would hand `checked` to a slot's first argument
        # (Remove finished took False for its ids and failed with a TypeError, doing nothing).
        action.triggered.connect(lambda _checked=False: slot())
        action.setEnabled(self.queue.available)
        self.addAction(action)
        return action

    def _control(self, control, verb: str, which: str, states: tuple[str, ...]) -> None:
        """Apply a control to the selection (every job when none is selected); a selection it
        cannot apply to says so rather than doing nothing in silence."""
        rows = self.table.selectionModel().selectedRows()
        if rows and not any(self.model.row(r.row()).state in states for r in rows):
            n = len(rows)
            self.failed.emit(f"None of the {n:,} selected transfers is {which}, so there is nothing to {verb}. "
                             f"Select {which} ones, or clear the selection (Esc in the list) to {verb} "
                             "them all." if n > 1 else
                             f"The selected transfer is not {which}, so there is nothing to {verb}. Select "
                             f"{which} ones, or clear the selection (Esc in the list) to {verb} them all.")
            return
        control([r.data(JOB_ID_ROLE) for r in rows] or None)

    def resume(self) -> None:
        """Resume the selection; a queue paused as a whole (the header says "Paused (Resume: Ctrl+R)")
        is resumed whole, whatever is selected: it refused when a finished row was selected."""
        if self.paused_as_a_whole:
            self.queue.resume(None)  # which ends a hold too
            return
        self._control(self.queue.resume, "resume", "paused", ("paused",))

    @property
    def paused_as_a_whole(self) -> bool:
        """Nothing will move until Resume: all that is left is paused, or the queue is held."""
        t = self._totals
        left = t.files_total - t.files_done - t.failed
        return t.held or (not t.running and bool(left) and t.paused >= left)

    SHOWN_LEFT = 3  # jobs a retry left that its message names

    def retry(self, ids=None) -> None:
        """Retry failed transfers; say which ones were left because retrying cannot help."""
        left = self.queue.retry(ids)
        if left:
            named = "; ".join(f"{j.direction} of {j.uri} failed for good: "
                              f"{said_once(j.uri, advised(j.error, CONFLICT_ADVICE))}"
                              for j in left[:self.SHOWN_LEFT])
            more = f"; … and {len(left) - self.SHOWN_LEFT:,} more" if len(left) > self.SHOWN_LEFT else ""
            self.failed.emit(f"{len(left):,} left: {named}{more}. Retrying cannot help until the cause is "
                             "fixed; then ask again.")

    def selected_ids(self) -> list[int] | None:
        rows = self.table.selectionModel().selectedRows()
        return [r.data(JOB_ID_ROLE) for r in rows] or None

    def _on_table_context_menu(self, pos) -> None:
        self.context_menu().popup(self.table.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        menu = QMenu(self)
        if self._finished_download() is not None:
            menu.addAction(self.show_in_folder_action)
            menu.addSeparator()
        for action in (self.pause_action, self.resume_action, self.cancel_action, self.retry_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.remove_finished_action)
        menu.addAction(self.clear_action)
        return menu

    def _finished_download(self) -> Path | None:
        """The local file of the one selected row, when it is a finished download."""
        rows = self.table.selectionModel().selectedRows()
        if len(rows) != 1:
            return None
        row = self.model.row(rows[0].row())
        done = row.direction == "download" and row.state in ("done", "skipped") and row.local_path
        return Path(row.local_path) if done else None

    def show_in_folder(self) -> None:
        path = self._finished_download()
        if path is None:
            return
        folder = path.parent
        if not folder.is_dir():
            self.failed.emit(f"{folder} is no longer there.")
        elif not self.open_url(QUrl.fromLocalFile(str(folder))):
            self.failed.emit(f"No application on this desktop shows folders. {path.name} is in {folder}.")

    def _on_clear_triggered(self) -> None:
        n = self.model.rowCount() - self.queue.running_count
        if n <= 0:
            return
        answer = QMessageBox.question(self, "Clear transfers",
                                      f"Remove {n:,} transfers that are not running from the queue?\n"
                                      "Queued and paused ones will not run. Files are not touched.")
        if answer == QMessageBox.StandardButton.Yes:
            self.queue.clear()

    def _on_queue_totals_changed(self, t: Totals) -> None:
        self._totals = t
        if not t.files_total and not t.held:
            self.totals_label.setText("")
            return
        parts = [f"{t.files_done:,}/{t.files_total:,} files",
                 f"{human_size(t.bytes_done)} of {human_size(t.bytes_total)}"] if t.files_total else []
        left = t.files_total - t.files_done - t.failed
        # Nothing will move until Resume: all that is left is paused, or nothing is and the whole
        # queue is (jobs added now wait too).
        if not t.running and (t.paused >= left if left else t.held):
            keys = self.resume_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            parts.insert(0, f"Paused (Resume: {keys})" if keys else "Paused")
        elif t.paused:
            parts.append(f"{t.paused:,} paused")
        if t.running:
            parts.append(f"{human_size(t.speed)}/s")
            if t.eta is not None:
                parts.append(f"ETA {human_duration(t.eta)}")
        if t.failed:
            parts.append(f"{t.failed:,} failed")
        self.totals_label.setText(" · ".join(parts))

    def _update_empty(self, *_) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.table.setVisible(not empty)
