"""Scrapy settings for tomtalks_scraper. Override any of them with ``-s NAME=VALUE``.

Defaults are polite for real newsletter hosts (robots.txt, AutoThrottle, a few requests per
host at a time). Crawls of local test sites lower the delays on the command line.
"""

from scrapy.settings import default_settings as scrapy_defaults

BOT_NAME = "tomtalks_scraper"
SPIDER_MODULES = ["tomtalks_scraper.spiders"]
NEWSPIDER_MODULE = "tomtalks_scraper.spiders"

# Where issues are stored. Unset here so that $TOMTALKS_DATABASE_URL, then the default
# sqlite:///data/newsletters.db, apply (storage.db.resolve_database_url).
DATABASE_URL = None

#: Pages whose body has fewer words are not issues (teasers, empty shells); recorded as rejected.
MIN_ISSUE_WORDS = 40

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}

USER_AGENT = "tomtalks_scraper/0.1 (newsletter archiver; scrapy)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
# A page (or a gzip body once decompressed) above DOWNLOAD_MAXSIZE is cancelled and recorded as
# `too_large`: newsletter issues are far smaller, and without the limit a crawl meeting 20 MB pages peaked
# at ~330 MB instead of ~140 MB (docs/reliability.md).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
REMOTE_CONTROL_ENABLED = False  # no listening port in unattended cron runs

EXTENSIONS = {
    "tomtalks_scraper.report.CrawlReport": 500,
}
# Components switched off above are left out of Scrapy's base lists: Scrapy imports every listed component
# (even one set to None) before it finds it "not configured", ~0.3 s of each crawl's start-up (aiohttp,
# twisted.conch, tldextract). To switch one on, set its *_ENABLED and restore its *_BASE list entry.
_unused = ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl",
           "scrapy.downloadermiddlewares.cookies.CookiesMiddleware")
EXTENSIONS_BASE = {k: v for k, v in scrapy_defaults.EXTENSIONS_BASE.items() if k not in _unused}
DOWNLOADER_MIDDLEWARES_BASE = {k: v for k, v in scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items() if k not in _unused}
TRAFILATURA_RESET_EVERY = 500  # pages between trafilatura cache resets (flat memory on long crawls)
RECHECK_SCHEDULE = "7:0,30:24,365:168,*:720"  # issues younger than DAYS re-checked at most every HOURS

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "tomtalks_scraper.middlewares.RetryAfterMiddleware": 550,
    "tomtalks_scraper.middlewares.PrivateNetworkGuard": 50,
    "tomtalks_scraper.middlewares.StartUrlCredentials": 60,
    # Above RedirectMiddleware (600): sees each 3xx before it is followed.
    "tomtalks_scraper.middlewares.RedirectLoopGuard": 650,
}
RETRY_AFTER_MAX = 120  # seconds: a longer Retry-After is recorded as a failure and retried next run

# Throughput (pipelines/extract.py, pipelines/pool.py, pipelines/store.py, tomtalks_scraper/downloader.py) ----
#: Extraction processes; None = one per core (os.cpu_count()), 0 = extract in the crawl process (no pool).
EXTRACT_WORKERS = None
#: How much lower the workers' priority is than the crawl process's (Unix ``nice`` steps; 0 = the same). With
#: one worker per core the crawl process competes with them, and while it waits it neither downloads nor
#: hands out pages nor stores: then the workers wait for it. Measured (docs/benchmarks.md): 2-5 % more pages a
#: second with 5, 10 or 19 than with 0; 10 also leaves other work on a shared machine ahead of the extraction.
EXTRACT_WORKER_NICENESS = 10
#: Store writes are committed in batches of this many, or this many seconds after a batch's first write,
#: and at close. An item is reported stored only once its batch is committed.
STORE_BATCH_SIZE = 20
STORE_BATCH_SECONDS = 0.5
#: Scrapy's downloader, with CONCURRENT_REQUESTS_PER_DOMAIN enforced on the asyncio reactor too.
DOWNLOADER = "tomtalks_scraper.downloader.SlotLimitedDownloader"
#: Items processed in parallel per response. Scrapy's default (100) starts 100 asyncio tasks per response,
#: although an issue page yields one item: a few milliseconds of CPU per page for nothing.
CONCURRENT_ITEMS = 16
#: Scrapy re-reads and parses a callback's source on nearly every response to warn about a generator that
#: returns a value: its cache is keyed by the bound method, which dies with each request (~0.15 ms a page).
#: tests/test_crawl.py runs the same check on our spiders' callbacks instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Distributed crawling (tomtalks_scraper/distributed, docs/scaling.md; needs the [distributed] extra) ----------
#: -s DISTRIBUTED=1: this crawl is a worker of a shared frontier in Redis (REDIS_URL, else $REDIS_URL).
DISTRIBUTED = False
ADDONS = {"tomtalks_scraper.distributed.addon.Distributed": 0}
#: Seconds between two requests to one host, across all workers together (0: no shared limit).
DISTRIBUTED_HOST_DELAY = 0.25
#: A worker exits after this many seconds with an empty frontier (0: waits for ever).
DISTRIBUTED_IDLE_EXIT = 60
#: A worker whose heartbeat is older than this many seconds is dead: its requests go back to the queue.
DISTRIBUTED_WORKER_TTL = 30
DISTRIBUTED_KEY_PREFIX = "tomtalks"
