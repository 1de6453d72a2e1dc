"""Typed containers passed from the spiders through the pipelines. No logic lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DiscoveryHints:
    """What a listing (feed entry, sitemap row, archive card) said about an issue before we fetched it."""

    title: str | None = None
    author: str | None = None
    published_at: str | None = None  # ISO 8601 UTC, as given by the listing
    updated_at: str | None = None
    source: str | None = None  # "feed", "sitemap", "archive", "start"
    access: str | None = None  # what the platform's listing says (API audience/visibility), if anything


@dataclass
class IssuePage:
    """A fetched issue page on its way to extraction, validation and storage.

    ``html`` is the decoded page text (trafilatura wants ``str``, and Scrapy already decoded it
    with the response's declared or sniffed encoding). The pipelines fill ``extracted`` and then
    the storage stage writes it.

    Its repr leaves out the page and what was extracted from it: Scrapy logs a dropped item's repr
    (a rejected page), which would otherwise copy the whole page into the log.
    """

    url: str  # the URL we asked for (normalised)
    final_url: str  # where the response came from after redirects
    status: int
    html: str = field(repr=False)
    #: The response body when it is exactly ``html``'s UTF-8 (no BOM, nothing replaced or dropped: most
    #: pages). The extraction worker gets these bytes instead of the text, and the store gzips them:
    #: pickling or gzipping 150 KB of text encodes it again (~0.2 ms), and lxml parses bytes faster.
    html_utf8: bytes | None = field(default=None, repr=False)
    content_type: str = ""
    #: ``html`` holds no character XML forbids (``page_text_and_hash`` made it so): extraction skips its own scan.
    xml_safe: bool = False
    newsletter: str = ""
    newsletter_url: str = ""
    platform: str = "generic"
    headers: dict[str, str] = field(default_factory=dict)
    hints: DiscoveryHints = field(default_factory=DiscoveryHints)
    source: str = ""  # the start URL that led here (coverage is counted per source)
    fallback_newsletter: str = ""  # the site's name, used when nobody named the newsletter
    known_page_hash: str | None = None  # the page hash stored by an earlier crawl, if any
    page_hash: str | None = None  # this page's ``text_hash`` (the spider's, else set by the extract stage)
    extracted: Any = field(default=None, repr=False)  # tomtalks_scraper.extraction.ExtractedIssue once extracted
    #: storage.page_checks.PageChecks computed with ``extracted`` (saves the store the work)
    copy_checks: Any = field(default=None, repr=False)


@dataclass
class FetchFailure:
    """A page that could not be fetched or read (HTTP error, refusal, network error, bad feed).

    The store pipeline records it with its reason so that nothing a crawl meets is silently lost.
    """

    url: str
    reason: str  # short machine-readable reason: "http_404", "refused", "network_error", "bad_feed"…
    detail: str = ""
    http_status: int | None = None
    newsletter: str = ""
    source: str = ""


@dataclass
class NotModified:
    """An issue the server answered 304 Not Modified for: only the check is recorded."""

    url: str
    source: str = ""
    newsletter: str = ""
    listed_date: str | None = None
