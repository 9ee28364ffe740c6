"""Open: a file in the browser is downloaded through the queue into a cache under the data folder,
then handed to the desktop's default application.

The cache is keyed by bucket, key and ETag, so an object that changed is fetched again and an
unchanged one opens at once from the copy already here."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from ...core.connection import Connection
from ...core.listing import ObjectEntry, parent_prefix
from ...core.paths import data_dir
from ...core.transfers.progress import UNFINISHED_STATES
from ..queue.controller import TransferQueue
from ..queue.transfer_actions import TransferActions

log = logging.getLogger(__name__)
KEEP_SECONDS = 7 * 24 * 3600  # cached copies not opened for a week are removed at the next start


def cache_root() -> Path:
    return data_dir() / "cache"


def cache_path(bucket: str, entry: ObjectEntry) -> Path:
    """Where the cached copy of `entry` goes: data/cache/BUCKET/<key hash>-<etag>/NAME."""
    key_hash = hashlib.sha256(entry.key.encode("utf-8")).hexdigest()[:16]
    etag = re.sub(r"[^0-9A-Za-z-]", "", entry.etag) or "no-etag"
    safe_bucket = re.sub(r"[^0-9A-Za-z.-]", "_", bucket)
    return cache_root() / safe_bucket / f"{key_hash}-{etag}" / entry.key.rsplit("/", 1)[-1]


def sweep_cache(now: float | None = None) -> int:
    """Remove cached copies older than KEEP_SECONDS (by their folder's time); returns how many went."""
    now = time.time() if now is None else now
    removed = 0
    buckets = [b for b in cache_root().iterdir() if b.is_dir()]
    for folder in (f for bucket in buckets for f in bucket.iterdir()):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder)
                removed += 1
        except OSError as exc:  # open in an application, say: try again next start
            log.warning("could not remove %s: %s", folder, exc)
    return removed


def open_with_desktop(path: Path, open_url: Callable[[QUrl], bool]) -> str:
    """Hand `path` to the desktop; '' when it took it, else a message naming the path."""
    if open_url(QUrl.fromLocalFile(str(path))):
        return ""
    log.warning("No application opened %s", path)
    return f"No application on this desktop opens {path.name}. It is at {path}."


class FileOpener(QObject):
    opened = Signal(str)  # the local path handed to the desktop
    failed = Signal(str)  # a message for a person

    def __init__(self, queue: TransferQueue, actions: TransferActions, parent: QWidget):
        super().__init__(parent)
        self.queue = queue
        self.actions = actions
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests replace it
        self._tasks: set[asyncio.Task] = set()

    def open(self, connection: Connection, bucket: str, entry: ObjectEntry) -> asyncio.Task:
        task = asyncio.ensure_future(self._open(connection, bucket, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel(self) -> None:
        for t in list(self._tasks):
            t.cancel()

    async def _open(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        path = cache_path(bucket, entry)
        uri = f"s3://{bucket}/{entry.key}"
        if not (path.is_file() and path.stat().st_size == entry.size):
            path.unlink(missing_ok=True)  # a partial or stale copy: fetch it afresh, without asking
            if not await self._download(connection, bucket, entry, path):
                return
        path.parent.touch()  # opened now: kept another KEEP_SECONDS by sweep_cache
        log.info("Opening %s (from %s)", path, uri)
        if message := open_with_desktop(path, self.open_url):
            self.failed.emit(message)
        else:
            self.opened.emit(str(path))

    async def _download(self, connection: Connection, bucket: str, entry: ObjectEntry, path: Path) -> bool:
        """Download through the queue; whether the file arrived."""
        path.parent.mkdir(parents=True, exist_ok=True)
        ended: dict[int, str] = {}
        pending: set[int] = set()
        arrived = asyncio.get_event_loop().create_future()

        def on_job_finished(job_id: int, state: str) -> None:
            if state not in UNFINISHED_STATES:
                ended[job_id] = state
                if pending and pending <= set(ended) and not arrived.done():
                    arrived.set_result(None)

        self.queue.job_finished.connect(on_job_finished)
        try:
            batch = await self.actions.download(connection, bucket, parent_prefix(entry.key), [entry], [],
                                                str(path.parent))
            if batch is None:  # the actions said why
                return False
            pending.update(self.queue.unfinished_ids(batch))
            if pending and not pending <= set(ended):
                await arrived
        finally:
            self.queue.job_finished.disconnect(on_job_finished)
        if path.is_file():
            return True
        states = sorted(set(ended.values())) or ["not downloaded"]
        self.failed.emit(f"Could not open s3://{bucket}/{entry.key}: the download was {', '.join(states)}.")
        return False
