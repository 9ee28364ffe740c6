"""Edit › Settings…: transfers (files at once, part size, bandwidth, attempts, what to do with
targets that exist, engine), preview limits, the default download folder and light or dark colours;
saved in settings.json."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.settings import MB, OVERWRITE_CHOICES, PreviewSettings, Settings
from ...core.transfers.backends import BACKENDS
from ..start_folder import ask_folder, downloads_folder

_ENGINE_TEXT = {"auto": "Automatic (native awscrt client when it can)", "awscrt": "awscrt (native)",
                "s3transfer": "s3transfer (botocore)"}
_OVERWRITE_TEXT = {"ask": "Ask each time", "skip-same": "Skip identical, replace changed",
                   "skip": "Skip all existing", "overwrite": "Overwrite all"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("Settings")
        self._original = settings
        t, p = settings.transfer, settings.preview
        self.choose_folder = self._ask_folder  # replaceable in tests

        self.files = self._spin(t.concurrent_files, 1, 256, "", "Files at once",
                                "How many files transfer at the same time")
        self.parts = self._spin(t.max_concurrency, 1, 64, "", "Parts in flight",
                                "Requests in flight per connection for multipart transfers")
        self.chunk = self._spin(max(5, t.multipart_chunksize // MB), 5, 5120, " MB", "Part size",
                                "Size of each part of a multipart transfer (S3 needs at least 5 MB)")
        self.threshold = self._spin(max(5, t.multipart_threshold // MB), 5, 5120, " MB", "Multipart threshold",
                                    "Files from this size on are sent in parts")
        self.bandwidth = self._spin((t.max_bandwidth or 0) // 1024, 0, 10_000_000, " KB/s", "Bandwidth limit",
                                    "0 is unlimited; a limit uses the s3transfer engine")
        self.bandwidth.setSpecialValueText("Unlimited")
        self.attempts = self._spin(t.attempts, 1, 20, "", "Attempts per file",
                                   "Tries per file, with growing pauses, before its transfer fails")
        self.timeout = self._spin(t.read_timeout, 2, 600, " s", "Stall timeout",
                                  "Seconds without data before a connection counts as stalled and is retried")
        self.overwrite = QComboBox(self)
        self.overwrite.setAccessibleName("When targets exist")
        self.overwrite.setToolTip("What to do when files or objects being transferred already exist")
        for key in OVERWRITE_CHOICES:
            self.overwrite.addItem(_OVERWRITE_TEXT[key], key)
        self.overwrite.setCurrentIndex(max(0, self.overwrite.findData(t.overwrite)))
        self.engine = QComboBox(self)
        self.engine.setAccessibleName("Transfer engine")
        for key in BACKENDS:
            self.engine.addItem(_ENGINE_TEXT[key], key)
        self.engine.setCurrentIndex(max(0, self.engine.findData(t.engine)))

        self.cache = self._spin(p.cache_mb, 16, 4096, " MB", "Preview memory",
                                "Parts of an open file the preview keeps in memory")
        self.text_limit = self._spin(p.text_kb, 4, 10240, " KB", "Text shown",
                                     "Text and CSV files show their first this-many KB")
        self.whole_limit = self._spin(p.whole_mb, 1, 1024, " MB", "Largest JSON or image",
                                      "JSON files and images up to this size are read whole")

        self.folder_edit = QLineEdit(settings.download_folder, self)
        self.folder_edit.setAccessibleName("Default download folder")
        self.folder_edit.setPlaceholderText("The system's Downloads folder")
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Browse for the default download folder")
        browse.clicked.connect(self._on_browse_clicked)

        self.theme = QComboBox(self)
        self.theme.setAccessibleName("Colours")
        for key, text in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(text, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))

        tabs = QTabWidget(self)
        tabs.setObjectName("settingsTabs")
        tabs.addTab(self._form(("Files at once:", self.files), ("Parts in flight:", self.parts),
                               ("Part size:", self.chunk), ("Multipart threshold:", self.threshold),
                               ("Bandwidth limit:", self.bandwidth), ("Attempts per file:", self.attempts),
                               ("Stall timeout:", self.timeout), ("When targets exist:", self.overwrite),
                               ("Engine:", self.engine)), "&Transfers")
        tabs.addTab(self._form(("Preview memory:", self.cache), ("Text shown:", self.text_limit),
                               ("Largest JSON or image:", self.whole_limit)), "&Preview")
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        holder = QWidget(self)
        holder.setLayout(row)
        tabs.addTab(self._form(("Download to:", holder)), "&Downloads")
        tabs.addTab(self._form(("Colours:", self.theme)), "&Appearance")
        self.tabs = tabs
        self.problem = QLabel(self)
        self.problem.setObjectName("settingsProblem")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(QLabel("New values apply to transfers and previews that start after you press OK.", self))
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _spin(self, value: int, low: int, high: int, suffix: str, name: str, tip: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setValue(value)
        box.setSuffix(suffix)
        box.setAccessibleName(name)
        box.setToolTip(tip)
        return box

    def _form(self, *rows) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        for label, widget in rows:
            form.addRow(label, widget)
        return page

    def settings(self) -> Settings:
        """The settings as edited (the original when nothing changed)."""
        transfer = replace(self._original.transfer, concurrent_files=self.files.value(),
                           max_concurrency=self.parts.value(), multipart_chunksize=self.chunk.value() * MB,
                           multipart_threshold=self.threshold.value() * MB,
                           max_bandwidth=self.bandwidth.value() * 1024 or None, attempts=self.attempts.value(),
                           read_timeout=self.timeout.value(), overwrite=self.overwrite.currentData(),
                           engine=self.engine.currentData())
        preview = PreviewSettings(cache_mb=self.cache.value(), text_kb=self.text_limit.value(),
                                  whole_mb=self.whole_limit.value())
        return replace(self._original, transfer=transfer, preview=preview,
                       download_folder=self.folder_edit.text().strip(), theme=self.theme.currentData())

    def _ask_folder(self) -> str:
        return ask_folder(self, "Default download folder", "download", downloads_folder(),
                          current=self.folder_edit.text())

    def _on_browse_clicked(self) -> None:
        folder = self.choose_folder()
        if folder:
            self.folder_edit.setText(folder)

    def _on_buttons_accepted(self) -> None:
        from pathlib import Path

        folder = self.folder_edit.text().strip()
        if self.threshold.value() < self.chunk.value():
            self.problem.setText("The multipart threshold must be at least the part size.")
            self.tabs.setCurrentIndex(0)
            return
        if folder and not Path(folder).is_dir():
            self.problem.setText(f"{folder} is not a folder: choose an existing one, or leave it empty.")
            self.tabs.setCurrentIndex(2)
            return
        self.accept()
