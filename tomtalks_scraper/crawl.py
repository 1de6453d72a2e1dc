"""Run a crawl from Python (CLI commands, tests, benchmarks) exactly as ``scrapy crawl`` runs it.

Each crawl is its own ``python -m scrapy crawl`` process: Twisted's reactor cannot be restarted
inside one process, and a crawl that crashes must not take the caller with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

#: For sites on this machine only (demo, tests, benchmarks): no politeness delays.
LOOPBACK_SETTINGS: Mapping[str, str] = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
}


class CrawlFailed(RuntimeError):
    """The crawl process exited with an error; the message holds the end of its log."""


def crawl_command(
    urls: list[str],
    database_url: str,
    *,
    spider: str = "newsletter",
    settings: Mapping[str, str] | None = None,
    spider_args: Mapping[str, str] | None = None,
) -> list[str]:
    """The ``scrapy crawl`` command line for these start URLs and this database."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    if urls:
        command += ["-a", "url=" + ",".join(urls)]
    for name, value in (spider_args or {}).items():
        command += ["-a", f"{name}={value}"]
    for name, value in {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl(
    urls: list[str],
    database_url: str,
    *,
    spider: str = "newsletter",
    settings: Mapping[str, str] | None = None,
    spider_args: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Crawl ``urls`` into ``database_url``; raise ``CrawlFailed`` when the crawl process fails."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}
    command = crawl_command(urls, database_url, spider=spider, settings=settings, spider_args=spider_args)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise CrawlFailed(f"the crawl of {', '.join(urls)} failed (exit code {result.returncode}):\n{tail}")
    return result
