"""Every item model passes Qt's model tester."""

from datetime import datetime, timezone

from PySide6.QtCore import Qt

from lakegui.core.listing import ListingPage, ObjectEntry, PrefixEntry
from lakegui.ui.browser.model import ObjectTableModel
from lakegui.ui.queue.model import JobRow, TransferTableModel


def page(n, start=0):
    when = datetime(2024, 5, 1, tzinfo=timezone.utc)
    return ListingPage(number=n, prefixes=[PrefixEntry(f"p/dir{start}/")],
                       objects=[ObjectEntry(f"p/f{i}.parquet", i * 1000, when, "etag", "STANDARD")
                                for i in range(start, start + 5)])


def names(model):
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_object_model_sorts_and_filters_while_pages_stream_in(qtmodeltester, qapp):
    model = ObjectTableModel()
    model.reset("p/")
    model.append_page(page(1))
    qtmodeltester.check(model, force_py=True)  # stays connected: every change below is checked too
    model.append_page(page(2, 5))
    assert model.rowCount() == 12 and names(model)[:3] == ["dir0/", "dir5/", "f0.parquet"]  # folders first
    model.sort(1, Qt.SortOrder.AscendingOrder)
    # By size, not by the text "4.9 KB" < "977 B".
    assert names(model)[:4] == ["dir0/", "dir5/", "f0.parquet", "f1.parquet"]
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert names(model)[0] == "f9.parquet" and names(model)[-1] == "dir0/"
    model.append_page(page(3, 10))  # a page arriving under a non-default sort lands in place
    assert names(model)[0] == "f14.parquet" and model.rowCount() == 18
    model.set_filter("F1")
    assert sorted(names(model)) == ["f1.parquet", "f10.parquet", "f11.parquet", "f12.parquet", "f13.parquet",
                                    "f14.parquet"]
    model.append_page(page(4, 15))  # filtered while streaming: only matching rows appear
    assert "f15.parquet" in names(model) and "f20.parquet" not in names(model) and model.loaded == 24
    model.set_filter("")
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert model.rowCount() == 24 and names(model)[4] == "f0.parquet"


def test_sort_keeps_the_selection_on_the_same_rows(qapp):
    from PySide6.QtCore import QPersistentModelIndex

    model = ObjectTableModel()
    model.reset("p/")
    model.append_page(page(1))
    kept = QPersistentModelIndex(model.index(names(model).index("f3.parquet"), 0))
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert kept.data() == "f3.parquet"
    model.set_filter("f3")
    assert kept.row() == 0 and kept.data() == "f3.parquet"


def test_folder_marker_is_not_its_own_child(qapp):
    model = ObjectTableModel()
    model.reset("p/")
    model.append_page(ListingPage(1, [], [ObjectEntry("p/", 0, None, "", "STANDARD")]))
    assert model.rowCount() == 0


def test_transfer_model(qtmodeltester, qapp):
    model = TransferTableModel()
    model.append_rows([JobRow("a.parquet", "upload", "running", 5 * 2**30, 10 * 2**30, 2**20),
                    JobRow("b.json", "download", "queued")])
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 3).data() == "50%"  # 64-bit byte counts, no overflow
    assert model.index(0, 5).data() == "1h 25m"


def test_backfill_plan_model_filters_by_status_and_keeps_its_sort(qtmodeltester, qapp):
    from lakegui.core.backfill import BackfillItem
    from lakegui.ui.backfills.models import PlanModel

    items = [BackfillItem("/l/B_2024.parquet", "B_2024.parquet", "new", "k/B", 10, metadata={"symbol": "B"}),
             BackfillItem("/l/x.txt", "x.txt", "invalid", reason="does not match"),
             BackfillItem("/l/A_2024.parquet", "A_2024.parquet", "exists-same", "k/A", 20)]
    model = PlanModel()
    model.set_items(items)
    qtmodeltester.check(model, force_py=True)
    model.sort(4, Qt.SortOrder.DescendingOrder)
    assert names(model) == ["exists-same", "new", "invalid"]
    model.set_items(list(reversed(items)))  # a replan keeps the size order
    assert names(model) == ["exists-same", "new", "invalid"]
    model.set_status("invalid")
    assert model.rowCount() == 1 and model.index(0, 5).data() == "does not match"
    assert model.index(0, 2).data() == "" and model.index(0, 4).data() == ""


def test_coverage_model_filters_sorts_and_takes_live_objects(qtmodeltester, qapp):
    from lakegui.core.coverage import Coverage
    from lakegui.core.layouts import DAILY_TICKS
    from lakegui.ui.coverage.model import CELL_ROLE, CoverageModel

    cov = Coverage(DAILY_TICKS, "lake")
    for sym, year, size in (("AAPL", 2022, 10), ("AAPL", 2024, 1000), ("MSFT", 2023, 100)):
        cov.add(DAILY_TICKS.key(symbol=sym, year=year), size, 1.0)
    model = CoverageModel()
    model.set_coverage(cov)
    qtmodeltester.check(model, force_py=True)
    assert (model.rowCount(), model.columnCount()) == (2, 3)
    assert model.index(0, 2).data(CELL_ROLE) == (1, 1000, 1.0) and model.index(0, 0).data(CELL_ROLE)[2] == 0.0
    model.set_arrangement(sort_by="gaps")
    assert model.headerData(0, Qt.Orientation.Vertical) == "MSFT"
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), a.column())))
    assert model.add_objects([(DAILY_TICKS.key(symbol="MSFT", year=2022), 5, 2.0), ("x/y", 1, 0.0)]) == 1
    assert changed == [(0, 0)] and model.index(0, 0).data(CELL_ROLE)[0] == 1
    model.add_objects([(DAILY_TICKS.key(symbol="NVDA", year=2025), 5, 2.0)])  # a new row and column: rebuilt
    assert (model.rowCount(), model.columnCount()) == (3, 4)


def test_dashboard_models(qtmodeltester, qapp):
    from types import SimpleNamespace

    from lakegui.ui.backfills.models import FailuresModel, RollupModel

    rollup = RollupModel()
    qtmodeltester.check(rollup, force_py=True)
    rollup.set_rows([("AAPL", 15, 14, 1, 15_000, 14_000), (None, 2, 2, 0, 0, 0)])
    assert [rollup.index(r, 0).data() for r in range(2)] == ["AAPL", "(none)"]
    assert rollup.index(1, 5).data() == "100%"
    failures = FailuresModel()
    qtmodeltester.check(failures, force_py=True)
    failures.set_rows([SimpleNamespace(id=7, key="data/x.parquet", error="AccessDenied", attempts=1)])
    assert failures.index(0, 1).data() == "AccessDenied" and failures.ids() == [7]
