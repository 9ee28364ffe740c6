"""Compare with local folder: a prefix of the lake and a local folder side by side (issue 21.5).

The comparison is core's (core/sync/compare.py: one listing while the folder is walked, content by
ETag, the queue's records sparing re-hashing). Counts per class are filter buttons over a table of
path, sizes, times and status. Upload changes, Download changes and Mirror each show their plan,
every deletion counted, before anything moves; the copies go through the window's queue, and
rows change as their jobs finish. Deletes (Mirror only) come after every copy succeeded: the
lake's as the queue's delete jobs (as `lakegui-cli sync --delete`: they show in the queue and a
restart finishes them), a local file only if it still has the stat it was compared with.

A plan runs long after its comparison was made, so before anything moves the lake is asked again
(core/sync/recheck.py), and once more before the deletes are queued: an object written from
elsewhere since, or a download's local target changed since, is left alone and named. A Mirror
from an empty side is refused (it would delete the whole other side). Once a plan has ended the
comparison is made again, so counts, buttons and the next plan start from what is there now.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.connection import Connection
from ...core.errors import classify
from ...core.sync import records
from ...core.sync.compare import DIFFER, ONLY_LOCAL, ONLY_REMOTE, SAME, Comparison, compare_with, records_of_same
from ...core.sync.plan import (
    DEFAULT_MAX_DELETE,
    DOWNLOAD,
    UPLOAD,
    SyncPlan,
    delete_jobs_for,
    delete_local,
    jobs_for,
    plan_sync,
    records_after,
    source_is_empty,
)
from ...core.sync.recheck import check_again, describe_left
from ...core.transfers.object_jobs import delete_results
from ...core.units import counted, human_size
from ...core.versions import ENABLED, NEVER, SUSPENDED
from ..browser.location import Location
from ..browser.versions import read_versioning
from ..column_fit import fit_columns
from ..placement import place_on_first_show
from ..start_folder import ask_folder
from ..tasks import TaskSlot, in_executor
from .model import COPIED, DELETED, FAILED, ComparisonModel

FILTERS = ((None, "All"), (SAME, "Same"), (DIFFER, "Differ"), (ONLY_LOCAL, "Only local"), (ONLY_REMOTE, "Only remote"))


def remote_fate(versioning: str) -> str:
    """What replacing or deleting objects does on a bucket in versioning `state` ('' unknown)."""
    if versioning == ENABLED:
        return "the bucket keeps versions: the earlier ones remain"
    if versioning == SUSPENDED:
        return "versioning is suspended: objects written since then go permanently"
    if versioning == NEVER:
        return "permanently: the bucket keeps no versions"
    return "permanently, unless the bucket keeps versions"


def describe_plan(plan: SyncPlan, bucket: str, versioning: str = "") -> tuple[str, str]:
    """What a plan will do, as a sentence naming every count (deletions first, then what the copies
    replace and whether the bucket could give it back), and one line per action."""
    where = f"s3://{bucket}/{plan.comparison.prefix}"
    copies = (f"upload {counted(len(plan.copies), 'file')} ({human_size(plan.copy_bytes)}) to {where}"
              if plan.direction == UPLOAD else
              f"download {counted(len(plan.copies), 'object')} ({human_size(plan.copy_bytes)}) into {plan.comparison.root}")
    if (replaced := len(plan.replaced)):
        differ = "differs" if replaced == 1 else "differ"
        copies += (f", replacing {counted(replaced, 'object')} that {differ} ({remote_fate(versioning)})"
                   if plan.direction == UPLOAD else f", replacing {counted(replaced, 'local file')} that {differ}")
    parts = [copies] if plan.copies else []
    if plan.deletes:
        n = len(plan.deletes)
        exist = "exists" if n == 1 else "exist"
        gone = (f"delete {counted(n, 'object')} that {exist} only in {where} ({remote_fate(versioning)})"
                if plan.direction == UPLOAD else f"delete {counted(n, 'local file')} that {exist} only in "
                f"{plan.comparison.root}")
        parts.insert(0, gone)
    text = "This will " + " and ".join(parts) + "." if parts else "Nothing to do: the destination matches."
    if plan.deletes:
        text += " Deletes are made only after every copy succeeded."
        if len(plan.deletes) > DEFAULT_MAX_DELETE:  # what `sync --delete` refuses without --max-delete or --yes
            text += (f" That is more than {DEFAULT_MAX_DELETE:,} deletes, which a headless sync refuses "
                     "unless told to accept them.")
    lines = [f"{a.action} {a.path if a.action != 'delete' or plan.direction == DOWNLOAD else a.key} ({a.reason})"
             for a in plan.actions]
    return text, "\n".join(lines)


class ComparisonWindow(QWidget):
    compared = Signal()  # a comparison is shown
    compare_failed = Signal(str)
    plan_finished = Signal(dict)  # {"copied", "deleted", "failed"} of the plan just run

    def __init__(self, transfers, executor: Executor, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("comparisonWindow")
        self.setWindowTitle("Compare with local folder — lakegui")
        self.transfers = transfers
        self._executor = executor
        self.connection: Connection | None = None
        self.bucket = ""
        self.prefix = ""
        self.versioning = ""  # the bucket's, read with each comparison (what a replace or delete does)
        self._slot = TaskSlot("comparison")
        self._check_slot = TaskSlot("comparison check")  # the lake asked again before a plan runs
        self._after_slot = TaskSlot("comparison deletes")
        self._comparing = False
        self._planned: SyncPlan | None = None  # the running plan as confirmed (self._plan: what is left of it)
        self._notes: dict[str, str] = {}  # the last plan's row outcomes, kept on the rows compared afresh
        self._left: list = []  # (action, why) of the running plan left alone: changed since the comparison
        self._gone: list[str] = []  # its deletes found already done
        self._plan: SyncPlan | None = None
        self._tracked: dict[int, str] = {}  # job id: relative path, of the plan running
        self._deleting: set[int] = set()  # its delete jobs still to end
        self._batch = 0
        self._delete_batch = 0
        self._result = {"copied": 0, "deleted": 0, "failed": 0}

        self.target_label = QLabel("", self)
        self.target_label.setObjectName("comparisonTarget")
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setAccessibleName("Local folder")
        self.folder_edit.setPlaceholderText("Local folder to compare with")
        self.folder_edit.returnPressed.connect(self.compare)
        self.choose_button = QPushButton("Choose…", self)
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setToolTip("List the prefix and walk the folder again")
        self.compare_button.clicked.connect(self.compare)

        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[str | None, QPushButton] = {}
        filters = QHBoxLayout()
        for status, title in FILTERS:
            b = QPushButton(title, self)
            b.setCheckable(True)
            b.setAccessibleName(f"Show {title.lower()}")
            b.clicked.connect(lambda _c=False, s=status: self.model.set_filter(s))
            self.filter_group.addButton(b)
            self.filter_buttons[status] = b
            filters.addWidget(b)
        self.filter_buttons[None].setChecked(True)
        filters.addStretch(1)

        self.model = ComparisonModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("comparisonTable")
        self.table.setAccessibleName("Comparison")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)  # a time on one line (it wrapped onto two)
        # The headers whole ("Remote modified" was cut) and room for any size and time; the paths
        # fit the first rows of each comparison (never all 10,000), Status takes the rest.
        when = "2026-12-31 23:59:59"  # as the model writes a time
        fit_columns(self.table, samples={1: "999.9 MB", 2: when, 3: "999.9 MB", 4: when}).fit()
        self.table.setColumnWidth(0, 320)  # until there are paths to fit

        self.upload_button = QPushButton("Upload changes…", self)
        self.upload_button.setToolTip("Upload what is only local or differs; nothing is deleted")
        self.upload_button.clicked.connect(lambda: self.run_plan(UPLOAD))
        self.download_button = QPushButton("Download changes…", self)
        self.download_button.setToolTip("Download what is only in the lake or differs; nothing is deleted")
        self.download_button.clicked.connect(lambda: self.run_plan(DOWNLOAD))
        # A push button with a menu, like its neighbours: a tool button's menu arrow sat over its
        # text ('Mirror..').
        self.mirror_button = QPushButton("Mirror…", self)
        self.mirror_button.setToolTip("Make one side match the other, deleting what the other lacks")
        menu = QMenu(self.mirror_button)
        self.mirror_up_action = menu.addAction("Mirror the folder into the lake (uploads and deletes objects)…")
        self.mirror_up_action.triggered.connect(lambda: self.run_plan(UPLOAD, delete=True))
        self.mirror_down_action = menu.addAction("Mirror the lake into the folder (downloads and deletes files)…")
        self.mirror_down_action.triggered.connect(lambda: self.run_plan(DOWNLOAD, delete=True))
        self.mirror_button.setMenu(menu)
        self.summary = QLabel("Choose a local folder to compare with.", self)
        self.summary.setObjectName("comparisonSummary")
        self.summary.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.target_label)
        top.addWidget(QLabel("with", self))
        top.addWidget(self.folder_edit, 1)
        top.addWidget(self.choose_button)
        top.addWidget(self.compare_button)
        actions = QHBoxLayout()
        actions.addWidget(self.upload_button)
        actions.addWidget(self.download_button)
        actions.addWidget(self.mirror_button)
        actions.addStretch(1)
        main = QVBoxLayout(self)
        main.addLayout(top)
        main.addLayout(filters)
        main.addWidget(self.table, 1)
        main.addWidget(self.summary)
        main.addLayout(actions)
        self.resize(1000, 620)
        place_on_first_show(self)  # on the main window, within the screen
        self._update_buttons()
        transfers.job_finished.connect(self._on_transfers_job_finished)

    # what is compared

    def set_location(self, location: Location) -> None:
        """Compare with the browser's current prefix."""
        self.set_target(location.connection, location.bucket, location.prefix)

    def set_target(self, connection: Connection | None, bucket: str, prefix: str = "") -> None:
        if (connection, bucket, prefix) != (self.connection, self.bucket, self.prefix):
            self._slot.cancel()
            self.model.set_comparison(None)
            self._update_counts()
        self.connection, self.bucket, self.prefix = connection, bucket, prefix
        self.target_label.setText(f"s3://{bucket}/{prefix}" if bucket else "Not connected")
        self._update_buttons()

    def choose_folder(self) -> str:
        """Ask for the local folder; '' when the user cancels. Tests replace this."""
        return ask_folder(self, "Compare with local folder", "sync", current=self.folder_edit.text())

    def _on_choose_button_clicked(self) -> None:
        folder = self.choose_folder()
        if folder:
            self.folder_edit.setText(folder)
            self.compare()

    def compare(self) -> None:
        folder = self.folder_edit.text().strip()
        if self.connection is None or not self.bucket:
            self.summary.setText("Connect to a bucket first.")
            return
        if not folder or not os.path.isdir(folder):
            self.summary.setText(f"{folder or 'No folder'}: choose an existing local folder.")
            return
        self._comparing = True
        self._update_buttons()
        self._slot.start(self._compare(self.connection, self.bucket, self.prefix, folder))

    def _queue_path(self):
        service = getattr(self.transfers, "service", None)
        return service.path if service is not None else None

    async def _compare(self, conn: Connection, bucket: str, prefix: str, folder: str, *, refresh: str = "") -> None:
        """Compare and show it; `refresh`: what the plan just run did, said before the new counts (its
        rows' outcomes stay on them as notes)."""
        self.summary.setText(f"Listing s3://{bucket}/{prefix} and walking {folder}…")
        queue_path = self._queue_path()

        def run() -> tuple[Comparison, str]:
            cmp = compare_with(conn, UPLOAD, folder, bucket, prefix, queue_path=queue_path)
            if queue_path is not None:
                records.save(queue_path, bucket, records_of_same(cmp))  # hashed once is enough
            return cmp, read_versioning(conn.client(), bucket)

        try:
            cmp, self.versioning = await in_executor(self._executor, run)
        except asyncio.CancelledError:
            self._comparing = False
            raise
        except Exception as exc:
            message = f"Could not compare: {classify(exc, bucket=bucket, key=prefix).message}"
            self._comparing = False
            self._update_buttons()
            self.summary.setText(f"{refresh} · {message}" if refresh else message)
            self.compare_failed.emit(message)
            if refresh:
                self.plan_finished.emit(self._outcome())
            return
        self._comparing = False
        self.model.set_comparison(cmp, notes=self._notes if refresh else None)
        if refresh:
            self.plan_finished.emit(self._outcome())
        self._update_counts()
        self._update_buttons()
        c = cmp.counts()
        text = (f"{counted(len(cmp.entries), 'path')} compared: {c[SAME]:,} same, {c[DIFFER]:,} differ, "
                f"{c[ONLY_LOCAL]:,} only local, {c[ONLY_REMOTE]:,} only remote")
        if refresh:
            text = f"{refresh} · Compared again: {text}"
        if cmp.problems:
            text += f" · {counted(len(cmp.problems), 'path')} not comparable (hover)"
            self.summary.setToolTip("\n".join(f"{p.path}: {p.reason}" for p in cmp.problems[:30]))
        self.summary.setText(text)
        self.compared.emit()

    def _update_counts(self) -> None:
        counts = self.model.comparison.counts() if self.model.comparison else {}
        total = sum(counts.values())
        for status, title in FILTERS:
            n = total if status is None else counts.get(status, 0)
            self.filter_buttons[status].setText(f"{title} ({n:,})" if self.model.comparison else title)

    def _update_buttons(self) -> None:
        # Never a plan from a comparison being replaced, nor a second one while one runs.
        ready = self.model.comparison is not None and self._plan is None and not self._comparing
        for w in (self.upload_button, self.download_button, self.mirror_button):
            w.setEnabled(ready)

    # plans

    def confirm_plan(self, plan: SyncPlan) -> bool:
        """Show the plan, naming every deletion count, and ask. Tests replace this."""
        text, details = describe_plan(plan, self.bucket, self.versioning)
        # Enter does not replace or delete: what the plan destroys is a choice made with the mouse.
        destroys = bool(plan.deletes or plan.replaced)
        box = QMessageBox(QMessageBox.Icon.Warning if destroys else QMessageBox.Icon.Question,
                          "Mirror" if plan.deletes else ("Upload changes" if plan.direction == UPLOAD
                                                         else "Download changes"), text,
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.setDetailedText(details)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel if destroys else QMessageBox.StandardButton.Ok)
        return box.exec() == QMessageBox.StandardButton.Ok

    def plan(self, direction: str, *, delete: bool = False) -> SyncPlan | None:
        cmp = self.model.comparison
        return plan_sync(cmp, direction, delete=delete) if cmp is not None else None

    def run_plan(self, direction: str, *, delete: bool = False) -> bool:
        """Show the plan and, once confirmed, check the lake again and queue what is still as it was
        compared: its copies, and then its deletes."""
        plan = self.plan(direction, delete=delete)
        if plan is None or self._plan is not None or self._comparing:  # one plan at a time, its deletes included
            return False
        if not plan.actions:
            self.summary.setText("Nothing to do: the destination already matches.")
            return False
        if delete and plan.deletes and source_is_empty(plan.comparison, direction):
            self.summary.setText(self._empty_source_refusal(plan))
            return False
        if not self.confirm_plan(plan):
            return False
        self._plan, self._planned, self._result = plan, plan, {"copied": 0, "deleted": 0, "failed": 0}
        self._batch = self._delete_batch = 0
        self._left, self._gone = [], []
        self._update_buttons()
        self.summary.setText(f"Checking s3://{self.bucket}/{plan.comparison.prefix} again before anything changes…")
        self._check_slot.start(self._check_and_queue(plan))
        return True

    def _empty_source_refusal(self, plan: SyncPlan) -> str:
        where = f"s3://{self.bucket}/{plan.comparison.prefix}"
        n = len(plan.deletes)
        if plan.direction == UPLOAD:
            return (f"Mirror refused: {plan.comparison.root} has no files, so mirroring it would delete all "
                    f"{counted(n, 'object')} in {where}. Nothing was changed. Check the folder (is it the right "
                    "one, is it mounted?); to empty the prefix on purpose, delete it in the browser.")
        return (f"Mirror refused: {where} has no objects, so mirroring it would delete all "
                f"{counted(n, 'local file')} in {plan.comparison.root}. Nothing was changed. Check the prefix; "
                "to empty the folder on purpose, delete its files yourself.")

    async def _check_and_queue(self, plan: SyncPlan) -> None:
        """The lake asked again (and a download's targets looked at): what changed since the
        comparison is left alone, the rest queued."""
        conn = self.connection
        try:
            checked = await in_executor(self._executor, check_again, conn, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._plan = None
            self._update_buttons()
            self.summary.setText(f"Could not check s3://{self.bucket}/{plan.comparison.prefix} again, so nothing "
                                 f"was changed: {classify(exc, bucket=self.bucket).message}")
            self.plan_finished.emit(self._outcome())
            return
        self._note_left(checked.left)
        self._gone += [a.key for a in checked.gone]
        self._plan = plan = checked.plan
        if not plan.actions:
            self._finish([], [])
            return
        self._queue_copies(plan)

    def _outcome(self) -> dict:
        """plan_finished's {"copied", "deleted", "failed"}: what was left alone counts as not done."""
        return dict(self._result, failed=self._result["failed"] + len(self._left))

    def _note_left(self, left: list) -> None:
        cut = len(self.model.comparison.prefix) if self.model.comparison else 0
        for a, why in left:
            self.model.mark(a.key[cut:], f"{FAILED}: {why}")
        self._left += left

    def _queue_copies(self, plan: SyncPlan) -> None:
        direction = plan.direction
        jobs = jobs_for(plan)
        if jobs:
            name = f"sync {plan.comparison.root} {'→' if direction == UPLOAD else '←'} s3://{self.bucket}/{self.prefix}"
            self._batch, rows = self.transfers.store_batch(name, "sync", self.connection.profile.to_dict(), jobs)
            cut = len(f"s3://{self.bucket}/{plan.comparison.prefix}")
            self._tracked = {row.job_id: row.uri[cut:] for row in rows}
            self.transfers.show_stored(self._batch, rows)
            left = f" ({describe_left(self._left, self.bucket)})" if self._left else ""
            self.summary.setText(f"Queued {counted(len(jobs), 'copy', 'copies')}; the rows follow as they "
                                 f"finish.{left}")
        if not jobs:
            self._copies_done()

    def _on_transfers_job_finished(self, job_id: int, state: str) -> None:
        if job_id in self._deleting:
            self._deleting.discard(job_id)
            if not self._deleting and self._plan is not None:
                self._after_slot.start(self._after(self._plan, self._batch, delete_batch=self._delete_batch))
            return
        relative = self._tracked.pop(job_id, None)
        if relative is None:
            return
        if state == "done" or state == "skipped":
            self._result["copied"] += 1
            self.model.mark(relative, COPIED)
        else:
            row = self.transfers.row_for(job_id)
            self._result["failed"] += 1
            self.model.mark(relative, f"{FAILED}: {row.error if row and row.error else state}")
        if not self._tracked:
            self._copies_done()

    def _copies_done(self) -> None:
        plan = self._plan
        if plan is None:
            return
        failed = self._result["failed"]  # left alone is no failure of a copy
        copied = not failed
        if not copied and plan.deletes:
            self.summary.setText(f"{counted(failed, 'copy', 'copies')} failed, so "
                                 f"{counted(len(plan.deletes), 'delete')} were not made.")
        if copied and plan.deletes and plan.direction == UPLOAD:
            self._after_slot.start(self._check_and_delete(plan))  # then _after, once they all ended
        else:
            self._after_slot.start(self._after(plan, self._batch, local_deletes=copied))

    async def _check_and_delete(self, plan: SyncPlan) -> None:
        """The lake's deletes, once the copies ended (which may have taken long): asked about again,
        those still as compared queued as delete jobs of the window's queue (1,000 keys a job), as
        the CLI's."""
        try:
            checked = await in_executor(self._executor, lambda: check_again(self.connection, plan, deletes_only=True))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._finish([], [("", f"the objects to delete could not be checked again, so none was deleted: "
                                   f"{classify(exc, bucket=self.bucket).message}")])
            return
        self._note_left(checked.left)
        self._gone += [a.key for a in checked.gone]
        kept = {a.key for a in checked.plan.deletes}
        if not kept:
            await self._after(plan, self._batch)
            return
        name = f"sync {plan.comparison.root} → s3://{self.bucket}/{self.prefix}: deletes"
        profile = self.connection.profile.to_dict()
        try:
            batch, rows = await in_executor(self._executor, self.transfers.store_batch, name, "delete", profile,
                                            delete_jobs_for(checked.plan))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. the queue database could not be opened
            self._finish([], [("", f"could not queue the deletes: {classify(exc, bucket=self.bucket).message}")])
            return
        self._delete_batch = batch
        self._deleting = {row.job_id for row in rows}  # before they can start, so no end is missed
        self.transfers.show_stored(batch, rows)
        self.summary.setText(f"Queued {counted(len(kept), 'delete')} (in the queue as "
                             f"{counted(len(rows), 'delete job')}); the rows follow when they finish.")

    async def _after(self, plan: SyncPlan, batch: int, *, local_deletes: bool = False,
                     delete_batch: int = 0) -> None:
        """Record what the plan left equal, and the outcome of its deletes: the queued delete jobs'
        (`delete_batch`), or the local ones, made now (only files still as they were compared)."""
        bucket, queue_path = self.bucket, self._queue_path()
        service = getattr(self.transfers, "service", None)
        done_jobs = service.jobs(batch_id=batch) if service is not None and batch else []
        delete_jobs = service.jobs(batch_id=delete_batch) if service is not None and delete_batch else []

        def run():
            gone, bad = [], []
            if delete_batch:
                gone, bad, _ = delete_results(delete_jobs)
            elif local_deletes and plan.deletes and plan.direction == DOWNLOAD:
                gone, bad = delete_local(plan)
            if queue_path is not None:
                records.save(queue_path, bucket, records_after(plan, done_jobs))
                gone_set = set(gone)
                records.forget(queue_path, bucket, [(a.key, a.path) for a in plan.deletes
                                                    if a.key in gone_set or a.path in gone_set])
            return gone, bad

        try:
            gone, bad = await in_executor(self._executor, run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            gone, bad = [], [("", classify(exc, bucket=bucket).message)]
        self._finish(gone, bad)

    def _finish(self, gone: list[str], bad: list[tuple[str, str]]) -> None:
        """The plan ended: its rows say how, then the comparison is made again (plan_finished follows
        that, so whoever waits for it meets counts and buttons that tell the truth)."""
        plan = self._planned if self._plan is not None else None
        if plan is None:
            return
        cut = len(plan.comparison.prefix)
        gone = list(gone) + self._gone
        gone_set = set(gone)
        for a in plan.deletes:
            if a.key in gone_set or a.path in gone_set:
                self.model.mark(a.key[cut:], DELETED)
        if bad:  # each key's (or local file's) reason its delete was not made
            by_where = {w: a for a in plan.deletes for w in (a.key, a.path) if w}
            for where, why in bad:
                if where in by_where:
                    self.model.mark(by_where[where].key[cut:], f"{FAILED}: {why}")
        self._result["deleted"] = len(gone)
        self._result["failed"] += len(bad)
        self._plan, self._batch, self._delete_batch, self._deleting = None, 0, 0, set()
        r = self._result
        # What was left alone is said once, after (it read "1 failed; 1 left alone" of one object).
        failed = r["failed"]
        text = (f"{counted(r['copied'], 'copy', 'copies')} made, {counted(r['deleted'], 'delete')}, "
                f"{failed:,} failed" + (f" ({bad[0][0]}: {bad[0][1]})" if bad else ""))
        if self._left:
            text += f"; {describe_left(self._left, self.bucket)}"
        self._notes = self.model.outcomes()
        if self.connection is None or not os.path.isdir(plan.comparison.root):
            self._update_buttons()
            self.summary.setText(text)
            self.plan_finished.emit(dict(r))
            return
        self._comparing = True
        self._update_buttons()
        self.summary.setText(text)
        self._slot.start(self._compare(self.connection, self.bucket, self.prefix, str(plan.comparison.root),
                                       refresh=text))

    def shutdown(self) -> None:
        self._slot.cancel()
        self._check_slot.cancel()
        self._after_slot.cancel()
