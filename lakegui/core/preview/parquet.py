"""Parquet previews over a RangeFile: footer, schema, statistics and rows, read lazily.

pyarrow does the decoding. What is ours is the reading plan: pyarrow streams column
chunks page by page (buffered stream, no pre-buffering of whole row groups), and before
the first rows are decoded we prefetch, in one coalesced batch of GETs, the dictionary
and first data page of each visible column. So the first rows of a 1 GiB file cost the
footer plus about one page per column, not the file.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from .cells import EPOCH
from .rangefile import RangeFile

HEAD_ROWS = 100
BLOCK_ROWS = 1000
STEP_BLOCKS = 16
STREAM_BUFFER = 64 * 1024
# Writers cut data pages at about 1 MiB of encoded values (parquet-mr, arrow, arrow-rs);
# a little over, since pyarrow checks the size once per batch of values it writes.
PAGE_BYTES = 1 << 20
PAGE_SLACK = 1.1
PAGE_HEADER = 16 * 1024
# Newer writers also end a page at 20,000 rows (parquet-java since 1.11, Arrow C++ since 22).
PAGE_ROWS = 20_000
_ROW_LIMITED = (("parquet-mr version ", (1, 11)), ("parquet-cpp-arrow version ", (22,)))


class PreviewError(Exception):
    """A file that cannot be previewed; the message says why, for the user."""


class NotParquet(PreviewError):
    """A file whose tail is not a Parquet file's: `problem` in the words `query` and `schema`
    use for it (footer.tail_problem: 'is not a Parquet file: it does not end in PAR1')."""

    def __init__(self, problem: str):
        super().__init__(f"This file {problem}.")
        self.problem = problem


@dataclass(frozen=True)
class SchemaNode:
    name: str
    type: str
    nullable: bool
    physical: str = ""          # Parquet physical type of a leaf column
    children: tuple["SchemaNode", ...] = ()


@dataclass(frozen=True)
class ChunkStats:
    row_group: int
    column: str
    rows: int
    compressed: int
    uncompressed: int
    compression: str
    encodings: str
    min: str
    max: str
    null_count: int | None


@dataclass(frozen=True)
class FileSummary:
    rows: int
    row_groups: int
    columns: int
    created_by: str
    format_version: str
    footer_bytes: int
    key_value: dict[str, str] = field(default_factory=dict)   # other metadata, as stored
    arrow_schema: str = ""                                      # ARROW:schema, decoded
    pandas: dict | None = None                                  # the pandas metadata, parsed


_UNIT_US = {"milliseconds": 1000, "microseconds": 1, "nanoseconds": 0.001}


def _stat_text(stats, name: str) -> str:
    if stats is None or not stats.has_min_max:
        return ""
    logical = stats.logical_type.to_json() if stats.logical_type is not None else ""
    if '"Type":"Timestamp"' in logical:
        # From the raw integer: pyarrow's own conversion imports pandas, half a second on first use.
        info = json.loads(logical)
        raw = getattr(stats, f"{name}_raw")
        when = EPOCH + dt.timedelta(microseconds=raw * _UNIT_US.get(info.get("timeUnit"), 1))
        return when.isoformat(sep=" ") if info.get("isAdjustedToUTC") else when.replace(tzinfo=None).isoformat(sep=" ")
    value = getattr(stats, name)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + value[:32].hex()
    return str(value)


@contextmanager
def _decoding(what: str):
    """pyarrow's errors about the bytes become PreviewErrors; errors of the reading itself
    (network, cancellation, a replaced object) pass through unchanged."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise PreviewError(f"{what}: {exc}") from exc


def _writer_rows_per_page(created_by: str) -> int | None:
    """The page row limit of the writer named in created_by, when it has one by default."""
    for prefix, since in _ROW_LIMITED:
        if created_by.startswith(prefix):
            version = created_by[len(prefix):].split(" ")[0]
            try:
                parts = tuple(int(p) for p in version.split("-")[0].split(".")[:len(since)])
            except ValueError:
                return None
            return PAGE_ROWS if parts >= since else None
    return None


def _chunk_start(col) -> int:
    """Where a column chunk begins: its dictionary page when it has one."""
    data = col.data_page_offset
    return min(data, col.dictionary_page_offset) if col.has_dictionary_page and col.dictionary_page_offset else data


def _schema_node(f: pa.Field, leaves) -> SchemaNode:
    """A field and its children; `leaves` yields the Parquet physical types of leaf columns,
    which come in the same depth-first order as the Arrow schema's leaves."""
    t = f.type
    if pa.types.is_struct(t):
        kids = [t.field(i) for i in range(t.num_fields)]
    elif pa.types.is_map(t):
        kids = [t.key_field, t.item_field]
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        kids = [t.value_field]
    else:
        kids = []
    children = tuple(_schema_node(k, leaves) for k in kids)
    return SchemaNode(f.name, str(t), f.nullable, "" if children else next(leaves, ""), children)


class ParquetPreview:
    """One Parquet object opened for preview. Calls are serialised: pyarrow's reader is not
    safe to drive from two threads, and the GUI calls from executor threads."""

    def __init__(self, source: RangeFile):
        if source.size == 0:
            raise PreviewError("This file is empty (0 bytes): there is nothing to preview.")
        self.source = source
        self._lock = threading.RLock()
        try:
            with _decoding("Not a readable Parquet file"):
                self._file = pq.ParquetFile(source, buffer_size=STREAM_BUFFER, pre_buffer=False)
        except PreviewError as exc:  # said as query and schema say it, when the tail tells why
            from ..lake.footer import TAIL, tail_problem

            if problem := tail_problem(source.size, source.read_range(max(0, source.size - TAIL), source.size)):
                raise NotParquet(problem) from exc
            raise
        self.metadata = self._file.metadata
        self.arrow_schema = self._file.schema_arrow
        self.column_names: list[str] = list(self.arrow_schema.names)
        self._page_rows = _writer_rows_per_page(self.metadata.created_by or "")
        self._offsets = [0]
        for i in range(self.metadata.num_row_groups):
            self._offsets.append(self._offsets[-1] + self.metadata.row_group(i).num_rows)
        self._blocks: OrderedDict[tuple, pa.RecordBatch] = OrderedDict()
        self._cursor: tuple | None = None   # (row group, columns, next block, batch iterator)

    @property
    def num_rows(self) -> int:
        return self.metadata.num_rows

    # metadata

    def summary(self) -> FileSummary:
        md = self.metadata
        kv = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in (md.metadata or {}).items()}
        pandas = None
        if "pandas" in kv:
            try:
                pandas = json.loads(kv.pop("pandas"))
            except ValueError:
                pass  # shown raw below
        arrow = ""
        if kv.pop("ARROW:schema", None) is not None:
            arrow = self.arrow_schema.remove_metadata().to_string(show_field_metadata=False)
        return FileSummary(md.num_rows, md.num_row_groups, md.num_columns, md.created_by or "",
                           md.format_version, md.serialized_size, kv, arrow, pandas)

    def schema(self) -> list[SchemaNode]:
        s = self.metadata.schema
        leaves = iter([s.column(i).physical_type for i in range(len(s))])
        return [_schema_node(f, leaves) for f in self.arrow_schema]

    def chunk_stats(self) -> list[ChunkStats]:
        out = []
        md = self.metadata
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                stats = col.statistics if col.is_stats_set else None
                out.append(ChunkStats(
                    g, col.path_in_schema, rg.num_rows, col.total_compressed_size, col.total_uncompressed_size,
                    col.compression, ", ".join(col.encodings), _stat_text(stats, "min"), _stat_text(stats, "max"),
                    stats.null_count if stats is not None and stats.has_null_count else None))
        return out

    # rows

    def head(self, columns: list[str] | None = None, n: int = HEAD_ROWS, row_group: int = 0) -> pa.Table:
        """The first `n` rows of `columns` in one row group (the first by default): one planned batch of GETs."""
        columns = self._columns(columns)
        if self.metadata.num_row_groups <= row_group or n <= 0:
            return self.arrow_schema.empty_table().select(columns)
        with self._lock:
            self.source.prefetch(self.first_pages(row_group, columns))
            with _decoding("This Parquet file cannot be read"):
                batches = self._file.iter_batches(batch_size=n, row_groups=[row_group], columns=columns,
                                                  use_threads=False)
                first = next(batches, None)
            return pa.Table.from_batches([first]) if first is not None \
                else self.arrow_schema.empty_table().select(columns)

    def first_pages(self, row_group: int, columns: list[str]) -> list[tuple[int, int]]:
        """Byte ranges holding the dictionary and first data page of each column chunk."""
        ranges = []
        rg = self.metadata.row_group(row_group)
        for c in range(rg.num_columns):
            col = rg.column(c)
            if not self._wanted(col.path_in_schema, columns):
                continue
            data = col.data_page_offset
            start = _chunk_start(col)
            end_chunk = start + col.total_compressed_size
            dictionary = data - start
            body = col.total_compressed_size - dictionary
            # A page ends at about PAGE_BYTES of encoded values, or at the writer's row limit.
            ratio = col.total_compressed_size / max(1, col.total_uncompressed_size)
            page = PAGE_BYTES * PAGE_SLACK * ratio
            if self._page_rows and col.num_values:
                page = min(page, body * PAGE_SLACK * (self._page_rows + 1024) / col.num_values)
            # pyarrow's stream reads whole buffers, so at least one buffer past the page start.
            page = max(int(page) + PAGE_HEADER, STREAM_BUFFER)
            ranges.append((start, min(end_chunk, data + page)))
        return ranges

    def block_of(self, row: int) -> tuple[int, int]:
        """(row group, block index within it) that holds file row `row`."""
        g = bisect.bisect_right(self._offsets, row) - 1
        return g, (row - self._offsets[g]) // BLOCK_ROWS

    def block_start(self, row_group: int, block: int) -> int:
        return self._offsets[row_group] + block * BLOCK_ROWS

    def block(self, row_group: int, block: int, columns: list[str] | None = None) -> pa.RecordBatch:
        """Rows [block*BLOCK_ROWS, +BLOCK_ROWS) of one row group. Scrolling down reads on from where the
        last block ended; a jump decodes only its own row group, up to the block asked for."""
        columns = self._columns(columns)
        key = (row_group, tuple(columns), block)
        with self._lock:
            if key in self._blocks:
                self._blocks.move_to_end(key)
                return self._blocks[key]
            cur = self._cursor
            # The cursor steps STEP_BLOCKS blocks at a time: a jump to row 1,000,000 then takes a few
            # dozen decoding steps rather than a thousand.
            target = block // STEP_BLOCKS
            if cur is None or cur[:2] != key[:2] or cur[2] > target:
                it = self._file.iter_batches(batch_size=BLOCK_ROWS * STEP_BLOCKS, row_groups=[row_group],
                                             columns=columns, use_threads=False)
                cur = (row_group, tuple(columns), 0, it)
            g, cols, step, it = cur
            while step <= target:
                with _decoding("This Parquet file cannot be read"):
                    batch = next(it, None)
                if batch is None:
                    break
                if step >= target - 1:  # keep the step asked for and the one before (scrolling back)
                    for i in range(0, batch.num_rows, BLOCK_ROWS):
                        self._remember((g, cols, step * STEP_BLOCKS + i // BLOCK_ROWS), batch.slice(i, BLOCK_ROWS))
                step += 1
            self._cursor = (g, cols, step, it)
            if key not in self._blocks:
                raise IndexError(f"row group {row_group} has no block {block}")
            return self._blocks[key]

    def column_table(self, columns: list[str]) -> pa.Table:
        """Whole-file read of just these columns (column pruning), e.g. a chart of every close."""
        columns = self._columns(columns)
        tables = []
        with self._lock:
            for g in range(self.metadata.num_row_groups):
                self.source.prefetch(self.chunk_ranges(g, columns))
                with _decoding("This Parquet file cannot be read"):
                    tables.append(self._file.read_row_group(g, columns=columns, use_threads=False))
        return pa.concat_tables(tables) if tables else self.arrow_schema.empty_table().select(columns)

    def chunk_ranges(self, row_group: int, columns: list[str]) -> list[tuple[int, int]]:
        rg = self.metadata.row_group(row_group)
        out = []
        for c in range(rg.num_columns):
            col = rg.column(c)
            if self._wanted(col.path_in_schema, columns):
                start = _chunk_start(col)
                out.append((start, start + col.total_compressed_size))
        return out

    def bytes_for(self, columns: list[str]) -> int:
        """Compressed bytes of these columns over the whole file: what a column read costs."""
        return sum(e - s for g in range(self.metadata.num_row_groups) for s, e in self.chunk_ranges(g, columns))

    # helpers

    def _columns(self, columns: list[str] | None) -> list[str]:
        if columns is None:
            return list(self.column_names)
        unknown = [c for c in columns if c not in self.column_names]
        if unknown:
            raise PreviewError(f"No column named {', '.join(unknown)} in this file.")
        return list(columns)

    @staticmethod
    def _wanted(path: str, columns: list[str]) -> bool:
        return any(path == c or path.startswith(c + ".") for c in columns)

    def _remember(self, key: tuple, batch: pa.RecordBatch) -> None:
        self._blocks[key] = batch
        while len(self._blocks) > 4 * STEP_BLOCKS:
            self._blocks.popitem(last=False)
