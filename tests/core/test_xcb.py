"""Missing X11 libraries are named before Qt loads (issue 18, defect 11)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from lakegui import __main__ as entry
from lakegui.core import xcb

# What `ldd libQt6XcbQpa.so.6` printed on a minimal Debian with libxcb-cursor0 installed.
LDD = """\
\tlinux-vdso.so.1 (0x00007ffc8a1f1000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1d4e379000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f1d4e30c000)
\tlibxcb-icccm.so.4 => not found
\tlibfoo-x.so.9 => not found
"""


def test_ldd_output_names_exactly_what_is_missing():
    assert xcb.missing_in(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo-x.so.9"]


def test_hint_names_the_packages_not_xcb_cursor():
    hint = xcb.install_hint(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo-x.so.9"])
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in hint
    assert "libxcb-cursor0" not in hint
    assert "libfoo-x.so.9" in hint


def test_only_an_x11_start_is_checked():
    assert xcb.wants_xcb({}, "linux")
    assert xcb.wants_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not xcb.wants_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not xcb.wants_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not xcb.wants_xcb({}, "darwin")


def test_lakegui_says_what_to_install_and_exits_before_qt(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(xcb, "missing_libraries", lambda: ["libxcb-icccm.so.4"])
    loaded_before = "PySide6.QtWidgets" in sys.modules
    assert entry.main(["--demo"]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "apt-get install libxcb-icccm4" in err
    assert loaded_before or "PySide6.QtWidgets" not in sys.modules


def test_the_real_check_agrees_with_ldd():
    lib = xcb.plugin_library()
    if lib is None or shutil.which("ldd") is None:
        pytest.skip("PySide6 without the X11 plugin, or no ldd to compare with")
    needed = xcb.needed_libraries(lib)
    assert "libxcb.so.1" in needed and "libxcb-cursor.so.0" in needed
    out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True).stdout
    assert xcb.missing_libraries() == xcb.missing_in(out)
