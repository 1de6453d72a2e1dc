"""Store stage: one transaction per issue into the archive; every rejection and failure recorded.

Returns a flat record of what was stored, so ``scrapy crawl … -O issues.jsonl`` exports exactly
the archive's view of each issue (without the raw page).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.rejection import Rejected
from storage import Archive, resolve_database_url
from tomtalks_scraper.items import FetchFailure, IssuePage

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


class StorePipeline:
    def __init__(self, crawler: Crawler, database_url: str) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.archive: Archive | None = None
        self.outcomes: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler, resolve_database_url(setting=crawler.settings.get("DATABASE_URL")))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.archive = Archive.open(self.database_url, create=True)
        logger.info("Storing issues in %s", self.archive.url)

    def close_spider(self) -> None:
        stats = self.crawler.stats
        for outcome, count in sorted(self.outcomes.items()):
            stats.set_value(f"tomtalks/{outcome}", count)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.outcomes.items())) or "nothing"
        logger.info("Archive %s: %s", self.archive.url if self.archive else self.database_url, summary)
        if self.archive is not None:
            self.archive.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchFailure):
            self._record(item.url, item.reason, item.detail, item.http_status, item.newsletter)
            raise DropItem(f"not stored, recorded as {item.reason}: {item.url}")
        if not isinstance(item, IssuePage):
            return item
        newsletter = item.newsletter or item.extracted.newsletter or item.fallback_newsletter
        result = self.archive.save_issue(
            url=item.url, newsletter=newsletter, newsletter_url=item.newsletter_url, raw_html=item.html,
            values=issue_values(item), links=[(link.url, link.text) for link in item.extracted.links],
        )
        outcome = "new" if result.created else "changed" if result.changed else "unchanged"
        self.outcomes[f"issues_{outcome}"] += 1
        record = {"id": result.issue_id, "newsletter": newsletter, "source": item.source, **item.extracted.to_dict()}
        record.pop("body_html", None)
        return record

    def item_dropped(self, item: Any, exception: BaseException, **_: Any) -> None:
        """Record pages an earlier stage rejected (validation, extraction errors)."""
        if isinstance(item, IssuePage) and isinstance(exception, Rejected):
            self._record(item.url, exception.reason, exception.detail, item.status, item.newsletter)

    def _record(self, url: str, reason: str, detail: str, status: int | None, newsletter: str) -> None:
        self.outcomes[f"rejected_{reason}"] += 1
        logger.info("Not stored (%s): %s %s", reason, url, detail)
        if self.archive is not None:
            self.archive.record_rejection(
                url=url, reason=reason, detail=detail, http_status=status, newsletter=newsletter or None
            )
