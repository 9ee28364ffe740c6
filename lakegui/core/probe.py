"""A quick check that a connection answers, for the Connect dialog's Test button."""

from __future__ import annotations

from .connection import Connection


def probe(connection: Connection) -> str:
    """HEAD the profile's bucket (or list the buckets when it names none) and say what was found.

    One interactive request, so an unreachable endpoint fails within seconds. Raises what the
    SDK or the keychain raised; core.errors.classify turns it into a message.
    """
    client = connection.client("interactive")
    where = connection.where()  # the endpoint in effect: AWS_ENDPOINT_URL or an AWS profile may name one
    if connection.bucket:
        try:
            client.head_bucket(Bucket=connection.bucket)
        except Exception as exc:
            raise head_reason(client, connection.bucket, exc) from None
        return f"Connected: bucket {connection.bucket} answers at {where}."
    names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return f"Connected to {where}: {len(names)} bucket{'s' if len(names) != 1 else ''}" + \
        (f" ({shown})." if names else ".")


def head_reason(client, bucket: str, exc: BaseException) -> BaseException:
    """What a HEAD's bare 403 or 404 stood for: a HEAD answer has no body, so a wrong secret key,
    an unknown access key and a missing permission all read "Forbidden", and a missing bucket
    "Not Found" (which reads as a missing object). A one-key listing's answer names the cause
    (SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied, NoSuchBucket), as the CLI's and the
    browser's listings see it; its error is returned for core.errors.classify, else `exc`."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError) or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") not in (403, 404):
        return exc
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as listed:
        return listed
    except Exception:  # noqa: BLE001  the listing could not be asked: the HEAD's own answer stands
        return exc
    return exc
