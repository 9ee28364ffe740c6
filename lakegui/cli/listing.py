"""`lakegui-cli ls`: a prefix, streamed page by page as `aws s3 ls` prints it."""

from __future__ import annotations

import argparse
import json
import sys

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_command, add_connection_options, connection_for, error_message


def add_parser(sub) -> None:
    ls = add_command(sub, "ls", help="list a prefix, streaming pages as they arrive",
                     description="List the folders and objects under a prefix, in the shape of `aws s3 ls`; "
                                 "--json prints one document of prefixes and objects.",
                     example="lakegui-cli ls s3://us-equity-datalake/data/ticks/daily/ --endpoint-url "
                             "http://127.0.0.1:9000\nlakegui-cli ls s3://us-equity-datalake/data/ --recursive --json")
    ls.add_argument("uri", metavar="s3://BUCKET/PREFIX")
    ls.add_argument("--recursive", action="store_true", help="every object under the prefix")
    ls.add_argument("--versions", action="store_true",
                    help="every version and delete marker, newest first within a key (versioned buckets)")
    add_connection_options(ls)
    ls.set_defaults(func=ls_command)


def ls_command(args: argparse.Namespace) -> int:
    from ..core.listing import PrefixLister, parse_s3_uri

    try:
        bucket, prefix = parse_s3_uri(args.uri)
    except ValueError as exc:
        print(f"lakegui-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE
    conn, problem = connection_for(args, bucket)
    if conn is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from ..core.gcpause import gc_paused

    if args.versions:
        return _ls_versions(args, conn, bucket, prefix)
    prefixes, objects = [], []
    found = 0
    # Names are relative to the prefix's folder, as `aws s3 ls` prints them: an exact key
    # (data/a.csv) or a partial name (data/a) lists `a.csv`, not an empty name or `.csv`.
    parent = _folder(prefix)
    try:
        with gc_paused():
            for page in PrefixLister(conn.listing_client(), bucket, prefix, recursive=args.recursive,
                                     raw=conn.profile.raw_listing, verify=conn.profile.verify_tls):
                found += len(page.prefixes) + len(page.objects)
                if args.json:
                    prefixes += [p.prefix for p in page.prefixes]
                    objects += [o.to_json() for o in page.objects]
                    continue
                # Stream as pages arrive, in the shape of `aws s3 ls`.
                lines = [f"{'PRE':>30} {p.name(parent)}" for p in page.prefixes]
                lines += [f"{o.last_modified.astimezone():%Y-%m-%d %H:%M:%S} {o.size:>10} "
                          f"{o.key if args.recursive else o.name(parent)}" for o in page.objects]
                if lines:
                    print("\n".join(lines), flush=True)
    except Exception as exc:
        print(f"lakegui-cli: {error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None)}"
              f"{_default_endpoint_hint(args, conn, exc)}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"prefixes": prefixes, "objects": objects}))
    if not found:  # as `aws s3 ls` says it, but an empty prefix is not an error here
        print(f"lakegui-cli: no objects under {args.uri}", file=sys.stderr)
    return EXIT_OK


def _ls_versions(args: argparse.Namespace, conn, bucket: str, prefix: str) -> int:
    """`ls --versions`: streamed page by page too; a delete marker shows as DELETED."""
    from ..core.versions import VersionLister

    versions, found = [], 0
    parent = _folder(prefix)
    _say_unversioned(conn, bucket)
    try:
        for page in VersionLister(conn.listing_client(), bucket, prefix, recursive=args.recursive,
                                  raw=conn.profile.raw_listing, verify=conn.profile.verify_tls):
            found += len(page.versions) + len(page.prefixes)
            if args.json:
                versions += [v.to_json() for v in page.versions]
                continue
            lines = [f"{'PRE':>30} {p[len(parent):] if p.startswith(parent) else p}" for p in page.prefixes]
            lines += [f"{v.last_modified.astimezone():%Y-%m-%d %H:%M:%S} "
                      f"{'DELETED' if v.delete_marker else v.size:>10} {v.version_id} {'*' if v.latest else ' '} "
                      f"{v.key if args.recursive or not v.key.startswith(parent) else v.key[len(parent):]}"
                      for v in page.versions]
            if lines:
                print("\n".join(lines), flush=True)
    except Exception as exc:
        print(f"lakegui-cli: {error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None)}",
              file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"versions": versions}))
    if not found:
        print(f"lakegui-cli: no versions under {args.uri}", file=sys.stderr)
    return EXIT_OK


def _default_endpoint_hint(args, conn, exc: BaseException) -> str:
    """For an endpoint that cannot be reached when none was named: it was AWS S3's default for
    the region, so another server wants --endpoint-url (or a profile that names it)."""
    from ..core.errors import classify

    if args.endpoint_url or classify(exc).code != "EndpointConnectionError" or ".amazonaws.com" not in str(exc):
        return ""
    return (f" No --endpoint-url was given, so this was AWS S3 in region {conn.profile.region}: name another S3 "
            "server with --endpoint-url URL, or a profile with --profile NAME.")


def _say_unversioned(conn, bucket: str) -> None:
    """One line (stderr, before the rows) when the bucket never kept versions: its `null` rows are
    then the objects themselves, not a history. Unknown (access denied, say): nothing said."""
    from ..core.versions import NEVER, versioning_state

    try:
        never = versioning_state(conn.client(), bucket) == NEVER
    except Exception:  # noqa: BLE001  the listing that follows reports a real problem
        return
    if never:
        print(f"lakegui-cli: s3://{bucket} keeps no versions (versioning was never enabled): "
              "each key has one version, null", file=sys.stderr, flush=True)


def _folder(prefix: str) -> str:
    """The folder a prefix is in: itself when it ends in '/', else up to its last '/'."""
    return prefix[: prefix.rfind("/") + 1]
