"""In the dark palette the navigation arrows read light on dark (issue 18, defect 14)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from lakegui.ui import theme


def _mean_lightness(icon) -> float:
    image = icon.pixmap(24, 24).toImage()
    values = [QColor(image.pixel(x, y)).lightness() for x in range(image.width()) for y in range(image.height())
              if QColor.fromRgba(image.pixel(x, y)).alpha() > 128]
    assert values, "the icon draws nothing"
    return sum(values) / len(values)


def test_back_forward_and_up_arrows_are_light_in_the_dark_theme(qtbot, qapp, io_executor):
    from lakegui.ui.browser.widget import PrefixBrowser

    before = qapp.palette()
    theme.apply_theme(qapp, "dark")
    try:
        browser = PrefixBrowser(io_executor)
        qtbot.addWidget(browser)
        for action in (browser.back_action, browser.forward_action, browser.up_action):
            assert _mean_lightness(action.icon()) > 160, action.text()
    finally:
        qapp.setPalette(before)
