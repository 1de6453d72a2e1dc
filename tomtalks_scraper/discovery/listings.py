"""Listings: the places a platform lists its issues (API pages, feeds, sitemaps, archive pages).

A platform adapter says which listings to read for a start URL (``PlatformAdapter.listings``) and
how to read each (``PlatformAdapter.parse_listing``); the spider fetches them, follows ``next``
listings, and requests every issue found. The readers here serve the common kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsel import Selector

from tomtalks_scraper.discovery.feeds import parse_feed
from tomtalks_scraper.discovery.html_pages import issue_links, pagination_links
from tomtalks_scraper.discovery.sitemaps import parse_sitemap
from tomtalks_scraper.items import DiscoveryHints

FEED, SITEMAP, ARCHIVE, API = "feed", "sitemap", "archive", "api"


@dataclass(frozen=True)
class Listing:
    """One listing to fetch. ``kind`` selects the reader; ``fallback`` listings are read only when
    every non-fallback listing of the same start URL failed or listed nothing."""

    url: str
    kind: str
    fallback: bool = False


@dataclass
class FoundIssue:
    url: str
    hints: DiscoveryHints = field(default_factory=DiscoveryHints)


@dataclass
class ListingResult:
    issues: list[FoundIssue] = field(default_factory=list)
    next: list[Listing] = field(default_factory=list)  # further pages of the same listing
    newsletter: str | None = None  # the newsletter's name, when the listing says it
    home_url: str | None = None


def read_feed(listing: Listing, body: bytes, url: str) -> ListingResult:
    feed = parse_feed(body, url)
    return ListingResult(
        issues=[FoundIssue(e.url, e.hints) for e in feed.entries],
        next=[Listing(feed.next_url, FEED)] if feed.next_url else [],
        newsletter=feed.title,
        home_url=feed.home_url,
    )


def read_sitemap(listing: Listing, body: bytes, url: str, path_filter: str | None = None) -> ListingResult:
    """Issue URLs of a sitemap (only those containing ``path_filter`` when given); indexes lead to sitemaps."""
    sitemap = parse_sitemap(body, url)
    if sitemap.kind == "sitemapindex":
        return ListingResult(next=[Listing(loc, SITEMAP) for loc, _ in sitemap.urls])
    return ListingResult(issues=[
        FoundIssue(loc, DiscoveryHints(updated_at=lastmod, source="sitemap"))
        for loc, lastmod in sitemap.urls if path_filter is None or path_filter in loc
    ])


def read_archive(listing: Listing, body: bytes, url: str) -> ListingResult:
    page = Selector(text=body.decode("utf-8", errors="replace"))
    return ListingResult(
        issues=[FoundIssue(link, DiscoveryHints(source="archive")) for link in issue_links(page, url)],
        next=[Listing(link, ARCHIVE) for link in pagination_links(page, url)],
    )


READERS = {FEED: read_feed, SITEMAP: read_sitemap, ARCHIVE: read_archive}
