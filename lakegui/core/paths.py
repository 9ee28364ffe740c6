"""Where lakegui keeps its files: platform folders, overridable for tests and portable use."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "lakegui"

# Each folder can be redirected by an environment variable, so tests and
# portable installs never touch the user's real configuration.
OVERRIDES = {
    "config": "LAKEGUI_CONFIG_DIR",
    "data": "LAKEGUI_DATA_DIR",
    "log": "LAKEGUI_LOG_DIR",
}


def _folder(kind: str, default: str) -> Path:
    override = os.environ.get(OVERRIDES[kind])
    path = Path(override) if override else Path(default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Folder for settings files (profiles, UI state)."""
    return _folder("config", platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Folder for durable data (the transfer queue database)."""
    return _folder("data", platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """Folder for log files."""
    return _folder("log", platformdirs.user_log_dir(APP_NAME, appauthor=False))
