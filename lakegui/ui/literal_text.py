"""Names shown on buttons and menu items as they are: Qt reads `&` there as a shortcut marker."""

from __future__ import annotations


def literal(text: str) -> str:
    """A key's or folder's name for a button's or action's text: 'europe & asia' stayed 'europe _asia'."""
    return text.replace("&", "&&")
