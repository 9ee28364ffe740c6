"""Choosing the transfer backend: awscrt's native S3 client when it is installed and can serve
the connection (fast, especially on many small files), s3transfer otherwise (the reference,
and the one that limits bandwidth)."""

from __future__ import annotations

import logging

from ..connection import Connection
from ..settings import TransferSettings
from .engine import EngineBase

log = logging.getLogger(__name__)
BACKENDS = ("auto", "awscrt", "s3transfer")


def unsupported_reason(connection: Connection, settings: TransferSettings) -> str:
    """'' when the awscrt backend can serve this connection, else the reason it cannot."""
    try:
        from . import crt_engine
    except ImportError:
        return "awscrt is not installed"
    return crt_engine.unsupported_reason(connection, settings)


def make_engine(connection: Connection, settings: TransferSettings, **options) -> EngineBase:
    """The engine for a connection, as `settings.engine` asks ('auto' picks awscrt when it can)."""
    choice = getattr(settings, "engine", "auto")
    if choice in ("auto", "awscrt"):
        reason = unsupported_reason(connection, settings)
        if not reason:
            from .crt_engine import CrtEngine

            try:
                return CrtEngine(connection, settings, **options)
            except Exception as exc:  # the native client could not start: the reference still works
                reason = f"the native client failed to start ({exc})"
        log.info("using s3transfer for %s: %s", connection.describe(), reason)
    from .s3transfer_engine import S3TransferEngine  # here: a native transfer never loads s3transfer's manager

    return S3TransferEngine(connection, settings, **options)
