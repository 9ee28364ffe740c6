"""Asks for a new folder's name and checks it before closing, so a bad name is corrected in place
rather than typed again."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from ...core.objects import folder_key


class NewFolderDialog(QDialog):
    def __init__(self, where: str, parent_prefix: str, parent=None):
        super().__init__(parent)
        self.setObjectName("newFolderDialog")
        self.setWindowTitle("New folder")
        self._parent_prefix = parent_prefix
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("folderName")
        self.name_edit.setAccessibleName("Folder name")
        self.problem = QLabel(self)
        self.problem.setObjectName("folderProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d9534f;")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.name_edit.textEdited.connect(lambda _t: self.problem.hide())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Name of the new folder in {where}:", self))
        layout.addWidget(self.name_edit)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def name(self) -> str:
        return self.name_edit.text()

    def accept(self) -> None:
        try:
            folder_key(self._parent_prefix, self.name_edit.text())
        except ValueError as exc:  # stay open with the name as typed
            self.problem.setText(str(exc))
            self.problem.show()
            self.name_edit.setFocus()
            return
        super().accept()
