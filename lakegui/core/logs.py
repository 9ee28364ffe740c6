"""The log file: rotating, under the user log folder, shared by the GUI and lakegui-cli, with
secrets scrubbed from every record before it is written anywhere."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from . import paths

LOG_FILE = "lakegui.log"
MAX_BYTES, BACKUPS = 5 * 1024 * 1024, 5
FORMAT = "%(asctime)s %(levelname)s [%(process)d %(threadName)s] %(name)s: %(message)s"
# Query parameters of presigned URLs that grant access.
_URL_SECRETS = re.compile(r"(X-Amz-Signature|X-Amz-Security-Token|Signature|x-amz-security-token)=[^&\s\"']+",
                          re.IGNORECASE)
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def scrub(text: str) -> str:
    """`text` with presigned-URL signatures and the environment's secret values replaced by ***."""
    text = _URL_SECRETS.sub(lambda m: f"{m.group(1)}=***", text)
    for var in _SECRET_ENV:
        value = os.environ.get(var)
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, "***")
    return text


class ScrubFilter(logging.Filter):
    """Renders each record's message once, scrubbed, so no handler can write a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


SCRUBBER = ScrubFilter()  # add it to any other handler (the GUI's log panel)
_handlers: dict[str, logging.Handler] = {}  # what setup() added, to replace rather than pile up


def setup(level: int = logging.INFO, *, console_level: int | None = logging.WARNING) -> Path | None:
    """Log to the rotating file (and, unless None, `console_level` and up to stderr); returns the
    file, or None when the folder cannot be written (the app still runs). Calling it again (a
    test, another LAKEGUI_LOG_DIR) replaces what an earlier call set up."""
    reset()
    root = logging.getLogger()
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3", "asyncio", "qasync"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if console_level is not None:
        console = logging.StreamHandler()
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console.addFilter(SCRUBBER)
        root.addHandler(console)
        _handlers["console"] = console
    try:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = LogFile(folder / LOG_FILE)
    except OSError as exc:
        root.warning("the log file could not be opened (%s); logging to the console only", exc)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SCRUBBER)
    root.addHandler(handler)
    _handlers["file"] = handler
    return Path(handler.baseFilename)


class LogFile(logging.Handler):
    """The rotating log file (MAX_BYTES, BACKUPS), made at its first record: `logging.handlers`
    costs 17-28 ms of a command's start-up (socket, pickle, queue), and most runs write nothing."""

    def __init__(self, path: Path):
        super().__init__()
        self.baseFilename = os.path.abspath(path)  # as logging's file handlers name it
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            import logging.handlers

            self._file = logging.handlers.RotatingFileHandler(self.baseFilename, maxBytes=MAX_BYTES,
                                                              backupCount=BACKUPS, encoding="utf-8", delay=True)
            self._file.setFormatter(self.formatter)
        self._file.emit(record)  # under this handler's lock (handle() holds it)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
        super().close()


def reset() -> None:
    """Remove and close what setup() added."""
    root = logging.getLogger()
    for handler in _handlers.values():
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
