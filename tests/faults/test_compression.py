"""Oversized pages and hostile compression, through one real crawl whose peak memory is measured: size
limits hold (DOWNLOAD_MAXSIZE also caps what a gzip body decompresses to), each case is recorded, and
the crawl stays small and quick."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zlib
from functools import cache

import pytest

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, crawl_command
from tomtalks_scraper.demo_site.server import LocalSite, Page

from .helpers import GOOD, GOOD_TITLE, Outcome, feed, good_issue, outcome

MB = 1024 * 1024
#: A crawl of small pages peaks near 140 MB here; with DOWNLOAD_MAXSIZE=0 the 20 MB pages take it past 320 MB.
PEAK_LIMIT_MB = 250
PARAGRAPH = "<p>" + " ".join(["lantern meadow orbit pixel quarry ribbon"] * 20) + "</p>\n"


def _page_of(size: int) -> bytes:
    return (f'<html><head><title>Big</title><meta property="og:title" content="A big page"></head>'
            f"<body><article><h1>A big page</h1>"
            f"{PARAGRAPH * (size // len(PARAGRAPH))}</article></body></html>").encode()


@cache
def _gzip_bomb() -> bytes:
    """100 MB of spaces in about 100 kB of gzip, built in 1 MB steps (never all in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * MB
    parts = [packer.compress(b"<html><body>"), *(packer.compress(chunk) for _ in range(100)),
             packer.compress(b"</body></html>"), packer.flush()]
    return b"".join(parts)


def _site(base: str) -> dict[str, Page]:
    huge, issue = _page_of(20 * MB), good_issue().body
    pages = {
        "/huge/": Page(huge),  # announces 20 MB: refused before the body is read
        "/huge-streamed/": Page(huge, send_length=False),  # no length: cut off once past the limit
        "/large-but-allowed/": Page(_page_of(3 * MB)),  # above DOWNLOAD_WARNSIZE, below DOWNLOAD_MAXSIZE
        "/gzip-bomb/": Page(_gzip_bomb(), headers={"Content-Encoding": "gzip"}),
        "/gzip-truncated/": Page(gzip.compress(issue)[: len(gzip.compress(issue)) // 2],  # cut mid-article
                                 headers={"Content-Encoding": "gzip"}),
        "/gzip-garbage/": Page(b"this body is not gzip at all", headers={"Content-Encoding": "gzip"}),
        "/gzip-fine/": Page(gzip.compress(issue), headers={"Content-Encoding": "gzip"}),
        GOOD: good_issue(),
    }
    return {"/feed.xml": feed([base + path for path in pages]), **pages}


def _crawl_measuring_peak(url: str, database_url: str) -> int:
    """Run the real crawl under a parent that reports its peak resident memory (MB)."""
    command = crawl_command([url], database_url, settings=LOOPBACK_SETTINGS)
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}, check=True)
    return int(result.stdout.split()[-1]) // 1024


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, int]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('compression') / 'archive.db'}"
    with LocalSite(build=_site) as site:
        peak = _crawl_measuring_peak(site.url("/feed.xml"), database_url)
        return outcome(database_url, site), peak


def test_the_crawl_stays_small_in_memory(crawled) -> None:
    _, peak = crawled
    assert peak < PEAK_LIMIT_MB


@pytest.mark.parametrize(("path", "detail"), [
    ("/huge/", "larger than download max size"),
    ("/huge-streamed/", "grew past DOWNLOAD_MAXSIZE"),
    ("/gzip-bomb/", "exceeded DOWNLOAD_MAXSIZE (10485760 B) during decompression"),
])
def test_too_large_pages_are_recorded(crawled, path: str, detail: str) -> None:
    result, _ = crawled
    assert path not in result.issues
    assert result.rejected[path]["reason"] == "too_large"
    assert detail in result.rejected[path]["detail"]


def test_a_gzip_bomb_stops_at_the_limit(crawled) -> None:
    result, _ = crawled
    detail = result.rejected["/gzip-bomb/"]["detail"]
    decompressed = int(detail.split("B decompressed so far")[0].rsplit(",", 1)[1])
    assert 10 * MB <= decompressed < 11 * MB  # not 100 MB


def test_a_body_that_is_not_gzip_is_recorded(crawled) -> None:
    result, _ = crawled
    assert result.rejected["/gzip-garbage/"]["reason"] == "bad_encoding"


def test_pages_within_the_limits_are_stored(crawled) -> None:
    result, _ = crawled
    assert result.issues["/large-but-allowed/"]["title"] == "A big page"
    assert result.issues["/gzip-fine/"]["title"] == result.issues[GOOD]["title"] == GOOD_TITLE


def test_truncated_gzip_keeps_what_could_be_decompressed(crawled) -> None:
    result, _ = crawled
    partial = result.issues["/gzip-truncated/"]
    assert partial["title"] == GOOD_TITLE
    assert 0 < partial["word_count"] < result.issues[GOOD]["word_count"]
