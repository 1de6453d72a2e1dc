"""``scrapy crawl newsletter -a url=URL[,URL…]``: archive a newsletter from any start URL.

A start URL may be a feed (RSS/Atom), a sitemap, a home or archive page, or one issue. When a
platform adapter recognises the start page (by URL or page markers), its own listings (APIs,
sitemaps, archives) are read to find every issue; otherwise generic discovery applies: the page's
feed, else its archive pagination. The spider only discovers and fetches; extraction, validation
and storage are the pipelines' work. Links are followed only on the start URLs' hosts.

Whatever a site answers, each URL ends in a recorded outcome: a stored issue or a ``FetchFailure``
with a reason (``failure_reason`` names timeouts, size limits, redirect loops, private addresses).
A broken listing, a broken link in it or a misbehaving adapter is recorded and the crawl goes on.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from gzip import BadGzipFile
from html import unescape
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TCPTimedOutError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from storage.crawl_state import UrlState
from storage.db import resolve_database_url
from storage.recorder import CrawlRecorder
from tomtalks_scraper.discovery.feeds import FeedError, looks_like_feed
from tomtalks_scraper.discovery.html_pages import feed_links, looks_like_issue
from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, SITEMAP, Listing, ListingResult
from tomtalks_scraper.discovery.sitemaps import looks_like_sitemap
from tomtalks_scraper.discovery.xml_safety import without_doctype
from tomtalks_scraper.incremental import DEFAULT_SCHEDULE, decide, parse_schedule
from tomtalks_scraper.items import DiscoveryHints, FetchFailure, IssuePage, NotModified
from tomtalks_scraper.middlewares import PrivateAddressRefused, RedirectLoop
from tomtalks_scraper.page_text import looks_binary, page_text_and_hash
from tomtalks_scraper.platforms import GENERIC, all_adapters, detect_platform, get_adapter
from tomtalks_scraper.platforms.base import PlatformAdapter
from tomtalks_scraper.urls import (
    host_of,
    is_fetchable,
    is_sign_in_page,
    normalize_url,
    origin_of,
    same_site,
    split_credentials,
)

logger = logging.getLogger(__name__)

HTML_TYPES = {"text/html", "application/xhtml+xml"}
#: HTTP statuses that mean "the site refuses robots" rather than "the page is broken".
REFUSAL_STATUSES = {999, 403, 401}


class UsageError(ValueError):
    """The spider was started without what it needs; the message says what to pass."""


@dataclass
class SourcePlan:
    """Discovery state of one start URL: listings in flight, issues found, fallbacks not yet used."""

    pending: int = 0
    found: int = 0
    fallbacks: list[Listing] = field(default_factory=list)
    newsletter: str | None = None  # the first name and home page any listing of this source gave
    home_url: str | None = None


class NewsletterSpider(scrapy.Spider):
    name = "newsletter"

    def __init__(self, url: str | None = None, newsletter: str | None = None, platform: str | None = None,
                 refresh: str | None = None, run_id: str | None = None, include: str | None = None,
                 exclude: str | None = None, frontier: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: origin → (user, password) taken out of start URLs; sent as Basic auth by StartUrlCredentials.
        self.credentials: dict[str, tuple[str, str]] = {}
        self.start_urls = [self._without_credentials(u.strip()) for u in (url or "").split(",") if u.strip()]
        if not self.start_urls and not frontier:  # a frontier worker's start URLs come from Redis
            raise UsageError("no start URL: run `scrapy crawl newsletter -a url=URL` (feed, sitemap, home, "
                             "archive or issue URL; several comma-separated)")
        for start_url in self.start_urls:
            if not is_fetchable(start_url):
                raise UsageError(f"{start_url!r} is not an http(s) URL: pass full URLs, e.g. "
                                 "-a url=https://example.com/feed")
        self.newsletter_name = newsletter
        self.platform = platform.lower() if platform and platform.lower() in all_adapters() else None
        self.allowed_domains = sorted({host_of(u) for u in self.start_urls})
        self.plans: dict[str, SourcePlan] = defaultdict(SourcePlan)
        self.listed: dict[str, set[str]] = defaultdict(set)
        if refresh not in (None, "", "all", "new"):
            raise UsageError(f"refresh={refresh!r}: use -a refresh=all (re-check every issue) or leave it out")
        self.full_refresh = refresh == "all"
        self.run_id = int(run_id) if run_id else None
        self.include = [re.compile(p) for p in _patterns(include)]
        self.exclude = [re.compile(p) for p in _patterns(exclude)]
        self.states: dict[str, UrlState] = {}
        self.requested: set[str] = set()  # normalised issue URLs requested in this crawl

    def _without_credentials(self, url: str) -> str:
        """The start URL without ``user:password@``; the credentials are kept for its origin only."""
        clean, credentials = split_credentials(url)
        if credentials:
            self.credentials[origin_of(clean)] = credentials
        return clean

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsletterSpider:
        kwargs.setdefault("frontier", crawler.settings.getbool("DISTRIBUTED"))  # tomtalks_scraper/distributed
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.listing_dropped, signal=signals.request_dropped)
        return spider

    # Start -------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.schedule = parse_schedule(self.settings.get("RECHECK_SCHEDULE") or DEFAULT_SCHEDULE)
        recorder = CrawlRecorder.open(resolve_database_url(setting=self.settings.get("DATABASE_URL")))
        try:
            self.states = recorder.load_states()
        finally:
            recorder.close()
        self.now = datetime.now(UTC)
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_start, errback=self.on_error,
                                 meta={"newsletter": self.newsletter_name, "source": url})

    def parse_start(self, response: Response) -> Iterator[Any]:
        """Decide what the start URL is and read it as a listing, a platform home, or an issue."""
        head = without_doctype(response.body[:65536])[:2048]  # a feed may open with a long DTD
        if looks_like_feed(head) or looks_like_sitemap(head):
            listing = Listing(response.url, FEED if looks_like_feed(head) else SITEMAP)
            yield from self._start_plan(response, self._adapter(None), [listing])
        elif not _is_html(response):
            yield self._failure(response, "not_html", f"start URL serves {_content_type(response)}")
        else:
            try:
                adapter = self._adapter(response)
                plan = adapter.listings(response.url, response.selector.root)
            except Exception as error:  # noqa: BLE001 - an adapter's bug on one page is recorded, not fatal
                logger.exception("Reading the start page %s failed", response.url)
                yield self._failure(response, "unreadable", f"the start page could not be read: "
                                                            f"{type(error).__name__}: {error}")
                return
            if plan:
                yield from self._start_plan(response, adapter, plan)
            elif adapter.name != GENERIC or looks_like_issue(response.selector):
                # A platform adapter that lists nothing for its own page says: this is one issue.
                self.listed[response.meta["source"]].add(normalize_url(response.url))
                self.requested.add(normalize_url(response.url))
                self.crawler.stats.inc_value(f"tomtalks/source/{response.meta['source']}/fetched")
                yield self.issue_page(response, DiscoveryHints(source="start"), adapter.name)
            elif feeds := feed_links(response.selector, response.url):
                plan = [Listing(feeds[0], FEED), Listing(response.url, ARCHIVE, fallback=True)]
                yield from self._start_plan(response, adapter, plan)
            else:
                yield from self._start_plan(response, adapter, [Listing(response.url, ARCHIVE)])

    def _adapter(self, response: Response | None) -> PlatformAdapter:
        if self.platform:
            return get_adapter(self.platform)
        if response is None:
            return get_adapter(None)
        return detect_platform(response.url, response.selector.root)

    # Listings ----------------------------------------------------------------------------------

    def _start_plan(self, response: Response, adapter: PlatformAdapter, plan: list[Listing]) -> Iterator[Any]:
        source = response.meta["source"]
        state = self.plans[source]
        state.fallbacks = [listing for listing in plan if listing.fallback]
        for listing in [listing for listing in plan if not listing.fallback] or state.fallbacks:
            yield from self._read_or_request(response, adapter, listing)

    def _read_or_request(self, response: Response, adapter: PlatformAdapter, listing: Listing) -> Iterator[Any]:
        """A listing that is the response in hand is read at once; others are fetched."""
        self.plans[response.meta["source"]].pending += 1
        meta = {**self._meta(response), "listing": listing, "platform": adapter.name}
        if normalize_url(listing.url) == normalize_url(response.url):
            yield from self.parse_listing(response.replace(request=response.request.replace(meta=meta)))
        else:
            yield from self._listing_request(response, listing, meta)

    def _listing_request(self, response: Response, listing: Listing, meta: dict[str, Any]) -> Iterator[Any]:
        """The request for a listing; one on a host we may not crawl counts as a failed listing at once
        (Scrapy would drop it without calling any callback, and the source would never fall back)."""
        adapter = get_adapter(meta.get("platform"))
        if not self._may_fetch(listing.url, adapter):
            yield FetchFailure(listing.url, "offsite_listing", "listing on a host no start URL is on", None,
                               meta.get("newsletter") or "", meta.get("source", ""))
            yield from self._listing_done(response, found=0)
            return
        yield scrapy.Request(listing.url, callback=self.parse_listing, errback=self.on_listing_error,
                             meta={**meta, "allow_offsite": True}, dont_filter=listing.fallback)

    def _may_fetch(self, url: str, adapter: PlatformAdapter) -> bool:
        """On a start URL's host, or on a host the platform serves the same newsletter from."""
        host = host_of(url)
        return same_site(host, set(self.allowed_domains)) or same_site(host, set(adapter.related_domains))

    def parse_listing(self, response: Response) -> Iterator[Any]:
        listing: Listing = response.meta["listing"]
        adapter = get_adapter(response.meta["platform"])
        try:
            result = adapter.parse_listing(listing, response.body, response.url)
        except Exception as error:  # noqa: BLE001 - any unreadable listing is recorded and the crawl goes on
            if not isinstance(error, FeedError | ValueError | KeyError | TypeError):
                logger.exception("The %s adapter failed on the listing %s", adapter.name, response.url)
            yield self._failure(response, f"bad_{listing.kind}", f"{type(error).__name__}: {error}")
            yield from self._listing_done(response, found=0)
            return
        yield from self._follow_result(response, adapter, result)

    def _follow_result(self, response: Response, adapter: PlatformAdapter, result: ListingResult) -> Iterator[Any]:
        meta = self._meta(response)
        plan = self.plans[meta["source"]]
        plan.newsletter = plan.newsletter or result.newsletter
        plan.home_url = plan.home_url or result.home_url
        meta["newsletter"] = meta["newsletter"] or plan.newsletter
        meta["newsletter_url"] = meta["newsletter_url"] or plan.home_url
        for found in result.issues:
            if not is_fetchable(found.url):
                yield _bad_link(found.url, meta)
                continue
            request = self.issue_request(found.url, found.hints, meta, adapter.name)
            if request is not None:
                yield request
        for following in result.next:
            if not is_fetchable(following.url):
                yield _bad_link(following.url, meta)
                continue
            self.plans[meta["source"]].pending += 1
            yield from self._listing_request(response, following, {**meta, "listing": following,
                                                                   "platform": adapter.name})
        yield from self._listing_done(response, found=len(result.issues))

    def _listing_done(self, response: Response, found: int) -> Iterator[Any]:
        """When every primary listing of a source is done and none listed anything, read the fallbacks."""
        state = self.plans[response.meta["source"]]
        state.pending -= 1
        state.found += found
        if state.pending <= 0 and state.found == 0 and state.fallbacks:
            fallbacks, state.fallbacks = state.fallbacks, []
            adapter = get_adapter(response.meta.get("platform"))
            for listing in fallbacks:
                yield from self._read_or_request(response, adapter, listing)

    def listing_dropped(self, request: scrapy.Request, **_: Any) -> None:
        """A listing request the scheduler dropped (a duplicate "next" page) ends like a failed one."""
        if "listing" not in request.meta or request.callback != self.parse_listing:
            return
        for follow_up in self._listing_done(_placeholder(request), found=0):
            if isinstance(follow_up, scrapy.Request):
                self.crawler.engine.crawl(follow_up)

    def on_listing_error(self, failure: Failure) -> Iterator[Any]:
        yield from self.on_error(failure)
        yield from self._listing_done(failure.value.response if failure.check(HttpError) else
                                      _placeholder(failure.request), found=0)

    # Issues ------------------------------------------------------------------------------------

    def issue_request(self, url: str, hints: DiscoveryHints, meta: dict[str, Any],
                      platform: str) -> scrapy.Request | None:
        """The request for an issue the listing named, or None when the archive already has it unchanged."""
        key = normalize_url(url)
        if not self._wanted(key) or not self._may_fetch(url, get_adapter(platform or None)):
            return None
        source = meta["source"]
        self.listed[source].add(key)
        self.crawler.stats.set_value(f"tomtalks/source/{source}/listed", len(self.listed[source]))
        if key in self.requested:  # listed twice (feed and sitemap, or under tracking parameters): one fetch
            return None
        state = self.states.get(key)
        decision = decide(state, hints, self.now, self.schedule, self.full_refresh)
        if not decision.fetch:
            self.crawler.stats.inc_value(f"tomtalks/source/{source}/skipped")
            return None
        self.requested.add(key)
        return scrapy.Request(
            url, callback=self.parse_issue, errback=self.on_error, headers=decision.headers,
            meta={**meta, "hints": hints, "platform": platform if platform != GENERIC else "",
                  "handle_httpstatus_list": [304], "allow_offsite": True,
                  "known_page_hash": state.page_hash if state and not self.full_refresh else None},
        )

    def _wanted(self, url: str) -> bool:
        """newsletters.toml include/exclude patterns (regular expressions searched in the URL)."""
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    def parse_issue(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"tomtalks/source/{response.meta.get('source')}/fetched")
        if response.status == 304:
            yield NotModified(normalize_url(response.url), response.meta.get("source", ""),
                              response.meta.get("newsletter") or "", _listed_date(response.meta.get("hints")))
            return
        if is_sign_in_page(response.url) and response.meta.get("redirect_urls"):
            reasons = response.meta.get("redirect_reasons") or [None]
            yield FetchFailure(_original_url(response.request), "refused",
                               f"redirected to a sign-in page ({response.url}); retried next run",
                               reasons[0] if isinstance(reasons[0], int) else response.status,
                               response.meta.get("newsletter") or "", response.meta.get("source", ""))
            return
        if not _is_html(response):
            yield self._failure(response, "not_html", f"issue URL serves {_content_type(response)}")
            return
        if looks_binary(response.body, response.encoding):
            yield self._failure(response, "not_html", "binary data served as HTML")
            return
        if not response.body.strip():
            yield self._failure(response, "too_short", "the page is empty (no bytes of HTML)")
            return
        hints = response.meta.get("hints") or DiscoveryHints(source="link")
        yield self.issue_page(response, hints, response.meta.get("platform") or "")

    def issue_page(self, response: TextResponse, hints: DiscoveryHints, platform: str) -> IssuePage:
        newsletter = response.meta.get("newsletter") or self.newsletter_name or ""
        html, html_hash, html_utf8 = page_text_and_hash(response)
        return IssuePage(
            url=normalize_url(response.url),
            final_url=response.url,
            status=response.status,
            html=html,
            html_utf8=html_utf8,
            xml_safe=True,  # page_text_and_hash drops what XML forbids
            content_type=_content_type(response),
            newsletter=newsletter,
            newsletter_url=response.meta.get("newsletter_url") or response.urljoin("/"),
            platform=self.platform or platform,
            headers={
                name: response.headers.get(name, b"").decode("latin-1")
                for name in ("Content-Language", "ETag", "Last-Modified")
                if response.headers.get(name)
            },
            hints=hints,
            source=response.meta.get("source", ""),
            fallback_newsletter=_site_name(html, response.url),
            known_page_hash=response.meta.get("known_page_hash"),
            page_hash=html_hash,
        )

    # Failures ----------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[FetchFailure]:
        """Every failed request becomes a recorded ``FetchFailure`` with a reason."""
        request = failure.request
        newsletter = request.meta.get("newsletter") or self.newsletter_name or ""
        source = request.meta.get("source", "")
        url = _original_url(request)
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            reason = "refused" if status in REFUSAL_STATUSES else f"http_{status}"
            yield FetchFailure(url, reason, f"HTTP {status} from {response.url}", status, newsletter, source)
        else:
            error = failure.value
            reason = failure_reason(failure)
            detail = f"{type(error).__name__}: {error}"
            if reason == "too_large" and not str(error):
                detail = f"the body grew past DOWNLOAD_MAXSIZE ({self.settings.getint('DOWNLOAD_MAXSIZE')} bytes)"
            if request.url != url:
                detail = f"{detail} (redirected from {url})"
            yield FetchFailure(url, reason, detail, None, newsletter, source)

    def _failure(self, response: Response, reason: str, detail: str) -> FetchFailure:
        return FetchFailure(_original_url(response.request) if response.request else response.url, reason, detail,
                            response.status, response.meta.get("newsletter") or "", response.meta.get("source", ""))

    @staticmethod
    def _meta(response: Response) -> dict[str, Any]:
        return {key: response.meta.get(key) for key in ("newsletter", "newsletter_url", "source")}


def failure_reason(failure: Failure) -> str:
    """The recorded reason for a request that got no usable response."""
    error = failure.value
    message = str(error)
    if failure.check(PrivateAddressRefused):
        return "private_address"
    if failure.check(RedirectLoop) or (failure.check(IgnoreRequest) and "max redirections" in message):
        return "redirect_loop"
    if failure.check(DownloadTimeoutError, TwistedTimeoutError, TCPTimedOutError):
        return "timeout"
    # Past DOWNLOAD_MAXSIZE Scrapy cancels: with a message when the length was announced, with a bare
    # CancelledError when it finds out while streaming; a gzip body is checked as it is decompressed.
    if (failure.check(DownloadCancelledError) and ("max size" in message or not message)) or (
            failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in message):
        return "too_large"
    if failure.check(BadGzipFile, zlib.error):
        return "bad_encoding"  # Content-Encoding says gzip/deflate, the body is not
    if failure.check(ResponseDataLossError):
        return "truncated"  # the connection closed before the length the server announced
    if "robots.txt" in message:
        return "robots_disallowed"
    return "ignored" if failure.check(IgnoreRequest) else "network_error"


def _original_url(request: scrapy.Request) -> str:
    """The URL the spider asked for: failures are recorded against it, not against where redirects led."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _bad_link(url: str, meta: dict[str, Any]) -> FetchFailure:
    return FetchFailure(url, "bad_url", "a listing gave a link that is not a usable http(s) URL", None,
                        meta.get("newsletter") or "", meta.get("source", ""))


def _patterns(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p.strip()]


def _listed_date(hints: DiscoveryHints | None) -> str | None:
    return (hints.updated_at or hints.published_at) if hints else None


def _placeholder(request: scrapy.Request) -> Response:
    """A stand-in response carrying a failed request's meta (network errors have no response)."""
    return Response(request.url, status=0, request=request)


def _content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1").split(";")[0].strip() or "unknown type"


def _is_html(response: Response) -> bool:
    """HTML by its declared type, or by its first bytes when the server declares none or a vague one."""
    if not isinstance(response, TextResponse):
        return False
    declared = _content_type(response).lower()
    if declared in HTML_TYPES:
        return True
    if declared not in ("unknown type", "text/plain", "application/octet-stream"):
        return False
    head = response.body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


#: ``<meta …>`` tags, attributes quoted or not (a quoted value may hold ``>``); whitespace between
#: attributes is required, which keeps the match linear.
_META_TAG = re.compile(r"""<meta\b((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*/?>""", re.I)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
#: Occurrences of ``og:site_name`` looked at: a page has one; a page naming it in its text many times
#: must not cost a scan per mention.
_MAX_SITE_NAME_MENTIONS = 8


def _site_name(html: str, url: str) -> str:
    """The page's ``og:site_name``, else its host: what names the newsletter when nothing else does.

    Read from the text, not with ``response.xpath``: that parses the whole page and keeps the tree on
    the response, which lives until the page's item is stored — about 9 MB a page, hundreds of MB over
    the pages waiting for extraction. The first ``<meta>`` whose ``property`` is ``og:site_name`` and
    that has a ``content`` gives it, entities decoded, as the parsed page's first match would.
    """
    start = 0
    for _ in range(_MAX_SITE_NAME_MENTIONS):
        at = html.find("og:site_name", start)
        if at < 0:
            break
        start = at + 1
        tag_start = html.rfind("<", 0, at)
        tag = _META_TAG.match(html, tag_start) if tag_start >= 0 else None
        if tag is None or tag.end() <= at:
            continue
        attributes = {}
        for name, value in _ATTRIBUTE.findall(tag.group(1)):
            attributes.setdefault(name.lower(), unescape(value[1:-1] if value[:1] in "\"'" and value else value))
        if attributes.get("property") == "og:site_name" and "content" in attributes:
            name = attributes["content"].strip()
            return name or host_of(url)
    return host_of(url)
