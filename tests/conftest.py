"""Test base: offscreen Qt, redirected folders, S3 endpoints, and leak checks.

Every test runs with lakegui's config/data/log folders and the AWS shared
files pointed at a temp dir, so nothing touches the developer's real setup.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import asyncio
import gc
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.support.endpoints import SeaweedFS, reset_moto, start_moto_server

pytest_plugins = ["tests.support.keyrings"]  # memory_keyring, no_keyring

TEST_KEY, TEST_SECRET = "lakegui-test-key", "lakegui-test-secret"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Redirect lakegui's folders and the AWS credential chain to the test's temp dir."""
    for var, sub in (("LAKEGUI_CONFIG_DIR", "config"), ("LAKEGUI_DATA_DIR", "data"), ("LAKEGUI_LOG_DIR", "log")):
        monkeypatch.setenv(var, str(tmp_path / "lakegui" / sub))
    aws = tmp_path / "aws"
    aws.mkdir()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never probe instance metadata
    yield tmp_path
    from lakegui.core import logs

    logs.reset()  # a CLI run in-process set up the log file in this test's folder


def _with_subclasses(cls) -> set[type]:
    found, todo = {cls}, [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def _qtimer_name(timer) -> str:
    parent = timer.parent()
    owner = f" of {type(parent).__name__}" if parent is not None else ""
    name = f" {timer.objectName()!r}" if timer.objectName() else ""
    return f"QTimer{name} ({timer.interval()} ms{', single shot' if timer.isSingleShot() else ''}){owner}"


def _qt_leaks() -> list[str]:
    """QThreadPool jobs still running, and QTimers still active once the test's widgets are gone."""
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool, QTimer

    leaked = []
    objects = gc.get_objects()
    # By exact type, from the classes' own subclass lists: an isinstance() on each of the session's
    # few hundred thousand objects cost about 0.4 s a test, minutes over the suite.
    pool_types, timer_types = _with_subclasses(QThreadPool), _with_subclasses(QTimer)
    pools = [QThreadPool.globalInstance()] + [o for o in objects if type(o) in pool_types]
    for pool in pools:
        try:
            if not pool.waitForDone(3000):
                leaked.append(f"QThreadPool: {pool.activeThreadCount()} jobs")
        except RuntimeError:  # its C++ side is already gone: nothing runs there
            pass
    app = QCoreApplication.instance()
    if app is None:
        return leaked
    # Zero timers already due (QTimer.singleShot(0, ...)) run now, and the widgets pytest-qt
    # closed and scheduled for deletion are deleted, with their timers.
    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    timers = {id(o): o for o in objects if type(o) in timer_types}
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        for w in QApplication.topLevelWidgets():
            timers.update((id(t), t) for t in w.findChildren(QTimer))
    for timer in timers.values():
        try:
            if timer.isActive():
                leaked.append(_qtimer_name(timer))
        except RuntimeError:  # deleted with its owner
            pass
    return leaked


@pytest.fixture(autouse=True)
def no_leaks():
    """Fail a test that leaves threads, QThreadPool jobs or active QTimers behind."""
    before = set(threading.enumerate())
    yield
    leaked = []
    for t in set(threading.enumerate()) - before:
        if isinstance(t, threading._DummyThread):
            continue  # a Qt thread Python saw once; QThreadPools are checked below
        t.join(timeout=3)  # finished work gets a moment to unwind
        if t.is_alive():
            leaked.append(t.name)
    if "PySide6.QtCore" in sys.modules:
        leaked += _qt_leaks()
    if leaked:
        pytest.fail(f"test left running: {', '.join(sorted(leaked))}")


# S3 endpoints

@pytest.fixture
def s3():
    """moto in-process: a plain boto3 S3 client against mocked AWS."""
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture(scope="session")
def moto_server_url():
    server, url = start_moto_server()
    yield url
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server_url):
    """A real HTTP endpoint (moto's ThreadedMotoServer), emptied for each test."""
    reset_moto(moto_server_url)
    yield moto_server_url
    reset_moto(moto_server_url)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real SeaweedFS S3 endpoint on loopback, started from the `weed` binary."""
    sw = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), TEST_KEY, TEST_SECRET)
    sw.start()
    yield sw
    sw.stop()


# GUI plumbing

@pytest.fixture
def io_executor():
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def _qasync_loop(qapp):
    # One loop for the whole session: qasync's stop() calls QApplication.exit(), after
    # which nested Qt event loops (qtbot.waitSignal) no longer run asyncio callbacks.
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def qloop(_qasync_loop, qapp):
    """The qasync loop, marked running, so coroutines advance whenever Qt processes events
    (qtbot.waitSignal/waitUntil). Fails the test if it leaves tasks pending."""
    loop = _qasync_loop
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        # Let the cancellations run before the next test.
        qapp.processEvents()
        pytest.fail(f"test left {len(pending)} asyncio task(s) pending: {pending}")
