"""Downloader middlewares: honour ``Retry-After``, never wander onto private networks, stop redirect
loops with a reason, and send a start URL's credentials without writing them anywhere.

Each is a small class built ``from_crawler`` and configured by settings, in Scrapy's manner.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater
from w3lib.http import basic_auth_header
from w3lib.url import safe_url_string

from tomtalks_scraper.urls import host_of, origin_of

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, but a 429 or 503 that says ``Retry-After`` is retried only after that wait.

    The wait also becomes the host's download delay for the rest of the crawl (the server asked us
    to slow down). A wait longer than ``RETRY_AFTER_MAX`` seconds is not honoured in this run: the
    page is recorded as failed (``http_429``) and retried by the next run.
    """

    def __init__(self, settings, crawler: Crawler | None = None) -> None:  # noqa: ANN001 - Scrapy settings
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler.settings, crawler)

    async def process_response(self, request: Request, response: Response, spider: Spider | None = None):  # noqa: ANN201
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After")) if response.status in (429, 503) else None
        if wait is not None:
            if wait > self.max_wait:
                logger.warning("%s asks to wait %.0f s (> RETRY_AFTER_MAX): giving up on it for this run",
                               request.url, wait)
                return response
            self._slow_down(request, wait)
            from twisted.internet import reactor  # here, not at import: the spider imports this module
            # before Scrapy installs its reactor, and importing ``reactor`` would install the default one

            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return self._retry(request, f"HTTP {response.status}") or response

    def _slow_down(self, request: Request, wait: float) -> None:
        if self.crawler is None or self.crawler.engine is None:
            return
        downloader = self.crawler.engine.downloader
        key = request.meta.get("download_slot") or host_of(request.url)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, min(wait, self.max_wait))


def is_private_host(host: str) -> bool:
    """Loopback, private, link-local or otherwise non-public IP literals, and ``localhost``."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


class PrivateAddressRefused(IgnoreRequest):
    """A request (often a redirect) to a private, loopback or link-local address no start URL is on."""


class PrivateNetworkGuard:
    """Refuse requests to private, loopback and link-local addresses unless a start URL is on one.

    A page on the public web must not make the crawler fetch ``http://169.254.169.254/`` or an
    intranet host. Only IP literals and ``localhost`` are checked: names that resolve to private
    addresses are not (that needs a resolver hook).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkGuard:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        host = host_of(request.url)
        if not is_private_host(host):
            return None
        allowed = {host_of(url) for url in getattr(spider, "start_urls", [])}
        if host in allowed or any(is_private_host(h) and h == host for h in allowed):
            return None
        raise PrivateAddressRefused(f"refusing {request.url}: a private or loopback address that no start URL is on")


REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of its own redirect chain."""


class RedirectLoopGuard:
    """Stop a redirect that leads back to a URL already in its chain, with a reason.

    Left to Scrapy, ``/a → /b → /a`` ends with the scheduler dropping the second ``/a`` as a duplicate:
    no callback, no errback, and the issue vanishes without a record. Placed after (numerically above)
    Scrapy's RedirectMiddleware, this sees each 3xx first and fails the request instead, so the spider's
    errback records ``redirect_loop``.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopGuard:
        return cls()

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        location = response.headers.get("Location")
        if response.status not in REDIRECT_STATUSES or not location or request.meta.get("dont_redirect"):
            return response
        target = safe_url_string(urljoin(request.url, location.decode("latin-1").strip()))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            raise RedirectLoop(f"redirect loop: {' -> '.join([*chain, target])}")
        return response


class StartUrlCredentials:
    """Send the user and password of a start URL (``https://user:pass@host/feed``) as HTTP Basic auth to that
    origin only.

    The spider takes them out of its start URLs (``NewsletterSpider.credentials``), so they appear in no
    request URL, log line, stored URL or crawl record; this is the one place that still sees them.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StartUrlCredentials:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        credentials = getattr(spider, "credentials", None) or {}
        found = credentials.get(origin_of(request.url))
        if found and b"Authorization" not in request.headers:
            request.headers[b"Authorization"] = basic_auth_header(*found)
        return None
