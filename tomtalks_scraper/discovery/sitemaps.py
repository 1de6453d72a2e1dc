"""Read XML sitemaps (``urlset`` and ``sitemapindex``), gzipped or not, with Scrapy's safe parser.

Whatever the bytes, ``parse_sitemap`` returns a page or raises ``SitemapError`` (a ``ValueError``):
the spider records that as ``bad_sitemap``. The DOCTYPE is dropped first (``xml_safety``).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from lxml import etree

from tomtalks_scraper.discovery.xml_safety import strict_error, without_doctype
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.urls import join_url

GZIP_MAGIC = b"\x1f\x8b"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file


class SitemapError(ValueError):
    """The document cannot be read as a sitemap; the message says why."""


@dataclass
class SitemapPage:
    kind: str  # "urlset" or "sitemapindex"
    urls: list[tuple[str, str | None]] = field(default_factory=list)  # (loc, lastmod ISO) pairs


def looks_like_sitemap(head: bytes) -> bool:
    start = head[:2048].lower()
    return head.startswith(GZIP_MAGIC) or b"<urlset" in start or b"<sitemapindex" in start


def parse_sitemap(body: bytes, base_url: str) -> SitemapPage:
    """Locations (made absolute) and lastmod dates of a sitemap or sitemap index."""
    # Imported here, not at the top: the platform adapters import this module, and extraction workers
    # import the adapters; a module-level import would load Scrapy and Twisted (~23 MB) into every worker.
    from scrapy.utils.gz import gunzip
    from scrapy.utils.sitemap import Sitemap

    if body.startswith(GZIP_MAGIC):
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, EOFError, struct.error, zlib.error, ValueError) as error:
            raise SitemapError(f"gzipped sitemap that does not decompress: {type(error).__name__}: {error}") from error
    body = without_doctype(body)
    try:
        sitemap = Sitemap(body)
        page = SitemapPage(kind=sitemap.type)
        for entry in sitemap:
            loc = entry.get("loc")
            if loc:
                page.urls.append((join_url(base_url, loc.strip()), to_utc_iso(entry.get("lastmod"))))
    except (etree.LxmlError, StopIteration) as error:
        raise SitemapError(f"not well-formed XML: {strict_error(body) or type(error).__name__}") from error
    if not page.urls and (error := strict_error(body)):
        raise SitemapError(f"not well-formed XML, no location could be read: {error}")
    return page
