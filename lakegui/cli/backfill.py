"""`lakegui-cli backfill`: a folder into the lake by a layout template, with lineage metadata,
and `backfill status`: how the backfills in the queue are doing."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    cluster_ready,
    common_options,
    connection_for,
    connection_override,
    error_message,
    fail,
    fail_usage,
    failed_line,
    open_cluster,
    open_store,
    print_json,
    report,
    run_queue,
    template_named,
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "backfill", help="upload a folder into the lake by a layout template, with lineage metadata",
        # Written out: argparse's own usage folds the three forms into one garbled line.
        usage="lakegui-cli backfill LOCALDIR s3://BUCKET/[PREFIX/] --template NAME [--pattern PATTERN]\n"
              "                            [--skip-existing | --overwrite] [--dry-run] [--name NAME] [options]\n"
              "       lakegui-cli backfill status [NAME|BATCH] [--json] [--manifest PATH.csv|PATH.json]\n"
              "       lakegui-cli backfill rollback NAME|BATCH [--dry-run] [--permanent] [--json]",
        description="A backfill is named by --name (or its template and time) and numbered: its batch, "
                    "which `backfill status` shows. status and rollback take the name or the batch number; "
                    "when several backfills share a name, rollback and --manifest ask for the batch number.\n\n"
                    "Each file's fields (symbol, year, ...) are read from its name by the template's local "
                    "pattern (or --pattern) and validated; invalid files are listed with the reason and not "
                    "sent. Objects already in the bucket are found by one listing: identical ones are "
                    "skipped, different ones fail unless --skip-existing or --overwrite.\n\n"
                    "rollback undoes a backfill on a versioned bucket: objects it created get a delete marker "
                    "(--permanent: the version it wrote is deleted), objects it replaced get the replaced "
                    "version back by a server-side copy (--permanent: the version it wrote is deleted, so the "
                    "one below is the latest again); objects changed since are left alone and reported.",
        epilog="example:\n  lakegui-cli backfill ./vendor/daily s3://us-equity-datalake/ --template daily-ticks "
               "--dry-run\n  lakegui-cli backfill status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("operands", nargs="+", metavar="OPERAND",
                   help="LOCALDIR s3://BUCKET/[PREFIX/], or status [NAME|BATCH], or rollback NAME|BATCH")
    p.add_argument("--template", default="", help="layout: daily-ticks, minute-ticks, fundamentals, reference, "
                                                  "or one of yours (layouts.json)")
    p.add_argument("--pattern", default="", help="how file names give the fields, e.g. '{symbol}_{year}.parquet'")
    p.add_argument("--source", default="lakegui", help="the 'source' lineage metadata (default: lakegui)")
    p.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    p.add_argument("--allow-schema-drift", action="store_true",
                   help="send Parquet files whose schema differs from the lake's (status schema-differs)")
    p.add_argument("--permanent", action="store_true",
                   help="with rollback: delete the versions the backfill wrote, instead of adding delete markers "
                        "and copying replaced versions back")
    p.add_argument("--manifest", metavar="PATH", default="",
                   help="with status NAME: write its manifest (key, size, etag, state, attempts, error) "
                        "as .csv or .json")
    common_options(p)
    p.set_defaults(func=backfill)


def backfill(args: argparse.Namespace) -> int:
    if args.operands[0] == "status":
        if len(args.operands) > 2:
            return fail_usage("backfill status takes at most one NAME")
        return status(args, args.operands[1] if len(args.operands) == 2 else "")
    if args.operands[0] == "rollback":
        if len(args.operands) != 2:
            return fail_usage("backfill rollback takes the NAME or batch number of one backfill")
        return rollback(args, args.operands[1])
    if len(args.operands) != 2:
        return fail_usage("backfill wants LOCALDIR and s3://BUCKET/[PREFIX/]")
    if args.name and args.name.strip().isdigit():  # status and rollback take a batch number there
        return fail_usage(f"--name {args.name!r}: a backfill's name cannot be a number, which status and "
                          "rollback read as a batch number; add a word (e.g. --name 'fix " + args.name.strip() + "')")
    return run(args, Path(args.operands[0]), args.operands[1])


def run(args: argparse.Namespace, local_dir: Path, uri: str) -> int:
    from ..core import settings as settings_store
    from ..core.backfill import INVALID, backfill_jobs, plan_backfill
    from ..core.listing import parse_s3_uri
    from ..core.rollback import when
    from ..core.transfers.jobs import BACKFILL  # here, not at start: --version must not pay for it
    from ..core.transfers.localpaths import Skipped
    from ..core.transfers.store import uploaded_records
    from ..core.units import counted

    try:
        bucket, prefix = parse_s3_uri(uri)
        template = template_named(args)
    except ValueError as exc:
        return fail_usage(str(exc))
    if not local_dir.is_dir():
        return fail_usage(f"{local_dir} is not a folder")
    if args.concurrency is not None and args.concurrency < 1:
        return fail_usage("--concurrency must be at least 1")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    if not args.dry_run and (code := open_cluster(args, conn.profile.to_dict())) is not None:
        return code
    settings = settings_store.load().transfer
    started = time.perf_counter()
    try:
        plan = plan_backfill(conn.client(), bucket, local_dir, template, pattern=args.pattern or None,
                             prefix=prefix, source=args.source, chunksize=settings.multipart_chunksize,
                             known=uploaded_records(args.queue or None, bucket),
                             listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls})
    except ValueError as exc:
        return fail_usage(str(exc))
    except Exception as exc:
        print(f"lakegui-cli: {error_message(exc, bucket=bucket, key=prefix)}", file=sys.stderr)
        return EXIT_FAILED
    invalid = [i for i in plan.items if i.status == INVALID]
    if args.dry_run:
        return _print_plan(args, plan, uri, time.perf_counter() - started)
    jobs = backfill_jobs(plan, skip_existing=args.skip_existing, overwrite=args.overwrite,
                         allow_schema_drift=args.allow_schema_drift)
    if not jobs:
        print(f"lakegui-cli: nothing to backfill: {counted(len(invalid), 'file')} under {local_dir} "
              f"{'is' if len(invalid) == 1 else 'are'} invalid and none is valid", file=sys.stderr)
        for item in invalid[:50]:
            print(f"invalid {item.relative}: {item.reason}", file=sys.stderr)
        return EXIT_FAILED
    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.overwrite:  # what each replaced object was, so `backfill rollback` can bring it back
            from ..core.rollback import note_replaced

            jobs = note_replaced(conn.client(), bucket, jobs, raw=conn.profile.raw_listing,
                                 verify=conn.profile.verify_tls)
        name = args.name or f"{template.name} {time.strftime('%Y-%m-%d %H:%M:%S')}"
        if (code := cluster_ready(args)) is not None:
            return code
        earlier = [b for b in store.batches(BACKFILL) if b.name == name]
        batch, _ = store.add_batch(name, BACKFILL, conn.profile.to_dict(), jobs)
        if earlier:  # status and rollback by this name would be ambiguous: say how to pick one
            print(f"lakegui-cli: note: the name {name!r} is already used by "
                  + ", ".join(f"batch {b.id} ({when(b.created)})" for b in earlier)
                  + f"; this backfill is batch {batch}: `backfill status` and `backfill rollback` take the "
                  f"batch number (`lakegui-cli backfill rollback {batch}`)", file=sys.stderr)
        summary = run_queue(store, args, [batch], settings, connection=conn)
        summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
        return report(store, args, summary, [batch], [Skipped(i.relative, i.reason) for i in invalid],
                       {"batch": batch, "name": name, "queue": str(store.path), "jobs": len(jobs),
                        "plan": plan.counts(), "template": template.name,
                        "name_used_by": [b.id for b in earlier]})
    finally:
        store.close()


def _print_plan(args, plan, uri: str, seconds: float) -> int:
    from ..core.backfill import INVALID
    from ..core.units import human_size

    counts = plan.counts()
    if args.json:
        print(json.dumps({"dry_run": True, "template": plan.template.name, "bucket": plan.bucket,
                          "prefix": plan.prefix, "counts": counts, "bytes": plan.total_bytes,
                          "seconds": round(seconds, 3), "items": [i.to_json() for i in plan.items]}))
    else:
        for item in plan.items:
            if item.status in (INVALID, "schema-differs"):
                print(f"{item.status:<17}{item.relative}: {item.reason}")
            else:
                print(f"{item.status:<17}{item.relative} -> s3://{plan.bucket}/{item.key}")
        print(f"{counts['new']:,} new, {counts['exists-same']:,} same, {counts['exists-different']:,} different, "
              f"{counts.get('schema-differs', 0):,} schema differs, {counts['invalid']:,} invalid · "
              f"{human_size(plan.total_bytes)} · planned in {seconds:.1f} s; "
              "dry run: nothing was written", file=sys.stderr)
    drift = counts.get("schema-differs") and not args.allow_schema_drift
    return EXIT_FAILED if counts[INVALID] or drift else EXIT_OK


def _chosen(store, operand: str) -> list:
    """The backfills `operand` names: the one of that batch number, else those of that name (a
    name cannot be a number, so one made before that rule is reached by its own batch number)."""
    from ..core.transfers.jobs import BACKFILL

    backfills = store.batches(BACKFILL)
    if operand.strip().isdigit() and (numbered := [b for b in backfills if b.id == int(operand)]):
        return numbered
    return [b for b in backfills if b.name == operand]


def _ambiguous(store, name: str, batches: list, command: str) -> int:
    """Refuse a NAME several backfills share, listing them and how to pick one (exit 2)."""
    from ..core.backfill import progress_text
    from ..core.rollback import rollback_record, when

    print(f"lakegui-cli: {len(batches):,} backfills are named {name!r}; name one by its batch number:",
          file=sys.stderr)
    example = batches[-1].id
    for b in batches:
        p, record = store.batch_progress(b.id), rollback_record(store, b.id)
        example = b.id if p.done else example  # the newest that uploaded something, not a rerun that skipped all
        print(f"  batch {b.id}, started {when(b.created)}: {progress_text(p)}"
              + (f"; {record.text()}" if record else ""), file=sys.stderr)
    print(f"e.g. lakegui-cli backfill {command.replace('BATCH', str(example))}", file=sys.stderr)
    return EXIT_USAGE


def status(args: argparse.Namespace, name: str) -> int:
    from ..core.backfill import progress_text
    from ..core.rollback import rollback_record
    from ..core.transfers.jobs import BACKFILL

    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        batches = _chosen(store, name) if name else store.batches(BACKFILL)
        if name and not batches:
            print(f"lakegui-cli: no backfill named {name!r} in {store.path}", file=sys.stderr)
            return EXIT_FAILED
        progress = [store.batch_progress(b.id) for b in batches]  # counted in core/transfers/progress.py
        records = [rollback_record(store, b.id) for b in batches]
        if args.manifest:
            if len(batches) != 1 and not name:
                return fail_usage("--manifest needs the NAME of one backfill (or its batch number)")
            if len(batches) != 1:
                import shlex  # a path with a space must paste as one word

                return _ambiguous(store, name, batches, f"status BATCH --manifest {shlex.quote(args.manifest)}")
            from ..core.backfill import manifest_rows, write_manifest

            try:
                write_manifest(manifest_rows(store, batches[0].id), args.manifest)
            except (OSError, ValueError) as exc:
                print(f"lakegui-cli: the manifest could not be written: {exc}", file=sys.stderr)
                return EXIT_FAILED
    finally:
        store.close()
    if args.json:
        print(json.dumps({"backfills": [dict(p.to_json(), rolled_back=r.to_json() if r else None)
                                        for p, r in zip(progress, records)]}))
        return EXIT_OK
    if not progress:
        print("No backfills in the queue.")
    for p, r in zip(progress, records):
        print(f"{p.name} (batch {p.batch_id}): {progress_text(p)}" + (f"; {r.text()}" if r else ""))
    if name and len(batches) > 1:
        print(f"lakegui-cli: note: {len(batches):,} backfills are named {name!r}; `backfill rollback` and "
              "--manifest take one by its batch number", file=sys.stderr)
    return EXIT_OK


def rollback(args: argparse.Namespace, name: str) -> int:
    """`backfill rollback NAME|BATCH`: undo a backfill on a versioned bucket (core/rollback.py)."""
    from ..core.connection import Connection, ConnectionProfile
    from ..core.rollback import RollbackImpossible, plan_rollback, record_rollback, run_rollback, when
    from ..core.units import counted

    store, problem = open_store(args)
    if store is None:
        return fail(problem)
    try:
        batches = _chosen(store, name)
        if not batches:
            return fail(f"no backfill named {name!r} in {store.path}")
        if len(batches) > 1:  # the newest is not always the one meant (a rerun that skipped everything)
            flags = "".join(f" {f}" for f, on in (("--dry-run", args.dry_run), ("--permanent", args.permanent)) if on)
            return _ambiguous(store, name, batches, f"rollback BATCH{flags}")
        batch = batches[0]
        jobs = store.jobs(batch_id=batch.id)
        if not jobs:
            return fail(f"the backfill {name!r} has no jobs")
        bucket = jobs[0].bucket
        # The connection the backfill ran over; options given here win (an endpoint that moved).
        profile = ConnectionProfile.from_dict({**batch.profile, **connection_override(args)})
        listing = {"raw": profile.raw_listing, "verify": profile.verify_tls}
        try:
            client = Connection(profile).client()
            plan = plan_rollback(client, bucket, jobs, **listing)
            if not args.dry_run and plan.to_do:
                run_rollback(client, plan, permanent=args.permanent)
                record_rollback(client, store, plan, permanent=args.permanent, **listing)
        except RollbackImpossible as exc:
            return fail(str(exc))
        except Exception as exc:
            return fail(error_message(exc, bucket=bucket, endpoint=profile.endpoint_url or None))
    finally:
        store.close()
    if args.json:
        print_json(dict(plan.to_json(), backfill=batch.name, batch=batch.id, dry_run=args.dry_run,
                        permanent=args.permanent))
    else:
        verb = "would be" if args.dry_run else "were"
        for k, _ in plan.remove:
            print(f"{'remove' if args.dry_run else 'removed'} s3://{bucket}/{k}")
        for k, _, prev in plan.restore:
            print(f"{'restore' if args.dry_run else 'restored'} s3://{bucket}/{k} (version {prev})")
        for c in plan.changed:
            since = f"the rollback of {when(c['rolled_back_at'])}" if c.get("rolled_back_at") else \
                "the backfill wrote it"
            print(f"left alone s3://{bucket}/{c['key']}: changed since {since} "
                  f"(latest: {c['latest_version'] or 'none'})", file=sys.stderr)
        for k in plan.unknown:
            print(f"left alone s3://{bucket}/{k}: no version id was recorded for its upload", file=sys.stderr)
        for e in plan.errors:
            print(failed_line(f"s3://{bucket}/{e['key']}", e['error']), file=sys.stderr)
        already = (f"; {len(plan.already):,} already rolled back on {when(plan.rolled_back_at)}, nothing to do "
                   "for them") if plan.already else ""
        print(f"{batch.name} (batch {batch.id}): {counted(len(plan.remove), 'created object')} and "
              f"{counted(len(plan.restore), 'replaced one')} {verb} rolled back; "
              f"{len(plan.changed) + len(plan.unknown):,} left alone{already}"
              + (" (dry run)" if args.dry_run else ""))
    return EXIT_FAILED if plan.errors else EXIT_OK
