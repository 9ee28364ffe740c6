"""Buckets: the names S3 accepts, and the buckets a connection may list."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import Connection

_ALLOWED = re.compile(r"^[a-z0-9.\-]*$")
_ENDS = re.compile(r"^[a-z0-9](.*[a-z0-9])?$")


def bucket_name_problem(name: str) -> str:
    """What is wrong with `name` as a bucket name, naming the rule it breaks; '' when it is valid.

    The rules are S3's for general-purpose buckets: 3-63 characters; lowercase letters, digits,
    '.' and '-'; a letter or digit first and last; no '..'; not an IP address."""
    start = f"'{name}' is not a valid bucket name:"
    if not 3 <= len(name) <= 63:
        return f"{start} it must be 3–63 characters long (it has {len(name)})."
    if not _ALLOWED.match(name):
        bad = ", ".join(repr(c) for c in sorted({c for c in name if not _ALLOWED.match(c)}))
        return f"{start} only lowercase letters, digits, '.' and '-' are allowed (it has {bad})."
    if not _ENDS.match(name):
        return f"{start} it must start and end with a letter or digit."
    if ".." in name:
        return f"{start} it must not contain '..'."
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return ""
    return f"{start} it must not be an IP address."


def list_buckets(connection: Connection) -> list[str]:
    """The names of the buckets the connection's credentials may list, sorted.

    Raises what the client raises (e.g. AccessDenied when the account may not list buckets)."""
    resp = connection.client().list_buckets()
    return sorted(b["Name"] for b in resp.get("Buckets", []))
