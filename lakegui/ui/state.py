"""Window layout remembered between runs, in an INI file beside the settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from ..core import paths


def ui_settings() -> QSettings:
    return QSettings(str(paths.config_dir() / "ui-state.ini"), QSettings.Format.IniFormat)
