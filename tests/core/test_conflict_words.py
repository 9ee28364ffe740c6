"""A conflict (a target that exists with other content and was not replaced) is said in no front
end's words by core; the CLI adds its flags, the window its question's choices (session 9's trial,
finding 6: the window showed `--overwrite`, the CLI's cp said "choose overwrite or skip")."""

from __future__ import annotations

import json

from lakegui.cli import main
from lakegui.cli.common import CONFLICT_ADVICE
from lakegui.core.transfers.jobs import advised, conflict_error, says_conflict

OLD = "s3://b/k exists with different content; overwrite it (--overwrite) or keep it (--skip-existing)"


def test_core_says_a_conflict_without_flags_and_a_front_end_adds_its_own():
    error = conflict_error("s3://b/k")
    assert error == "s3://b/k exists with different content and was not replaced" and "--" not in error
    assert says_conflict(error) and says_conflict(OLD) and not says_conflict("Cannot reach the endpoint")
    assert advised(error, "ask again") == "s3://b/k exists with different content and was not replaced: ask again"
    assert advised(OLD, "ask again") == "s3://b/k exists with different content: ask again"  # an older queue's
    assert advised("Access denied", "ask again") == "Access denied"


def test_cp_onto_a_different_object_names_the_flags(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="a.txt", Body=b"one")
    s3.put_object(Bucket="lake", Key="b.txt", Body=b"two")
    assert main(["cp", "s3://lake/a.txt", "s3://lake/b.txt"]) == 1
    err = capsys.readouterr().err
    assert "failed s3://lake/b.txt: it exists and was not replaced: " + CONFLICT_ADVICE in err  # the URI once
    assert "--overwrite" in CONFLICT_ADVICE and "--skip-existing" in CONFLICT_ADVICE
    assert main(["cp", "s3://lake/a.txt", "s3://lake/b.txt", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failures"][0]["error"].endswith(CONFLICT_ADVICE)
    assert s3.get_object(Bucket="lake", Key="b.txt")["Body"].read() == b"two"
