"""The main window: browser and queue on the left, preview on the right, menus and status bar."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core.connection import Connection
from ..core.listing import ObjectEntry, parse_s3_uri
from ..core.settings import Settings, TransferSettings
from ..core.transfers.object_jobs import delete_results
from ..core.units import counted, human_size
from .backfills.notifier import Notifier
from .bookmarks import BookmarksPanel, bookmark_title
from .browser.location import Location
from .browser.opener import FileOpener, sweep_cache
from .browser.widget import PrefixBrowser
from .dialogs.connection import ConnectionDialog
from .literal_text import literal
from .log_panel import LogPanel
from .notice_bar import NoticeBar
from .preview.pane import PreviewPane
from .queue.controller import TransferQueue
from .queue.drop_downloads import DropDownloads, sweep_staging
from .queue.transfer_actions import TransferActions
from .queue.view import TransferQueueView
from .start_folder import ask_files, ask_folder, downloads_folder
from .state import ui_settings

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    profile_chosen = Signal(object)  # ConnectionProfile picked in the connection dialog
    settings_chosen = Signal(object)  # Settings accepted in the settings dialog
    profiles_edited = Signal(list)  # the connection profiles as the Connect dialog left them

    def __init__(self, executor: Executor, transfer_settings: TransferSettings | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("lakegui")
        self.connection: Connection | None = None
        self._uploaded_here = False
        self._connecting = False  # the listing a new connection starts is no navigation of the user's
        # An action's result, kept through the refresh it starts at once (delete, new folder, metadata).
        self._action_message = ""
        self._carried_message = ""  # ...and while that refresh lists
        self._ended: dict[str, int] = {}  # transfer ends since the queue was last idle, by state

        self._executor = executor
        self.settings = Settings(transfer=transfer_settings or TransferSettings())
        self.backfills = None  # the dashboard window, made when first opened
        self.wizard = None  # the open backfill wizard, if any
        self.coverage = None  # the coverage window, made when first opened
        self.query = None  # the query window (ui/query), made when first opened
        self.search = None  # the search-by-name window, made when first opened
        self.comparison = None  # the compare-with-local-folder window (ui/sync), made when first opened
        self.transfers = TransferQueue(transfer_settings, self)
        self.transfer_actions = TransferActions(self.transfers, executor, self)
        self.drop_downloads = DropDownloads(self.transfers, self.transfer_actions, self)
        self.browser = PrefixBrowser(executor, self.drop_downloads.fetch, self)
        executor.submit(sweep_staging)  # yesterday's drops, off the UI thread
        executor.submit(sweep_cache)  # copies opened more than a week ago
        self.queue = TransferQueueView(self.transfers, self)
        self.preview = PreviewPane(executor, self)
        self.log_panel = LogPanel(self)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()
        self.opener = FileOpener(self.transfers, self.transfer_actions, self)
        self.bookmarks_panel = BookmarksPanel(self)
        self.bookmarks_dock = QDockWidget("Bookmarks", self)
        self.bookmarks_dock.setObjectName("bookmarksDock")
        self.bookmarks_dock.setWidget(self.bookmarks_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.bookmarks_dock)
        self.bookmarks_dock.hide()  # until there is a bookmark, or the user asks (View › Bookmarks)

        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.setObjectName("leftSplitter")
        self.left_splitter.addWidget(self.browser)
        self.left_splitter.addWidget(self.queue)
        self.left_splitter.setStretchFactor(0, 3)
        self.left_splitter.setStretchFactor(1, 1)
        # Tab from the objects goes to the transfers' rows (when there are any), then on round the
        # panes' controls; it went from the objects to the toolbar's buttons first.
        QWidget.setTabOrder(self.browser.table, self.queue.table)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(self.left_splitter)
        self.main_splitter.addWidget(self.preview)
        self.main_splitter.setStretchFactor(0, 3)
        self.main_splitter.setStretchFactor(1, 2)
        # First-run proportions; a saved layout overrides them in _restore_layout().
        self.main_splitter.setSizes([780, 500])
        self.left_splitter.setSizes([560, 240])

        # A notice bar for things the user must know but need not answer (e.g. a reset settings file);
        # it goes when closed, or with the user's next navigation or successful action.
        self.notice = NoticeBar(self)
        # Quitting while transfers run asks first, saying they continue next start (Ctrl+Q quit
        # without a word); (text, informative text) -> quit or not, replaceable in tests. A kill
        # (SIGTERM, SIGINT) is not asked: app.py clears ask_before_quit. Off until the app turns it
        # on for a person: a window closed by code (a test's teardown) must never wait on a question.
        self.ask_before_quit = False
        self._shut_down = False  # shutdown() ran: a close after it has nothing left to ask about
        self.confirm_quit = self._confirm_quit

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

        self.connection_label = QLabel("Not connected", self)
        self.connection_label.setObjectName("connectionLabel")
        # The bucket's versioning state (browser/versions.py reads it when the bucket changes).
        self.versioning_label = QLabel("", self)
        self.versioning_label.setObjectName("versioningLabel")
        self.versioning_label.setToolTip("Whether the bucket keeps versions: Edit › Enable/Suspend bucket "
                                         "versioning…; View › Show versions shows them")
        self.versioning_label.hide()
        # Between the two: without it they read as one ("Versioning: off default: http://…").
        self.versioning_separator = QFrame(self)
        self.versioning_separator.setFrameShape(QFrame.Shape.VLine)
        self.versioning_separator.setFrameShadow(QFrame.Shadow.Sunken)
        self.versioning_separator.hide()
        self.statusBar().addPermanentWidget(self.versioning_label)
        self.statusBar().addPermanentWidget(self.versioning_separator)
        self.statusBar().addPermanentWidget(self.connection_label)

        self._build_menus()
        self.browser.listing_started.connect(self._on_browser_listing_started)
        self.browser.listing_progressed.connect(self._on_browser_listing_progressed)
        self.browser.listing_finished.connect(self._on_browser_listing_finished)
        self.browser.listing_failed.connect(self._on_browser_listing_failed)
        self.browser.location_changed.connect(self.preview.set_location)
        self.browser.location_changed.connect(self._on_browser_location_changed)
        self.browser.object_selected.connect(self.preview.show_entry)
        self.browser.upload_requested.connect(self._on_browser_upload_requested)
        self.browser.download_requested.connect(self._on_browser_download_requested)
        self.browser.upload_dialog_requested.connect(self._on_browser_upload_dialog_requested)
        self.browser.open_requested.connect(self._on_browser_open_requested)
        self.opener.failed.connect(self.show_notice)
        self.opener.opened.connect(lambda path: self.statusBar().showMessage(f"Opened {path}"))
        self.queue.failed.connect(self.show_notice)
        self.bookmarks_panel.open_requested.connect(self.open_bookmark)
        self.bookmarks_panel.remove_requested.connect(self.remove_bookmark)
        self.transfer_actions.failed.connect(self.show_notice)
        self.transfer_actions.notice.connect(self.show_notice)
        self.transfer_actions.enqueued.connect(self._on_transfer_actions_enqueued)
        self.browser.object_actions.done.connect(self._on_object_actions_done)
        self.browser.filter_edit.textChanged.connect(self._show_count)
        self._selection_shown = False  # the status bar counts the selection (more than one row)
        self.browser.table.selectionModel().selectionChanged.connect(self._on_browser_selection_changed)
        self.browser.object_actions.failed.connect(self.show_notice)
        self.browser.object_actions.attach(self.transfers)  # Delete… queues delete jobs
        self.browser.object_actions.queued.connect(
            lambda _batch, jobs: self.statusBar().showMessage(f"Queued {counted(jobs, 'delete job')}"))
        versions = self.browser.versions
        versions.done.connect(self._on_object_actions_done)
        versions.failed.connect(self.show_notice)
        versions.state_changed.connect(self._on_versioning_state_changed)
        versions.versions_listed.connect(self._on_versions_listed)
        versions.preview_requested.connect(self.preview.show_entry)
        versions.version_deleted.connect(self.preview.version_deleted)
        versions.download_requested.connect(self._on_versions_download_requested)
        self.browser.reorganiser.attach(self.transfers)
        self.browser.reorganiser.done.connect(self._on_object_actions_done)
        self.browser.reorganiser.failed.connect(self.show_notice)
        self.browser.object_settings.attach(self.transfers)
        self.browser.object_settings.done.connect(self._on_object_actions_done)
        self.browser.object_settings.failed.connect(self.show_notice)
        self.notifier = Notifier(self, self.transfers)
        self.notifier.watch_unfinished()
        self.transfers.job_finished.connect(self._on_transfers_job_finished)
        self.transfers.idle.connect(self._on_transfers_idle)
        if self.transfers.error:
            self.show_notice(f"Transfers are unavailable: {self.transfers.error}")
        self.resize(1280, 800)
        self._restore_layout()
        self.transfers.start()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.connect_action = QAction("&Connect…", self)
        self.connect_action.setShortcut(QKeySequence("Ctrl+K"))
        self.connect_action.setStatusTip("Connect to an S3 endpoint and bucket")
        self.connect_action.triggered.connect(self.open_connection_dialog)
        file_menu.addAction(self.connect_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        # The platform's Quit keys; desktops without one (Windows, or no desktop at all) get Ctrl+Q.
        quit_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")])
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        for action in (self.browser.download_action, self.browser.copy_uri_action, self.browser.presign_action,
                       self.browser.properties_action, self.browser.delete_action, self.browser.new_folder_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        r = self.browser.reorganiser
        for action in (r.rename_action, r.cut_action, r.copy_action, r.paste_action, r.duplicate_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        o = self.browser.object_settings
        for action in (o.storage_class_action, o.restore_action, o.create_bucket_action, o.delete_bucket_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.browser.versions.versioning_action)
        edit_menu.addSeparator()
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setStatusTip("Transfers (files at once, part size, bandwidth, attempts, existing "
                                          "targets), preview limits and the default download folder")
        self.settings_action.triggered.connect(self.open_settings)
        edit_menu.addAction(self.settings_action)

        transfers_menu = self.menuBar().addMenu("&Transfers")
        transfers_menu.addAction(self.browser.upload_action)
        transfers_menu.addAction(self.browser.upload_folder_action)
        transfers_menu.addSeparator()
        for action in (self.queue.pause_action, self.queue.resume_action, self.queue.cancel_action,
                       self.queue.retry_action, None, self.queue.remove_finished_action, self.queue.clear_action):
            transfers_menu.addSeparator() if action is None else transfers_menu.addAction(action)
        transfers_menu.addSeparator()
        self.new_backfill_action = QAction("&New backfill…", self)
        self.new_backfill_action.setShortcut(QKeySequence("Ctrl+B"))
        self.new_backfill_action.setStatusTip("Place a folder of files into the lake by a layout template, "
                                              "with lineage metadata")
        self.new_backfill_action.triggered.connect(lambda: self.open_backfill_wizard())
        transfers_menu.addAction(self.new_backfill_action)
        self.backfills_action = QAction("&Backfills…", self)
        self.backfills_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.backfills_action.setStatusTip("Progress, throughput, failures and manifests of the queued backfills")
        self.backfills_action.triggered.connect(self.open_backfills)
        transfers_menu.addAction(self.backfills_action)

        go_menu = self.menuBar().addMenu("&Go")
        for action in (self.browser.back_action, self.browser.forward_action, self.browser.up_action,
                       self.browser.refresh_action, self.browser.find_action, self.browser.path_action):
            go_menu.addAction(action)
        self.search_action = QAction("&Search by name…", self)
        self.search_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.search_action.setStatusTip("Find objects by name anywhere below the open folder")
        self.search_action.triggered.connect(lambda: self.open_search())
        go_menu.addAction(self.search_action)
        go_menu.addSeparator()
        self.bookmark_action = QAction("Bookmark this &location", self)
        self.bookmark_action.setShortcut(QKeySequence("Ctrl+Shift+D"))  # Ctrl+D downloads
        self.bookmark_action.setStatusTip("Save the open folder in Go › Bookmarks and the Bookmarks panel")
        self.bookmark_action.triggered.connect(self.add_bookmark)
        go_menu.addAction(self.bookmark_action)
        self.bookmarks_menu = go_menu.addMenu("&Bookmarks")
        self._fill_bookmarks_menu()

        view_menu = self.menuBar().addMenu("&View")
        self.coverage_action = QAction("Lake &coverage…", self)
        self.coverage_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.coverage_action.setStatusTip("Which symbols and years of a layout are in the lake, and which are missing")
        self.coverage_action.triggered.connect(self.open_coverage)
        view_menu.addAction(self.coverage_action)
        self.query_action = QAction("&Query…", self)
        self.query_action.setShortcut(QKeySequence("Ctrl+Shift+Q"))
        self.query_action.setStatusTip("A layout's files as one table: fields, columns, a filter, a chart, the schemas")
        self.query_action.triggered.connect(lambda: self.open_query())
        view_menu.addAction(self.query_action)
        self.query_selection_action = QAction("Query the &selection…", self)
        self.query_selection_action.setShortcut(QKeySequence("Ctrl+Alt+Q"))
        self.query_selection_action.setStatusTip("The selected files' rows in the Query window, by their layout's fields")
        self.query_selection_action.triggered.connect(self.query_selection)
        view_menu.addAction(self.query_selection_action)
        # ...and "Query these…" in the browser's context menu, for Parquet files and folders of a layout.
        self.browser.context_extras.append((self.query_selection_action, lambda objects, prefixes: bool(
            objects or prefixes) and all(o.key.lower().endswith(".parquet") for o in objects)))
        self.compare_action = QAction("Compare with local &folder…", self)
        self.compare_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.compare_action.setStatusTip("Compare this prefix with a local folder, by content; upload, download or mirror")
        self.compare_action.triggered.connect(lambda: self.open_comparison())
        view_menu.addAction(self.compare_action)
        view_menu.addSeparator()
        view_menu.addAction(self.browser.versions.toggle_action)
        view_menu.addSeparator()
        log_action = self.log_dock.toggleViewAction()
        log_action.setText("&Log")
        log_action.setShortcut(QKeySequence("Ctrl+Shift+J"))
        log_action.setStatusTip("This session's log: failures with their job, key, error code and request id")
        view_menu.addAction(log_action)
        bookmarks_toggle = self.bookmarks_dock.toggleViewAction()
        bookmarks_toggle.setText("&Bookmarks")
        bookmarks_toggle.setShortcut(QKeySequence("Ctrl+Shift+O"))
        bookmarks_toggle.setStatusTip("The saved locations of this profile, beside the browser")
        view_menu.addAction(bookmarks_toggle)
        view_menu.addSeparator()
        for title, widget, keys in (("&Transfer queue", self.queue, "Ctrl+Shift+T"),
                                    ("&Preview", self.preview, "Ctrl+Shift+P")):
            action = QAction(title, self, checkable=True, checked=True)
            action.setShortcut(QKeySequence(keys))
            action.toggled.connect(widget.setVisible)
            view_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        shortcuts = QAction("&Keyboard shortcuts", self)
        shortcuts.setShortcut(QKeySequence("F1"))
        shortcuts.setStatusTip("Every shortcut of the window")
        shortcuts.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts)
        about = QAction("&About lakegui", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About lakegui", f"lakegui {__version__}\nA transfer manager for S3 data lakes."))
        help_menu.addAction(about)

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, action, shortcut) of every menu action that has a shortcut, in menu order."""
        rows = []

        def walk(menu, path):
            for action in menu.actions():
                if action.menu() is not None:
                    walk(action.menu(), path)
                elif not action.shortcut().isEmpty():  # every key of it: Up is Alt+Up and Backspace
                    rows.append((path, action.text().replace("&", ""), ", ".join(
                        k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())))

        for top in self.menuBar().actions():
            if top.menu() is not None:
                walk(top.menu(), top.text().replace("&", ""))
        return rows

    def show_shortcuts(self) -> None:
        from .dialogs.shortcuts import ShortcutsDialog

        box = ShortcutsDialog(self.shortcut_rows(),
                              "In the browser, Enter or a double-click opens the selected folder, or downloads "
                              "the selected file to a cache and opens it with its application. Home and End go to "
                              "the first and last row. Tab and Shift+Tab move between the browser, the transfer "
                              "queue and the preview.", self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # connection

    def set_connection(self, connection: Connection | None) -> None:
        self.connection = connection
        if connection is not None:
            log.info("Connected to %s", connection.describe())
        if connection is not None and not connection.profile.verify_tls:
            self.show_notice(f"TLS certificate verification is OFF for {connection.profile.endpoint_url}: "
                             "the connection can be intercepted. Turn it back on in File › Connect… unless "
                             "this is a test server you control.")
        self._connecting = True
        try:
            self.browser.set_connection(connection, prefix=self._last_prefix(connection))  # the rest follows it
        finally:
            self._connecting = False
        self.transfers.set_connection(connection)
        self._show_bookmarks()

    def open_connection_dialog(self) -> None:
        current = self.connection.profile if self.connection else None
        known = current is not None and any(p.name == current.name for p in self.settings.profiles)
        profiles = self.settings.profiles if known or current is None else [*self.settings.profiles, current]
        dialog = ConnectionDialog(profiles, self, current=current.name if current else "",
                                  executor=self._executor)
        if dialog.exec() == ConnectionDialog.DialogCode.Accepted:
            renamed = dialog.renamed()
            self.settings.rename_profiles(renamed)  # bookmarks follow a renamed profile
            if self.connection is not None and self.connection.profile.name in renamed:
                self.connection.profile.name = renamed[self.connection.profile.name]
            self._show_bookmarks()
            self.profiles_edited.emit(dialog.profiles())
            if dialog.connect_requested:
                self.profile_chosen.emit(dialog.profile())

    def open_settings(self) -> None:
        from .dialogs.settings import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.apply_settings(dialog.settings())
            self.settings_chosen.emit(self.settings)

    def apply_settings(self, settings: Settings) -> None:
        """Use `settings` from now on: transfers that start later, previews, the download folder."""
        if settings.transfer != self.transfers.settings:
            self.transfers.apply_settings(settings.transfer)
        self.preview.limits = settings.preview
        if settings.theme != self.settings.theme:
            from PySide6.QtWidgets import QApplication

            from .theme import apply_theme

            apply_theme(QApplication.instance(), settings.theme)
        self.settings = settings
        self._show_bookmarks()

    def show_notice(self, text: str) -> None:
        if text:
            log.info("Notice: %s", text)
        self.notice.show_text(text)

    def _on_object_actions_done(self, text: str) -> None:
        self.notice.dismiss()  # a successful action: an older notice is no longer news
        self._action_message = text
        QTimer.singleShot(0, self._forget_action_message)  # an action that refreshes does so before this
        self.statusBar().showMessage(text)

    def _forget_action_message(self) -> None:
        self._action_message = ""

    # bookmarks

    def _bookmark_profile(self) -> str:
        return self.connection.profile.name if self.connection is not None else ""

    def bookmarks(self) -> list[str]:
        """The connected profile's bookmarks (s3:// URIs)."""
        return list(self.settings.bookmarks.get(self._bookmark_profile(), []))

    def add_bookmark(self) -> None:
        uri = self.browser.location.uri
        if self.connection is None or not uri:
            self.show_notice("Connect to a bucket before bookmarking a location.")
            return
        marks = self.bookmarks()
        if uri not in marks:
            self._save_bookmarks([*marks, uri])
            log.info("Bookmarked %s", uri)
        self.notice.dismiss()  # a successful action
        self.statusBar().showMessage(f"Bookmarked {uri}")

    def remove_bookmark(self, uri: str) -> None:
        self._save_bookmarks([u for u in self.bookmarks() if u != uri])

    def open_bookmark(self, uri: str) -> None:
        if self.connection is None:
            return
        bucket, prefix = parse_s3_uri(uri)
        if bucket != self.browser.bucket:
            self.browser.switch_bucket(bucket, prefix)
        else:
            self.browser.navigate(prefix)

    def _save_bookmarks(self, uris: list[str]) -> None:
        marks = dict(self.settings.bookmarks)
        if uris:
            marks[self._bookmark_profile()] = uris
        else:
            marks.pop(self._bookmark_profile(), None)
        self.settings.bookmarks = marks
        self._show_bookmarks()
        self.settings_chosen.emit(self.settings)  # the app saves the settings file

    def _show_bookmarks(self) -> None:
        marks = self.bookmarks()
        self.bookmarks_panel.set_uris(marks)
        self._fill_bookmarks_menu()
        if marks and self.bookmarks_dock.isHidden():
            self.bookmarks_dock.show()
            self.resizeDocks([self.bookmarks_dock], [190], Qt.Orientation.Horizontal)  # narrow: the browser needs room

    def _fill_bookmarks_menu(self) -> None:
        self.bookmarks_menu.clear()
        marks = self.bookmarks()
        for uri in marks:
            action = self.bookmarks_menu.addAction(literal(bookmark_title(uri)))
            action.setToolTip(uri)
            action.setStatusTip(uri)
            action.setData(uri)
            action.triggered.connect(lambda _=False, u=uri: self.open_bookmark(u))
        if not marks:
            self.bookmarks_menu.addAction("(none yet: Ctrl+Shift+D saves the open folder)").setEnabled(False)

    # search

    def search_window(self):
        """The search-by-name window, made on first use; it searches below the browser's folder."""
        if self.search is None:
            from .search import SearchWindow

            self.search = SearchWindow(self._executor, self)
            self.search.set_location(self.browser.location)
            self.browser.location_changed.connect(self.search.set_location)
            self.search.reveal_requested.connect(self._on_search_reveal_requested)
        return self.search

    def open_search(self, text: str = ""):
        """Show the search window (searching for `text` at once when given); None when not connected."""
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket to search it.")
            return None
        window = self.search_window()
        window.show()
        window.raise_()
        window.query.setFocus()
        if text:
            window.query.setText(text)
            window.search()
        return window

    def _on_search_reveal_requested(self, bucket: str, key: str) -> None:
        # The search window keeps the focus: the user may go on down the results.
        if bucket != self.browser.bucket:
            self.browser.switch_bucket(bucket)
        self.browser.reveal(key)

    # transfers

    def choose_upload_files(self) -> list[str]:
        """Ask which files to upload; [] when the user cancels. Tests replace this."""
        return ask_files(self, f"Upload to {self.browser.location.uri}", "upload")

    def choose_upload_folder(self) -> str:
        """Ask which folder to upload; '' when the user cancels. Tests replace this."""
        return ask_folder(self, f"Upload folder to {self.browser.location.uri}", "upload")

    def _on_browser_upload_dialog_requested(self, folder: bool) -> None:
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket before uploading.")
            return
        prefix = self.browser.prefix  # where the user was when asking, even if the dialog takes a while
        if folder:
            chosen = self.choose_upload_folder()
            paths = [chosen] if chosen else []
        else:
            paths = self.choose_upload_files()
        if paths:  # the same planning and queue path as a drop
            self._on_browser_upload_requested(list(paths), prefix)

    def _on_browser_open_requested(self, entry: ObjectEntry) -> None:
        if self.connection is not None and self.browser.bucket:
            self.statusBar().showMessage(f"Opening {entry.key.rsplit('/', 1)[-1]}…")
            self.opener.open(self.connection, self.browser.bucket, entry)

    def choose_download_folder(self) -> str:
        """Ask where downloads go; '' when the user cancels. Tests replace this."""
        return ask_folder(self, "Download to folder", "download", self.settings.download_folder, downloads_folder())

    def _on_browser_upload_requested(self, paths: list, prefix: str) -> None:
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket before dropping files to upload.")
            return
        self.notice.dismiss()
        self.statusBar().showMessage(f"Preparing upload of {counted(len(paths), 'item')} to "
                                     f"s3://{self.browser.bucket}/{prefix}…")
        self.transfer_actions.upload(self.connection, self.browser.bucket, prefix, paths)

    def _on_browser_download_requested(self, objects: list[ObjectEntry], prefixes: list[str]) -> None:
        if self.connection is None:
            return
        dest = self.choose_download_folder()
        if dest:
            self.notice.dismiss()
            self.statusBar().showMessage(f"Preparing download to {dest}…")
            self.transfer_actions.download(self.connection, self.browser.bucket, self.browser.prefix, objects,
                                           prefixes, dest)

    def _on_versions_download_requested(self, entry: ObjectEntry, version_id: str) -> None:
        if self.connection is None:
            return
        dest = self.choose_download_folder()
        if dest:
            self.notice.dismiss()
            self.statusBar().showMessage(f"Preparing download of version {version_id} to {dest}…")
            self.transfer_actions.download_version(self.connection, self.browser.bucket, entry.key, version_id, dest)

    def _on_versions_listed(self, _prefix: str, _versions: int) -> None:
        deleted = self.browser.model.deleted_rows
        if deleted and not self.browser.loading:  # the count, now with the deleted rows the versions added
            self.statusBar().showMessage(f"{self._count_message()}, {deleted:,} of them deleted")

    def _on_versioning_state_changed(self, state: str) -> None:
        from .browser.versions import STATE_TEXT

        self.versioning_label.setText(STATE_TEXT.get(state, ""))
        self.versioning_label.setVisible(state in STATE_TEXT)
        self.versioning_separator.setVisible(state in STATE_TEXT)

    def _on_transfer_actions_enqueued(self, batch: int, jobs: int) -> None:
        log.info("Queued %s (batch %d)", counted(jobs, "transfer"), batch)
        service = self.transfers.service
        if service is not None and service.held:  # they wait: "Queued" alone read as started
            keys = self.queue.resume_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            self.statusBar().showMessage(f"Queued {counted(jobs, 'transfer')} (paused: the queue is held; "
                                         f"Resume: {keys})")
        else:
            self.statusBar().showMessage(f"Queued {counted(jobs, 'transfer')}")

    def _on_transfers_job_finished(self, job_id: int, state: str) -> None:
        self._ended[state] = self._ended.get(state, 0) + 1
        row = self.transfers.model.row_for(job_id)
        if row is not None and state == "done" and row.direction == "move":  # its local_path: the source's URI
            self.preview.object_moved(row.local_path, row.uri)
        if row is not None and row.direction == "delete" and state in ("done", "failed"):
            self._preview_deleted(job_id, row.uri)
        here = f"s3://{self.browser.bucket}/{self.browser.prefix}"
        if row is not None and state == "done" and row.direction == "upload" and row.uri.startswith(here):
            self._uploaded_here = True

    def _preview_deleted(self, job_id: int, folder: str) -> None:
        """Clear the preview of an object the delete job took (a failed job may have deleted some
        of its keys). Its keys are read only when the shown object is under the job's folder."""
        shown = self.preview.shown_uri
        if not shown or not shown.startswith(folder):
            return
        job = self.transfers.job(job_id)
        if job is not None:
            self.preview.objects_deleted(job.bucket, delete_results([job])[0])

    def _on_transfers_idle(self) -> None:
        if self._ended:  # one line per run of the queue, not one per file
            log.info("Transfers finished: %s", ", ".join(f"{n:,} {state}" for state, n in sorted(self._ended.items())))
            self._ended = {}
        if self._uploaded_here:  # show what was just uploaded into the open folder
            self._uploaded_here = False
            self.browser.refresh()

    # status bar

    def _on_browser_listing_started(self, prefix: str) -> None:
        if not self._connecting:  # a navigation or refresh of the user's
            self.notice.dismiss()
        self._carried_message, self._action_message = self._action_message, ""
        self.statusBar().showMessage("Loading…")

    def _on_browser_listing_progressed(self, rows: int) -> None:
        self.statusBar().showMessage(f"{rows:,} items loaded, loading more…")

    def _on_browser_listing_finished(self, prefix: str, rows: int) -> None:
        self.statusBar().showMessage(self._count_message())
        text, self._carried_message = self._carried_message, ""
        if text:  # what the action did stays readable after the refresh it caused
            self.statusBar().showMessage(f"{text} · {self.statusBar().currentMessage()}")

    def _show_count(self, *_) -> None:
        if not self.browser.loading:  # while loading, the progress message says more
            self.statusBar().showMessage(self._count_message())

    def _on_browser_selection_changed(self, *_) -> None:
        """While more than one row is selected the status bar counts them, as file managers do;
        back to the folder's count when the selection shrinks to one."""
        if self.browser.loading:
            return
        rows = len(self.browser.table.selectionModel().selectedRows())
        if rows > 1:
            objects, prefixes = self.browser.selected_entries()
            size = human_size(sum(o.size for o in objects))
            folders = f" ({counted(len(prefixes), 'folder')})" if prefixes else ""
            self.statusBar().showMessage(f"{self._count_message()} · {rows:,} selected{folders}, {size}")
            self._selection_shown = True
        elif self._selection_shown:
            self._selection_shown = False
            self.statusBar().showMessage(self._count_message())

    def _count_message(self) -> str:
        shown, loaded = self.browser.model.rowCount(), self.browser.model.loaded
        return counted(loaded, "item") if shown == loaded else f"{shown:,} of {counted(loaded, 'item')}"

    def _on_browser_listing_failed(self, prefix: str, message: str) -> None:
        log.warning("Listing s3://%s/%s failed: %s", self.browser.bucket, prefix, message)
        self._carried_message = ""
        self.statusBar().showMessage(message)

    def _on_browser_location_changed(self, location: Location) -> None:
        self.connection_label.setText(location.describe())

    # layout persistence

    def _layout_parts(self):
        """(settings key, save, restore) of everything the window remembers between runs."""
        return (("main/geometry", self.saveGeometry, self.restoreGeometry),
                ("main/state", self.saveState, self.restoreState),  # docks (the log)
                ("main/splitter", self.main_splitter.saveState, self.main_splitter.restoreState),
                ("main/left_splitter", self.left_splitter.saveState, self.left_splitter.restoreState),
                ("browser/columns", self.browser.table.horizontalHeader().saveState,
                 self.browser.table.horizontalHeader().restoreState),
                ("queue/columns", self.queue.table.horizontalHeader().saveState,
                 self.queue.table.horizontalHeader().restoreState),
                # View › Show versions, as the user left it (the INI file gives the bool back as text).
                ("browser/show_versions", lambda: self.browser.versions.enabled,
                 lambda on: self.browser.versions.set_enabled(str(on).lower() == "true")))

    def _restore_layout(self) -> None:
        s = ui_settings()
        for key, _save, restore in self._layout_parts():
            value = s.value(key)
            if value is not None:
                restore(value)

    def save_layout(self) -> None:
        s = ui_settings()
        for key, save, _restore in self._layout_parts():
            s.setValue(key, save())
        if self.connection is not None and self.browser.bucket:
            # The last place looked at, per endpoint and bucket: where the next run opens.
            s.setValue(f"browser/last/{_place_key(self.connection, self.browser.bucket)}", self.browser.prefix)
        s.sync()

    def _last_prefix(self, connection: Connection | None) -> str:
        if connection is None or not connection.bucket:
            return ""
        value = ui_settings().value(f"browser/last/{_place_key(connection, connection.bucket)}")
        return value if isinstance(value, str) else ""

    def backfill_dashboard(self):
        """The dashboard window, made on first use."""
        if self.backfills is None:
            from .backfills.dashboard import BackfillDashboard

            self.backfills = BackfillDashboard(self.transfers, self._executor, self)
        return self.backfills

    def open_backfill_wizard(self, folder: str = "", template: str = "daily-ticks",
                             cells: list[dict[str, str]] | None = None):
        """Open the backfill wizard on the current bucket; None (with a notice) when not connected."""
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket before starting a backfill.")
            return None
        from .backfills.wizard import BackfillWizard

        if self.wizard is not None:
            self.wizard.close()
        self.wizard = BackfillWizard(self.transfers, self._executor, self.connection, self.browser.bucket,
                                     parent=self, folder=folder, template=template, cells=cells)
        self.wizard.enqueued.connect(self._on_wizard_enqueued)
        self.wizard.show()
        return self.wizard

    def _on_wizard_enqueued(self, batch: int, jobs: int) -> None:
        log.info("Queued a backfill of %s (batch %d)", counted(jobs, "file"), batch)
        self.statusBar().showMessage(f"Queued a backfill of {jobs:,} files")
        self.open_backfills()

    def coverage_window(self):
        """The coverage window, made on first use."""
        if self.coverage is None:
            from .coverage.view import CoverageWindow

            self.coverage = CoverageWindow(self.transfers, self._executor, self)
            self.coverage.set_location(self.browser.location)
            self.browser.location_changed.connect(self.coverage.set_location)
            self.coverage.open_requested.connect(self._on_coverage_open_requested)
            self.coverage.backfill_requested.connect(self._on_coverage_backfill_requested)
            self.coverage.query_requested.connect(lambda template, cells: self.open_query(template, cells=cells))
        return self.coverage

    def query_window(self):
        """The query window, made on first use; it follows the browser's bucket."""
        if self.query is None:
            from .query.window import QueryWindow

            self.query = QueryWindow(self._executor, self)
            self.query.set_location(self.browser.location)
            self.browser.location_changed.connect(self.query.set_location)
            self.query.open_requested.connect(self._on_coverage_open_requested)
        return self.query

    def open_query(self, template: str = "", fields: dict | None = None, cells: list | None = None):
        """Show the query window, with `template` and these field values (or exactly these cells)
        chosen and run when given."""
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket to query it.")
            return None
        window = self.query_window()
        window.show()
        window.raise_()
        window.activateWindow()
        if template:
            window.set_query(template, fields or {}, cells=cells)
        return window

    def comparison_window(self):
        """The compare-with-local-folder window, made on first use; it follows the browser's prefix."""
        if self.comparison is None:
            from .sync.view import ComparisonWindow

            self.comparison = ComparisonWindow(self.transfers, self._executor, self)
            self.comparison.set_location(self.browser.location)
            self.browser.location_changed.connect(self.comparison.set_location)
        return self.comparison

    def open_comparison(self, folder: str = "") -> None:
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket to compare a prefix with a local folder.")
            return
        window = self.comparison_window()
        window.show()
        window.raise_()
        if folder:
            window.folder_edit.setText(folder)
            window.compare()

    def open_coverage(self) -> None:
        if self.connection is None or not self.browser.bucket:
            self.show_notice("Connect to a bucket to see its coverage.")
            return
        window = self.coverage_window()
        window.show()
        window.raise_()

    def query_selection(self):
        """The browser's selected files matched back through the layouts: their template and
        field values, queried."""
        from .query.models import fields_of_keys

        window = self.query_window()
        objects, prefixes = self.browser.selected_entries()
        found = fields_of_keys(window.layouts, [o.key for o in objects] + list(prefixes))
        if found is None:
            self.show_notice("Select files of a layout (daily ticks, say) to query them.")
            return None
        return self.open_query(*found)

    def _on_coverage_open_requested(self, bucket: str, key: str) -> None:
        if bucket != self.browser.bucket:
            self.browser.switch_bucket(bucket)
        self.browser.reveal(key)
        self.raise_()
        self.activateWindow()

    def choose_backfill_folder(self) -> str:
        """Ask for the local folder a backfill reads; '' when the user cancels. Tests replace this."""
        return ask_folder(self, "Backfill the chosen cells from folder", "backfill")

    def _on_coverage_backfill_requested(self, template: str, cells: list) -> None:
        folder = self.choose_backfill_folder()
        if folder:
            self.open_backfill_wizard(folder, template, cells)

    def open_backfills(self) -> None:
        dashboard = self.backfill_dashboard()
        dashboard.show()
        dashboard.raise_()

    def shutdown(self) -> None:
        """Stop the window's running work; called before the event loop ends."""
        self._shut_down = True
        if self.backfills is not None:
            self.backfills.shutdown()
        if self.wizard is not None:
            self.wizard.shutdown()
        if self.coverage is not None:
            self.coverage.shutdown()
        if self.search is not None:
            self.search.shutdown()
        if self.query is not None:
            self.query.shutdown()
        self.opener.cancel()
        if self.comparison is not None:
            self.comparison.shutdown()
        self.log_panel.shutdown()
        self.browser.cancel()
        self.preview.cancel()
        self.transfer_actions.cancel()
        self.transfers.shutdown()

    def _confirm_quit(self, text: str, informative: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Quit lakegui", text, QMessageBox.StandardButton.NoButton, self)
        box.setInformativeText(informative)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(quit_button)  # nothing is lost by quitting
        box.exec()
        return box.clickedButton() is quit_button

    def _quit_question(self) -> tuple[str, str] | None:
        """What to ask before quitting, or None to quit without asking (nothing runs)."""
        running = self.transfers.running_count
        if not running or not self.ask_before_quit or self._shut_down:
            return None
        one = running == 1
        return (f"{counted(running, 'transfer')} {'is' if one else 'are'} running.",
                f"Quit now and {'it stops' if one else 'they stop'} here with {'its' if one else 'their'} "
                f"progress kept: {'it continues' if one else 'they continue'} where {'it' if one else 'they'} "
                "left off the next time lakegui starts (or with lakegui-cli queue resume).")

    def closeEvent(self, event: QCloseEvent) -> None:
        question = self._quit_question()
        if question is not None and not self.confirm_quit(*question):
            event.ignore()
            return
        self.save_layout()
        self.shutdown()
        super().closeEvent(event)


def _place_key(connection: Connection, bucket: str) -> str:
    """A settings key naming an endpoint and a bucket."""
    endpoint = connection.profile.endpoint_url or f"aws-{connection.profile.region}"
    return "".join(c if c.isalnum() else "_" for c in f"{endpoint}_{bucket}")
