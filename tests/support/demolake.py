"""The demo lake served once per test session, and put back as it was before each test.

Seeding the lake takes seconds (generating its Parquet files and sending 200 objects); putting
back what a test changed takes three listings and a few requests. The server runs in its own
process (`lakegui-cli demo-server`): moto's state is global to a process, so a server inside the
test process would be emptied by every other test's moto reset.
"""

from __future__ import annotations

import functools
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

from lakegui.core.demo import DEMO_BUCKET, DEMO_CREDENTIALS, demo_objects


@functools.lru_cache(maxsize=1)
def _originals() -> dict:
    return {o.key: o for o in demo_objects()}  # deterministic: the same bytes the server was seeded with


class DemoLake:
    """`lakegui-cli demo-server` in a child process, and what its bucket held after seeding."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.endpoint_url = ""
        self.client = None
        self._listed: dict[str, tuple] = {}

    def start(self, timeout: float = 120) -> "DemoLake":
        env = dict(os.environ)
        for var, sub in (("LAKEGUI_CONFIG_DIR", "config"), ("LAKEGUI_DATA_DIR", "data"), ("LAKEGUI_LOG_DIR", "log")):
            env[var] = str(self.workdir / sub)  # not the folders of whichever test asked first
        with open(self.workdir / "demo-server.log", "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "demo-server", "--json"],
                                         stdout=subprocess.PIPE, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None or not select.select([self.proc.stdout], [], [], left)[0]:
                self.stop()
                raise RuntimeError(f"the demo server did not start; see {self.workdir / 'demo-server.log'}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                continue
            line += chunk
        self.endpoint_url = json.loads(line)["endpoint_url"]
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=DEMO_CREDENTIALS.access_key, aws_secret_access_key=DEMO_CREDENTIALS.secret_key,
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        self._listed = self._listing()
        assert len(self._listed) == len(_originals()), "the demo server seeded another lake than this one"
        return self

    def _listing(self) -> dict[str, tuple]:
        listed = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=DEMO_BUCKET):
            for o in page.get("Contents", []):
                listed[o["Key"]] = (o["ETag"], o["Size"], o["LastModified"])
        return listed

    def restore(self) -> list[str]:
        """Put the lake back as seeded: other buckets removed, open uploads aborted, objects a test
        added deleted, and objects it changed or deleted sent again. Returns the keys it repaired.
        A change is seen by ETag, size or LastModified (whole seconds on moto): a metadata edit in
        place, within the second this put the object back, would go unseen; no test is that quick."""
        s3 = self.client
        names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for name in names - {DEMO_BUCKET}:
            self._drop_bucket(name)
        if DEMO_BUCKET not in names:
            s3.create_bucket(Bucket=DEMO_BUCKET)
        self._abort_uploads(DEMO_BUCKET)
        now = self._listing()
        if now == self._listed:
            return []
        extra = sorted(now.keys() - self._listed.keys())
        for key in extra:
            s3.delete_object(Bucket=DEMO_BUCKET, Key=key)
        changed = sorted(k for k, seen in self._listed.items() if now.get(k) != seen)
        originals = _originals()
        for key in changed:
            o = originals[key]
            s3.put_object(Bucket=DEMO_BUCKET, Key=key, Body=o.body, ContentType=o.content_type, Metadata=o.metadata)
        self._listed = self._listing()
        return extra + changed

    def _abort_uploads(self, bucket: str) -> None:
        for u in self.client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            self.client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])

    def _drop_bucket(self, bucket: str) -> None:
        self._abort_uploads(bucket)
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                self.client.delete_object(Bucket=bucket, Key=o["Key"])
        self.client.delete_bucket(Bucket=bucket)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
