"""The lake from Python, for notebooks: the seeds' Query API (`get_daily_ticks(symbol, year)`,
`list_available_years`) grown up, over the same core as `lakegui-cli query` and `schema`.

    from lakegui import Lake
    lake = Lake.connect(bucket="us-equity-datalake", endpoint_url=None, profile=None)
    df = lake.read("daily-ticks", symbol=["AAPL", "MSFT"], year=range(2020, 2025),
                   columns=["date", "close"], filter="volume > 50000000")

See docs/PYTHON.md.
"""

from __future__ import annotations

import contextlib
import threading
import warnings

from .core.layouts import LayoutTemplate


class LakeReadWarning(UserWarning):
    """A file of a read could not be read (the rest of the read went on), or no file matched."""


class LakeError(RuntimeError):
    """The lake could not be listed or read (no such bucket, access denied, endpoint down), or a
    read named a column no file has: the message is the one `lakegui-cli` prints; the
    original error, if any, is its __cause__."""


class Lake:
    """A bucket holding the lake, reached through one connection (boto3's credential chain, an
    AWS profile, or a custom endpoint). Thread-safe for reads."""

    def __init__(self, connection, bucket: str, prefix: str = ""):
        self.connection = connection
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.last = None          # ScanTotals of the latest read: files, row groups, requests, bytes
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, bucket: str, endpoint_url: str | None = None, profile: str | None = None, *,
                region: str | None = None, prefix: str = "") -> Lake:
        """Connect to `bucket` (optionally under `prefix`): AWS by default, or `endpoint_url`
        (MinIO, SeaweedFS, `lakegui-cli demo-server`); `profile` names an AWS profile."""
        from .core.connection import Connection, ConnectionProfile

        p = ConnectionProfile.from_options(endpoint_url=endpoint_url or "", region=region or "us-east-1",
                                           aws_profile=profile or "", bucket=bucket)
        problems = p.problems()
        if problems:
            raise ValueError(" ".join(problems))
        return cls(Connection(p, concurrency=32), bucket, prefix)

    def __repr__(self) -> str:
        return f"Lake(s3://{self.bucket}/{self.prefix}, {self.connection.describe()})"

    # what is there

    def templates(self) -> list[str]:
        """Names of the layouts: the built-in ones and yours (layouts.json)."""
        return sorted(self._layouts())

    def files(self, template: str | LayoutTemplate, **fields) -> list[dict]:
        """The template's objects whose fields match (`symbol="AAPL"`, `year=range(2020, 2025)`):
        key, size, etag and fields of each, from one listing."""
        return [f.to_json() for f in self._select(template, fields).files]

    def years(self, template: str | LayoutTemplate, **fields) -> list[int]:
        """The years present for the other fields given (`symbol="AAPL"`), ascending."""
        t = self._template(template)
        if "year" not in t.field_names:
            raise ValueError(f"the layout {t.name!r} has no year field")
        return sorted({int(f.fields["year"]) for f in self._select(t, fields).files})

    def exists(self, template: str | LayoutTemplate, **fields) -> bool:
        """Whether an object with these fields is in the lake: one HEAD when every field is
        given one value, else one listing."""
        t = self._template(template)
        single = {k: v for k, v in fields.items() if isinstance(v, (str, int))}
        if set(single) == set(t.field_names) and len(single) == len(fields):
            from botocore.exceptions import ClientError

            key = self.prefix + t.key(**single)
            with self._errors(key):
                try:
                    self._client().head_object(Bucket=self.bucket, Key=key)
                    return True
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                        return False
                    raise
        return bool(self._select(t, fields).files)

    # reading

    def scan(self, template: str | LayoutTemplate, *, columns: list[str] | None = None, filter: str | None = None,
             cancel: threading.Event | None = None, **fields):
        """LakeBatches (pyarrow RecordBatch plus what each file took), one per file, in order.
        A column that no file read has (a typo) raises LakeError once the files are read."""
        flt = _filter(filter)
        t = self._template(template)
        ds = self._dataset(t, fields)
        return self._checked(t, ds, ds.scan(columns, flt, cancel=cancel), columns, flt, filter, fields)

    def read(self, template: str | LayoutTemplate, *, columns: list[str] | None = None, filter: str | None = None,
             to_arrow: bool = False, **fields):
        """Rows of the template's files whose fields match, as a pandas DataFrame (an Arrow table
        with `to_arrow=True`). Only `columns` (default: all) and the filter's columns are read;
        the fields are added as columns. A file that cannot be read is skipped with a
        LakeReadWarning saying why, as is a read that matches no file; a column no file read has
        (a typo: `clse`, or `volum` in the filter) raises LakeError, as `lakegui-cli query`
        refuses it; `lake.last` holds what the read took."""
        from .core.lake.dataset import collect

        flt = _filter(filter)
        t = self._template(template)
        ds = self._dataset(t, fields)
        batches = list(self._checked(t, ds, ds.scan(columns, flt), columns, flt, filter, fields))
        table, totals = collect(batches, pruned=ds.files_pruned)
        if not table.num_columns:   # nothing read: still the columns asked for, and the fields
            import pyarrow as pa

            table = pa.table({c: pa.array([], pa.null()) for c in list(columns or []) + ds.field_names if c})
        self.last = totals
        for _, why in totals.failures:
            warnings.warn(why, LakeReadWarning, stacklevel=2)
        return table if to_arrow else table.to_pandas()

    def schema(self, template: str | LayoutTemplate, **fields):
        """The distinct schemas of the matching files (a SchemaReport: groups with counts, the
        majority first, and each outlier's differences)."""
        from .core.lake.schema import scan_schemas

        p = self.connection.profile
        files = self._select(template, fields).files
        with self._errors():
            return scan_schemas(self._client(), self.bucket, files, raw=p.raw_listing, verify=p.verify_tls)

    # helpers

    def _dataset(self, t: LayoutTemplate, fields: dict):
        from .core.lake.checks import no_files_message
        from .core.lake.dataset import LakeDataset
        from .core.lake.select import Selection

        p = self.connection.profile
        selected = self._select(t, fields)
        if not selected.files:   # as `lakegui-cli query` says it (it exits 1); here the read is empty
            warnings.warn(no_files_message(self.bucket, self.prefix, t, Selection.of(**fields), selected),
                          LakeReadWarning, stacklevel=3)
        return LakeDataset(self._client(), self.bucket, selected.files, field_names=t.field_names,
                           raw=p.raw_listing, verify=p.verify_tls)

    def _checked(self, t: LayoutTemplate, ds, batches, columns, flt, text: str | None, fields: dict):
        """The batches, passed on as they come; then a LakeError if a column named is in no file
        read, or a LakeReadWarning if the filter ruled out every file by its fields (as `query`
        refuses the one and says no file matches for the other)."""
        from .core.lake.checks import ColumnCheck, pruned_message
        from .core.lake.select import Selection

        check = ColumnCheck(columns, flt, t.field_names)
        with self._errors():
            for b in batches:
                check.see(b)
                yield b
        if problem := check.message():
            raise LakeError(problem)
        if none := pruned_message(self.bucket, self.prefix, t, Selection.of(**fields), len(ds.files), text or "",
                                  ds.files_pruned):
            warnings.warn(none, LakeReadWarning, stacklevel=3)   # as a field value that matches no file

    @contextlib.contextmanager
    def _errors(self, key: str | None = None):
        """S3 and network errors as LakeError, with the CLI's words for them (core.errors.classify)."""
        try:
            yield
        except Exception as exc:
            from botocore.exceptions import BotoCoreError, ClientError

            from .core.errors import NotS3Error, classify

            if not isinstance(exc, (BotoCoreError, ClientError, NotS3Error, OSError)):
                raise   # ours (a field the layout lacks) or a bug: as it is
            raise LakeError(classify(exc, bucket=self.bucket, key=key if key is not None else self.prefix)
                            .message) from exc

    def _client(self):
        return self.connection.client()

    def _layouts(self) -> dict:
        from .core import paths
        from .core.layouts import load_layouts

        return load_layouts(paths.config_dir())[0]

    def _template(self, template) -> LayoutTemplate:
        if isinstance(template, LayoutTemplate):
            return template
        layouts = self._layouts()
        if template not in layouts:
            raise ValueError(f"no layout named {template!r}: choose one of {', '.join(sorted(layouts))}")
        return layouts[template]

    def _select(self, template, fields: dict):
        from .core.lake.select import Selection, select_files

        t = self._template(template)
        p = self.connection.profile
        with self._errors():
            return select_files(self._client(), self.bucket, t, Selection.of(**fields), prefix=self.prefix,
                                listing={"raw": p.raw_listing, "verify": p.verify_tls})


def _filter(text: str | None):
    from .core.lake.filters import parse_filter

    return parse_filter(text) if text else None
