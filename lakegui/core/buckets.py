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


COUNT_UP_TO = 10_000  # objects counted before a non-empty bucket's refusal says "at least"


def bucket_contents(client, bucket: str, *, up_to: int = COUNT_UP_TO) -> str:
    """What keeps `bucket` from being deleted, for a person ('' when it is empty): its objects,
    counted up to `up_to`, or the old versions and delete markers a versioned bucket keeps."""
    count, token, more = 0, None, False
    while True:
        kwargs = {"Bucket": bucket, "MaxKeys": min(1000, up_to - count)}
        if token:
            kwargs["ContinuationToken"] = token
        page = client.list_objects_v2(**kwargs)
        count += len(page.get("Contents", []))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            break
        if count >= up_to:
            more = True
            break
    if count:
        n = f"at least {count:,}" if more else f"{count:,}"
        return f"s3://{bucket} holds {n} object{'' if count == 1 and not more else 's'}: " \
               "only an empty bucket can be deleted."
    try:
        versions = client.list_object_versions(Bucket=bucket, MaxKeys=1000)
    except Exception:  # a server without versioning has nothing more to say
        return ""
    kept = len(versions.get("Versions", [])) + len(versions.get("DeleteMarkers", []))
    if kept:
        n = f"{kept:,}{'+' if versions.get('IsTruncated') else ''}"
        return (f"s3://{bucket} holds no objects but keeps {n} old versions or delete markers "
                "(it is versioned): only an empty bucket can be deleted.")
    return ""


def bucket_exists(client, bucket: str) -> str:
    """'' when no bucket has this name; 'yours' when these credentials may open it; 'taken' when it is
    another account's (HEAD answers 403). Checked before creating: in us-east-1 S3 answers a second
    CreateBucket of one's own bucket with success, which would hide the clash."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if status == 404 or code in ("404", "NoSuchBucket", "NotFound"):
            return ""
        if status == 403 or code in ("403", "AccessDenied", "Forbidden"):
            return "taken"
        raise
    return "yours"
