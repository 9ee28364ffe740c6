"""A small HTTP/1.1 server on loopback for tests of our own HTTP clients: it counts the
connections it accepts, and each test module gives it a handler that answers as the test says."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager


class CountingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.statuses: list[int] = []  # answered first, one per request; then the handler's default

    def get_request(self):
        conn = super().get_request()
        with self.lock:
            self.connections += 1
        return conn


@contextmanager
def serving(server: CountingServer):
    """Serve on a thread until the block ends, then stop and join it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
