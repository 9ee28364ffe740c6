"""What the Query window shows and keeps: the query as the user built it (fields, columns,
filter), the Python that runs the same query, a lazy rows model over streamed Arrow batches, and
the per-symbol series of a numeric column for the chart."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from ...core.lake.select import NUMERIC_FIELDS, FieldChoice, Selection

BLOCK = 500   # rows turned into Python values per fetchMore: a view never converts a whole result


@dataclass
class QuerySpec:
    """One query of one layout: the chosen values of each field (none chosen: every value), the
    columns (empty: all) and the filter text."""

    template: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    filter: str = ""

    def selection(self) -> Selection:
        return Selection({k: FieldChoice(values=frozenset(v)) for k, v in self.fields.items() if v})

    def python(self, *, bucket: str, endpoint_url: str = "", profile: str = "", region: str = "",
               prefix: str = "") -> str:
        """The lakegui.Lake code that reads the same rows (see docs/PYTHON.md)."""
        connect = [f"bucket={bucket!r}", f"endpoint_url={endpoint_url or None!r}", f"profile={profile or None!r}"]
        if region and region != "us-east-1":
            connect.append(f"region={region!r}")
        if prefix:
            connect.append(f"prefix={prefix!r}")
        args = [repr(self.template)]
        for name, values in self.fields.items():
            if values:
                args.append(f"{name}={_python_values(name, values)}")
        if self.columns:
            args.append(f"columns={list(self.columns)!r}")
        if self.filter.strip():
            args.append(f"filter={self.filter.strip()!r}")
        return ("from lakegui import Lake\n\n"
                f"lake = Lake.connect({', '.join(connect)})\n"
                f"df = lake.read({', '.join(args)})\n")


def cells_query(cells: list[dict[str, str]], names: list[str]) -> tuple[dict[str, list[str]], str]:
    """Exactly these cells (field values, in the template's field order `names`) as a query: the
    values of each field, and when the cells are not every combination of those values a filter
    on the fields that keeps only them (KO 2022 and PEP 2023 must not also read KO 2023)."""
    cells = [{n: str(c[n]) for n in names if n in c} for c in cells]
    # A field some cell leaves open (a folder: every year of NVDA) is not narrowed by the pickers.
    fields = {n: sorted({c[n] for c in cells}, key=_sort_key) for n in names
              if cells and all(n in c for c in cells)}
    distinct = {tuple(sorted(c.items())) for c in cells}
    product = 1
    for values in fields.values():
        product *= len(values)
    if len(distinct) == product and all(len(c) == len(fields) for c in cells):
        return fields, ""
    return fields, _cells_filter([dict(c) for c in distinct], [n for n in names if any(n in c for c in cells)])


def _cells_filter(cells: list[dict[str, str]], names: list[str]) -> str:
    """`a in (…) AND (…) OR …`: the cells grouped by their first field, values with the same rest
    sharing a term. A cell without a later field (a folder: every year of NVDA) leaves it open."""
    if not names or any(not c for c in cells):
        return ""
    name, rest = names[0], names[1:]
    if any(name not in c for c in cells):   # a gap before a later field: too irregular to narrow
        return ""
    subs: dict[str, list[dict]] = {}
    for c in cells:
        subs.setdefault(c[name], []).append({k: v for k, v in c.items() if k != name})
    by_rest: dict[str, list[str]] = {}
    for value, sub in subs.items():
        by_rest.setdefault(_cells_filter(sub, rest), []).append(value)
    terms = []
    for inner, values in sorted(by_rest.items(), key=lambda kv: _sort_key(min(kv[1], key=_sort_key))):
        values = sorted(values, key=_sort_key)
        term = f"{name} = {_filter_value(values[0])}" if len(values) == 1 else \
            f"{name} in ({', '.join(_filter_value(v) for v in values)})"
        if inner:
            term += f" AND ({inner})" if " OR " in inner else f" AND {inner}"
        terms.append(term)
    if len(terms) > 1:
        terms = [f"({t})" if " AND " in t else t for t in terms]
    return " OR ".join(terms)


def _sort_key(v: str):
    return (0, int(v), v) if v.isdigit() else (1, 0, v)


def _filter_value(value: str) -> str:
    """A field value as filter text: numbers and plain words bare, anything else quoted."""
    import re

    if re.fullmatch(r"[A-Za-z0-9_.:\-]+", value):
        return value
    return "'" + value.replace("'", "''") + "'"


def _python_values(name: str, values: list[str]) -> str:
    """A field's values as Python: one value bare, a run of years as a range, else a list."""
    if name in NUMERIC_FIELDS and all(v.isdigit() for v in values):
        numbers = sorted({int(v) for v in values})
        same_width = all(str(int(v)) == v for v in values)   # "01" must stay text to be matched as 01
        if same_width:
            if len(numbers) == 1:
                return repr(numbers[0])
            if numbers == list(range(numbers[0], numbers[-1] + 1)):
                return f"range({numbers[0]}, {numbers[-1] + 1})"
            return repr(numbers)
    ordered = sorted(values)
    return repr(ordered[0]) if len(ordered) == 1 else repr(ordered)


class RowsModel(QAbstractTableModel):
    """Rows of a result as they stream in, one Arrow batch per file. Rows are shown a block at a
    time (canFetchMore/fetchMore): the view asks for more as it scrolls, and only those rows are
    turned into Python values."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[str] = []
        self._batches: list = []        # pyarrow RecordBatches, in file order
        self._starts: list[int] = []    # first row of each batch
        self.total = 0                  # rows received
        self._shown = 0                 # rows the view has been given
        self._cache: dict[int, list] = {}   # block number -> rows (lists of Python values)

    def clear(self, columns: list[str] | None = None) -> None:
        self.beginResetModel()
        self.columns = list(columns or [])
        self._batches, self._starts, self._cache = [], [], {}
        self.total = self._shown = 0
        self.endResetModel()

    def add_batch(self, batch) -> None:
        """Append one file's rows; the first batch with columns sets them."""
        if batch is None or batch.num_rows == 0:
            if batch is not None and not self.columns:
                self._set_columns(batch.schema.names)
            return
        if not self._batches and (not self.columns or set(batch.schema.names) != set(self.columns)):
            self._set_columns(batch.schema.names)
        self._starts.append(self.total)
        self._batches.append(batch)
        self.total += batch.num_rows
        if self._shown < BLOCK:   # the first block fills as files arrive; the view asks for the rest
            self._show(min(self.total, BLOCK) - self._shown)

    def _set_columns(self, names) -> None:
        self.beginResetModel()
        self.columns = list(names)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._shown < self.total

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid():
            return
        self._show(min(BLOCK, self.total - self._shown))

    def _show(self, n: int) -> None:
        if n <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + n - 1)
        self._shown += n
        self.endInsertRows()

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section] if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def row(self, r: int) -> list:
        """Row `r` as Python values, in `columns` order (None where a file lacks a column)."""
        block = r // BLOCK
        rows = self._cache.get(block)
        if rows is None:
            if len(self._cache) > 64:   # a few thousand rows kept; scrolling back converts again
                self._cache.clear()
            rows = self._cache[block] = self._convert(block * BLOCK, min(self.total, (block + 1) * BLOCK))
        return rows[r - block * BLOCK]

    def _convert(self, start: int, stop: int) -> list[list]:
        import bisect

        out = []
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while start < stop and i < len(self._batches):
            b, first = self._batches[i], self._starts[i]
            lo, hi = start - first, min(b.num_rows, stop - first)
            part = b.slice(lo, hi - lo)
            cols = [part.column(c).to_pylist() if c in part.schema.names else [None] * part.num_rows
                    for c in self.columns]
            out.extend(list(r) for r in zip(*cols)) if cols else out.extend([] for _ in range(part.num_rows))
            start = first + hi
            i += 1
        return out

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.TextAlignmentRole):
            return None
        v = self.row(index.row())[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:,.6g}" if abs(v) < 1e15 else f"{v:.6g}"
        return str(v)


@dataclass
class SymbolSeries:
    name: str
    seconds: np.ndarray    # epoch seconds, ascending
    values: np.ndarray


def time_column(schema) -> str | None:
    """The first date or timestamp column of a result."""
    import pyarrow as pa

    for f in schema:
        if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type):
            return f.name
    return None


def numeric_columns(schema, skip=()) -> list[str]:
    import pyarrow as pa

    return [f.name for f in schema if f.name not in skip and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                                                            or pa.types.is_decimal(f.type))]


def series_by(table, time: str, value: str, by: str | None) -> tuple[list[SymbolSeries], str | None]:
    """One series per value of `by` (the symbol), across all the files read: (series, zone of
    the time column). Rows with no time or value are left out; each series is in time order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = table.column(time)
    zone = getattr(t.type, "tz", None)
    if pa.types.is_date(t.type):
        t = t.cast(pa.date32()).cast(pa.int32())
        seconds = t.to_numpy(zero_copy_only=False).astype("float64") * 86400.0
    else:
        seconds = t.cast(pa.timestamp("ms", tz=zone)).cast(pa.int64()).to_numpy(zero_copy_only=False) / 1000.0
    values = pc.cast(table.column(value), pa.float64()).to_numpy(zero_copy_only=False)
    groups = table.column(by).to_pylist() if by and by in table.column_names else [None] * len(values)
    valid = np.asarray(pc.and_(pc.is_valid(table.column(time)), pc.is_valid(table.column(value)))
                       .to_numpy(zero_copy_only=False), dtype=bool)
    names = sorted({g for g, ok in zip(groups, valid) if ok}, key=lambda g: (g is None, str(g)))
    arr = np.asarray(groups, dtype=object)
    out = []
    for g in names:
        m = valid & (arr == g)
        s, v = seconds[m], values[m]
        order = np.argsort(s, kind="stable")
        out.append(SymbolSeries(str(g) if g is not None else value, s[order], v[order]))
    return out, zone


def fields_of_keys(layouts: dict, keys: list[str], prefix: str = "") -> tuple[str, dict[str, list[str]]] | None:
    """The layout most of `keys` belong to, and the values of its fields those keys hold (as
    "Query these…" from a browser selection asks); None when no key is in any layout. A folder
    (a key ending in '/') holds the fields its depth of the template names (`…/daily/NVDA/`: symbol
    NVDA, every year), once it is at least as deep as the template's fixed part."""
    from ...core.layouts import LocalPattern

    best = None
    for name in sorted(layouts):
        template = layouts[name].key_template
        pattern = LocalPattern(template)
        fixed = template[: template.find("{")].count("/") if "{" in template else template.count("/")
        values: dict[str, set] = {}
        hits = 0
        for key in keys:
            relative = key[len(prefix):] if key.startswith(prefix) else key
            depth = relative.count("/")
            if relative.endswith("/"):
                fields = LocalPattern("/".join(template.split("/")[:depth]) + "/").match(relative) \
                    if fixed <= depth <= template.count("/") else None
            else:
                fields = pattern.match(relative)
            if fields is None:
                continue
            hits += 1
            for k, v in fields.items():
                values.setdefault(k, set()).add(v)
        if hits and (best is None or hits > best[0]):
            best = (hits, name, {k: sorted(v) for k, v in values.items()})
    return (best[1], best[2]) if best else None
