"""A quick start (issue 17, item 3): parsing comes first, and `--version`, `--help`, a usage error
and `queue status` load neither boto3, botocore, pyarrow nor pandas, nor `logging.handlers`; only
the command named is built in full; hashing a file and the log file load nothing heavy."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from lakegui.cli import build_parser

HEAVY = ("boto3", "botocore", "s3transfer", "awscrt", "pyarrow", "pandas", "numpy")
LATER = ("logging.handlers", "signal")  # modules (not packages) no start-up path needs
# main() as the console script runs it, then the top-level modules that got loaded.
WRAPPER = r"""
import json, sys
from lakegui.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str) -> tuple[int, set[str]]:
    r = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, timeout=60)
    doc = json.loads(r.stderr.strip().splitlines()[-1])
    return doc["code"], {m.split(".")[0] for m in doc["modules"]} | {m for m in doc["modules"] if m in LATER}


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
    assert not modules & {*HEAVY, *LATER}, f"{args} loaded {sorted(modules & {*HEAVY, *LATER})}"
    assert "lakegui" in modules  # the wrapper really ran the CLI


def test_the_check_sees_a_heavy_import():
    # A named profile is resolved through botocore's chain: botocore must show up, or the check
    # proves nothing. Still no boto3 (nor an S3 client): the listing is presigned.
    code, modules = loaded("ls", "s3://lake/", "--endpoint-url", "http://127.0.0.1:9", "--profile", "nowhere")
    assert code == 1 and "botocore" in modules
    assert not modules & {"boto3", "s3transfer", "pyarrow", "pandas"}


def subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_only_the_command_named_is_built_and_every_help_is_the_same():
    full = build_parser()
    names = list(subparsers(full).choices)
    assert full.format_help() == build_parser("").format_help()  # `--help` lists every command
    for name in names:
        lazy = subparsers(built := build_parser(name)).choices
        assert list(lazy) == names and built.format_help() == full.format_help()
        assert lazy[name].format_help() == subparsers(full).choices[name].format_help(), name
        assert [n for n, p in lazy.items() if p is not None] == [name]  # the others cost no parser


CHECK_LATER = r"""
import json, logging, sys
from pathlib import Path
from lakegui.core import logs
from lakegui.core.transfers import etags
folder = Path(sys.argv[1])
(folder / "f").write_bytes(b"abc" * 1000)
path = logs.setup(console_level=None)
same = etags.same_content(folder / "f", 3000, etags.md5_etag(folder / "f"), 8 << 20)
quiet = sorted(m for m in ("logging.handlers", "s3transfer", "botocore") if m in sys.modules)
logging.getLogger("lakegui.test").warning("written at the first record")
logs.reset()
print(json.dumps({"same": same, "quiet": quiet, "then": "logging.handlers" in sys.modules,
                  "text": path.read_text()}))
"""


def test_hashing_and_an_empty_log_file_load_nothing_heavy(tmp_path):
    # etags named s3transfer (botocore: ~0.15 s) at import, and the log file logging.handlers
    # (17-28 ms) at setup: both now wait until they are needed.
    env_dir = tmp_path / "log"
    r = subprocess.run([sys.executable, "-c", CHECK_LATER, str(tmp_path)], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "LAKEGUI_LOG_DIR": str(env_dir)})
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["same"] is True and doc["quiet"] == []
    assert doc["then"] and "written at the first record" in doc["text"]
