"""The backfill dashboard's cluster panel: when a backfill runs on a Dask cluster (issue 24), the
scheduler's address, a link to the Dask dashboard, and each worker's files, bytes and current
throughput, with Pause and Cancel.

The coordinator (lakegui-cli ... --cluster, usually another process) writes these facts beside
the queue about once a second; the panel reads them in the executor after each dashboard refresh.
Pause and cancel do what they do locally: the window's service stops the jobs not yet claimed,
and the coordinator is asked to withhold its chunks not started and stop the running ones.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.transfers import cluster
from ...core.transfers.jobs import JobState
from ...core.units import human_size
from ..tasks import TaskSlot, in_executor

COLUMNS = ("Worker", "Files", "Bytes", "Throughput")


class ClusterPanel(QGroupBox):
    updated = Signal()  # after each read of the cluster's facts

    def __init__(self, executor: Executor, parent=None):
        super().__init__("Cluster", parent)
        self.setObjectName("clusterPanel")
        self._executor = executor
        self._slot = TaskSlot("cluster facts")
        self._service = None
        self._batch_id: int | None = None
        self.status: cluster.ClusterStatus | None = None
        self.address = QLabel(self)
        self.address.setObjectName("clusterAddress")
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link = QLabel(self)
        self.link.setObjectName("daskDashboard")
        self.link.setOpenExternalLinks(True)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setObjectName("clusterPause")
        self.pause_button.setToolTip("Withhold chunks not started and stop the running ones; "
                                     "lakegui-cli queue resume --cluster ADDRESS carries on")
        self.pause_button.clicked.connect(lambda: self.stop(JobState.PAUSED))
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("clusterCancel")
        self.cancel_button.clicked.connect(lambda: self.stop(JobState.CANCELLED))
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("clusterWorkers")
        self.table.setAccessibleName("Cluster workers")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setColumnWidth(0, 260)
        self.table.setMaximumHeight(140)
        top = QHBoxLayout()
        top.addWidget(self.address, 1)
        top.addWidget(self.link)
        top.addWidget(self.pause_button)
        top.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.hide()  # until a backfill runs on a cluster

    def refresh(self, service, batch_id: int | None) -> None:
        """Read the batch's cluster facts (in the executor) and show them."""
        if service is None or self._slot.running:
            return
        self._service, self._batch_id = service, batch_id
        self._slot.start(self._read(service.path, batch_id))

    async def _read(self, path, batch_id) -> None:
        try:
            status = await in_executor(self._executor, cluster.cluster_status, path, batch_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a busy database: say so and try at the next refresh
            self.address.setText(f"The cluster's state could not be read: {exc}")
            return
        self.show_status(status)
        self.updated.emit()

    def show_status(self, status: cluster.ClusterStatus | None) -> None:
        self.status = status
        if status is None:
            self.hide()
            return
        verb = "Running on" if status.live else "Ran on"
        self.address.setText(f"{verb} the Dask cluster {status.address} · {len(status.workers)} workers")
        self.link.setText(f'<a href="{status.dashboard}">Dask dashboard</a>' if status.dashboard else "")
        self.link.setToolTip(status.dashboard)
        self.pause_button.setEnabled(status.live)
        self.cancel_button.setEnabled(status.live)
        self.table.setRowCount(len(status.workers))
        for row, w in enumerate(status.workers):
            speed = f"{human_size(w.speed)}/s" if status.live else "—"
            for col, text in enumerate((w.worker, f"{w.files:,}", human_size(w.bytes), speed)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.show()

    def stop(self, reason: JobState) -> None:
        """Pause or cancel the backfill the cluster runs."""
        if self._service is None or self.status is None or self._batch_id is None:
            return
        if reason is JobState.PAUSED:
            self._service.pause(batch_id=self._batch_id)
        else:
            self._service.cancel(batch_id=self._batch_id)
        cluster.request_stop(self._service.path, self.status.run, reason)

    def shutdown(self) -> None:
        self._slot.cancel()
