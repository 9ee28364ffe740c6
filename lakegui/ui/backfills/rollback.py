"""Roll back… in the backfill dashboard: what undoing a backfill would do (a dry run, from one
version listing: core/rollback.py), then, once confirmed with the choice of delete markers or
permanent deletes, doing it; the report names the objects left alone."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...core.connection import Connection, ConnectionProfile
from ...core.errors import classify
from ...core.rollback import RollbackImpossible, RollbackPlan, plan_rollback, record_rollback, run_rollback, when
from ...core.units import counted
from ..tasks import TaskSlot, in_executor

log = logging.getLogger(__name__)
SHOWN = 20  # keys listed in the dialog per kind; the rest are counted


def _listed(bucket: str, lines: list[str]) -> str:
    more = f"\n  … and {len(lines) - SHOWN:,} more" if len(lines) > SHOWN else ""
    return "".join(f"\n  s3://{bucket}/{k}" for k in lines[:SHOWN]) + more


def plan_text(plan: RollbackPlan, *, done: bool = False) -> str:
    """What a rollback plan does (or, `done`, did), for a person."""
    b = plan.bucket
    parts = []
    if plan.remove:
        parts.append(f"{'Removed' if done else 'Remove'} {counted(len(plan.remove), 'object')} the backfill "
                     f"created:{_listed(b, [k for k, _ in plan.remove])}")
    if plan.restore:
        parts.append(f"{'Brought back' if done else 'Bring back'} the previous version of "
                     f"{counted(len(plan.restore), 'object')} it replaced:{_listed(b, [k for k, _, _ in plan.restore])}")
    if plan.already:  # what an earlier rollback (the CLI's, or this window's) left: its own doing
        parts.append(f"Already rolled back on {when(plan.rolled_back_at)}, nothing to do: "
                     f"{counted(len(plan.already), 'object')}:{_listed(b, plan.already)}")
    by_others = [c["key"] for c in plan.changed if not c.get("rolled_back_at")]
    after = [c["key"] for c in plan.changed if c.get("rolled_back_at")]
    if by_others:
        parts.append(f"Left alone: {counted(len(by_others), 'object')} changed by someone else since the "
                     f"backfill wrote them:{_listed(b, by_others)}")
    if after:
        parts.append(f"Left alone: {counted(len(after), 'object')} changed since the rollback of "
                     f"{when(plan.rolled_back_at)}:{_listed(b, after)}")
    if plan.unknown:
        parts.append(f"Left alone: {counted(len(plan.unknown), 'object')} uploaded with no version id "
                     f"recorded:{_listed(b, plan.unknown)}")
    if plan.errors:
        parts.append(f"Failed: {counted(len(plan.errors), 'object')}:"
                     + _listed(b, [f"{e['key']}: {e['error']}" for e in plan.errors]))
    if plan.already and not (plan.remove or plan.restore or done):
        parts.insert(0, "Nothing to do: this backfill was already rolled back.")
    return "\n\n".join(parts) or "Nothing to roll back: the backfill wrote nothing that is still there."


class RollbackDialog(QDialog):
    """The dry run's summary, and how created objects go: a delete marker, or for good."""

    def __init__(self, name: str, plan: RollbackPlan, parent=None):
        super().__init__(parent)
        self.setObjectName("rollbackDialog")
        self.setWindowTitle(f"Roll back {name}")
        intro = QLabel(f"Rolling back {name!r} in s3://{plan.bucket} would do this (nothing has been changed yet):",
                       self)
        intro.setWordWrap(True)
        self.details = QPlainTextEdit(plan_text(plan), self)
        self.details.setObjectName("rollbackPlan")
        self.details.setReadOnly(True)
        self.markers = QRadioButton("Add delete markers: Undelete brings the removed objects back, and the "
                                    "previous versions come back by a server-side copy", self)
        self.markers.setChecked(True)
        self.permanent = QRadioButton("Delete the versions the backfill wrote permanently (cannot be undone)", self)
        for radio in (self.markers, self.permanent):
            radio.setEnabled(bool(plan.remove or plan.restore))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.roll_button = self.buttons.addButton("Roll back", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.roll_button.setEnabled(bool(plan.remove or plan.restore))
        self.roll_button.clicked.connect(self.accept)
        # Enter cancels: a stray keypress must not delete (Qt would make the first button default).
        self.roll_button.setAutoDefault(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.markers)
        layout.addWidget(self.permanent)
        layout.addWidget(self.buttons)
        self.resize(640, 420)


class BackfillRollback(QObject):
    """Plans, asks and runs a rollback of one backfill of the queue."""

    planned = Signal(object)  # RollbackPlan of the dry run
    finished = Signal(object)  # RollbackPlan, carried out (its errors filled)
    failed = Signal(str)  # why it cannot be rolled back, for a person

    def __init__(self, service, executor: Executor, parent: QWidget):
        super().__init__(parent)
        self.service, self.executor, self.parent_widget = service, executor, parent
        self._slot = TaskSlot("backfill rollback")
        # (name, plan) -> None (cancel) or permanent: bool, or a future of one; replaceable in tests.
        self.ask: Callable[[str, RollbackPlan], object] = self._ask
        # (title, text): the report shown at the end; replaceable in tests.
        self.report: Callable[[str, str], None] = self._report

    @property
    def running(self) -> bool:
        return self._slot.running

    def start(self, batch_id: int) -> asyncio.Task:
        return self._slot.start(self._roll_back(batch_id))

    def cancel(self) -> None:
        self._slot.cancel()

    async def _roll_back(self, batch_id: int) -> None:
        service = self.service

        def plan():
            batch = service.batch(batch_id)
            jobs = service.jobs(batch_id=batch_id)
            if batch is None or not jobs:
                raise RollbackImpossible("The backfill has no jobs left in the queue.")
            # The connection the backfill ran over (its profile is stored with the batch).
            profile = ConnectionProfile.from_dict(batch.profile)
            client = Connection(profile).client()
            listing = {"raw": profile.raw_listing, "verify": profile.verify_tls}
            return batch.name, client, listing, plan_rollback(client, jobs[0].bucket, jobs, **listing)

        try:
            name, client, listing, rollback = await in_executor(self.executor, plan)
        except asyncio.CancelledError:
            raise
        except RollbackImpossible as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:
            self.failed.emit(f"The rollback could not be planned: {classify(exc).message}")
            return
        self.planned.emit(rollback)
        answer = self.ask(name, rollback)
        permanent = await answer if asyncio.isfuture(answer) else answer
        if permanent is None:
            return
        def carry_out():
            run_rollback(client, rollback, permanent=bool(permanent))
            # Noted on its jobs, so a later rollback knows its own doing and the dashboard says so.
            record_rollback(client, service, rollback, permanent=bool(permanent), **listing)

        try:
            await in_executor(self.executor, carry_out)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed.emit(f"The rollback failed: {classify(exc, bucket=rollback.bucket).message}")
            return
        log.info("Rolled back the backfill %r (%s): %d removed, %d restored, %d left alone, %d failed", name,
                 "permanently" if permanent else "with delete markers", len(rollback.remove), len(rollback.restore),
                 len(rollback.changed) + len(rollback.unknown), len(rollback.errors))
        self.finished.emit(rollback)
        self.report(f"Rolled back {name}", plan_text(rollback, done=True))

    def _ask(self, name: str, plan: RollbackPlan) -> asyncio.Future:
        dialog = RollbackDialog(name, plan, self.parent_widget)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        future = asyncio.get_event_loop().create_future()

        def on_finished(result: int) -> None:
            if not future.done():
                future.set_result(dialog.permanent.isChecked() if result == QDialog.DialogCode.Accepted else None)
            dialog.deleteLater()

        dialog.finished.connect(on_finished)
        dialog.open()
        return future

    def _report(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok,
                          self.parent_widget)
        box.setObjectName("rollbackReport")
        box.finished.connect(box.deleteLater)
        box.open()
