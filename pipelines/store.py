"""Store stage: one transaction per issue (the issue and its crawl state together); every rejection,
failure and unchanged check recorded.

Returns a flat record of what was stored, so ``scrapy crawl … -O issues.jsonl`` exports exactly
the archive's view of each issue (without the raw page). Outcomes are counted per source in the
crawl stats (``tomtalks/source/<start URL>/<outcome>``) for the crawl report.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.rejection import Rejected
from storage import resolve_database_url
from storage.recorder import CrawlRecorder
from tomtalks_scraper.items import FetchFailure, IssuePage, NotModified

logger = logging.getLogger(__name__)


def issue_values(item: IssuePage) -> dict[str, Any]:
    """The ``issues`` columns for an extracted page."""
    issue = item.extracted
    return {
        "canonical_url": issue.canonical_url,
        "platform": issue.platform,
        "title": issue.title,
        "author": issue.author,
        "authors": issue.authors,
        "published_at": issue.published_at,
        "modified_at": issue.updated_at,
        "description": issue.description,
        "tags": issue.tags,
        "image_url": issue.image,
        "language": issue.language,
        "body_text": issue.body_text,
        "body_markdown": issue.body_markdown,
        "body_html": issue.body_html,
        "word_count": issue.word_count,
        "content_hash": issue.content_hash,
        "http_status": item.status,
        "extractor": issue.extractor,
        "extractor_version": issue.extractor_version,
        "subtitle": issue.subtitle,
        "issue_number": issue.issue_number,
        "volume": issue.volume,
        "access": issue.access,
    }


def check_values(item: IssuePage) -> dict[str, Any]:
    """What this fetch teaches the next run: validators, page hash, the listing's date, the issue's age."""
    hints = item.hints
    return {
        "http_status": item.status,
        "etag": item.headers.get("ETag"),
        "last_modified": item.headers.get("Last-Modified"),
        "page_hash": item.page_hash,
        "listed_date": hints.updated_at or hints.published_at,
        "published_at": item.extracted.published_at if item.extracted else None,
    }


class StorePipeline:
    def __init__(self, crawler: Crawler, database_url: str) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.recorder: CrawlRecorder | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler, resolve_database_url(setting=crawler.settings.get("DATABASE_URL")))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.recorder = CrawlRecorder.open(self.database_url)
        logger.info("Storing issues in %s", self.recorder.url)

    def close_spider(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    def _count(self, source: str, outcome: str) -> None:
        self.crawler.stats.inc_value(f"tomtalks/source/{source}/{outcome}")
        self.crawler.stats.inc_value(f"tomtalks/{outcome}")

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchFailure):
            self._record_failure(item.url, item.reason, item.detail, item.http_status, item.newsletter, item.source)
            raise DropItem(f"not stored, recorded as {item.reason}: {item.url}")
        if isinstance(item, NotModified):
            self.recorder.record_unchanged(item.url, item.newsletter or None,
                                           {"http_status": 304, "listed_date": item.listed_date})
            self._count(item.source, "unchanged")
            raise DropItem(f"not modified: {item.url}")
        if not isinstance(item, IssuePage):
            return item
        if item.extracted is None:  # the same page bytes as last time: nothing to extract or write
            self.recorder.record_unchanged(item.url, item.newsletter or None, check_values(item))
            self._count(item.source, "unchanged")
            raise DropItem(f"unchanged page: {item.url}")
        newsletter = item.newsletter or item.extracted.newsletter or item.fallback_newsletter
        result = self.recorder.save_issue(
            url=item.url, newsletter=newsletter, newsletter_url=item.newsletter_url, raw_html=item.html,
            values=issue_values(item), links=[(link.url, link.text) for link in item.extracted.links],
            check=check_values(item),
        )
        self._count(item.source, "new" if result.created else "changed" if result.changed else "unchanged")
        record = {"id": result.issue_id, "newsletter": newsletter, "source": item.source, **item.extracted.to_dict()}
        record.pop("body_html", None)
        return record

    def item_dropped(self, item: Any, exception: BaseException, **_: Any) -> None:
        """Record pages an earlier stage rejected (validation, extraction errors)."""
        if isinstance(item, IssuePage) and isinstance(exception, Rejected):
            self._record_failure(item.url, exception.reason, exception.detail, item.status, item.newsletter,
                                 item.source)

    def _record_failure(self, url: str, reason: str, detail: str, status: int | None, newsletter: str,
                        source: str) -> None:
        logger.info("Not stored (%s): %s %s", reason, url, detail)
        gone = self.recorder.record_failure(url=url, reason=reason, detail=detail, http_status=status,
                                            newsletter=newsletter or None)
        self._count(source, "gone" if gone else "failed")
        self.crawler.stats.inc_value(f"tomtalks/source/{source}/reason/{'gone' if gone else reason}")
