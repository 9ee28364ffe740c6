"""Loading files from resources/: installed (as the lakegui.resources package) or from a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_path(name: str) -> Path:
    try:
        path = Path(str(resources.files("lakegui.resources") / name))
        if path.exists():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "resources" / name  # running from a checkout


def app_icon() -> QIcon:
    return QIcon(str(resource_path("lakegui.svg")))


ICON_SIZES = (16, 20, 24, 32, 48, 64)
_icons: dict[tuple[str, str], QIcon] = {}


def render_svg(data: bytes, size: int):
    """An SVG drawn into a transparent square image of `size` pixels."""
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(data))
    if not renderer.isValid():
        raise ValueError("not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def icon(name: str) -> QIcon:
    """An action or file-type icon from resources/icons/NAME.svg, drawn in the palette's text
    colour (so it reads on light and dark alike) at every size a high-DPI screen may ask for."""
    from PySide6.QtGui import QGuiApplication, QPalette, QPixmap

    colour = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name()
    cached = _icons.get((name, colour))
    if cached is not None:
        return cached
    data = resource_path(f"icons/{name}.svg").read_bytes().replace(b"currentColor", colour.encode())
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(QPixmap.fromImage(render_svg(data, size)))
    _icons[(name, colour)] = result
    return result
