"""Loading files from resources/: installed (as the lakegui.resources package) or from a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_path(name: str) -> Path:
    try:
        path = Path(str(resources.files("lakegui.resources") / name))
        if path.exists():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "resources" / name  # running from a checkout


def app_icon() -> QIcon:
    return QIcon(str(resource_path("lakegui.svg")))
