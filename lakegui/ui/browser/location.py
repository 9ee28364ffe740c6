"""Where the browser is: a connection, a bucket of it and a prefix. The views that show what the
browser shows (preview, coverage, status bar) follow this rather than keeping copies of their own."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.connection import Connection


@dataclass(frozen=True)
class Location:
    connection: Connection | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.bucket else ""

    def same_bucket(self, other: Location) -> bool:
        return (self.connection, self.bucket) == (other.connection, other.bucket)

    def describe(self) -> str:
        """The connection, naming the bucket shown (which may not be the profile's)."""
        if self.connection is None:
            return "Not connected"
        return self.connection.describe(bucket=self.bucket)
