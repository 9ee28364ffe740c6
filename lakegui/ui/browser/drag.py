"""What a drag out of the browser carries: s3:// URIs at once, and local files only when a drop
target asks for them.

File managers take a drop of files as a `text/uri-list` of file:// URLs that must exist when
they read it. Qt asks the source for that format lazily, on the drop, so the objects are
downloaded then (by `fetch`, through the transfer queue) and not when the drag merely starts.
"""

from __future__ import annotations

import json
import uuid
from typing import Callable

from PySide6.QtCore import QByteArray, QMimeData, Qt, QUrl

S3_MIME = "application/x-lakegui-s3-objects"
# Which running lakegui made an S3 payload: only this one's may be moved by a drop (another
# instance's keys name another connection's objects).
ORIGIN = uuid.uuid4().hex
URI_LIST = "text/uri-list"
TEXT = "text/plain"


def dropped_local_paths(mime: QMimeData) -> list[str]:
    """The local files and folders a drop carries. A drag of our own objects offers files too,
    but asking for them would download the objects, so it carries none here."""
    if mime.hasFormat(S3_MIME) or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def accept_as_copy(event) -> bool:
    """Accept a drag or drop of local files as a copy, whatever the source proposes: an upload
    never moves the user's files, and a source told Move (a file manager, with Shift or by its
    own default) may delete the originals. A source that offers no copy is refused."""
    if not event.possibleActions() & Qt.DropAction.CopyAction:
        event.ignore()
        return False
    event.setDropAction(Qt.DropAction.CopyAction)
    event.accept()
    return True


class ObjectDragData(QMimeData):
    """`fetch()` downloads the dragged items and returns the local paths to hand over
    (or [] when that was cancelled or failed); it runs at most once per drag."""

    def __init__(self, bucket: str, keys: list[str], fetch: Callable[[], list[str]] | None = None):
        super().__init__()
        self.bucket = bucket
        self.keys = keys
        self._fetch = fetch
        self._files: list[str] | None = None

    @property
    def uris(self) -> list[str]:
        return [f"s3://{self.bucket}/{k}" for k in self.keys]

    @property
    def fetched(self) -> bool:
        return self._files is not None

    def formats(self) -> list[str]:
        return [S3_MIME, TEXT] + ([URI_LIST] if self._fetch is not None else [])

    def hasFormat(self, mime: str) -> bool:
        return mime in self.formats()

    def retrieveData(self, mime: str, kind):
        if mime == TEXT:
            return "\n".join(self.uris)
        if mime == S3_MIME:
            return QByteArray(json.dumps({"bucket": self.bucket, "keys": self.keys, "origin": ORIGIN}).encode())
        if mime == URI_LIST and self._fetch is not None:
            if self._files is None:
                self._files = list(self._fetch())
            return [QUrl.fromLocalFile(p) for p in self._files]
        return None
