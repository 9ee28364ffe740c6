"""Edit › Transfer settings…: the tuning of the transfer engine, saved in settings.json."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout)

from ...core.settings import MB, TransferSettings
from ...core.transfers.backends import BACKENDS

_ENGINE_TEXT = {"auto": "Automatic (native awscrt client when it can)", "awscrt": "awscrt (native)",
                "s3transfer": "s3transfer (botocore)"}


class TransferSettingsDialog(QDialog):
    def __init__(self, settings: TransferSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("TransferSettingsDialog")
        self.setWindowTitle("Transfer settings")
        self._original = settings

        def spin(value: int, low: int, high: int, suffix: str, name: str, tip: str) -> QSpinBox:
            box = QSpinBox(self)
            box.setRange(low, high)
            box.setValue(value)
            box.setSuffix(suffix)
            box.setAccessibleName(name)
            box.setToolTip(tip)
            return box

        self.files = spin(settings.concurrent_files, 1, 256, "", "Files at once",
                          "How many files transfer at the same time")
        self.parts = spin(settings.max_concurrency, 1, 64, "", "Parts in flight",
                          "Requests in flight per connection for multipart transfers")
        self.chunk = spin(max(5, settings.multipart_chunksize // MB), 5, 5120, " MB", "Part size",
                          "Size of each part of a multipart transfer (S3 needs at least 5 MB)")
        self.threshold = spin(max(5, settings.multipart_threshold // MB), 5, 5120, " MB", "Multipart threshold",
                              "Files from this size on are sent in parts")
        self.bandwidth = spin((settings.max_bandwidth or 0) // 1024, 0, 10_000_000, " KB/s", "Bandwidth limit",
                              "0 is unlimited; a limit uses the s3transfer engine")
        self.bandwidth.setSpecialValueText("Unlimited")
        self.attempts = spin(settings.num_download_attempts, 1, 20, "", "Download attempts",
                             "Attempts for a download's parts before the job fails")
        self.engine = QComboBox(self)
        self.engine.setAccessibleName("Transfer engine")
        for key in BACKENDS:
            self.engine.addItem(_ENGINE_TEXT[key], key)
        self.engine.setCurrentIndex(max(0, self.engine.findData(settings.engine)))

        form = QFormLayout()
        form.addRow("Files at once:", self.files)
        form.addRow("Parts in flight:", self.parts)
        form.addRow("Part size:", self.chunk)
        form.addRow("Multipart threshold:", self.threshold)
        form.addRow("Bandwidth limit:", self.bandwidth)
        form.addRow("Download attempts:", self.attempts)
        form.addRow("Engine:", self.engine)
        self.problem = QLabel(self)
        self.problem.setObjectName("settingsProblem")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("New values apply to transfers that start after you press OK.", self))
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def settings(self) -> TransferSettings:
        return replace(self._original, concurrent_files=self.files.value(), max_concurrency=self.parts.value(),
                       multipart_chunksize=self.chunk.value() * MB, multipart_threshold=self.threshold.value() * MB,
                       max_bandwidth=self.bandwidth.value() * 1024 or None,
                       num_download_attempts=self.attempts.value(), engine=self.engine.currentData())

    def _on_buttons_accepted(self) -> None:
        if self.threshold.value() < self.chunk.value():
            self.problem.setText("The multipart threshold must be at least the part size.")
            return
        self.accept()
