"""The app as a user starts it: command line, saved settings, demo lake, screenshot mode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakegui.__main__ import main as gui_main
from lakegui.core import settings as settings_store
from tests.ui.conftest import profile_for


@pytest.fixture
def lake(qtbot, qloop):
    from lakegui.app import LakeApp, LaunchOptions

    apps = []

    def make(**options):
        app = LakeApp(LaunchOptions(**options))
        qtbot.addWidget(app.window)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
        app.executor.shutdown(wait=True)


def test_corrupt_settings_are_reported_not_fatal(lake):
    settings_store.settings_path().write_text("{{{", encoding="utf-8")
    app = lake()
    assert app.window.notice.isVisibleTo(app.window)
    assert "unreadable" in app.window.notice.text() and "defaults" in app.window.notice.text()


def test_saved_profile_connects_at_start(qtbot, lake, demo_connection):
    s = settings_store.Settings()
    s.upsert_profile(profile_for(demo_connection.profile.endpoint_url))
    s.active_profile = "test"
    settings_store.save(s)
    app = lake()
    with qtbot.waitSignal(app.window.browser.listing_finished, timeout=10000) as blocker:
        asyncio.ensure_future(app.start())
    assert blocker.args == ["", 2]


def test_chosen_profile_is_remembered(qtbot, lake, demo_connection):
    app = lake()
    with qtbot.waitSignal(app.window.browser.listing_finished, timeout=10000):
        app.window.profile_chosen.emit(profile_for(demo_connection.profile.endpoint_url))
    saved = settings_store.load()
    assert saved.active_profile == "test" and saved.profile("test").bucket == "us-equity-datalake"


def test_bad_command_line_endpoint_is_a_usage_error(capsys):
    assert gui_main(["--endpoint-url", "localhost:9000"]) == 2
    assert "must look like https://host" in capsys.readouterr().err


@pytest.mark.slow  # a GUI process of its own, seeding its own demo lake
def test_screenshot_of_the_demo_lake(tmp_path):
    from PySide6.QtGui import QImage

    shot = tmp_path / "shot.png"
    # The user's folders (no lakegui override): the demo's queue and log must not land there
    # (session 10's trial: a demo wrote its jobs into the real queue and its lines into the real log).
    env = {k: v for k, v in os.environ.items() if k not in ("LAKEGUI_DATA_DIR", "LAKEGUI_LOG_DIR")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"))
    r = subprocess.run([str(Path(sys.executable).parent / "lakegui"), "--demo", "--screenshot", str(shot)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    left = [p for p in (tmp_path / "data").rglob("*") if p.is_file()] + \
        [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert left == []
    image = QImage(str(shot))
    assert image.width() >= 1000 and image.height() >= 600
    # Not a blank frame: the listing, icons and chrome give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20


def test_turning_tls_verification_off_is_warned_about(qtbot, window, moto_endpoint):
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.ui.dialogs.connection import ConnectionDialog

    dialog = ConnectionDialog(ConnectionProfile(name="lab", endpoint_url=moto_endpoint), window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.tls_warning.isVisible()
    dialog.verify_check.setChecked(False)
    assert dialog.tls_warning.isVisible() and "impersonate" in dialog.tls_warning.text()
    dialog.endpoint_edit.setText("")
    dialog.accept()  # AWS itself: refused with the reason
    assert dialog.isVisible() and "named endpoint" in dialog.error_label.text()
    dialog.reject()
    profile = ConnectionProfile(name="lab", endpoint_url=moto_endpoint, bucket="b", verify_tls=False)
    with qtbot.waitSignal(window.browser.listing_failed, timeout=10000):
        window.set_connection(Connection(profile))
    assert window.notice.isVisible() and "TLS certificate verification is OFF" in window.notice.text()


@pytest.mark.slow  # 4 s: a GUI process of its own, seeding its own demo lake
def test_sigterm_closes_the_app_as_quit_does(qtbot):
    """`kill <pid>` closes the window the File › Quit way (its layout saved, the queue stopped) and
    exits 0 without a traceback; before, the default action killed it (status -15, nothing saved)."""
    import os
    import signal

    from lakegui.core import paths

    log_file = paths.log_dir() / "lakegui.log"
    p = subprocess.Popen([str(Path(sys.executable).parent / "lakegui"), "--demo"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Its log says when the handler is in place (a signal before that would end it the default way).
        qtbot.waitUntil(lambda: p.poll() is not None or "SIGTERM or SIGINT closes it" in (
            log_file.read_text() if log_file.exists() else ""), timeout=30000)
        assert p.poll() is None, p.communicate()[1]
        os.kill(p.pid, signal.SIGTERM)
        _out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    assert "Traceback" not in err and "RuntimeError" not in err
    assert (paths.config_dir() / "ui-state.ini").exists()  # closeEvent ran: the layout was saved
    assert "SIGTERM received: closing" in log_file.read_text()
