"""The Restore dialog says what is known of restores asked before (a new user could not tell an
object was restored already, nor that asking again resets its days)."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtWidgets import QLabel

from lakegui.core.tagging import RestoreState
from lakegui.ui.dialogs.restore import RestoreDialog, already_text

UNTIL = datetime(2026, 12, 8, 10, 0, tzinfo=timezone.utc)


def test_already_text_names_restored_and_ongoing_objects_and_is_empty_when_nothing_is_known():
    restored, ongoing, cold = RestoreState(True, False, UNTIL), RestoreState(True, True), RestoreState(False)
    assert already_text([None, cold], 2) == ""
    assert already_text([restored], 1) == ("It is already restored until 2026-12-08 10:00 UTC: restoring it again "
                                           "keeps it for the days chosen, counted from now.")
    assert already_text([ongoing], 1).startswith("It is already being restored: S3 refuses")
    assert already_text([restored, cold], 2).startswith("1 of them is already restored (until "
                                                        "2026-12-08 10:00 UTC): restoring it again keeps it")
    text = already_text([restored, RestoreState(True, False, datetime(2027, 1, 1, tzinfo=timezone.utc)),
                         ongoing, None], 4)
    assert text.startswith("2 of them are already restored (the earliest until 2026-12-08 10:00 UTC)")
    assert "1 of them is already being restored" in text


def test_the_dialog_shows_the_note_only_when_there_is_one(qtbot):
    plain = RestoreDialog("2 archived objects")
    qtbot.addWidget(plain)
    assert plain.findChild(QLabel, "alreadyLabel") is None
    noted = RestoreDialog("1 archived object", already="It is already restored until 2026-12-08 10:00 UTC.")
    qtbot.addWidget(noted)
    label = noted.findChild(QLabel, "alreadyLabel")
    assert label is not None and label.text().startswith("It is already restored")
