"""Key layouts of the US equity data lake (see the project's seeds).

A template turns fields (symbol, year, ...) into an object key, reads those fields back out of
local file names through an editable pattern, validates them, and names the lineage metadata
that objects under it carry (the fields plus data-type and source).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from dataclasses import asdict, dataclass
from pathlib import Path

# What each known field may look like in a name, and what makes its value valid.
_FIELD_PATTERN = {
    "symbol": r"[^/_]+?",
    "year": r"\d{4}|\d+",       # four digits first, so {year}{month}{day} splits; others get a message
    "quarter": r"\d+",
    "month": r"\d{1,2}",
    "day": r"\d{1,2}",
}
_DEFAULT_FIELD = r"[^/]+?"
_SYMBOL = re.compile(r"[A-Z][A-Z0-9.\-]{0,9}")


def validate_field(name: str, value: str) -> str:
    """'' when the value is plausible for the field, else why not (for the user)."""
    if name == "symbol":
        return "" if _SYMBOL.fullmatch(value) else \
            f"symbol {value!r} is not a ticker in capitals (A-Z, digits, '.', '-'; up to 10)"
    if name == "year":
        latest = dt.date.today().year + 1
        return "" if value.isdigit() and len(value) == 4 and 1900 <= int(value) <= latest else \
            f"year {value!r} is not a year between 1900 and {latest}"
    if name == "quarter":
        return "" if value in ("1", "2", "3", "4") else f"quarter {value!r} is not 1-4"
    if name == "month":
        return "" if value.isdigit() and 1 <= int(value) <= 12 and len(value) <= 2 else \
            f"month {value!r} is not 1-12"
    if name == "day":
        return "" if value.isdigit() and 1 <= int(value) <= 31 and len(value) <= 2 else \
            f"day {value!r} is not 1-31"
    if not value or "/" in value or value in (".", ".."):
        return f"{name} {value!r} cannot be part of a key"
    return ""


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


@dataclass(frozen=True)
class LayoutTemplate:
    name: str
    key_template: str
    data_type: str
    local_pattern: str = ""

    @property
    def field_names(self) -> list[str]:
        return _fields(self.key_template)

    @property
    def static_prefix(self) -> str:
        """The part of every key before its first field: what one listing must cover."""
        head = self.key_template.split("{", 1)[0]
        return head[: head.rfind("/") + 1]

    def key(self, **fields) -> str:
        return self.key_template.format(**fields)

    def metadata(self, source: str, **fields) -> dict[str, str]:
        """Lineage metadata for an object: its fields plus data-type and source."""
        meta = {k: str(v) for k, v in fields.items() if k in self.field_names}
        meta.update({"data-type": self.data_type, "source": source})
        return meta

    def check(self) -> str:
        """'' when the template is usable, else why not."""
        try:
            self.key_template.format(**{f: "x" for f in self.field_names})
        except (ValueError, IndexError, KeyError) as exc:
            return f"layout {self.name!r}: its key template is not valid ({exc})"
        if not self.field_names:
            return f"layout {self.name!r}: its key template has no {{fields}}"
        missing = set(self.field_names) - set(_fields(self.local_pattern or ""))
        if self.local_pattern and missing:
            return f"layout {self.name!r}: its local pattern lacks {', '.join(sorted(missing))}"
        return ""


class LocalPattern:
    """Reads a template's fields out of a local path. A pattern without '/' matches the file
    name; one with '/' matches the path relative to the chosen folder (e.g. Hive folders)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.fields = _fields(pattern)
        parts, seen = [], set()
        for literal, name, _, _ in string.Formatter().parse(pattern):
            parts.append(re.escape(literal))
            if name:
                if name in seen:
                    parts.append(f"(?P={name})")
                else:
                    seen.add(name)
                    parts.append(f"(?P<{name}>(?:{_FIELD_PATTERN.get(name, _DEFAULT_FIELD)}))")
        self._regex = re.compile("".join(parts))
        self.by_path = "/" in pattern

    def match(self, relative: str) -> dict[str, str] | None:
        subject = relative if self.by_path else relative.rsplit("/", 1)[-1]
        m = self._regex.fullmatch(subject)
        return m.groupdict() if m else None


@dataclass(frozen=True)
class Placement:
    """One local file under a template: its fields and key, or why it cannot be placed."""

    relative: str
    key: str = ""
    fields: dict | None = None
    error: str = ""


def place(template: LayoutTemplate, pattern: LocalPattern, relative: str, prefix: str = "") -> Placement:
    fields = pattern.match(relative)
    if fields is None:
        return Placement(relative, error=f"does not match the pattern {pattern.pattern!r}")
    problems = [p for p in (validate_field(k, v) for k, v in fields.items()) if p]
    if problems:
        return Placement(relative, fields=fields, error="; ".join(problems))
    missing = [f for f in template.field_names if f not in fields]
    if missing:
        return Placement(relative, fields=fields, error=f"the pattern gives no {', '.join(missing)}")
    return Placement(relative, prefix + template.key(**fields), fields)


DAILY_TICKS = LayoutTemplate("daily-ticks", "data/ticks/daily/{symbol}/{year}/ticks.parquet",
                             "daily-ticks", "{symbol}_{year}.parquet")
MINUTE_TICKS = LayoutTemplate("minute-ticks",
                              "data/ticks/minute/{symbol}/{year}/{month}/{day}/ticks.parquet",
                              "minute-ticks", "{symbol}_{year}{month}{day}.parquet")
FUNDAMENTALS = LayoutTemplate("fundamentals", "data/fundamental/{symbol}/{year}/Q{quarter}.json",
                              "fundamentals", "{symbol}_{year}_Q{quarter}.json")
REFERENCE = LayoutTemplate("reference", "data/reference/{name}", "reference", "{name}")

BUILTIN_LAYOUTS = {t.name: t for t in (DAILY_TICKS, MINUTE_TICKS, FUNDAMENTALS, REFERENCE)}

LAYOUTS_FILE = "layouts.json"


def load_layouts(config_dir: Path) -> tuple[dict[str, LayoutTemplate], list[str]]:
    """Built-in layouts plus the user's (`layouts.json`: a list of {name, key_template,
    data_type, local_pattern}); returns them and the problems found, for the user."""
    layouts, problems = dict(BUILTIN_LAYOUTS), []
    path = Path(config_dir) / LAYOUTS_FILE
    if not path.exists():
        return layouts, problems
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise ValueError("expected a list of layouts")
    except (OSError, ValueError) as exc:
        return layouts, [f"{path} could not be read ({exc}); only the built-in layouts are available"]
    for entry in entries:
        try:
            t = LayoutTemplate(str(entry["name"]), str(entry["key_template"]),
                               str(entry.get("data_type") or entry["name"]), str(entry.get("local_pattern", "")))
        except (KeyError, TypeError) as exc:
            problems.append(f"{path}: a layout lacks {exc}")
            continue
        problem = t.check()
        if problem:
            problems.append(problem)
        else:
            layouts[t.name] = t
    return layouts, problems


def save_layout(config_dir: Path, template: LayoutTemplate) -> None:
    """Add or replace one user layout in `layouts.json` (written to a temp file, then renamed)."""
    problem = template.check()
    if problem:
        raise ValueError(problem)
    path = Path(config_dir) / LAYOUTS_FILE
    entries = []
    if path.exists():
        entries = [e for e in json.loads(path.read_text(encoding="utf-8")) if e.get("name") != template.name]
    entries.append(asdict(template))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    tmp.replace(path)


_KEY_PATTERNS: dict[str, LocalPattern] = {}


def _key_pattern(template: LayoutTemplate) -> LocalPattern:
    """The template's key template as a pattern that reads its fields out of a whole key."""
    pattern = _KEY_PATTERNS.get(template.key_template)
    if pattern is None:
        pattern = _KEY_PATTERNS[template.key_template] = LocalPattern(template.key_template)
    return pattern


def moved_fields(old_key: str, new_key: str, layouts) -> dict[str, tuple[str, str]]:
    """The fields a layout reads out of both keys whose values differ: {field: (old, new)}.
    A key outside a layout (or moved out of it) names none of its fields."""
    moved: dict[str, tuple[str, str]] = {}
    for template in layouts:
        if "/" not in template.key_template or not old_key.startswith(template.static_prefix):
            continue  # a key template without folders would match bare names anywhere
        pattern = _key_pattern(template)
        old = pattern.match(old_key)
        new = pattern.match(new_key) if old else None
        if old and new:
            moved.update((f, (v, new[f])) for f, v in old.items() if new.get(f) != v)
    return moved


def lineage_after_move(metadata: dict[str, str], old_key: str, new_key: str, layouts) -> dict[str, str] | None:
    """The lineage metadata of an object copied or moved from `old_key` to `new_key`: a field
    the metadata holds with the old key's value (a reference file's `name`, a symbol, a year)
    takes the new key's, so Properties of a renamed object names it by its new name. Other
    metadata is kept as it is. None when nothing changes."""
    changed = dict(metadata)
    for field, (old, new) in moved_fields(old_key, new_key, layouts).items():
        if changed.get(field) == old:
            changed[field] = new
    return changed if changed != metadata else None


_LOADED: dict = {}


def known_layouts(config_dir: Path) -> list[LayoutTemplate]:
    """Built-in and user layouts, read again only when `layouts.json` changed (a copy job asks
    once per object)."""
    path = Path(config_dir) / LAYOUTS_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    if _LOADED.get("at") != (path, stamp):
        _LOADED["at"], _LOADED["layouts"] = (path, stamp), list(load_layouts(config_dir)[0].values())
    return _LOADED["layouts"]
