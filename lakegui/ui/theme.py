"""Light and dark: follow the system's colour scheme (and its changes), or a choice in Settings.

Qt follows the desktop's scheme where its platform theme reports one; where it reports none, or
the user chose one, lakegui sets Fusion with a palette of its own, so both schemes look the same
everywhere (and can be rendered offscreen for the README)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#2b2d31", QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#26282c",
    QPalette.ColorRole.ToolTipBase: "#3a3d43", QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.PlaceholderText: "#8c8f94", QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#35373c", QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#45484e",
    QPalette.ColorRole.Midlight: "#3a3d42", QPalette.ColorRole.Mid: "#2f3136",
    QPalette.ColorRole.Dark: "#1a1b1e", QPalette.ColorRole.Shadow: "#111214",
    QPalette.ColorRole.Highlight: "#3574f0", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8ff", QPalette.ColorRole.LinkVisited: "#b08cff",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7d82"))
    return palette


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply a theme; returns the scheme in use ('light' or 'dark')."""
    system_dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    dark = choice == "dark" or (choice == "system" and system_dark)
    if choice == "system" and not system_dark:
        app.setPalette(app.style().standardPalette())
        return "light"
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"


def follow_system(app: QApplication, choice_of) -> None:
    """Re-apply when the desktop switches scheme; `choice_of()` gives the current setting."""
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app, choice_of()))
