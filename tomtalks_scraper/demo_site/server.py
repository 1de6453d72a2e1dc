"""A tiny HTTP server on 127.0.0.1 serving an in-memory site: the offline demo and the tests use it.

Pages are a dict ``path → Page``; the server counts requests per path so tests can check what
a crawl fetched.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit


@dataclass
class Page:
    """One answer. ``headers`` are sent as given; a ``Content-Length`` among them replaces the real one
    (a server that lies about its length). ``delay`` makes this one page slow; ``send_length=False``
    sends no length at all: the body ends when the connection closes, as with streamed answers. Other
    answers keep the connection open for the client's next request (HTTP/1.1)."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (a timeout, a size limit, a killed crawl) is normal here, not an error."""

    daemon_threads = True
    # The default backlog of 5 drops connections when a crawl opens 16 at once; the client then retries
    # after a second, which a test with a short DOWNLOAD_TIMEOUT would see as timeouts.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalSite:
    """Serve ``pages`` (or what ``build(base_url)`` returns) on a free loopback port.

    Use as a context manager; ``base_url`` is known once it has started, which is why a site whose
    pages hold absolute links is given as a ``build`` function of the base URL.
    """

    def __init__(self, pages: dict[str, Page] | None = None,
                 build: Callable[[str], dict[str, Page]] | None = None, *,
                 honour_conditional: bool = True, delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self._build = build
        self.honour_conditional = honour_conditional  # answer 304 to matching If-None-Match / If-Modified-Since
        self.delay = delay  # seconds to wait before each answer (a slow server)
        self.host = host  # another loopback address (127.0.0.2) stands for a second machine
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.log: list[tuple[float, str]] = []  # (monotonic time, path) of every request
        self.headers: dict[str, list[dict[str, str]]] = {}  # the request headers, per path, in order
        self.first_answers: dict[str, list[Page]] = {}  # answers given (once each) before the page itself
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the site is not running; use it in a `with` block")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> LocalSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            # Persistent connections, as the sites a crawl meets keep them: a crawl then reuses its
            # connections as it would there, instead of opening one per page.
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = urlsplit(self.path).path or "/"
                query = urlsplit(self.path).query
                key = f"{path}?{query}" if query and f"{path}?{query}" in site.pages else path
                site.requests[key] += 1
                site.log.append((time.monotonic(), key))
                site.headers.setdefault(key, []).append(dict(self.headers.items()))
                queued = site.first_answers.get(key)
                page = (queued.pop(0) if queued else site.pages.get(key)) or Page(
                    b"<html><body><h1>Not found</h1></body></html>", status=404)
                if site.delay or page.delay:
                    time.sleep(site.delay + page.delay)
                if site.honour_conditional and page.status == 200 and self._not_modified(page):
                    site.not_modified[key] += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                if page.send_length and "Content-Length" not in page.headers:
                    self.send_header("Content-Length", str(len(page.body)))
                for name, value in page.headers.items():
                    self.send_header(name, value)
                if not page.send_length or "Content-Length" in page.headers:
                    self.send_header("Connection", "close")  # the body ends where the connection does
                self.end_headers()
                self.wfile.write(page.body)

            def _not_modified(self, page: Page) -> bool:
                etag, modified = page.headers.get("ETag"), page.headers.get("Last-Modified")
                if etag and self.headers.get("If-None-Match"):
                    return self.headers["If-None-Match"] == etag
                return bool(modified and self.headers.get("If-Modified-Since") == modified)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer((self.host, 0), Handler)
        if self._build is not None:
            self.pages.update(self._build(self.base_url))
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-site", daemon=True)
        self._thread.start()
        return self

    def rebuild(self) -> None:
        """Render the site again (after a test edited its content): pages not rendered any more are gone."""
        if self._build is None:
            raise RuntimeError("only a site made with build= can be rebuilt")
        self.pages = self._build(self.base_url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
