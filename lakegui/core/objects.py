"""What S3 says about one object (HEAD), in a plain form the CLI and GUI both show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ObjectProperties:
    bucket: str
    key: str
    size: int
    content_type: str
    etag: str
    last_modified: datetime | None
    storage_class: str
    server_side_encryption: str
    checksums: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def head(client, bucket: str, key: str) -> ObjectProperties:
    """HEAD one object; raises botocore errors for the caller to classify."""
    r = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    checksums = {k[len("Checksum"):]: v for k, v in r.items()
                 if k.startswith("Checksum") and k != "ChecksumType" and isinstance(v, str)}
    return ObjectProperties(
        bucket=bucket,
        key=key,
        size=int(r.get("ContentLength", 0)),
        content_type=r.get("ContentType", ""),
        etag=str(r.get("ETag", "")).strip('"'),
        last_modified=r.get("LastModified"),
        storage_class=r.get("StorageClass", "STANDARD"),
        server_side_encryption=r.get("ServerSideEncryption", ""),
        checksums=checksums,
        metadata=dict(r.get("Metadata", {})),
    )
