"""Stand-ins for an S3 client that refuses some requests, for paths that must not depend on them."""

from __future__ import annotations

from botocore.exceptions import ClientError


class NoHead:
    """`s3` as a credential allowed to list and delete but not to HEAD (403, as a write-only policy
    or an SSE-C object answers)."""

    def __init__(self, s3):
        self._s3 = s3

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def head_object(self, **kw):
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "HeadObject")
