"""Where a folder dialog starts: a folder that exists. Qt's dialog opened in a missing folder shows
it empty with its Choose button greyed, and a new user's ~/Downloads is often missing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def downloads_folder() -> str:
    """The desktop's Downloads folder, whether or not it exists."""
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)


def start_folder(*candidates: str) -> str:
    """The first of `candidates` that is an existing folder, else the home folder."""
    for candidate in candidates:
        if candidate and Path(candidate).expanduser().is_dir():
            return str(Path(candidate).expanduser())
    return str(Path.home())
