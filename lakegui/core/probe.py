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
        client.head_bucket(Bucket=connection.bucket)
        return f"Connected: bucket {connection.bucket} answers at {where}."
    names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return f"Connected to {where}: {len(names)} bucket{'s' if len(names) != 1 else ''}" + \
        (f" ({shown})." if names else ".")
