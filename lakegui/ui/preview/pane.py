"""The preview pane: Parquet (rows, chart, schema, row groups, file metadata: see parquet_view.py),
JSON, CSV, text and images, each read with a few ranged GETs; Properties (HEAD) on request.

Every read runs as a coroutine on the qasync loop with the blocking part in the executor.
Selecting another object cancels the old preview: its tasks, and its file, which then
refuses to make further requests, so a superseded preview stops costing anything.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from dataclasses import replace
from typing import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from ...core import objects
from ...core.connection import Connection
from ...core.errors import classify
from ...core.listing import ObjectEntry, parse_s3_uri
from ...core.preview import formats
from ...core.preview.rangefile import FIRST_READ, PreviewCancelled, RangeFile
from ...core.settings import PreviewSettings
from ...core.tagging import ARCHIVED, archive_problem, restore_state
from ...core.units import human_size
from ..browser.location import Location
from ..tasks import TaskSlot, in_executor
from .json_view import JsonTree
from .models import ListTableModel
from .parquet_view import EXPECTED_ERRORS, ParquetView, make_table
from .properties import PropertiesTree

EMPTY = ("Select an object to preview it: Parquet rows, schema, statistics and a price chart; "
         "JSON, CSV, text and images; the properties of anything else.")


class PreviewPane(QFrame):
    """Previews the object selected in the browser, read from the browser's connection and bucket."""

    preview_finished = Signal(str)        # key: its first view is on screen
    preview_failed = Signal(str, str)     # key, message
    properties_loaded = Signal(str)       # key

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent)
        self.setObjectName("PreviewPane")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._executor = executor
        self.limits = PreviewSettings()  # Edit › Settings… › Preview
        self._location = Location()
        self._entry: ObjectEntry | None = None
        self.version_id = ""  # the version shown ('' = the latest)
        self._followed = ""  # the key a move took the shown object to, until the browser selects it
        self._source: RangeFile | None = None
        self._started = 0.0
        self._slot, self._props_slot = TaskSlot("preview"), TaskSlot("properties")

        self.title = QLabel("Preview", self)
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.stats_label = QLabel(self)
        self.stats_label.setObjectName("previewStats")
        self.stats_label.setToolTip("What this preview read from S3 so far")
        self.message = QLabel(EMPTY, self)
        self.message.setObjectName("previewMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("previewTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)

        self.parquet = ParquetView(executor, self)
        self.parquet.bytes_read.connect(self._update_stats)
        self.parquet.problem.connect(self._on_parquet_problem)
        self.properties = PropertiesTree()
        self.json_tree = JsonTree()
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("textPreview")
        self.text_view.setAccessibleName("Text preview")
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.csv_table = make_table("csvTable", "Table preview")
        self.image_label = QLabel()
        self.image_label.setObjectName("imagePreview")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_scroll = QScrollArea()
        self.image_scroll.setWidget(self.image_label)
        self.image_scroll.setWidgetResizable(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        layout.addStretch(0)  # with the tabs hidden, the labels stay at the top
        for label in (self.title, self.stats_label, self.message):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._reset()

    # public

    def set_location(self, location: Location) -> None:
        """Preview objects of `location`'s connection and bucket (the browser's) from now on. Another
        folder clears the pane, as in a file manager: the object shown was one of the old folder's
        (a listing's reset selects nothing without saying so)."""
        moved = not location.same_bucket(self._location) or location.prefix != self._location.prefix
        self._location = location
        if moved:  # what is shown belongs to the old bucket or folder
            self.show_entry(None)

    def show_entry(self, entry: ObjectEntry | None, version_id: str = "") -> None:
        """Preview `entry` (its `version_id`, when given: every read names that version)."""
        followed, self._followed = self._followed, ""
        if entry is not None and not version_id and entry.key == followed and self._entry is not None \
                and self._entry.key == followed:
            return  # the renamed row, selected once its folder is listed again: shown already
        self.cancel()
        self._reset()
        connection, bucket = self._location.connection, self._location.bucket
        self._entry = entry if connection is not None and bucket else None
        self.version_id = version_id if self._entry is not None else ""
        if self._entry is None:
            return
        self.title.setText(entry.key + (f" · version {version_id}" if version_id else ""))
        self.message.setText("Loading…")
        self._started = time.monotonic()
        self._slot.start(self._load(connection, bucket, entry))

    def object_moved(self, source: str, target: str) -> None:
        """A move (Paste after Cut, a drag, a rename) took the object at `source` (an s3:// URI) to
        `target`. The pane follows a shown object that stayed in this bucket; one that went to
        another bucket is no longer here to read, so the pane says where it went."""
        entry = self._entry
        if entry is None or self.version_id or source != f"s3://{self._location.bucket}/{entry.key}":
            return  # a shown version stays where it was: a move leaves the source's versions
        bucket, key = parse_s3_uri(target)
        if bucket == self._location.bucket:
            # Unpinned: a copy made in parts may carry another ETag than its source's listing said.
            self.show_entry(replace(entry, key=key, etag=""))
            self._followed = key
            return
        self.show_entry(None)
        self.title.setText(entry.key)
        self.message.setText(f"This object was moved to {target}. Select it there to preview it.")

    @property
    def shown_uri(self) -> str:
        """The s3:// URI of the object shown ('' when none)."""
        return f"s3://{self._location.bucket}/{self._entry.key}" if self._entry is not None else ""

    def objects_deleted(self, bucket: str, keys: Iterable[str]) -> None:
        """A delete took `keys` from `bucket` (on a versioned bucket it left a delete marker: the
        latest is gone all the same). A shown one is let go of, saying why; a shown older version
        stays, as a delete without a version id leaves it."""
        entry = self._entry
        if entry is None or self.version_id or bucket != self._location.bucket or entry.key not in set(keys):
            return
        self.show_entry(None)
        self.title.setText(entry.key)
        self.message.setText(f"s3://{bucket}/{entry.key} was deleted.")

    def version_deleted(self, bucket: str, key: str, version_id: str, latest: bool) -> None:
        """Version `version_id` of `key` was deleted for good. A preview of it is let go of,
        saying why: that version shown, or the latest shown (no version id) when it was the one."""
        entry = self._entry
        if entry is None or bucket != self._location.bucket or entry.key != key:
            return
        if self.version_id != version_id and not (latest and not self.version_id):
            return
        self.show_entry(None)
        self.title.setText(entry.key)
        self.message.setText(f"Version {version_id} of s3://{bucket}/{key} was deleted permanently.")

    def cancel(self) -> None:
        for slot in (self._slot, self._props_slot):
            slot.cancel()
        self.parquet.cancel()
        if self._source is not None:
            self._source.cancel()

    @property
    def source(self) -> RangeFile | None:
        return self._source

    # loading

    def _reset(self) -> None:
        self.tabs.blockSignals(True)
        self.tabs.clear()
        self.tabs.blockSignals(False)
        self.tabs.hide()
        self.title.setText("Preview")
        self.message.setText(EMPTY)
        self.message.show()
        self.stats_label.clear()
        self.stats_label.hide()
        self.properties.clear()
        self._props_key = None
        self._first_view_ms: float | None = None
        self._source = None
        self.parquet.clear()

    async def _load(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        kind = formats.kind_of(entry.key)
        try:
            client = await in_executor(self._executor, connection.client)
            if entry.storage_class in ARCHIVED:  # a GET would only say InvalidObjectState: say why, and when
                cls, state = await in_executor(self._executor, restore_state, client, bucket, entry.key)
                if problem := archive_problem(cls, state, f"s3://{bucket}/{entry.key}"):
                    raise ValueError(problem)
            source = RangeFile(client, bucket, entry.key, entry.size, etag=entry.etag, version_id=self.version_id,
                               first_read=FIRST_READ if kind == formats.PARQUET else 0,
                               cache_limit=self.limits.cache_mb << 20)
            self._source = source
            if kind == formats.PARQUET:
                for page, title in await self.parquet.load(source):
                    self.tabs.addTab(page, title)
                self.message.hide()
            elif kind == formats.JSON:
                await self._load_json(source)
            elif kind == formats.CSV:
                preview = await in_executor(self._executor, formats.read_csv, source, self.limits.text_kb << 10)
                self.csv_table.setModel(ListTableModel(preview.header, preview.rows, self.csv_table))
                self._note_truncated(preview.shown, preview.size)
                self.tabs.addTab(self.csv_table, "Table")
            elif kind == formats.TEXT:
                await self._load_text(source)
            elif kind == formats.IMAGE:
                data = await in_executor(self._executor, formats.read_image, source, self.limits.whole_mb << 20)
                pixmap = QPixmap()
                if not pixmap.loadFromData(data):
                    raise ValueError("This image cannot be decoded.")
                self.image_label.setPixmap(pixmap)
                self.tabs.addTab(self.image_scroll, "Image")
            else:
                self.message.setText("No preview for this kind of file; its properties are below.")
        except asyncio.CancelledError:
            raise
        except PreviewCancelled:
            return
        except Exception as exc:
            message = str(exc) if isinstance(exc, EXPECTED_ERRORS) else \
                classify(exc, bucket=bucket, key=entry.key).message
            self.message.setText(message)
            self.message.show()
            self._add_properties_tab()
            self._update_stats()
            self.preview_failed.emit(entry.key, message)
            return
        self._first_view_ms = (time.monotonic() - self._started) * 1000
        self._add_properties_tab()
        self.tabs.show()
        if kind == formats.NONE:
            self.tabs.setCurrentWidget(self.properties)
            self._load_properties()
        self._update_stats()
        self.preview_finished.emit(entry.key)

    async def _load_json(self, source: RangeFile) -> None:
        preview = await in_executor(self._executor, formats.read_json, source, self.limits.whole_mb << 20)
        if preview.error:
            self.message.setText(preview.error)
            self._show_text(preview.text)
            self.preview_failed.emit(source.key, preview.error)
            return
        self.json_tree.show_value(preview.value)
        self.tabs.addTab(self.json_tree, "JSON")
        self.message.hide()

    async def _load_text(self, source: RangeFile) -> None:
        preview = await in_executor(self._executor, formats.read_text, source, self.limits.text_kb << 10)
        if preview.binary:
            self.message.setText("This file holds binary data; its properties are below.")
            return
        self._show_text(preview)
        self._note_truncated(preview.shown, preview.size)

    def _show_text(self, preview: formats.TextPreview) -> None:
        self.text_view.setPlainText(preview.text)
        self.tabs.addTab(self.text_view, "Text")

    def _note_truncated(self, shown: int, size: int) -> None:
        if shown < size:
            self.message.setText(f"Showing the first {human_size(shown)} of {human_size(size)}.")
        else:
            self.message.hide()

    # properties

    def _add_properties_tab(self) -> None:
        self.tabs.addTab(self.properties, "Properties")
        self.tabs.show()

    def _on_tabs_current_changed(self, _index: int) -> None:
        widget = self.tabs.currentWidget()
        if widget is self.properties:
            self._load_properties()
        self.parquet.page_shown(widget)

    def _load_properties(self) -> None:
        if self._entry is not None and self._props_key != self._entry.key and not self._props_slot.running:
            self._props_slot.start(self._properties(self._location.connection, self._location.bucket, self._entry))

    async def _properties(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        try:
            client = await in_executor(self._executor, connection.client)
            props = await in_executor(self._executor, objects.head, client, bucket, entry.key, self.version_id)
        except Exception as exc:
            if self._entry is entry:
                self.properties.clear()
                QTreeWidgetItem(self.properties, ["Error", classify(exc, bucket=bucket, key=entry.key).message])
            return
        if self._entry is entry:
            self._props_key = entry.key
            self.properties.show_properties(props)
            self.properties_loaded.emit(entry.key)

    def _on_parquet_problem(self, message: str) -> None:
        self.stats_label.setText(message)
        self.stats_label.show()

    def _update_stats(self) -> None:
        if self._source is not None:
            read = self._source.stats.line()
            # the first view's time: later reads (a jump, a scroll) add to the counts, not to it
            shown = f" · first rows shown in {self._first_view_ms:,.0f} ms" if self._first_view_ms is not None else ""
            self.stats_label.setText(read + shown if read else "")
            self.stats_label.setVisible(bool(read))
