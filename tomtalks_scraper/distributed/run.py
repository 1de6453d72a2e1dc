"""Start worker processes and read a host's request rate: shared by the tests and ``bench/distributed.py``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tomtalks_scraper.crawl import crawl_command


def worker_command(database_url: str, redis: str, settings: Mapping[str, str] | None = None) -> list[str]:
    """``scrapy crawl newsletter -s DISTRIBUTED=1 -s REDIS_URL=… -s DATABASE_URL=…`` (no start URL: seeds)."""
    return crawl_command([], database_url, settings={"DISTRIBUTED": "1", "REDIS_URL": redis, **(settings or {})})


def start_worker(database_url: str, redis: str, log: Path, settings: Mapping[str, str] | None = None,
                 cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """One worker process, its output in ``log``."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}
    with log.open("wb") as out:
        return subprocess.Popen(worker_command(database_url, redis, settings), stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd)


def max_rate(times: Sequence[float], window: float = 1.0) -> float:
    """The most requests seen in any ``window`` seconds, per second (times in seconds, any order)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, now in enumerate(ordered):
        while now - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most / window
