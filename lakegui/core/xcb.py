"""Which system libraries Qt's X11 plugin lacks, found before Qt loads.

Without them Qt aborts the process with "Could not load the Qt platform plugin xcb", naming
libxcb-cursor0 whatever is really missing. The plugin's own library lists the sonames it needs
(its ELF DT_NEEDED entries); each system one is asked of the dynamic loader, so the message can
name exactly the packages to install. (`ldd` would say the same, but it is a shell script, and
lakegui runs no shell.)
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from pathlib import Path

# Debian/Ubuntu package of each library Qt's xcb plugin links against (others fall back to the soname).
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def missing_in(ldd_output: str) -> list[str]:
    """The sonames an `ldd` listing printed as 'not found', in its order, once each."""
    missing: list[str] = []
    for line in ldd_output.splitlines():
        name, sep, where = line.strip().partition("=>")
        if sep and where.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED sonames of a 64-bit little-endian ELF shared object, in order."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next((s for s in sections if s[1] == 6), None)  # SHT_DYNAMIC
    if dynamic is None:
        return []
    strtab = sections[dynamic[6]]  # sh_link: the dynamic string table
    names = []
    for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, off)
        if tag == 0:  # DT_NULL
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + value
            names.append(data[start:data.index(b"\0", start)].decode())
    return names


def loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def wants_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """True when Qt would load its X11 plugin: Linux, and no other platform plugin asked for."""
    if not platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0].split(";")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def plugin_library() -> Path | None:
    spec = importlib.util.find_spec("PySide6")  # finds the package without loading Qt
    if spec is None or not spec.origin:
        return None
    lib = Path(spec.origin).parent / "Qt" / "lib" / "libQt6XcbQpa.so.6"
    return lib if lib.exists() else None


def missing_libraries() -> list[str]:
    """Sonames Qt's X11 plugin needs and the loader cannot find; [] when all is there or unknown."""
    lib = plugin_library()
    if lib is None:
        return []
    try:
        needed = needed_libraries(lib)
    except (OSError, struct.error, ValueError):
        return []
    # Qt's own libraries sit beside the plugin and are found through its RPATH, not by name.
    return [name for name in needed if not name.startswith("libQt6") and not loadable(name)]


def install_hint(missing: list[str]) -> str:
    """What to tell a person whose system lacks `missing`."""
    packages = [DEBIAN_PACKAGES[m] for m in missing if m in DEBIAN_PACKAGES]
    unknown = [m for m in missing if m not in DEBIAN_PACKAGES]
    lines = ["lakegui: Qt's X11 plugin cannot start: these system libraries are missing: "
             + ", ".join(missing) + "."]
    if packages:
        lines.append("On Debian or Ubuntu install them with:\n  sudo apt-get install " + " ".join(packages))
    if unknown:
        lines.append("Install the packages that provide " + ", ".join(unknown) + " with your system's package manager.")
    lines.append("Or run without a display: QT_QPA_PLATFORM=offscreen lakegui --demo --screenshot shot.png")
    return "\n".join(lines)
