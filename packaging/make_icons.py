"""Render the app icon (resources/lakegui.svg) to the PNG sizes a bundle and desktop need.

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py OUTDIR

Generated at build time, never committed: the SVG is the source.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    from lakegui.ui.resources import render_svg

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/icons")
    out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication([sys.argv[0]])  # rendering needs an application; keep it alive
    svg = Path(__file__).resolve().parents[1] / "resources" / "lakegui.svg"
    try:
        for size in SIZES:
            render_svg(svg.read_bytes(), size).save(str(out / f"lakegui-{size}.png"))
    except ValueError as exc:
        print(f"make_icons: {svg}: {exc}", file=sys.stderr)
        return 1
    print(f"make_icons: {len(SIZES)} sizes in {out}")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
