"""The one place where core services are wired to the GUI: settings, connections,
the demo endpoint, the I/O executor and the qasync event loop.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QApplication

from . import __version__
from .core import settings as settings_store
from .core.connection import Connection, ConnectionProfile
from .core.demo import DemoServer
from .core.errors import classify

log = logging.getLogger(__name__)
SCREENSHOT_TIMEOUT = 15.0  # seconds to wait for data before taking the picture anyway


@dataclass
class LaunchOptions:
    demo: bool = False
    screenshot: Path | None = None
    profile: ConnectionProfile | None = None  # from command-line options, not saved
    theme: str = ""  # --theme; '' uses the saved setting


class LakeApp:
    """Owns what outlives any one window: settings, executor, demo server, connection."""

    def __init__(self, options: LaunchOptions, settings: settings_store.Settings | None = None):
        from .ui.main_window import MainWindow  # Qt widgets need the QApplication first

        self.options = options
        # Loaded once: a second load would not see a corrupt file the first one moved aside.
        self.settings = settings if settings is not None else settings_store.load()
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lakegui-io")
        self.demo: DemoServer | None = None
        self.closed = False  # the windows closed (a connection still starting is not shown)
        self.window = MainWindow(self.executor, self.settings.transfer)
        self.window.profile_chosen.connect(self._on_window_profile_chosen)
        self.window.apply_settings(self.settings)
        self.window.settings_chosen.connect(self._on_window_settings_chosen)
        self.window.profiles_edited.connect(self._on_window_profiles_edited)
        if self.settings.load_warning:
            self.window.show_notice(self.settings.load_warning)

    def connect_profile(self, profile: ConnectionProfile, *, remember: bool) -> None:
        t = self.settings.transfer
        conn = Connection(profile, concurrency=t.max_concurrency, read_timeout=t.read_timeout)
        self.window.set_connection(conn)
        if remember:
            self.settings.upsert_profile(profile)
            self.settings.active_profile = profile.name
            settings_store.save(self.settings)

    def _on_window_profile_chosen(self, profile: ConnectionProfile) -> None:
        self.connect_profile(profile, remember=True)

    def _on_window_profiles_edited(self, profiles: list) -> None:
        self.settings.profiles = profiles
        if self.settings.profile(self.settings.active_profile) is None:
            self.settings.active_profile = ""
        settings_store.save(self.settings)

    def _on_window_settings_chosen(self, settings) -> None:
        settings.profiles, settings.active_profile = self.settings.profiles, self.settings.active_profile
        self.settings = settings
        settings_store.save(self.settings)

    async def start(self) -> None:
        """Connect as the launch options and saved settings say."""
        if self.options.demo:
            self.window.connection_label.setText("Starting the demo lake…")
            self.window.statusBar().showMessage("Starting the embedded demo endpoint and seeding it…")
            try:
                self.demo = await asyncio.get_event_loop().run_in_executor(self.executor, DemoServer().start)
            except Exception as exc:
                info = classify(exc)
                self.window.show_notice(f"The demo lake could not start: {info.message}")
                self.window.browser.report_unavailable(info.message)
                return
            if self.closed:  # quit while the demo started: close() stops it
                return
            self.window.set_connection(self.demo.connection(self.settings.transfer.max_concurrency))
        elif self.options.profile is not None:
            self.connect_profile(self.options.profile, remember=False)
        elif (saved := self.settings.profile(self.settings.active_profile)) is not None:
            self.connect_profile(saved, remember=False)

    async def screenshot(self, path: Path) -> int:
        """Wait until the browser has loaded (or failed), then save the window as PNG."""
        done = asyncio.get_event_loop().create_future()

        def finish(ok: bool) -> None:
            if not done.done():
                done.set_result(ok)

        self.window.browser.listing_finished.connect(lambda *_: finish(True))
        self.window.browser.listing_failed.connect(lambda *_: finish(False))
        await self.start()
        try:
            ok = await asyncio.wait_for(done, SCREENSHOT_TIMEOUT)
        except asyncio.TimeoutError:
            ok = False
            print(f"lakegui: no data after {SCREENSHOT_TIMEOUT:.0f} s; saving the window as it is",
                  file=sys.stderr)
        await asyncio.sleep(0.2)  # let the view lay out and paint the rows it just got
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(path), "PNG"):
            print(f"lakegui: could not write {path}", file=sys.stderr)
            return 1
        print(f"lakegui: saved {path}")
        return 0 if ok else 1

    def close(self) -> None:
        self.window.shutdown()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.demo is not None:
            self.demo.stop()
            self.demo = None


def run(options: LaunchOptions) -> int:
    import qasync

    from .core import logs
    from .ui.resources import app_icon

    log_file = logs.setup()
    log.info("lakegui %s starting; log file %s", __version__, log_file)
    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setApplicationName("lakegui")
    qt_app.setOrganizationName("lakegui")
    qt_app.setDesktopFileName("lakegui")
    qt_app.setWindowIcon(app_icon())
    from .ui.theme import apply_theme, follow_system

    settings = settings_store.load()  # once: LakeApp shows its warning, if any
    theme = options.theme or settings.theme
    apply_theme(qt_app, theme)
    from .ui.gc_main_thread import MainThreadCollector

    collector = MainThreadCollector(qt_app)  # Qt objects in cycles are freed on this thread only
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    lake = LakeApp(options, settings)
    follow_system(qt_app, lambda: options.theme or lake.settings.theme)
    lake.window.ask_before_quit = True  # a person quitting while transfers run is asked first
    lake.window.show()
    from .ui.stop_signals import StopOnSignals

    # kill <pid> and Ctrl+C close the windows as File › Quit does: the queue stops and is recorded.
    def stop() -> None:
        lake.window.ask_before_quit = False  # a kill is not asked whether to stop the transfers
        qt_app.closeAllWindows()

    stop_signals = StopOnSignals(stop)
    log.info("Window open; SIGTERM or SIGINT closes it")
    # The loop ends when main() returns, not when Qt sees the last window go: a quit while the demo
    # lake was starting stopped the loop under main() ("Event loop stopped before Future completed").
    qt_app.setQuitOnLastWindowClosed(False)
    quitting = []  # Qt quit by itself (the session ending): the loop stops wherever main() is
    qt_app.aboutToQuit.connect(lambda: quitting.append(True))

    async def main() -> int:
        if options.screenshot is not None:
            return await lake.screenshot(options.screenshot)
        closed = asyncio.get_event_loop().create_future()

        def on_last_window_closed() -> None:
            lake.closed = True
            if not closed.done():
                closed.set_result(0)

        qt_app.lastWindowClosed.connect(on_last_window_closed)
        await lake.start()
        return await closed

    try:
        with loop:
            try:
                return loop.run_until_complete(main())
            except RuntimeError:
                if not quitting:
                    raise
                log.info("Qt quit before the window was closed")
                return 0
    finally:
        stop_signals.close()
        lake.close()
        collector.stop()
