"""Read XML sitemaps (``urlset`` and ``sitemapindex``), gzipped or not, with Scrapy's safe parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from tomtalks_scraper.extraction.dates import to_utc_iso

GZIP_MAGIC = b"\x1f\x8b"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file


@dataclass
class SitemapPage:
    kind: str  # "urlset" or "sitemapindex"
    urls: list[tuple[str, str | None]] = field(default_factory=list)  # (loc, lastmod ISO) pairs


def looks_like_sitemap(head: bytes) -> bool:
    start = head[:2048].lower()
    return head.startswith(GZIP_MAGIC) or b"<urlset" in start or b"<sitemapindex" in start


def parse_sitemap(body: bytes, base_url: str) -> SitemapPage:
    """Locations (made absolute) and lastmod dates of a sitemap or sitemap index."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
    sitemap = Sitemap(body)
    page = SitemapPage(kind=sitemap.type)
    for entry in sitemap:
        loc = entry.get("loc")
        if loc:
            page.urls.append((urljoin(base_url, loc.strip()), to_utc_iso(entry.get("lastmod"))))
    return page
