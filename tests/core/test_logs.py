"""The log file: rotating, under the (redirected) log folder, and scrubbed of secrets."""

from __future__ import annotations

import logging
import os

from lakegui.core import logs, paths


def test_setup_writes_the_log_file_and_scrubs_secrets(monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token-1234")
    path = logs.setup(console_level=None)
    assert path == paths.log_dir() / "lakegui.log"
    log = logging.getLogger("lakegui.test")
    log.warning("presigned https://h/b/k?X-Amz-Credential=AK&X-Amz-Security-Token=abc%2Fdef&X-Amz-Signature=0a1b2c")
    log.warning("secret %s and token %s", os.environ["AWS_SECRET_ACCESS_KEY"], "the-session-token-1234")
    try:
        raise RuntimeError("failed with the-session-token-1234 inside")
    except RuntimeError:
        log.exception("a failure")
    for h in logging.getLogger().handlers:
        h.flush()
    text = path.read_text()
    assert "X-Amz-Security-Token=***" in text and "X-Amz-Signature=***" in text and "X-Amz-Credential=AK" in text
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in text and "the-session-token-1234" not in text
    assert "a failure" in text and "RuntimeError: failed with *** inside" in text
    assert logs.setup(console_level=None) == path  # again: replaced, not doubled
    assert sum(getattr(h, "baseFilename", None) == str(path) for h in logging.getLogger().handlers) == 1


def test_scrub_leaves_ordinary_text_alone():
    assert logs.scrub("s3://lake/data/ticks/daily/AAPL/2024/ticks.parquet") == \
        "s3://lake/data/ticks/daily/AAPL/2024/ticks.parquet"


def test_the_file_rotates_once_it_is_opened(monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 300)  # read when the first record opens the file
    path = logs.setup(console_level=None)
    for i in range(10):
        logging.getLogger("lakegui.test").warning("line %d %s", i, "x" * 60)
    logs.reset()
    assert path.with_name(path.name + ".1").exists() and path.stat().st_size <= 300
