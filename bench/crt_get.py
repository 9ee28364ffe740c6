"""One GET through awscrt's native S3 client and nothing else: the floor under lakegui's
download (issue 19). Run as its own process by bench/crt_floor.py, like s5cmd, so both pay a
process start; keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

    python bench/crt_get.py ENDPOINT BUCKET KEY OUT [--verify] [--on-body] [--part-mib N] [--connections N]

--verify: the CRT checks the whole download against the object's full-object checksum, in C
(S3ChecksumValidationMode.FULL_OBJECT; it HEADs for it). --on-body: the bytes come through a
Python callback that pwrites them, as lakegui's engine does, instead of recv_filepath.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlparse

from awscrt.auth import AwsCredentialsProvider, AwsSignatureType, AwsSigningAlgorithm, AwsSigningConfig
from awscrt.http import HttpHeaders, HttpRequest
from awscrt.s3 import S3ChecksumConfig, S3ChecksumValidationMode, S3Client, S3RequestTlsMode, S3RequestType

MIB = 1024 * 1024


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("out")
    p.add_argument("--verify", action="store_true")
    p.add_argument("--on-body", action="store_true")
    p.add_argument("--part-mib", type=int, default=8)
    p.add_argument("--connections", type=int, default=0)
    a = p.parse_args()
    url = urlparse(a.endpoint)
    signing = AwsSigningConfig(
        algorithm=AwsSigningAlgorithm.V4, signature_type=AwsSignatureType.HTTP_REQUEST_HEADERS, service="s3",
        region="us-east-1", credentials_provider=AwsCredentialsProvider.new_static(
            os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]))
    s3 = S3Client(region="us-east-1", signing_config=signing, part_size=a.part_mib * MIB, throughput_target_gbps=10.0,
                  tls_mode=S3RequestTlsMode.ENABLED if url.scheme == "https" else S3RequestTlsMode.DISABLED)
    checks = S3ChecksumConfig(validate_response=True, response_validation_mode=S3ChecksumValidationMode.FULL_OBJECT) \
        if a.verify else None
    done: dict = {}
    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if a.on_body else None
    request = s3.make_request(
        type=S3RequestType.GET_OBJECT,
        request=HttpRequest("GET", f"/{a.bucket}/{a.key}", HttpHeaders([("Host", url.netloc)])),
        recv_filepath=None if a.on_body else a.out, checksum_config=checks,
        on_body=(lambda chunk, offset, **kw: os.pwrite(fd, chunk, offset)) if a.on_body else None,
        on_done=lambda **kw: done.update(kw), max_active_connections_override=a.connections or None)
    request.finished_future.result()
    if fd is not None:
        os.close(fd)
    if a.verify and not done.get("did_validate_checksum"):
        print("the CRT found no checksum to validate against", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
