"""Backfills in core: layout templates read fields from names and validate them; the plan finds
existing objects with one listing (no HEAD per file) and tells same from different."""

from __future__ import annotations

import json

import pytest

from lakegui.core import backfill
from lakegui.core.backfill import DIFFERENT, INVALID, NEW, SAME, backfill_jobs, plan_backfill
from lakegui.core.layouts import (
    DAILY_TICKS,
    FUNDAMENTALS,
    MINUTE_TICKS,
    LayoutTemplate,
    LocalPattern,
    load_layouts,
    place,
    save_layout,
)
from lakegui.core.transfers.jobs import JobState, OverwritePolicy

B = "backfill-test"


@pytest.fixture
def s3b(s3):
    s3.create_bucket(Bucket=B)
    return s3


def test_templates_read_and_validate_fields():
    daily = LocalPattern(DAILY_TICKS.local_pattern)
    ok = place(DAILY_TICKS, daily, "2024/AAPL_2024.parquet")
    assert ok.key == "data/ticks/daily/AAPL/2024/ticks.parquet" and not ok.error
    assert place(DAILY_TICKS, daily, "BRK.B_2023.parquet", "lake/").key == "lake/data/ticks/daily/BRK.B/2023/ticks.parquet"
    bad = {name: place(DAILY_TICKS, daily, name).error for name in
           ("aapl_2024.parquet", "AAPL_24.parquet", "AAPL_3024.parquet", "AAPL-2024.parquet", "AAPL_2024.csv")}
    assert bad["aapl_2024.parquet"].startswith("symbol 'aapl' is not a ticker in capitals")
    assert bad["AAPL_24.parquet"].startswith("year '24' is not a year")
    assert bad["AAPL_3024.parquet"].startswith("year '3024' is not a year")
    assert bad["AAPL-2024.parquet"] == "does not match the pattern '{symbol}_{year}.parquet'"
    assert bad["AAPL_2024.csv"].startswith("does not match")
    minute = place(MINUTE_TICKS, LocalPattern(MINUTE_TICKS.local_pattern), "MSFT_20241202.parquet")
    assert minute.key == "data/ticks/minute/MSFT/2024/12/02/ticks.parquet"
    q = LocalPattern(FUNDAMENTALS.local_pattern)
    assert place(FUNDAMENTALS, q, "AAPL_2024_Q4.json").key == "data/fundamental/AAPL/2024/Q4.json"
    assert place(FUNDAMENTALS, q, "AAPL_2024_Q5.json").error == "quarter '5' is not 1-4"
    assert DAILY_TICKS.metadata("sec-edgar", symbol="AAPL", year="2024") == \
        {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "sec-edgar"}


def test_hive_layouts_and_user_templates(tmp_path):
    hive = LayoutTemplate("hive-daily", "lake/symbol={symbol}/year={year}/part.parquet", "daily-ticks",
                          "symbol={symbol}/year={year}/{file}")
    assert hive.check() == "" and hive.static_prefix == "lake/"
    placed = place(hive, LocalPattern(hive.local_pattern), "symbol=MSFT/year=2020/part-0.parquet")
    assert placed.key == "lake/symbol=MSFT/year=2020/part.parquet" and placed.fields["file"] == "part-0.parquet"
    save_layout(tmp_path, hive)
    layouts, problems = load_layouts(tmp_path)
    assert problems == [] and layouts["hive-daily"] == hive and "daily-ticks" in layouts
    with pytest.raises(ValueError, match="local pattern lacks year"):
        save_layout(tmp_path, LayoutTemplate("x", "a/{symbol}/{year}", "x", "{symbol}.parquet"))
    (tmp_path / "layouts.json").write_text("{not json")
    layouts, problems = load_layouts(tmp_path)
    assert "could not be read" in problems[0] and "daily-ticks" in layouts
    (tmp_path / "layouts.json").write_text(json.dumps([{"name": "no-key"}, {"name": "y", "key_template": "k"}]))
    _, problems = load_layouts(tmp_path)
    assert problems == ["%s: a layout lacks 'key_template'" % (tmp_path / "layouts.json"),
                        "layout 'y': its key template has no {fields}"]


def lake_folder(tmp_path):
    root = tmp_path / "backfill"
    (root / "2024").mkdir(parents=True)
    (root / "zdup").mkdir()
    files = {"AAPL_2024.parquet": b"a" * 100, "MSFT_2024.parquet": b"m" * 200, "NVDA_2024.parquet": b"n" * 300,
             "TSLA_2024.parquet": b"t" * 400, "2024/GOOG_2023.parquet": b"g" * 50,
             "aapl_2024.parquet": b"bad", "notes.txt": b"hello", "zdup/AAPL_2024.parquet": b"dup"}
    for name, body in files.items():
        (root / name).write_bytes(body)
    return root


def test_plan_lists_once_and_compares_without_head(s3b, tmp_path):
    root = lake_folder(tmp_path)
    s3b.put_object(Bucket=B, Key="data/ticks/daily/MSFT/2024/ticks.parquet", Body=b"m" * 200)  # same
    s3b.put_object(Bucket=B, Key="data/ticks/daily/NVDA/2024/ticks.parquet", Body=b"N" * 300)  # same size, other bytes
    s3b.put_object(Bucket=B, Key="data/ticks/daily/TSLA/2024/ticks.parquet", Body=b"t" * 10)   # other size
    calls = []
    s3b.meta.events.register("before-call.s3.*", lambda model, **kw: calls.append(model.name))
    plan = plan_backfill(s3b, B, root, DAILY_TICKS, source="test")
    assert calls == ["ListObjectsV2"], "one listing, never a HEAD per file"
    status = {i.relative: (i.status, i.reason) for i in plan.items}
    assert status["AAPL_2024.parquet"][0] == NEW and status["2024/GOOG_2023.parquet"][0] == NEW
    assert status["MSFT_2024.parquet"] == (SAME, "same size and ETag")
    assert status["NVDA_2024.parquet"] == (DIFFERENT, "same size, different content (ETag)")
    assert status["TSLA_2024.parquet"] == (DIFFERENT, "the object has 10 bytes, the file 400")
    assert status["aapl_2024.parquet"][0] == INVALID and status["notes.txt"][0] == INVALID
    assert status["zdup/AAPL_2024.parquet"] == (INVALID, "maps to the same key as AAPL_2024.parquet")
    assert plan.counts() == {NEW: 2, SAME: 1, DIFFERENT: 2, INVALID: 3} and plan.listed == 3
    item = next(i for i in plan.items if i.relative == "AAPL_2024.parquet")
    assert item.metadata == {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "test"}

    by_key = {j.key.split("/")[3]: j for j in backfill_jobs(plan)}
    assert len(by_key) == 5, "invalid files are never enqueued"
    assert by_key["AAPL"].state is JobState.QUEUED and by_key["AAPL"].metadata == item.metadata
    assert by_key["MSFT"].state is JobState.SKIPPED
    assert by_key["NVDA"].state is JobState.FAILED and "was not replaced" in by_key["NVDA"].error
    kept = {j.key.split("/")[3]: j for j in backfill_jobs(plan, skip_existing=True)}
    assert kept["NVDA"].state is JobState.SKIPPED and kept["TSLA"].error.endswith("; kept")
    replaced = {j.key.split("/")[3]: j for j in backfill_jobs(plan, overwrite=True)}
    assert replaced["NVDA"].state is JobState.QUEUED and replaced["NVDA"].policy is OverwritePolicy.OVERWRITE


def test_queue_record_spares_hashing_an_unchanged_file(s3b, tmp_path, monkeypatch):
    root = tmp_path / "r"
    root.mkdir()
    f = root / "AAPL_2024.parquet"
    f.write_bytes(b"x" * 1000)
    etag = s3b.put_object(Bucket=B, Key="data/ticks/daily/AAPL/2024/ticks.parquet", Body=b"x" * 1000)["ETag"]
    monkeypatch.setattr(backfill.etags, "same_content", lambda *a: pytest.fail("hashed a known file"))
    known = {"data/ticks/daily/AAPL/2024/ticks.parquet": (1000, f.stat().st_mtime, etag.strip('"'))}
    plan = plan_backfill(s3b, B, root, DAILY_TICKS, known=known)
    assert [(i.status, i.reason) for i in plan.items] == [(SAME, "uploaded from this file before")]


def test_bad_folder_and_pattern_are_refused(s3b, tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        plan_backfill(s3b, B, tmp_path / "missing", DAILY_TICKS)
    with pytest.raises(ValueError, match="gives no year"):
        plan_backfill(s3b, B, tmp_path, DAILY_TICKS, pattern="{symbol}.parquet")


def test_manifest_is_csv_or_json_only(tmp_path):
    rows = [{"key": "k", "size": 1, "etag": "e", "state": "done", "attempts": 1, "error": "", "local_path": "/x",
             "metadata": {"symbol": "AAPL"}}]
    backfill.write_manifest(rows, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text().splitlines() == [
        "key,size,etag,state,attempts,error,local_path,version_id,replaced_version,metadata",
        "k,1,e,done,1,,/x,,,symbol=AAPL"]
    with pytest.raises(ValueError, match="as .csv or .json"):
        backfill.write_manifest(rows, tmp_path / "m.txt")
    assert not (tmp_path / "m.txt").exists()


def test_progress_text_counts_skipped_files_as_done():
    """Session 11 finding 7: `backfill status` said `0/9 files done, 9 skipped` where the README
    and the dashboard count skipped files (already in the lake) as done; one wording now."""
    from lakegui.core.backfill import progress_text
    from lakegui.core.transfers.progress import BatchProgress

    p = BatchProgress(31, "daily-try", "backfill", 0.0, {"skipped": (9, 64_600)})
    assert progress_text(p) == "9 of 9 files done (0 uploaded, 9 already there), 0 failed, 0 to go · 63.1 KB of 63.1 KB"
    p = BatchProgress(2, "x", "backfill", 0.0, {"done": (1, 10), "failed": (1, 10), "paused": (2, 20),
                                                 "cancelled": (1, 10)})
    assert progress_text(p) == ("1 of 5 files done (1 uploaded, 0 already there), 1 failed, 2 to go (2 paused), "
                                "1 cancelled · 10 B of 50 B")


def test_a_drifted_file_is_held_with_a_mark_retry_leaves_and_counted_only_when_sent():
    from lakegui.core.backfill import SCHEMA_DIFFERS, BackfillItem, BackfillPlan, files_sent
    from lakegui.core.transfers.jobs import SCHEMA_DRIFT, Direction, Job
    from lakegui.core.transfers.object_jobs import permanent_failure

    items = [BackfillItem("/l/A.parquet", "A.parquet", NEW, "k/A"),
             BackfillItem("/l/B.parquet", "B.parquet", DIFFERENT, "k/B", reason="size 1 vs 2"),
             BackfillItem("/l/C.parquet", "C.parquet", SCHEMA_DIFFERS, "k/C", reason="its schema differs", was=NEW),
             BackfillItem("/l/D.parquet", "D.parquet", SCHEMA_DIFFERS, "k/D", reason="its schema differs",
                          was=DIFFERENT)]
    plan = BackfillPlan(DAILY_TICKS, "b", "", items)
    assert files_sent(plan) == 1 and files_sent(plan, overwrite=True) == 2
    assert files_sent(plan, allow_schema_drift=True) == 2 and files_sent(plan, overwrite=True, allow_schema_drift=True) == 4
    held = [j for j in backfill_jobs(plan) if j.key in ("k/C", "k/D")]
    assert [j.state for j in held] == [JobState.FAILED] * 2 and all(j.resume == {SCHEMA_DRIFT: True} for j in held)
    assert held[0].error.startswith("s3://b/k/C was not sent: its schema differs. Retrying does not send it")
    as_queued = Job(id=1, batch_id=1, direction=Direction.UPLOAD, bucket="b", key="k/C", local_path="/l/C.parquet",
                    state=JobState.FAILED, error=held[0].error, resume=held[0].resume)
    assert permanent_failure(as_queued)
    older = Job(id=2, batch_id=1, direction=Direction.UPLOAD, bucket="b", key="k/C", local_path="/l/C.parquet",
                state=JobState.FAILED, error="s3://b/k/C not sent: its schema differs; --allow-schema-drift sends it")
    assert permanent_failure(older)  # a queue written before the mark
    assert [j.key for j in backfill_jobs(plan, record_held=False)] == ["k/A", "k/B"]  # the window leaves them out
    sent = backfill_jobs(plan, allow_schema_drift=True, overwrite=True)
    assert [(j.key, j.state, j.policy) for j in sent if j.key in ("k/C", "k/D")] == [
        ("k/C", JobState.QUEUED, OverwritePolicy.ASK), ("k/D", JobState.QUEUED, OverwritePolicy.OVERWRITE)]
    assert not any(permanent_failure(Job(id=3, batch_id=1, direction=Direction.UPLOAD, bucket="b", key=j.key,
                                         local_path=j.local_path, state=JobState.FAILED, error="Cannot reach",
                                         resume=j.resume or {})) for j in sent)  # allowed: retried as any other
