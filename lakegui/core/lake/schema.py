"""Schemas across a layout's files: every footer read concurrently (one suffix GET each), the
files grouped by distinct schema with counts, the majority named, and each outlier described by
how it differs from the majority (a column missing or extra, a type changed, a timestamp's unit
or zone, nullability)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .select import LakeFile

SCAN_CONCURRENCY = 32
SUFFIX = 64 * 1024    # one GET holds the footer of almost every file (see PERFORMANCE.md)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


Signature = tuple[Column, ...]


def signature(arrow_schema) -> Signature:
    """The schema as comparable columns; metadata (pandas, ARROW:schema) is not part of it."""
    return tuple(Column(f.name, str(f.type), f.nullable) for f in arrow_schema)


@dataclass
class SchemaGroup:
    columns: Signature
    keys: list[str]
    majority: bool = False

    @property
    def count(self) -> int:
        return len(self.keys)

    def to_json(self) -> dict:
        return {"count": self.count, "majority": self.majority, "columns": [c.to_json() for c in self.columns]}


@dataclass
class SchemaReport:
    files: int                                      # files whose footer was read
    groups: list[SchemaGroup]                       # largest first; the first is the majority
    outliers: list[tuple[str, list[str]]]           # (key, differences from the majority)
    failures: list[tuple[str, str]] = field(default_factory=list)   # (key, why it was not read)
    requests: int = 0
    bytes_read: int = 0

    @property
    def majority(self) -> SchemaGroup | None:
        return self.groups[0] if self.groups else None

    def to_json(self) -> dict:
        """The issue's document; files that could not be read are outliers saying why."""
        return {"files": self.files + len(self.failures), "schemas": [g.to_json() for g in self.groups],
                "outliers": [{"key": k, "differences": d} for k, d in self.outliers]
                + [{"key": k, "differences": [f"could not be read: {why}"]} for k, why in self.failures]}


def _timestamp_parts(t: str):
    """('ms', 'UTC') of 'timestamp[ms, tz=UTC]'; None for other types."""
    if not t.startswith("timestamp["):
        return None
    inner = t[len("timestamp["):-1]
    unit, _, tz = inner.partition(", tz=")
    return unit, tz or None


def differences(majority: Signature, other: Signature) -> list[str]:
    """How `other` differs from `majority`, one phrase each."""
    base = {c.name: c for c in majority}
    mine = {c.name: c for c in other}
    out = [f"column {c.name!r} is missing" for c in majority if c.name not in mine]
    out += [f"column {c.name!r} is extra ({c.type})" for c in other if c.name not in base]
    for c in other:
        b = base.get(c.name)
        if b is None:
            continue
        if b.type != c.type:
            ta, tb = _timestamp_parts(b.type), _timestamp_parts(c.type)
            if ta and tb:
                if ta[0] != tb[0]:
                    out.append(f"column {c.name!r}: timestamp unit {ta[0]} -> {tb[0]}")
                if ta[1] != tb[1]:
                    out.append(f"column {c.name!r}: time zone {ta[1] or 'none'} -> {tb[1] or 'none'}")
            else:
                out.append(f"column {c.name!r}: type {b.type} -> {c.type}")
        if b.nullable != c.nullable:
            out.append(f"column {c.name!r}: {'nullable' if b.nullable else 'not null'} -> "
                       f"{'nullable' if c.nullable else 'not null'}")
    if not out and [c.name for c in majority] != [c.name for c in other]:
        out.append("the same columns in another order")
    return out


def group_schemas(schemas: dict[str, Signature]) -> tuple[list[SchemaGroup], list[tuple[str, list[str]]]]:
    """Groups (largest first, ties by first key) and the outliers against the largest."""
    by_sig: dict[Signature, list[str]] = {}
    for key in sorted(schemas):
        by_sig.setdefault(schemas[key], []).append(key)
    groups = sorted((SchemaGroup(sig, keys) for sig, keys in by_sig.items()), key=lambda g: (-g.count, g.keys[0]))
    if not groups:
        return [], []
    groups[0].majority = True
    outliers = [(k, differences(groups[0].columns, g.columns)) for g in groups[1:] for k in g.keys]
    outliers.sort()
    return groups, outliers


def read_schema(client, bucket: str, f: LakeFile, suffix: int = SUFFIX,
                cache: dict | None = None) -> tuple[Signature, int, int]:
    """A file's schema from its footer: (signature, requests, bytes). One suffix GET, a second
    only when the footer is longer; straight from the bytes (no RangeFile: for 2,000 footers
    every tenth of a millisecond shows). With `cache`, a schema already seen in another footer
    (footer.schema_key) is not parsed again; the rest of such a footer is not checked."""
    import struct

    from .footer import MAGIC, TAIL, FooterError, parse_footer, schema_key, tail_problem

    if f.size < len(MAGIC) + TAIL:
        raise FooterError(tail_problem(f.size, b""))
    # Unconditional: one GET is one version, and a conditional GET costs SeaweedFS a lookup more
    # (measured: 1.24x the plain GETs with If-Match). Only a second GET must match the first.
    params = {"Bucket": bucket, "Key": f.key, "Range": f"bytes=-{min(suffix, f.size)}"}
    tail = _get(client, params, f)
    requests, got = 1, len(tail)
    if problem := tail_problem(f.size, tail):
        raise FooterError(problem)
    n = struct.unpack("<I", tail[-8:-4])[0]
    if n + TAIL > len(tail):
        if f.etag:
            params["IfMatch"] = f'"{f.etag}"'
        params["Range"] = f"bytes={f.size - TAIL - n}-{f.size - len(tail) - 1}"
        head = _get(client, params, f)
        tail = head + tail
        requests, got = 2, got + len(head)
    footer = tail[len(tail) - TAIL - n:]
    key = schema_key(footer) if cache is not None else None
    sig = cache.get(key) if key is not None else None
    if sig is None:
        sig = signature(parse_footer(footer).schema.to_arrow_schema())
        if key is not None:
            cache[key] = sig
    return sig, requests, got


def _get(client, params: dict, f: LakeFile) -> bytes:
    from ..preview.rangefile import ObjectChanged

    try:
        return client.get_object(**params)["Body"].read()
    except Exception as exc:  # noqa: BLE001  re-raised, as ObjectChanged when the object changed
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
            raise ObjectChanged(f"s3://{params['Bucket']}/{f.key} changed while it was being read; "
                                "refresh and open it again.") from exc
        raise


def scan_schemas(client, bucket: str, files: list[LakeFile], *, concurrency: int = SCAN_CONCURRENCY,
                 suffix: int = SUFFIX, cancel: threading.Event | None = None, on_file=None,
                 raw: bool = False, verify=True) -> SchemaReport:
    """Read every file's footer, concurrently, and compare the schemas. `on_file(done, total)`
    is called as footers arrive; setting `cancel` skips the files not yet read. `raw` as for
    LakeDataset (GETs through presigned URLs, for named endpoints)."""
    from .dataset import describe_error
    from .fetch import RawGets

    if raw:
        client = RawGets(client, verify)

    schemas: dict[str, Signature] = {}
    failures: list[tuple[str, str]] = []
    requests = bytes_read = 0
    cache: dict = {}   # schema_key -> signature: each distinct schema parsed once
    lock = threading.Lock()
    done = Counter()

    def one(f: LakeFile) -> None:
        nonlocal requests, bytes_read
        if cancel is not None and cancel.is_set():
            return
        try:
            sig, n, b = read_schema(client, bucket, f, suffix, cache)
            with lock:
                schemas[f.key] = sig
                requests += n
                bytes_read += b
        except Exception as exc:  # noqa: BLE001  a file that fails is reported; the rest goes on
            with lock:
                failures.append((f.key, describe_error(exc, bucket, f.key)))
        if on_file is not None:
            with lock:
                done["n"] += 1
                n = done["n"]
            on_file(n, len(files))

    if files:
        with ThreadPoolExecutor(min(concurrency, len(files)), thread_name_prefix="lake-schema") as pool:
            list(pool.map(one, files))
    if raw:
        client.close()
    groups, outliers = group_schemas(schemas)
    return SchemaReport(len(schemas), groups, outliers, sorted(failures), requests, bytes_read)
