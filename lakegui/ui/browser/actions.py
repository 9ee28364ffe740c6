"""What a user does with objects in the browser: properties and metadata, presigned URLs,
delete (queued), new folder. S3 calls run in the executor; questions are window-modal dialogs that
answer a future, never nested event loops. Each question is a replaceable callable, so tests
and scripts can answer it."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog, QMessageBox, QWidget

from ...core import objects, tagging
from ...core.errors import classify
from ...core.listing import PrefixLister
from ...core.transfers.jobs import Direction
from ...core.transfers.object_jobs import SHOWN_FAILURES, delete_jobs, delete_results
from ...core.units import counted
from ...core.versions import count_versions, delete_markers_added, deleted_words, versioning_state
from ..dialogs.answers import answered, dialog_future
from ..dialogs.new_folder import NewFolderDialog
from ..dialogs.properties import PropertiesDialog, PropertyChanges
from ..tasks import in_executor
from .versions import delete_consequence

log = logging.getLogger(__name__)

EXPIRIES = {"1 hour": 3600, "1 day": 86400, "7 days (the longest)": 7 * 86400}


class ObjectActions(QObject):
    done = Signal(str)  # what happened, for the status bar
    failed = Signal(str)  # a message for a person
    queued = Signal(int, int)  # a delete's batch id, its jobs

    def __init__(self, browser, executor: Executor, parent: QWidget):
        super().__init__(parent)
        self.browser = browser
        self.executor = executor
        self.parent_widget = parent
        self._tasks: set[asyncio.Task] = set()
        self.queue = None  # the window's TransferQueue (attach()): deletes are its jobs
        # batch -> (bucket, folder, where, the bucket's versioning state), until it ends
        self._deletes: dict[int, tuple[str, str, str, str]] = {}
        self.confirm: Callable[[str, str], object] = self._confirm  # (title, text) -> bool
        self.ask_folder_name: Callable[[], object] = self._ask_folder_name  # -> str | None
        self.ask_expiry: Callable[[], object] = self._ask_expiry  # -> seconds | None
        # (props, tags or None, why they are unavailable) -> PropertyChanges | metadata dict | None
        self.edit_properties: Callable[..., object] = self._edit_properties

    def _start(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel(self) -> None:
        for t in list(self._tasks):
            t.cancel()

    def _fail(self, exc: Exception, key: str = "") -> None:
        info = classify(exc, bucket=self.browser.bucket, key=key or None)
        self.failed.emit(info.message)

    # properties

    def properties(self) -> asyncio.Task | None:
        objs, _ = self.browser.selected_entries()
        if len(objs) != 1:
            return None
        return self._start(self._properties(objs[0].key))

    async def _properties(self, key: str) -> None:
        conn, bucket = self.browser.connection, self.browser.bucket
        try:
            client = await in_executor(self.executor, conn.client)
        except Exception as exc:
            self._fail(exc, key)
            return
        # Both at once: the dialog opens after one round trip, not two.
        props, tags = await asyncio.gather(in_executor(self.executor, objects.head, client, bucket, key),
                                           in_executor(self.executor, tagging.get_tags, client, bucket, key),
                                           return_exceptions=True)
        if isinstance(props, Exception):
            self._fail(props, key)
            return
        if props.version_id:  # a versioned bucket: Properties says how many versions the key has
            props = await self._counted(client, bucket, props)
        unavailable = ""
        if isinstance(tags, Exception):  # a server without tagging: the rest of the dialog still works
            unavailable = f"The tags could not be read: {classify(tags, bucket=bucket, key=key).message}"
            tags = None
        changes = await answered(self.edit_properties(props, tags, unavailable))
        if isinstance(changes, dict):  # a metadata dict alone (scripted answers)
            changes = PropertyChanges(metadata=changes)
        if changes is None or changes == PropertyChanges():
            return
        metadata, new_tags = changes.metadata, changes.tags
        if metadata is not None:
            ok = await answered(self.confirm("Save metadata", f"Rewrite {props.uri} with the new metadata?\n"
                                            "The object is copied onto itself: its last-modified time changes, "
                                            "its content does not."))
            if not ok:
                return
            try:
                await in_executor(self.executor, objects.replace_metadata, client, bucket, key, props, metadata)
            except Exception as exc:
                if isinstance(exc, ValueError):
                    self.failed.emit(str(exc))
                elif "PreconditionFailed" in str(exc) or "412" in str(exc):
                    self.failed.emit(f"{props.uri} changed since you opened it; nothing was rewritten.")
                else:
                    self._fail(exc, key)
                return
            log.info("Saved the metadata of %s: %s", props.uri, ", ".join(sorted(metadata)) or "none")
            if new_tags is None and tags:  # a copy in parts carries no tags: put them back
                new_tags = tags
        if new_tags is not None:
            try:
                await in_executor(self.executor, tagging.put_tags, client, bucket, key, new_tags)
            except Exception as exc:
                self._fail(exc, key)
                return
            if changes.tags is not None:
                log.info("Saved the tags of %s: %s", props.uri, ", ".join(sorted(new_tags)) or "none")
        saved = " and ".join(w for w, c in (("metadata", changes.metadata), ("tags", changes.tags)) if c is not None)
        self.done.emit(f"Saved the {saved} of {props.uri}")
        if metadata is not None:
            self.browser.refresh()

    def _edit_properties(self, props: objects.ObjectProperties, tags: dict | None = None,
                         unavailable: str = "") -> asyncio.Future:
        dialog = PropertiesDialog(props, self.parent_widget, tags=tags, tags_unavailable=unavailable)
        return dialog_future(dialog, lambda r: dialog.changes() if r == QDialog.DialogCode.Accepted else None)

    # presigned URL

    def copy_presigned(self) -> asyncio.Task | None:
        objs, _ = self.browser.selected_entries()
        if len(objs) != 1:
            return None
        return self._start(self._copy_presigned(objs[0].key))

    async def _copy_presigned(self, key: str) -> None:
        expires = await answered(self.ask_expiry())
        if expires is None:
            return
        try:
            client = await in_executor(self.executor, self.browser.connection.client)
            url = objects.presign_get(client, self.browser.bucket, key, int(expires))  # signed locally
        except ValueError as exc:
            self.failed.emit(str(exc))
            return
        QApplication.clipboard().setText(url)
        label = next((k for k, v in EXPIRIES.items() if v == expires), f"{int(expires):,} s")
        self.done.emit(f"Copied a URL for {key.rsplit('/', 1)[-1]} that works for {label.split(' (')[0]}")

    def _ask_expiry(self) -> asyncio.Future:
        dialog = QInputDialog(self.parent_widget)
        dialog.setWindowTitle("Copy presigned URL")
        dialog.setLabelText("Anyone with the URL can download the object until it expires.\nExpires after:")
        dialog.setComboBoxItems(list(EXPIRIES))
        return dialog_future(dialog, lambda r: EXPIRIES.get(dialog.textValue())
                              if r == QDialog.DialogCode.Accepted else None)

    # delete: jobs of the window's queue (1,000 keys a job, core/transfers/object_jobs.py), as the
    # CLI's rm and the sync view's deletes, so they show, pause and cancel there and a restart
    # finishes them

    def attach(self, queue) -> None:
        """Queue deletes through the window's TransferQueue."""
        self.queue = queue

    def _follow(self, on: bool) -> None:
        """Follow the queue's job ends only while a delete runs: each end reaches every listener,
        and each is a wait for the GIL on the UI thread while workers are busy."""
        for signal, slot in ((self.queue.jobs_finished, self._on_queue_jobs_finished),
                             (self.queue.totals_changed, self._on_queue_totals_changed)):
            signal.connect(slot) if on else signal.disconnect(slot)

    def delete_selected(self) -> asyncio.Task | None:
        objs, prefixes = self.browser.selected_entries()
        if not objs and not prefixes:
            return None
        return self._start(self._delete({o.key: o.size for o in objs}, prefixes, self.browser.prefix))

    async def _delete(self, sizes: dict[str, int], prefixes: list[str], here: str) -> None:
        conn, bucket = self.browser.connection, self.browser.bucket
        selected = len(sizes)
        try:
            client = await in_executor(self.executor, conn.client)
            for prefix in prefixes:  # list first, so the question names the real count
                sizes.update(await in_executor(self.executor, _sizes_under, client, bucket, prefix))
        except Exception as exc:
            self._fail(exc)
            return
        if not sizes:
            self.done.emit("Nothing to delete: the selected folders are empty.")
            return
        what = counted(len(sizes), "object")
        inside = f" ({len(sizes) - selected:,} of them inside {counted(len(prefixes), 'folder')})" \
            if prefixes else ""
        where = f"s3://{bucket}/{here}"  # the folder the selection is in
        versioning = await self._versioning(client, bucket)
        ok = await answered(self.confirm("Delete", f"Delete {what}{inside} from {where}?\n"
                                        + delete_consequence(versioning)))
        if not ok:
            return
        if self.queue is None or not self.queue.available:
            self.failed.emit("Cannot delete: transfers are unavailable"
                             + (f" ({self.queue.error})." if self.queue is not None and self.queue.error else "."))
            return
        try:
            batch, rows = await in_executor(self.executor, self.queue.store_batch, f"Delete {what} from {where}",
                                            str(Direction.DELETE), conn.profile.to_dict(),
                                            delete_jobs(bucket, list(sizes), sizes))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. the queue database could not be written
            self.failed.emit(f"Could not queue the delete: {exc}")
            return
        self.queue.show_stored(batch, rows)
        # Followed once its rows are shown (their ends come on later turns of the event loop):
        # a batch with no row shown counts as ended.
        if not self._deletes:
            self._follow(True)
        self._deletes[batch] = (bucket, here, where, versioning)
        log.info("Queued the delete of %s from %s (batch %d, %s)", what, where, batch,
                 counted(len(rows), "delete job"))
        self.queued.emit(batch, len(rows))

    def _on_queue_jobs_finished(self, finished: list) -> None:
        batches = {row.batch_id for row in (self.queue.row_for(job_id) for job_id, _ in finished) if row is not None}
        for batch in batches & set(self._deletes):
            self._check_deleted(batch)

    def _on_queue_totals_changed(self, _totals) -> None:
        # Jobs cancelled or cleared before they ran end without a JobEnded: the totals follow them.
        for batch in list(self._deletes):
            self._check_deleted(batch)

    def _check_deleted(self, batch: int) -> None:
        if batch in self._deletes and not self.queue.unfinished_ids(batch):
            bucket, here, where, versioning = self._deletes.pop(batch)
            if not self._deletes:
                self._follow(False)
            QTimer.singleShot(0, lambda: self._start(self._deleted(batch, bucket, here, where,
                                                                   versioning)))  # after the queue's

    async def _deleted(self, batch: int, bucket: str, here: str, where: str, versioning: str = "") -> None:
        """Say what the batch deleted (on a bucket that keeps versions: the delete markers it
        added, as the CLI's rm does) and, per key, what it could not; list the folder again."""
        try:
            deleted, failures, _ = await in_executor(self.executor, lambda: delete_results(
                self.queue.batch_jobs(batch)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  the queue closed meanwhile
            log.info("The delete jobs of batch %d could not be read: %s", batch, exc)
            return
        marked = delete_markers_added(versioning, len(deleted))
        said = (deleted_words(len(deleted), versioning, "Undelete") if marked
                else f"Deleted {counted(len(deleted), 'object')}")
        if failures:
            log.warning("Deleted %s from %s; %s could not be deleted: %s", counted(len(deleted), "object"), where,
                        f"{len(failures):,}", "; ".join(f"{k}: {m}" for k, m in failures[:SHOWN_FAILURES]))
        else:
            log.info("Deleted %s from %s%s", counted(len(deleted), "object"), where,
                     f" ({counted(marked, 'delete marker')} added)" if marked else "")
            self.done.emit(said)  # before the refresh, which carries it
        b = self.browser
        if b.connection is not None and b.bucket == bucket and (b.prefix.startswith(here) or here.startswith(b.prefix)):
            b.refresh()
        if failures:  # after it: a refresh dismisses the notice bar
            first = "; ".join(f"{k}: {m}" for k, m in failures[:3])
            said = deleted_words(len(deleted), versioning, "Undelete") if marked else f"Deleted {len(deleted):,}"
            self.failed.emit(f"{said}; {len(failures):,} could not be deleted: {first}")

    async def _counted(self, client, bucket: str, props: objects.ObjectProperties) -> objects.ObjectProperties:
        """`props` with the number of versions of its key (one version listing); as it was if that fails."""
        profile = self.browser.connection.profile
        try:
            n = await in_executor(self.executor, lambda: count_versions(
                client, bucket, props.key, raw=profile.raw_listing, verify=profile.verify_tls))
        except Exception as exc:  # noqa: BLE001  the dialog still opens, without the count
            log.info("The versions of %s could not be counted: %s", props.uri, exc)
            return props
        return replace(props, version_count=n)

    async def _versioning(self, client, bucket: str) -> str:
        """The bucket's versioning state, read now (the Delete question says what a delete does);
        '' when it cannot be read."""
        try:
            return await in_executor(self.executor, versioning_state, client, bucket)
        except Exception as exc:  # noqa: BLE001  not allowed to read it: the question says less
            log.info("The versioning state of s3://%s could not be read: %s", bucket, exc)
            return ""

    def _confirm(self, title: str, text: str) -> asyncio.Future:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.parent_widget)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return dialog_future(box, lambda r: r == QMessageBox.StandardButton.Yes)

    # new folder

    def new_folder(self) -> asyncio.Task | None:
        if self.browser.connection is None or not self.browser.bucket:
            return None
        return self._start(self._new_folder(self.browser.prefix))

    async def _new_folder(self, parent: str) -> None:
        name = await answered(self.ask_folder_name())
        if not name:
            return
        try:
            key = objects.folder_key(parent, name)
        except ValueError as exc:
            self.failed.emit(str(exc))
            return
        conn, bucket = self.browser.connection, self.browser.bucket
        try:
            client = await in_executor(self.executor, conn.client)
            await in_executor(self.executor, objects.create_folder, client, bucket, key)
        except Exception as exc:
            self._fail(exc, key)
            return
        log.info("Created the folder s3://%s/%s", bucket, key)
        self.done.emit(f"Created s3://{bucket}/{key}")
        self.browser.refresh()

    def _ask_folder_name(self) -> asyncio.Future:
        # The dialog checks the name itself, so a bad one is corrected in place, not typed again.
        dialog = NewFolderDialog(f"s3://{self.browser.bucket}/{self.browser.prefix}", self.browser.prefix,
                                 self.parent_widget)
        return dialog_future(dialog, lambda r: dialog.name() if r == QDialog.DialogCode.Accepted else None)


def _sizes_under(client, bucket: str, prefix: str) -> dict[str, int]:
    """{key: size} of every key under `prefix` (its own marker included), from one listing."""
    return {o.key: o.size for page in PrefixLister(client, bucket, prefix, recursive=True) for o in page.objects}
