"""The browser's clipboard of objects: what Cut or Copy took (app-internal: the connection, the
bucket and the listed entries), and their s3:// URIs as text on the system clipboard, so they
paste into a terminal or a chat too. Copying anything else there ends what Paste would place."""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QMimeData, QObject, Signal
from PySide6.QtWidgets import QApplication

from ...core.connection import Connection
from ...core.transfers.reorganise import Source
from .drag import ORIGIN, S3_MIME


@dataclass(frozen=True)
class Clipping:
    connection: Connection
    bucket: str
    sources: tuple[Source, ...]
    cut: bool  # Cut: Paste moves them (once); Copy: Paste copies them (as often as asked)

    @property
    def text(self) -> str:
        return "\n".join(f"s3://{self.bucket}/{s.key}" for s in self.sources)


class ObjectClipboard(QObject):
    changed = Signal()  # something was cut, copied or pasted, or the system clipboard changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self._clipping: Clipping | None = None
        QApplication.clipboard().dataChanged.connect(self.changed)

    def put(self, clipping: Clipping) -> None:
        self._clipping = clipping
        mime = QMimeData()
        mime.setText(clipping.text)
        mime.setData(S3_MIME, QByteArray(json.dumps({"bucket": clipping.bucket,
                                                     "keys": [s.key for s in clipping.sources],
                                                     "origin": ORIGIN}).encode()))
        QApplication.clipboard().setMimeData(mime)
        self.changed.emit()

    def current(self) -> Clipping | None:
        """What Paste would place: our clipping, while the system clipboard still holds its URIs."""
        if self._clipping is None:
            return None
        if QApplication.clipboard().text() != self._clipping.text:
            return None  # the user copied something else since
        return self._clipping

    def clear(self) -> None:
        """After pasting what was cut: the objects have gone from where the clipping names them."""
        if self._clipping is not None:
            self._clipping = None
            self.changed.emit()
