"""`lakegui-cli undelete` and `revert`: bring back deleted objects (remove their latest delete
markers) and make an older version the latest again (a server-side copy), on versioned buckets;
`versioning`: turn a bucket's versioning on or off (suspend it), or say its state.
(`restore` is the Glacier restore, so neither command takes that name.)"""

from __future__ import annotations

import argparse

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_connection_options,
    connection_for,
    error_message,
    fail,
    fail_usage,
    print_json,
)


def add_parser(sub) -> None:
    u = add_command(sub, "undelete", help="bring back deleted objects by removing their latest delete markers",
                    description="Remove the delete marker on top of a key (or, with --recursive, of every key "
                                "under a prefix), so the version under it is the latest again. Needs a bucket "
                                "that keeps versions.",
                    example="lakegui-cli undelete s3://us-equity-datalake/data/ticks/daily/AAPL/2020.parquet\n"
                            "lakegui-cli undelete s3://us-equity-datalake/data/ticks/daily/AAPL/ --recursive --json")
    u.add_argument("uri", metavar="s3://BUCKET/KEY")
    u.add_argument("--recursive", action="store_true", help="every deleted key under the prefix")
    add_connection_options(u)
    u.set_defaults(func=undelete_command)

    r = add_command(sub, "revert", help="make an older version of an object the latest again",
                    description="Copy version V of the key over the key, server-side: V becomes the latest "
                                "version again, and the version it replaces stays in the history.",
                    example="lakegui-cli revert s3://us-equity-datalake/ref/symbols.csv "
                            "--version-id 3HL4kqtJlcpXroDTDmJ")
    r.add_argument("uri", metavar="s3://BUCKET/KEY")
    r.add_argument("--version-id", required=True, metavar="V", help="the version to make the latest")
    add_connection_options(r)
    r.set_defaults(func=revert_command)

    v = add_command(sub, "versioning", help="turn a bucket's versioning on or off, or show it",
                    description="on: keep every version of every object from now on (a delete adds a delete "
                                "marker; undelete and revert can bring things back). off: suspend it (S3 cannot "
                                "turn it off for good): versions already written are kept, new writes and deletes "
                                "replace or remove the 'null' version. status: enabled, suspended or never.",
                    example="lakegui-cli versioning s3://us-equity-datalake on\n"
                            "lakegui-cli versioning s3://us-equity-datalake status --json")
    v.add_argument("uri", metavar="s3://BUCKET")
    v.add_argument("state", choices=["on", "off", "status"])
    add_connection_options(v)
    v.set_defaults(func=versioning_command)


def _open(args):
    """(bucket, key, connection) or an exit code."""
    from ..core.listing import parse_s3_uri

    try:
        bucket, key = parse_s3_uri(args.uri)
    except ValueError as exc:
        return fail_usage(str(exc))
    if not key:
        return fail_usage(f"{args.uri} names no key")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    return bucket, key, conn


def _unversioned(client, bucket: str) -> str:
    from ..core.versions import NEVER, versioning_state

    if versioning_state(client, bucket) == NEVER:
        return (f"s3://{bucket} does not keep versions: a deleted or replaced object there is gone, "
                "and nothing can bring it back")
    return ""


def undelete_command(args: argparse.Namespace) -> int:
    opened = _open(args)
    if isinstance(opened, int):
        return opened
    bucket, key, conn = opened
    if not args.recursive and key.endswith("/"):  # as rm says it
        return fail_usage(f"s3://{bucket}/{key} is a prefix: add --recursive to undelete every deleted key under it")
    if args.recursive and not key.endswith("/"):
        key += "/"
    from ..core.versions import undelete

    client = conn.client()
    try:
        if why := _unversioned(client, bucket):
            return fail(why)
        result = undelete(client, bucket, key, recursive=args.recursive,
                          raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, key=key, endpoint=args.endpoint_url or None, connection=conn))
    if args.json:
        print_json(result.to_json())
    else:
        for k in result.restored:
            print(f"undeleted s3://{bucket}/{k}")
        for k, e in result.errors:
            print(f"lakegui-cli: failed s3://{bucket}/{k}: {e}")
    if result.not_deleted:
        return fail(f"s3://{bucket}/{key} is not deleted: no delete marker is its latest version")
    if args.recursive and not result.restored and not result.errors and not args.json:
        print(f"No deleted objects under s3://{bucket}/{key}.")
    return EXIT_FAILED if result.errors else EXIT_OK


def revert_command(args: argparse.Namespace) -> int:
    opened = _open(args)
    if isinstance(opened, int):
        return opened
    bucket, key, conn = opened
    from ..core.versions import revert

    client = conn.client()
    try:
        if why := _unversioned(client, bucket):
            return fail(why)
        new_version = revert(client, bucket, key, args.version_id)
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, key=key, endpoint=args.endpoint_url or None,
                                  version_id=args.version_id, connection=conn))
    if args.json:
        print_json({"key": key, "reverted_to": args.version_id, "version_id": new_version,
                    "written": bool(new_version)})
    elif new_version:
        print(f"s3://{bucket}/{key}: version {args.version_id} is the latest again (as version {new_version})")
    else:
        print(f"s3://{bucket}/{key}: the latest version already has the bytes of version {args.version_id}; "
              "nothing was written")
    return EXIT_OK


_STATE_WORDS = {"enabled": "versioning is on: every version is kept",
                "suspended": "versioning is suspended: versions already written are kept, new writes replace "
                             "the 'null' version",
                "never": "versioning was never turned on: a delete or an overwrite there is permanent"}


def versioning_command(args: argparse.Namespace) -> int:
    from ..core.listing import parse_s3_uri
    from ..core.versions import set_versioning, versioning_state

    try:
        bucket, key = parse_s3_uri(args.uri)
    except ValueError as exc:
        return fail_usage(str(exc))
    if key.strip("/"):
        return fail_usage(f"{args.uri} names a key: versioning is a bucket's, give s3://BUCKET")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    client = conn.client()
    try:
        state = versioning_state(client, bucket) if args.state == "status" else \
            set_versioning(client, bucket, args.state == "on")
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, endpoint=args.endpoint_url or None))
    if args.json:
        print_json({"bucket": bucket, "versioning": state})
    else:
        print(f"s3://{bucket}: {_STATE_WORDS[state]}")
    return EXIT_OK
