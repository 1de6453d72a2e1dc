"""Coverage report: at the end of a crawl, one line per source (start URL) — issues listed, fetched,
stored, and skipped with reasons — so a user sees at once whether every issue made it."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from tomtalks_scraper.urls import normalize_url

logger = logging.getLogger(__name__)


class CoverageReport:
    """A Scrapy extension; counts come from the item signals and the spider's ``listed`` sets."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stored: Counter[str] = Counter()
        self.skipped: dict[str, Counter[str]] = defaultdict(Counter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CoverageReport:
        report = cls(crawler)
        crawler.signals.connect(report.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(report.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(report.spider_closed, signal=signals.spider_closed)
        return report

    def item_scraped(self, item: Any, **_: Any) -> None:
        if isinstance(item, dict) and "source" in item:
            self.stored[item["source"]] += 1

    def item_dropped(self, item: Any, exception: BaseException, spider: Spider, **_: Any) -> None:
        source = getattr(item, "source", "")
        listed = getattr(spider, "listed", {}).get(source, set())
        url = getattr(item, "url", "")
        is_start = url and normalize_url(url) == normalize_url(source)
        if url and not is_start and normalize_url(url) not in listed and getattr(item, "hints", None) is None:
            return  # a listing that failed, not an issue: it is recorded, but it is not coverage
        reason = getattr(exception, "reason", None) or getattr(item, "reason", None) or "dropped"
        self.skipped[source][reason] += 1

    def lines(self, spider: Spider) -> list[str]:
        stats = self.crawler.stats
        sources = sorted(set(getattr(spider, "start_urls", [])) | set(self.stored) | set(self.skipped))
        result = []
        for source in sources:
            listed = len(getattr(spider, "listed", {}).get(source, ()))
            fetched = stats.get_value(f"tomtalks/coverage/{source}/fetched", 0)
            skipped = self.skipped.get(source, Counter())
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
            result.append(
                f"coverage {source}: listed {listed}, fetched {fetched}, stored {self.stored[source]}, "
                f"skipped {sum(skipped.values())}" + (f" ({reasons})" if reasons else "")
            )
            stats.set_value(f"tomtalks/coverage/{source}/stored", self.stored[source])
            stats.set_value(f"tomtalks/coverage/{source}/skipped", sum(skipped.values()))
        return result

    def spider_closed(self, spider: Spider, **_: Any) -> None:
        for line in self.lines(spider):
            logger.info(line)
