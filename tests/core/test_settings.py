import json
from pathlib import Path

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


def test_corrupt_file_is_logged(caplog):
    settings.settings_path().write_text("{ not json", encoding="utf-8")
    with caplog.at_level("WARNING", logger="lakegui.core.settings"):
        s = settings.load()
    assert s.load_warning and s.load_warning in caplog.text


def test_started_app_reports_a_corrupt_file_in_its_notice_and_log(tmp_path):
    """Issue 18 defect 2: run() loaded the settings once for the theme, which moved the corrupt
    file aside and dropped the warning; the window's own load then found nothing wrong."""
    import os
    import subprocess
    import sys

    settings.settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings.settings_path().write_text("{ not json", encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from lakegui import app\n"
        "async def shot(self, path):\n"
        "    n = self.window.notice\n"
        "    print('NOTICE:', n.text() if n.isVisibleTo(self.window) else '')\n"
        "    return 0\n"
        "app.LakeApp.screenshot = shot\n"
        "sys.exit(app.run(app.LaunchOptions(screenshot=Path('unused.png'))))\n")
    cwd = tmp_path / "cwd"  # not tmp_path: its lakegui/ folder would shadow the package
    cwd.mkdir()
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
                       cwd=cwd, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    notice = next(line for line in r.stdout.splitlines() if line.startswith("NOTICE:"))
    assert "unreadable" in notice and "defaults are in use" in notice
    logs = "".join(p.read_text() for p in Path(os.environ["LAKEGUI_LOG_DIR"]).rglob("*.log"))
    assert "The settings file was unreadable" in logs
    assert len(list(settings.settings_path().parent.glob("settings.json.corrupt-*"))) == 1
