"""The preview pane. For now it shows an object's properties (HEAD), including lineage metadata."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from ...core import objects
from ...core.connection import Connection
from ...core.errors import classify
from ...core.listing import ObjectEntry
from ...core.units import human_size
from ..tasks import TaskSlot, in_executor


class PreviewPane(QFrame):
    preview_finished = Signal(str)  # key
    preview_failed = Signal(str, str)  # key, message

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent)
        self.setObjectName("PreviewPane")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._executor = executor
        self._connection: Connection | None = None
        self._bucket = ""
        self._slot = TaskSlot("preview")
        self._current: str | None = None

        self.title = QLabel("Preview", self)
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.message = QLabel("Select an object to see its properties.", self)
        self.message.setObjectName("previewMessage")
        self.message.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("propertiesTree")
        self.tree.setAccessibleName("Object properties")
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setColumnWidth(0, 150)
        self.tree.setRootIsDecorated(True)
        self.tree.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addWidget(self.tree, 1)
        layout.addStretch(0)

    def set_connection(self, connection: Connection | None, bucket: str = "") -> None:
        self._connection = connection
        self._bucket = bucket or (connection.bucket if connection else "")
        self.show_entry(None)

    def show_entry(self, entry: ObjectEntry | None) -> None:
        self._slot.cancel()
        self.tree.clear()
        self.tree.hide()
        if entry is None or self._connection is None:
            self._current = None
            self.title.setText("Preview")
            self.message.setText("Select an object to see its properties.")
            self.message.show()
            return
        self._current = entry.key
        self.title.setText(entry.key)
        self.message.setText("Loading…")
        self.message.show()
        self._slot.start(self._load(self._connection, self._bucket, entry))

    def cancel(self) -> None:
        self._slot.cancel()

    async def _load(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        try:
            client = await in_executor(self._executor, connection.client)
            props = await in_executor(self._executor, objects.head, client, bucket, entry.key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._current == entry.key:
                info = classify(exc, bucket=bucket, key=entry.key)
                self.message.setText(info.message)
                self.preview_failed.emit(entry.key, info.message)
            return
        if self._current != entry.key:  # a newer selection owns the pane
            return
        self._fill(props)
        self.preview_finished.emit(entry.key)

    def _fill(self, p: objects.ObjectProperties) -> None:
        rows = [
            ("URI", p.uri),
            ("Size", f"{human_size(p.size)} ({p.size:,} bytes)"),
            ("Content type", p.content_type),
            ("Last modified", p.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if p.last_modified else ""),
            ("ETag", p.etag),
            ("Storage class", p.storage_class),
            ("Encryption", p.server_side_encryption or "none"),
        ]
        rows += [(f"Checksum {k}", v) for k, v in p.checksums.items()]
        for name, value in rows:
            QTreeWidgetItem(self.tree, [name, value])
        meta = QTreeWidgetItem(self.tree, ["Metadata", f"{len(p.metadata)} keys" if p.metadata else "none"])
        for k, v in sorted(p.metadata.items()):
            QTreeWidgetItem(meta, [k, v])
        meta.setExpanded(True)
        self.message.hide()
        self.tree.show()
