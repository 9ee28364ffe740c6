"""Choose the storage class a selection is copied into (in place: same keys, metadata and tags)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout

from ...core.tagging import ARCHIVED, STORAGE_CLASSES

# What a person weighs when choosing (AWS's published characteristics).
ABOUT = {
    "STANDARD": "Frequent access; no retrieval fee.",
    "STANDARD_IA": "Infrequent access: cheaper storage, a fee per GB read, 30 days minimum.",
    "ONEZONE_IA": "As Standard-IA in one availability zone only: cheaper, less durable against a zone's loss.",
    "INTELLIGENT_TIERING": "S3 moves each object between tiers by its access; a small monitoring fee.",
    "GLACIER_IR": "Archive read in milliseconds: cheap storage, higher read fees, 90 days minimum.",
    "GLACIER": "Archive: must be restored (minutes to hours) before it can be read; 90 days minimum.",
    "DEEP_ARCHIVE": "The cheapest archive: restores take 12–48 hours; 180 days minimum.",
    "REDUCED_REDUNDANCY": "Deprecated by AWS; not recommended.",
}


class StorageClassDialog(QDialog):
    def __init__(self, what: str, current: str = "", parent=None):
        """`what` names the selection ('3 objects in s3://b/p/'); `current` preselects a class."""
        super().__init__(parent)
        self.setObjectName("StorageClassDialog")
        self.setWindowTitle("Change storage class")
        self.box = QComboBox(self)
        self.box.setObjectName("storageClassBox")
        self.box.setAccessibleName("Storage class")
        self.box.addItems(list(STORAGE_CLASSES))
        if current in STORAGE_CLASSES:
            self.box.setCurrentText(current)
        self.about = QLabel(self)
        self.about.setWordWrap(True)
        self.box.currentTextChanged.connect(self._on_box_current_text_changed)
        intro = QLabel(f"Copy {what} onto itself in another storage class. The copies are queued; "
                       "keys, metadata and tags stay as they are.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Storage class:", self.box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Queue copies")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.about)
        layout.addWidget(self.buttons)
        self._on_box_current_text_changed(self.box.currentText())
        self.setMinimumWidth(500)

    def storage_class(self) -> str:
        return self.box.currentText()

    def _on_box_current_text_changed(self, name: str) -> None:
        note = " Archived objects must be restored before they can be copied again." if name in ARCHIVED else ""
        self.about.setText(ABOUT.get(name, "") + note)
