"""Where a folder dialog starts: the folder last chosen for the same purpose (kept in the window's
state, so across runs), else a folder that exists. Qt's dialog opened in a missing folder shows
it empty with its Choose button greyed, and a new user's ~/Downloads is often missing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from .state import ui_settings


def downloads_folder() -> str:
    """The desktop's Downloads folder, whether or not it exists."""
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)


def start_folder(*candidates: str) -> str:
    """The first of `candidates` that is an existing folder, else the home folder."""
    for candidate in candidates:
        if candidate and Path(candidate).expanduser().is_dir():
            return str(Path(candidate).expanduser())
    return str(Path.home())


def last_folder(purpose: str) -> str:
    """The folder last chosen for `purpose` ("upload", "download", "sync", "backfill"); '' if none."""
    return str(ui_settings().value(f"folders/{purpose}", "") or "")


def remember_folder(purpose: str, folder: str) -> None:
    if folder:
        s = ui_settings()
        s.setValue(f"folders/{purpose}", folder)
        s.sync()


def ask_folder(parent: QWidget | None, title: str, purpose: str, *fallbacks: str, current: str = "") -> str:
    """Qt's folder dialog, opened in `current` (what the asking field shows), else where the user
    last chose a folder for `purpose`, else the first existing of `fallbacks`; remembers the
    choice. '' when the user cancels."""
    chosen = QFileDialog.getExistingDirectory(parent, title, start_folder(current, last_folder(purpose), *fallbacks))
    remember_folder(purpose, chosen)
    return chosen


def ask_files(parent: QWidget | None, title: str, purpose: str) -> list[str]:
    """Qt's dialog for files, opened in the folder of the files last chosen for `purpose`, which
    it remembers; [] when the user cancels."""
    files, _filter = QFileDialog.getOpenFileNames(parent, title, start_folder(last_folder(purpose)))
    if files:
        remember_folder(purpose, str(Path(files[0]).parent))
    return files


def ask_save_path(parent: QWidget | None, title: str, name: str, filters: str, purpose: str = "export") -> str:
    """Qt's dialog for a file to write, proposing `name` in the folder of the file last written
    for `purpose`, which it remembers; '' when the user cancels."""
    path, _filter = QFileDialog.getSaveFileName(parent, title, str(Path(start_folder(last_folder(purpose))) / name),
                                                filters)
    if path:
        remember_folder(purpose, str(Path(path).parent))
    return path
