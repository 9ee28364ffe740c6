"""Show versions in the browser (Ctrl+Shift+H), and the bucket's versioning state.

While it is on, every listing of a prefix is followed by a version listing of it (a coroutine in
a TaskSlot, page by page, as the listing is): keys whose latest version is a delete marker are
added to the table dimmed, and so are folders that only hold such keys (a folder the version
listing names and the plain listing, once it has ended, does not). The Versions pane shows the
selected object's versions from what has been listed; its actions call core/versions.py in the
executor, after asking where a change is lasting, then list the prefix again."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ...core import versions as core
from ...core.errors import classify
from ...core.gcpause import gc_paused
from ...core.listing import ObjectEntry, PrefixEntry
from ...core.versions import ENABLED, NEVER, SUSPENDED, VersionEntry
from ..dialogs.answers import answered
from ..tasks import TaskSlot, in_executor
from .model import ENTRY_ROLE
from .versions_model import DeletedObject, VersionIndex
from .versions_pane import VersionsPane

log = logging.getLogger(__name__)

STATE_TEXT = {ENABLED: "Versioning: on", SUSPENDED: "Versioning: suspended", NEVER: "Versioning: off"}


def delete_consequence(state: str) -> str:
    """What a delete does on a bucket in versioning `state` ('' when it could not be read)."""
    if state == ENABLED:
        return ("The bucket keeps versions: a delete marker is added; Undelete brings it back "
                "(View › Show versions).")
    if state == SUSPENDED:
        return ("Versioning is suspended on this bucket: a delete marker is added, and Undelete brings back "
                "a version kept from before; an object written since versioning was suspended is deleted "
                "permanently.")
    if state == NEVER:
        return "The bucket does not keep versions: the delete is permanent."
    return "This cannot be undone unless the bucket keeps versions."


def replace_consequence(state: str) -> str:
    """What replacing an existing object does on a bucket in versioning `state` ('' when it could
    not be read), said as the Delete question says what a delete does."""
    if state == ENABLED:
        return "The bucket keeps versions: a replaced object's earlier version remains (View › Show versions)."
    if state == SUSPENDED:
        return ("Versioning is suspended on this bucket: an object written since versioning was suspended is "
                "replaced permanently.")
    if state == NEVER:  # as the backfill wizard warns: "gone for good", and how to keep them
        return ("Replacing cannot be undone: the bucket keeps no versions, so a replaced object is gone for good "
                "(Edit › Enable bucket versioning… keeps them).")
    return "Replacing cannot be undone unless the bucket keeps versions."


def read_versioning(client, bucket: str) -> str:
    """The bucket's versioning state, '' when it cannot be read (the questions then say less)."""
    try:
        return core.versioning_state(client, bucket)
    except Exception:  # noqa: BLE001  a server without versioning's API, or no right to ask
        return ""


def named(names: list[str], shown: int = 5) -> str:
    """The first `shown` of `names`, one a line, and how many more there are."""
    lines = [f"  {n}" for n in names[:shown]]
    if len(names) > shown:
        lines.append(f"  … and {len(names) - shown:,} more")
    return "\n".join(lines)


def version_uri(bucket: str, key: str, version_id: str) -> str:
    return f"s3://{bucket}/{key}?versionId={version_id}"


def _ask(parent: QWidget, title: str, text: str, yes: str) -> asyncio.Future:
    """A window-modal question answering a future (no nested event loop); Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("versionsQuestion")
    ok = box.addButton(yes, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    future = asyncio.get_event_loop().create_future()

    def on_finished(_result) -> None:
        if not future.done():
            future.set_result(box.clickedButton() is ok)
        box.deleteLater()

    box.finished.connect(on_finished)
    box.open()
    return future


class BrowserVersions(QObject):
    """The browser's Show versions mode, its Versions pane and the bucket's versioning state."""

    state_changed = Signal(str)  # ENABLED, SUSPENDED, NEVER, or '' (unknown: not connected, or not allowed)
    versions_listed = Signal(str, int)  # prefix, versions and delete markers: both listings have ended
    done = Signal(str)  # what happened, for the status bar
    failed = Signal(str)  # a message for a person
    preview_requested = Signal(object, str)  # ObjectEntry of the version, version id
    download_requested = Signal(object, str)  # ObjectEntry of the version, version id
    version_deleted = Signal(str, str, str, bool)  # bucket, key, version id deleted for good, whether the latest

    def __init__(self, browser, executor: Executor):
        super().__init__(browser)
        self.browser = browser
        self.executor = executor
        self.index = VersionIndex()
        self.pane = VersionsPane(browser)
        self.pane.hide()
        self.state = ""
        self._state_place: tuple = ()
        self._slot = TaskSlot("versions listing")
        self._state_slot = TaskSlot("versioning state")
        self._tasks: set[asyncio.Task] = set()
        self._generation = 0
        self._plain_done = self._versions_done = False
        self._versions_error = ""  # the version listing's failure, said once the plain listing's end is known
        self._versions_where = ""
        self._folders: list[str] = []  # folders the version listing named, not yet known to be live
        self._select_after = ""  # a key or folder to select once listed again (after an action)
        # (title, text, yes-button text) -> bool or a future of one; replaceable in tests.
        self.confirm: Callable[[str, str, str], object] = lambda t, x, y: _ask(browser, t, x, y)

        self.toggle_action = QAction("Show &versions", browser, checkable=True)
        self.toggle_action.setObjectName("showVersions")
        self.toggle_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.toggle_action.setToolTip("Show versions (Ctrl+Shift+H): deleted objects and folders, and the "
                                      "versions of the selected object")
        self.toggle_action.setStatusTip("Show deleted objects and folders, and every version of the selected "
                                        "object, on a bucket that keeps versions")
        self.toggle_action.toggled.connect(self.set_enabled)
        self.versioning_action = QAction("Enable bucket versioning…", browser)
        self.versioning_action.setObjectName("bucketVersioning")
        self.versioning_action.setEnabled(False)
        self.versioning_action.triggered.connect(self.change_versioning)

        p = self.pane
        p.undelete_action.triggered.connect(self.undelete)
        p.revert_action.triggered.connect(self.revert)
        p.delete_action.triggered.connect(self.delete_version)
        p.copy_uri_action.triggered.connect(self.copy_uri)
        p.preview_action.triggered.connect(self.preview)
        p.download_action.triggered.connect(self.download)
        p.version_activated.connect(lambda _v: self.preview())

        browser.listing_started.connect(self._on_listing_started)
        browser.listing_finished.connect(self._on_listing_finished)
        browser.listing_failed.connect(self._on_listing_failed)
        browser.location_changed.connect(self._on_location_changed)
        # F5 reads the state again: another tool (lakegui-cli versioning) may have changed it.
        browser.refresh_action.triggered.connect(self.read_state)
        browser.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

    @property
    def enabled(self) -> bool:
        return self.toggle_action.isChecked()

    @property
    def loading(self) -> bool:
        return self._slot.running

    def set_enabled(self, on: bool) -> None:
        """Show versions, or stop: the open prefix is listed again either way."""
        if self.toggle_action.isChecked() != on:
            self.toggle_action.setChecked(on)  # comes back here through toggled
            return
        self.pane.setVisible(on)
        if not on:
            self._slot.cancel()
            self.index.reset("")
            self.pane.show_nothing()
        b = self.browser
        if b.connection is not None and b.bucket:
            b.refresh()

    def cancel(self) -> None:
        for slot in (self._slot, self._state_slot):
            slot.cancel()
        for t in list(self._tasks):
            t.cancel()

    # listing

    def _on_listing_started(self, prefix: str) -> None:
        self._generation += 1
        self._slot.cancel()
        self._plain_done = self._versions_done = False
        self._versions_error = ""
        self._folders = []
        self.index.reset(prefix)
        if self.enabled:
            self.pane.show_nothing("Listing versions…")
            self._slot.start(self._list(prefix, self._generation))

    def _on_listing_failed(self, prefix: str, _message: str) -> None:
        self._slot.cancel()
        if self._versions_error and prefix == self.index.prefix:
            # The plain listing failed too (a missing bucket, no access): the browser says why, once.
            self._versions_error = ""
            self.pane.show_nothing("No versions to show: the folder could not be listed (the reason is under it).")

    def _on_listing_finished(self, prefix: str, _rows: int) -> None:
        if prefix == self.index.prefix:
            self._plain_done = True
            self._say_versions_error()
            self._add_deleted_folders()
            self._select_pending()
            self._finish()

    def _finish(self) -> None:
        if self._plain_done and self._versions_done:
            self._versions_done = False  # said once
            self._select_pending()
            # Said after the plain listing's own end has been handled (the status bar's count).
            asyncio.get_event_loop().call_soon(self._announce, self._generation)

    def _announce(self, generation: int) -> None:
        if not self._current(generation):
            return
        model = self.browser.model
        if model.deleted_rows and model.deleted_rows == model.loaded:  # not "empty: drop files here"
            self.browser.state_label.setText("Everything here is deleted: select an object or folder and "
                                             "Undelete it in the Versions pane to bring it back.")
            self.browser.state_label.show()
        self.versions_listed.emit(self.index.prefix, self.index.entries)

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    async def _list(self, prefix: str, generation: int) -> None:
        b = self.browser
        connection, bucket = b.connection, b.bucket
        try:
            client = await in_executor(self.executor, connection.client)
            lister = core.VersionLister(client, bucket, prefix, recursive=False,
                                        raw=connection.profile.raw_listing, verify=connection.profile.verify_tls)
            with gc_paused():
                while not lister.done:
                    page = await in_executor(self.executor, lister.next_page)
                    if not self._current(generation):
                        return
                    deleted = self.index.add(page)
                    self._folders += page.prefixes
                    if deleted:
                        b.model.add_deleted(deleted, [])
                    self._add_deleted_folders()
                    self._show_selected()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._current(generation):
                info = classify(exc, bucket=bucket, key=prefix, endpoint=connection.profile.endpoint_url or None)
                self.pane.show_nothing("Listing versions…")
                self._versions_error, self._versions_where = info.message, f"s3://{bucket}/{prefix}"
                self._say_versions_error()
            return
        self._show_selected(listed=True)
        self._versions_done = True
        self._finish()

    def _say_versions_error(self) -> None:
        """A failed version listing is news only beside a plain listing that worked (a server
        without versions, a right to list but not to list versions); when the plain listing fails
        as well, its message is the one said (a wrong bucket said it four times)."""
        if self._versions_error and self._plain_done:
            message, self._versions_error = self._versions_error, ""
            self.pane.show_nothing(f"Versions could not be listed: {message}")
            self.failed.emit(f"Versions of {self._versions_where} could not be listed: {message}")

    def _add_deleted_folders(self) -> None:
        """Folders the version listing named that the finished plain listing did not: deleted ones."""
        if self._plain_done and self._folders:
            folders, self._folders = self._folders, []
            self.browser.model.add_deleted([], folders)

    def _select_pending(self) -> None:
        """After an action: select its key (or folder) again once the new listing holds it."""
        if not self._select_after:
            return
        model, wanted = self.browser.model, self._select_after
        for row in range(model.rowCount()):
            e = model.entry(row)
            if (e.prefix if type(e) is PrefixEntry else e.key) == wanted:
                self._select_after = ""
                table, index = self.browser.table, model.index(row, 0)
                flags = table.selectionModel().SelectionFlag
                # Not selectRow: with Ctrl held (or thought held) it would toggle the row instead.
                table.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
                table.scrollTo(index)
                return
        if not self.loading and self._plain_done:
            self._select_after = ""  # gone (a version deleted was the last)

    # the pane

    def selected_entry(self):
        """The one selected row's entry (ObjectEntry, DeletedObject or PrefixEntry), or None."""
        rows = self.browser.table.selectionModel().selectedRows()
        return rows[0].data(ENTRY_ROLE) if len(rows) == 1 else None

    def _on_selection_changed(self, *_) -> None:
        if self.enabled:
            self._show_selected()

    def _show_selected(self, *, listed: bool = False) -> None:
        """The pane for the selection; `listed`: the version listing has just ended (its task is
        still the running one, so `loading` cannot tell)."""
        entry = self.selected_entry()
        if isinstance(entry, (ObjectEntry, DeletedObject)):
            self.pane.show_key(entry.key, self.index.versions(entry.key), complete=self.index.known(entry.key))
        elif isinstance(entry, PrefixEntry) and entry.prefix in self.browser.model.deleted_prefixes:
            self.pane.show_folder(entry.prefix)
        elif isinstance(entry, PrefixEntry):
            self.pane.show_nothing(f"{entry.prefix}: open the folder to see the versions of its objects.")
        elif self.pane.key or self.pane.folder or listed or not self.loading:
            self.pane.show_nothing()

    def _chosen(self) -> tuple[str, VersionEntry] | None:
        v = self.pane.selected()
        return (self.pane.key, v) if v is not None and self.pane.key else None

    def _start(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _listing(self) -> dict:
        profile = self.browser.connection.profile
        return {"raw": profile.raw_listing, "verify": profile.verify_tls}

    async def _run(self, what: str, key: str, fn, *args) -> bool:
        """Run a core call in the executor; False (and a message) when it fails."""
        b = self.browser
        try:
            client = await in_executor(self.executor, b.connection.client)
            await in_executor(self.executor, fn, client, b.bucket, *args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            info = classify(exc, bucket=b.bucket, key=key or None)
            self.failed.emit(f"Could not {what}: {info.message}")
            return False
        return True

    def _after(self, text: str, key: str) -> None:
        log.info("%s", text)
        self.done.emit(text)
        self._select_after = key
        self.browser.refresh()

    def undelete(self) -> asyncio.Task | None:
        b = self.browser
        if b.connection is None or not self.pane.deleted:
            return None
        if self.pane.folder:
            return self._start(self._undelete(self.pane.folder, True))
        return self._start(self._undelete(self.pane.key, False)) if self.pane.key else None

    async def _undelete(self, target: str, folder: bool) -> None:
        b = self.browser
        result: list[core.UndeleteResult] = []

        def run(client, bucket, prefix):
            result.append(core.undelete(client, bucket, prefix, recursive=folder, **self._listing()))

        if not await self._run("undelete", target, run, target):
            return
        r = result[0]
        if r.errors:
            first = "; ".join(f"{k}: {m}" for k, m in r.errors[:3])
            self.failed.emit(f"Undeleted {len(r.restored):,}; {len(r.errors):,} could not be undeleted: {first}")
        uri = f"s3://{b.bucket}/{target}"
        n = len(r.restored)
        self._after(f"Undeleted {uri}" if not folder else
                    f"Undeleted {n:,} object{'' if n == 1 else 's'} in {uri}", target)

    def revert(self) -> asyncio.Task | None:
        chosen = self._chosen()
        if chosen is None or chosen[1].delete_marker or chosen[1].latest:
            return None
        return self._start(self._revert(*chosen))

    async def _revert(self, key: str, v: VersionEntry) -> None:
        uri = f"s3://{self.browser.bucket}/{key}"
        when = v.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v.last_modified else "?"
        ok = await answered(self.confirm(
            "Revert to this version",
            f"Make version {v.version_id} of {uri} (of {when}) the latest again?\n"
            "It is copied over the latest version, server-side; the latest version stays in the history, "
            "so this can be reverted too.", "Revert"))
        if ok and await self._run("revert", key, core.revert, key, v.version_id):
            self._after(f"Reverted {uri} to the version of {when}", key)

    def delete_version(self) -> asyncio.Task | None:
        chosen = self._chosen()
        return None if chosen is None else self._start(self._delete_version(*chosen))

    async def _delete_version(self, key: str, v: VersionEntry) -> None:
        uri = f"s3://{self.browser.bucket}/{key}"
        what = "the delete marker" if v.delete_marker else "version"
        extra = ""
        if v.latest and v.delete_marker:
            extra = "\nThe object is back once its delete marker is gone."
        elif v.latest:
            extra = "\nIt is the latest version: the one below it becomes the latest."
        ok = await answered(self.confirm(
            "Delete version permanently",
            f"Delete {what} {v.version_id} of {uri} permanently?\nThis cannot be undone.{extra}",
            "Delete permanently"))
        if ok and await self._run("delete the version", key, core.delete_version, key, v.version_id):
            if not v.delete_marker:  # a preview of it lets go (a marker is never previewed)
                self.version_deleted.emit(self.browser.bucket, key, v.version_id, v.latest)
            self._after(f"Deleted {what} {v.version_id} of {uri} permanently", key)

    def copy_uri(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            key, v = chosen
            QApplication.clipboard().setText(version_uri(self.browser.bucket, key, v.version_id))
            self.done.emit(f"Copied the URI of version {v.version_id}")

    def _version_entry(self, key: str, v: VersionEntry) -> ObjectEntry:
        return ObjectEntry(key, v.size, v.last_modified, v.etag, "STANDARD")

    def preview(self) -> None:
        chosen = self._chosen()
        if chosen is not None and not chosen[1].delete_marker:
            self.preview_requested.emit(self._version_entry(*chosen), chosen[1].version_id)

    def download(self) -> None:
        chosen = self._chosen()
        if chosen is not None and not chosen[1].delete_marker:
            self.download_requested.emit(self._version_entry(*chosen), chosen[1].version_id)

    # the bucket's versioning state

    def _on_location_changed(self, location) -> None:
        place = (id(location.connection), location.bucket)
        if place == self._state_place:
            return
        self._state_place = place
        self._set_state("")
        self.read_state()

    def read_state(self) -> None:
        """Read the bucket's versioning state again, off the UI thread (the one shown stays meanwhile)."""
        b = self.browser
        if b.connection is not None and b.bucket:
            self._state_slot.start(self._read_state())

    async def _read_state(self) -> None:
        b = self.browser
        try:
            client = await in_executor(self.executor, b.connection.client)
            state = await in_executor(self.executor, core.versioning_state, client, b.bucket)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # not allowed to read it, or no such bucket: unknown, not an error
            log.info("The versioning state of s3://%s is unknown: %s", b.bucket, exc)
            return
        self._set_state(state)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.versioning_action.setEnabled(bool(state))
        self.versioning_action.setText("Suspend bucket versioning…" if state == ENABLED
                                       else "Enable bucket versioning…")
        self.state_changed.emit(state)

    def change_versioning(self) -> asyncio.Task | None:
        if self.browser.connection is None or not self.state:
            return None
        return self._start(self._change_versioning(self.state != ENABLED))

    async def _change_versioning(self, enable: bool) -> None:
        bucket = self.browser.bucket
        if enable:
            title, yes = "Enable bucket versioning", "Enable versioning"
            text = (f"Turn on versioning for s3://{bucket}?\nEvery overwrite and delete then keeps the "
                    "version it replaces (billed as storage until it is deleted), and Undelete and Revert "
                    "work. Versioning can be suspended later, but never turned off.")
        else:
            title, yes = "Suspend bucket versioning", "Suspend versioning"
            text = (f"Suspend versioning for s3://{bucket}?\nThe versions kept so far stay. From now on an "
                    "overwrite replaces the object and a delete removes what was written since, for good.")
        if not await answered(self.confirm(title, text, yes)):
            return
        result: list[str] = []
        if await self._run("change the bucket's versioning", "",
                           lambda c, bkt: result.append(core.set_versioning(c, bkt, enable))):
            self._set_state(result[0])
            self.done.emit(f"Versioning of s3://{bucket} is {'on' if result[0] == ENABLED else result[0]}")
