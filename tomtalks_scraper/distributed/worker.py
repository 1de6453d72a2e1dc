"""The worker's side of the frontier: heartbeat, recovery of dead workers, acks, idle exit.

- **Heartbeat.** Every ``DISTRIBUTED_WORKER_TTL / 3`` seconds the worker renews its heartbeat key and
  puts back into the queue the requests held by workers whose heartbeat expired (killed, crashed,
  machine lost). It also nudges the engine when requests are queued: an idle Scrapy engine only looks
  at its scheduler every 5 s.
- **Acks.** A popped request is acked once the engine is done with it: its callback or errback has
  run, the requests it yielded are in the frontier and its items went through the pipelines (the
  store commits before an item counts as scraped). A worker killed before that leaves the entry for
  the others. Scrapy has no signal for "done with this response", so the worker wraps the scraper's
  ``enqueue_scrape``, whose Deferred fires exactly then.
- **Idle exit.** A worker with nothing to do waits while the frontier is busy (requests queued, or
  held by a live worker that may yield more) and closes after ``DISTRIBUTED_IDLE_EXIT`` seconds of an
  empty frontier (0: never), so cron runs and tests end.
- **Leaving.** On close, whatever the worker still holds goes back to the queue (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.task import LoopingCall

from tomtalks_scraper.distributed.frontier import DEFAULT_PREFIX, Frontier, FrontierKeys

logger = logging.getLogger(__name__)

ENTRY = "frontier_entry"  # the same meta key as scheduler.ENTRY (kept here to avoid an import cycle)


class FrontierWorker:
    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        self.crawler = crawler
        self.frontier = frontier
        settings = crawler.settings
        self.ttl = max(1.0, settings.getfloat("DISTRIBUTED_WORKER_TTL", 30.0))
        self.idle_exit = settings.getfloat("DISTRIBUTED_IDLE_EXIT", 60.0)
        self.idle_since: float | None = None
        self.loop = LoopingCall(self.tick)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierWorker:
        if not crawler.settings.getbool("DISTRIBUTED"):
            raise NotConfigured("not a distributed crawl")
        prefix = crawler.settings.get("DISTRIBUTED_KEY_PREFIX") or DEFAULT_PREFIX
        spider = crawler.spider.name if crawler.spider else crawler.spidercls.name
        frontier = Frontier(get_redis_from_settings(crawler.settings), FrontierKeys(prefix, spider))
        worker = cls(crawler, frontier)
        crawler.signals.connect(worker.engine_started, signal=signals.engine_started)
        crawler.signals.connect(worker.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker.spider_closed, signal=signals.spider_closed)
        return worker

    def engine_started(self) -> None:
        self.frontier.register(self.ttl)
        recovered = self._recover()
        logger.info("Frontier worker %s joined %s (%d queued, %d recovered from dead workers)",
                    self.frontier.worker, self.frontier.keys.base, self.frontier.queued(), recovered)
        self._wrap_scraper()
        self.loop.start(min(self.ttl / 3, 1.0), now=False)

    def _wrap_scraper(self) -> None:
        scraper = self.crawler.engine.scraper
        original = getattr(scraper, "enqueue_scrape", None)
        if original is None:
            logger.warning("Scrapy's scraper has no enqueue_scrape: requests are acked as they are popped "
                           "(a killed worker's requests in flight are lost until the next seed)")
            return

        def enqueue_scrape(result: Any, request: Request) -> Any:
            done = original(result, request)
            done.addBoth(self._acked, request)
            return done

        scraper.enqueue_scrape = enqueue_scrape

    def _acked(self, result: Any, request: Request) -> Any:
        entry = request.meta.pop(ENTRY, None)
        if entry:
            self.frontier.ack(entry)
        return result

    def tick(self) -> None:
        """Heartbeat, recovery of dead workers' requests, and a nudge to the engine when work is queued."""
        try:
            self.frontier.beat(self.ttl)
            self._recover()
            if self.frontier.queued():
                self._nudge()
        except Exception:  # noqa: BLE001 - a Redis hiccup must not stop the heartbeat loop
            logger.exception("Frontier heartbeat failed (retrying)")

    def _recover(self) -> int:
        """Put the requests of dead workers back into the queue; how many."""
        recovered = self.frontier.requeue_dead()
        if recovered:
            logger.warning("Requeued %d requests held by dead workers", recovered)
            self.crawler.stats.inc_value("tomtalks/frontier/recovered", recovered)
        return recovered

    def _nudge(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_idle(self) -> None:
        if self._recover() or self.frontier.busy():
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.idle_exit <= 0 or now - self.idle_since < self.idle_exit:
            raise DontCloseSpider
        logger.info("Frontier empty for %.0f s: worker %s exits", now - self.idle_since, self.frontier.worker)

    def spider_closed(self, reason: str) -> None:
        if self.loop.running:
            self.loop.stop()
        returned = self.frontier.leave()
        if returned > 0:
            logger.info("Worker %s closed (%s): %d requests it held are back in the queue",
                        self.frontier.worker, reason, returned)
