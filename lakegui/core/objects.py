"""What S3 says about one object (HEAD), and what a user does with objects: presign, delete,
new folder, new metadata. Plain functions the CLI and GUI both call."""

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
    restore: str = ""  # x-amz-restore as HEAD gave it ('' when no restore was asked)
    version_id: str = ""  # on a versioned bucket ('null': written while versioning was off)
    version_count: int = 0  # versions of the key (not delete markers) when counted; 0 = not counted

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def head(client, bucket: str, key: str, version_id: str = "") -> ObjectProperties:
    """HEAD one object (of `version_id`, if given); raises botocore errors for the caller to classify."""
    r = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED",
                           **({"VersionId": version_id} if version_id else {}))
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
        restore=r.get("Restore", ""),
        version_id=r.get("VersionId", "") or "",
    )


def head_if_there(client, bucket: str, key: str) -> dict | None:
    """HEAD of `key`, None when nothing is there (a 404: absent, or a delete marker on top)."""
    from .errors import NOT_FOUND_CODES, classify

    try:
        return client.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if classify(exc).code in NOT_FOUND_CODES:
            return None
        raise


def head_refused(exc: BaseException) -> bool:
    """Whether a HEAD failed for good with an answer (a write-only credential's 403, an SSE-C
    object's 400), where a listing, allowed and already made, answers as well."""
    from .errors import classify

    return getattr(exc, "response", None) is not None and classify(exc).permanent


# Presigned URLs are bearer tokens: their life is bounded (S3's own limit for SigV4 is 7 days).
MIN_EXPIRY, MAX_EXPIRY = 60, 7 * 24 * 3600


def presign_get(client, bucket: str, key: str, expires: int) -> str:
    """A URL that fetches the object without credentials for `expires` seconds (signed locally)."""
    if not MIN_EXPIRY <= expires <= MAX_EXPIRY:
        raise ValueError(f"A presigned URL must expire within 1 minute to 7 days, not {expires:,} seconds.")
    return client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)


def keys_under(client, bucket: str, prefix: str) -> list[str]:
    """Every key under `prefix` (the prefix's own marker included), from one paginated listing."""
    from .listing import PrefixLister

    return [o.key for page in PrefixLister(client, bucket, prefix, recursive=True) for o in page.objects]


@dataclass
class DeleteResult:
    deleted: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)


def delete_keys(client, bucket: str, keys: list[str], *, batch: int = 1000) -> DeleteResult:
    """Delete keys with batched DeleteObjects (1,000 a request); per-key errors are collected."""
    result = DeleteResult()
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        resp = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": False})
        result.deleted += [d["Key"] for d in resp.get("Deleted", [])]
        result.errors += [(e.get("Key", ""), f"{e.get('Code', '')}: {e.get('Message', '')}")
                          for e in resp.get("Errors", [])]
    return result


def folder_key(parent: str, name: str) -> str:
    """The marker key of a new folder `name` under `parent`; ValueError for a name S3 or a person
    would trip over."""
    name = name.strip()
    if not name:
        raise ValueError("The folder needs a name.")
    if "/" in name.strip("/"):
        raise ValueError("A folder name cannot contain '/'; create one level at a time.")
    if name in (".", ".."):
        raise ValueError(f"'{name}' cannot be a folder name.")
    key = f"{parent}{name.strip('/')}/"
    if len(key.encode("utf-8")) > 1024:
        raise ValueError("The folder's key would be longer than S3's 1,024 bytes.")
    return key


def create_folder(client, bucket: str, key: str) -> None:
    """A zero-byte marker object ending in '/', as the AWS console makes."""
    client.put_object(Bucket=bucket, Key=key, Body=b"")


def replace_metadata(client, bucket: str, key: str, props: ObjectProperties, metadata: dict[str, str]) -> None:
    """Rewrite the object onto itself with new user metadata. Only if it is still the version the
    user looked at (its ETag): an object changed meanwhile is left alone and the copy fails."""
    for k, v in metadata.items():
        if not k or not k.isascii() or not str(v).isascii():
            raise ValueError(f"Metadata '{k}' must be plain ASCII text (HTTP headers carry it).")
    extra = {"Metadata": dict(metadata), "MetadataDirective": "REPLACE", "CopySourceIfMatch": f'"{props.etag}"'}
    if props.content_type:
        extra["ContentType"] = props.content_type
    if props.storage_class and props.storage_class != "STANDARD":
        extra["StorageClass"] = props.storage_class
    if props.server_side_encryption:
        extra["ServerSideEncryption"] = props.server_side_encryption
    # boto3's managed copy: CopyObject up to 5 GB, multipart copy beyond.
    client.copy({"Bucket": bucket, "Key": key}, bucket, key, ExtraArgs=extra)
