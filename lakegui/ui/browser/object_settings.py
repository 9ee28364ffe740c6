"""Object and bucket settings from the browser: Change storage class… (queued copies in place),
Restore… for Glacier and Deep Archive objects, the Restore column, and Create bucket… / Delete
bucket… from the bucket switcher.

S3 calls run in the executor through core (tagging.py, buckets.py, transfers/copy.py); questions
are window-modal dialogs answering a future, and each is a replaceable callable so tests and
scripts can answer it."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox, QStyle, QToolButton

from ...core import buckets, tagging
from ...core.errors import classify
from ...core.listing import ObjectEntry
from ...core.transfers.copy import CopyItem, copy_jobs, plan_copy
from ...core.transfers.jobs import Direction, OverwritePolicy
from ...core.transfers.object_jobs import restore_job
from ...core.units import counted
from ..dialogs.answers import answered, dialog_future
from ..dialogs.new_bucket import NewBucketDialog
from ..dialogs.restore import RestoreDialog, already_text
from ..dialogs.storage_class import StorageClassDialog
from ..tasks import in_executor
from .restore_column import RestoreColumn

log = logging.getLogger(__name__)


class ObjectSettings(QObject):
    done = Signal(str)  # what happened, for the status bar
    failed = Signal(str)  # a message for a person (a refusal, or a failure)
    queued = Signal(int, int)  # batch id, jobs

    def __init__(self, browser, executor: Executor, parent=None):
        super().__init__(parent)
        self.browser = browser
        self.executor = executor
        self.queue = None  # the window's TransferQueue (attach())
        self._tasks: set[asyncio.Task] = set()
        # batch id -> {"jobs": count, "ended": {job id: JobRow}, "on_end": called with the ended rows}
        self._batches: dict[int, dict] = {}
        # Questions, replaceable: each returns the answer or a future of it (None: cancelled).
        self.ask_storage_class: Callable[[str, str], object] = self._ask_storage_class  # -> class
        self.ask_restore: Callable[[str, bool, str], object] = self._ask_restore  # -> (tier, days)
        self.ask_new_bucket: Callable[[], object] = self._ask_new_bucket  # -> (name, region)
        self.confirm: Callable[[str, str], object] = self._confirm  # (title, text) -> bool

        self.storage_class_action = self._action(
            "Change storage class…", QStyle.StandardPixmap.SP_DriveHDIcon, self.change_storage_class,
            "Copy the selected objects onto themselves in another storage class (queued; metadata and tags kept)")
        self.restore_action = self._action(
            "Restore…", QStyle.StandardPixmap.SP_BrowserReload, self.restore,
            "Ask S3 to restore the selected Glacier or Deep Archive objects for some days")
        self.create_bucket_action = self._action(
            "Create bucket…", QStyle.StandardPixmap.SP_FileDialogNewFolder, self.create_bucket,
            "Create a bucket at this endpoint")
        self.delete_bucket_action = self._action(
            "Delete bucket…", QStyle.StandardPixmap.SP_TrashIcon, self.delete_bucket,
            "Delete the open bucket, if it is empty")

        # A button beside the bucket switcher with the bucket actions.
        self.bucket_button = QToolButton(browser)
        self.bucket_button.setObjectName("bucketMenuButton")
        self.bucket_button.setAccessibleName("Bucket actions")
        self.bucket_button.setToolTip("Create a bucket, or delete the open one")
        self.bucket_button.setText("⋯")
        self.bucket_button.setAutoRaise(True)
        self.bucket_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.bucket_menu = QMenu(self.bucket_button)
        self.bucket_menu.addAction(self.create_bucket_action)
        self.bucket_menu.addAction(self.delete_bucket_action)
        self.bucket_button.setMenu(self.bucket_menu)

        self.restore_column = RestoreColumn(browser, executor, browser.model.RESTORE_COLUMN, self)
        browser.table.horizontalHeader().resizeSection(browser.model.RESTORE_COLUMN, 110)
        browser.table.selectionModel().selectionChanged.connect(self.update_actions)
        browser.location_changed.connect(self.update_actions)
        self.update_actions()

    def _action(self, text, pixmap, slot, tip: str) -> QAction:
        action = QAction(self.browser.style().standardIcon(pixmap), text, self.browser)
        action.setToolTip(text.rstrip("…"))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def attach(self, queue) -> None:
        """Queue through the window's TransferQueue, and follow its jobs' ends."""
        self.queue = queue
        queue.job_finished.connect(self._on_queue_job_finished)

    def cancel(self) -> None:
        self.restore_column.cancel()
        for t in list(self._tasks):
            t.cancel()

    def _start(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # what applies now

    def _here(self) -> bool:
        return self.browser.connection is not None and bool(self.browser.bucket)

    def archived_selected(self) -> list[ObjectEntry]:
        objects, _ = self.browser.selected_entries()
        return [o for o in objects if o.storage_class in tagging.ARCHIVED]

    def update_actions(self, *_) -> None:
        objects, prefixes = self.browser.selected_entries()
        here = self._here()
        self.storage_class_action.setEnabled(here and bool(objects or prefixes))
        self.restore_action.setEnabled(here and bool(self.archived_selected() or prefixes))
        self.create_bucket_action.setEnabled(self.browser.connection is not None)
        self.delete_bucket_action.setEnabled(here)

    def menu_entries(self) -> list[tuple[QAction, bool]]:
        """(action, enabled) for the browser's context menu."""
        objects, prefixes = self.browser.selected_entries()
        here = self._here()
        return [(self.storage_class_action, here and bool(objects or prefixes)),
                (self.restore_action, here and bool(self.archived_selected() or prefixes))]

    # storage class

    def change_storage_class(self) -> asyncio.Task | None:
        objects, prefixes = self.browser.selected_entries()
        if not self._here() or not (objects or prefixes):
            return None
        return self._start(self._change_storage_class(objects, prefixes))

    async def _change_storage_class(self, objects: list[ObjectEntry], prefixes: list[str]) -> None:
        if self.queue is None or not self.queue.available:
            self.failed.emit("Cannot change the storage class: transfers are unavailable.")
            return
        conn, bucket = self.browser.connection, self.browser.bucket
        what = ", ".join(filter(None, (counted(len(objects), "object") if objects else "",
                                       counted(len(prefixes), "folder") if prefixes else "")))
        classes = {o.storage_class for o in objects}
        chosen = await answered(self.ask_storage_class(f"{what} in s3://{bucket}/{self.browser.prefix}",
                                                      classes.pop() if len(classes) == 1 and not prefixes else ""))
        if not chosen:
            return

        def plan() -> list[CopyItem]:  # folders list every key under them (in place: the same key)
            items = [CopyItem(o.key, o.key, o.size, o.etag, o.storage_class) for o in objects]
            for prefix in prefixes:
                items += plan_copy(None, bucket, prefix, prefix, listing_client=conn.listing_client(),
                                   raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
            return list({it.key: it for it in items if not it.key.endswith("/")}.values())

        try:
            items = await in_executor(self.executor, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not list the selection: {classify(exc, bucket=bucket).message}")
            return
        already = [it for it in items if (it.storage_class or "STANDARD") == chosen]
        items = [it for it in items if (it.storage_class or "STANDARD") != chosen]
        if not items:
            self.done.emit(f"Nothing to change: the selection is in {chosen} already.")
            return
        jobs = copy_jobs(items, bucket, bucket, storage_class=chosen, policy=OverwritePolicy.OVERWRITE)
        name = f"Storage class {chosen}: {counted(len(jobs), 'object')} in s3://{bucket}/{self.browser.prefix}"
        try:
            batch, rows = await in_executor(self.executor, self.queue.store_batch, name, str(Direction.COPY),
                                            conn.profile.to_dict(), jobs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not queue the copies: {exc}")
            return
        self._follow(batch, len(rows), lambda ended: self._storage_class_changed(ended, chosen, bucket))
        self.queue.show_stored(batch, rows)
        log.info("Queued %s (batch %d)", name, batch)
        self.queued.emit(batch, len(rows))
        skipped = f" ({len(already):,} already in {chosen})" if already else ""
        self.done.emit(f"Queued: {counted(len(rows), 'object')} to {chosen}{skipped}")

    def _follow(self, batch: int, jobs: int, on_end: Callable[[list], None]) -> None:
        self._batches[batch] = {"jobs": jobs, "ended": {}, "on_end": on_end}

    def _on_queue_job_finished(self, job_id: int, state: str) -> None:
        row = self.queue.row_for(job_id)
        batch = self._batches.get(row.batch_id) if row is not None else None
        if batch is None:
            return
        batch["ended"][job_id] = row
        if len(batch["ended"]) >= batch["jobs"]:
            del self._batches[row.batch_id]
            ended = list(batch["ended"].values())
            QTimer.singleShot(0, lambda: batch["on_end"](ended))  # after the queue's own handlers

    def _storage_class_changed(self, ended: list, chosen: str, bucket: str) -> None:
        ok = sum(1 for r in ended if r.state == "done")
        text = f"Changed the storage class of {counted(ok, 'object')} to {chosen}"
        if ok < len(ended):
            self.failed.emit(f"{text}; {len(ended) - ok:,} failed (the queue says why)")
        else:
            self.done.emit(text)
        if self._here() and self.browser.bucket == bucket:
            self.browser.refresh()  # the listing shows the new classes

    def _ask_storage_class(self, what: str, current: str) -> asyncio.Future:
        dialog = StorageClassDialog(what, current, self.browser)
        return dialog_future(dialog, lambda r: dialog.storage_class() if r == QDialog.DialogCode.Accepted else None)

    # restore

    def restore(self) -> asyncio.Task | None:
        _, prefixes = self.browser.selected_entries()
        archived = self.archived_selected()
        if not self._here() or not (archived or prefixes):
            return None
        return self._start(self._restore(archived, prefixes))

    async def _restore(self, archived: list[ObjectEntry], prefixes: list[str]) -> None:
        conn, bucket = self.browser.connection, self.browser.bucket
        if prefixes:  # the archived objects under the selected folders
            def under() -> list[ObjectEntry]:
                from ...core.listing import PrefixLister

                found = []
                for prefix in prefixes:
                    lister = PrefixLister(conn.listing_client(), bucket, prefix, recursive=True,
                                          raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
                    found += [o for page in lister for o in page.objects if o.storage_class in tagging.ARCHIVED]
                return found

            try:
                archived = archived + await in_executor(self.executor, under)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed.emit(f"Could not list the selection: {classify(exc, bucket=bucket).message}")
                return
        if not archived:
            self.done.emit("Nothing to restore: no Glacier or Deep Archive objects are selected.")
            return
        deep = any(o.storage_class == "DEEP_ARCHIVE" for o in archived)
        already = already_text([self.restore_column.state(o.key) for o in archived], len(archived))
        answer = await answered(self.ask_restore(counted(len(archived), "archived object"), deep, already))
        if not answer:
            return
        tier, days = answer
        if self.queue is None or not self.queue.available:
            self.failed.emit("Cannot restore: transfers are unavailable.")
            return
        keys = [o.key for o in archived]
        jobs = [restore_job(bucket, o.key, days, tier, o.storage_class) for o in archived]  # a tier the class lacks fails here
        name = f"Restore {counted(len(jobs), 'object')} in s3://{bucket}/{self.browser.prefix} ({tier}, {days} d)"
        try:
            batch, rows = await in_executor(self.executor, self.queue.store_batch, name, str(Direction.RESTORE),
                                            conn.profile.to_dict(), jobs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not queue the restore: {exc}")
            return
        self._follow(batch, len(rows), lambda ended: self._restored(ended, tier, days, keys))
        self.queue.show_stored(batch, rows)
        log.info("Queued %s (batch %d)", name, batch)
        self.queued.emit(batch, len(rows))
        self.done.emit(f"Queued: restore of {counted(len(rows), 'object')} ({tier}, {counted(days, 'day')})")

    def _restored(self, ended: list, tier: str, days: int, keys: list[str]) -> None:
        """Say how the restore requests went: started, already restored (days updated), already
        under way, failed; and ask the Restore column about those rows again."""
        self.restore_column.forget(keys)
        started = sum(1 for r in ended if r.state == "done" and "already" not in r.error)
        again = sum(1 for r in ended if r.state == "done" and "already" in r.error)
        under_way = [r for r in ended if r.state != "done" and "in progress" in r.error.lower()]
        failures = [r for r in ended if r.state != "done" and r not in under_way]
        parts = [f"{counted(n, 'object')} {what}" for n, what in
                 ((started, "started"), (again, "already restored (days updated)"),
                  (len(under_way), "already being restored")) if n]
        text = f"Restore ({tier}, {counted(days, 'day')}): " + ", ".join(parts) if parts else ""
        if failures:
            first = "; ".join(f"{r.uri}: {r.error}" for r in failures[:3])
            self.failed.emit((text + "; " if text else "") + f"{len(failures):,} could not be restored: {first}")
        else:
            self.done.emit(text)

    def _ask_restore(self, what: str, deep: bool, already: str = "") -> asyncio.Future:
        dialog = RestoreDialog(what, deep, self.browser, already)
        return dialog_future(dialog, lambda r: dialog.request() if r == QDialog.DialogCode.Accepted else None)

    # buckets

    def create_bucket(self) -> asyncio.Task | None:
        if self.browser.connection is None:
            return None
        return self._start(self._create_bucket())

    async def _create_bucket(self) -> None:
        conn = self.browser.connection
        answer = await answered(self.ask_new_bucket())
        if not answer:
            return
        name, region = answer
        try:
            client = await in_executor(self.executor, conn.client)
            if not buckets.bucket_name_problem(name):  # a bad name is refused below, without a request
                exists = await in_executor(self.executor, buckets.bucket_exists, client, name)
                if exists:
                    self.failed.emit(f"A bucket named '{name}' exists already" +
                                     (" in this account." if exists == "yours" else
                                      ": bucket names are shared by every account; choose another."))
                    return
            await in_executor(self.executor, tagging.create_bucket, client, name, region or conn.profile.region)
        except asyncio.CancelledError:
            raise
        except ValueError as exc:  # the name breaks S3's rules: the reason, before any request
            self.failed.emit(str(exc))
            return
        except Exception as exc:
            info = classify(exc, bucket=name, endpoint=conn.profile.endpoint_url or None)
            if info.code in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                self.failed.emit(f"A bucket named '{name}' exists already"
                                 + (" (it is yours)." if info.code == "BucketAlreadyOwnedByYou" else
                                    ": bucket names are shared by every account; choose another."))
            else:
                self.failed.emit(f"Could not create the bucket '{name}': {info.message}")
            return
        log.info("Created the bucket s3://%s (%s)", name, region or conn.profile.region or "default region")
        self.done.emit(f"Created the bucket s3://{name}")
        self.browser.switch_bucket(name)

    def _ask_new_bucket(self) -> asyncio.Future:
        conn = self.browser.connection
        dialog = NewBucketDialog(conn.profile.endpoint_url or f"AWS ({conn.profile.region})", conn.profile.region,
                                 self.browser)
        return dialog_future(dialog, lambda r: (dialog.name(), dialog.region())
                              if r == QDialog.DialogCode.Accepted else None)

    def delete_bucket(self) -> asyncio.Task | None:
        if not self._here():
            return None
        return self._start(self._delete_bucket(self.browser.bucket))

    async def _delete_bucket(self, bucket: str) -> None:
        conn = self.browser.connection
        try:
            client = await in_executor(self.executor, conn.client)
            held = await in_executor(self.executor, buckets.bucket_contents, client, bucket)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not look inside s3://{bucket}: {classify(exc, bucket=bucket).message}")
            return
        if held:  # refused before asking: S3 would refuse too (BucketNotEmpty)
            self.failed.emit(held)
            return
        ok = await answered(self.confirm("Delete bucket", f"Delete the empty bucket s3://{bucket}?\n"
                                        "Its name may be taken by anyone afterwards."))
        if not ok:
            return
        try:
            await in_executor(self.executor, tagging.delete_empty_bucket, client, bucket)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            info = classify(exc, bucket=bucket)
            self.failed.emit(f"s3://{bucket} was not deleted: it is not empty (something was written meanwhile)."
                             if info.code == "BucketNotEmpty" else f"s3://{bucket} was not deleted: {info.message}")
            return
        log.info("Deleted the bucket s3://%s", bucket)
        self.done.emit(f"Deleted the bucket s3://{bucket}")
        box = self.browser.bucket_box
        if (i := box.findText(bucket)) >= 0:
            box.removeItem(i)
        if self.browser.bucket == bucket:
            others = [box.itemText(i) for i in range(box.count())]
            if others:
                self.browser.switch_bucket(others[0])
            else:
                self.browser.model.reset("")
                self.browser.report_unavailable(f"s3://{bucket} was deleted. Create a bucket, or type a name.")

    def _confirm(self, title: str, text: str) -> asyncio.Future:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.browser)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return dialog_future(box, lambda r: r == QMessageBox.StandardButton.Yes)
