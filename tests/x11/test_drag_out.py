"""Dragging a folder out of the real window into another process over X11's drag and drop, as a
file manager would take it. Needs Xvfb, xdotool and Qt's xcb plugin (its system libraries);
skipped where they are missing, as on CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakegui.core.demo import YEARS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def _xcb_env(display: str) -> dict:
    return dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
                AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")


def _line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no '{prefix}' line from {proc.args}")


@pytest.fixture
def display():
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        pytest.skip("Xvfb and xdotool are not installed")
    # Xvfb picks a free display and writes its number to the pipe: tests run on two workers at
    # once (pytest-xdist), and a fixed or pid-derived number could meet a display already in use.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1400x900x24"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,))
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        env = _xcb_env(f":{number}")
        probe = subprocess.run([sys.executable, "-c", "from PySide6.QtGui import QGuiApplication as A; A([])"],
                               env=env, capture_output=True, timeout=30)
        if probe.returncode != 0:
            pytest.skip("Qt's xcb platform plugin cannot load here")
        yield env
    finally:
        server.terminate()
        server.wait(10)


def test_dragging_a_folder_to_another_app_hands_over_its_files(display, tmp_path):
    out = tmp_path / "dropped-here"
    out.mkdir()
    procs = []
    try:
        target = subprocess.Popen([sys.executable, str(HERE / "droptarget.py"), str(out)], env=display,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(target)
        source = subprocess.Popen([sys.executable, str(HERE / "dragsource.py")], env=display,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(source)
        _line(target, "ready", 30)
        x, y = _line(source, "ready", 60).split()[1:]

        def xdo(*args):
            subprocess.run(["xdotool", *args], env=display, check=True)

        xdo("mousemove", x, y)
        xdo("mousedown", "1")
        for to in (120, 200, 400, 700, 1000, 1100, 1150):  # a drag starts after a few moves
            xdo("mousemove", str(to), "200")
            time.sleep(0.15)
        xdo("mouseup", "1")
        assert _line(target, "dropped", 60).split() == ["dropped", "1"]
        target.wait(10)
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
            p.stdout.close()
    got = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert got == [f"AAPL/{y}/ticks.parquet" for y in YEARS]
