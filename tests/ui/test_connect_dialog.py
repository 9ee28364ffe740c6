"""The Connect dialog as a list of profiles (issue 18, item 4): add, edit, duplicate, delete,
test against a real endpoint, and keys kept in the keychain (keyring's API, in memory here)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from lakegui.core import settings as settings_store
from lakegui.core.connection import ConnectionProfile
from lakegui.ui.dialogs.connection import AWS_ROUTE, KEYCHAIN_ROUTE, ConnectionDialog

SECRET = "dialog-secret-83c1f0"


@pytest.fixture
def dialog_for(qtbot, io_executor):
    def make(profiles, **kwargs):
        d = ConnectionDialog(profiles, executor=io_executor, **kwargs)
        qtbot.addWidget(d)
        d.show()
        return d

    return make


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, edit, text):
    edit.clear()
    qtbot.keyClicks(edit, text)


def fill_keychain_profile(qtbot, d, name, endpoint, bucket=""):
    type_into(qtbot, d.name_edit, name)
    type_into(qtbot, d.endpoint_edit, endpoint)
    d.style_combo.setCurrentText("path")
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
    type_into(qtbot, d.access_key_edit, f"{name}-key")
    type_into(qtbot, d.secret_key_edit, SECRET)
    type_into(qtbot, d.bucket_edit, bucket)


def test_add_duplicate_delete_and_save(qtbot, dialog_for, memory_keyring, moto_endpoint):
    aws = ConnectionProfile(name="aws", region="eu-west-1")
    d = dialog_for([aws], current="aws")
    assert d.profile_list.count() == 1 and d.name_edit.text() == "aws"
    assert not d.access_key_edit.isEnabled()  # an AWS-profile route: no keys typed here

    click(qtbot, d.add_button)
    assert d.profile_list.count() == 2 and d.profile_list.currentRow() == 1
    fill_keychain_profile(qtbot, d, "minio", moto_endpoint, "lake")
    assert d.profile_list.item(1).text() == "minio"  # the list follows the name as it is typed
    assert "lakegui:minio" in d.keychain_note.text()

    click(qtbot, d.duplicate_button)
    assert [d.profile_list.item(i).text() for i in range(3)] == ["aws", "minio", "minio copy"]
    assert d.endpoint_edit.text() == moto_endpoint and d.route_combo.currentText() == KEYCHAIN_ROUTE
    type_into(qtbot, d.bucket_edit, "other")

    d.profile_list.setCurrentRow(0)
    assert d.name_edit.text() == "aws" and d.region_edit.text() == "eu-west-1"
    click(qtbot, d.delete_button)
    assert [d.profile_list.item(i).text() for i in range(2)] == ["minio", "minio copy"]
    assert d.name_edit.text() == "minio" and d.bucket_edit.text() == "lake"  # edits kept across rows

    click(qtbot, d.save_button)
    assert d.result() == ConnectionDialog.DialogCode.Accepted and not d.connect_requested
    saved = d.profiles()
    assert [(p.name, p.bucket, p.keychain) for p in saved] == \
        [("minio", "lake", "lakegui:minio"), ("minio copy", "other", "lakegui:minio copy")]
    assert all(p.aws_profile == "" for p in saved)
    for name in ("minio", "minio copy"):
        assert json.loads(memory_keyring.entries[("lakegui", name)]) == \
            {"access_key": "minio-key", "secret_key": SECRET}
    assert SECRET not in json.dumps([p.to_dict() for p in saved])
    assert d.secret_key_edit.text() == ""  # typed keys do not outlive the dialog


def test_saved_keychain_profile_keeps_its_entry_until_no_profile_uses_it(qtbot, dialog_for, memory_keyring):
    memory_keyring.set_password("lakegui", "lab", json.dumps({"access_key": "k", "secret_key": SECRET}))
    lab = ConnectionProfile(name="lab", endpoint_url="http://127.0.0.1:9000", keychain="lakegui:lab")
    d = dialog_for([lab])
    assert d.route_combo.currentText() == KEYCHAIN_ROUTE and d.secret_key_edit.text() == ""
    assert "keys are in keychain entry lakegui:lab" in d.keychain_note.text()
    click(qtbot, d.duplicate_button)  # shares lakegui:lab: no keys typed for the copy
    d.profile_list.setCurrentRow(0)
    click(qtbot, d.delete_button)
    click(qtbot, d.save_button)
    assert [(p.name, p.keychain) for p in d.profiles()] == [("lab copy", "lakegui:lab")]
    assert ("lakegui", "lab") in memory_keyring.entries  # still used by the copy

    d = dialog_for(d.profiles())
    d.route_combo.setCurrentText(AWS_ROUTE)  # the copy now uses the AWS chain instead
    click(qtbot, d.save_button)
    assert d.profiles()[0].keychain == "" and memory_keyring.entries == {}


def test_problems_keep_the_dialog_open_on_the_profile_at_fault(qtbot, dialog_for, memory_keyring):
    d = dialog_for([ConnectionProfile(name="a", endpoint_url="http://127.0.0.1:9000")])
    click(qtbot, d.add_button)
    type_into(qtbot, d.name_edit, "a")
    click(qtbot, d.connect_button)
    assert d.isVisible() and "Two profiles are called 'a'" in d.error_label.text()
    type_into(qtbot, d.name_edit, "b")
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
    type_into(qtbot, d.access_key_edit, "only-the-key")
    click(qtbot, d.connect_button)
    assert d.isVisible() and "needs both the access key and the secret key" in d.error_label.text()
    assert memory_keyring.entries == {}


def test_test_button_probes_a_real_endpoint_with_keychain_keys(qtbot, dialog_for, memory_keyring, moto_endpoint):
    import boto3

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket="lake")
    d = dialog_for(None)
    fill_keychain_profile(qtbot, d, "moto", moto_endpoint, "lake")
    with qtbot.waitSignal(d.tested, timeout=10000) as blocker:
        click(qtbot, d.test_button)
    assert blocker.args == [True, f"Connected: bucket lake answers at {moto_endpoint}."]
    assert d.test_label.text() == blocker.args[1]

    type_into(qtbot, d.bucket_edit, "missing-bucket")
    with qtbot.waitSignal(d.tested, timeout=10000) as blocker:
        click(qtbot, d.test_button)
    assert blocker.args[0] is False and "missing-bucket" in blocker.args[1]

    type_into(qtbot, d.bucket_edit, "")  # no bucket: list them
    with qtbot.waitSignal(d.tested, timeout=10000) as blocker:
        click(qtbot, d.test_button)
    assert blocker.args[0] is True and "1 bucket (lake)" in blocker.args[1]
    assert memory_keyring.entries == {}  # a test does not store the keys; Connect or Save does


def test_without_a_keychain_the_dialog_says_so_and_offers_the_aws_profile(qtbot, dialog_for, no_keyring):
    d = dialog_for([ConnectionProfile(name="minio", endpoint_url="http://127.0.0.1:9000")])
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
    assert d.keychain_note.isVisible() and "No keychain is available" in d.keychain_note.text()
    assert not d.access_key_edit.isEnabled() and not d.secret_key_edit.isEnabled()
    assert d.use_aws_button.isVisible()
    click(qtbot, d.connect_button)
    assert d.isVisible() and "No keychain is available" in d.error_label.text()
    click(qtbot, d.use_aws_button)
    assert d.route_combo.currentText() == AWS_ROUTE and d.profile_combo.isEnabled()
    assert not d.use_aws_button.isVisible()
    click(qtbot, d.connect_button)
    assert d.result() == ConnectionDialog.DialogCode.Accepted and d.connect_requested


def test_file_connect_saves_the_list_and_connects_with_keychain_keys(qtbot, qloop, memory_keyring, moto_endpoint):
    """Through the window: Ctrl+K's dialog, the profiles saved by the app, the browser listing
    through a connection whose keys came from the keychain."""
    import boto3

    from lakegui.app import LakeApp, LaunchOptions

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket="lake")
    s = settings_store.Settings()
    s.upsert_profile(ConnectionProfile(name="old", endpoint_url="http://127.0.0.1:9"))
    settings_store.save(s)
    app = LakeApp(LaunchOptions())
    qtbot.addWidget(app.window)
    try:
        def drive():
            d = QApplication.activeModalWidget()
            assert isinstance(d, ConnectionDialog)
            click(qtbot, d.add_button)
            fill_keychain_profile(qtbot, d, "moto", moto_endpoint, "lake")
            click(qtbot, d.connect_button)

        QTimer.singleShot(0, drive)
        with qtbot.waitSignal(app.window.browser.listing_finished, timeout=10000):
            app.window.connect_action.trigger()
        assert app.window.connection.profile.keychain == "lakegui:moto"
        assert app.window.connection.credentials().secret_key == SECRET
        saved = settings_store.load()
        assert [p.name for p in saved.profiles] == ["old", "moto"] and saved.active_profile == "moto"
        assert SECRET not in settings_store.settings_path().read_text()
    finally:
        app.close()
        app.executor.shutdown(wait=True)


def test_new_keys_never_overwrite_an_entry_another_profile_names(qtbot, dialog_for, memory_keyring):
    memory_keyring.set_password("lakegui", "a", json.dumps({"access_key": "a-key", "secret_key": "a-secret"}))
    d = dialog_for([ConnectionProfile(name="a", endpoint_url="http://127.0.0.1:9000", keychain="lakegui:a")])
    type_into(qtbot, d.name_edit, "b")  # renamed: still names lakegui:a
    click(qtbot, d.add_button)
    fill_keychain_profile(qtbot, d, "a", "http://127.0.0.1:9001")
    click(qtbot, d.save_button)
    assert [(p.name, p.keychain) for p in d.profiles()] == [("b", "lakegui:a"), ("a", "lakegui:a 2")]
    assert json.loads(memory_keyring.entries[("lakegui", "a")])["secret_key"] == "a-secret"
    assert json.loads(memory_keyring.entries[("lakegui", "a 2")])["secret_key"] == SECRET


def test_without_a_keychain_a_keyed_profile_can_still_move_to_an_aws_profile(qtbot, dialog_for, no_keyring):
    d = dialog_for([ConnectionProfile(name="lab", endpoint_url="http://127.0.0.1:9000", keychain="lakegui:lab")])
    assert "No keychain is available" in d.keychain_note.text()
    click(qtbot, d.use_aws_button)
    click(qtbot, d.save_button)  # the old entry cannot be deleted: logged, not a reason to refuse
    assert d.result() == ConnectionDialog.DialogCode.Accepted
    assert d.profiles()[0].keychain == ""


def test_the_endpoint_placeholder_names_a_configured_endpoint(qtbot, dialog_for, isolated_env, monkeypatch):
    """Session 9's second trial, finding A: 'empty for AWS' while AWS_ENDPOINT_URL or the AWS
    profile's endpoint_url sent every request elsewhere."""
    (isolated_env / "aws" / "config").write_text("[profile local]\nendpoint_url = http://127.0.0.1:8\n")
    d = dialog_for([ConnectionProfile(name="aws")])
    assert d.endpoint_edit.placeholderText().startswith("empty for AWS")
    d.profile_combo.setCurrentText("local")
    assert d.endpoint_edit.placeholderText() == "empty: AWS profile local (http://127.0.0.1:8)"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)  # keys in the keychain: the default profile, the environment
    assert d.endpoint_edit.placeholderText() == "empty: AWS_ENDPOINT_URL (http://127.0.0.1:9)"
    from lakegui.core.connection import Connection
    from lakegui.ui.browser.location import Location

    status = Location(Connection(ConnectionProfile()), "lake1").describe()  # the status bar's
    assert status == "default: http://127.0.0.1:9 (from AWS_ENDPOINT_URL) · s3://lake1"
