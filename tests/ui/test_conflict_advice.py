"""The queue's State and the notice after Retry failed say a conflict in the window's words (its
question's choices), not the CLI's flags (session 9's trial, finding 6)."""

from __future__ import annotations

from lakegui.core.transfers.jobs import conflict_error
from lakegui.ui.queue.model import CONFLICT_ADVICE, JobRow, TransferTableModel

OLD = "s3://b/k exists with different content; overwrite it (--overwrite) or keep it (--skip-existing)"


def test_the_queue_says_a_conflict_with_the_windows_choices(qapp):
    model = TransferTableModel()
    model.append_rows([JobRow("k", "upload", "failed", error=conflict_error("s3://b/k")),
                       JobRow("k", "upload", "failed", error=OLD)])  # a queue the CLI wrote before
    for row in (0, 1):
        state = model.index(row, 6).data()
        assert state.startswith("Failed: s3://b/k exists with different content") and "--" not in state
        assert state.endswith(CONFLICT_ADVICE) and "Replace all" in state
