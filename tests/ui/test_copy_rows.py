"""The queue's rows name copy and move jobs for what they are (issue 20), not "Download"."""

from __future__ import annotations

from lakegui.ui.queue.model import JobRow, TransferTableModel


def test_copy_and_move_rows_say_so(qapp):
    model = TransferTableModel()
    model.set_rows([JobRow("a.parquet", d, "queued", job_id=i) for i, d in
                    enumerate(("upload", "download", "copy", "move"), 1)])
    assert [model.index(i, 1).data() for i in range(4)] == ["Upload", "Download", "Copy", "Move"]


def test_copy_and_move_rows_have_their_own_icon_and_the_objects_name(qapp):
    from PySide6.QtCore import Qt

    from lakegui.core.transfers.jobs import display_name
    from lakegui.ui.resources import icon

    def row(job_id, batch, direction, key, src):
        return JobRow(display_name(direction, key, src), direction, "queued", job_id=job_id, batch_id=batch,
                      uri=f"s3://b/{key}", local_path=src)

    model = TransferTableModel()
    model.set_rows([row(1, 1, "move", "data/README.txt", "s3://b/README.txt"),  # a lone move into data/
                    row(2, 2, "copy", "staging/2024/a.csv", "s3://b/2024/a.csv"),
                    row(3, 3, "move", "archive/AAPL/t.parquet", "s3://b/data/AAPL/t.parquet"),  # a moved folder
                    row(4, 3, "move", "archive/MSFT/t.parquet", "s3://b/data/MSFT/t.parquet"),
                    JobRow("x.bin", "download", "queued", job_id=5, batch_id=4, uri="s3://b/d/x.bin",
                           local_path="/tmp/x.bin")])
    names = [model.index(i, 0).data() for i in range(5)]
    assert names == ["README.txt", "a.csv", "AAPL/t.parquet", "MSFT/t.parquet", "d/x.bin"]
    keys = [model.index(i, 1).data(Qt.ItemDataRole.DecorationRole).cacheKey() for i in range(5)]
    assert keys[0] == keys[2] == icon("cut").cacheKey()
    assert keys[1] == icon("copy").cacheKey()
    assert keys[4] == icon("download").cacheKey() and keys[4] not in keys[:4]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "s3://b/README.txt → s3://b/data/README.txt"
