"""A query over a layout's files: only the chosen columns of only the selected files, by ranges.

For each file: one suffix GET for its footer (see footer.py); the row groups whose statistics
cannot match the filter are skipped; the chunks of the wanted columns in the row groups left are
fetched by range (neighbours merged only while the bytes between them stay a small share of what
is read); pyarrow decodes them from memory (ParquetFile over the file's ScanFile, given the
footer, so it reads nothing itself). The filter then picks the rows, and the template's fields
(symbol, year, ...) are added as columns, as Hive partition columns are.

Files are read in waves, phase by phase: every footer of the wave, then every chunk, each
phase's GETs sent together (phases.py), so a query costs a few round trips, not a few per file.
Results come out in the files' order, one LakeBatch per file with what it cost. A file that
cannot be read becomes a LakeBatch with the reason; the rest go on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from .fetch import RawGets
from .filters import ABSENT, ColumnStats, Node, constant
from .filters import apply as apply_filter
from .footer import MIN_PARQUET, TAIL, FooterError, FooterSizer, footer_start, read_metadata, schema_key
from .phases import QueryStopped, ScanFile, fetcher_for
from .select import NUMERIC_FIELDS, LakeFile

CONCURRENCY = 8           # GETs in flight from threads (16 was no faster on 2 cores, and slower under load)
WAVE = 64                 # files read together, phase by phase, before their batches are yielded
WAVE_BYTES = 256 << 20    # chunk bytes held at once (a wave of large files is fetched in parts)
HOLE_SHARE = 0.1          # bytes between merged ranges: at most this share of what the file needs
HOLE_MAX = 256 * 1024     # and never a hole larger than this


class QueryCancelled(Exception):
    """The query was stopped by its caller."""


@dataclass
class LakeBatch:
    """One file's part of a result: its rows (None when it failed) and what reading it took."""

    key: str
    fields: dict
    batch: object = None          # pyarrow.RecordBatch
    files: int = 1
    row_groups_read: int = 0
    row_groups_skipped: int = 0
    requests: int = 0
    bytes_read: int = 0
    error: str = ""
    missing_columns: tuple = ()   # wanted or filtered columns this file lacks (all nulls there)
    columns: tuple = ()           # the file's own columns (a column asked for by mistake names them)

    @property
    def rows(self) -> int:
        return self.batch.num_rows if self.batch is not None else 0


@dataclass
class ScanTotals:
    """What a whole query took, summed over its batches."""

    files: int = 0
    files_pruned: int = 0         # ruled out by the filter on their fields: never read
    row_groups_read: int = 0
    row_groups_skipped: int = 0
    requests: int = 0
    bytes_read: int = 0
    rows: int = 0
    failures: list = field(default_factory=list)   # (key, reason)

    def add(self, b: LakeBatch) -> None:
        self.files += b.files
        self.row_groups_read += b.row_groups_read
        self.row_groups_skipped += b.row_groups_skipped
        self.requests += b.requests
        self.bytes_read += b.bytes_read
        self.rows += b.rows
        if b.error:
            self.failures.append((b.key, b.error))

    def to_json(self) -> dict:
        return {"files": self.files, "row_groups_read": self.row_groups_read,
                "row_groups_skipped": self.row_groups_skipped, "requests": self.requests,
                "bytes_read": self.bytes_read, "rows": self.rows}


def field_value(name: str, value: str):
    return int(value) if name in NUMERIC_FIELDS and value.isdigit() else value


def field_stats(fields: dict) -> dict:
    """A file's fields as statistics, so a filter on them rules the file out before any GET."""
    return {k: ColumnStats(field_value(k, v), field_value(k, v), 0, 1) for k, v in fields.items()}


def plan_ranges(ranges: list[tuple[int, int]], *, share: float = HOLE_SHARE, hole_max: int = HOLE_MAX,
                also: int = 0) -> list[tuple[int, int]]:
    """Ranges to GET for `ranges` of one file (see plan_many): touching ones joined, then the
    smallest holes bridged while the bridged bytes stay under `share` of the bytes needed (the
    ranges, plus `also` already read: the footer)."""
    return plan_many([(ranges, also)], share=share, hole_max=hole_max)[0]


def plan_many(files: list[tuple[list[tuple[int, int]], int]], *, share: float = HOLE_SHARE,
              hole_max: int = HOLE_MAX) -> list[list[tuple[int, int]]]:
    """Ranges to GET for each file's (ranges, bytes already read): in each file touching ranges
    joined, then the smallest holes of all the files bridged while the bridged bytes stay under
    `share` of all the bytes needed (ranges and footers), and no hole is over `hole_max`. Each
    GET costs about as much as reading a few more kilobytes; reading whole files costs far
    more. One budget for a wave of files, not one per file: a file with many scattered row
    groups that can match gets the bytes that files with one or none leave."""
    merged_files: list[list[list[int]]] = []
    needed = 0
    for ranges, also in files:
        merged: list[list[int]] = []
        for s, e in sorted(r for r in ranges if r[1] > r[0]):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        merged_files.append(merged)
        needed += sum(e - s for s, e in merged) + (also if merged else 0)
    budget = share * needed
    holes = sorted((m[i + 1][0] - m[i][1], k, i) for k, m in enumerate(merged_files) for i in range(len(m) - 1))
    bridge = set()
    for gap, k, i in holes:
        if gap > hole_max or gap > budget:
            break
        budget -= gap
        bridge.add((k, i))
    out = []
    for k, merged in enumerate(merged_files):
        plan = [list(merged[0])] if merged else []
        for i in range(1, len(merged)):
            if (k, i - 1) in bridge:
                plan[-1][1] = merged[i][1]
            else:
                plan.append(list(merged[i]))
        out.append([tuple(r) for r in plan])
    return out


def _chunk_range(col) -> tuple[int, int]:
    start = col.data_page_offset
    if col.has_dictionary_page and col.dictionary_page_offset:
        start = min(start, col.dictionary_page_offset)
    return start, start + col.total_compressed_size


def _row_group_stats(rg, leaves: dict[str, int], columns: set[str], field_cols: dict) -> dict:
    out = dict(field_cols)
    for name in columns:
        if name in out:
            continue
        i = leaves.get(name)
        if i is None:
            continue  # absent (set by the caller) or nested: unknown
        col = rg.column(i)
        st = col.statistics if col.is_stats_set else None
        if st is None:
            continue
        lo = hi = None
        if st.has_min_max:
            try:
                lo, hi = st.min, st.max
            except (ValueError, TypeError, OverflowError):  # values pyarrow cannot convert
                lo = hi = None
        out[name] = ColumnStats(lo, hi, st.null_count if st.has_null_count else None, rg.num_rows)
    return out


def describe_error(exc: BaseException, bucket: str, key: str) -> str:
    """Why a file could not be read, as one sentence naming it."""
    import pyarrow as pa

    from ..errors import classify
    from ..preview.rangefile import ObjectChanged

    where = f"s3://{bucket}/{key}"
    if isinstance(exc, ObjectChanged):
        return str(exc)
    if isinstance(exc, FooterError):
        return f"{where} {exc}"
    if isinstance(exc, (pa.ArrowException, OSError)) and not hasattr(exc, "response"):
        return f"{where} cannot be decoded as Parquet ({exc})"
    if isinstance(exc, ValueError) and not hasattr(exc, "response"):
        return f"{where}: {exc}"
    return classify(exc, bucket=bucket, key=key).message


class LakeDataset:
    """The selected files of one layout, ready to be scanned."""

    def __init__(self, client, bucket: str, files: list[LakeFile], *, field_names: list[str] | None = None,
                 concurrency: int = CONCURRENCY, raw: bool = False, verify=True):
        """`raw`: ranged GETs through presigned URLs (fetch.RawGets), for named endpoints, as
        listings do: over plain http all of a phase's GETs at once from the scanning thread
        (phases.LoopFetch), over https from threads; else through the boto3 client, from threads."""
        self.client = RawGets(client, verify) if raw else client
        self.bucket = bucket
        self.files = list(files)
        names = field_names if field_names is not None else (list(files[0].fields) if files else [])
        self.field_names = list(names)
        self.concurrency = concurrency
        self.files_pruned = 0
        self._schemas: dict = {}   # footer.schema_key -> what _schema_of works out

    def scan(self, columns: list[str] | None = None, filter: Node | None = None, *,
             cancel: threading.Event | None = None, sizer: FooterSizer | None = None) -> Iterator[LakeBatch]:
        """LakeBatches in file order. `columns` None means every column of each file; the
        fields are always added. Files the filter rules out by their fields alone are never
        read (counted in `files_pruned`). Setting `cancel` stops the scan (QueryCancelled).

        Files are read a wave (WAVE files) at a time, in phases over the whole wave: every
        footer (the first file's alone while the footer size is unknown), then every chunk
        that can match, then the decoding; each phase's GETs go out together."""
        def cancelled() -> bool:
            return cancel is not None and cancel.is_set()

        sizer = sizer or FooterSizer()
        wanted = None if columns is None else [c for c in columns if c not in self.field_names]
        filter_cols = sorted(filter.columns() - set(self.field_names)) if filter is not None else []
        todo = [f for f in self.files if filter is None or filter.may_match(field_stats(f.fields))]
        self.files_pruned = len(self.files) - len(todo)
        if not todo:
            return
        fetch = fetcher_for(self.client, self.bucket, todo[0].key, self.concurrency, 2 * self.concurrency)
        try:
            for i in range(0, len(todo), WAVE):
                yield from self._wave(todo[i:i + WAVE], wanted, filter_cols, filter, sizer, fetch, cancelled)
        finally:
            fetch.close()
            if isinstance(self.client, RawGets):
                self.client.close()   # its keep-alive connections; a boto3 client keeps its pool

    def _wave(self, files, wanted, filter_cols, flt, sizer, fetch, cancelled):
        try:
            states = [_State(f, ScanFile(self.client, self.bucket, f.key, f.size, etag=f.etag)) for f in files]
            if not sizer.learned:
                self._footers(states[:1], sizer, fetch, cancelled)   # the first footer sizes the others'
            self._footers([s for s in states if s.md is None], sizer, fetch, cancelled)
            planned = []
            for st in states:
                if st.rf.error is None and st.md is not None:
                    try:
                        planned.append((st, self._plan(st, wanted, filter_cols, flt)))
                    except Exception as exc:  # noqa: BLE001  reported with the file
                        st.rf.error = exc
        except QueryStopped:
            raise QueryCancelled() from None
        plans = plan_many([(ranges, st.rf.bytes_fetched) for st, ranges in planned])
        jobs = {id(st): [(st.rf, s, e) for s, e in plan] for (st, _), plan in zip(planned, plans)}
        # The chunks of consecutive files together, up to WAVE_BYTES at once: memory stays bounded
        # when the files are large.
        group: list[_State] = []
        held = 0
        for st in states + [None]:
            need = sum(e - s for _, s, e in jobs.get(id(st), ())) if st is not None else 0
            if group and (st is None or held + need > WAVE_BYTES):
                try:
                    fetch.run([j for g in group for j in jobs.get(id(g), ())], cancelled)
                except QueryStopped:
                    raise QueryCancelled() from None
                for g in group:
                    b = self._finish(g, wanted, filter_cols, flt)
                    g.rf = g.md = None   # its bytes, once decoded
                    if cancelled():
                        raise QueryCancelled()
                    yield b
                group, held = [], 0
            if st is not None:
                group.append(st)
                held += need

    def _footers(self, states, sizer: FooterSizer, fetch, cancelled) -> None:
        """Each file's footer with one suffix GET (a second for the rest of a longer one), parsed."""
        jobs = []
        for st in states:
            size = st.f.size
            if size >= MIN_PARQUET:
                st.tail_start = size - min(size, sizer.guess(size))
                jobs.append((st.rf, st.tail_start, size))
        fetch.run(jobs, cancelled)
        more = []
        for st in states:
            size = st.f.size
            if st.rf.error is None and size >= MIN_PARQUET:
                start = footer_start(st.rf.read_range(size - TAIL, size), size)
                if start is not None and start < st.tail_start:
                    more.append((st.rf, start, st.tail_start))
        fetch.run(more, cancelled)
        for st in states:
            if st.rf.error is None:
                try:
                    st.md = read_metadata(st.rf, sizer)   # from what is held: no GET
                    size = st.f.size
                    st.schema_key = schema_key(st.rf.read_range(footer_start(st.rf.read_range(size - TAIL, size),
                                                                             size), size))
                except Exception as exc:  # noqa: BLE001  reported with the file
                    st.rf.error = exc

    def _plan(self, st: _State, wanted, filter_cols, flt) -> list[tuple[int, int]]:
        """The file's row groups that can match, and the ranges of their wanted chunks not held yet."""
        md, fields = st.md, st.f.fields
        schema, paths, leaves = self._schema_of(st)
        # The key's fields are what the layout says the file holds: a column of the file named like
        # one gives way to it (so pruning by fields before any GET and the rows agree).
        names = [n for n in schema.names if n not in self.field_names]
        own = list(names if wanted is None else wanted)
        present = [c for c in own if c in names]
        out = st.out
        out.missing_columns = tuple(c for c in own + filter_cols if c not in names)
        out.columns = tuple(names)
        read = present + [c for c in filter_cols if c in names and c not in present]
        fstats = field_stats(fields)
        absent = {c: ABSENT for c in filter_cols if c not in names}
        groups = []
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            if flt is not None and not flt.may_match(dict(_row_group_stats(rg, leaves, set(filter_cols), fstats),
                                                          **absent)):
                out.row_groups_skipped += 1
            elif rg.num_rows:
                groups.append(g)
            else:
                out.row_groups_skipped += 1
        out.row_groups_read = len(groups)
        # Leaf i of the schema is column chunk i of every row group.
        chunks = [i for i, p in enumerate(paths) if any(p == c or p.startswith(c + ".") for c in read)]
        ranges = [_chunk_range(md.row_group(g).column(i)) for g in groups for i in chunks]
        st.schema, st.own, st.read, st.groups = schema, own, read, groups
        return st.rf.missing(ranges)

    def _schema_of(self, st: _State):
        """(Arrow schema, leaf paths, top-level leaf -> index) of the file's footer, worked out
        once per distinct schema of the scan (footer.schema_key)."""
        known = self._schemas.get(st.schema_key) if st.schema_key is not None else None
        if known is None:
            s = st.md.schema
            paths = [s.column(i).path for i in range(len(s))]
            # Nested leaves have no usable statistics: only top-level ones are looked up by name.
            known = (s.to_arrow_schema(), paths, {p: i for i, p in enumerate(paths) if "." not in p})
            if st.schema_key is not None:
                self._schemas[st.schema_key] = known
        return known

    def _finish(self, st: _State, wanted, filter_cols, flt) -> LakeBatch:
        out = st.out
        try:
            if st.rf.error is not None:
                raise st.rf.error
            self._decode(st, filter_cols, flt)
        except Exception as exc:  # noqa: BLE001  a file that fails is reported; the rest goes on
            out.error = describe_error(exc, self.bucket, st.f.key)
            out.batch = None
        out.requests, out.bytes_read = st.rf.requests, st.rf.bytes_fetched
        return out

    def _decode(self, st: _State, filter_cols, flt) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        md, rf, out, fields = st.md, st.rf, st.out, st.f.fields
        schema, own, read, groups = st.schema, st.own, st.read, st.groups
        if groups and read:
            pf = pq.ParquetFile(rf, metadata=md, pre_buffer=False, buffer_size=0)
            table = pf.read_row_groups(groups, columns=read, use_threads=False)
        elif read:  # no row group can match
            table = pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema).select(read)
        else:  # no column of the file is wanted: only the row count matters
            table = pa.table({"__rows": pa.nulls(sum(md.row_group(g).num_rows for g in groups))})
        n = table.num_rows
        for c in out.missing_columns:
            if c in own:
                table = table.append_column(c, pa.nulls(n))
        for c in filter_cols:
            if c not in table.column_names:
                table = table.append_column(c, pa.nulls(n))
        # The rows first, then the fields (shorter), unless the filter names a field.
        late = flt is not None and not (flt.columns() & set(fields))
        if late:
            table = apply_filter(flt, table)
            n = table.num_rows
        for k, v in fields.items():
            value = field_value(k, v)
            kind = pa.int32() if isinstance(value, int) else pa.string()
            table = table.append_column(pa.field(k, kind, nullable=False), constant(value, kind, n))
        if flt is not None and not late:
            table = apply_filter(flt, table)
        keep = own + list(fields)
        table = table.select(keep)
        batches = table.combine_chunks().to_batches()
        out.batch = batches[0] if batches else pa.RecordBatch.from_arrays(
            [pa.nulls(0, t.type) for t in table.schema], schema=table.schema)


class _State:
    """One file of a wave between phases."""

    def __init__(self, f: LakeFile, rf: ScanFile):
        self.f, self.rf = f, rf
        self.out = LakeBatch(f.key, dict(f.fields))
        self.md = None
        self.schema_key = None
        self.tail_start = f.size
        self.schema = self.own = self.read = self.groups = None


def collect(batches, *, pruned: int = 0) -> tuple[object, ScanTotals]:
    """(pyarrow.Table of every batch, their totals; `pruned` files never read count as files).
    Files whose schemas differ are combined with permissive promotion: a column one lacks is
    null there, int64 and double become double."""
    import pyarrow as pa

    totals = ScanTotals(files=pruned, files_pruned=pruned)
    tables = []
    for b in batches:
        totals.add(b)
        if b.batch is not None:
            tables.append(pa.Table.from_batches([b.batch]))
    if not tables:
        return pa.table({}), totals
    try:
        return pa.concat_tables(tables, promote_options="permissive"), totals
    except pa.ArrowException:
        # Types that do not promote (text in one file, numbers in another): cast to text.
        return pa.concat_tables([t.cast(pa.schema([pa.field(n, pa.string()) for n in t.column_names]))
                                 for t in tables], promote_options="permissive"), totals
