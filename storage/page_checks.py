"""The page-only half of the copy checks (``storage.works``), computed where the page is already in hand.

Why a module of its own: ``storage.works.after_upsert`` checks every stored issue for copies —
identity and aliases, content-farm evidence, near-duplicate fingerprints. Most of that reads only
the page and what extraction found (an lxml parse of the raw page, the farm signals, the body's
paragraphs, shingles and MinHash signature: about 5 ms of CPU a page); only the alias and LSH lookups
need the archive. In a crawl, the store runs in the crawl process's writer thread, next to the
reactor, while the extraction workers hold the page anyway: so the workers compute ``PageChecks``
here and the store only looks up and inserts. This module imports no SQLAlchemy and no Scrapy, since
every extraction worker loads it.

A ``PageChecks`` is used only for the row it was computed for: ``fits`` compares the inputs (URL,
canonical URL, platform, author, body, links) with the stored row, and on any difference (a paid
preview that kept the stored body, a row folded into another) the store computes the checks from
the page as before. The same functions compute both ways, so the results are the same.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from storage import fingerprints as fp
from tomtalks_scraper.extraction.markup import parse_page_text


@dataclass(frozen=True)
class PageChecks:
    """What the copy checks read from one page and its extraction (plain data: it crosses processes)."""

    url: str
    canonical_url: str | None
    platform: str
    author: str | None
    body_digest: str
    links: tuple[str, ...]
    identity: Any  # tomtalks_scraper.extraction.identity.Identity
    evidence: Any  # tomtalks_scraper.extraction.copies.CopyEvidence; None when the page does not parse
    lines: list[tuple[int, str]]
    shingles: frozenset[int]  # of the whole body (no paragraph left out as boilerplate)
    signature: array | None  # MinHash of ``shingles``

    def fits(self, issue: Any, url: str) -> bool:
        """Whether these checks were computed from what the stored row ``issue`` now holds."""
        return (url == self.url and issue.canonical_url == self.canonical_url and issue.platform == self.platform
                and issue.author == self.author and body_digest(issue.body_text or "") == self.body_digest
                and tuple(link.url for link in issue.links) == self.links)


def body_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).hexdigest()


def parse_page(raw_html: str | None) -> lxml_html.HtmlElement | None:
    """The raw page as the copy checks read it; None when it is empty or not markup."""
    if not raw_html or not raw_html.strip():
        return None
    try:
        return parse_page_text(raw_html)
    except (etree.ParserError, ValueError):
        return None


@dataclass(frozen=True)
class PageReading:
    """What the copy checks read from the parsed raw page alone: its identity and its copy signals.

    Taken where the page is already parsed (the extraction worker, before pre-cleaning cuts the tree):
    the checks then need no parse of their own.
    """

    url: str
    canonical_url: str | None
    platform: str
    identity: Any  # tomtalks_scraper.extraction.identity.Identity
    signals: Any  # tomtalks_scraper.extraction.copies.PageSignals; None when the page does not parse


def read_page(raw_html: str, tree: lxml_html.HtmlElement | None, url: str, *, canonical_url: str | None,
              platform: str, names: Any = None) -> PageReading:
    """The page-reading half of ``page_checks``; ``tree``: ``raw_html`` parsed (None: it does not parse);
    ``names``: its ids and classes (``tomtalks_scraper.platforms.page_names.PageNames``), if read already."""
    from tomtalks_scraper.extraction.copies import page_signals
    from tomtalks_scraper.extraction.identity import identify

    identity = identify(url, canonical_url, platform, raw_html, tree)
    signals = None if tree is None else page_signals(tree, url, platform, names)
    return PageReading(url, canonical_url, platform, identity, signals)


def body_lines(text: str) -> list[tuple[int, str]]:
    """The body's paragraphs as (CRC-32 of their words, text), empty ones left out."""
    out = []
    for line in text.splitlines():
        normal = " ".join(fp.words(line))
        if normal:
            out.append((zlib.crc32(normal.encode()), line))
    return out


def content_shingles(lines: list[tuple[int, str]], boilerplate: set[int]) -> set[int]:
    """Shingles of the body without the paragraphs in ``boilerplate``."""
    return fp.shingles("\n".join(text for h, text in lines if h not in boilerplate))


def page_checks(raw_html: str, url: str, *, canonical_url: str | None, platform: str, author: str | None,
                body_text: str, links: list[str], reading: PageReading | None = None) -> PageChecks:
    """Everything ``storage.works.after_upsert`` reads from the page alone, for the issue extracted from it.

    ``reading``: ``read_page``'s result for this page, URL, canonical URL and platform, when the caller
    had the page parsed; otherwise the page is parsed here.
    """
    from tomtalks_scraper.extraction.copies import copy_evidence

    if reading is None or (reading.url, reading.canonical_url, reading.platform) != (url, canonical_url, platform):
        reading = read_page(raw_html, parse_page(raw_html), url, canonical_url=canonical_url, platform=platform)
    evidence = None if reading.signals is None else copy_evidence(reading.signals, url, platform, body_text, author,
                                                                   links)
    lines = body_lines(body_text)
    shingles = content_shingles(lines, set())
    return PageChecks(url, canonical_url, platform, author, body_digest(body_text), tuple(links), reading.identity,
                      evidence, lines, frozenset(shingles), fp.signature(shingles))
