"""Row filters as typed text: `volume > 50000000 AND (symbol = AAPL OR close <= 120.5)`.

Comparisons are `column op value` with =, !=, <, <=, >, >= (also == and <>), `column in (a, b)`,
`column not in (...)`, `column is null` and `column is not null`, combined with AND and OR
(AND binds tighter) and parentheses. Values are numbers, 'quoted' or "quoted" text, true/false,
or bare words (AAPL, 2024-01-31). Nulls never match a comparison, as in SQL.

A parsed filter does two things: it says whether a row group can hold a matching row, from
the row group's statistics (so the row group is never read when it cannot), and it becomes a
pyarrow.compute expression for the rows that were read. A column a file lacks counts as all
nulls in that file.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import struct
from dataclasses import dataclass

OPS = ("=", "!=", "<", "<=", ">", ">=")
_ALIASES = {"==": "=", "<>": "!="}
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<quoted>`[^`]+`)
    | (?P<op><=|>=|!=|<>|==|=|<|>)
    | (?P<punct>[(),\[\]{}])
    | (?P<word>[^\s(),\[\]{}=<>!'"`]+)
    )""", re.VERBOSE)
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_CLOSE = {"(": ")", "[": "]", "{": "}"}


class FilterError(ValueError):
    """The filter text cannot be parsed; the message says where and why."""


class Absent:
    """Stands for a column the file does not have: all nulls."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


@dataclass(frozen=True)
class ColumnStats:
    """What a row group's statistics say about one column, values already comparable with the
    filter's (see `coerce`). min/max are None when the writer kept none."""

    min: object
    max: object
    null_count: int | None
    num_values: int


class Node:
    def columns(self) -> set[str]:
        raise NotImplementedError

    def may_match(self, stats: dict) -> bool:
        """False only when no row described by `stats` ({column: ColumnStats | ABSENT}; a column
        not in it is unknown) can match."""
        raise NotImplementedError

    def expression(self, schema):
        """The filter as a pyarrow.compute expression over a table of `schema`."""
        raise NotImplementedError

    def mask(self, table):
        """Which rows of `table` match: a boolean array (null where unknown), or a boolean scalar
        for all of them. Computed with pyarrow.compute kernels directly: Table.filter with an
        expression plans an Acero query each time, about 1.3 ms a file."""
        raise NotImplementedError


@dataclass(frozen=True)
class Compare(Node):
    column: str
    op: str
    value: object

    def columns(self) -> set[str]:
        return {self.column}

    def may_match(self, stats: dict) -> bool:
        s = stats.get(self.column)
        if s is None:
            return True
        if s is ABSENT or (s.null_count is not None and s.null_count >= s.num_values):
            return False
        if s.min is None or s.max is None:
            return True
        try:
            v = coerce(self.value, s.min)
            lo, hi, op = s.min, s.max, self.op
            if op == "=":
                return lo <= v <= hi
            if op == "!=":
                return not (lo == hi == v)
            if op == "<":
                return lo < v
            if op == "<=":
                return lo <= v
            if op == ">":
                return hi > v
            return hi >= v
        except (TypeError, ValueError):
            return True  # not comparable with these statistics: read it, the rows decide

    def expression(self, schema):
        import pyarrow.compute as pc

        if self.column not in schema.names or _is_null(schema.field(self.column).type):
            return pc.scalar(False)
        f, v = pc.field(self.column), literal(self.value, schema.field(self.column).type)
        return {"=": f == v, "!=": f != v, "<": f < v, "<=": f <= v, ">": f > v, ">=": f >= v}[self.op]

    def mask(self, table):
        import pyarrow as pa
        import pyarrow.compute as pc

        col = _column(table, self.column)
        if col is None:
            return scalar(False, pa.bool_())
        v = literal(self.value, col.type)
        fn = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
              ">=": pc.greater_equal}[self.op]
        return fn(col, v)


@dataclass(frozen=True)
class In(Node):
    column: str
    values: tuple
    negated: bool = False

    def columns(self) -> set[str]:
        return {self.column}

    def may_match(self, stats: dict) -> bool:
        s = stats.get(self.column)
        if s is None:
            return True
        if s is ABSENT or (s.null_count is not None and s.null_count >= s.num_values):
            return False
        if s.min is None or s.max is None:
            return True
        try:
            values = [coerce(v, s.min) for v in self.values]
            if self.negated:
                return not (s.min == s.max and s.min in values)
            return any(s.min <= v <= s.max for v in values)
        except (TypeError, ValueError):
            return True

    def expression(self, schema):
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.column not in schema.names or _is_null(schema.field(self.column).type):
            return pc.scalar(False)
        t = schema.field(self.column).type
        values = pa.array([literal(v, t).as_py() for v in self.values], type=t)
        hit = pc.field(self.column).isin(values)
        # isin is false (not null) for a null value; `not in` must not match nulls either.
        return (~hit & pc.field(self.column).is_valid()) if self.negated else hit

    def mask(self, table):
        import pyarrow as pa
        import pyarrow.compute as pc

        col = _column(table, self.column)
        if col is None:
            return scalar(False, pa.bool_())
        values = array_of([literal(v, col.type).as_py() for v in self.values], col.type)
        hit = pc.is_in(col, value_set=values)
        return pc.and_(pc.invert(hit), pc.is_valid(col)) if self.negated else hit


@dataclass(frozen=True)
class IsNull(Node):
    column: str
    negated: bool = False

    def columns(self) -> set[str]:
        return {self.column}

    def may_match(self, stats: dict) -> bool:
        s = stats.get(self.column)
        if s is None:
            return True
        if s is ABSENT:
            return not self.negated
        if s.null_count is None:
            return True
        return s.null_count < s.num_values if self.negated else s.null_count > 0

    def expression(self, schema):
        import pyarrow.compute as pc

        if self.column not in schema.names:
            return pc.scalar(not self.negated)
        f = pc.field(self.column)
        return f.is_valid() if self.negated else f.is_null()

    def mask(self, table):
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.column not in table.column_names:
            return scalar(not self.negated, pa.bool_())
        col = table[self.column]
        return pc.is_valid(col) if self.negated else pc.is_null(col)


@dataclass(frozen=True)
class Junction(Node):
    """Parts joined by AND or OR: the subclass names the Kleene kernel and the expression operator."""

    parts: tuple
    kernel = ""  # pyarrow.compute's and_kleene / or_kleene: nulls as unknown, as SQL
    join = staticmethod(lambda a, b: a)

    def columns(self) -> set[str]:
        return set().union(*(p.columns() for p in self.parts))

    def mask(self, table):
        import pyarrow.compute as pc

        kernel = getattr(pc, self.kernel)
        return functools.reduce(kernel, (p.mask(table) for p in self.parts))

    def expression(self, schema):
        return functools.reduce(self.join, (p.expression(schema) for p in self.parts))


@dataclass(frozen=True)
class And(Junction):
    kernel = "and_kleene"
    join = staticmethod(operator.and_)

    def may_match(self, stats: dict) -> bool:
        return all(p.may_match(stats) for p in self.parts)


@dataclass(frozen=True)
class Or(Junction):
    kernel = "or_kleene"
    join = staticmethod(operator.or_)

    def may_match(self, stats: dict) -> bool:
        return any(p.may_match(stats) for p in self.parts)


# values

def _column(table, name: str):
    """The column to compare (dictionaries decoded), or None when the table has none by that
    name or it holds only nulls (no value then matches a comparison)."""
    import pyarrow as pa

    if name not in table.column_names:
        return None
    col = table[name]
    if pa.types.is_null(col.type):
        return None
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col


def apply(node: Node, table):
    """The rows of `table` that `node` matches (nulls never do)."""
    import pyarrow as pa

    m = node.mask(table)
    if isinstance(m, pa.Scalar):
        return table if m.as_py() else table.slice(0, 0)
    return table.filter(m)


def _is_null(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_null(arrow_type)


def _word_value(word: str):
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word):
        return float(word)
    low = word.lower()
    if low in ("true", "false"):
        return low == "true"
    return word


def coerce(value, like):
    """`value` as the Python type of `like` (a statistics value), so they compare."""
    if isinstance(like, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        return bool(value)
    if isinstance(like, (int, float)):
        if isinstance(value, str):
            return float(value) if not _INT.fullmatch(value) else int(value)
        return value
    if isinstance(like, dt.datetime):
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        if (like.tzinfo is None) != (when.tzinfo is None):
            when = when.replace(tzinfo=None) if like.tzinfo is None else when.replace(tzinfo=dt.timezone.utc)
        return when
    if isinstance(like, dt.date):
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if isinstance(like, bytes):
        return value if isinstance(value, bytes) else str(value).encode("utf-8")
    if isinstance(like, str):
        return value if isinstance(value, str) else _text(value)
    return value


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def literal(value, arrow_type):
    """`value` as a pyarrow scalar of the column's type; FilterError when it cannot be one."""
    import pyarrow as pa

    try:
        if pa.types.is_dictionary(arrow_type):
            arrow_type = arrow_type.value_type
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return scalar(value if isinstance(value, str) else _text(value), arrow_type)
        if pa.types.is_timestamp(arrow_type):
            when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            if arrow_type.tz and when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            elif not arrow_type.tz and when.tzinfo is not None:
                when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return scalar(when, arrow_type)
        if pa.types.is_date(arrow_type):
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            return scalar(day, arrow_type)
        if pa.types.is_boolean(arrow_type):
            return scalar(coerce(value, True), arrow_type)
        if pa.types.is_integer(arrow_type) and isinstance(value, float) and not value.is_integer():
            return scalar(value, pa.float64())  # 10.5 against an int column compares as a number
        if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
            if isinstance(value, str):
                value = coerce(value, 0)
            return scalar(value, arrow_type if not isinstance(value, float) or not pa.types.is_integer(arrow_type)
                             else pa.float64())
        return scalar(value, arrow_type)
    except (ValueError, TypeError, pa.ArrowException) as exc:
        raise FilterError(f"{value!r} cannot be compared with a {arrow_type} column ({exc})") from None


def scalar(value, arrow_type):
    """`value` as a pyarrow scalar of `arrow_type`. The usual types are built from their bytes:
    pyarrow's conversion of a Python value first asks whether it is a pandas object, and so
    imports pandas (0.3 s and more, beyond a whole query) in processes that never use it, such
    as `lakegui-cli query`. Other types, and values the bytes cannot hold, go to pa.scalar
    (which also raises what it raises)."""
    import pyarrow as pa

    one = _one(value, arrow_type)
    return one[0] if one is not None else pa.scalar(value, arrow_type)


def array_of(values: list, arrow_type):
    """`values` as a pyarrow array of `arrow_type` (as scalar() builds them)."""
    import pyarrow as pa

    parts = [_one(v, arrow_type) for v in values]
    if values and all(p is not None for p in parts):
        return pa.concat_arrays(parts)
    return pa.array(values, type=arrow_type)


def constant(value, arrow_type, n: int):
    """`value` repeated `n` times as a pyarrow array (int32 or string: the template's fields)."""
    import pyarrow as pa

    if pa.types.is_int32(arrow_type) and isinstance(value, int):
        return pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(struct.pack("<i", value) * n)])
    if pa.types.is_string(arrow_type) and isinstance(value, str):
        data = value.encode("utf-8")
        offsets = struct.pack(f"<{n + 1}i", *range(0, (n + 1) * len(data), len(data))) if data else bytes(4 * (n + 1))
        return pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])
    return pa.repeat(pa.scalar(value, arrow_type), n)


_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=dt.timezone.utc)
_TIME_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _one(value, t):
    """A one-value array of type `t` built from bytes, or None (then pyarrow converts)."""
    import pyarrow as pa

    types = pa.types
    try:
        if types.is_boolean(t) and isinstance(value, bool):
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(bytes([value]))])
        if types.is_integer(t) and isinstance(value, int) and not isinstance(value, bool):
            code = {8: "b", 16: "h", 32: "i", 64: "q"}[t.bit_width]
            code = code if types.is_signed_integer(t) else code.upper()
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(struct.pack("<" + code, value))])
        if (types.is_float32(t) or types.is_float64(t)) and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            code = "f" if types.is_float32(t) else "d"
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(struct.pack("<" + code, value))])
        if (types.is_string(t) or types.is_large_string(t)) and isinstance(value, str):
            data = value.encode("utf-8")
            code = "q" if types.is_large_string(t) else "i"
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(struct.pack(f"<2{code}", 0, len(data))),
                                               pa.py_buffer(data)])
        if types.is_date32(t) and type(value) is dt.date:
            days = (value - _EPOCH.date()).days
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(struct.pack("<i", days))])
        if types.is_timestamp(t) and isinstance(value, dt.datetime):
            since = value - (_EPOCH_UTC if value.tzinfo is not None else _EPOCH)
            micros = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
            per_second = _TIME_UNITS[t.unit]
            if per_second >= 1_000_000:
                ticks = micros * (per_second // 1_000_000)
            elif micros % (1_000_000 // per_second):
                return None     # finer than the unit: pyarrow says how it handles that
            else:
                ticks = micros // (1_000_000 // per_second)
            return pa.Array.from_buffers(t, 1, [None, pa.py_buffer(struct.pack("<q", ticks))])
    except (struct.error, OverflowError, KeyError):
        return None
    return None


# parsing

def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected {text[pos:].strip()[:20]!r} at character {pos + 1}")
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "str":
            q = raw[0]
            out.append(("str", raw[1:-1].replace(q + q, q), m.start(kind)))
        elif kind == "quoted":
            out.append(("name", raw[1:-1], m.start(kind)))
        elif kind == "op":
            out.append(("op", _ALIASES.get(raw, raw), m.start(kind)))
        else:
            out.append((kind, raw, m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, kind=None, word=None):
        if self.i >= len(self.toks):
            return None
        k, v, _ = self.toks[self.i]
        if kind and k != kind:
            return None
        if word and (k != "word" or v.lower() != word):
            return None
        return self.toks[self.i]

    def take(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, what: str):
        if self.i >= len(self.toks):
            raise FilterError(f"{what} at the end of the filter")
        _, v, pos = self.toks[self.i]
        raise FilterError(f"{what} at character {pos + 1} (found {v!r})")

    def parse(self) -> Node:
        if not self.toks:
            raise FilterError("the filter is empty")
        node = self.or_()
        if self.i < len(self.toks):
            self.fail("expected AND, OR or the end")
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.peek(word="or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.atom()]
        while self.peek(word="and"):
            self.take()
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def atom(self) -> Node:
        if self.peek("punct") and self.toks[self.i][1] == "(":
            self.take()
            node = self.or_()
            if not (self.peek("punct") and self.toks[self.i][1] == ")"):
                self.fail("expected ')'")
            self.take()
            return node
        tok = self.peek()
        if tok is None or tok[0] not in ("word", "name") or (tok[0] == "word" and tok[1].lower() in ("and", "or")):
            self.fail("expected a column name")
        column = self.take()[1]
        if self.peek("op"):
            op = self.take()[1]
            return Compare(column, op, self.value())
        if self.peek(word="is"):
            self.take()
            negated = bool(self.peek(word="not")) and bool(self.take())
            if not self.peek(word="null"):
                self.fail("expected NULL after IS")
            self.take()
            return IsNull(column, negated)
        negated = bool(self.peek(word="not")) and bool(self.take())
        if self.peek(word="in"):
            self.take()
            return In(column, self.values(), negated)
        self.fail(f"expected an operator ({', '.join(OPS)}, in, is null) after {column!r}")

    def value(self):
        tok = self.peek()
        if tok is None or tok[0] not in ("word", "str"):
            self.fail("expected a value")
        kind, v, _ = self.take()
        return v if kind == "str" else _word_value(v)

    def values(self) -> tuple:
        if not (self.peek("punct") and self.toks[self.i][1] in _CLOSE):
            self.fail("expected '(' after IN")
        close = _CLOSE[self.take()[1]]
        out = [self.value()]
        while self.peek("punct") and self.toks[self.i][1] == ",":
            self.take()
            out.append(self.value())
        if not (self.peek("punct") and self.toks[self.i][1] == close):
            self.fail(f"expected ',' or '{close}'")
        self.take()
        return tuple(out)


def parse_filter(text: str) -> Node:
    """The filter in `text`, or FilterError saying what is wrong and where."""
    return _Parser(text).parse()
