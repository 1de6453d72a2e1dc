"""Crawl report: one line per source at the end of a crawl — listed, fetched, new, changed, unchanged,
skipped, failed with reasons — logged, kept in the crawl stats, and written as the run's record.

A Scrapy extension. The counts come from the crawl stats the spider and the store pipeline keep
under ``tomtalks/source/<start URL>/…``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from storage import resolve_database_url
from storage.recorder import CrawlRecorder

logger = logging.getLogger(__name__)
COUNTS = ("listed", "fetched", "new", "changed", "unchanged", "skipped", "failed", "gone")


class CrawlReport:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.own_run = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        report = cls(crawler)
        crawler.signals.connect(report.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(report.spider_closed, signal=signals.spider_closed)
        return report

    def _recorder(self) -> CrawlRecorder:
        return CrawlRecorder.open(resolve_database_url(setting=self.crawler.settings.get("DATABASE_URL")))

    def spider_opened(self, spider: Spider) -> None:
        """Use the run ``tomtalks crawl`` opened (``-a run_id=``), else open one for this crawl."""
        self.run_id = getattr(spider, "run_id", None)
        if self.run_id is None:
            recorder = self._recorder()
            try:
                mode = "full" if getattr(spider, "full_refresh", False) else "incremental"
                self.run_id, self.own_run = recorder.start_run(mode), True
            finally:
                recorder.close()

    def source_counts(self, source: str) -> dict[str, Any]:
        stats = self.crawler.stats
        counts: dict[str, Any] = {name: stats.get_value(f"tomtalks/source/{source}/{name}", 0) for name in COUNTS}
        prefix = f"tomtalks/source/{source}/reason/"
        counts["reasons"] = {key.removeprefix(prefix): value for key, value in stats.get_stats().items()
                             if key.startswith(prefix)}
        return counts

    @staticmethod
    def line(source: str, counts: dict[str, Any]) -> str:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(counts["reasons"].items()))
        figures = ", ".join(f"{name} {counts[name]}" for name in COUNTS)
        return f"{source}: {figures}" + (f" ({reasons})" if reasons else "")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        recorder = self._recorder()
        try:
            for source in getattr(spider, "start_urls", []):
                counts = self.source_counts(source)
                logger.info("coverage %s", self.line(source, counts))
                failed = counts["failed"] + (1 if counts["listed"] == 0 and counts["new"] == 0 else 0)
                recorder.record_run_source(self.run_id, source, {
                    "newsletter": getattr(spider, "newsletter_name", None), "listed": counts["listed"],
                    "new": counts["new"], "changed": counts["changed"], "unchanged": counts["unchanged"],
                    "skipped": counts["skipped"], "failed": failed, "finish_reason": reason,
                })
            if self.own_run:
                recorder.finish_run(self.run_id, reason)
        finally:
            recorder.close()
