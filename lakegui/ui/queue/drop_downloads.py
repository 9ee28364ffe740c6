"""Dragging objects out of the browser to a folder: when the drop target asks for files, the
objects are downloaded through the transfer queue into a fresh staging folder, and the target
copies them from there.

The drop target waits for its answer, so this blocks its caller (Qt's drag loop) in a local event
loop: the window keeps painting, the queue shows the jobs, and a progress dialog can cancel.
Staging folders older than a day are swept when the app starts; a target that copies needs
them only for the moment of the drop.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from ...core.connection import Connection
from ...core.listing import ObjectEntry
from ...core.paths import data_dir
from ...core.transfers.progress import UNFINISHED_STATES
from .controller import TransferQueue
from .transfer_actions import TransferActions

log = logging.getLogger(__name__)
KEEP_SECONDS = 24 * 3600


def staging_root() -> Path:
    root = data_dir() / "dropped"
    root.mkdir(parents=True, exist_ok=True)
    return root


def sweep_staging(now: float | None = None) -> int:
    """Remove staging folders older than a day; returns how many went."""
    now = time.time() if now is None else now
    removed = 0
    for folder in staging_root().iterdir():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder)
                removed += 1
        except OSError as exc:  # in use or not ours to remove: try again next start
            log.warning("could not remove %s: %s", folder, exc)
    return removed


def top_level_names(base: str, objects: list[ObjectEntry], prefixes: list[str]) -> list[str]:
    """What the drop hands over, relative to the staging folder: each dragged file and folder."""
    names = [p[len(base):].rstrip("/") for p in prefixes]
    return names + [o.key[len(base):] for o in objects]


class DropDownloads(QObject):
    def __init__(self, queue: TransferQueue, actions: TransferActions, parent: QWidget):
        super().__init__(parent)
        self.queue = queue
        self.actions = actions
        self.parent_widget = parent

    def fetch(self, connection: Connection, bucket: str, base: str, objects: list[ObjectEntry],
              prefixes: list[str]) -> list[str]:
        """Download the dragged items (blocking, in a local event loop); the local paths that
        arrived, or [] when cancelled or nothing did."""
        staging = Path(tempfile.mkdtemp(prefix="drop-", dir=staging_root()))
        count = len(objects) + len(prefixes)
        task = self.actions.download(connection, bucket, base, objects, prefixes, str(staging))
        loop = QEventLoop()
        batch: list[int] = []
        pending: set[int] = set()  # the batch's jobs still to end, known once it is queued
        dialog = QProgressDialog(f"Downloading {count:,} item{'s' if count != 1 else ''} for the drop…",
                                 "Cancel", 0, 0, self.parent_widget)
        dialog.setWindowTitle("Drop")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(500)
        cancelled = []

        def on_planned(t: asyncio.Task) -> None:
            result = None if t.cancelled() or t.exception() is not None else t.result()
            if result is None:
                loop.quit()
                return
            batch.append(result)
            # Jobs may have ended before this callback ran: the queue knows so already.
            pending.update(self.queue.unfinished_ids(result))
            if not pending:
                loop.quit()

        def on_job_finished(job_id: int, state: str) -> None:
            if batch and job_id in pending and state not in UNFINISHED_STATES:
                pending.discard(job_id)
                if not pending:
                    loop.quit()

        def on_cancel() -> None:
            cancelled.append(True)
            if batch:
                self.queue.cancel(sorted(pending))
            else:
                task.cancel()
            loop.quit()

        self.queue.job_finished.connect(on_job_finished)
        dialog.canceled.connect(on_cancel)
        task.add_done_callback(on_planned)  # called from the loop below, never before it runs
        loop.exec()
        self.queue.job_finished.disconnect(on_job_finished)
        dialog.canceled.disconnect(on_cancel)
        dialog.reset()
        dialog.deleteLater()
        if cancelled:
            return []
        return [str(staging / n) for n in top_level_names(base, objects, prefixes) if (staging / n).exists()]
