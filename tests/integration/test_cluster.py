"""Backfills on a Dask cluster (issue 24): `lakegui-cli ... --cluster` against a
`distributed.LocalCluster` of two worker processes and SeaweedFS. The coordinator is the CLI in
a child process; this process hosts the scheduler, kills workers and checks the bucket."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakegui.core.settings import MB
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.integration.test_cli_transfers import cli
from tests.integration.test_faults import write_settings

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def local_cluster(workdir: Path):
    """Two worker processes of one thread each; credentials come from the workers' own
    environment (the chain resolves them there), never from the tasks."""
    env = {"AWS_ACCESS_KEY_ID": TEST_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, env=env,
                                       dashboard_address=":0", scheduler_port=0, local_directory=str(workdir))
    client = distributed.Client(cluster, set_as_default=False)
    client.wait_for_workers(2, timeout=60)
    return cluster, client


@pytest.fixture(scope="module", autouse=True)
def offload_thread():
    """distributed's process-wide offload thread starts at its first use and stays: start it
    before any test, so none is blamed for it."""
    from distributed.utils import _offload_executor

    _offload_executor.submit(int).result()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    cluster, client = local_cluster(tmp_path_factory.mktemp("dask"))
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture
def own_cluster(tmp_path):
    """A cluster of the test's own: a worker killed and restarted leaves its nanny's threads
    until the cluster closes."""
    cluster, client = local_cluster(tmp_path / "dask")
    yield cluster, client
    client.close()
    cluster.close()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def make_files(root: Path, n: int, *, big: int = 0, seed: int = 1, big_size: int = 6 * MB) -> dict[str, bytes]:
    """n daily-ticks files, `big` of them `big_size` (multipart at a 5 MB threshold: two parts of
    5 MB and 1 MB by default, which the slowed runs send in 1.5 s each); {key: body}."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    bodies = {}
    for i in range(n):
        symbol = f"S{i:03d}"
        body = rng.randbytes(big_size if i < big else rng.randint(1_000, 200_000))
        (root / f"{symbol}_2024.parquet").write_bytes(body)
        bodies[f"data/ticks/daily/{symbol}/2024/ticks.parquet"] = body
    return bodies


def bucket_of(s3, name: str) -> str:
    bucket = f"{name}-{os.getpid()}-{random.randrange(1 << 30)}"
    s3.create_bucket(Bucket=bucket)
    return bucket


def objects(s3, bucket: str) -> dict[str, dict]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = o
    return out


def assert_bucket_holds(s3, bucket: str, bodies: dict[str, bytes]) -> None:
    assert sorted(objects(s3, bucket)) == sorted(bodies)
    for key, body in bodies.items():
        assert sha(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha(body), key
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def job_states(db: str) -> dict[str, str]:
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT key, state FROM jobs"))


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakegui.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def slow_settings() -> None:
    """s3transfer honours a bandwidth limit: slow enough for a kill to land mid-chunk."""
    write_settings(max_bandwidth=4 * MB, multipart_threshold=5 * MB, multipart_chunksize=5 * MB,
                   concurrent_files=2, engine="s3transfer")


def test_a_backfill_on_two_workers_is_byte_exact_and_the_queue_matches_the_bucket(dask_cluster, seaweedfs,
                                                                                   tmp_path):
    from lakegui.core.transfers.cluster import cluster_status

    cluster, client = dask_cluster
    s3 = seaweedfs.client()
    bucket = bucket_of(s3, "cluster")
    write_settings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    bodies = make_files(tmp_path / "local", 40, big=2)
    db = str(tmp_path / "queue.sqlite3")
    proc, doc = cli("backfill", str(tmp_path / "local"), f"s3://{bucket}/", "--template", "daily-ticks",
                    "--endpoint-url", seaweedfs.endpoint_url, "--queue", db, "--cluster", cluster.scheduler_address,
                    "--chunk-files", "5", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert doc["done"] == 40 and doc["failed"] == 0
    assert_bucket_holds(s3, bucket, bodies)
    assert job_states(db) == {key: "done" for key in bodies}
    status = cluster_status(db, doc["batch"])
    assert status.address == cluster.scheduler_address and not status.live
    assert len(status.workers) == 2 and all(w.files > 0 for w in status.workers)  # both did work
    assert sum(w.files for w in status.workers) == 40
    assert sum(w.bytes for w in status.workers) == sum(len(b) for b in bodies.values())
    assert status.dashboard.startswith("http")


def chunk_threads() -> list[int]:  # run on a worker: its lakegui job threads
    import threading

    return sorted(t.ident for t in threading.enumerate() if t.name.startswith("lakegui-chunk"))


def test_workers_run_later_chunks_on_the_threads_of_the_first(dask_cluster, seaweedfs, tmp_path):
    """No thread starts per chunk: on Python 3.11 a thread start can deadlock a worker against
    Dask's profiler (sys._current_frames), which once hung the benchmark. The chunks go to each
    worker as the coordinator sends them (`run_chunk`), two runs of two chunks each."""
    import pickle
    import uuid
    from dataclasses import asdict

    import lakegui
    from lakegui.core.connection import ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers.cluster import job_to_dict, pack, run_chunk
    from lakegui.core.transfers.jobs import Direction, Job, OverwritePolicy

    cluster, client = dask_cluster
    s3 = seaweedfs.client()
    bodies = make_files(tmp_path / "local", 8)
    paths = sorted((tmp_path / "local").iterdir())
    workers = sorted(client.nthreads())
    profile = ConnectionProfile.from_options(endpoint_url=seaweedfs.endpoint_url).to_dict()
    settings = asdict(TransferSettings(concurrent_files=4))
    threads = []
    for run in range(2):
        bucket = bucket_of(s3, f"threads{run}")
        run_id = uuid.uuid4().hex[:12]
        futures = []
        for n, worker in enumerate(workers):
            jobs = [Job(id=i, batch_id=1, direction=Direction.UPLOAD, bucket=bucket, key=f"k{i}", local_path=str(path),
                        size=path.stat().st_size, mtime=path.stat().st_mtime, policy=OverwritePolicy.OVERWRITE)
                    for i, path in enumerate(paths) if i % len(workers) == n]
            payload = {"run": run_id, "chunk": n, "version": lakegui.__version__, "profile": profile,
                       "since": {"1": 0.0}, "settings": settings, "path_map": [], "in_flight": {},
                       "jobs": [job_to_dict(j) for j in jobs]}
            futures.append(client.submit(run_chunk, pack(payload), workers=[worker], pure=False))
        results = [pickle.loads(f.result(timeout=60)) for f in futures]
        client.set_metadata(["lakegui", run_id], None)
        assert [r[1] for res in results for r in res["results"]] == ["done"] * len(paths)
        assert {res["worker"] for res in results} == set(workers)
        threads.append(client.run(chunk_threads))
    assert len(objects(s3, bucket)) == len(bodies)
    kept = {w: t for w, t in threads[0].items() if t}
    assert set(kept) == set(workers)  # the job threads outlive their chunks
    assert {w: threads[1][w] for w in kept} == kept  # and the next run's chunks started none


def test_a_worker_killed_mid_run_loses_nothing_and_sends_nothing_twice(own_cluster, seaweedfs, tmp_path):
    cluster, client = own_cluster
    s3 = seaweedfs.client()
    bucket = bucket_of(s3, "killed")
    slow_settings()
    bodies = make_files(tmp_path / "local", 16, big=2, seed=2)
    db = str(tmp_path / "queue.sqlite3")
    proc = start_cli("backfill", str(tmp_path / "local"), f"s3://{bucket}/", "--template", "daily-ticks",
                     "--endpoint-url", seaweedfs.endpoint_url, "--queue", db, "--cluster",
                     cluster.scheduler_address, "--chunk-files", "4", "--json")
    try:
        # A worker in the middle of a chunk: some of its files are in the bucket, others not yet.
        def busy_worker():
            if len(objects(s3, bucket)) < 3:
                return None
            return next((w for w, keys in client.processing().items()
                         if any("lakegui-chunk" in str(k) for k in keys)), None)

        victim = wait_for(busy_worker, 60, "a worker running a chunk")
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        before = {k: (o["ETag"], o["LastModified"]) for k, o in objects(s3, bucket).items()}
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert_bucket_holds(s3, bucket, bodies)
    assert job_states(db) == {key: "done" for key in bodies}
    after = objects(s3, bucket)
    # What was in the bucket when the worker died was recognised by size and ETag, not sent again.
    assert {k: (after[k]["ETag"], after[k]["LastModified"]) for k in before} == before


def test_the_coordinator_killed_then_queue_resume_on_the_cluster_finishes(dask_cluster, seaweedfs, tmp_path):
    cluster, client = dask_cluster
    s3 = seaweedfs.client()
    bucket = bucket_of(s3, "resumed")
    slow_settings()
    bodies = make_files(tmp_path / "local", 12, big=2, seed=3)
    db = str(tmp_path / "queue.sqlite3")
    proc = start_cli("backfill", str(tmp_path / "local"), f"s3://{bucket}/", "--template", "daily-ticks",
                     "--endpoint-url", seaweedfs.endpoint_url, "--queue", db, "--cluster",
                     cluster.scheduler_address, "--chunk-files", "4")
    try:
        wait_for(lambda: len(objects(s3, bucket)) >= 2, 60, "the first objects")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert len(objects(s3, bucket)) < len(bodies), "the backfill finished before the kill"
    proc, doc = cli("queue", "resume", "--queue", db, "--cluster", cluster.scheduler_address, "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert_bucket_holds(s3, bucket, bodies)
    assert job_states(db) == {key: "done" for key in bodies}


def test_path_map_translates_sources_and_a_path_a_worker_cannot_read_fails_with_the_reason(dask_cluster, seaweedfs,
                                                                                          tmp_path):
    cluster, _ = dask_cluster
    s3 = seaweedfs.client()
    bucket = bucket_of(s3, "mapped")
    here = tmp_path / "desk" / "share"
    make_files(here, 6, seed=4)
    # Where the workers mount the share: the same names and sizes, other bytes (so the bucket
    # shows which copy was read); two files are missing there.
    there = tmp_path / "worker-mount"
    there.mkdir()
    expected = {}
    for i, path in enumerate(sorted(here.iterdir())):
        if i < 2:
            continue
        body = bytes(reversed(path.read_bytes()))
        (there / path.name).write_bytes(body)
        expected[f"data/ticks/daily/{path.name.split('_')[0]}/2024/ticks.parquet"] = body
    db = str(tmp_path / "queue.sqlite3")
    proc, doc = cli("backfill", str(here), f"s3://{bucket}/", "--template", "daily-ticks", "--endpoint-url",
                    seaweedfs.endpoint_url, "--queue", db, "--cluster", cluster.scheduler_address,
                    "--path-map", f"{here}={there}", "--json", timeout=120)
    assert proc.returncode == 1 and doc["done"] == 4 and doc["failed"] == 2, proc.stderr[-2000:]
    assert_bucket_holds(s3, bucket, expected)
    for failure in doc["failures"]:
        assert "Local file not found" in failure["error"] and str(there) in failure["error"]
        assert "on worker tcp://" in failure["error"] and failure["local_path"].startswith(str(here))


def test_workers_of_another_lakegui_version_are_refused(dask_cluster, seaweedfs, tmp_path):
    cluster, client = dask_cluster
    import lakegui

    mine = lakegui.__version__

    def pretend(version):  # run on the workers: as if another release were installed there
        import lakegui

        lakegui.__version__ = version

    bucket = bucket_of(seaweedfs.client(), "versions")
    (tmp_path / "f.csv").write_text("a,b\n")
    db = str(tmp_path / "queue.sqlite3")
    client.run(pretend, "0.0.1-other")
    try:
        proc, _ = cli("upload", str(tmp_path / "f.csv"), f"s3://{bucket}/", "--endpoint-url", seaweedfs.endpoint_url,
                      "--queue", db, "--cluster", cluster.scheduler_address, timeout=60)
    finally:
        client.run(pretend, mine)
    assert proc.returncode == 1
    assert "refusing workers that run another lakegui version" in proc.stderr
    assert "0.0.1-other" in proc.stderr and f"install lakegui {mine} on every worker" in proc.stderr
    assert not Path(db).exists() or job_states(db) == {}  # nothing was queued


def test_a_chunk_from_a_coordinator_of_another_version_fails_its_jobs_with_the_reason(dask_cluster):
    """A worker that joined after the check: the chunk is refused before its jobs are read, since
    another release's jobs may have fields this one does not know."""
    import pickle

    from lakegui.core.transfers.cluster import pack, run_chunk

    _, client = dask_cluster
    payload = {"run": "other-release", "chunk": 0, "version": "0.0.1-other",
               "jobs": [{"id": 7, "a_field_of_the_future": 1}, {"id": 8, "a_field_of_the_future": 2}]}
    result = pickle.loads(client.submit(run_chunk, pack(payload), pure=False).result(timeout=60))
    assert [r[:2] for r in result["results"]] == [[7, "failed"], [8, "failed"]]
    assert all("the coordinator 0.0.1-other: install lakegui 0.0.1-other on every worker" in r[2] and r[6]
               for r in result["results"])


def test_without_the_extra_cluster_says_what_to_install(tmp_path):
    (tmp_path / "f.csv").write_text("a,b\n")
    blocked = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None; "
               "from lakegui.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", blocked, "upload", str(tmp_path / "f.csv"), "s3://some-lake/",
                           "--endpoint-url", "http://127.0.0.1:9", "--queue", str(tmp_path / "q.sqlite3"),
                           "--cluster", "tcp://127.0.0.1:8786"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "pip install 'lakegui[cluster]'" in proc.stderr and "Traceback" not in proc.stderr


def test_the_dashboard_shows_a_cluster_backfill_started_from_another_process(dask_cluster, seaweedfs, tmp_path,
                                                                            qtbot, qloop, io_executor):
    from lakegui.core.transfers.service import QueueService
    from lakegui.ui.backfills.dashboard import BackfillDashboard

    cluster, _ = dask_cluster
    s3 = seaweedfs.client()
    bucket = bucket_of(s3, "watched")
    slow_settings()
    bodies = make_files(tmp_path / "local", 6, big=2, seed=5, big_size=11 * MB)  # long enough to pause in
    db = str(tmp_path / "queue.sqlite3")
    from PySide6.QtCore import QObject, Signal

    class Transfers(QObject):  # the window's side of the queue, as the dashboard uses it: no local jobs
        job_finished, jobs_added, idle = Signal(object), Signal(object), Signal()
        running_count = 0

        def __init__(self, service):
            super().__init__()
            self.service = service

    service = QueueService(db, runner="gui", claim_runner="gui")
    transfers = Transfers(service)
    dashboard = BackfillDashboard(transfers, io_executor)
    qtbot.addWidget(dashboard)
    proc = start_cli("backfill", str(tmp_path / "local"), f"s3://{bucket}/", "--template", "daily-ticks",
                     "--endpoint-url", seaweedfs.endpoint_url, "--queue", db, "--cluster",
                     cluster.scheduler_address, "--chunk-files", "1", "--name", "on the cluster")
    try:
        dashboard.show()
        panel = dashboard.cluster

        def two_busy_workers():
            dashboard.refresh()
            s = panel.status
            return s is not None and s.live and len(s.workers) == 2 and all(w.bytes for w in s.workers)

        qtbot.waitUntil(two_busy_workers, timeout=60000)
        assert panel.isVisible()
        assert panel.address.text().startswith(f"Running on the Dask cluster {cluster.scheduler_address}")
        assert "Dask dashboard" in panel.link.text() and panel.status.dashboard in panel.link.text()
        assert panel.table.rowCount() == 2
        assert {panel.table.item(r, 0).text() for r in range(2)} == {w.worker for w in panel.status.workers}
        assert all(panel.table.item(r, 3).text().endswith("/s") for r in range(2))
        # Pause from the window: chunks not started are withheld, running ones stop their jobs.
        panel.pause_button.click()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        states = job_states(db)
        assert "paused" in states.values() and set(states.values()) <= {"done", "paused"}
        assert seaweedfs.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        qtbot.waitUntil(lambda: (dashboard.refresh(force=True), panel.status is not None and not panel.status.live)[1],
                        timeout=10000)
        assert panel.address.text().startswith("Ran on the Dask cluster") and not panel.pause_button.isEnabled()
        # What was done is in the bucket, byte-exact; the paused rest waits for `queue resume --cluster`.
        done = {k for k, state in job_states(db).items() if state == "done"}
        assert_bucket_holds(s3, bucket, {k: bodies[k] for k in done})
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        dashboard.shutdown()
        service.close()
