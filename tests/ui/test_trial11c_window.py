"""Trial C's window findings (session 11, second round): 7-10."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from lakegui.core.transfers.service import JobRow


@pytest.fixture
def bare_queue(qloop):
    """A window's queue with no connection and nothing running: rows are put in its model."""
    from lakegui.ui.queue.controller import TransferQueue

    q = TransferQueue()
    yield q
    q.shutdown()


def _make_bucket_row(job_id=1):
    return JobRow("new-bucket", "make-bucket", "done", bytes_total=0, job_id=job_id, batch_id=job_id,
                  uri="s3://new-bucket/", local_path="")


def test_queue_direction_fits_when_the_queue_has_rows_before_the_view(qtbot, bare_queue):
    """C10: the window's queue keeps last run's jobs: they were fitted, then the view's default
    widths undid it (Direction read "Mak…ket" in the real window, not in a fresh queue)."""
    from lakegui.ui.queue.view import TransferQueueView

    bare_queue.model.append_rows([_make_bucket_row()])
    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    table = view.table
    bare_queue.model.append_rows([_make_bucket_row(2)])  # a New bucket job after the view is shown
    need = table.fontMetrics().horizontalAdvance("Make bucket") + max(table.iconSize().width(), 16) + 4
    assert table.horizontalHeader().sectionSize(1) >= need + 8


def test_queue_state_says_a_skips_gist_first_cut_at_its_end(qtbot, bare_queue):
    """C10: "Skipped: note26…he same content": the gist first, elided at the end, whole in the tooltip."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    from lakegui.ui.queue.view import TransferQueueView

    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    model = bare_queue.model
    model.append_rows([JobRow("note26.txt", "upload", "skipped", bytes_total=5, job_id=1, batch_id=1,
                              uri="s3://b/reports 2024/q1/note26.txt", local_path="/d/note26.txt",
                              error="s3://b/reports 2024/q1/note26.txt exists with the same content"),
                       JobRow("x.txt", "upload", "failed", bytes_total=5, job_id=2, batch_id=1,
                              uri="s3://b/x.txt", local_path="/d/x.txt", error="boom")])
    state = model.index(0, 6)
    assert state.data() == "Skipped: already there with the same content (note26.txt)"
    assert state.data() in state.data(Qt.ItemDataRole.ToolTipRole)
    delegate = view.table.itemDelegateForColumn(6)
    option = QStyleOptionViewItem()
    option.textElideMode = Qt.TextElideMode.ElideMiddle  # the table's
    delegate.initStyleOption(option, state)
    assert option.textElideMode == Qt.TextElideMode.ElideRight
    option = QStyleOptionViewItem()
    option.textElideMode = Qt.TextElideMode.ElideMiddle
    delegate.initStyleOption(option, model.index(1, 6))  # a failure keeps the middle cut (its paths)
    assert option.textElideMode == Qt.TextElideMode.ElideMiddle


def test_coverage_on_an_empty_layout_says_why(qtbot, window, demo_connection):
    """C10: minute-ticks with no keys said "0 symbols × 1 year: 0 of 0 cells present" and no more."""
    from .test_coverage import open_coverage

    view = open_coverage(qtbot, window, demo_connection)
    view.prefix = "nothing-here/"  # the layout where no key is
    with qtbot.waitSignal(view.loaded, timeout=15000):
        view.layout_box.setCurrentText("minute-ticks")
    text = view.summary.text()
    assert text.startswith("No file matches ") and "nothing is under s3://" in text, text


def test_overwrite_all_of_an_upload_to_an_unversioned_bucket_says_gone_for_good(qtbot, window, demo_connection,
                                                                                 tmp_path):
    """C8: uploading a folder onto objects that exist asked Skip/Overwrite all with no word of what
    replacing does; on a bucket without versions it is for good (the backfill wizard warns so)."""
    from PySide6.QtWidgets import QMessageBox

    from .test_transfers import wait_listed

    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    folder = tmp_path / "reference"
    folder.mkdir()
    s3 = demo_connection.client()
    key = next(o["Key"] for o in s3.list_objects_v2(Bucket=b.bucket, Prefix="data/reference/")["Contents"])
    (folder / key.rsplit("/", 1)[-1]).write_text("mine")
    task = window.transfer_actions.upload(demo_connection, b.bucket, "data/", [str(folder)])
    qtbot.waitUntil(lambda: any(box.isVisible() for box in window.findChildren(QMessageBox)), timeout=10000)
    box = next(box for box in window.findChildren(QMessageBox) if box.isVisible())
    text, buttons = box.text(), [bt.text() for bt in box.buttons()]
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(task.done, timeout=10000)
    assert text.startswith("1 of 1 file already exists in ") and "What should happen to it?" in text, text
    assert "gone for good" in text
    assert "Overwrite all" in buttons


def test_a_finished_backfills_throughput_axis_starts_at_0_with_no_eta(qtbot, window):
    """C10: a finished backfill's flat 0 MB/s ran the axis -400…400 with "(x0.001)" clipping its
    label, and the summary said "ETA done"."""
    from lakegui.core.transfers.jobs import BACKFILL, Direction, JobState
    from lakegui.core.transfers.store import JobStore, NewJob

    from .test_backfills import open_dashboard

    store = JobStore(window.transfers.service.path)
    try:
        batch = store.create_batch("finished", BACKFILL, {}, runner="cli")
        ids = store.add_jobs(batch, [NewJob(Direction.UPLOAD, "lake", f"data/{i}.parquet", f"/tmp/{i}", size=1000,
                                            metadata={"symbol": "A", "year": str(2020 + i)}) for i in range(2)])
        store.finish_many([(i, JobState.DONE, "", 1000, "e") for i in ids])
    finally:
        store.close()
    d = open_dashboard(qtbot, window)
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.refresh(force=True)  # two readings: a rate (of 0)
    assert d.chart.series is not None and "ETA" not in d.summary.text(), d.summary.text()
    (_x0, _x1), (y0, y1) = d.chart.price.viewRange()
    assert y0 == 0 and y1 == 1.0
    axis = d.chart.price.getAxis("left")
    assert "(x" not in axis.labelString()
    # no volume beneath: the plot has the height and the time axis (it kept an empty quarter, no times)
    bottom = d.chart.price.getAxis("bottom")
    assert bottom.style["showValues"] and bottom.labelText == "time (UTC)" and not d.chart.volume_plot.isVisible()
