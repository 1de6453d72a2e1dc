"""Extract stage: platform pre-clean + trafilatura → ``item.extracted`` (an ``ExtractedIssue``)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from scrapy.crawler import Crawler
from trafilatura.meta import reset_caches

from pipelines.rejection import Rejected
from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue
from tomtalks_scraper.items import IssuePage
from tomtalks_scraper.platforms import all_adapters

logger = logging.getLogger(__name__)


def page_hash(html: str) -> str:
    """sha256 of the fetched page text: an identical page needs no extraction."""
    return hashlib.sha256(html.encode("utf-8", errors="replace")).hexdigest()


class ExtractPipeline:
    """Runs the extraction of each fetched page; a page identical to the one stored is not extracted again.

    trafilatura keeps LRU caches across pages; resetting them every ``TRAFILATURA_RESET_EVERY`` pages
    keeps long crawls flat in memory.
    """

    def __init__(self, reset_every: int) -> None:
        self.reset_every = max(reset_every, 1)
        self.pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(reset_every=crawler.settings.getint("TRAFILATURA_RESET_EVERY", 500))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, IssuePage):
            return item
        item.page_hash = page_hash(item.html)
        if item.known_page_hash and item.known_page_hash == item.page_hash:
            return item  # unchanged page: the store stage only records the check
        platform = item.platform if item.platform in all_adapters() else None
        try:
            item.extracted = extract_issue(
                item.html, item.url, hints=item.hints, platform=platform,
                content_language=item.headers.get("Content-Language"),
            )
        except ExtractionError as error:
            raise Rejected("unreadable", str(error)) from error
        except Exception as error:  # noqa: BLE001 - one bad page must be recorded, never lost or fatal
            logger.exception("Extraction failed on %s", item.url)
            raise Rejected("extraction_error", f"{type(error).__name__}: {error}") from error
        finally:
            self.pages += 1
            if self.pages % self.reset_every == 0:
                reset_caches()
        return item
