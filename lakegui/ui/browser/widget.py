"""The prefix browser: navigation bar, filter and a lazily filled table of one prefix."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from functools import partial
from typing import Callable

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.buckets import bucket_name_problem, list_buckets
from ...core.connection import Connection
from ...core.errors import classify
from ...core.gcpause import gc_paused
from ...core.listing import ListingPage, ObjectEntry, PrefixEntry, PrefixLister, parent_prefix, parse_s3_uri
from ...core.units import counted
from ..resources import icon
from ..tasks import TaskSlot, in_executor
from .actions import ObjectActions
from .breadcrumb import Breadcrumb
from .drag import ObjectDragData
from .location import Location
from .model import ENTRY_ROLE
from .object_settings import ObjectSettings
from .path_edit import PathEdit
from .reorganise import Reorganiser
from .table import ObjectTableView
from .versions import BrowserVersions
from .versions_model import BrowserTableModel

INSERT_EVERY = 0.25  # seconds between insertions while a listing streams in (the first page at once)
INSERT_PAGES = 5  # ...or this many pages, so that no one insertion takes long
PAINT_WAIT = 0.1  # seconds the next page waits, at most, for the view to repaint an insertion


# (connection, bucket, base prefix, objects, prefixes) -> local paths, blocking until they are downloaded
FetchForDrop = Callable[[Connection, str, str, list, list], list]


class PrefixBrowser(QWidget):
    """Lists one prefix of a bucket, page by page, and navigates between prefixes.

    It owns the current connection and bucket: `location_changed` tells the views that follow it."""

    listing_started = Signal(str)  # prefix
    listing_progressed = Signal(int)  # rows loaded so far
    listing_finished = Signal(str, int)  # prefix, rows
    listing_failed = Signal(str, str)  # prefix, message for a person
    object_selected = Signal(object)  # ObjectEntry, or None when the selection is not one object
    upload_requested = Signal(list, str)  # local paths, target prefix (from a drop)
    download_requested = Signal(list, list)  # ObjectEntry list, prefix list (the selection)
    upload_dialog_requested = Signal(bool)  # Upload… (False) or Upload folder… (True): the window asks what
    open_requested = Signal(object)  # ObjectEntry: a file double-clicked or Entered
    location_changed = Signal(object)  # Location: another connection, bucket or prefix is shown

    def __init__(self, executor: Executor, fetch_for_drop: FetchForDrop | None = None, parent=None):
        """`fetch_for_drop` hands a drop target the dragged objects as local files (see drag.py);
        without it a drag offers only s3:// URIs."""
        super().__init__(parent)
        self.setObjectName("PrefixBrowser")
        self._executor = executor
        self._fetch_for_drop = fetch_for_drop
        self._connection: Connection | None = None
        self._bucket = ""
        self._location = Location()
        self._back: list[str] = []
        self._forward: list[str] = []
        self._slot = TaskSlot("listing")
        self._buckets_slot = TaskSlot("buckets")
        self._generation = 0
        self._reveal = ""  # a key to select when its folder has been listed
        # The window's actions the context menu also offers: (action, enabled for (objects, prefixes)).
        self.context_extras: list[tuple[QAction, Callable[[list, list], bool]]] = []

        self.model = BrowserTableModel(self)  # sorts and filters itself (see model.py for why)

        self.back_action = self._action("Back", "back", QKeySequence.StandardKey.Back,
                                        self.go_back)
        self.forward_action = self._action("Forward", "forward",
                                           QKeySequence.StandardKey.Forward, self.go_forward)
        self.up_action = self._action("Up", "up", QKeySequence("Alt+Up"), self.go_up)
        # Backspace too, as in file managers; a text field being edited keeps its Backspace.
        self.up_action.setShortcuts([QKeySequence("Alt+Up"), QKeySequence("Backspace")])
        self.refresh_action = self._action("Refresh", "refresh",
                                           QKeySequence.StandardKey.Refresh, self.refresh)
        self.download_action = self._action("Download…", "download",
                                            QKeySequence("Ctrl+D"), self._on_download_triggered)
        self.download_action.setStatusTip("Download the selected objects and folders to a local folder")
        self.upload_action = self._action("Upload…", "upload", QKeySequence("Ctrl+U"),
                                          lambda: self.upload_dialog_requested.emit(False))
        self.upload_action.setStatusTip("Upload files into the open folder")
        self.upload_folder_action = self._action("Upload folder…", "upload-folder", QKeySequence("Ctrl+Alt+U"),
                                                 lambda: self.upload_dialog_requested.emit(True))
        self.upload_folder_action.setToolTip("Upload a folder, with its name, into the open folder")
        self.upload_folder_action.setStatusTip("Upload a folder, with its name, into the open folder")
        for action in (self.upload_action, self.upload_folder_action):
            # Transfers menu entries: from the queue or the preview too, not only the browser.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.copy_uri_action = self._action("Copy S3 URI", QStyle.StandardPixmap.SP_FileLinkIcon,
                                            QKeySequence("Ctrl+Shift+C"), self.copy_uris)
        self.copy_uri_action.setStatusTip("Copy the s3:// URIs of the selection to the clipboard")
        self.object_actions = ObjectActions(self, executor, self)
        self.properties_action = self._action("Properties…", QStyle.StandardPixmap.SP_FileDialogInfoView,
                                              QKeySequence("Alt+Return"), self.object_actions.properties)
        self.properties_action.setStatusTip("Size, type, checksums, encryption and metadata; edit the metadata")
        self.presign_action = self._action("Copy presigned URL…", QStyle.StandardPixmap.SP_DriveNetIcon,
                                           QKeySequence("Ctrl+Shift+U"), self.object_actions.copy_presigned)
        self.presign_action.setStatusTip("Copy a URL that downloads the object without credentials, for a while")
        self.delete_action = self._action("Delete…", QStyle.StandardPixmap.SP_TrashIcon,
                                          QKeySequence(QKeySequence.StandardKey.Delete),
                                          self.object_actions.delete_selected)
        self.delete_action.setStatusTip("Delete the selected objects and folders, after asking")
        self.new_folder_action = self._action("New folder…", QStyle.StandardPixmap.SP_FileDialogNewFolder,
                                              QKeySequence("Ctrl+Shift+N"), self.object_actions.new_folder)
        self.new_folder_action.setStatusTip("Create a folder (a zero-byte 'name/' marker) here")

        self.path_edit = PathEdit(self)
        self.path_edit.setObjectName("pathEdit")
        self.path_edit.setAccessibleName("S3 path")
        self.path_edit.setPlaceholderText("s3://bucket/prefix/")
        self.path_edit.returnPressed.connect(self._on_path_edit_return_pressed)
        self.path_edit.setMinimumWidth(120)  # elided in the middle below its full width, never to nothing
        # Ctrl+L and Alt+D, as in web browsers and file managers; from anywhere in the window (the
        # browser's type-ahead took the keys typed after a Ctrl+L nothing answered).
        self.path_action = self._action("Go to path…", QStyle.StandardPixmap.SP_DirLinkIcon,
                                        QKeySequence("Ctrl+L"), self._focus_path)
        self.path_action.setShortcuts([QKeySequence("Ctrl+L"), QKeySequence("Alt+D")])
        self.path_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.path_action.setStatusTip("Type an s3:// path in the path box and press Enter")
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setAccessibleName("Filter loaded rows")
        self.filter_edit.setPlaceholderText("Filter")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaximumWidth(220)
        self.filter_edit.setMinimumWidth(60)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.filter_edit.returnPressed.connect(self._on_filter_edit_return_pressed)
        # Esc in the filter clears it; a second Esc (nothing to clear) goes back to the rows.
        # (Its context set apart: given to the constructor it was left at WindowShortcut, and the
        # window's other Esc, the queue's Clear the selection, became ambiguous and did nothing.)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.filter_edit)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self._on_filter_escape)
        self.find_action = self._action("Filter", QStyle.StandardPixmap.SP_FileDialogContentsView,
                                        QKeySequence(QKeySequence.StandardKey.Find), self._focus_filter)
        self.find_action.setStatusTip("Narrow the loaded rows by name")
        self.server_filter = QCheckBox("Search server", self)
        self.server_filter.setObjectName("serverFilter")
        self.server_filter.setToolTip("Press Enter in the filter to list only names that start with it, "
                                      "from the server (for folders too large to load)")
        self.bucket_box = QComboBox(self)
        self.bucket_box.setObjectName("bucketBox")
        self.bucket_box.setAccessibleName("Bucket")
        self.bucket_box.setEditable(True)
        self.bucket_box.setMinimumContentsLength(14)
        self.bucket_box.setToolTip("Buckets you can list; or type a bucket name and press Enter")
        self.bucket_box.activated.connect(self._on_bucket_box_activated)
        self.breadcrumb = Breadcrumb(self)
        self.breadcrumb.prefix_clicked.connect(self.navigate)
        self._server_filter = ""
        self._filter_note = False  # the state label says the filter hides every row
        self._listed_bucket = ""  # the bucket of the rows shown: another folder or bucket clears the filter

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for action in (self.back_action, self.forward_action, self.up_action, self.refresh_action):
            bar.addWidget(self._button(action))
        bar.addWidget(self.bucket_box)
        bar.addWidget(self.path_edit, 1)
        bar.addWidget(self.filter_edit)
        bar.addWidget(self.server_filter)
        # Transfers beside the path crumbs, where there is room (the bar above is full at a narrow width).
        crumbs = QHBoxLayout()
        crumbs.setContentsMargins(0, 0, 0, 0)
        crumbs.addWidget(self.breadcrumb, 1)
        for action in (self.upload_action, self.upload_folder_action, self.download_action):
            crumbs.addWidget(self._button(action))

        self.table = ObjectTableView(self.drag_data, self)
        self.table.files_dropped.connect(self._on_table_files_dropped)
        self.table.setObjectName("objectTable")
        self.table.setAccessibleName("Objects")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 90), (2, 140), (3, 110)):
            header.resizeSection(col, width)
        self.table.activated.connect(self._on_table_activated)  # double-click, or Enter
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        # Rename, Cut/Copy/Paste, Duplicate and drops of our own objects: queued copies and moves.
        self.reorganiser = Reorganiser(self, executor, self)
        self.table.objects_dropped.connect(self.reorganiser.drop)
        self.breadcrumb.objects_dropped.connect(self.reorganiser.drop)
        # Show versions (Ctrl+Shift+H): deleted rows dimmed, and a Versions pane under the table.
        self.versions = BrowserVersions(self, executor)
        self.addAction(self.versions.toggle_action)
        # Change storage class…, Restore… and the Restore column; Create/Delete bucket… by the switcher.
        self.object_settings = ObjectSettings(self, executor, self)
        bar.insertWidget(bar.indexOf(self.bucket_box) + 1, self.object_settings.bucket_button)
        self.table_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table_splitter.setObjectName("browserVersionsSplitter")
        self.table_splitter.setChildrenCollapsible(False)
        self.table_splitter.addWidget(self.table)
        self.table_splitter.addWidget(self.versions.pane)
        self.table_splitter.setStretchFactor(0, 3)
        self.table_splitter.setStretchFactor(1, 2)
        crumbs.addWidget(self._button(self.versions.toggle_action))

        self.state_label = QLabel(self)
        self.state_label.setObjectName("browserState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(crumbs)
        layout.addWidget(self.table_splitter, 1)
        layout.addWidget(self.state_label)
        self._set_state("Not connected. Use File › Connect…, or start lakegui with --demo.")
        self._update_actions()

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setAccessibleName(action.text().rstrip("…"))
        return button

    def _action(self, text, pixmap, shortcut, slot) -> QAction:
        """`pixmap`: a QStyle standard pixmap, or the name of one of our SVG icons."""
        action = QAction(icon(pixmap) if isinstance(pixmap, str) else self.style().standardIcon(pixmap), text, self)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # public API

    @property
    def prefix(self) -> str:
        return self.model.prefix

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def connection(self) -> Connection | None:
        return self._connection

    @property
    def location(self) -> Location:
        return self._location

    @property
    def loading(self) -> bool:
        return self._slot.running

    def set_connection(self, connection: Connection | None, bucket: str = "", prefix: str = "") -> None:
        """Show `connection`'s bucket (or `bucket`), opened at `prefix` (the root by default)."""
        self._connection = connection
        self._bucket = bucket or (connection.bucket if connection else "")
        self._back.clear()
        self._forward.clear()
        self.bucket_box.clear()
        if self._bucket:
            self.bucket_box.addItem(self._bucket)
        if connection is not None:
            self._buckets_slot.start(self._fill_buckets(connection))
        if connection is None:
            self.cancel()
            self.model.reset("")
            self._set_state("Not connected. Use File › Connect…, or start lakegui with --demo.")
        elif not self._bucket:
            self.model.reset("")
            self._set_state("No bucket chosen: type s3://bucket/ in the path bar.")
        else:
            self._load(prefix)
        self._update_actions()
        self._announce_location()

    def navigate(self, prefix: str) -> None:
        """Open `prefix`, remembering the current one for Back."""
        if self._connection is None:
            return
        if prefix != self.prefix:
            self._back.append(self.prefix)
            self._forward.clear()
        self._load(prefix)

    def reveal(self, key: str) -> None:
        """Open the folder holding `key` and select it (so the preview shows it) once listed."""
        self._reveal = key
        if parent_prefix(key) == self.prefix and not self.loading and self._connection is not None:
            self._select_revealed()  # listed already: no need to list it again
            return
        self.navigate(parent_prefix(key))

    def _select_revealed(self) -> None:
        key, self._reveal = self._reveal, ""
        for row in range(self.model.rowCount()):
            entry = self.model.entry(row)
            if isinstance(entry, ObjectEntry) and entry.key == key:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return

    def go_back(self) -> None:
        if self._back:
            self._forward.append(self.prefix)
            self._load(self._back.pop())

    def go_forward(self) -> None:
        if self._forward:
            self._back.append(self.prefix)
            self._load(self._forward.pop())

    def go_up(self) -> None:
        if self.prefix:
            self.navigate(parent_prefix(self.prefix))

    def refresh(self) -> None:
        if self._connection is not None and self._bucket:
            self._load(self.prefix)

    def cancel(self) -> None:
        self._slot.cancel()
        self._buckets_slot.cancel()
        self.object_actions.cancel()
        self.reorganiser.cancel()
        self.object_settings.cancel()
        self.versions.cancel()

    def report_unavailable(self, message: str) -> None:
        """Say why there is nothing to list (e.g. the demo endpoint did not start), as a failed listing does."""
        self._set_state(message, error=True)
        self.listing_failed.emit(self.prefix, message)

    def switch_bucket(self, bucket: str, prefix: str = "") -> None:
        """Open another bucket of the same connection (history starts afresh)."""
        bucket = bucket.strip()
        if problem := bucket_name_problem(bucket):
            self._set_state(problem, error=True)
            return
        self._bucket = bucket
        self._back.clear()
        self._forward.clear()
        if self.bucket_box.findText(bucket) < 0:
            self.bucket_box.addItem(bucket)
        self.bucket_box.setCurrentText(bucket)
        self._load(prefix)

    async def _fill_buckets(self, connection: Connection) -> None:
        """The buckets the credentials may list; without that right the box keeps typed names."""
        try:
            names = await in_executor(self._executor, list_buckets, connection)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.bucket_box.setToolTip("This account may not list buckets: type a bucket name and press Enter")
            return
        current = self._bucket
        self.bucket_box.clear()
        self.bucket_box.addItems(names if current in names or not current else [current, *names])
        self.bucket_box.setCurrentText(current)

    def selected_entries(self) -> tuple[list[ObjectEntry], list[str]]:
        """The selected objects and folder prefixes, in view order."""
        objects, prefixes = [], []
        for index in sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row()):
            entry = index.data(ENTRY_ROLE)
            if isinstance(entry, PrefixEntry):
                prefixes.append(entry.prefix)
            elif isinstance(entry, ObjectEntry):
                objects.append(entry)
        return objects, prefixes

    def drag_data(self) -> ObjectDragData | None:
        """What dragging the selection out carries (see drag.py)."""
        objects, prefixes = self.selected_entries()
        if self._connection is None or not (objects or prefixes):
            return None
        fetch = None if self._fetch_for_drop is None else \
            partial(self._fetch_for_drop, self._connection, self._bucket, self.prefix, objects, prefixes)
        return ObjectDragData(self._bucket, [*prefixes, *(o.key for o in objects)], fetch)

    def copy_uris(self) -> None:
        if (data := self.drag_data()) is not None:
            QApplication.clipboard().setText("\n".join(data.uris))
            n = len(data.uris)
            self.object_actions.done.emit(f"Copied {n:,} S3 URI" + ("" if n == 1 else "s"))

    # listing

    def _load(self, prefix: str, *, server_filter: str = "") -> None:
        self._generation += 1
        if (self._bucket, prefix) != (self._listed_bucket, self.model.prefix) and not server_filter:
            # A filter typed for one folder hid the next one's rows ("0 of 2 items" in the parent):
            # another folder starts unfiltered, as file managers do. A refresh keeps it.
            self.filter_edit.clear()
        self._listed_bucket = self._bucket
        self._server_filter = server_filter
        self.model.reset(prefix)
        self.path_edit.setText(f"s3://{self._bucket}/{prefix}")
        self.path_edit.setToolTip(self.path_edit.text())
        self.breadcrumb.set_path(self._bucket, prefix)
        self._update_actions()
        self._set_state("Loading…")
        self._announce_location()
        self.listing_started.emit(prefix)
        self._slot.start(self._list(prefix, self._generation))

    def _announce_location(self) -> None:
        here = Location(self._connection, self._bucket if self._connection else "", self.prefix)
        if here != self._location:
            self._location = here
            self.location_changed.emit(here)

    async def _list(self, prefix: str, generation: int) -> None:
        connection, bucket = self._connection, self._bucket
        rows = 0
        try:
            client = await in_executor(self._executor, connection.client)
            lister = PrefixLister(client, bucket, prefix + self._server_filter,
                                  raw=connection.profile.raw_listing, verify=connection.profile.verify_tls)
            with gc_paused():
                pending: list[ListingPage] = []
                shown_at = 0.0
                while not lister.done:
                    page = await in_executor(self._executor, lister.next_page)
                    if generation != self._generation:  # superseded while the call was in flight
                        return
                    pending.append(page)
                    # The first page at once; then a few pages at a time: every insertion repaints
                    # the view, and one repaint per 1,000-key page kept the UI thread busy.
                    now = time.monotonic()
                    if not rows or lister.done or now - shown_at >= INSERT_EVERY or len(pending) >= INSERT_PAGES:
                        rows += self.model.append_page(_merged(pending))
                        pending.clear()
                        self.listing_progressed.emit(rows)
                        if not lister.done:
                            await self._painted()
                        shown_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes a message, never a crash
            if generation == self._generation:
                info = classify(exc, bucket=bucket, key=prefix, endpoint=connection.profile.endpoint_url or None)
                self._set_state(info.message, error=True)
                self.listing_failed.emit(prefix, info.message)
            return
        if self._server_filter:
            self._set_state(f"Showing names that start with '{self._server_filter}' (listed by the server).")
        else:
            self._set_state("" if rows else f"s3://{bucket}/{prefix} is empty. Drop files here to upload them.")
            self._say_filter_hides()
        if self._reveal and parent_prefix(self._reveal) == prefix:
            self._select_revealed()
        self.listing_finished.emit(prefix, rows)

    async def _painted(self) -> None:
        """Wait until the view has repainted the rows just inserted (at most PAINT_WAIT).

        Fetching the next page meanwhile made the repaint share the GIL with the page's parsing
        and a core with the server: a 12 ms repaint took 25-60 ms, the UI's longest stalls."""
        if not self.table.isVisible():
            return
        painted = asyncio.get_event_loop().create_future()

        def on_painted() -> None:
            if not painted.done():
                painted.set_result(None)

        self.table.painted.connect(on_painted)
        try:
            await asyncio.wait_for(painted, PAINT_WAIT)
        except asyncio.TimeoutError:
            pass
        finally:
            self.table.painted.disconnect(on_painted)

    # slots

    def _on_path_edit_return_pressed(self) -> None:
        text = self.path_edit.text().strip()
        try:
            bucket, prefix = parse_s3_uri(text)
        except ValueError as exc:
            self._set_state(str(exc), error=True)
            return
        if self._connection is None:
            self._set_state("Not connected. Use File › Connect… first.", error=True)
            return
        if bucket != self._bucket:
            self.switch_bucket(bucket, prefix)
        else:
            self.navigate(prefix)
        if bucket == self._bucket:  # gone there: what is typed next is for the rows (type-ahead, Ctrl+U…)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_bucket_box_activated(self, index: int) -> None:
        name = self.bucket_box.itemText(index) if index >= 0 else self.bucket_box.currentText()
        if self._connection is not None and name and name != self._bucket:
            self.switch_bucket(name)

    def _on_filter_text_changed(self, text: str) -> None:
        self.model.set_filter(text)
        if not self.loading:
            self._say_filter_hides()

    def _say_filter_hides(self) -> None:
        """When the filter hides every loaded row, say so where the rows would be (and take the
        note back when it no longer does); any other state is left alone."""
        text = self.filter_edit.text()
        if text and self.model.loaded and not self.model.rowCount():
            self._set_state(f"No name here contains '{text}': the filter hides all "
                            f"{counted(self.model.loaded, 'item')}. Esc in the filter clears it.")
            self._filter_note = True
        elif self._filter_note:
            self._set_state("")

    def _on_filter_escape(self) -> None:
        if self.filter_edit.text():
            self.filter_edit.clear()
        else:
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_filter_edit_return_pressed(self) -> None:
        if self.server_filter.isChecked() and self._connection is not None and self._bucket:
            # Every name the server returns starts with the text, so the local filter agrees.
            self._load(self.prefix, server_filter=self.filter_edit.text())

    def _focus_path(self) -> None:
        self.path_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.path_edit.selectAll()

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _on_table_activated(self, index: QModelIndex) -> None:
        entry = index.data(ENTRY_ROLE)
        if isinstance(entry, PrefixEntry):
            self.navigate(entry.prefix)
        elif isinstance(entry, ObjectEntry):
            self.open_requested.emit(entry)

    def _on_selection_changed(self, *_) -> None:
        rows = self.table.selectionModel().selectedRows()
        entry = rows[0].data(ENTRY_ROLE) if len(rows) == 1 else None
        self.object_selected.emit(entry if isinstance(entry, ObjectEntry) else None)

    def _on_download_triggered(self) -> None:
        objects, prefixes = self.selected_entries()
        if objects or prefixes:
            self.download_requested.emit(objects, prefixes)

    def _on_table_files_dropped(self, paths: list, folder) -> None:
        self.upload_requested.emit(paths, folder if folder is not None else self.prefix)

    def _on_table_context_menu(self, pos) -> None:
        self.context_menu().popup(self.table.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The table's context menu for the current selection."""
        objects, prefixes = self.selected_entries()
        menu = QMenu(self)
        one_object = len(objects) == 1 and not prefixes
        here = self._connection is not None and bool(self._bucket)
        r = self.reorganiser
        # A deleted row (Show versions): the Versions pane's own Undelete, first.
        pane = self.versions.pane
        undelete = ((pane.undelete_action, pane.deleted), (None, True)) if self.versions.enabled and any(
            self.model.is_deleted(i.data(ENTRY_ROLE)) for i in self.table.selectionModel().selectedRows()) else ()
        before: dict[QAction, bool] = {}
        for action, enabled in (*undelete, (self.download_action, bool(objects or prefixes)),
                                (self.copy_uri_action, bool(objects or prefixes)),
                                (self.presign_action, one_object), (self.properties_action, one_object),
                                *((a, ok(objects, prefixes)) for a, ok in self.context_extras),
                                (None, True), (r.rename_action, len(objects) + len(prefixes) == 1 and here),
                                (r.cut_action, bool(objects or prefixes)), (r.copy_action, bool(objects or prefixes)),
                                (r.paste_action, r.can_paste()), (r.duplicate_action, bool(objects or prefixes)),
                                (None, True), *self.object_settings.menu_entries(),
                                (None, True), (self.upload_action, here), (self.upload_folder_action, here),
                                (None, True), (self.delete_action, bool(objects or prefixes)),
                                (self.new_folder_action, True), (None, True), (self.refresh_action, True)):
            if action is None:
                menu.addSeparator()
                continue
            before[action] = action.isEnabled()
            action.setEnabled(enabled)
            menu.addAction(action)
        # The actions are the window's too (menus, shortcuts): give them back their state afterwards,
        # once a chosen one has run (Qt triggers it after the menu hides).
        def restore() -> None:
            for action, enabled in before.items():
                action.setEnabled(enabled)
            menu.deleteLater()

        menu.aboutToHide.connect(lambda: QTimer.singleShot(0, restore))
        return menu

    def _set_state(self, text: str, *, error: bool = False) -> None:
        self._filter_note = False
        self.state_label.setText(text)
        self.state_label.setProperty("error", error)
        self.state_label.setStyleSheet("color: #b3261e;" if error else "")
        self.state_label.setVisible(bool(text))

    def _update_actions(self) -> None:
        self.table.drops_enabled = self._connection is not None and bool(self._bucket)
        self.back_action.setEnabled(bool(self._back))
        self.forward_action.setEnabled(bool(self._forward))
        self.up_action.setEnabled(bool(self.prefix))
        for action in (self.upload_action, self.upload_folder_action):
            action.setEnabled(self._connection is not None and bool(self._bucket))


def _merged(pages: list[ListingPage]) -> ListingPage:
    if len(pages) == 1:
        return pages[0]
    return ListingPage(pages[-1].number, [p for page in pages for p in page.prefixes],
                       [o for page in pages for o in page.objects], pages[-1].is_last)
