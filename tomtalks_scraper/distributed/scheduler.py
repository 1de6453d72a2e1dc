"""scrapy-redis's scheduler with a reliable pop and start URLs that travel with their requests.

- ``next_request`` pops through ``Frontier.pop`` (the request stays in this worker's processing hash
  until acked, see frontier.py) and tags the request with its entry id (``meta["frontier_entry"]``).
- ``enqueue_request`` of a tagged request (a retry, a redirect) pushes the new request and acks the
  old entry: the new one stands for it.
- A popped request names its start URL (``meta["source"]``); the worker adopts it as one of its own
  (``start_urls``, ``allowed_domains``), so the spider's host checks and the private-address guard
  treat it as they do in a single-process crawl, whichever worker read the start page.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

from tomtalks_scraper.distributed.worker import FrontierWorker
from tomtalks_scraper.urls import host_of

logger = logging.getLogger(__name__)

ENTRY = "frontier_entry"


class FrontierScheduler(Scheduler):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider: Spider) -> None:
        """scrapy-redis's ``open`` without its deprecated ``spider.log`` call, plus this worker's frontier."""
        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, serializer=self.serializer,
                                                 key=self.queue_key % {"spider": spider.name})
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.frontier = self.crawler.get_extension(FrontierWorker).frontier

    def enqueue_request(self, request: Request) -> bool:
        entry = request.meta.pop(ENTRY, None)
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True
        finally:
            if entry:  # a retry or redirect of a popped request: the new request stands for it
                self.frontier.ack(entry)

    def next_request(self) -> Request | None:
        while popped := self.frontier.pop():
            entry, data = popped
            try:
                request = self.queue._decode_request(data)
            except Exception:  # noqa: BLE001 - one unreadable entry (another version's spider) must not stop the worker
                logger.exception("Dropping a frontier entry this worker cannot read (%d bytes)", len(data))
                self.frontier.ack(entry)
                continue
            request.meta[ENTRY] = entry
            adopt_source(self.spider, request)
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            return request
        return None


def adopt_source(spider: Any, request: Request) -> None:
    """Make the request's start URL one of this worker's own."""
    source = request.meta.get("source")
    start_urls, allowed = getattr(spider, "start_urls", None), getattr(spider, "allowed_domains", None)
    if not source or not isinstance(start_urls, list) or source in start_urls:
        return
    start_urls.append(source)
    if isinstance(allowed, list) and host_of(source) not in allowed:
        allowed.append(host_of(source))
