"""Properties of one object (HEAD), with its user metadata editable."""

from __future__ import annotations

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
    QVBoxLayout,
)

from ...core.objects import ObjectProperties
from ...core.units import human_size


class PropertiesDialog(QDialog):
    def __init__(self, props: ObjectProperties, parent=None):
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
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save metadata…")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("User metadata (saving copies the object onto itself):", self))
        layout.addWidget(self.table, 1)
        layout.addLayout(row_buttons)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(560, 480)

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

    def _on_buttons_accepted(self) -> None:
        keys = [(self.table.item(r, 0).text() if self.table.item(r, 0) else "").strip().lower()
                for r in range(self.table.rowCount())]
        named = [k for k in keys if k]
        if len(named) != len(set(named)):
            self.problem.setText("Each metadata key can appear once.")
            return
        if any(not (k.isascii() and all(c.isalnum() or c in "-_." for c in k)) for k in named):
            self.problem.setText("Metadata keys may hold letters, digits, '-', '_' and '.'.")
            return
        if self.metadata() == self.props.metadata:
            self.reject()  # nothing changed: nothing to rewrite
            return
        self.accept()
