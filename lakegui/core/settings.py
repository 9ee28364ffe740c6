"""The settings file: connection profiles and transfer tuning, as JSON under the config folder.

Profiles name their keychain entry (`keychain: "lakegui:NAME"`); keys are never written here.

A corrupt file is moved aside (never deleted) and replaced by defaults, and the
caller is told, so the app always starts.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import paths
from .connection import ConnectionProfile

log = logging.getLogger(__name__)
MB = 1024 * 1024
SETTINGS_FILE = "settings.json"
# Key names that must never be persisted, whatever a caller hands us.
_SECRET_KEYS = frozenset({"aws_secret_access_key", "secret_key", "aws_session_token", "session_token",
                          "secret_access_key", "password"})


@dataclass
class TransferSettings:
    """Transfer tuning; the defaults are the seeds' tuned values."""

    multipart_threshold: int = 10 * MB
    multipart_chunksize: int = 10 * MB
    max_concurrency: int = 20  # parts in flight per connection
    concurrent_files: int = 32  # files in flight in the queue (small files gain from many)
    num_download_attempts: int = 5
    max_bandwidth: int | None = None  # bytes per second; None is unlimited
    engine: str = "auto"  # "auto" (awscrt when it can), "awscrt" or "s3transfer"
    read_timeout: int = 60  # seconds without data before a transfer's connection counts as stalled
    attempts: int = 5  # tries per file (with backoff) before its job fails
    overwrite: str = "ask"  # when targets exist: "ask", "skip-same" (replace changed), "skip", "overwrite"

    @classmethod
    def from_dict(cls, data: dict) -> "TransferSettings":
        """Known keys whose values have the right type; anything else keeps its default, so a
        hand-edited file cannot make the engine fail later."""
        defaults = cls()
        out = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(defaults, f.name)
            if value is None and f.name == "max_bandwidth":  # unlimited
                ok = True
            elif isinstance(default, int) or f.name == "max_bandwidth":
                ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            elif f.name == "overwrite":
                ok = value in OVERWRITE_CHOICES
            else:
                ok = isinstance(value, type(default))
            if ok:
                out[f.name] = value
        return cls(**out)


OVERWRITE_CHOICES = ("ask", "skip-same", "skip", "overwrite")


@dataclass
class PreviewSettings:
    """How much the preview may read and keep."""

    cache_mb: int = 256  # ranges of an open file kept in memory
    text_kb: int = 64  # text and CSV: the first this-many KB
    whole_mb: int = 16  # JSON and images are read whole up to this size

    @classmethod
    def from_dict(cls, data: dict) -> "PreviewSettings":
        return cls(**{f.name: data[f.name] for f in fields(cls) if isinstance(data.get(f.name), int)
                      and not isinstance(data.get(f.name), bool) and data[f.name] > 0})


@dataclass
class Settings:
    profiles: list[ConnectionProfile] = field(default_factory=list)
    active_profile: str = ""
    transfer: TransferSettings = field(default_factory=TransferSettings)
    preview: PreviewSettings = field(default_factory=PreviewSettings)
    download_folder: str = ""  # where the download dialog opens ('' is the system's Downloads)
    theme: str = "system"  # "system" (follow the desktop), "light" or "dark"
    # Saved locations (s3:// URIs) per profile name, in the order they were added.
    bookmarks: dict[str, list[str]] = field(default_factory=dict)
    # Set by load() when the file on disk could not be used; shown to the user once.
    load_warning: str = field(default="", compare=False)

    def profile(self, name: str) -> ConnectionProfile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def rename_profiles(self, renamed: dict[str, str]) -> None:
        """Carry what is kept per profile name (bookmarks, the active profile) to new names
        {old: new}; a swap of two names swaps what they keep."""
        if not renamed:
            return
        marks = {name: uris for name, uris in self.bookmarks.items() if name not in renamed}
        for old, new in renamed.items():
            if old in self.bookmarks:
                marks[new] = self.bookmarks[old]
        self.bookmarks = marks
        self.active_profile = renamed.get(self.active_profile, self.active_profile)

    def upsert_profile(self, profile: ConnectionProfile) -> None:
        self.profiles = [p for p in self.profiles if p.name != profile.name] + [profile]

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "profiles": [_scrub(p.to_dict()) for p in self.profiles],
            "active_profile": self.active_profile,
            "transfer": asdict(self.transfer),
            "preview": asdict(self.preview),
            "download_folder": self.download_folder,
            "theme": self.theme,
            "bookmarks": {name: list(uris) for name, uris in self.bookmarks.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        profiles = [ConnectionProfile.from_dict(_scrub(p)) for p in data.get("profiles", [])]
        return cls(profiles=profiles, active_profile=str(data.get("active_profile", "")),
                   transfer=TransferSettings.from_dict(data.get("transfer", {})),
                   preview=PreviewSettings.from_dict(data.get("preview", {}) or {}),
                   download_folder=str(data.get("download_folder", "") or ""),
                   theme=data.get("theme") if data.get("theme") in ("system", "light", "dark") else "system",
                   bookmarks=_bookmarks(data.get("bookmarks")))


def _bookmarks(value) -> dict[str, list[str]]:
    """Bookmarks as saved: a profile name's list of s3:// URIs; anything else is dropped, as other
    values of the wrong type fall back to their defaults (files from before bookmarks have none)."""
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, uris in value.items():
        if isinstance(name, str) and isinstance(uris, list):
            kept = list(dict.fromkeys(u for u in uris if isinstance(u, str) and u.startswith("s3://")))
            if kept:
                out[name] = kept
    return out


def _scrub(d: dict) -> dict:
    return {k: v for k, v in d.items() if k.lower() not in _SECRET_KEYS}


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


def load(path: Path | None = None) -> Settings:
    """Read the settings; a missing file gives defaults, a corrupt one is moved aside."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    try:
        return Settings.from_dict(json.loads(text))
    except (ValueError, TypeError, AttributeError) as exc:
        backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, backup)
        s = Settings()
        s.load_warning = (f"The settings file was unreadable ({exc}); defaults are in use. "
                          f"The old file was kept as {backup.name}.")
        log.warning("%s", s.load_warning)
        return s


def save(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically, so a crash never leaves half a file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(settings.to_dict(), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
