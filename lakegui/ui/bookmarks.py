"""Bookmarks: saved locations (s3:// URIs) of the connected profile, in a small side panel and
the Go › Bookmarks menu. The window keeps them in the settings (`Settings.bookmarks`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

URI_ROLE = Qt.ItemDataRole.UserRole + 1


def bookmark_title(uri: str) -> str:
    """A bookmark's short name: its last two folders ("AAPL/2024/"), or the bucket at its root;
    the full URI is the tooltip."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    parts = [p for p in prefix.rstrip("/").split("/") if p] if prefix else []
    if not parts:
        return bucket
    return ("…/" if len(parts) > 2 else "") + "/".join(parts[-2:]) + "/"


class BookmarksPanel(QWidget):
    open_requested = Signal(str)  # a bookmark's s3:// URI
    remove_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("bookmarksPanel")
        self.list = QListWidget(self)
        self.list.setObjectName("bookmarkList")
        self.list.setAccessibleName("Bookmarks")
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._on_list_item_activated)  # double-click, or Enter
        self.list.itemClicked.connect(self._on_list_item_activated)
        self.hint = QLabel("No bookmarks yet. Go › Bookmark this location (Ctrl+Shift+D) saves the open folder.",
                           self)
        self.hint.setWordWrap(True)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected bookmark")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.set_uris([])

    def uris(self) -> list[str]:
        return [self.list.item(i).data(URI_ROLE) for i in range(self.list.count())]

    def set_uris(self, uris: list[str]) -> None:
        self.list.clear()
        for uri in uris:
            item = QListWidgetItem(bookmark_title(uri))
            item.setToolTip(uri)
            item.setData(URI_ROLE, uri)
            self.list.addItem(item)
        self.hint.setVisible(not uris)
        self.list.setVisible(bool(uris))
        self.remove_button.setEnabled(bool(uris))

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(item.data(URI_ROLE))

    def _on_remove_button_clicked(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.remove_requested.emit(item.data(URI_ROLE))
