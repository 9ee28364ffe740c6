"""Human-readable sizes, speeds and durations, shared by the CLI and the GUI."""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def counted(n: int, noun: str, plural: str = "") -> str:
    """3, 'key' -> '3 keys'; 1 -> '1 key'; 2,000, 'entry', 'entries' -> '2,000 entries'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def human_size(n: int | float | None) -> str:
    """1536 -> '1.5 KB' (powers of 1024, as file managers show)."""
    if n is None:
        return ""
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1024 or unit == _UNITS[-1]:
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""  # unreachable


def human_duration(seconds: float | None) -> str:
    """75 -> '1m 15s'; None or negative -> '' (unknown)."""
    if seconds is None or seconds < 0:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"

