"""Previews of the lake's other files: JSON (the fundamentals), CSV/TSV, text and logs, images.

Each reads at most a limit from the start of the object through a RangeFile; a file
bigger than the limit is never read whole.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from dataclasses import dataclass, field

from ..units import counted
from .rangefile import RangeFile

PARQUET, JSON, CSV, TEXT, IMAGE, NONE = "parquet", "json", "csv", "text", "image", "none"

TEXT_LIMIT = 64 * 1024        # text, logs and CSV: the first 64 KB
WHOLE_LIMIT = 16 << 20        # JSON and images are parsed whole up to this size

_KINDS = {
    PARQUET: (".parquet", ".parq", ".pq"),
    JSON: (".json", ".geojson"),
    CSV: (".csv", ".tsv", ".tab"),
    TEXT: (".txt", ".log", ".md", ".rst", ".yaml", ".yml", ".xml", ".ini", ".cfg", ".toml", ".jsonl",
           ".ndjson", ".sql", ".py", ".sh", ".html", ".htm", ".out", ".err"),
    IMAGE: (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg"),
}


def kind_of(key: str) -> str:
    """What preview a key gets, from its extension (compressed files get Properties only)."""
    ext = posixpath.splitext(key.lower())[1]
    return next((kind for kind, exts in _KINDS.items() if ext in exts), NONE)


@dataclass(frozen=True)
class TextPreview:
    text: str
    shown: int            # bytes shown
    size: int
    binary: bool = False

    @property
    def truncated(self) -> bool:
        return self.shown < self.size


@dataclass(frozen=True)
class JsonPreview:
    value: object = None
    error: str = ""       # why it did not parse; `text` then holds the start of the file
    text: TextPreview | None = None


@dataclass(frozen=True)
class CsvPreview:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    shown: int = 0
    size: int = 0

    @property
    def truncated(self) -> bool:
        return self.shown < self.size


def read_text(source: RangeFile, limit: int = TEXT_LIMIT) -> TextPreview:
    data = source.read_range(0, limit)
    if b"\0" in data[:8192]:
        return TextPreview("", 0, source.size, binary=True)
    if len(data) < source.size:
        cut = data.rfind(b"\n")  # end on a whole line (and a whole UTF-8 character)
        data = data[:cut + 1] if cut > 0 else data
    return TextPreview(data.decode("utf-8-sig", errors="replace"), len(data), source.size)


def read_json(source: RangeFile, limit: int = WHOLE_LIMIT) -> JsonPreview:
    if source.size > limit:
        return JsonPreview(error=f"Too large to parse in a preview ({source.size:,} bytes; the limit is "
                                 f"{limit:,}). The start of the file is shown as text.",
                           text=read_text(source))
    data = source.read_range(0, source.size)
    try:
        return JsonPreview(value=json.loads(data.decode("utf-8-sig")))
    except UnicodeDecodeError as exc:
        return JsonPreview(error=f"Not valid JSON: the file is not UTF-8 text ({exc.reason} at byte {exc.start:,}).",
                           text=read_text(source))
    except json.JSONDecodeError as exc:
        return JsonPreview(error=f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                           text=read_text(source))


def read_csv(source: RangeFile, limit: int = TEXT_LIMIT) -> CsvPreview:
    text = read_text(source, limit)
    if text.binary:
        raise ValueError("This file holds binary data, not delimited text.")
    delimiter = "\t" if source.key.lower().endswith((".tsv", ".tab")) else ","
    rows = list(csv.reader(io.StringIO(text.text), delimiter=delimiter))
    if not rows:
        return CsvPreview([], [], text.shown, text.size)
    return CsvPreview(rows[0], rows[1:], text.shown, text.size)


def read_image(source: RangeFile, limit: int = WHOLE_LIMIT) -> bytes:
    if source.size > limit:
        raise ValueError(f"Images over {limit:,} bytes are not previewed ({source.size:,} bytes).")
    return source.read_range(0, source.size)


def json_children(value) -> list[tuple[str, object]]:
    """(label, child) pairs of a JSON container, for a collapsible tree."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        return [(f"[{i}]", v) for i, v in enumerate(value)]
    return []


def json_scalar(value) -> str:
    """A JSON leaf as JSON writes it; containers as a count."""
    if isinstance(value, dict):
        return f"{{{counted(len(value), 'key')}}}"  # "{1 key}", "{2 keys}"
    if isinstance(value, list):
        return f"[{counted(len(value), 'item')}]"
    return json.dumps(value, ensure_ascii=False)
