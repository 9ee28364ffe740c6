"""Every item model passes Qt's model tester."""

from datetime import datetime, timezone

from lakegui.core.listing import ListingPage, ObjectEntry, PrefixEntry
from lakegui.ui.browser.model import ObjectSortFilterProxy, ObjectTableModel
from lakegui.ui.queue.model import JobRow, TransferTableModel


def page(n, start=0):
    when = datetime(2024, 5, 1, tzinfo=timezone.utc)
    return ListingPage(number=n, prefixes=[PrefixEntry(f"p/dir{start}/")],
                       objects=[ObjectEntry(f"p/f{i}.parquet", i * 1000, when, "etag", "STANDARD")
                                for i in range(start, start + 5)])


def test_object_model(qtmodeltester, qapp):
    model = ObjectTableModel()
    model.reset("p/")
    model.append_page(page(1))
    qtmodeltester.check(model, force_py=True)
    model.append_page(page(2, 5))
    assert model.rowCount() == 12
    proxy = ObjectSortFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(1)
    qtmodeltester.check(proxy, force_py=True)
    # Folders first, then by size, not by the text "4.9 KB" < "977 B".
    assert [proxy.index(r, 0).data() for r in range(4)] == ["dir0/", "dir5/", "f0.parquet", "f1.parquet"]


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
