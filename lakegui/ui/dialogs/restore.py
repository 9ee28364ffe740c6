"""Ask S3 to restore archived objects (Glacier, Deep Archive): the tier and for how many days."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout

from ...core.tagging import TIERS

# How long each tier takes (AWS's published times): Glacier Flexible Retrieval, Deep Archive.
TIMES = {"Standard": ("3–5 hours", "within 12 hours"), "Bulk": ("5–12 hours", "within 48 hours"),
         "Expedited": ("1–5 minutes", None)}


def already_text(states: list, count: int) -> str:
    """What the dialog says of objects restored before, from the Restore column's states (None
    where not known yet); '' when none is known to be restored or under way."""
    readable = sorted((s for s in states if s is not None and s.readable),
                      key=lambda s: s.expiry or datetime.max.replace(tzinfo=timezone.utc))
    ongoing = sum(1 for s in states if s is not None and s.ongoing)
    again = "keeps {} for the days chosen, counted from now."
    parts = []
    if readable and count == 1:
        parts.append(f"It is already {readable[0].describe()}: restoring it again {again.format('it')}")
    elif readable:
        first = readable[0].describe().removeprefix("restored ")
        verb = "is" if len(readable) == 1 else "are"
        parts.append(f"{len(readable):,} of them {verb} already restored ({'' if len(readable) == 1 else 'the earliest '}{first}): restoring "
                     f"{'it' if len(readable) == 1 else 'them'} again {again.format('it' if len(readable) == 1 else 'them')}")
    if ongoing and count == 1:
        parts.append("It is already being restored: S3 refuses another request until that one is done.")
    elif ongoing:
        parts.append(f"{ongoing:,} of them {'is' if ongoing == 1 else 'are'} already being restored: S3 refuses "
                     "another request for those until theirs is done.")
    return " ".join(parts)


class RestoreDialog(QDialog):
    def __init__(self, what: str, deep: bool = False, parent=None, already: str = ""):
        """`what` names the objects; `deep` when some are in Deep Archive (no Expedited tier there);
        `already` what is known of restores asked before (restored until, under way)."""
        super().__init__(parent)
        self.setObjectName("RestoreDialog")
        self.setWindowTitle("Restore from archive")
        self.deep = deep
        self.tier_box = QComboBox(self)
        self.tier_box.setObjectName("tierBox")
        self.tier_box.setAccessibleName("Tier")
        self.tier_box.addItems(list(TIERS))
        self.days = QSpinBox(self)
        self.days.setObjectName("daysBox")
        self.days.setAccessibleName("Days")
        self.days.setRange(1, 36500)
        self.days.setValue(7)
        self.days.setSuffix(" days")
        self.about = QLabel(self)
        self.about.setWordWrap(True)
        self.tier_box.currentTextChanged.connect(self._on_tier_box_current_text_changed)
        intro = QLabel(f"Ask S3 to make {what} readable again. S3 keeps the restored copy for the days "
                       "chosen (billed as Standard storage); the archived object stays as it is.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Tier:", self.tier_box)
        form.addRow("Keep for:", self.days)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restore")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if already:
            note = QLabel(already, self)
            note.setObjectName("alreadyLabel")
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.about)
        layout.addWidget(self.buttons)
        self._on_tier_box_current_text_changed(self.tier_box.currentText())
        self.setMinimumWidth(500)

    def request(self) -> tuple[str, int]:
        """(tier, days) as chosen."""
        return self.tier_box.currentText(), self.days.value()

    def _on_tier_box_current_text_changed(self, tier: str) -> None:
        glacier, deep = TIMES.get(tier, ("", ""))
        text = f"Glacier: ready in {glacier}." if glacier else ""
        if self.deep:
            text += f" Deep Archive: ready {deep}." if deep else " Deep Archive has no Expedited tier: " \
                                                                 "its objects will refuse it."
        self.about.setText(text.strip())
