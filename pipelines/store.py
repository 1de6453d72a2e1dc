"""Store stage: every issue with its crawl state, every rejection, failure and unchanged check recorded.

Writes are committed in batches by a writer thread (``STORE_BATCH_SIZE`` writes, or
``STORE_BATCH_SECONDS`` after the first, or when every item in the pipelines waits for the batch, and
at close; ``pipelines/batching.py``); each item waits for its batch's commit before it is reported,
so "stored" always means committed.

Returns a flat record of what was stored, so ``scrapy crawl … -O issues.jsonl`` exports exactly
the archive's view of each issue (without the raw page). Outcomes are counted per source in the
crawl stats (``tomtalks/source/<start URL>/<outcome>``) for the crawl report.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from functools import partial
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future

from pipelines.batching import WriteBatcher
from pipelines.rejection import Rejected
from storage import resolve_database_url
from storage.recorder import CrawlRecorder, Write, record_failure, record_unchanged, save_issue
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


def exported(issue: Any) -> dict[str, Any]:
    """``ExtractedIssue.to_dict()`` without ``body_html``: the record ``-O`` exports.

    Built field by field: ``dataclasses.asdict`` deep-copies every value, a millisecond a page for
    copies nobody modifies.
    """
    record = {f.name: getattr(issue, f.name) for f in fields(issue) if f.name != "body_html"}
    record["authors"], record["tags"] = list(issue.authors), list(issue.tags)
    record["links"] = [{"position": link.position, "url": link.url, "text": link.text} for link in issue.links]
    record["author"] = issue.author
    return record


class StorePipeline:
    def __init__(self, crawler: Crawler, database_url: str, batch_size: int, batch_seconds: float) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.recorder: CrawlRecorder | None = None
        self.batcher: WriteBatcher | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        pipeline = cls(crawler, resolve_database_url(setting=settings.get("DATABASE_URL")),
                       batch_size=settings.getint("STORE_BATCH_SIZE", 20),
                       batch_seconds=settings.getfloat("STORE_BATCH_SECONDS", 0.5))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    async def open_spider(self) -> None:
        self.batcher = WriteBatcher(self.database_url, self.batch_size, self.batch_seconds, self._items_in_flight)
        self.recorder = await self.batcher.open()
        logger.info("Storing issues in %s", self.recorder.url)

    async def close_spider(self) -> None:
        if self.batcher is None:
            return
        await self.batcher.close()
        stats = self.crawler.stats
        stats.set_value("tomtalks/store/batches", self.batcher.batches)
        stats.set_value("tomtalks/store/writes", self.batcher.writes)
        stats.set_value("tomtalks/store/largest_batch", self.batcher.largest)

    def _items_in_flight(self) -> int | None:
        """Items in Scrapy's item pipelines now (Scrapy's own count), or None if this Scrapy hides it."""
        slot = getattr(getattr(self.crawler.engine, "scraper", None), "slot", None)
        count = getattr(slot, "itemproc_size", None)
        return count if isinstance(count, int) else None

    async def _write(self, write: Write) -> Any:
        """Run ``write`` in the next batch; return once that batch is committed."""
        return await maybe_deferred_to_future(self.batcher.submit(write))

    def _count(self, source: str, outcome: str) -> None:
        self.crawler.stats.inc_value(f"tomtalks/source/{source}/{outcome}")
        self.crawler.stats.inc_value(f"tomtalks/{outcome}")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchFailure):
            await self._record_failure(item.url, item.reason, item.detail, item.http_status, item.newsletter,
                                       item.source)
            raise DropItem(f"not stored, recorded as {item.reason}: {item.url}", log_level="DEBUG")  # logged above
        if isinstance(item, NotModified):
            await self._write(partial(record_unchanged, url=item.url, newsletter=item.newsletter or None,
                                      check={"http_status": 304, "listed_date": item.listed_date}))
            self._count(item.source, "unchanged")
            raise DropItem(f"not modified: {item.url}", log_level="DEBUG")  # normal: counted in the stats
        if not isinstance(item, IssuePage):
            return item
        if item.extracted is None:  # the same page bytes as last time: nothing to extract or write
            await self._write(partial(record_unchanged, url=item.url, newsletter=item.newsletter or None,
                                      check=check_values(item)))
            self._count(item.source, "unchanged")
            raise DropItem(f"unchanged page: {item.url}", log_level="DEBUG")  # normal: counted in the stats
        newsletter = item.newsletter or item.extracted.newsletter or item.fallback_newsletter
        result = await self._write(partial(
            save_issue, url=item.url, newsletter=newsletter, newsletter_url=item.newsletter_url,
            raw_html=item.html, values=issue_values(item),
            links=[(link.url, link.text) for link in item.extracted.links], check=check_values(item),
            checks=item.copy_checks, raw_html_utf8=item.html_utf8,
        ))
        self._count(item.source, "new" if result.created else "changed" if result.changed else "unchanged")
        return {"id": result.issue_id, "newsletter": newsletter, "source": item.source, **exported(item.extracted)}

    async def item_dropped(self, item: Any, exception: BaseException, **_: Any) -> None:
        """Record pages an earlier stage rejected (validation, extraction errors)."""
        if isinstance(item, IssuePage) and isinstance(exception, Rejected):
            await self._record_failure(item.url, exception.reason, exception.detail, item.status, item.newsletter,
                                       item.source)

    async def _record_failure(self, url: str, reason: str, detail: str, status: int | None, newsletter: str,
                              source: str) -> None:
        logger.info("Not stored (%s): %s %s", reason, url, detail)
        gone = await self._write(partial(record_failure, url=url, reason=reason, detail=detail, http_status=status,
                                         newsletter=newsletter or None))
        self._count(source, "gone" if gone else "failed")
        self.crawler.stats.inc_value(f"tomtalks/source/{source}/reason/{'gone' if gone else reason}")
