"""Telling the user a long backfill ended while they were in another window: a system tray
notification where the desktop has a tray, else the taskbar's attention hint, and the status bar."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QSystemTrayIcon

from ...core.transfers.jobs import BACKFILL
from ...core.units import counted
from ..resources import app_icon

WATCHED_KINDS = (BACKFILL,)


class Notifier(QObject):
    notified = Signal(str, str)  # title, message

    def __init__(self, window: QMainWindow, transfers):
        super().__init__(window)
        self.window = window
        self.transfers = transfers
        self._watch: set[int] = set()  # batches with work this session, not yet reported
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("lakegui")
        # Replaceable (tests): whether the user would miss the end without a notification.
        self.in_background = lambda: not window.isActiveWindow()
        transfers.jobs_added.connect(self._on_transfers_jobs_added)
        transfers.idle.connect(self._on_transfers_idle)

    def watch_unfinished(self) -> None:
        """Watch the backfills that are still queued (after a restart, say)."""
        service = self.transfers.service
        if service is None:
            return
        for b in service.batches():
            if b.kind in WATCHED_KINDS:
                p = service.batch_progress(b.id)
                if p is not None and p.jobs("queued") + p.jobs("running"):
                    self._watch.add(b.id)

    def _on_transfers_jobs_added(self, batch: int, jobs: int) -> None:
        self._watch.add(batch)

    def _on_transfers_idle(self) -> None:
        service = self.transfers.service
        if service is None:
            return
        for batch_id in sorted(self._watch):
            p = service.batch_progress(batch_id)
            if p is None:
                self._watch.discard(batch_id)
                continue
            if p.jobs("queued") + p.jobs("running"):
                continue
            self._watch.discard(batch_id)
            if p.kind not in WATCHED_KINDS:
                continue
            failed, paused = p.failed, p.jobs("paused")
            title = f"Backfill {'failed' if failed else 'finished'}: {p.name}"
            text = (f"{counted(p.done, 'file')} uploaded, {p.skipped:,} already there"
                    + (f", {failed:,} failed (see Transfers › Backfills…)" if failed else "")
                    + (f", {paused:,} paused" if paused else ""))
            self.show(title, text, failed > 0)

    def show(self, title: str, text: str, failed: bool = False) -> None:
        self.window.statusBar().showMessage(f"{title}: {text}")
        if self.in_background():
            if self.tray is not None:
                self.tray.show()
                icon = QSystemTrayIcon.MessageIcon.Warning if failed else QSystemTrayIcon.MessageIcon.Information
                self.tray.showMessage(title, text, icon, 10000)
            else:
                QApplication.alert(self.window)  # the taskbar entry asks for attention
            self.notified.emit(title, text)
