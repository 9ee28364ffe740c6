"""The open window follows what lakegui-cli removed from the shared queue (`queue clear --finished`):
rows whose jobs left the store leave the model at the next sync, the totals follow, and the
rows removed go with remove notifications, so the selection stays on the rows that are left."""

from __future__ import annotations

from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.jobs import Direction, JobState
from lakegui.core.transfers.service import JobRow, QueueService
from lakegui.core.transfers.store import JobStore, NewJob
from lakegui.ui.queue.controller import TransferQueue
from lakegui.ui.queue.model import TransferTableModel


def test_jobs_the_cli_removed_leave_the_open_window(qtbot, tmp_path):
    cli = JobStore()  # another connection, as lakegui-cli's process has
    batch = cli.create_batch("mixed", "download", {}, runner="cli")
    ids = cli.add_jobs(batch, [NewJob(Direction.DOWNLOAD, "b", f"k/{i}", str(tmp_path / f"{i}"), size=10)
                               for i in range(42)])
    cli.claim(42, "cli-host:1", runner="cli")
    cli.finish_many([(i, JobState.DONE if n < 40 else JobState.FAILED, "", 10, None) for n, i in enumerate(ids)])
    q = TransferQueue(TransferSettings())
    try:
        assert q.model.rowCount() == 42
        totals = []
        q.totals_changed.connect(totals.append)
        q.service.emit_totals()
        assert (totals[-1].files_done, totals[-1].files_total, totals[-1].failed) == (40, 42, 2)
        service = QueueService(store=cli)
        assert service.remove_finished() == 40  # what `lakegui-cli queue clear --finished` does
        q._on_sync_timer_timeout()
        qtbot.waitUntil(lambda: q.model.rowCount() == 2, timeout=5000)
        assert sorted(q.model.row(i).job_id for i in range(2)) == ids[40:]
        assert q.row_for(ids[0]) is None
        assert (totals[-1].files_done, totals[-1].files_total, totals[-1].failed) == (0, 2, 2)
    finally:
        q.shutdown()
        cli.close()


def test_removed_rows_go_with_remove_notifications_and_the_rest_keep_their_index():
    model = TransferTableModel()
    model.set_rows([JobRow(f"f{i}", "download", "done", job_id=i, uri=f"s3://b/d/f{i}", batch_id=1)
                    for i in range(10)])
    kept = model.index(5, 0)
    from PySide6.QtCore import QPersistentModelIndex

    watched = QPersistentModelIndex(kept)
    removed, resets = [], []
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    model.remove_ids([1, 2, 7, 99])
    assert removed == [(7, 7), (1, 2)] and not resets
    assert [model.row(i).job_id for i in range(model.rowCount())] == [0, 3, 4, 5, 6, 8, 9]
    assert watched.isValid() and model.row(watched.row()).job_id == 5
    assert model.row_for(8) is model.row(5) and model.row_for(7) is None
