"""A local http.server on 127.0.0.1 serving a folder, plus a slow page and a size-capped stream, for URL tests."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SLOW_SECONDS = 3.0


class PageHandler(SimpleHTTPRequestHandler):
    """Serves files; /slow answers after SLOW_SECONDS; /header-gbk sends GBK bytes declared only in the header."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
        if self.path == "/header-gbk":
            body = f"<html><body><p>{self.server.gbk_text}</p></body></html>".encode("gbk")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=GBK")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - keep test output quiet
        pass


class QuietServer(ThreadingHTTPServer):
    """A threading server that does not print clients hanging up on the slow page."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass


@contextmanager
def serve_folder(folder: Path, gbk_text: str = "") -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 at a free port; yields the base URL."""
    server = QuietServer(("127.0.0.1", 0), functools.partial(PageHandler, directory=str(folder)))
    server.gbk_text = gbk_text
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
