"""Object settings beyond metadata: tags, storage class, Glacier restores, and new buckets.
Plain functions over a boto3 client, shared by the CLI and the window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .buckets import bucket_name_problem

TIERS = ("Standard", "Bulk", "Expedited")
DEEP_ARCHIVE_TIERS = ("Standard", "Bulk")  # S3 refuses Expedited for Deep Archive
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # classes whose objects must be restored to be read
STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER",
                   "DEEP_ARCHIVE", "REDUCED_REDUNDANCY")
MAX_TAGS = 10  # S3's limit per object


def parse_tags(pairs: list[str]) -> dict[str, str]:
    """{key: value} from 'k=v' words; ValueError naming the bad one (S3 allows 10 tags, keys of
    at most 128 characters and values of 256)."""
    tags: dict[str, str] = {}
    for pair in pairs:
        k, sep, v = pair.partition("=")
        if not sep or not k:
            raise ValueError(f"a tag is KEY=VALUE, not '{pair}'")
        if len(k) > 128 or len(v) > 256:
            raise ValueError(f"tag '{k}' is too long: keys take 128 characters, values 256")
        tags[k] = v
    if len(tags) > MAX_TAGS:
        raise ValueError(f"S3 keeps at most {MAX_TAGS} tags on an object, not {len(tags)}")
    return tags


def get_tags(client, bucket: str, key: str) -> dict[str, str]:
    """The object's tags (GetObjectTagging)."""
    resp = client.get_object_tagging(Bucket=bucket, Key=key)
    return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}


def put_tags(client, bucket: str, key: str, tags: dict[str, str]) -> None:
    """Replace the object's tags with `tags` (PutObjectTagging; an empty dict removes them)."""
    client.put_object_tagging(Bucket=bucket, Key=key,
                              Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


@dataclass(frozen=True)
class RestoreState:
    """What HEAD's x-amz-restore says: no restore asked (requested False), one in progress, or a
    copy readable until `expiry`."""

    requested: bool
    ongoing: bool = False
    expiry: datetime | None = None

    @property
    def readable(self) -> bool:
        return self.requested and not self.ongoing

    def describe(self) -> str:
        if not self.requested:
            return "not restored"
        if self.ongoing:
            return "restore in progress"
        return f"restored until {self.expiry:%Y-%m-%d %H:%M} UTC" if self.expiry else "restored"


_ONGOING = re.compile(r'ongoing-request\s*=\s*"(true|false)"', re.I)
_EXPIRY = re.compile(r'expiry-date\s*=\s*"([^"]+)"', re.I)


def parse_restore(header: str | None) -> RestoreState:
    """Parse x-amz-restore ('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')."""
    if not header:
        return RestoreState(False)
    m = _ONGOING.search(header)
    ongoing = bool(m and m.group(1).lower() == "true")
    expiry = None
    if e := _EXPIRY.search(header):
        from email.utils import parsedate_to_datetime

        try:
            expiry = parsedate_to_datetime(e.group(1))
        except (TypeError, ValueError):
            expiry = None
    return RestoreState(True, ongoing, expiry)


def restore_state(client, bucket: str, key: str) -> tuple[str, RestoreState]:
    """(storage class, restore state) from one HEAD."""
    r = client.head_object(Bucket=bucket, Key=key)
    return r.get("StorageClass", "STANDARD"), parse_restore(r.get("Restore"))


def request_restore(client, bucket: str, key: str, days: int, tier: str = "Standard") -> str:
    """Ask S3 to restore an archived object for `days` days at `tier`. Returns 'started' (202),
    'already restored' (200: the days are updated) or raises (InvalidObjectState for an object
    that is not archived, RestoreAlreadyInProgress)."""
    if not 1 <= days <= 36500:
        raise ValueError(f"--days must be 1 to 36,500, not {days}")
    if tier not in TIERS:
        raise ValueError(f"the tier is one of {', '.join(TIERS)}, not '{tier}'")
    resp = client.restore_object(Bucket=bucket, Key=key,
                                 RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}})
    return "already restored" if resp.get("ResponseMetadata", {}).get("HTTPStatusCode") == 200 else "started"


def tier_problem(storage_class: str, tier: str) -> str:
    """Why S3 would refuse to restore an object of `storage_class` at `tier`, for a person; ''
    when it takes it. Deep Archive has no Expedited tier (S3 answers InvalidArgument)."""
    if storage_class == "DEEP_ARCHIVE" and tier not in DEEP_ARCHIVE_TIERS:
        return f"Deep Archive has no {tier} tier: its objects are restored at {' or '.join(DEEP_ARCHIVE_TIERS)}"
    return ""


def create_bucket(client, name: str, region: str = "") -> None:
    """Create a bucket after checking its name against S3's rules (ValueError with the reason).
    Outside us-east-1 S3 wants the region as a location constraint."""
    problem = bucket_name_problem(name)
    if problem:
        raise ValueError(problem)
    kwargs = {"Bucket": name}
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**kwargs)


def delete_empty_bucket(client, name: str) -> None:
    """Delete a bucket; S3 refuses one that still holds objects (BucketNotEmpty)."""
    client.delete_bucket(Bucket=name)


_TAG_TEXT = re.compile(r"^[\w\s+\-=.:/@]*$")  # S3: letters, digits, spaces and + - = . _ : / @


def tags_problem(pairs: list[tuple[str, str]]) -> str:
    """What S3 would refuse in these (key, value) tags, for a person; '' when they are fine.

    S3's rules: at most 10 tags, each key once, keys of 1-128 characters not starting with
    'aws:', values of at most 256, both of letters, digits, spaces and + - = . _ : / @."""
    keys = [k for k, _ in pairs]
    if len(pairs) > MAX_TAGS:
        return f"An object takes at most {MAX_TAGS} tags; remove {len(pairs) - MAX_TAGS}."
    for key, value in pairs:
        if not key:
            return "Every tag needs a key (a value alone is not a tag)."
        if len(key) > 128:
            return f"The key '{key[:20]}…' has {len(key)} characters; S3 takes 128 at most."
        if len(value) > 256:
            return f"The value of '{key}' has {len(value)} characters; S3 takes 256 at most."
        if key.lower().startswith("aws:"):
            return f"'{key}': keys starting with 'aws:' are reserved for AWS."
        for text, what in ((key, "key"), (value, "value")):
            if not _TAG_TEXT.match(text):
                bad = ", ".join(repr(c) for c in sorted({c for c in text if not _TAG_TEXT.match(c)}))
                return f"The {what} '{text}' has {bad}: tags take letters, digits, spaces and + - = . _ : / @."
    if dup := next((k for i, k in enumerate(keys) if k in keys[:i]), None):
        return f"The key '{dup}' appears twice; each key can appear once."
    return ""


def archive_problem(storage_class: str, state: RestoreState, uri: str) -> str:
    """Why an object cannot be read yet (archived and not restored), for a person; '' when it can."""
    if storage_class not in ARCHIVED or state.readable:
        return ""
    name = "Deep Archive" if storage_class == "DEEP_ARCHIVE" else "Glacier"
    if state.ongoing:
        return (f"{uri} is in {name} and its restore is still in progress: it can be read once the restore "
                "has finished (hours for the Standard and Bulk tiers).")
    return (f"{uri} is in {name} and has not been restored: choose Restore… (or `lakegui-cli restore`) "
            "and read it once the restore has finished.")
