"""Row filters: the parser, row-group pruning by statistics, and row semantics against pandas."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lakegui.core.lake.filters import ABSENT, ColumnStats, FilterError, apply, parse_filter


def table() -> pa.Table:
    rng = np.random.default_rng(5)
    n = 400
    vol = rng.integers(1, 100, n).astype(float)
    vol[::17] = np.nan
    return pa.table({
        "date": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)], pa.date32()),
        "close": np.round(rng.uniform(10, 20, n), 2),
        "volume": pa.array(vol, pa.float64(), mask=np.isnan(vol)),
        "symbol": pa.array(rng.choice(["AAPL", "MSFT", "NVDA"], n)),
    })


CASES = [
    ("close > 15", lambda d: d.close > 15),
    ("close >= 15 AND volume < 50", lambda d: (d.close >= 15) & (d.volume < 50)),
    ("symbol = AAPL OR close <= 11.5", lambda d: (d.symbol == "AAPL") | (d.close <= 11.5)),
    ("symbol != 'MSFT'", lambda d: d.symbol != "MSFT"),
    ("volume != 3", lambda d: d.volume.notna() & (d.volume != 3)),
    ("symbol in (AAPL, NVDA) and (volume > 90 or volume is null)",
     lambda d: d.symbol.isin(["AAPL", "NVDA"]) & ((d.volume > 90) | d.volume.isna())),
    ("symbol not in {AAPL}", lambda d: ~d.symbol.isin(["AAPL"])),
    ("volume is null", lambda d: d.volume.isna()),
    ("volume is not null and date >= 2024-06-01", lambda d: d.volume.notna() & (d.date >= dt.date(2024, 6, 1))),
    ("date = '2024-02-29'", lambda d: d.date == dt.date(2024, 2, 29)),
    ("close == 12.34 or close <> 12.34 and volume = 5", lambda d: (d.close == 12.34) | ((d.close != 12.34) & (d.volume == 5))),
]


@pytest.mark.parametrize("text,pandas_rule", CASES, ids=[c[0] for c in CASES])
def test_rows_match_pandas(text, pandas_rule):
    t = table()
    df = t.to_pandas()
    expected = df[pandas_rule(df).fillna(False).astype(bool)]
    by_expression = t.filter(parse_filter(text).expression(t.schema)).to_pandas()
    by_mask = apply(parse_filter(text), t).to_pandas()
    dictionary = t.set_column(3, "symbol", t["symbol"].dictionary_encode())
    on_dictionary = apply(parse_filter(text), dictionary)
    by_mask_on_dictionary = on_dictionary.set_column(3, "symbol", on_dictionary["symbol"].cast(pa.string())).to_pandas()
    assert len(expected) > 0 or "12.34" in text
    for ours in (by_expression, by_mask, by_mask_on_dictionary):
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), expected.reset_index(drop=True))


@pytest.mark.parametrize("text,pandas_rule", CASES, ids=[c[0] for c in CASES])
def test_statistics_never_skip_a_matching_chunk(text, pandas_rule):
    t = table()
    flt = parse_filter(text)
    for start in range(0, t.num_rows, 25):
        part = t.slice(start, 25)
        df = part.to_pandas()
        stats = {}
        for name in part.column_names:
            col = part.column(name)
            valid = col.drop_null()
            stats[name] = ColumnStats(None if len(valid) == 0 else min(valid.to_pylist()),
                                      None if len(valid) == 0 else max(valid.to_pylist()), col.null_count, len(col))
        if pandas_rule(df).fillna(False).astype(bool).any():
            assert flt.may_match(stats), (text, start)


def test_statistics_rule_out():
    s = {"close": ColumnStats(10.0, 20.0, 0, 100), "volume": ColumnStats(1, 5, 0, 100)}
    assert not parse_filter("close > 20").may_match(s)
    assert parse_filter("close >= 20").may_match(s)
    assert not parse_filter("close < 10 or volume > 5").may_match(s)
    assert not parse_filter("close = 9").may_match(s)
    assert not parse_filter("volume in (6, 7)").may_match(s)
    assert not parse_filter("volume is null").may_match(s)
    assert parse_filter("unknown_col > 3").may_match(s)       # no statistics: read it
    assert not parse_filter("gone > 3").may_match({"gone": ABSENT})   # a column the file lacks is all nulls
    assert parse_filter("gone is null").may_match({"gone": ABSENT})
    assert not parse_filter("volume = 3").may_match({"volume": ColumnStats(None, None, 100, 100)})
    assert not parse_filter("volume != 3").may_match({"volume": ColumnStats(3, 3, 0, 100)})


@pytest.mark.parametrize("text,where", [
    ("", "empty"), ("close >", "expected a value at the end"), ("close 5", "expected an operator"),
    ("(close > 5", "expected ')'"), ("close > 5 volume < 3", "expected AND, OR or the end"),
    ("close in 5", "expected '(' after IN"), ("close is 5", "expected NULL after IS"),
    ("and close > 1", "expected a column name"), ("close > 'x", "unexpected"),
])
def test_parse_errors_say_where(text, where):
    with pytest.raises(FilterError, match=re.escape(where)):
        parse_filter(text)


def test_a_value_of_the_wrong_type_is_a_filter_error():
    t = table()
    with pytest.raises(FilterError, match="cannot be compared with a date32"):
        t.filter(parse_filter("date > notadate").expression(t.schema))


@pytest.mark.parametrize("value, arrow_type", [
    (True, "bool"), (False, "bool"), (-5, "int8"), (300, "int16"), (-(2 ** 31), "int32"), (2 ** 62, "int64"),
    (255, "uint8"), (2 ** 64 - 1, "uint64"), (1.5, "float32"), (-2.25, "float64"), (7, "float64"),
    ("AAPL", "string"), ("", "string"), ("é€", "large_string"), (dt.date(2024, 2, 29), "date32"),
    (dt.datetime(2024, 1, 31, 15, 30, 1, 250), "timestamp[us]"), (dt.datetime(1969, 12, 31, 23, 59, 59), "timestamp[s]"),
    (dt.datetime(2024, 1, 31, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "timestamp[ns, tz=UTC]"),
    (dt.datetime(2024, 1, 31, 15, 30, 0, 1000), "timestamp[ms]"),
])
def test_scalars_built_from_bytes_equal_pyarrow_s(value, arrow_type):
    from lakegui.core.lake.filters import array_of, constant, scalar

    t = {"timestamp[us]": pa.timestamp("us"), "timestamp[s]": pa.timestamp("s"), "timestamp[ms]": pa.timestamp("ms"),
         "timestamp[ns, tz=UTC]": pa.timestamp("ns", tz="UTC")}.get(arrow_type) or pa.type_for_alias(arrow_type)
    want = pa.scalar(value, t)
    got = scalar(value, t)
    assert got.type == t and got.equals(want) and got.as_py() == want.as_py()
    assert array_of([value, value], t).equals(pa.array([value, value], t))
    if arrow_type in ("int32", "string"):
        assert constant(value, t, 3).equals(pa.array([value] * 3, t))


def test_values_the_bytes_cannot_hold_go_to_pyarrow():
    from lakegui.core.lake.filters import scalar

    with pytest.raises((OverflowError, pa.ArrowException)):
        scalar(2 ** 40, pa.int32())                      # as pa.scalar says
    assert scalar(dt.datetime(2024, 1, 1, 0, 0, 0, 1), pa.timestamp("us")).as_py().microsecond == 1
