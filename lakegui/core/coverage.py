"""Lake coverage: which cells of a layout (symbol by year, say) hold objects, and which are missing.

One recursive, paginated listing of the template's prefix; each key is read back through the
template into its fields. Keys that do not match, or whose fields are not valid, are kept with
the reason, never dropped silently. Objects live in flat arrays (key, size, modified, row, column),
so the seeds' 75,000 keys cost a few MB; the matrix (count, bytes, newest per cell) is computed
from them with numpy when asked for, and live additions (finished uploads) are O(1).
"""

from __future__ import annotations

import csv
import io
import threading
from array import array
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from .lake.select import layout_root
from .layouts import LayoutTemplate, LocalPattern, validate_field
from .listing import PrefixLister


class CoverageCancelled(Exception):
    """The listing was stopped by its caller."""


@dataclass
class Matrix:
    """A snapshot: rows and columns in display order, and per-cell count, bytes and newest
    modification (seconds since the epoch, 0 where the cell is empty)."""

    rows_field: str
    cols_field: str
    rows: list[str]
    cols: list[str]
    count: np.ndarray
    bytes: np.ndarray
    newest: np.ndarray

    def missing(self) -> list[tuple[str, str]]:
        r, c = np.nonzero(self.count == 0)
        return [(self.rows[i], self.cols[j]) for i, j in zip(r.tolist(), c.tolist())]

    @property
    def present(self) -> int:
        return int(np.count_nonzero(self.count))


def _sort_values(values) -> list[str]:
    return sorted(values, key=lambda v: (0, int(v), v) if v.isdigit() else (1, 0, v))


class Coverage:
    def __init__(self, template: LayoutTemplate, bucket: str, prefix: str = "", *, rows_field: str = "",
                 cols_field: str = ""):
        fields = template.field_names
        self.template = template
        self.bucket = bucket
        self.prefix = layout_root(prefix, template)
        self.rows_field = rows_field or fields[0]
        self.cols_field = cols_field if cols_field or len(fields) < 2 else fields[1]
        for f in (self.rows_field, self.cols_field):
            if f and f not in fields:
                raise ValueError(f"the layout {template.name!r} has no field {f!r} (it has {', '.join(fields)})")
        if self.rows_field == self.cols_field:
            raise ValueError(f"the rows and the columns cannot both be {self.rows_field!r}: choose two fields "
                             f"of {', '.join(fields)}")
        self._pattern = LocalPattern(template.key_template)
        self._rows: list[str] = []
        self._row_at: dict[str, int] = {}
        self._cols: list[str] = []
        self._col_at: dict[str, int] = {}
        self.keys: list[str] = []
        self._key_at: dict[str, int] = {}
        self.sizes = array("q")
        self.modified = array("d")
        self._row_of = array("i")
        self._col_of = array("i")
        self.unmatched: list[tuple[str, str]] = []  # (key, why it is not a cell's)
        self.listed = 0

    @property
    def listing_prefix(self) -> str:
        return self.prefix + self.template.static_prefix

    def nothing_found(self) -> str:
        """'' when some key is a cell; else the line `query` ends with when no file matches (what
        was looked for, and what the listing found instead)."""
        if self.keys:
            return ""
        from .lake.checks import no_files_message
        from .lake.select import Selected, Selection

        found = Selected([], self.listed, self.listing_prefix, self.unmatched)
        return no_files_message(self.bucket, self.prefix, self.template, Selection(), found)

    def cell_of(self, key: str) -> tuple[str, str] | str:
        """(row, column) values of a key, or why it is not in the layout."""
        if not key.startswith(self.prefix):
            return "is outside the prefix"
        if key.endswith("/"):
            return "is a folder marker"
        fields = self._pattern.match(key[len(self.prefix):])
        if fields is None:
            return f"does not match {self.template.key_template!r}"
        problems = [p for p in (validate_field(k, v) for k, v in fields.items()) if p]
        if problems:
            return "; ".join(problems)
        return fields[self.rows_field], (fields[self.cols_field] if self.cols_field else "")

    def add(self, key: str, size: int, modified: float) -> tuple[str, str] | None:
        """Count one object; returns its cell, or None when it is not in the layout (kept in
        `unmatched`). A key seen before is updated, not counted twice."""
        cell = self.cell_of(key)
        if isinstance(cell, str):
            self.unmatched.append((key, cell))
            return None
        at = self._key_at.get(key)
        if at is not None:
            self.sizes[at], self.modified[at] = size, modified
            return cell
        self._key_at[key] = len(self.keys)
        self.keys.append(key)
        self.sizes.append(size)
        self.modified.append(modified)
        self._row_of.append(self._index(cell[0], self._rows, self._row_at))
        self._col_of.append(self._index(cell[1], self._cols, self._col_at))
        return cell

    def add_entries(self, objects) -> None:
        """Objects of a listing page (ObjectEntry)."""
        for o in objects:
            self.listed += 1
            self.add(o.key, o.size, o.last_modified.timestamp() if o.last_modified else 0.0)

    @staticmethod
    def _index(value: str, names: list[str], at: dict[str, int]) -> int:
        i = at.get(value)
        if i is None:
            i = at[value] = len(names)
            names.append(value)
        return i

    def matrix(self, rows: list[str] | None = None, cols: list[str] | None = None) -> Matrix:
        """The cells in display order. Rows are the values seen (plus `rows`, ones expected);
        a numeric column field (year) spans every value from its least to its greatest, so a year
        missing everywhere shows as a missing column."""
        row_names = _sort_values(set(self._rows) | set(rows or ()))
        col_names = set(self._cols) | set(cols or ())
        if col_names and all(c.isdigit() for c in col_names):
            numbers = [int(c) for c in col_names]
            width = max(len(c) for c in col_names)
            col_names |= {str(n).zfill(width) for n in range(min(numbers), max(numbers) + 1)}
        col_names = _sort_values(col_names) or [""]
        r_pos = {v: i for i, v in enumerate(row_names)}
        c_pos = {v: i for i, v in enumerate(col_names)}
        shape = (len(row_names), len(col_names))
        if not self.keys:
            return Matrix(self.rows_field, self.cols_field, row_names, col_names, np.zeros(shape, np.int32),
                          np.zeros(shape, np.int64), np.zeros(shape))
        # Insertion-order indices to display positions, then one flat cell number per object.
        r_map = np.array([r_pos[v] for v in self._rows], dtype=np.int64)
        c_map = np.array([c_pos[v] for v in self._cols], dtype=np.int64)
        flat = r_map[np.frombuffer(self._row_of, dtype=np.int32)] * shape[1] + \
            c_map[np.frombuffer(self._col_of, dtype=np.int32)]
        n = shape[0] * shape[1]
        count = np.bincount(flat, minlength=n).astype(np.int32).reshape(shape)
        size = np.bincount(flat, weights=np.frombuffer(self.sizes, dtype=np.int64), minlength=n)
        newest = np.zeros(n)
        np.maximum.at(newest, flat, np.frombuffer(self.modified, dtype=np.float64))
        return Matrix(self.rows_field, self.cols_field, row_names, col_names, count,
                      size.astype(np.int64).reshape(shape), newest.reshape(shape))

    def objects_in(self, row: str, col: str) -> list[tuple[str, int, float]]:
        """(key, size, modified) of the objects in one cell, by key."""
        r, c = self._row_at.get(row), self._col_at.get(col)
        if r is None or c is None:
            return []
        hits = np.nonzero((np.frombuffer(self._row_of, dtype=np.int32) == r)
                          & (np.frombuffer(self._col_of, dtype=np.int32) == c))[0]
        return sorted((self.keys[i], self.sizes[i], self.modified[i]) for i in hits.tolist())

    @property
    def total_bytes(self) -> int:
        return int(np.frombuffer(self.sizes, dtype=np.int64).sum()) if self.keys else 0


def compute_coverage(client, bucket: str, prefix: str, template: LayoutTemplate, *, rows_field: str = "",
                     cols_field: str = "", listing: dict | None = None, cancel: threading.Event | None = None,
                     on_page=None) -> Coverage:
    """List the template's prefix once, recursively, and place every key. `on_page(listed)` is
    called after each page; setting `cancel` stops between pages with CoverageCancelled."""
    cov = Coverage(template, bucket, prefix, rows_field=rows_field, cols_field=cols_field)
    for page in PrefixLister(client, bucket, cov.listing_prefix, recursive=True, **(listing or {})):
        if cancel is not None and cancel.is_set():
            raise CoverageCancelled()
        cov.add_entries(page.objects)
        if on_page is not None:
            on_page(cov.listed)
    return cov


def _iso(seconds: float) -> str | None:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat() if seconds else None


def to_json(cov: Coverage, m: Matrix) -> dict:
    """The matrix as one document: present cells with their figures, missing cells, and the keys
    that are not in the layout."""
    rf, cf = m.rows_field, m.cols_field or "column"
    cells = []
    for i, j in zip(*(a.tolist() for a in np.nonzero(m.count))):
        cells.append({rf: m.rows[i], cf: m.cols[j], "objects": int(m.count[i, j]), "bytes": int(m.bytes[i, j]),
                      "newest": _iso(float(m.newest[i, j]))})
    return {"bucket": cov.bucket, "prefix": cov.listing_prefix, "template": cov.template.name,
            "rows_field": rf, "cols_field": cf, "rows": m.rows,
            "cols": [c for c in m.cols if c] if m.cols_field else m.cols,  # not the grid's placeholder [""]
            "objects": len(cov.keys), "bytes": cov.total_bytes, "present": len(cells),
            "cells": cells, "missing": [{rf: r, cf: c} for r, c in m.missing()],
            "unmatched": {"count": len(cov.unmatched),
                          "keys": [{"key": k, "reason": why} for k, why in cov.unmatched]}}


def to_csv(m: Matrix) -> str:
    """One line per cell, missing ones included (present 0)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([m.rows_field, m.cols_field or "column", "present", "objects", "bytes", "newest"])
    for i, r in enumerate(m.rows):
        for j, c in enumerate(m.cols):
            n = int(m.count[i, j])
            w.writerow([r, c, 1 if n else 0, n, int(m.bytes[i, j]), _iso(float(m.newest[i, j])) or ""])
    return out.getvalue()
