"""The main window shell against a real HTTP endpoint: three areas, listing, navigation, errors."""

from __future__ import annotations

import socket
import threading

import pytest
from PySide6.QtCore import Qt

from lakegui.core.connection import Connection
from lakegui.core.listing import ObjectEntry
from lakegui.ui.browser.model import ENTRY_ROLE
from tests.ui.conftest import profile_for


def names(browser) -> list[str]:
    m = browser.model
    return [m.index(r, 0).data() for r in range(m.rowCount())]


def row_of(browser, name: str) -> int:
    return names(browser).index(name)


def connect_and_wait(qtbot, window, conn):
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000) as blocker:
        window.set_connection(conn)
    return blocker.args


def test_three_areas_and_top_level_listed(qtbot, window, demo_connection):
    assert window.browser.isVisible() and window.queue.isVisible() and window.preview.isVisible()
    prefix, rows = connect_and_wait(qtbot, window, demo_connection)
    assert (prefix, rows) == ("", 2)
    assert names(window.browser) == ["data/", "README.txt"]  # folders first
    assert window.statusBar().currentMessage() == "2 items"
    assert demo_connection.profile.endpoint_url in window.connection_label.text()
    assert window.browser.path_edit.text() == "s3://us-equity-datalake/"


def test_navigate_back_forward_up(qtbot, window, demo_connection):
    b = window.browser
    connect_and_wait(qtbot, window, demo_connection)
    index = b.model.index(row_of(b, "data/"), 0)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.table.activated.emit(index)
    assert b.prefix == "data/" and names(b) == ["fundamental/", "reference/", "ticks/"]
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/ticks/daily/")
    assert len(names(b)) == 12 and b.path_edit.text() == "s3://us-equity-datalake/data/ticks/daily/"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.go_back()
    assert b.prefix == "data/" and b.forward_action.isEnabled()
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.go_forward()
    assert b.prefix == "data/ticks/daily/"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.go_up()
    assert b.prefix == "data/ticks/"
    # Typing a path navigates too.
    b.path_edit.setText("s3://us-equity-datalake/data/reference/")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.path_edit.returnPressed.emit()
    assert names(b) == ["tickers.csv", "tickers.parquet"]


def test_bad_path_is_reported(qtbot, window, demo_connection):
    b = window.browser
    connect_and_wait(qtbot, window, demo_connection)
    b.path_edit.setText("http://not-s3/x")
    b.path_edit.returnPressed.emit()
    assert "must start with s3://" in b.state_label.text() and b.state_label.isVisible()
    assert names(b) == ["data/", "README.txt"]  # what was shown stays


def test_filter_narrows_loaded_rows(qtbot, window, demo_connection):
    b = window.browser
    connect_and_wait(qtbot, window, demo_connection)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/ticks/daily/")
    qtbot.keyClicks(b.filter_edit, "aap")
    assert names(b) == ["AAPL/"]
    b.filter_edit.clear()
    assert len(names(b)) == 12
    listed = names(b)
    b.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)  # a click on "Name"
    assert names(b) == listed[::-1]
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/reference/")
    b.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)  # by size, folders first
    sizes = [e.size for e in map(b.model.entry, range(b.model.rowCount())) if isinstance(e, ObjectEntry)]
    assert len(sizes) >= 2 and sizes == sorted(sizes)
    b.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    assert [e.size for e in map(b.model.entry, range(b.model.rowCount())) if isinstance(e, ObjectEntry)] == sizes[::-1]


class GatedClient:
    """Wraps a client so that listing one prefix blocks until released."""

    def __init__(self, client, gated_prefix):
        self._client, self.gated_prefix = client, gated_prefix
        self.release, self.entered = threading.Event(), threading.Event()

    def _gate(self, prefix):
        if prefix == self.gated_prefix:
            self.entered.set()
            self.release.wait(10)

    def list_objects_v2(self, **kw):
        self._gate(kw.get("Prefix"))
        return self._client.list_objects_v2(**kw)

    def generate_presigned_url(self, operation, Params=None, **kw):  # the raw listing path
        if operation == "list_objects_v2":
            self._gate((Params or {}).get("Prefix"))
        return self._client.generate_presigned_url(operation, Params=Params, **kw)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_stale_listing_never_reaches_the_new_folder(qtbot, window, demo_connection):
    b = window.browser
    connect_and_wait(qtbot, window, demo_connection)
    gated = GatedClient(demo_connection.client(), "data/ticks/")
    demo_connection._clients["interactive"] = gated
    finished = []
    b.listing_finished.connect(lambda p, n: finished.append(p))
    b.navigate("data/ticks/")
    qtbot.waitUntil(gated.entered.is_set, timeout=5000)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/reference/")
    gated.release.set()  # the old page now arrives, too late
    qtbot.waitUntil(lambda: not b.loading, timeout=5000)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()  # a listing after the stale page was dropped
    assert finished == ["data/reference/", "data/reference/"]
    assert names(b) == ["tickers.csv", "tickers.parquet"]


def test_selecting_an_object_shows_its_properties_and_lineage(qtbot, window, demo_connection):
    b, p = window.browser, window.preview
    connect_and_wait(qtbot, window, demo_connection)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/ticks/daily/AAPL/2024/")
    assert names(b) == ["ticks.parquet"]
    with qtbot.waitSignal(p.preview_finished, timeout=10000):
        b.table.selectRow(0)
    assert isinstance(b.model.index(0, 0).data(ENTRY_ROLE), ObjectEntry)
    assert p.parquet.rows_model.rowCount() == 259
    with qtbot.waitSignal(p.properties_loaded, timeout=10000):
        p.tabs.setCurrentWidget(p.properties)
    items = p.properties.items()
    assert items["URI"].text(1) == "s3://us-equity-datalake/data/ticks/daily/AAPL/2024/ticks.parquet"
    assert items["Content type"].text(1) == "application/vnd.apache.parquet"
    meta = items["Metadata"]
    lineage = {meta.child(i).text(0): meta.child(i).text(1) for i in range(meta.childCount())}
    assert lineage == {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "lakegui-demo"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_reported_and_window_stays_usable(qtbot, window, demo_connection):
    bad = Connection(profile_for(f"http://127.0.0.1:{closed_port()}"))
    with qtbot.waitSignal(window.browser.listing_failed, timeout=10000) as blocker:
        window.set_connection(bad)
    assert "Cannot reach http://127.0.0.1:" in blocker.args[1]
    assert window.browser.state_label.isVisible() and "Cannot reach" in window.browser.state_label.text()
    assert "Cannot reach" in window.statusBar().currentMessage()
    connect_and_wait(qtbot, window, demo_connection)  # and the user can move on
    assert not window.browser.state_label.isVisible()


def test_missing_bucket_is_reported(qtbot, window, demo_connection):
    missing = Connection(profile_for(demo_connection.profile.endpoint_url, bucket="no-such-bucket"))
    with qtbot.waitSignal(window.browser.listing_failed, timeout=10000) as blocker:
        window.set_connection(missing)
    assert blocker.args[1] == "Bucket 'no-such-bucket' does not exist at this endpoint."


@pytest.mark.integration
def test_invalid_credentials_are_reported(qtbot, window, seaweedfs):
    from lakegui.core.connection import StaticCredentials

    profile = profile_for(seaweedfs.endpoint_url, bucket="whatever-bucket")
    bad = Connection(profile, credentials=StaticCredentials(seaweedfs.access_key, "not-the-secret"))
    with qtbot.waitSignal(window.browser.listing_failed, timeout=10000) as blocker:
        window.set_connection(bad)
    assert "credentials" in blocker.args[1]


def test_layout_is_restored_between_runs(qtbot, qloop, io_executor):
    from lakegui.ui.main_window import MainWindow

    first = MainWindow(io_executor)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 520)  # inside the 800x600 offscreen screen
    first.main_splitter.setSizes([450, 250])
    qtbot.waitUntil(lambda: first.size().width() == 700)
    first.close()  # saves the layout
    second = MainWindow(io_executor)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitUntil(lambda: second.isVisible())
    assert second.size() == first.size()
    assert abs(second.main_splitter.sizes()[0] - first.main_splitter.sizes()[0]) <= 2


def test_column_widths_and_last_location_are_restored(qtbot, qloop, io_executor, demo_connection):
    from lakegui.ui.main_window import MainWindow

    first = MainWindow(io_executor)
    qtbot.addWidget(first)
    first.show()
    connect_and_wait(qtbot, first, demo_connection)
    with qtbot.waitSignal(first.browser.listing_finished, timeout=10000):
        first.browser.navigate("data/ticks/daily/")
    first.browser.table.setColumnWidth(1, 137)
    first.queue.table.setColumnWidth(0, 211)
    for table in (first.browser.table, first.queue.table):  # as a drag of a header edge says (fitted widths are not kept)
        table.horizontalHeader().user_sized = True
    first.close()
    second = MainWindow(io_executor)
    qtbot.addWidget(second)
    second.show()
    with qtbot.waitSignal(second.browser.listing_finished, timeout=10000) as listed:
        second.set_connection(demo_connection)
    assert listed.args[0] == "data/ticks/daily/"  # where the last run left off
    assert second.browser.table.columnWidth(1) == 137 and second.queue.table.columnWidth(0) == 211
    second.shutdown()


class DenyingClient(GatedClient):
    """Answers AccessDenied for one prefix, as a bucket policy on that prefix would."""

    def _gate(self, prefix):
        if prefix == self.gated_prefix:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "ListObjectsV2")


def test_access_denied_on_one_prefix_says_so_and_the_rest_stays_usable(qtbot, window, demo_connection):
    b = window.browser
    connect_and_wait(qtbot, window, demo_connection)
    demo_connection._clients["interactive"] = DenyingClient(demo_connection.client(), "data/fundamental/")
    with qtbot.waitSignal(b.listing_failed, timeout=10000) as blocker:
        b.navigate("data/fundamental/")
    assert blocker.args[1] == "Access denied to s3://us-equity-datalake/data/fundamental/: check the profile's permissions."
    assert b.state_label.text() == blocker.args[1] and b.state_label.property("error") is True
    assert window.statusBar().currentMessage() == blocker.args[1]
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.go_back()  # the rest of the bucket still lists
    assert names(b) == ["data/", "README.txt"] and not b.state_label.isVisible()


def test_log_panel_shows_a_failed_job_with_its_code(qtbot, window, demo_connection, tmp_path):
    from lakegui.core.transfers.jobs import Direction
    from lakegui.core.transfers.store import NewJob

    connect_and_wait(qtbot, window, demo_connection)
    window.log_dock.toggleViewAction().trigger()
    assert window.log_panel.isVisible()
    f = tmp_path / "x.parquet"
    f.write_bytes(b"x")
    job = NewJob(Direction.UPLOAD, "no-such-bucket-here", "k/x.parquet", str(f), size=1)
    with qtbot.waitSignal(window.log_panel.updated, timeout=20000,
                          check_params_cb=lambda n: "NoSuchBucket" in window.log_panel.text.toPlainText()):
        window.transfers.enqueue("failing", "upload", demo_connection.profile.to_dict(), [job])
    text = window.log_panel.text.toPlainText()
    assert "s3://no-such-bucket-here/k/x.parquet" in text and "[code NoSuchBucket, request id" in text
    window.log_panel.level_box.setCurrentIndex(2)  # errors only: the warning goes
    assert "NoSuchBucket" not in window.log_panel.text.toPlainText()


def test_preview_follows_the_bucket_switcher(qtbot, window, demo_connection):
    """The preview reads the bucket the browser shows: after a switch, the new one (it read the old)."""
    client = demo_connection.client()
    client.create_bucket(Bucket="second-bucket")
    client.put_object(Bucket="second-bucket", Key="only-here.txt", Body=b"from the second bucket")
    b, p = window.browser, window.preview
    connect_and_wait(qtbot, window, demo_connection)
    coverage = window.coverage_window()
    assert coverage.bucket == "us-equity-datalake"
    with qtbot.waitSignal(b.location_changed, timeout=1000) as moved:
        b.switch_bucket("second-bucket")
    assert moved.args[0].bucket == "second-bucket" and moved.args[0].connection is demo_connection
    qtbot.waitUntil(lambda: not b.loading, timeout=10000)
    assert names(b) == ["only-here.txt"]
    with qtbot.waitSignal(p.preview_finished, timeout=10000):
        b.table.selectRow(0)
    assert p.text_view.toPlainText() == "from the second bucket"
    with qtbot.waitSignal(p.properties_loaded, timeout=10000):
        p.tabs.setCurrentWidget(p.properties)
    assert p.properties.items()["URI"].text(1) == "s3://second-bucket/only-here.txt"
    assert "s3://second-bucket" in window.connection_label.text()
    assert coverage.bucket == "second-bucket"  # the coverage view follows the browser too


def test_a_failure_to_start_is_reported_like_a_failed_listing(qtbot, window):
    with qtbot.waitSignal(window.browser.listing_failed, timeout=1000) as blocker:
        window.browser.report_unavailable("The demo lake could not start.")
    assert blocker.args == ["", "The demo lake could not start."]
    assert window.browser.state_label.text() == "The demo lake could not start."
    assert window.statusBar().currentMessage() == "The demo lake could not start."
