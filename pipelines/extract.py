"""Extract stage: platform pre-clean + trafilatura → ``item.extracted`` (an ``ExtractedIssue``).

Extraction runs in a process pool (``pipelines/pool.py``) sized by ``EXTRACT_WORKERS`` (default: one
per core), so the reactor thread keeps downloading while pages are extracted on every core.
``EXTRACT_WORKERS = 0`` extracts in the crawl process instead — the same ``run_extraction``, kept for
comparison and for machines where processes are not wanted.

This stage also keeps the crawl's memory figures (``pipelines/memory.py``) in the crawl stats: it
owns the worker processes, and it sees every page.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call

from pipelines.memory import MemoryMonitor, tune_malloc
from pipelines.pool import ExtractionPool
from pipelines.rejection import Rejected
from pipelines.worker import EXTRACTION_ERROR, UNREADABLE, ExtractOutcome, ExtractTask, configure, run_extraction
from tomtalks_scraper.items import IssuePage
from tomtalks_scraper.page_text import text_hash
from tomtalks_scraper.platforms import all_adapters

logger = logging.getLogger(__name__)

#: Seconds between samples of the crawl's process tree memory.
MEMORY_SAMPLE_SECONDS = 2.0


def reactor_name() -> str:
    from twisted.internet import reactor

    return f"{type(reactor).__module__}.{type(reactor).__name__}"


def worker_count(setting: Any) -> int:
    """``EXTRACT_WORKERS``: unset means one per core; 0 means extract in the crawl process."""
    if setting in (None, ""):
        return os.cpu_count() or 1
    return max(int(setting), 0)


class ExtractPipeline:
    """Extracts each fetched page; a page identical to the one stored is not extracted again.

    trafilatura keeps LRU caches across pages; each extracting process resets them every
    ``TRAFILATURA_RESET_EVERY`` pages, which keeps long crawls flat in memory.
    """

    def __init__(self, crawler: Crawler, workers: int, reset_every: int, niceness: int = 0) -> None:
        self.crawler = crawler
        self.workers = workers
        self.reset_every = max(reset_every, 1)
        self.niceness = max(niceness, 0)
        self.pool: ExtractionPool | None = None
        self.memory = MemoryMonitor()
        self._sampler = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, workers=worker_count(crawler.settings.get("EXTRACT_WORKERS")),
                   reset_every=crawler.settings.getint("TRAFILATURA_RESET_EVERY", 500),
                   niceness=crawler.settings.getint("EXTRACT_WORKER_NICENESS", 0))

    def open_spider(self) -> None:
        tune_malloc()
        if not self.workers:
            configure(self.reset_every)
        self.crawler.stats.set_value("tomtalks/extract/workers", self.workers)
        self.crawler.stats.set_value("tomtalks/reactor", reactor_name())
        logger.info("Extracting %s; reactor %s", f"in {self.workers} worker processes" if self.workers
                    else "in the crawl process", reactor_name())
        self._sampler = create_looping_call(self.memory.sample)
        self._sampler.start(MEMORY_SAMPLE_SECONDS, now=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, IssuePage):
            return item
        item.page_hash = item.page_hash or text_hash(item.html)  # the spider's, read from the bytes
        if item.known_page_hash and item.known_page_hash == item.page_hash:
            return item  # unchanged page: the store stage only records the check
        page = item.html if item.html_utf8 is None else item.html_utf8  # bytes: cheaper to send and parse
        task = ExtractTask(page, item.url, item.hints, item.platform if item.platform in all_adapters() else None,
                           item.headers.get("Content-Language"), xml_safe=item.xml_safe)
        if self.workers and self.pool is None:  # on the first page to extract: a recrawl that extracts nothing
            self.pool = ExtractionPool(self.workers, self.reset_every,  # starts no process (not even a tracker)
                                       niceness=self.niceness)
        outcome = await self.pool.extract(task) if self.pool else run_extraction(task)
        return self._apply(item, outcome)

    def _apply(self, item: IssuePage, outcome: ExtractOutcome) -> IssuePage:
        if outcome.reason == UNREADABLE:
            raise Rejected(UNREADABLE, outcome.detail)
        if outcome.reason is not None:
            logger.error("Extraction failed on %s: %s\n%s", item.url, outcome.detail, outcome.trace)
            raise Rejected(EXTRACTION_ERROR, outcome.detail)
        item.extracted = outcome.issue
        item.copy_checks = outcome.checks
        return item

    def close_spider(self) -> None:
        if self._sampler is not None and self._sampler.running:
            self._sampler.stop()
        self.memory.sample()  # the workers are still alive: their last figures
        stats = self.crawler.stats
        if self.pool is not None:
            stats.set_value("tomtalks/extract/worker_crashes", self.pool.crashes)
            stats.set_value("tomtalks/extract/retried_alone", self.pool.retried)
            stats.set_value("tomtalks/extract/failed_twice", self.pool.failed_twice)
            self.pool.close()
        peaks = self.pool.peak_rss_kb if self.pool is not None else {}
        for name, value in self.memory.figures(peaks).items():
            stats.set_value(f"tomtalks/memory/{name}", value)
