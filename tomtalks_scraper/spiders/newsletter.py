"""``scrapy crawl newsletter -a url=URL[,URL…]``: archive a newsletter from any start URL.

A start URL may be a feed (RSS/Atom), a sitemap, a home or archive page, or one issue. The
spider only discovers and fetches; extraction, validation and storage are the pipelines' work.
Links are followed only on the start URLs' hosts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from tomtalks_scraper.discovery.feeds import FeedError, looks_like_feed, parse_feed
from tomtalks_scraper.discovery.html_pages import feed_links, issue_links, looks_like_issue, pagination_links
from tomtalks_scraper.discovery.sitemaps import looks_like_sitemap, parse_sitemap
from tomtalks_scraper.items import DiscoveryHints, FetchFailure, IssuePage
from tomtalks_scraper.urls import host_of, normalize_url

HTML_TYPES = {"text/html", "application/xhtml+xml"}
#: HTTP statuses that mean "the site refuses robots" rather than "the page is broken".
REFUSAL_STATUSES = {999, 403, 401}


class UsageError(ValueError):
    """The spider was started without what it needs; the message says what to pass."""


class NewsletterSpider(scrapy.Spider):
    name = "newsletter"

    def __init__(self, url: str | None = None, newsletter: str | None = None, platform: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [u.strip() for u in (url or "").split(",") if u.strip()]
        if not self.start_urls and not getattr(self, "allow_no_urls", False):
            raise UsageError("no start URL: run `scrapy crawl newsletter -a url=URL` (feed, sitemap, home, "
                             "archive or issue URL; several comma-separated)")
        for start_url in self.start_urls:
            parts = urlsplit(start_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(f"{start_url!r} is not an http(s) URL: pass full URLs, e.g. -a url=https://example.com/feed")
        self.newsletter_name = newsletter
        self.platform = platform
        self.allowed_domains = sorted({host_of(u) for u in self.start_urls})

    # Start -------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_start, errback=self.on_error,
                                 meta={"newsletter": self.newsletter_name, "source": "start"})

    def parse_start(self, response: Response) -> Iterator[Any]:
        """Decide what the start URL is and hand it to the matching parser."""
        head = response.body[:2048]
        if looks_like_feed(head):
            yield from self.parse_feed(response)
        elif looks_like_sitemap(head):
            yield from self.parse_sitemap(response)
        elif not _is_html(response):
            yield self._failure(response.url, "not_html", f"start URL is {_content_type(response)}", response)
        elif looks_like_issue(response.selector):
            yield self.issue_page(response, DiscoveryHints(source="start"))
        elif feeds := feed_links(response.selector, response.url):
            yield response.follow(feeds[0], callback=self.parse_feed, errback=self.on_error,
                                  meta={**self._meta(response), "fallback_archive": response.url})
        else:
            yield from self.parse_archive(response)

    # Listings ----------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """Every entry of a feed becomes an issue request; Atom paging is followed."""
        try:
            feed = parse_feed(response.body, response.url)
        except FeedError as error:
            yield self._failure(response.url, "bad_feed", str(error), response)
            yield from self._fallback_to_archive(response)
            return
        newsletter = response.meta.get("newsletter") or feed.title
        if not feed.entries:
            yield from self._fallback_to_archive(response)
        for entry in feed.entries:
            yield self.issue_request(entry.url, entry.hints, newsletter, feed.home_url)
        if feed.next_url:
            yield response.follow(feed.next_url, callback=self.parse_feed, errback=self.on_error,
                                  meta={"newsletter": newsletter})

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sitemap indexes lead to sitemaps; sitemap URLs become issue requests."""
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except Exception as error:  # noqa: BLE001 - any unreadable sitemap is recorded, the crawl goes on
            yield self._failure(response.url, "bad_sitemap", str(error), response)
            return
        for loc, lastmod in sitemap.urls:
            if sitemap.kind == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.on_error,
                                     meta=self._meta(response))
            else:
                hints = DiscoveryHints(updated_at=lastmod, source="sitemap")
                yield self.issue_request(loc, hints, response.meta.get("newsletter"), None)

    def parse_archive(self, response: Response) -> Iterator[Any]:
        """An HTML listing: candidate issue links, then the next page of the listing."""
        meta = self._meta(response)
        meta["newsletter"] = meta["newsletter"] or _site_name(response)
        meta["newsletter_url"] = meta.get("newsletter_url") or response.urljoin("/")
        for link in issue_links(response.selector, response.url):
            yield self.issue_request(link, DiscoveryHints(source="archive"), meta["newsletter"],
                                     meta["newsletter_url"])
        for link in pagination_links(response.selector, response.url):
            yield response.follow(link, callback=self.parse_archive, errback=self.on_error, meta=meta)

    def _fallback_to_archive(self, response: Response) -> Iterator[Any]:
        """A home page whose feed is empty or broken: walk the home page as an archive instead."""
        home = response.meta.get("fallback_archive")
        if home:
            yield scrapy.Request(home, callback=self.parse_archive, errback=self.on_error, dont_filter=True,
                                 meta={"newsletter": response.meta.get("newsletter")})

    # Issues ------------------------------------------------------------------------------------

    def issue_request(self, url: str, hints: DiscoveryHints, newsletter: str | None,
                      newsletter_url: str | None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_issue, errback=self.on_error,
            meta={"newsletter": newsletter, "newsletter_url": newsletter_url, "hints": hints},
        )

    def parse_issue(self, response: Response) -> Iterator[Any]:
        if not _is_html(response):
            yield self._failure(response.url, "not_html", f"issue URL serves {_content_type(response)}", response)
            return
        yield self.issue_page(response, response.meta.get("hints") or DiscoveryHints(source="link"))

    def issue_page(self, response: TextResponse, hints: DiscoveryHints) -> IssuePage:
        newsletter = response.meta.get("newsletter") or self.newsletter_name or _site_name(response)
        return IssuePage(
            url=normalize_url(response.url),
            final_url=response.url,
            status=response.status,
            html=response.text,
            content_type=_content_type(response),
            newsletter=newsletter,
            newsletter_url=response.meta.get("newsletter_url") or response.urljoin("/"),
            platform=self.platform or "",
            headers={
                name: response.headers.get(name, b"").decode("latin-1")
                for name in ("Content-Language", "ETag", "Last-Modified")
                if response.headers.get(name)
            },
            hints=hints,
        )

    # Failures ----------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[FetchFailure]:
        """Every failed request becomes a recorded ``FetchFailure`` with a reason."""
        request = failure.request
        newsletter = request.meta.get("newsletter") or self.newsletter_name or ""
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            reason = "refused" if status in REFUSAL_STATUSES else f"http_{status}"
            yield FetchFailure(request.url, reason, f"HTTP {status} from {response.url}", status, newsletter)
        else:
            error = failure.value
            yield FetchFailure(request.url, "network_error", f"{type(error).__name__}: {error}", None, newsletter)

    def _failure(self, url: str, reason: str, detail: str, response: Response) -> FetchFailure:
        return FetchFailure(url, reason, detail, response.status, response.meta.get("newsletter") or "")

    @staticmethod
    def _meta(response: Response) -> dict[str, Any]:
        return {"newsletter": response.meta.get("newsletter"), "newsletter_url": response.meta.get("newsletter_url")}


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


def _site_name(response: Response) -> str:
    if isinstance(response, TextResponse):
        name = response.xpath('//meta[@property="og:site_name"]/@content').get()
        if name and name.strip():
            return name.strip()
    return host_of(response.url)
