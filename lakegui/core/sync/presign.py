"""Presigned ListObjectsV2 URLs without an S3 client, for a sync's listing on an explicit endpoint.

A sync with nothing to copy needs no client, only signed listing requests, and building one costs
more than the listing of 10,000 keys: importing boto3 (0.3-0.4 s) and loading botocore's S3 model
and endpoint rules (0.2-0.5 s), all before the first page can be asked for. So the listing signs its
own requests (SigV4 query signing, as botocore's presigned URLs) and the client is built only when
something is sent, deleted or HEADed. With keys from the environment, which botocore's chain takes
first too, nothing of botocore is imported; other credentials go through the connection's chain
and botocore's signer. Path-style addressing only: what an explicit endpoint uses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from urllib.parse import quote, urlsplit

_PARAMS = {"Prefix": "prefix", "MaxKeys": "max-keys", "Delimiter": "delimiter",
           "ContinuationToken": "continuation-token", "EncodingType": "encoding-type"}


def _q(value: str) -> str:
    return quote(value, safe="-_.~")


def _query(params: dict) -> list[tuple[str, str]]:
    return [("list-type", "2")] + [(_PARAMS[k], str(v)) for k, v in params.items() if k != "Bucket"]


class EnvSigner:
    """SigV4 query signing of list_objects_v2 GETs with static keys (AWS's documented algorithm:
    canonical request, string to sign, HMAC key chain). Checked against SeaweedFS, which verifies
    signatures, in tests/integration/test_sync.py."""

    def __init__(self, endpoint_url: str, region: str, access_key: str, secret_key: str, token: str = ""):
        parts = urlsplit(endpoint_url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path.rstrip("/")
        host = parts.netloc.lower()
        default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
        self.host = host[: -len(default)] if default and host.endswith(default) else host  # as http.client sends it
        self.region, self.access_key, self.secret_key, self.token = region, access_key, secret_key, token

    def generate_presigned_url(self, operation: str, Params: dict, ExpiresIn: int = 900) -> str:  # noqa: N803
        if operation != "list_objects_v2":
            raise ValueError(f"the listing signer signs list_objects_v2 only, not {operation}")
        now = time.gmtime()
        amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
        scope = f"{day}/{self.region}/s3/aws4_request"
        query = _query(Params) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                                  ("X-Amz-Credential", f"{self.access_key}/{scope}"), ("X-Amz-Date", amz_date),
                                  ("X-Amz-Expires", str(ExpiresIn)), ("X-Amz-SignedHeaders", "host")]
        if self.token:
            query.append(("X-Amz-Security-Token", self.token))
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted((_q(k), _q(v)) for k, v in query))
        uri = f"{self.path}/{_q(Params['Bucket'])}"
        canonical = "\n".join(["GET", uri, canonical_query, f"host:{self.host}\n", "host", "UNSIGNED-PAYLOAD"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self.base}{uri}?{canonical_query}&X-Amz-Signature={signature}"


class ListingSigner:
    """Just enough of an S3 client for PrefixLister's raw path: `generate_presigned_url` of
    list_objects_v2."""

    def __init__(self, endpoint_url: str, region: str, credentials):
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest

        self._auth, self._request = S3SigV4QueryAuth, AWSRequest
        self.endpoint = endpoint_url.rstrip("/")
        self.region = region
        self.credentials = credentials

    def generate_presigned_url(self, operation: str, Params: dict, ExpiresIn: int = 900) -> str:  # noqa: N803
        if operation != "list_objects_v2":
            raise ValueError(f"ListingSigner signs list_objects_v2 only, not {operation}")
        qs = "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(_query(Params)))
        request = self._request(method="GET", url=f"{self.endpoint}/{quote(Params['Bucket'], safe='')}?{qs}")
        self._auth(self.credentials.get_frozen_credentials(), "s3", self.region, expires=ExpiresIn).add_auth(request)
        return request.url


def listing_client(connection):
    """What lists for the connection: an EnvSigner when it lists an explicit endpoint path-style
    with keys from the environment (and no profile or keychain entry named), a ListingSigner with
    its chain's credentials otherwise, and its shared client for AWS itself or virtual hosts."""
    profile = connection.profile
    if profile.raw_listing and profile.addressing_style == "path":
        region = profile.region or "us-east-1"
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if key and secret and not profile.aws_profile and not getattr(profile, "keychain", "") \
                and getattr(connection, "_credentials", None) is None:
            return EnvSigner(profile.endpoint_url, region, key, secret, os.environ.get("AWS_SESSION_TOKEN", ""))
        credentials = connection.credentials()
        if credentials is not None:
            return ListingSigner(profile.endpoint_url, region, credentials)
    return connection.client()
