"""Which files of a layout a query reads: a selection of the template's fields
(`symbol in {AAPL, MSFT}`, `year 2020..2024`), matched against the keys of one listing.

The fields are read back out of each key through the template, as coverage does, so files are
pruned by their fields before any GET. When the selection fixes the leading fields (one symbol,
say) the listing starts below them.
"""

from __future__ import annotations

import os
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..layouts import LayoutTemplate, LocalPattern, validate_field
from ..listing import PrefixLister

# Fields whose values are numbers: compared as numbers (2024 = "2024", 1 = "01") and added to
# results as integer columns, as Hive partition columns are.
NUMERIC_FIELDS = ("year", "quarter", "month", "day")
MAX_LISTINGS = 16   # listings of narrowed prefixes at most; beyond, one listing of the common prefix


class SelectionError(ValueError):
    """A selection that names no field of the template, or cannot be parsed."""


@dataclass(frozen=True)
class FieldChoice:
    """Values of one field: a set, or an inclusive range (either end may be open)."""

    values: frozenset[str] | None = None
    low: str | None = None
    high: str | None = None

    def matches(self, value: str) -> bool:
        if self.values is not None:
            return any(_same(value, v) for v in self.values)
        if self.low is not None and _less(value, self.low):
            return False
        return self.high is None or not _less(self.high, value)

    @property
    def single(self) -> str | None:
        if self.values is not None and len(self.values) == 1:
            return next(iter(self.values))
        if self.low is not None and self.low == self.high:
            return self.low
        return None

    def describe(self, name: str) -> str:
        if self.values is not None:
            return f"{name} in {{{', '.join(sorted(self.values))}}}"
        return f"{name} {self.low or ''}..{self.high or ''}"


def _number(v: str):
    return int(v) if v.isdigit() else None


def _same(a: str, b: str) -> bool:
    na, nb = _number(a), _number(b)
    return na == nb if na is not None and nb is not None else a == b


def _less(a: str, b: str) -> bool:
    na, nb = _number(a), _number(b)
    return na < nb if na is not None and nb is not None else a < b


@dataclass
class Selection:
    """Field name -> FieldChoice; fields not named are not restricted."""

    choices: dict[str, FieldChoice] = field(default_factory=dict)

    def matches(self, fields: dict[str, str]) -> bool:
        return all(c.matches(fields.get(name, "")) for name, c in self.choices.items())

    def describe(self) -> str:
        return ", ".join(c.describe(n) for n, c in self.choices.items()) or "every file"

    def check(self, template: LayoutTemplate) -> None:
        unknown = [n for n in self.choices if n not in template.field_names]
        if unknown:
            raise SelectionError(f"the layout {template.name!r} has no field {', '.join(map(repr, unknown))} "
                                 f"(it has {', '.join(template.field_names)})")

    @classmethod
    def parse(cls, terms: list[str]) -> Selection:
        """From `FIELD=V1,V2` and `FIELD=A..B` (inclusive; `A..` and `..B` are open) terms. One
        term per field: a second (`year=2023` then `year=2025`) is refused rather than guessed
        at (both, or either?); a number field's values must be numbers, and a range must not
        run backwards: these are SelectionErrors, a usage error, not a listing that finds nothing."""
        out: dict[str, FieldChoice] = {}
        given: dict[str, str] = {}
        for term in terms:
            name, eq, spec = term.partition("=")
            name, spec = name.strip(), spec.strip()
            if not eq or not name or not spec:
                raise SelectionError(f"--where {term!r}: expected FIELD=V1,V2 or FIELD=A..B")
            if name in given:
                raise SelectionError(f"--where {name}= is given twice ({given[name]!r}, {term!r}): one --where per "
                                     f"field, its values together ({name}=A,B) or a range ({name}=A..B)")
            given[name] = term
            if ".." in spec:
                low, _, high = spec.partition("..")
                if ".." in high or (not low and not high):
                    raise SelectionError(f"--where {term!r}: a range is A..B")
                choice = FieldChoice(low=low.strip() or None, high=high.strip() or None)
            else:
                values = [v.strip() for v in spec.split(",")]
                if any(not v for v in values):
                    raise SelectionError(f"--where {term!r}: an empty value")
                choice = FieldChoice(values=frozenset(values))
            if problem := _impossible(name, choice):
                raise SelectionError(f"--where {term!r}: {problem}")
            out[name] = choice
        return cls(out)

    @classmethod
    def of(cls, **fields) -> Selection:
        """From Python values: a value, a list/tuple/set of values, or a range (step 1 is an
        inclusive span of its ends; other steps are their values). None leaves a field open."""
        out = {}
        for name, v in fields.items():
            if v is None:
                continue
            if isinstance(v, range):
                if len(v) == 0:
                    out[name] = FieldChoice(values=frozenset())
                elif v.step == 1:
                    out[name] = FieldChoice(low=str(v.start), high=str(v.stop - 1))
                else:
                    out[name] = FieldChoice(values=frozenset(str(x) for x in v))
            elif isinstance(v, (list, tuple, set, frozenset)):
                out[name] = FieldChoice(values=frozenset(str(x) for x in v))
            else:
                out[name] = FieldChoice(values=frozenset([str(v)]))
            if name in out and (problem := _impossible(name, out[name])):
                raise SelectionError(f"{name}={v!r}: {problem}")
        return cls(out)


def _impossible(name: str, choice: FieldChoice) -> str:
    """Why no key can have these values ('' when some can): a number field (year) given text, or
    a range whose low end is above its high end."""
    ends = [v for v in (choice.low, choice.high) if v is not None]
    if name in NUMERIC_FIELDS:
        bad = sorted(v for v in (choice.values or ends) if not v.isdigit())
        if bad:
            return f"{name} is a number, and {', '.join(map(repr, bad))} {'is' if len(bad) == 1 else 'are'} not"
    if choice.low is not None and choice.high is not None and _less(choice.high, choice.low):
        return f"the range runs backwards: {choice.low}..{choice.high} holds nothing ({choice.high}..{choice.low}?)"
    return ""


@dataclass(frozen=True)
class LakeFile:
    """One object of the layout: its key, size and ETag (from the listing) and its fields."""

    key: str
    size: int
    etag: str
    fields: dict

    def to_json(self) -> dict:
        return {"key": self.key, "size": self.size, "etag": self.etag, "fields": dict(self.fields)}


@dataclass
class Selected:
    files: list[LakeFile]
    listed: int                       # objects the listing returned
    listing_prefix: str               # what was listed (prefixes joined by ', ' when several)
    unmatched: list[tuple[str, str]]  # (key, why it is not in the layout)
    values: dict[str, set[str]] = field(default_factory=dict)  # field -> values asked for, of keys not selected


def layout_root(prefix: str, template: LayoutTemplate) -> str:
    """Where the layout's keys start, from the prefix a user gave: a prefix ending in the layout's
    own literal folders (`data/ticks/daily/` for daily-ticks, the folder one browses to) names
    that folder, not a lake nested inside it, so those folders are taken off (coverage, query,
    schema and the Python API read it so). Else the prefix itself, with its '/'."""
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    static = template.static_prefix
    if static and prefix.endswith(static) and (len(prefix) == len(static) or prefix[-len(static) - 1] == "/"):
        return prefix[: -len(static)]
    return prefix


def listing_prefixes(template: LayoutTemplate, selection: Selection, prefix: str = "") -> list[str]:
    """The narrowest prefixes holding every selected key: the template's literal text, through
    the leading fields that the selection gives a few values each (one prefix per combination, at
    most MAX_LISTINGS), up to a '/'. One prefix, the template's own, when the leading field is open."""
    heads = [""]
    for literal, name, _, _ in string.Formatter().parse(template.key_template):
        heads = [h + literal for h in heads]
        if not name:
            break
        choice = selection.choices.get(name)
        values = sorted(choice.values) if choice is not None and choice.values is not None else None
        if not values or any(validate_field(name, v) for v in values) or len(heads) * len(values) > MAX_LISTINGS:
            break
        heads = [h + v for h in heads for v in values]
    return sorted({prefix + h[: h.rfind("/") + 1] for h in heads})


def listing_prefix(template: LayoutTemplate, selection: Selection, prefix: str = "") -> str:
    """The one prefix every selected key is under."""
    common = os.path.commonprefix(listing_prefixes(template, selection, prefix))
    return common[: common.rfind("/") + 1]


def select_files(client, bucket: str, template: LayoutTemplate, selection: Selection, *, prefix: str = "",
                 listing: dict | None = None, cancel: threading.Event | None = None) -> Selected:
    """The layout's files under `prefix` whose fields match `selection`, from one listing of
    the narrowest prefix (or, when the leading field has a few values, one small listing per
    value, run concurrently: a listing's cost grows with what it walks; on a filer-backed server
    such as SeaweedFS, 2,000 keys in 400 folders took 0.4 s against 20 ms for three symbols')."""
    selection.check(template)
    prefix = layout_root(prefix, template)
    pattern = LocalPattern(template.key_template)
    prefixes = listing_prefixes(template, selection, prefix)

    def one(where: str) -> list:
        out = []
        for page in PrefixLister(client, bucket, where, recursive=True, **(listing or {})):
            if cancel is not None and cancel.is_set():
                break
            out.extend(page.objects)
        return out

    together = first_pages(client, bucket, prefixes, listing) if len(prefixes) > 1 else {}
    rest = [p for p in prefixes if p not in together]
    if len(rest) == 1:
        listed_rest = [one(rest[0])]
    elif rest:
        with ThreadPoolExecutor(min(8, len(rest)), thread_name_prefix="lake-list") as pool:
            listed_rest = list(pool.map(one, rest))
    else:
        listed_rest = []
    by_prefix = dict(together, **dict(zip(rest, listed_rest)))
    pages = [by_prefix[p] for p in prefixes]
    files, unmatched, listed = [], [], 0
    asked = [k for k, c in selection.choices.items() if c.values is not None]
    values: dict[str, set[str]] = {k: set() for k in asked}
    for objects in pages:
        for o in objects:
            listed += 1
            if o.key.endswith("/"):
                continue
            fields = pattern.match(o.key[len(prefix):])
            if fields is None:
                unmatched.append((o.key, f"does not match {template.key_template!r}"))
                continue
            problems = [p for p in (validate_field(k, v) for k, v in fields.items()) if p]
            if problems:
                unmatched.append((o.key, "; ".join(problems)))
            elif selection.matches(fields):
                files.append(LakeFile(o.key, o.size, o.etag, fields))
            else:  # kept for a hint (symbol=aapl of a lake of AAPL) when nothing is selected
                for k in asked:
                    values[k].add(fields.get(k, ""))
    files.sort(key=lambda f: f.key)
    return Selected(files, listed, prefixes[0] if len(prefixes) == 1 else ", ".join(prefixes), unmatched, values)


def case_hints(selection: Selection, values: dict[str, set[str]]) -> list[str]:
    """'did you mean AAPL?' for each value asked for that the lake holds only in another case
    (--where symbol=aapl of a lake of AAPL): the selection compares values exactly."""
    hints = []
    for name, choice in selection.choices.items():
        held = values.get(name, set())
        for asked in sorted(choice.values or ()):
            near = sorted(v for v in held if v != asked and v.casefold() == asked.casefold())
            if near and asked not in held:
                hints.append(f"did you mean {name}={near[0]}?")
    return hints


def first_pages(client, bucket: str, prefixes: list[str], listing: dict | None) -> dict[str, list]:
    """The prefixes whose listing fits one page, listed all at once from this thread (multiget,
    no thread started) when the listing is raw and the endpoint plain http: {prefix: objects}.
    A prefix missing from the answer (a longer listing, an error, another endpoint) is listed
    by PrefixLister, which also reports its errors."""
    if not listing or not listing.get("raw"):
        return {}
    from urllib.parse import urlsplit

    from .multiget import MultiGet, Request

    requests = []
    for p in prefixes:
        url = client.generate_presigned_url("list_objects_v2", ExpiresIn=900, Params={
            "Bucket": bucket, "Prefix": p, "MaxKeys": 1000, "EncodingType": "url"})
        parts = urlsplit(url)
        if parts.scheme != "http":
            return {}
        requests.append(Request(parts.hostname, parts.port or 80, f"{parts.path}?{parts.query}",
                                {"Host": parts.netloc}, url=url, tag=p))
    multi = MultiGet(len(requests))
    try:
        multi.run(requests)
    finally:
        multi.close()
    out = {}
    for r in requests:
        objects = _one_page(r.body) if r.error is None and r.status == 200 else None
        if objects is not None:
            out[r.tag] = objects
    return out


def _one_page(body: bytes) -> list | None:
    """The objects of a complete (not truncated) ListObjectsV2 answer, else None."""
    import xml.etree.ElementTree as ET
    from urllib.parse import unquote_plus

    from ..listing import ObjectEntry

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}ListBucketResult" or (root.findtext(f"{ns}IsTruncated") or "").lower() == "true":
        return None
    encoded = root.findtext(f"{ns}EncodingType") == "url"
    key_tag, size_tag, etag_tag = f"{ns}Key", f"{ns}Size", f"{ns}ETag"
    out = []
    for c in root.iter(f"{ns}Contents"):
        f = {child.tag: child.text for child in c}
        key = f.get(key_tag) or ""
        if encoded and ("%" in key or "+" in key):
            key = unquote_plus(key)
        out.append(ObjectEntry(key, int(f.get(size_tag) or 0), None, (f.get(etag_tag) or "").strip('"'), ""))
    return out
