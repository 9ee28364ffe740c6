"""The path bar: an editable s3:// path that, when too long for its width and not being edited,
shows its start and end with an ellipsis in the middle (the bucket and the folder you are in),
rather than QLineEdit's scrolled tail ("/02/").

It gives the window's shortcuts their keys: on X11 QLineEdit claims Ctrl+U (delete the line) and
Ctrl+K (delete to its end), which are Upload… and Connect… here; only the keys that edit text
(typing, copy and paste, undo, select all, moving by word) stay with the box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import QLineEdit, QMenu, QStyle, QStyleOptionFrame, QWidget

_MARGIN = 2  # QLineEdit's own horizontal margin inside the contents rectangle
_K = QKeySequence.StandardKey
# The editing keys the box keeps even where a window action has the same keys.
_EDITING = (_K.Copy, _K.Cut, _K.Paste, _K.Undo, _K.Redo, _K.SelectAll, _K.MoveToNextWord, _K.MoveToPreviousWord,
            _K.SelectNextWord, _K.SelectPreviousWord, _K.DeleteStartOfWord, _K.DeleteEndOfWord)
_COMMANDS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier


class PathEdit(QLineEdit):
    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self.window_takes(event):
            event.ignore()  # not claimed: the window's shortcut runs
            return True
        return super().event(event)

    def window_takes(self, event) -> bool:
        """Whether a key press is an enabled window action's shortcut that the box should not claim."""
        if not event.modifiers() & _COMMANDS:
            return False  # typing, Backspace, Home, End, arrows: the box's
        keys = QKeySequence(event.keyCombination())
        if any(keys.matches(k) == QKeySequence.SequenceMatch.ExactMatch for key in _EDITING
               for k in QKeySequence.keyBindings(key)):
            return False
        for action in self.window().findChildren(QAction):
            if action.isEnabled() and self._reaches(action) and any(
                    keys.matches(s) == QKeySequence.SequenceMatch.ExactMatch for s in action.shortcuts()):
                return True
        return False

    def _reaches(self, action: QAction) -> bool:
        """Whether the action's shortcut would fire with focus in this box."""
        context = action.shortcutContext()
        widgets = [w for w in action.associatedObjects() if isinstance(w, QWidget)]
        if context == Qt.ShortcutContext.WidgetShortcut:
            return False
        if context == Qt.ShortcutContext.WidgetWithChildrenShortcut:
            return any(w.isAncestorOf(self) for w in widgets)
        return any(_window_of(w) is self.window() for w in widgets)  # not another window's (Query…)

    def displayed_text(self) -> str:
        """What the bar shows: the whole text while it is edited or fits, else the text elided in the middle."""
        if self.hasFocus():
            return self.text()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self._text_rect().width())

    def _text_rect(self) -> QRect:
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        rect = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        m = self.textMargins()
        return rect.adjusted(m.left() + _MARGIN, m.top(), -m.right() - _MARGIN, -m.bottom())

    def paintEvent(self, event) -> None:
        shown = self.displayed_text()
        if shown == self.text():
            super().paintEvent(event)
            return
        # The frame as QLineEdit paints it, then the elided text where its text would go.
        painter = QPainter(self)
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelLineEdit, option, painter, self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(self._text_rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()


def _window_of(widget: QWidget) -> QWidget:
    """The window a widget's shortcuts belong to: a menu's is its owner's (the menu bar's window)."""
    while isinstance(widget, QMenu) and widget.parentWidget() is not None:
        widget = widget.parentWidget()
    return widget.window()
