"""Starting transfers from the window: plan off the UI thread, ask about targets that exist,
then enqueue. Planning lists the target once and stats local files; it never blocks the UI."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ...core.connection import Connection
from ...core.errors import classify
from ...core.listing import ObjectEntry
from ...core.transfers.jobs import OverwritePolicy
from ...core.transfers.planner import Plan, plan_download, plan_upload, to_jobs
from ...core.units import counted
from ..browser.versions import read_versioning, replace_consequence
from ..dialogs.overwrite import ask_overwrite_policy
from ..tasks import in_executor
from .controller import TransferQueue

log = logging.getLogger(__name__)
_SETTING_POLICY = {"skip-same": OverwritePolicy.SKIP_IF_SAME, "skip": OverwritePolicy.SKIP,
                   "overwrite": OverwritePolicy.OVERWRITE}


class TransferActions(QObject):
    enqueued = Signal(int, int)  # batch id, jobs
    failed = Signal(str)  # a message for a person
    notice = Signal(str)  # something skipped or left alone, for the notice bar

    def __init__(self, queue: TransferQueue, executor: Executor, parent: QWidget):
        super().__init__(parent)
        self.queue = queue
        self.executor = executor
        self.parent_widget = parent
        self._tasks: set[asyncio.Task] = set()
        # Replaceable (tests, scripted use): given the plan and a description of the targets,
        # return the policy for existing targets, or None to cancel.
        self.choose_policy: Callable[[Plan, str], "asyncio.Future | OverwritePolicy | None"] = self._ask_policy
        self._versioning: dict[int, str] = {}  # id(an upload's plan) -> its bucket's versioning state

    def upload(self, connection: Connection, bucket: str, prefix: str, paths: list[str], *,
               keep_folder_name: bool = True) -> asyncio.Task:
        where = f"s3://{bucket}/{prefix}"

        def plan():
            planned = plan_upload(connection.client(), bucket, prefix, [Path(p) for p in paths],
                                  keep_folder_name=keep_folder_name)
            # What replacing does there, for the question (only asked when some target exists):
            # on a bucket without versions Overwrite all is for good, as the backfill wizard warns.
            self._versioning[id(planned)] = read_versioning(connection.client(), bucket) if planned.conflicts else ""
            return planned

        return self._start(connection, "upload", f"Upload to {where}", where, plan)

    def download(self, connection: Connection, bucket: str, base: str, objects: list[ObjectEntry],
                 prefixes: list[str], dest: str) -> asyncio.Task:
        return self._start(connection, "download", f"Download to {dest}", dest,
                           lambda: plan_download(connection.client(), bucket, dest, objects=objects,
                                                 prefixes=prefixes, base=base))

    def download_version(self, connection: Connection, bucket: str, key: str, version_id: str,
                         dest: str) -> asyncio.Task:
        """Download one version of `key` to dest/NAME (the browser's Versions pane)."""
        from ...core.listing import parent_prefix
        from ...core.versions import version_entry

        def plan():
            client = connection.client()
            entry = version_entry(client, bucket, key, version_id)  # its size and ETag, not the latest's
            return plan_download(client, bucket, dest, objects=[entry], base=parent_prefix(key))

        return self._start(connection, "download", f"Download to {dest} (version {version_id})", dest, plan,
                           version_id=version_id)

    def cancel(self) -> None:
        for t in list(self._tasks):
            t.cancel()

    def _start(self, connection, kind, name, where, plan_fn, version_id: str = "") -> asyncio.Task:
        task = asyncio.ensure_future(self._plan_and_enqueue(connection, kind, name, where, plan_fn, version_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _plan_and_enqueue(self, connection, kind, name, where, plan_fn, version_id: str = "") -> int | None:
        """Returns the queued batch, or None when nothing was queued."""
        try:
            plan = await in_executor(self.executor, plan_fn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            info = classify(exc, endpoint=connection.profile.endpoint_url or None)
            self.failed.emit(f"Could not prepare the {kind}: {info.message}")
            return None
        versioning = self._versioning.pop(id(plan), None)  # None: a download (local files)
        if plan.skipped:
            shown = "; ".join(f"{s.path}: {s.reason}" for s in plan.skipped[:3])
            more = f" (and {len(plan.skipped) - 3:,} more)" if len(plan.skipped) > 3 else ""
            self.notice.emit(f"{len(plan.skipped):,} items were left out of the {kind}: {shown}{more}")
        if not plan.items:
            if not plan.skipped:
                self.notice.emit(f"Nothing to {kind}: no files were found.")
            return None
        policy = OverwritePolicy.ASK
        chosen = _SETTING_POLICY.get(self.queue.settings.overwrite)
        if plan.conflicts and chosen is not None:  # the user's standing choice (Edit › Settings…)
            policy = chosen
        elif plan.conflicts:
            choose = self.choose_policy
            choice = choose(plan, where, versioning) if choose == self._ask_policy else choose(plan, where)
            if asyncio.isfuture(choice):
                choice = await choice
            if choice is None:
                self.notice.emit(f"The {kind} was cancelled; nothing was queued.")
                return None
            policy = choice
        s = self.queue.settings
        profile = connection.profile.to_dict()

        def store():  # planning's hashing and the database write both stay off the UI thread
            jobs = to_jobs(plan, policy, chunksize=s.multipart_chunksize)
            if version_id:  # a download of that version, not of the latest
                jobs = [replace(j, src_version=version_id) for j in jobs]
            return self.queue.store_batch(name, kind, profile, jobs)

        try:
            batch, rows = await in_executor(self.executor, store)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"Could not queue the {kind}: {exc}")
            return None
        self.queue.show_stored(batch, rows)
        self.enqueued.emit(batch, len(rows))
        return batch

    def _ask_policy(self, plan: Plan, where: str, versioning: str | None = None) -> asyncio.Future:
        """Ask once for the batch (dialogs/overwrite.py); an upload's says what replacing does on
        its bucket (`versioning`: its state, '' unknown; None for a download's local files)."""
        n, total = len(plan.conflicts), len(plan.items)
        consequence = f"\n{replace_consequence(versioning)}" if versioning is not None else ""
        return ask_overwrite_policy(self.parent_widget, "Files already exist",
                                    f"{n:,} of {counted(total, 'file')} {'already exists' if n == 1 else 'already exist'} "
                                    f"in {where}.\nWhat should happen to {'it' if n == 1 else 'them'}?{consequence}",
                                    replace="Overwrite all")
