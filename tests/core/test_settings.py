import json

from lakegui.core import paths, settings
from lakegui.core.connection import ConnectionProfile


def test_missing_file_gives_defaults():
    s = settings.load()
    assert s.profiles == [] and s.load_warning == ""
    assert s.transfer.multipart_threshold == 10 * 1024 * 1024
    assert s.transfer.multipart_chunksize == 10 * 1024 * 1024
    assert s.transfer.max_concurrency == 20 and s.transfer.num_download_attempts == 5


def test_round_trip(tmp_path):
    s = settings.Settings()
    s.upsert_profile(ConnectionProfile(name="minio", endpoint_url="http://localhost:9000", bucket="lake"))
    s.active_profile = "minio"
    s.transfer.concurrent_files = 3
    settings.save(s)
    loaded = settings.load()
    assert loaded == s
    assert loaded.profile("minio").endpoint_url == "http://localhost:9000"
    assert settings.settings_path().parent == paths.config_dir()
    assert str(tmp_path) in str(settings.settings_path())  # redirected by the test base


def test_corrupt_file_is_kept_and_replaced_by_defaults():
    path = settings.settings_path()
    path.write_text("{ not json", encoding="utf-8")
    s = settings.load()
    assert s.profiles == []
    assert "unreadable" in s.load_warning
    backups = list(path.parent.glob("settings.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{ not json"  # nothing the user had is lost
    assert not path.exists()


def test_wrong_shape_is_corrupt_too():
    settings.settings_path().write_text("[1, 2]", encoding="utf-8")
    assert settings.load().load_warning


def test_secrets_are_never_saved():
    path = settings.settings_path()
    path.write_text(json.dumps({"profiles": [{"name": "x", "aws_secret_access_key": "SHOULD-NOT-STAY",
                                              "session_token": "ALSO-NOT"}]}), encoding="utf-8")
    s = settings.load()
    settings.save(s)
    text = path.read_text()
    assert "SHOULD-NOT-STAY" not in text and "ALSO-NOT" not in text
    assert s.profile("x") is not None


def test_save_is_atomic_and_leaves_no_temp_files():
    settings.save(settings.Settings())
    names = [p.name for p in settings.settings_path().parent.iterdir()]
    assert names == ["settings.json"]
