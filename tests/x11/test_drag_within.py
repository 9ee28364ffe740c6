"""Dragging a folder onto another folder row, or onto a breadcrumb segment, in the real window
over X11's drag and drop: a move; with Ctrl held, a copy (issue 20). Needs Xvfb, xdotool and Qt's
xcb plugin; skipped where they are missing, as on CI."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from lakegui.core.demo import YEARS
from tests.x11.test_drag_out import HERE, _line, display  # noqa: F401  (the fixture)

DAILY = "data/ticks/daily/"


def _drag(env, ctrl: bool, onto: str) -> tuple[str, list[str]]:
    window = subprocess.Popen([sys.executable, str(HERE / "mover.py")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        ready = _line(window, "ready", 60).split()[1:]
        (ax, ay), (mx, my), (cx, cy) = ready[0:2], ready[2:4], ready[4:6]
        to_x, to_y = (mx, my) if onto == "row" else (cx, cy)

        def xdo(*args):
            subprocess.run(["xdotool", *args], env=env, check=True)

        xdo("mousemove", ax, ay)
        xdo("mousedown", "1")
        if ctrl:
            xdo("keydown", "ctrl")
        for step in range(1, 9):  # a drag starts after a few moves; end on the target
            x = int(ax) + (int(to_x) - int(ax)) * step // 8
            y = int(ay) + (int(to_y) - int(ay)) * step // 8
            xdo("mousemove", str(x), str(y))
            time.sleep(0.15)
        xdo("mouseup", "1")
        if ctrl:
            xdo("keyup", "ctrl")
        text = _line(window, "ended", 60).split(" ", 1)[1].strip()
        keys = _line(window, "keys", 10).split()[1:]
        return text, keys
    finally:
        window.kill()
        window.wait(10)
        window.stdout.close()


@pytest.mark.parametrize("ctrl", [False, True], ids=["move", "ctrl-copy"])
def test_a_folder_dragged_onto_a_folder_row_moves_or_copies(display, ctrl):  # noqa: F811
    text, keys = _drag(display, ctrl, "row")
    assert text.startswith(("Copied" if ctrl else "Moved") + f" {len(YEARS)} objects to s3://")
    inside = [f"{DAILY}MSFT/AAPL/{y}/ticks.parquet" for y in YEARS]
    assert sorted(keys) == sorted(inside + ([f"{DAILY}AAPL/{y}/ticks.parquet" for y in YEARS] if ctrl else []))


def test_a_folder_dragged_onto_a_breadcrumb_segment_moves_there(display):  # noqa: F811
    text, keys = _drag(display, False, "crumb")
    assert text.startswith(f"Moved {len(YEARS)} objects to s3://")
    assert sorted(keys) == [f"data/AAPL/{y}/ticks.parquet" for y in YEARS]
