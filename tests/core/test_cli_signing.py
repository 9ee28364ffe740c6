"""The listing's own SigV4 presigning (issue 17, item 3): the same URL botocore signs, and the
credentials the standard chain would give, read from the environment only when its first link
decides and resolved through botocore's chain otherwise (profiles, SSO, roles)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config

from lakegui.core.connection import Connection, ConnectionProfile, ListingSigner, StaticCredentials

PARAMS = {"Bucket": "my-bucket.x", "Prefix": "a b/ü+%&=?~*'()", "MaxKeys": 1000, "Delimiter": "/",
          "EncodingType": "url", "ContinuationToken": "tok+/="}


@pytest.mark.parametrize("endpoint, token", [("http://127.0.0.1:9000", None), ("https://s3.example.com", "T/+="),
                                             ("http://h:80", None), ("https://h:8443/", None)])
def test_presigned_url_is_the_one_botocore_signs(endpoint, token):
    c = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="AKID",
                     aws_secret_access_key="se/cret+", aws_session_token=token,
                     config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    theirs = urlsplit(c.generate_presigned_url("list_objects_v2", Params=PARAMS, ExpiresIn=900))
    q = dict(parse_qsl(theirs.query))
    now = dt.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    signer = ListingSigner(endpoint, "eu-west-1", StaticCredentials("AKID", "se/cret+", token))
    mine = urlsplit(signer.generate_presigned_url("list_objects_v2", Params=PARAMS, ExpiresIn=900, now=now))
    assert (mine.scheme, mine.netloc, mine.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert dict(parse_qsl(mine.query)) == q  # the signature included


def credential_of(conn: Connection) -> str:
    url = conn.listing_client().generate_presigned_url("list_objects_v2", Params={"Bucket": "b", "Prefix": ""})
    return dict(parse_qsl(urlsplit(url).query))["X-Amz-Credential"].split("/")[0]


def botocore_answer(profile: str | None = None) -> str:
    import botocore.session

    return botocore.session.Session(profile=profile).get_credentials().access_key


def test_credentials_follow_the_standard_chain(isolated_env, monkeypatch):
    (isolated_env / "aws" / "credentials").write_text(
        "[analytics]\naws_access_key_id = FROMPROFILE\naws_secret_access_key = s\n"
        "[default]\naws_access_key_id = FROMDEFAULT\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FROMENV")
    url = "http://127.0.0.1:9000"
    assert credential_of(Connection(ConnectionProfile.from_options(endpoint_url=url))) == "FROMENV"
    named = ConnectionProfile.from_options(endpoint_url=url, aws_profile="analytics")
    assert credential_of(Connection(named)) == "FROMPROFILE"  # a named profile outranks the environment
    monkeypatch.setenv("AWS_PROFILE", "analytics")  # from the environment, the environment's keys still win
    assert credential_of(Connection(ConnectionProfile.from_options(endpoint_url=url))) == botocore_answer() == "FROMENV"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert credential_of(Connection(ConnectionProfile.from_options(endpoint_url=url))) == botocore_answer() \
        == "FROMPROFILE"
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert credential_of(Connection(ConnectionProfile.from_options(endpoint_url=url))) == "FROMDEFAULT"
    demo = Connection(ConnectionProfile.from_options(endpoint_url=url), credentials=StaticCredentials("DEMO", "x"))
    assert credential_of(demo) == "DEMO"


def test_no_credentials_anywhere_is_the_usual_error(isolated_env, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(NoCredentialsError):
        Connection(ConnectionProfile.from_options(endpoint_url="http://127.0.0.1:9000")).listing_client()
