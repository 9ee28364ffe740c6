import pytest
from botocore import exceptions as bx

from lakegui.core.errors import classify


def client_error(code, status, op="ListObjectsV2"):
    return bx.ClientError({"Error": {"Code": code, "Message": "msg"},
                           "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"}}, op)


@pytest.mark.parametrize("code,status", [("AccessDenied", 403), ("NoSuchBucket", 404), ("InvalidAccessKeyId", 403),
                                         ("SignatureDoesNotMatch", 403), ("NoSuchKey", 404)])
def test_permanent_codes(code, status):
    info = classify(client_error(code, status), bucket="lake", key="a/")
    assert info.permanent and info.code == code and info.request_id == "req-1"


@pytest.mark.parametrize("code,status", [("SlowDown", 503), ("InternalError", 500), ("Throttling", 400),
                                         ("RequestTimeout", 400), ("Weird", 502)])
def test_transient_codes(code, status):
    assert not classify(client_error(code, status)).permanent


def test_messages_say_what_to_do():
    assert classify(client_error("AccessDenied", 403), bucket="lake", key="p/").message == \
        "Access denied to s3://lake/p/: check the profile's permissions."
    assert "does not exist" in classify(client_error("NoSuchBucket", 404), bucket="nope").message
    assert "credentials" in classify(client_error("InvalidAccessKeyId", 403)).message


def test_network_and_local_errors():
    info = classify(bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), endpoint="http://127.0.0.1:1")
    assert not info.permanent and "Cannot reach http://127.0.0.1:1" in info.message
    assert classify(bx.NoCredentialsError()).permanent
    assert classify(bx.ProfileNotFound(profile="ghost")).permanent
    assert classify(FileNotFoundError(2, "No such file", "/x/y")).message.endswith("/x/y")
    assert classify(PermissionError(13, "Permission denied", "/root/z")).permanent
    assert not classify(bx.ReadTimeoutError(endpoint_url="http://h")).permanent
