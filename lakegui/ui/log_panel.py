"""The log panel: this session's log records (failures with job, key, error code and request id),
scrubbed of secrets like the log file, shown in a dock. Records arrive from any thread into a
bounded buffer; the panel takes them on a timer while it is visible, never one signal per record."""

from __future__ import annotations

import collections
import logging
import threading

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ..core import logs, paths

KEEP = 5000  # lines shown and buffered
_LEVELS = (("Info and up", logging.INFO), ("Warnings and errors", logging.WARNING), ("Errors", logging.ERROR))


class BufferHandler(logging.Handler):
    """Keeps the newest records, formatted, for the panel to take (thread-safe)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        self.addFilter(logs.SCRUBBER)
        self._lines: collections.deque = collections.deque(maxlen=KEEP)
        self._lock = threading.Lock()
        self.serial = 0  # records ever buffered

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (record.levelno, self.format(record))
        except Exception:
            self.handleError(record)
            return
        with self._lock:
            self._lines.append(line)
            self.serial += 1

    def since(self, serial: int) -> tuple[int, list[tuple[int, str]]]:
        with self._lock:
            new = min(self.serial - serial, len(self._lines))
            return self.serial, list(self._lines)[len(self._lines) - new:] if new > 0 else []

    def all(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._lines)


class LogPanel(QWidget):
    updated = Signal(int)  # lines added

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("logPanel")
        self.handler = BufferHandler()
        logging.getLogger().addHandler(self.handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == logging.NOTSET:
            logging.getLogger().setLevel(logging.INFO)
        self._seen = 0
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("logText")
        self.text.setAccessibleName("Log")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(KEEP)
        self.text.setPlaceholderText("Nothing logged yet. Failures show here with their job, key, error code and "
                                     "request id.")
        self.level_box = QComboBox(self)
        self.level_box.setAccessibleName("Log level shown")
        for title, level in _LEVELS:
            self.level_box.addItem(title, level)
        self.level_box.currentIndexChanged.connect(lambda _i: self.reload())
        folder = QPushButton("Open log folder", self)
        folder.setObjectName("openLogFolder")
        folder.setToolTip(str(paths.log_dir()))
        folder.clicked.connect(self.open_folder)
        # Where no file manager handles folders, openUrl fails silently: the path is shown instead.
        self.where = QLabel(self)
        self.where.setObjectName("logFolderPath")
        self.where.setAccessibleName("Log folder")
        self.where.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.where.hide()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show", self))
        bar.addWidget(self.level_box)
        bar.addStretch(1)
        bar.addWidget(self.where)
        bar.addWidget(folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        self.timer = QTimer(self)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.pull)

    def open_folder(self) -> bool:
        """Open the log folder in the file manager; where none answers, show (and copy) its path."""
        folder = paths.log_dir()
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.where.hide()
            return True
        QGuiApplication.clipboard().setText(str(folder))
        self.where.setText(f"No file manager opened it. The logs are in {folder} (path copied)")
        self.where.show()
        logging.getLogger(__name__).info("no handler opened the log folder %s", folder)
        return False

    @property
    def level(self) -> int:
        return self.level_box.currentData()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.pull()
        self.timer.start()

    def hideEvent(self, event) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def pull(self) -> int:
        """Append what was logged since the last pull; returns the lines added."""
        self._seen, lines = self.handler.since(self._seen)
        shown = [text for level, text in lines if level >= self.level]
        if shown:
            self.text.appendPlainText("\n".join(shown))
            self.updated.emit(len(shown))
        return len(shown)

    def reload(self) -> None:
        self.text.setPlainText("\n".join(text for level, text in self.handler.all() if level >= self.level))
        self._seen = self.handler.serial

    def shutdown(self) -> None:
        self.timer.stop()
        logging.getLogger().removeHandler(self.handler)
