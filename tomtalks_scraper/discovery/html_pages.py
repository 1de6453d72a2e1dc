"""What an HTML page tells discovery: is it an issue, where is its feed, which links are issues, what is next.

Generic rules for sites no platform adapter knows. They err on the side of fetching a candidate:
a fetched page that is not an issue is rejected by validation with a recorded reason, whereas a
link never followed is an issue silently missing from the archive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parsel import Selector

from tomtalks_scraper.urls import is_fetchable, join_url, normalize_url

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml")
ARTICLE_JSON_LD = re.compile(r'"@type"\s*:\s*\[?\s*"(?:Article|NewsArticle|BlogPosting|ReportageNewsArticle)"')
NEXT_TEXT = re.compile(
    r"(?:next|older|more|previous|earlier|load more)(?: (?:page|posts?|entries|issues?|articles?|stories|editions?))?",
    re.I,
)
ARROWS = re.compile(r"[\s›»→←‹«<>|.…]+")
#: Paths that name listings, people or site furniture rather than issues.
NOT_ISSUE_PATH = re.compile(
    r"/(tag|tags|category|categories|author|authors|topics?|search|login|signin|signup|subscribe|account|"
    r"about|contact|privacy|terms|feed|rss)(/|$)|/(archive|archives|page)/?$|\.(xml|rss|atom|json|jpe?g|png|gif|svg|webp|pdf|"
    r"css|js|zip|mp3|mp4)$",
    re.I,
)
PAGE_NUMBER = re.compile(r"([?&](page|paged)=\d+)|(/page/\d+/?$)", re.I)
CHROME = "ancestor::*[self::header or self::nav or self::footer or self::aside]"


def feed_links(page: Selector, base_url: str) -> list[str]:
    """Feeds the page announces with ``<link rel="alternate" type="application/rss+xml">`` (and Atom)."""
    found = []
    for link in page.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'):
        if (link.attrib.get("type") or "").lower().split(";")[0].strip() in FEED_TYPES:
            href = link.attrib.get("href")
            if href and "/comments/" not in href:
                found.append(join_url(base_url, href))
    return found


def looks_like_issue(page: Selector) -> bool:
    """Whether the page declares itself one article (og:type, JSON-LD, a single ``<article>`` with text)."""
    og_type = (page.xpath('//meta[@property="og:type"]/@content').get() or "").strip().lower()
    if og_type == "article":
        return True
    if any(ARTICLE_JSON_LD.search(s) for s in page.xpath('//script[@type="application/ld+json"]/text()').getall()):
        return True
    articles = page.xpath("//article")
    if len(articles) == 1:
        words = len(" ".join(articles[0].xpath(".//p//text()").getall()).split())
        return words >= 150
    return False


def pagination_links(page: Selector, base_url: str) -> list[str]:
    """Links to the next page(s) of a listing: ``rel=next``, "Older posts"-style text, ``?page=N``."""
    found = page.xpath('//link[@rel="next"]/@href | //a[contains(concat(" ", @rel, " "), " next ")]/@href').getall()
    for anchor in page.xpath("//a[@href]"):
        text = ARROWS.sub(" ", " ".join(anchor.xpath(".//text()").getall())).strip()
        href = anchor.attrib["href"]
        if (not text and anchor.xpath("@rel")) or NEXT_TEXT.fullmatch(text) or PAGE_NUMBER.search(href):
            found.append(href)
    return _same_host_unique(found, base_url)


def issue_links(page: Selector, base_url: str) -> list[str]:
    """Same-host links from the page's content (not header, nav, footer or aside) that may be issues."""
    base = normalize_url(base_url)
    home = normalize_url(join_url(base_url, "/"))
    pages = set(pagination_links(page, base_url))
    candidates = []
    for anchor in page.xpath("//body//a[@href]"):
        if anchor.xpath(CHROME):
            continue
        href = join_url(base_url, anchor.attrib["href"])
        if not is_fetchable(href):  # "http://[oops/", "javascript:…": nothing to follow
            continue
        path = urlsplit(href).path
        if NOT_ISSUE_PATH.search(path) or PAGE_NUMBER.search(href):
            continue
        if normalize_url(href) in (base, home) or href in pages:
            continue
        candidates.append(href)
    return _same_host_unique(candidates, base_url)


def _same_host_unique(links: list[str], base_url: str) -> list[str]:
    host = urlsplit(base_url).hostname
    seen: set[str] = set()
    result = []
    for link in links:
        absolute = join_url(base_url, link)
        if not is_fetchable(absolute):
            continue
        parts = urlsplit(absolute)
        key = normalize_url(absolute)
        if parts.scheme in ("http", "https") and parts.hostname == host and key not in seen:
            seen.add(key)
            result.append(absolute.split("#")[0])
    return result
