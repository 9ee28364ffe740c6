"""Help › Keyboard shortcuts: every shortcut of the window as a table that scrolls, in a dialog no
taller than the screen it opens on (a message box grew to the table's 860 px and did not fit a
768 px screen)."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

SCREEN_SHARE = 0.85  # of the screen's available height, at most


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str, str]], notes: str, parent: QWidget | None = None):
        """`rows`: (menu, action, keys) of every shortcut; `notes`: a paragraph below the table."""
        super().__init__(parent)
        self.setObjectName("shortcutsBox")
        self.setWindowTitle("Keyboard shortcuts")
        body = "".join(f"<tr><td>{escape(m)}</td><td>{escape(a)}</td><td><b>{escape(k)}</b></td></tr>"
                       for m, a, k in rows)
        self._html = (f"<table cellspacing='6'><tr><th align='left'>Menu</th><th align='left'>Action</th>"
                      f"<th align='left'>Keys</th></tr>{body}</table><p>{escape(notes)}</p>")
        self.view = QTextBrowser(self)
        self.view.setObjectName("shortcutsText")
        self.view.setAccessibleName("Keyboard shortcuts")
        self.view.setOpenLinks(False)
        self.view.setHtml(self._html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self._fit(rows)

    def text(self) -> str:
        """The table and notes, as HTML (what a message box's text() gave)."""
        return self._html

    def _fit(self, rows) -> None:
        """As wide as the table's columns, as tall as its rows, but within SCREEN_SHARE of the
        screen: the rest scrolls."""
        fm = self.view.fontMetrics()
        bold = QFont(self.view.font())
        bold.setBold(True)
        bm = QFontMetrics(bold)
        columns = [max([fm.horizontalAdvance(r[i]) for r in rows] + [bm.horizontalAdvance(h)])
                   for i, h in enumerate(("Menu", "Action"))]
        columns.append(max([bm.horizontalAdvance(r[2]) for r in rows] + [bm.horizontalAdvance("Keys")]))
        width = sum(columns) + 6 * 4 + 4 * 3 + 2 * self.view.frameWidth() + \
            self.view.verticalScrollBar().sizeHint().width() + 40
        self.view.document().setTextWidth(width - 40)
        height = int(self.view.document().size().height()) + 90
        screen = self.parentWidget().screen() if self.parentWidget() is not None else self.screen()
        if screen is not None:
            room = screen.availableGeometry()
            height = min(height, int(room.height() * SCREEN_SHARE))
            width = min(width, int(room.width() * SCREEN_SHARE))
        self.resize(width, height)
