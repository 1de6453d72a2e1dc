"""End-to-end crawl throughput against the cost of extraction alone.

Why: the crawl (Scrapy + our pipelines + SQLite) should be bounded by extraction, not by the
framework around it. This script puts the three figures side by side on the same pages:

1. a real crawl (``run_crawl``, a ``scrapy crawl`` subprocess) of N pages served on 127.0.0.1
   from an RSS feed, into a fresh SQLite archive;
2. bare ``trafilatura.extract`` over the same N page texts in one process;
3. our ``extract_issue`` (platform pre-clean, trafilatura, metadata, three renderings) likewise.

The pages are the 92 real pages of the article-extraction benchmark in ``../shared``, repeated
under distinct URLs until there are N of them. Everything stays on this machine.

Run from the repository root::

    .venv/bin/python bench/throughput.py [--pages N] [--out results.json]

Progress goes to stderr; the result table to stdout (and as JSON with ``--out``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import trafilatura
from scrapy.settings import Settings

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, CrawlFailed, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.extraction.issue import extract_issue

#: The shared benchmark folder sits next to the repository, not inside it.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PAGES_DIR = SHARED / "benchmarks" / "article-extraction" / "html"

DEFAULT_PAGES = 1000
#: The crawl is one subprocess; a stuck crawl must end the benchmark rather than hang it.
CRAWL_TIMEOUT_SECONDS = 3600
#: Settings whose values decide crawl throughput; reported with every result.
CONCURRENCY_SETTINGS = (
    "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED",
)
CRAWL_SETTINGS: Mapping[str, str] = {**LOOPBACK_SETTINGS, "LOG_LEVEL": "INFO"}

_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """One line on stderr, so a long run shows which phase it is in without polluting stdout."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# Pages ---------------------------------------------------------------------------------------


def load_pages(folder: Path) -> list[str]:
    """The benchmark pages as text, in a fixed order so every run crawls the same sequence."""
    files = sorted(folder.glob("*.html.gz"))
    return [gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace") for path in files]


def repeat_to(pages: list[str], count: int) -> list[str]:
    """``count`` page texts, cycling through ``pages``."""
    return [pages[i % len(pages)] for i in range(count)]


def page_path(index: int) -> str:
    return f"/p/{index}.html"


def rss_feed(base_url: str, count: int) -> bytes:
    """An RSS 2.0 feed listing every page by absolute URL, the way a newsletter's feed would."""
    items = "".join(
        f"<item><title>Benchmark page {i}</title><link>{escape(base_url + page_path(i))}</link></item>\n"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>Throughput benchmark</title><link>{escape(base_url)}/</link>\n"
        f"<description>{count} pages served on the loopback interface</description>\n"
        f"{items}</channel></rss>\n"
    ).encode()


def site_builder(texts: list[str]) -> Callable[[str], dict[str, Page]]:
    """The site as a function of its base URL (only known once the server listens)."""

    def build(base_url: str) -> dict[str, Page]:
        pages = {page_path(i): Page(text.encode("utf-8")) for i, text in enumerate(texts)}
        pages["/feed.xml"] = Page(rss_feed(base_url, len(texts)), content_type="application/rss+xml")
        pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain")
        return pages

    return build


# Crawl ---------------------------------------------------------------------------------------


@dataclass
class CrawlResult:
    wall_seconds: float
    stored: int
    rejected: int
    rejection_reasons: dict[str, int]
    pages_requested: int
    reactor: str
    memusage_max_bytes: int | None  # Scrapy samples it every MEMUSAGE_CHECK_INTERVAL_SECONDS (60 s)
    spider_elapsed_seconds: float | None  # Scrapy's own open→close time, i.e. without process startup
    cpu_seconds: float  # user + system time of the crawl process
    errors: int  # ERROR lines in the crawl log: pages lost to a crash are neither stored nor rejected
    peak_rss_bytes: int  # the kernel's peak resident set size of the crawl process


def crawl_settings(passed: Mapping[str, str]) -> Settings:
    """The settings the crawl runs with, layered as ``scrapy crawl -s`` layers them.

    Scrapy's defaults, then ``tomtalks_scraper.settings``, then what we pass on the command line.
    """
    settings = Settings()
    settings.setmodule("tomtalks_scraper.settings", priority="project")
    settings.setdict(dict(passed), priority="cmdline")
    return settings


def effective_settings(passed: Mapping[str, str]) -> dict[str, str]:
    """The concurrency settings the crawl ran with: what we pass, else the project's defaults."""
    settings = crawl_settings(passed)
    return {name: str(settings.get(name)) for name in CONCURRENCY_SETTINGS}


def stat_value(log: str, name: str) -> str | None:
    """A value from Scrapy's final stats dump (``'name': value,``), if the log holds it."""
    match = re.search(rf"'{re.escape(name)}': ([^,}}\n]+)", log)
    return match.group(1).strip() if match else None


def reactor_from_log(log: str, passed: Mapping[str, str]) -> str:
    """The reactor the crawl used: its log line, else the ``TWISTED_REACTOR`` setting Scrapy installs.

    Scrapy 2.19 logs "Using reactor: …" at DEBUG only, so an INFO log does not hold it.
    """
    match = re.search(r"Using reactor: (\S+)", log)
    if match:
        return match.group(1)
    return f"{crawl_settings(passed).get('TWISTED_REACTOR')} (TWISTED_REACTOR; not in the INFO log)"


def archive_counts(database: Path) -> tuple[int, int, dict[str, int]]:
    """Stored issues, rejected pages, and rejections by reason, read back from the archive."""
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM issues").fetchone()[0]
        rejected = connection.execute("SELECT count(*) FROM rejected_pages").fetchone()[0]
        by_reason = "SELECT reason, count(*) FROM rejected_pages GROUP BY reason ORDER BY 2 DESC"
        reasons = dict(connection.execute(by_reason).fetchall())
    return stored, rejected, reasons


@contextmanager
def crawl_ticker(site: LocalSite, total: int, every: float = 10.0) -> Iterator[None]:
    """Report how many distinct pages the crawl has fetched while the blocking crawl runs."""
    done = threading.Event()

    def tick() -> None:
        while not done.wait(every):
            fetched = len(site.requests)  # distinct paths; len() is safe while the server adds keys
            progress(f"crawl: {fetched} of {total + 2} URLs fetched (pages, feed, robots.txt)")

    thread = threading.Thread(target=tick, name="crawl-ticker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def crawl(texts: list[str], workdir: Path) -> tuple[CrawlResult, str]:
    """Serve the pages, crawl them into a fresh archive; return the result and the site's base URL."""
    database = workdir / "throughput.db"
    with LocalSite(build=site_builder(texts)) as site:
        feed_url = site.url("/feed.xml")
        progress(f"crawl: {len(texts)} pages from {feed_url} into {database}")
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with crawl_ticker(site, len(texts)):
            result = run_crawl([feed_url], f"sqlite:///{database}", settings=CRAWL_SETTINGS,
                               timeout=CRAWL_TIMEOUT_SECONDS)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        base_url = site.base_url
        requested = sum(1 for path in list(site.requests) if path.startswith("/p/"))
    progress(f"crawl: finished in {wall:.1f}s")
    stored, rejected, reasons = archive_counts(database)
    memusage = stat_value(result.stderr, "memusage/max")
    elapsed = stat_value(result.stderr, "elapsed_time_seconds")
    return CrawlResult(
        wall_seconds=wall,
        stored=stored,
        rejected=rejected,
        rejection_reasons=reasons,
        pages_requested=requested,
        reactor=reactor_from_log(result.stderr, CRAWL_SETTINGS),
        memusage_max_bytes=int(memusage) if memusage else None,
        spider_elapsed_seconds=float(elapsed) if elapsed else None,
        errors=int(stat_value(result.stderr, "log_count/ERROR") or 0),
        cpu_seconds=(usage.ru_utime + usage.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime),
        peak_rss_bytes=usage.ru_maxrss * 1024,  # kilobytes on Linux; the crawl is our only child process
    ), base_url


# In-process extraction -----------------------------------------------------------------------


def time_each(label: str, texts: list[str], extract: Callable[[str, int], Any]) -> tuple[float, list[Any]]:
    """Seconds to run ``extract`` over every page, single-threaded, after one untimed warm-up call.

    The warm-up keeps one-off import and cache set-up out of the per-page rate.
    """
    progress(f"{label}: warm-up")
    extract(texts[0], 0)
    progress(f"{label}: {len(texts)} pages")
    outputs: list[Any] = []
    started = time.perf_counter()
    for index, text in enumerate(texts):
        outputs.append(extract(text, index))
    seconds = time.perf_counter() - started
    progress(f"{label}: {seconds:.1f}s ({len(texts) / seconds:.1f} pages/s)")
    return seconds, outputs


def bare_trafilatura(text: str, _index: int) -> str | None:
    return trafilatura.extract(text, with_metadata=True, include_comments=False)


def our_extraction(base_url: str, min_words: int) -> Callable[[str, int], bool]:
    """``extract_issue`` on the crawl's URLs; returns whether the page would pass the word minimum."""

    def extract(text: str, index: int) -> bool:
        return extract_issue(text, base_url + page_path(index)).word_count >= min_words

    return extract


# Report --------------------------------------------------------------------------------------


@dataclass
class Results:
    pages: int
    distinct_pages: int
    crawl_wall_seconds: float
    crawl_spider_seconds: float | None
    crawl_cpu_seconds: float
    crawl_pages_per_second_processed: float
    crawl_pages_per_second_listed: float
    stored_issues: int
    rejected_pages: int
    rejection_reasons: dict[str, int]
    pages_requested: int
    pages_lost: int
    crawl_log_errors: int
    in_process_below_min_words: int
    bare_trafilatura_seconds: float
    bare_trafilatura_pages_per_second: float
    extract_issue_seconds: float
    extract_issue_pages_per_second: float
    ratio_crawl_to_bare: float
    ratio_extract_issue_to_bare: float
    memusage_max_mb: float | None
    crawl_peak_rss_mb: float
    reactor: str
    settings: dict[str, str]
    versions: dict[str, str] = field(default_factory=dict)


def package_versions() -> dict[str, str]:
    """Versions the figures depend on, recorded with them."""
    packages = {name: version(name) for name in ("scrapy", "trafilatura", "lxml", "twisted")}
    return {"python": sys.version.split()[0], **packages}


def summarize(texts: list[str], distinct: int, result: CrawlResult, bare_seconds: float, ours_seconds: float,
              passing: list[bool]) -> Results:
    n = len(texts)
    listed_rate = n / result.wall_seconds
    bare_rate = n / bare_seconds
    ours_rate = n / ours_seconds
    memusage = result.memusage_max_bytes
    return Results(
        pages=n,
        distinct_pages=distinct,
        crawl_wall_seconds=round(result.wall_seconds, 2),
        crawl_spider_seconds=round(result.spider_elapsed_seconds, 2) if result.spider_elapsed_seconds else None,
        crawl_cpu_seconds=round(result.cpu_seconds, 2),
        crawl_pages_per_second_processed=round((result.stored + result.rejected) / result.wall_seconds, 2),
        crawl_pages_per_second_listed=round(listed_rate, 2),
        stored_issues=result.stored,
        rejected_pages=result.rejected,
        rejection_reasons=result.rejection_reasons,
        pages_requested=result.pages_requested,
        pages_lost=n - result.stored - result.rejected,
        crawl_log_errors=result.errors,
        in_process_below_min_words=passing.count(False),
        bare_trafilatura_seconds=round(bare_seconds, 2),
        bare_trafilatura_pages_per_second=round(bare_rate, 2),
        extract_issue_seconds=round(ours_seconds, 2),
        extract_issue_pages_per_second=round(ours_rate, 2),
        ratio_crawl_to_bare=round(listed_rate / bare_rate, 3),
        ratio_extract_issue_to_bare=round(ours_rate / bare_rate, 3),
        memusage_max_mb=round(memusage / 2**20, 1) if memusage else None,
        crawl_peak_rss_mb=round(result.peak_rss_bytes / 2**20, 1),
        reactor=result.reactor,
        settings=effective_settings(CRAWL_SETTINGS),
        versions=package_versions(),
    )


def table(results: Results) -> str:
    """The results as a Markdown table, so it can be pasted into docs/benchmarks.md as is."""
    r = results
    reasons = ", ".join(f"{reason} {count}" for reason, count in r.rejection_reasons.items()) or "none"
    spider = f"{r.crawl_spider_seconds:.1f} s" if r.crawl_spider_seconds is not None else "n/a"
    rows = [
        ("pages (distinct texts)", f"{r.pages} ({r.distinct_pages})"),
        ("crawl wall time", f"{r.crawl_wall_seconds:.1f} s (Scrapy open→close {spider})"),
        ("crawl process CPU time", f"{r.crawl_cpu_seconds:.1f} s"),
        ("crawl pages/s, stored + rejected", f"{r.crawl_pages_per_second_processed:.1f}"),
        ("crawl pages/s, listed in the feed", f"{r.crawl_pages_per_second_listed:.1f}"),
        ("stored issues / rejected pages", f"{r.stored_issues} / {r.rejected_pages} ({reasons})"),
        ("pages under MIN_ISSUE_WORDS in process", f"{r.in_process_below_min_words}"),
        ("pages neither stored nor rejected", f"{r.pages_lost} (ERROR lines in the crawl log: {r.crawl_log_errors})"),
        ("bare trafilatura.extract pages/s", f"{r.bare_trafilatura_pages_per_second:.1f}"),
        ("our extract_issue pages/s", f"{r.extract_issue_pages_per_second:.1f}"),
        ("ratio crawl / bare trafilatura", f"{r.ratio_crawl_to_bare:.2f}"),
        ("ratio extract_issue / bare trafilatura", f"{r.ratio_extract_issue_to_bare:.2f}"),
        ("crawl memusage/max (Scrapy stat)", f"{r.memusage_max_mb} MB" if r.memusage_max_mb is not None else "n/a"),
        ("crawl peak RSS (getrusage)", f"{r.crawl_peak_rss_mb} MB"),
        ("reactor", r.reactor),
        ("settings", ", ".join(f"{name}={value}" for name, value in r.settings.items())),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'metric':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


# Main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help="pages to crawl and extract (default 1000)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not PAGES_DIR.is_dir():
        print(f"benchmark pages not found: {PAGES_DIR} (the shared benchmarks folder must sit next to the "
              "repository)", file=sys.stderr)
        return 2
    pages = load_pages(PAGES_DIR)
    if not pages:
        print(f"no *.html.gz pages in {PAGES_DIR}", file=sys.stderr)
        return 2
    texts = repeat_to(pages, args.pages)
    progress(f"loaded {len(pages)} distinct pages, repeated to {len(texts)}")

    try:
        with tempfile.TemporaryDirectory(prefix="tomtalks-bench-") as workdir:
            result, base_url = crawl(texts, Path(workdir))
    except CrawlFailed as error:
        print(f"the benchmark crawl failed, no figures: {error}", file=sys.stderr)
        return 1
    min_words = crawl_settings(CRAWL_SETTINGS).getint("MIN_ISSUE_WORDS")
    bare_seconds, _ = time_each("bare trafilatura", texts, bare_trafilatura)
    ours_seconds, passing = time_each("extract_issue", texts, our_extraction(base_url, min_words))

    results = summarize(texts, min(len(pages), len(texts)), result, bare_seconds, ours_seconds, passing)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(asdict(results), indent=2) + "\n", encoding="utf-8")
        progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
