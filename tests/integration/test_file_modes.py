"""Downloaded files get the mode the user's umask gives (0666 & ~umask), through both engines and
from the CLI, as any file the user makes (issue 18, defect 9)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("engine", ["awscrt", "s3transfer"])
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_downloads_follow_the_umask(moto_endpoint, tmp_path, engine, umask):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="modes")
    s3.put_object(Bucket="modes", Key="d/a.csv", Body=b"a,b\n1,2\n")
    cfg = tmp_path / "lakegui" / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "settings.json").write_text(json.dumps({"transfer": {"engine": engine}}))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "lakegui.cli", "download", "s3://modes/d/", str(out),
                           "--endpoint-url", moto_endpoint, "--queue", str(tmp_path / "q.db"), "--json"],
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    mode = stat.S_IMODE((out / "a.csv").stat().st_mode)
    assert mode == 0o666 & ~umask, oct(mode)
