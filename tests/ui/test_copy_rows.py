"""The queue's rows name copy and move jobs for what they are (issue 20), not "Download"."""

from __future__ import annotations

from lakegui.ui.queue.model import JobRow, TransferTableModel


def test_copy_and_move_rows_say_so(qapp):
    model = TransferTableModel()
    model.set_rows([JobRow("a.parquet", d, "queued", job_id=i) for i, d in
                    enumerate(("upload", "download", "copy", "move"), 1)])
    assert [model.index(i, 1).data() for i in range(4)] == ["Upload", "Download", "Copy", "Move"]
