"""A quick start (issue 17, item 3): parsing comes first, and `--version`, `--help`, a usage error
and `queue status` load neither boto3, botocore, pyarrow nor pandas."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "s3transfer", "awscrt", "pyarrow", "pandas", "numpy")
# main() as the console script runs it, then the top-level modules that got loaded.
WRAPPER = r"""
import json, sys
from lakegui.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}), file=sys.stderr)
"""


def loaded(*args: str) -> tuple[int, set[str]]:
    r = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, timeout=60)
    doc = json.loads(r.stderr.strip().splitlines()[-1])
    return doc["code"], set(doc["modules"])


@pytest.mark.parametrize("args, code", [
    (["--version"], 0),
    (["--help"], 0),
    (["ls"], 2),                                    # a usage error: the URI is missing
    (["ls", "s3://b/", "--endpont-url", "x"], 2),   # an unknown option
    (["no-such-command"], 2),
    (["preview", "--help"], 0),
    (["queue", "status", "--json"], 0),
])
def test_parse_first_import_later(args, code, tmp_path):
    if args[0] == "queue":
        args = [*args, "--queue", str(tmp_path / "q.sqlite")]
    got, modules = loaded(*args)
    assert got == code
    assert not modules & set(HEAVY), f"{args} loaded {sorted(modules & set(HEAVY))}"
    assert "lakegui" in modules  # the wrapper really ran the CLI


def test_the_check_sees_a_heavy_import():
    # A named profile is resolved through botocore's chain: botocore must show up, or the check
    # proves nothing. Still no boto3 (nor an S3 client): the listing is presigned.
    code, modules = loaded("ls", "s3://lake/", "--endpoint-url", "http://127.0.0.1:9", "--profile", "nowhere")
    assert code == 1 and "botocore" in modules
    assert not modules & {"boto3", "s3transfer", "pyarrow", "pandas"}
