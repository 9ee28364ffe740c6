"""Properties of one object (HEAD), with its user metadata and tags editable, and its storage
class and restore state (x-amz-restore) shown."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.objects import ObjectProperties
from ...core.tagging import ARCHIVED, parse_restore
from ...core.units import human_size
from .tags import TagsEditor


@dataclass(frozen=True)
class PropertyChanges:
    """What the user changed: new metadata and/or new tags; None where nothing changed."""

    metadata: dict[str, str] | None = None
    tags: dict[str, str] | None = None


def restore_text(props: ObjectProperties) -> str:
    """The Restore row: '' for an object that needs no restore and has none."""
    state = parse_restore(props.restore)
    if props.storage_class not in ARCHIVED and not state.requested:
        return ""
    if not state.requested:
        return "archived, not restored: Restore… makes a readable copy for some days"
    if state.ongoing:
        return "restore in progress"
    return f"available until {state.expiry:%Y-%m-%d %H:%M} UTC" if state.expiry else "restored"


class PropertiesDialog(QDialog):
    def __init__(self, props: ObjectProperties, parent=None, *, tags: dict[str, str] | None = None,
                 tags_unavailable: str = ""):
        """`tags` None: they could not be read (`tags_unavailable` says why) and are not offered."""
        super().__init__(parent)
        self.setObjectName("PropertiesDialog")
        self.setWindowTitle(f"Properties of {props.key.rsplit('/', 1)[-1] or props.key}")
        self.props = props
        form = QFormLayout()
        rows = [("URI", props.uri), ("Size", f"{human_size(props.size)} ({props.size:,} bytes)"),
                ("Content type", props.content_type or "—"),
                ("Last modified", props.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
                 if props.last_modified else "—"),
                ("ETag", props.etag), ("Storage class", props.storage_class),
                ("Encryption", props.server_side_encryption or "none")]
        if props.version_id:
            count = f" · {props.version_count:,} version{'' if props.version_count == 1 else 's'} of this key" \
                if props.version_count else ""
            rows.insert(rows.index(("ETag", props.etag)) + 1, ("Version", props.version_id + count))
        if restore := restore_text(props):
            rows.insert(rows.index(("Storage class", props.storage_class)) + 1, ("Restore", restore))
        rows += [(f"Checksum {k}", v) for k, v in props.checksums.items()]
        for name, value in rows:
            label = QLabel(value, self)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(name)
            form.addRow(f"{name}:", label)

        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("metadataTable")
        self.table.setAccessibleName("User metadata")
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for k, v in sorted(props.metadata.items()):
            self._add_row(k, v)
        add = QPushButton("Add", self)
        add.setAccessibleName("Add metadata")
        add.clicked.connect(lambda: self._add_row("", ""))
        remove = QPushButton("Remove", self)
        remove.setAccessibleName("Remove metadata")
        remove.clicked.connect(self._on_remove_clicked)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(add)
        row_buttons.addWidget(remove)
        row_buttons.addStretch(1)

        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                        QDialogButtonBox.StandardButton.Close, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save…")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        metadata_page = QWidget(self)
        page = QVBoxLayout(metadata_page)
        page.addWidget(QLabel("Saving new metadata copies the object onto itself:", metadata_page))
        page.addWidget(self.table, 1)
        page.addLayout(row_buttons)
        self.tags = TagsEditor(tags, tags_unavailable, self)
        self.tags.changed.connect(self._on_tags_changed)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("propertiesTabs")
        self.tabs.addTab(metadata_page, "User metadata")
        self.tabs.addTab(self.tags, "Tags")
        self._on_tags_changed()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(600, 560)

    def _on_tags_changed(self) -> None:
        n = len(self.tags.pairs())
        self.tabs.setTabText(1, f"Tags ({n})" if self.tags.available else "Tags")

    def _add_row(self, key: str, value: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))

    def _on_remove_clicked(self) -> None:
        for index in sorted((i.row() for i in self.table.selectionModel().selectedRows()), reverse=True):
            self.table.removeRow(index)

    def metadata(self) -> dict[str, str]:
        out = {}
        for row in range(self.table.rowCount()):
            key = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip().lower()
            value = self.table.item(row, 1).text() if self.table.item(row, 1) else ""
            if key:
                out[key] = value
        return out

    def changes(self) -> PropertyChanges:
        metadata = self.metadata()
        return PropertyChanges(metadata if metadata != self.props.metadata else None,
                               self.tags.tags() if self.tags.modified() else None)

    def _on_buttons_accepted(self) -> None:
        if problem := self.tags.problem_text():
            self.tabs.setCurrentWidget(self.tags)
            self.problem.setText(f"Tags: {problem}")
            return
        keys = [(self.table.item(r, 0).text() if self.table.item(r, 0) else "").strip().lower()
                for r in range(self.table.rowCount())]
        named = [k for k in keys if k]
        if len(named) != len(set(named)):
            self.problem.setText("Each metadata key can appear once.")
            return
        if any(not (k.isascii() and all(c.isalnum() or c in "-_." for c in k)) for k in named):
            self.problem.setText("Metadata keys may hold letters, digits, '-', '_' and '.'.")
            return
        if self.changes() == PropertyChanges():
            self.reject()  # nothing changed: nothing to rewrite
            return
        self.accept()
