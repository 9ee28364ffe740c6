"""A backfill's file held back because its Parquet schema differs from the lake's is never sent
by a retry (session 11 trial C, finding 1: `queue retry-failed` and the dashboard's Retry all
failed uploaded the drifted file); its failure line reads well. In-process CLI, the session's moto."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.core import demo
from lakegui.core.layouts import DAILY_TICKS
from tests.integration.test_cli_transfers import client
from tests.integration.test_versions import run

pytestmark = pytest.mark.integration
BUCKET = "drift-retry"


def _parquet(table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.fixture
def drifted(moto_endpoint, tmp_path):
    """A lake of two files and a local folder of a good file and one with `volume` as double."""
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    for symbol in ("MSFT", "AMZN"):
        s3.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol=symbol, year=2024),
                      Body=_parquet(demo.daily_table(symbol, 2024)))
    root = tmp_path / "local"
    root.mkdir()
    (root / "AAPL_2025.parquet").write_bytes(_parquet(demo.daily_table("AAPL", 2025)))
    t = demo.daily_table("MSFT", 2025)
    i = t.schema.get_field_index("volume")
    (root / "MSFT_2025.parquet").write_bytes(_parquet(t.set_column(i, "volume", t["volume"].cast(pa.float64()))))
    return moto_endpoint, s3, root, ["--queue", str(tmp_path / "q.sqlite3")]


def test_retry_failed_leaves_a_file_held_back_for_its_schema(drifted):
    url, s3, root, queue = drifted
    pep = f"s3://{BUCKET}/{DAILY_TICKS.key(symbol='MSFT', year=2025)}"
    code, _, err = run(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks",
                       "--name", "drift1", *queue)
    assert code == 1
    # the URI said once, and the line reads: "failed URI: it was not sent: its schema differs…"
    assert f"failed {pep}: it was not sent: its schema differs from the lake's" in err, err
    assert "it not sent" not in err

    code, out, err = run(url, "queue", "retry-failed", *queue)
    assert code == 0 and out == "0 failed jobs queued again\n", (out, err)
    assert f"  upload {pep}: it was not sent: its schema differs" in err
    assert "Retrying does not send it" in err and "--allow-schema-drift" in err
    assert "--overwrite or --skip-existing" not in err  # a conflict's advice, not this file's
    code, out, _ = run(url, "queue", "retry-failed", "--json", *queue)
    doc = json.loads(out)
    assert doc["requeued"] == 0 and [j["key"] for j in doc["left"]] == [pep]
    code, out, _ = run(url, "queue", "resume", *queue)
    assert out == "Nothing to resume: no queued or paused jobs.\n"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert DAILY_TICKS.key(symbol="MSFT", year=2025) not in keys, "the drifted file must not reach the lake"
    assert DAILY_TICKS.key(symbol="AAPL", year=2025) in keys

    # queued with drift allowed, it is sent (and a failure of that job would be retried as any other)
    code, _, err = run(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks",
                       "--name", "drift2", "--allow-schema-drift", *queue)
    assert code == 0, err
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert DAILY_TICKS.key(symbol="MSFT", year=2025) in keys
