"""Reorganising in the browser: Rename (F2, in place), Cut, Copy and Paste, drag onto a folder
row or a breadcrumb segment (move; copy with Ctrl held) and Duplicate.

Every one becomes a batch of copy or move jobs in the transfer queue (core/transfers/copy.py
runs them: verified copies, a move deletes its source only after that), planned off the UI
thread by core/transfers/reorganise.py. Existing targets are asked about once for the batch,
as uploads are. When the batch ends the folders it touched are listed again. Questions are
replaceable callables, so tests and scripts can answer them.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from ...core.connection import Connection
from ...core.errors import classify
from ...core.gcpause import gc_paused
from ...core.listing import ObjectEntry, PrefixEntry, parent_prefix
from ...core.transfers.jobs import Direction, OverwritePolicy
from ...core.transfers.reorganise import (
    Source,
    duplicate_name,
    into_folder,
    placement_problem,
    plan_placements,
    renamed,
)
from ...core.units import counted
from ...core.versions import ENABLED
from ..dialogs.overwrite import ask_overwrite_policy
from ..resources import icon
from ..tasks import in_executor
from .clipboard import Clipping, ObjectClipboard
from .model import ENTRY_ROLE
from .versions import named, read_versioning, replace_consequence

log = logging.getLogger(__name__)
_SETTING_POLICY = {"skip-same": OverwritePolicy.SKIP_IF_SAME, "skip": OverwritePolicy.SKIP,
                   "overwrite": OverwritePolicy.OVERWRITE}  # Edit › Settings…' standing choice; "ask" asks


def source_of(entry) -> Source:
    """A listed row as something to place: a folder's prefix, or an object with its listing."""
    if isinstance(entry, PrefixEntry):
        return Source(entry.prefix)
    return Source(entry.key, entry.size, entry.etag, entry.storage_class, listed=True)


def _same_connection(a: Connection, b: Connection) -> bool:
    """Whether one client reaches both (a server-side copy); a profile's name and default bucket
    do not change where requests go or with which keys."""
    def where(c: Connection) -> dict:
        return {k: v for k, v in c.profile.to_dict().items() if k not in ("name", "bucket")}

    return a is b or where(a) == where(b)


@dataclass
class _Batch:
    """A queued batch of ours, until its last job ends."""

    verb: str  # "move", "copy", "rename", "duplicate"
    jobs: int
    where: str  # the target folder's URI
    folders: set = field(default_factory=set)  # (bucket, prefix) the batch changes, listed again at its end
    reveal: str = ""  # a renamed object's new key, selected when its folder is listed again
    renamed: tuple = ()  # a rename's (source key or prefix, target): its end names both
    ended: dict = field(default_factory=dict)  # job id -> state


class Reorganiser(QObject):
    done = Signal(str)  # what happened, for the status bar
    failed = Signal(str)  # a message for a person (a refusal, or a failure)
    queued = Signal(int, int)  # batch id, jobs

    def __init__(self, browser, executor: Executor, parent=None):
        super().__init__(parent)
        self.browser = browser
        self.executor = executor
        self.queue = None  # the window's TransferQueue (attach())
        self.clipboard = ObjectClipboard(self)
        self._tasks: set[asyncio.Task] = set()
        self._batches: dict[int, _Batch] = {}
        # (targets that exist, objects in all, where, names=their names, versioning=the target
        # bucket's state) -> OverwritePolicy, or None to cancel
        self.choose_policy: Callable[..., object] = self._ask_policy

        self.rename_action = self._action("Rename", "rename",
                                          QKeySequence("F2"), self.rename,
                                          "Rename the selected object or folder in place (a queued move)")
        self.cut_action = self._action("Cut", "cut",
                                       QKeySequence(QKeySequence.StandardKey.Cut), self.cut,
                                       "Cut the selection: Paste moves it into another folder or bucket")
        self.copy_action = self._action("Copy", "copy",
                                        QKeySequence(QKeySequence.StandardKey.Copy), self.copy,
                                        "Copy the selection (and its s3:// URIs as text): Paste copies it")
        self.paste_action = self._action("Paste", "paste",
                                         QKeySequence(QKeySequence.StandardKey.Paste), self.paste,
                                         "Copy (or, after Cut, move) the clipboard's objects into this folder")
        self.duplicate_action = self._action("Duplicate", "duplicate",
                                             QKeySequence("Ctrl+Alt+D"), self.duplicate,
                                             "Copy each selected item beside itself as 'name copy'")

        table = browser.table
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2 only: a double-click opens
        browser.model.rename_requested.connect(self._on_model_rename_requested)
        table.selectionModel().selectionChanged.connect(self.update_actions)
        browser.location_changed.connect(self.update_actions)
        self.clipboard.changed.connect(self.update_actions)
        self.clipboard.changed.connect(self.show_cut)
        browser.location_changed.connect(self.show_cut)
        self.update_actions()

    def _action(self, text, icon_name: str, shortcut, slot, tip: str) -> QAction:
        action = QAction(icon(icon_name), text, self.browser)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{text} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.browser.addAction(action)
        return action

    def attach(self, queue) -> None:
        """Queue through the window's TransferQueue, and follow its jobs' ends."""
        self.queue = queue
        queue.jobs_finished.connect(self._on_queue_jobs_finished)

    def cancel(self) -> None:
        for t in list(self._tasks):
            t.cancel()

    # what applies now

    def _here(self) -> bool:
        return self.browser.connection is not None and bool(self.browser.bucket)

    def can_paste(self) -> bool:
        return self._here() and self.clipboard.current() is not None

    def update_actions(self, *_) -> None:
        objects, prefixes = self.browser.selected_entries()
        some = self._here() and bool(objects or prefixes)
        self.rename_action.setEnabled(some and len(objects) + len(prefixes) == 1)
        for action in (self.cut_action, self.copy_action, self.duplicate_action):
            action.setEnabled(some)
        self.paste_action.setEnabled(self.can_paste())

    def show_cut(self, *_) -> None:
        """Dim what Cut took wherever this bucket shows it, until it is pasted or the system clipboard
        holds something else (then Paste would not move it)."""
        clip, b = self.clipboard.current(), self.browser
        shown = (clip is not None and clip.cut and b.connection is not None and clip.bucket == b.bucket
                 and _same_connection(clip.connection, b.connection))
        b.model.set_cut([s.key for s in clip.sources] if shown else ())

    def _selection(self) -> list[Source]:
        objects, prefixes = self.browser.selected_entries()
        return [*(Source(p) for p in prefixes), *(source_of(o) for o in objects)]

    # the actions

    def rename(self) -> None:
        """Open the name cell's editor; Enter asks the model, which asks _on_model_rename_requested."""
        rows = self.browser.table.selectionModel().selectedRows()
        if len(rows) != 1 or not self._here():
            return
        index = rows[0].siblingAtColumn(0)
        table = self.browser.table
        table.scrollTo(index)
        table.edit(index)
        editor = table.indexWidget(index)  # the open editor
        if isinstance(editor, QLineEdit) and not isinstance(index.data(ENTRY_ROLE), PrefixEntry):
            # As file managers do: the name without its extension is selected, ready to be typed over.
            cut = editor.text().rfind(".")
            if cut > 0:
                editor.setSelection(0, cut)

    def _on_model_rename_requested(self, entry, name: str) -> None:
        self.rename_to(entry, name)

    def rename_to(self, entry, name: str) -> asyncio.Task | None:
        """Queue the move of `entry` (a listed row) to `name` in its folder; refuse a bad name."""
        if not self._here():
            return None
        if not isinstance(entry, (ObjectEntry, PrefixEntry)):  # a deleted object's row (Show versions)
            self.failed.emit("A deleted object cannot be renamed: Undelete it first (Versions pane).")
            return None
        source = source_of(entry)
        try:
            target = renamed(source, name)
        except ValueError as exc:
            self.failed.emit(f"Cannot rename {source.name}: {exc}")
            return None
        conn, bucket = self.browser.connection, self.browser.bucket
        return self._queue("rename", conn, bucket, [(source, target)], conn, bucket, move=True,
                           reveal="" if source.folder else target, renamed=(source.key, target))

    def cut(self) -> None:
        self._clip(cut=True)

    def copy(self) -> None:
        self._clip(cut=False)

    def _clip(self, *, cut: bool) -> None:
        sources = self._selection()
        if not sources or not self._here():
            return
        self.clipboard.put(Clipping(self.browser.connection, self.browser.bucket, tuple(sources), cut))
        what = counted(len(sources), "item")
        self.done.emit(f"{'Cut' if cut else 'Copied'} {what}: Paste (Ctrl+V) in another folder "
                       f"{'moves' if cut else 'copies'} {'it' if len(sources) == 1 else 'them'} there")

    def paste(self) -> asyncio.Task | None:
        clip = self.clipboard.current()
        if clip is None or not self._here():
            return None
        placements = into_folder(list(clip.sources), self.browser.prefix)
        return self._queue("move" if clip.cut else "copy", clip.connection, clip.bucket, placements,
                           self.browser.connection, self.browser.bucket, move=clip.cut, clear_clipboard=clip.cut)

    def duplicate(self) -> asyncio.Task | None:
        sources = self._selection()
        if not sources or not self._here():
            return None
        here = self.browser.prefix
        model = self.browser.model
        taken = {model.entry(r).name(here).rstrip("/") for r in range(model.rowCount())}
        placements = []
        for s in sources:
            name = duplicate_name(s.name, taken, folder=s.folder)
            taken.add(name)
            placements.append((s, parent_prefix(s.key) + name + ("/" if s.folder else "")))
        conn, bucket = self.browser.connection, self.browser.bucket
        return self._queue("duplicate", conn, bucket, placements, conn, bucket, move=False)

    def drop(self, keys: list[str], folder: str, copy: bool) -> asyncio.Task | None:
        """Objects of this browser dropped onto `folder` (a folder row or a breadcrumb segment)."""
        if not self._here():
            return None
        listed = {}
        for row in range(self.browser.model.rowCount()):
            entry = self.browser.model.entry(row)
            if isinstance(entry, ObjectEntry):
                listed[entry.key] = entry
        sources = [Source(k) if k.endswith("/") else source_of(listed[k]) if k in listed else Source(k)
                   for k in keys]
        conn, bucket = self.browser.connection, self.browser.bucket
        return self._queue("copy" if copy else "move", conn, bucket, into_folder(sources, folder),
                           conn, bucket, move=not copy)

    # planning and queueing

    def _start(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _queue(self, verb: str, src_conn: Connection, src_bucket: str, placements: list,
               dst_conn: Connection, dst_bucket: str, **options) -> asyncio.Task | None:
        """Refuse at once what cannot be done (say why); else plan and queue in a task."""
        if self.queue is None or not self.queue.available:
            self.failed.emit(f"Cannot {verb}: transfers are unavailable"
                             + (f" ({self.queue.error})." if self.queue is not None and self.queue.error else "."))
            return None
        problem = placement_problem(src_bucket, placements, dst_bucket,
                                    same_connection=_same_connection(src_conn, dst_conn))
        if problem:
            self.failed.emit(f"Cannot {verb} here. {problem}")
            return None
        return self._start(self._place(verb, src_conn, src_bucket, placements, dst_conn, dst_bucket, **options))

    async def _place(self, verb: str, src_conn: Connection, src_bucket: str, placements: list,
                     dst_conn: Connection, dst_bucket: str, *, move: bool, reveal: str = "",
                     renamed: tuple = (), clear_clipboard: bool = False) -> int | None:
        """Plan, ask about existing targets, queue; returns the batch, or None when nothing was queued."""
        same = _same_connection(src_conn, dst_conn)
        folder = parent_prefix(placements[0][1])
        where = f"s3://{dst_bucket}/{folder}"

        def plan():
            with gc_paused():  # tens of thousands of entries and items, no cycles (see core/gcpause.py)
                return _plan()

        def _plan():
            src_client = src_conn.client()
            dst_client = src_client if same else dst_conn.client()
            planned = plan_placements(src_client, src_conn.listing_client(), src_bucket, placements, dst_client,
                                      dst_conn.listing_client(), dst_bucket, same_connection=same,
                                      raw=src_conn.profile.raw_listing, verify=src_conn.profile.verify_tls)
            states: dict = {}  # each bucket's versioning, asked once

            def state(client, bucket: str) -> str:
                if (id(client), bucket) not in states:
                    states[(id(client), bucket)] = read_versioning(client, bucket)
                return states[(id(client), bucket)]

            versioned = state(src_client if move else dst_client, src_bucket if move else dst_bucket) == ENABLED
            # What replacing an existing target does is the target bucket's versioning (asked only then).
            return planned, versioned, state(dst_client, dst_bucket) if planned.conflicts else ""

        try:
            planned, versioned, target_state = await in_executor(self.executor, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            info = classify(exc, bucket=src_bucket, endpoint=src_conn.profile.endpoint_url or None)
            self.failed.emit(f"Could not prepare the {verb}: {info.message}")
            return None
        if not planned.items:
            self.failed.emit(f"Nothing to {verb}: the selected folders hold no objects.")
            return None
        policy = OverwritePolicy.ASK  # no target exists (a job whose target appears meanwhile fails, never replaces)
        if planned.conflicts:
            policy = _SETTING_POLICY.get(self.queue.settings.overwrite)
            if policy is None:
                policy = self.choose_policy(len(planned.conflicts), len(planned.items), where,
                                            names=[c.key[len(folder):] if c.key.startswith(folder) else c.key
                                                   for c in planned.conflicts],
                                            versioning=target_state)
                if asyncio.isfuture(policy):
                    policy = await policy
            if policy is None:
                self.done.emit(f"The {verb} was cancelled; nothing was queued.")
                return None
        n = counted(len(planned.items), "object")
        name = f"{verb.capitalize()} {n} to {where}"
        kind = str(Direction.MOVE if move else Direction.COPY)
        source_profile = None if same else src_conn.profile.to_dict()

        def store():  # making 10,000 jobs takes 0.2 s: that and the database write stay off the UI thread
            with gc_paused():
                jobs = planned.jobs(src_bucket, dst_bucket, move=move, policy=policy, source_profile=source_profile)
                return self.queue.store_batch(name, kind, dst_conn.profile.to_dict(), jobs)

        try:
            batch, rows = await in_executor(self.executor, store)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not queue the {verb}: {exc}")
            return None
        folders = {(dst_bucket, parent_prefix(t)) for _, t in placements}
        if move:
            folders |= {(src_bucket, parent_prefix(s.key)) for s, _ in placements}
        self._batches[batch] = _Batch(verb, len(rows), where, folders, reveal, renamed)
        self.queue.show_stored(batch, rows)
        if clear_clipboard:
            self.clipboard.clear()
        log.info("Queued %s: %s (batch %d)", verb, name, batch)
        self.queued.emit(batch, len(rows))
        what = f"{_leaf(renamed[0])} to {_leaf(renamed[1])}" if renamed else f"{n} to {where}"
        self.done.emit(f"Queued: {verb} {what}" + _undo_hint(move, versioned, planned.conflicts, policy))
        return batch

    def _ask_policy(self, conflicts: int, total: int, where: str, *, names: list[str] = (),
                    versioning: str = "") -> asyncio.Future:
        """Ask once for the batch (dialogs/overwrite.py), naming the objects that exist and what
        replacing them does on the target bucket; Enter keeps them."""
        exist = "already exists" if conflicts == 1 else "already exist"
        listed = f":\n{named(list(names))}" if names else "."
        return ask_overwrite_policy(
            self.browser, "Objects already exist",
            f"{conflicts:,} of {counted(total, 'object')} {exist} in {where} (or below it){listed}\n"
            f"What should happen to {'it' if conflicts == 1 else 'them'}?\n{replace_consequence(versioning)}")

    # the end of a batch

    def _on_queue_jobs_finished(self, finished: list) -> None:
        if not self._batches:
            return
        for job_id, state in finished:
            row = self.queue.row_for(job_id)
            batch = self._batches.get(row.batch_id) if row is not None else None
            if batch is None:
                continue
            batch.ended[job_id] = state
            if len(batch.ended) >= batch.jobs:
                del self._batches[row.batch_id]
                QTimer.singleShot(0, lambda b=batch: self._batch_ended(b))  # after the queue's own handlers

    def _batch_ended(self, batch: _Batch) -> None:
        states = list(batch.ended.values())
        failed, skipped = states.count("failed"), states.count("skipped")
        done = states.count("done")
        if not failed:  # before the refresh, which carries it in the status bar while it lists
            self.done.emit(_ended_message(batch, done, skipped))
        b = self.browser
        if b.connection is not None and (b.bucket, b.prefix) in batch.folders:
            # A rename that was skipped leaves the source selected: selecting the existing target
            # read as if the rename had happened.
            reveal = batch.reveal if done else batch.renamed[0] if batch.reveal else ""
            if reveal and parent_prefix(reveal) == b.prefix:
                self._select_when_listed(reveal)
            b.refresh()
        if failed:  # after it: a navigation or refresh dismisses the notice bar
            self.failed.emit(f"{failed:,} of {counted(batch.jobs, 'object')} could not be "
                             f"{'moved' if batch.verb in ('move', 'rename') else 'copied'} to {batch.where}: "
                             "the queue says why (select them and Retry)")


    def _select_when_listed(self, key: str) -> None:
        """Select a renamed object's row once its folder is listed again (browser.reveal() would list
        it a second time, and the status bar's message of the rename would go with the first)."""
        b = self.browser

        def on_listed(prefix: str, _rows: int) -> None:
            b.listing_finished.disconnect(on_listed)
            if prefix != parent_prefix(key):
                return
            for row in range(b.model.rowCount()):
                entry = b.model.entry(row)
                if isinstance(entry, ObjectEntry) and entry.key == key:
                    b.table.selectRow(row)
                    b.table.scrollTo(b.model.index(row, 0))
                    return

        b.listing_finished.connect(on_listed)


def _leaf(key: str) -> str:
    """The last part of a key or prefix: `Q1.json`, `2022/`."""
    return key[len(parent_prefix(key)):]


def _ended_message(batch: _Batch, done: int, skipped: int) -> str:
    """What a batch did, for the status bar: a rename names the old and the new name (a folder's
    parent said nothing), and a batch whose every object was skipped says nothing moved."""
    if batch.verb == "rename" and batch.renamed:
        old, new = (_leaf(k) for k in batch.renamed)
        folder = old.endswith("/")
        if not done:
            if folder:
                return (f"{old} was not renamed: its {counted(skipped, 'object')} "
                        f"{'exists' if skipped == 1 else 'exist'} in {new} already and "
                        f"{'was' if skipped == 1 else 'were'} skipped; both folders are as they were")
            return f"{old} was not renamed: {new} exists already and was kept (skipped); both are as they were"
        text = f"Renamed {old} to {new}" + (f" ({counted(done, 'object')})" if folder else "")
        if skipped:
            text += f"; {skipped:,} skipped (they exist in {new}; they stay in {old})"
        return text
    past = {"move": "Moved", "copy": "Copied", "rename": "Renamed", "duplicate": "Duplicated"}[batch.verb]
    if not done and skipped:
        verb = {"move": "moved", "copy": "copied", "rename": "moved", "duplicate": "copied"}[batch.verb]
        return (f"Nothing was {verb} to {batch.where}: {'the object exists' if skipped == 1 else f'the {skipped:,} objects exist'} "
                f"there already and {'was' if skipped == 1 else 'were'} skipped")
    return f"{past} {counted(done, 'object')} to {batch.where}" + (f"; {skipped:,} skipped (they exist)"
                                                                     if skipped else "")


def _undo_hint(move: bool, versioned: bool, conflicts: list, policy: OverwritePolicy) -> str:
    if not versioned:
        return ""
    if move:
        return (". The bucket keeps versions: the sources' versions remain after the move, "
                "and Undelete restores them.")
    if conflicts and policy is not OverwritePolicy.SKIP:
        return ". The bucket keeps versions: the objects replaced keep their earlier versions."
    return ""
