"""Create a bucket: its name checked against S3's rules as it is typed, and its region."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from ...core.buckets import bucket_name_problem


class NewBucketDialog(QDialog):
    def __init__(self, where: str, region: str = "", parent=None):
        """`where` names the endpoint; `region` is the connection's, offered as the default."""
        super().__init__(parent)
        self.setObjectName("NewBucketDialog")
        self.setWindowTitle("Create bucket")
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("bucketNameEdit")
        self.name_edit.setAccessibleName("Bucket name")
        self.name_edit.setPlaceholderText("e.g. market-data-2024")
        self.region_edit = QLineEdit(region, self)
        self.region_edit.setObjectName("bucketRegionEdit")
        self.region_edit.setAccessibleName("Region")
        self.region_edit.setPlaceholderText("us-east-1")
        self.problem = QLabel(self)
        self.problem.setObjectName("bucketNameProblem")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.problem.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)  # room for a reason, no jumps
        intro = QLabel(f"A new bucket at {where}. Names are global on AWS: 3–63 lowercase letters, digits, "
                       "'.' and '-', starting and ending with a letter or digit.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name:", self.name_edit)
        form.addRow("Region:", self.region_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._on_name_edit_text_changed)
        self._on_name_edit_text_changed("")
        self.setMinimumWidth(500)

    def name(self) -> str:
        return self.name_edit.text().strip()

    def region(self) -> str:
        return self.region_edit.text().strip()

    def _on_name_edit_text_changed(self, _text: str) -> None:
        # The reason shows as soon as there is a name to judge; an empty box only disables Create.
        problem = bucket_name_problem(self.name()) if self.name() else ""
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.name()) and not problem)

    def _on_buttons_accepted(self) -> None:
        if self.name() and not bucket_name_problem(self.name()):
            self.accept()
