"""The settings wrapper: ``-s DISTRIBUTED=1`` turns a crawl into a worker of the shared frontier.

A Scrapy add-on (``ADDONS`` in ``tomtalks_scraper/settings.py``) that does nothing unless
``DISTRIBUTED`` is true. Then it sets what scrapy-redis needs and what the project adds to it, and
checks Redis *before* the engine starts. Why the checks: on Scrapy ≥ 2.14 a scheduler that fails while
the engine opens (scrapy-redis with Scrapy's default ``DUPEFILTER_CLASS`` raises ``RFPDupeFilter … has no
attribute 'from_settings'``; a Redis that does not answer raises ``ConnectionError`` from its ``ping``)
fails before the engine has a slot, and the engine's clean-up then raises
``RuntimeError: Engine slot not assigned``, which hides the real error. Here the worker stops at once
with a message naming the setting.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy.settings import BaseSettings

SCHEDULER = "tomtalks_scraper.distributed.scheduler.FrontierScheduler"
#: Must be set explicitly: scrapy-redis builds Scrapy's default dupefilter with ``from_settings``, gone in 2.14.
DUPEFILTER = "scrapy_redis.dupefilter.RFPDupeFilter"
WORKER = "tomtalks_scraper.distributed.worker.FrontierWorker"
THROTTLE = "tomtalks_scraper.distributed.throttle.HostThrottle"


class DistributedSetupError(RuntimeError):
    """A worker cannot join the frontier; the message says which setting to fix."""


def redis_url(settings: BaseSettings | None = None) -> str:
    """The Redis of the frontier: the ``REDIS_URL`` setting, else the environment variable of that name."""
    url = (settings.get("REDIS_URL") if settings is not None else None) or os.environ.get("REDIS_URL")
    if not url:
        raise DistributedSetupError("DISTRIBUTED=1 needs a Redis: pass -s REDIS_URL=redis://HOST:6379/0 "
                                    "(or set the environment variable REDIS_URL)")
    return url


def connect(url: str) -> Any:
    """A Redis client for ``url``, checked with a ``PING``."""
    try:
        import redis
    except ImportError as error:
        raise DistributedSetupError("a distributed crawl needs the [distributed] extra: "
                                    "pip install -e '.[distributed]'") from error
    try:
        server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        server.ping()
    except (redis.RedisError, ValueError) as error:
        raise DistributedSetupError(f"cannot use the Redis at {url!r} (REDIS_URL): {type(error).__name__}: {error}. "
                                    "Start Redis or fix the URL.") from error
    return server


def configure(settings: BaseSettings) -> None:
    """Set the scheduler, duplicate filter, worker extension and shared per-host throttle."""
    url = redis_url(settings)
    connect(url).close()
    try:
        import scrapy_redis  # noqa: F401 - only checks the extra is installed
    except ImportError as error:
        raise DistributedSetupError("a distributed crawl needs the [distributed] extra: "
                                    "pip install -e '.[distributed]'") from error
    from tomtalks_scraper.distributed.frontier import DEFAULT_PREFIX  # imports redis: only for a worker (~0.15 s)

    prefix = settings.get("DISTRIBUTED_KEY_PREFIX") or DEFAULT_PREFIX
    for name, value in {
        "REDIS_URL": url,
        "SCHEDULER": SCHEDULER,
        "DUPEFILTER_CLASS": DUPEFILTER,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:seen",
        "SCHEDULER_PERSIST": True,  # the frontier outlives any one worker
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # a blocking pop would block the reactor; idling is the worker's job
    }.items():
        settings.set(name, value, priority="addon")
    if settings.getfloat("DISTRIBUTED_HOST_DELAY") > 0:
        # The shared throttle is a downloader middleware, so it runs before a request waits in its download
        # slot: a slot kept full by CONCURRENT_REQUESTS_PER_DOMAIN would release the spaced requests in bursts
        # (measured: 4 at once with the default 4). The shared rate is the per-host limit instead; -s wins.
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", settings.getint("CONCURRENT_REQUESTS"), priority="project")
    settings["EXTENSIONS"][WORKER] = 100
    # Nearest the downloader: a request waits for its host's turn only once every other check let it through.
    settings["DOWNLOADER_MIDDLEWARES"][THROTTLE] = 960


class Distributed:
    """Scrapy add-on: configures a distributed worker when ``DISTRIBUTED`` is true, else nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        if settings.getbool("DISTRIBUTED"):
            configure(settings)
