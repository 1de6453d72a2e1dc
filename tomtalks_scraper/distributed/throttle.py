"""A per-host request rate shared by every worker, through Redis.

``DOWNLOAD_DELAY`` and ``CONCURRENT_REQUESTS_PER_DOMAIN`` hold per process: N workers would put N
times the load on a site. Here each request reserves its host's next free time in Redis (one Lua
script: read the host's next free time, take ``max(now, it)``, push it ``DISTRIBUTED_HOST_DELAY``
seconds on) and waits until then. Times come from the Redis server's clock, so the workers' clocks do
not matter, and a reservation needs no polling: requests of all workers leave one by one, at least
``DISTRIBUTED_HOST_DELAY`` apart, in the order they asked; a request woken more than half a delay after
its turn takes a new one. ``0`` turns the shared limit off.
"""

from __future__ import annotations

from time import monotonic

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tomtalks_scraper.distributed.frontier import DEFAULT_PREFIX
from tomtalks_scraper.urls import host_of

# KEYS[1]: the host's key; ARGV[1]: the delay in microseconds. Returns the wait in microseconds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local delay = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', at + delay), 'PX', math.ceil((at - now + delay) / 1000) + 1000)
return at - now
"""


class HostThrottle:
    """Downloader middleware: at most one request per ``DISTRIBUTED_HOST_DELAY`` seconds per host, all workers."""

    def __init__(self, crawler: Crawler, delay: float, prefix: str) -> None:
        self.crawler = crawler
        self.delay_us = int(delay * 1_000_000)
        self.late = delay / 2  # a turn missed by more than this is taken again
        self.prefix = prefix
        self._reserve = get_redis_from_settings(crawler.settings).register_script(_RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostThrottle:
        delay = crawler.settings.getfloat("DISTRIBUTED_HOST_DELAY", 0.25)
        if not crawler.settings.getbool("DISTRIBUTED") or delay <= 0:
            raise NotConfigured("no shared per-host delay")
        return cls(crawler, delay, crawler.settings.get("DISTRIBUTED_KEY_PREFIX") or DEFAULT_PREFIX)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        key = f"{self.prefix}:host:{host_of(request.url)}"
        while (wait := int(self._reserve(keys=[key], args=[self.delay_us])) / 1_000_000) > 0:
            due = monotonic() + wait
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
            if monotonic() - due <= self.late:
                break
            # Woken late (the event loop was busy, e.g. a callback reading a long listing): every request whose
            # turn passed meanwhile would leave at once, together. Take a new turn instead.
            self.crawler.stats.inc_value("tomtalks/frontier/throttle_late")
        return None
