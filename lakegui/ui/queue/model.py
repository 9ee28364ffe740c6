"""The transfer queue's item model: one row per job. The rows are the queue service's JobRow
objects (core/transfers/service.py), changed in place by it; the controller tells the model
which ones changed."""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QModelIndex, Qt

from ...core.transfers.jobs import advised
from ...core.transfers.service import JobRow
from ...core.units import human_duration, human_size
from ..resources import icon
from ..table_model import ColumnTableModel

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 10
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 11
SORT_ROLE = Qt.ItemDataRole.UserRole + 12  # what a column sorts by (names naturally: f2 before f10)
__all__ = ["FRACTION_ROLE", "JOB_ID_ROLE", "SORT_ROLE", "JobRow", "TransferTableModel", "natural_key"]

# Copy and move are the browser's Copy and Cut (and Paste) made server-side: their icons say so, not
# the download arrow every other direction falls back to.
_ICONS = {"upload": "upload", "copy": "copy", "move": "cut", "delete": "clear", "tag": "file", "restore": "refresh",
          "make-bucket": "folder"}
_ON_THE_SERVER = ("copy", "move")  # a lone one is named by its object's name, not its target's folder
# How the window replaces or keeps a target a job would not replace: the question it asks.
CONFLICT_ADVICE = "do it again and choose Replace all or Skip all existing"
_STATE_TEXT = {"queued": "Queued", "running": "Running", "paused": "Paused", "done": "Done", "failed": "Failed",
               "cancelled": "Cancelled", "skipped": "Skipped"}


_DIGITS = re.compile(r"(\d+)")
_SAME_CONTENT = re.compile(r"^(.+) exists with the same content$")  # a skip's message (core's wording)
# Running first, then what is still to run, then what ended: the rows a user watches on top.
_STATE_ORDER = {"running": 0, "queued": 1, "paused": 2, "failed": 3, "done": 4, "skipped": 5, "cancelled": 6}


def shown_fraction(r: JobRow) -> float:
    """The progress a row shows: 100% only once it is done (or skipped: there already). An upload paused with every part sent
    is not an object yet (its completion has not run), and a bar at 100% reads as done."""
    return r.fraction if r.state in ("done", "skipped") else min(r.fraction, 0.99)


def direction_text(direction: str) -> str:
    """The Direction cell's text: Upload, Download, Copy, Move, Delete, Tag, Restore, Make bucket."""
    return direction.replace("-", " ").capitalize()


def state_text(r: JobRow) -> str:
    """The State cell's text."""
    text = _STATE_TEXT.get(r.state, r.state)
    if r.error and r.state in ("failed", "skipped"):
        said = advised(r.error, CONFLICT_ADVICE)
        if r.uri.startswith("s3://") and r.uri.count("/") >= 3 and not r.uri.endswith("/"):
            # The row's own object by its name (its URI is in the tooltip): the full URI, cut in
            # the middle, hid what happened ("Skipped: s3://ve…tays where it is").
            said = said.replace(r.uri, r.uri.rsplit("/", 1)[-1])
        same = _SAME_CONTENT.match(said)
        if same:  # the gist first: elided, "Skipped: note26…he same content" hid what happened
            said = f"already there with the same content ({same.group(1)})"
        return f"{text}: {said}"
    if r.state == "paused" and r.bytes_total and r.bytes_done >= r.bytes_total:  # sent, not completed
        moved = {"upload": "all sent", "download": "all received"}.get(r.direction, "all copied")
        return f"{text} ({moved}, not completed: Resume finishes it)"
    return text


def natural_key(text: str) -> tuple:
    """A sort key that orders the numbers in names by value: f1, f2, f10, f100 (case ignored)."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _path(r: JobRow) -> str:
    """The path a row is named by: the object's key for a download, the local file's for an upload."""
    if r.direction == "upload":
        return r.local_path.replace("\\", "/")
    return r.uri.split("/", 3)[3] if r.uri.count("/") >= 3 else r.name


def _common_folder(a: str, b: str) -> str:
    """The longest folder ('x/y/', or '') both folder paths start with."""
    n = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            break
        if x == "/":
            n = i + 1
    return a[:n]


class TransferTableModel(ColumnTableModel):
    COLUMNS = ("Name", "Direction", "Size", "Progress", "Speed", "ETA", "State")
    PROGRESS_COLUMN = 3

    def __init__(self, parent=None):
        super().__init__(parent)
        self._index: dict[int, int] = {}  # job id -> row
        # Per batch: the folder its rows' paths share, and how many rows it has. A row is named
        # by its path below that folder, so five ticks.parquet downloads read AAPL/2024/ticks.parquet
        # and so on; a batch of one shows its file's parent folder too.
        self._roots: dict[int, list] = {}  # batch id -> [folder, rows]
        # The header's sort: (column, order), or None for the order the jobs were queued in. Rows are
        # ordered when it is chosen and when rows arrive; a row whose state or progress changes keeps
        # its place, so the row being watched does not jump.
        self._sort: tuple[int, Qt.SortOrder] | None = None

    def row(self, i: int) -> JobRow:
        """The row shown at position i."""
        return self._rows[i]

    def row_for(self, job_id: int) -> JobRow | None:
        i = self._index.get(job_id)
        return self._rows[i] if i is not None else None

    def append_rows(self, rows: list) -> int:
        first = len(self._rows)
        self._add_roots(rows)
        n = super().append_rows(rows)
        for i, r in enumerate(rows, first):
            self._index[r.job_id] = i
        if n and self._sort is not None:  # the new rows go where the sort puts them
            self._reorder()
        return n

    def set_rows(self, rows: list[JobRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._roots = {}
        self._add_roots(self._rows)
        if self._sort is not None:
            self._rows.sort(key=self._sort_key(self._sort[0]), reverse=self._sort[1] == Qt.SortOrder.DescendingOrder)
        self._index = {r.job_id: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    # sorting

    def sort_value(self, r: JobRow, column: int):
        """What `column` sorts `r` by (its SORT_ROLE)."""
        if column == 0:
            return natural_key(self.display_name(r))
        if column == 1:
            return r.direction
        if column == 2:
            return r.bytes_total
        if column == 3:
            return r.fraction
        if column == 4:
            return r.speed if r.state == "running" else 0.0
        if column == 5:
            return math.inf if r.eta is None else r.eta
        return _STATE_ORDER.get(r.state, len(_STATE_ORDER))

    def _sort_key(self, column: int):
        if column < 0:
            return lambda r: r.job_id
        value = self.sort_value
        return lambda r: (value(r, column), r.job_id)  # ties in queue order: the order is total

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by `column` (-1: as queued); selections and the current row follow their jobs."""
        wanted = (column, order) if 0 <= column < len(self.COLUMNS) else None
        if wanted is None and self._sort is None:
            return  # in queue order already
        self._sort = wanted
        self._reorder()

    def _reorder(self) -> None:
        self.layoutAboutToBeChanged.emit()
        kept = [(i, self._rows[i.row()].job_id) for i in self.persistentIndexList() if i.isValid()]
        column, order = self._sort or (-1, Qt.SortOrder.AscendingOrder)
        self._rows.sort(key=self._sort_key(column), reverse=order == Qt.SortOrder.DescendingOrder)
        self._index = {r.job_id: i for i, r in enumerate(self._rows)}
        self.changePersistentIndexList([i for i, _ in kept],
                                       [self.index(self._index[job_id], i.column()) for i, job_id in kept])
        self.layoutChanged.emit()

    def _add_roots(self, rows) -> None:
        roots = self._roots
        for r in rows:
            path = _path(r)
            folder = path[:path.rfind("/") + 1]
            root = roots.get(r.batch_id)
            if root is None:
                roots[r.batch_id] = [folder, 1]
            else:
                if not folder.startswith(root[0]):
                    root[0] = _common_folder(root[0], folder)
                root[1] += 1

    def display_name(self, r: JobRow) -> str:
        """The row's path below its batch's common folder (with the parent folder for a lone file;
        a lone copy or move is its object's name, as core's display_name: the folder it went to is
        what it changed, and the tooltip says it)."""
        path = _path(r)
        root = self._roots.get(r.batch_id)
        if root is None:
            return r.name
        folder, n = root
        if n == 1 and r.direction in _ON_THE_SERVER:
            return r.name or path.rsplit("/", 1)[-1]
        cut = path.rfind("/", 0, path.rfind("/")) + 1 if n == 1 else len(folder)
        return path[cut:] or r.name

    MAX_REMOVED_RUNS = 64  # more separate runs of removed rows than this: one reset instead

    def remove_ids(self, ids) -> None:
        """Take these jobs' rows out. A few runs of rows go with remove notifications, so the
        selection and the scroll position stay; many scattered ones with one reset."""
        positions = sorted(self._index[j] for j in set(ids) if j in self._index)
        if not positions:
            return
        runs: list[list[int]] = []
        for i in positions:
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        if len(runs) > self.MAX_REMOVED_RUNS:
            gone = {self._rows[i].job_id for i in positions}
            self.set_rows([r for r in self._rows if r.job_id not in gone])
            return
        index = self._index
        for first, last in reversed(runs):  # from the bottom: the rows above keep their places
            self.beginRemoveRows(QModelIndex(), first, last)
            for r in self._rows[first:last + 1]:
                del index[r.job_id]
            del self._rows[first:last + 1]
            for i in range(first, len(self._rows)):  # right before listeners hear of it
                index[self._rows[i].job_id] = i
            self.endRemoveRows()
        roots, self._roots = self._roots, {}
        self._add_roots(self._rows)
        if roots != self._roots and self._rows:  # names below a batch's folder may have grown
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

    def rows_changed(self, job_ids) -> None:
        """Repaint the rows of these jobs (their JobRow objects were changed in place)."""
        rows = sorted(self._index[j] for j in job_ids if j in self._index)
        if rows:
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], len(self.COLUMNS) - 1))

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return self.display_name(r)
            if col == 1:
                return direction_text(r.direction)

            if col == 2:
                return human_size(r.bytes_total)
            if col == 3:
                return "" if r.state == "skipped" else f"{shown_fraction(r):.0%}"
            if col == 4:
                return f"{human_size(r.speed)}/s" if r.speed and r.state == "running" else ""
            if col == 5:
                return human_duration(r.eta)
            if col == 6:
                return state_text(r)
        elif role == Qt.ItemDataRole.DecorationRole and col == 1:
            return icon(_ICONS.get(r.direction, "download"))
        elif role == Qt.ItemDataRole.ToolTipRole:
            # A copy's local_path is its source's URI: from, then to.
            lines = [f"{r.local_path} → {r.uri}"] if r.direction in _ON_THE_SERVER else [r.uri, r.local_path]
            if col == 6:  # the State cell's whole text first: the column is often too narrow for it
                lines.insert(0, self.data(index))
            elif r.error:
                lines.append(advised(r.error, CONFLICT_ADVICE))
            if r.attempts > 1:
                lines.append(f"{r.attempts} attempts")
            return "\n".join(lines)
        elif role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == FRACTION_ROLE:
            # A skipped job moved nothing, and was never going to: no bar (a 0% one read as stuck).
            return None if r.state == "skipped" else shown_fraction(r)
        elif role == Qt.ItemDataRole.UserRole and col == self.PROGRESS_COLUMN:
            return shown_fraction(r)
        elif role == SORT_ROLE:
            return self.sort_value(r, col)
        elif role == JOB_ID_ROLE:
            return r.job_id
        return None

