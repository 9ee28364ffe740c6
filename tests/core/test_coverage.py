"""Coverage from a seeded bucket (moto in-process) with gaps and stray keys: the matrix, the missing
cells, the keys outside the layout, live additions, and the JSON and CSV forms."""

from __future__ import annotations

import csv
import io
import threading

import pytest

from lakegui.core.coverage import Coverage, CoverageCancelled, compute_coverage, to_csv, to_json
from lakegui.core.layouts import BUILTIN_LAYOUTS, DAILY_TICKS

PRESENT = [("AAPL", 2020), ("AAPL", 2021), ("AAPL", 2023), ("MSFT", 2020), ("MSFT", 2021), ("MSFT", 2022),
           ("MSFT", 2023), ("NVDA", 2023)]
STRAY = ["data/ticks/daily/aapl/2021/ticks.parquet", "data/ticks/daily/AAPL/1801/ticks.parquet",
         "data/ticks/daily/AAPL/2021/extra.csv", "data/ticks/daily/", "data/ticks/daily/MSFT/notes.txt"]


@pytest.fixture
def lake(s3):
    s3.create_bucket(Bucket="lake")
    for sym, year in PRESENT:
        s3.put_object(Bucket="lake", Key=DAILY_TICKS.key(symbol=sym, year=year), Body=b"x" * (100 + year - 2020))
    for key in STRAY:
        s3.put_object(Bucket="lake", Key=key, Body=b"")
    s3.put_object(Bucket="lake", Key="data/fundamental/AAPL/2023/Q1.json", Body=b"{}")  # another layout: not listed
    return s3


def test_matrix_has_every_cell_the_gaps_and_the_stray_keys(lake):
    cov = compute_coverage(lake, "lake", "", DAILY_TICKS)
    m = cov.matrix()
    assert (m.rows_field, m.cols_field) == ("symbol", "year")
    assert m.rows == ["AAPL", "MSFT", "NVDA"] and m.cols == ["2020", "2021", "2022", "2023"]
    assert m.count.tolist() == [[1, 1, 0, 1], [1, 1, 1, 1], [0, 0, 0, 1]]
    assert m.bytes[1, 2] == 102 and m.newest[1, 2] > 0 and m.newest[0, 2] == 0
    assert m.missing() == [("AAPL", "2022"), ("NVDA", "2020"), ("NVDA", "2021"), ("NVDA", "2022")]
    assert cov.listed == len(PRESENT) + len(STRAY) and len(cov.keys) == len(PRESENT)
    why = dict(cov.unmatched)
    assert set(why) == set(STRAY)
    assert "not a ticker in capitals" in why["data/ticks/daily/aapl/2021/ticks.parquet"]
    assert "not a year" in why["data/ticks/daily/AAPL/1801/ticks.parquet"]
    assert why["data/ticks/daily/"] == "is a folder marker"
    assert "does not match" in why["data/ticks/daily/AAPL/2021/extra.csv"]
    assert cov.objects_in("MSFT", "2022")[0][:2] == ("data/ticks/daily/MSFT/2022/ticks.parquet", 102)
    assert cov.objects_in("AAPL", "2022") == []


def test_a_year_missing_everywhere_is_a_column_and_expected_rows_show(lake):
    cov = compute_coverage(lake, "lake", "", DAILY_TICKS)
    cov.add("data/ticks/daily/AAPL/2025/ticks.parquet", 5, 1.0)
    cov.add("data/ticks/daily/AAPL/2027/ticks.parquet", 5, 1.0)
    m = cov.matrix(rows=["TSLA"])
    assert m.cols[-3:] == ["2025", "2026", "2027"] and m.count[:, m.cols.index("2026")].sum() == 0
    assert m.rows[-1] == "TSLA" and m.count[-1].sum() == 0


def test_live_additions_fill_cells_once(lake):
    cov = compute_coverage(lake, "lake", "", DAILY_TICKS)
    assert cov.add("data/ticks/daily/NVDA/2022/ticks.parquet", 50, 2e9) == ("NVDA", "2022")
    assert cov.add("data/ticks/daily/NVDA/2022/ticks.parquet", 60, 2e9 + 1) == ("NVDA", "2022")  # replaced
    assert cov.add("elsewhere/x", 1, 0) is None
    m = cov.matrix()
    assert m.count[2, 2] == 1 and m.bytes[2, 2] == 60 and m.newest[2, 2] == 2e9 + 1


def test_fields_beyond_the_two_axes_are_summed_into_the_cell(s3):
    s3.create_bucket(Bucket="funds")
    for q in (1, 2, 4):
        s3.put_object(Bucket="funds", Key=f"lake/data/fundamental/AAPL/2024/Q{q}.json", Body=b"{}")
    s3.put_object(Bucket="funds", Key="lake/data/fundamental/AAPL/2024/Q5.json", Body=b"{}")
    cov = compute_coverage(s3, "funds", "lake/", BUILTIN_LAYOUTS["fundamentals"])
    assert cov.listing_prefix == "lake/data/fundamental/"
    m = cov.matrix()
    assert m.count.tolist() == [[3]] and [k for k, _ in cov.unmatched] == ["lake/data/fundamental/AAPL/2024/Q5.json"]
    by_quarter = compute_coverage(s3, "funds", "lake/", BUILTIN_LAYOUTS["fundamentals"], cols_field="quarter").matrix()
    assert by_quarter.cols == ["1", "2", "3", "4"] and by_quarter.missing() == [("AAPL", "3")]
    with pytest.raises(ValueError, match="has no field 'month'"):
        Coverage(BUILTIN_LAYOUTS["fundamentals"], "funds", cols_field="month")


def test_json_and_csv_forms(lake):
    cov = compute_coverage(lake, "lake", "", DAILY_TICKS)
    doc = to_json(cov, cov.matrix())
    assert doc["present"] == 8 and doc["objects"] == 8 and doc["unmatched"]["count"] == 5
    assert {"symbol": "AAPL", "year": "2022"} in doc["missing"] and len(doc["missing"]) == 4
    cell = next(c for c in doc["cells"] if c["symbol"] == "MSFT" and c["year"] == "2022")
    assert cell["objects"] == 1 and cell["bytes"] == 102 and cell["newest"].endswith("+00:00")
    rows = list(csv.DictReader(io.StringIO(to_csv(cov.matrix()))))
    assert len(rows) == 12 and rows[0].keys() == {"symbol", "year", "present", "objects", "bytes", "newest"}
    gap = next(r for r in rows if r["symbol"] == "AAPL" and r["year"] == "2022")
    assert gap["present"] == "0" and gap["newest"] == ""


def test_an_empty_prefix_and_cancellation(lake):
    m = compute_coverage(lake, "lake", "nothing-here/", DAILY_TICKS).matrix()
    assert m.rows == [] and m.count.size == 0
    stop = threading.Event()
    stop.set()
    with pytest.raises(CoverageCancelled):
        compute_coverage(lake, "lake", "", DAILY_TICKS, cancel=stop)
