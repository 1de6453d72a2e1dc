"""End-to-end crawl throughput and memory against the cost of extraction alone, in one run.

Why: the crawl (Scrapy + the extraction pool + our pipelines + SQLite) should run as fast as the
machine allows, in flat memory. This script puts side by side, on the same pages:

1. real crawls (``run_crawl``, a ``scrapy crawl`` subprocess) of N pages served on 127.0.0.1 from an
   RSS feed, each into a fresh SQLite archive — by default N = 2,000, and 10,000 for the memory
   comparison (``--pages 2000,10000``);
2. bare ``trafilatura.extract`` over the first crawl's page texts, single-process;
3. our ``extract_issue`` (platform pre-clean, trafilatura, metadata, three renderings) likewise.

For each crawl it reports throughput, the memory of every process of the crawl (the crawl process,
its extraction workers, the fork server: peaks per process and the largest total at one moment,
RSS and PSS, sampled every half second from ``/proc``), CPU time per process kind, and the
crawl's own stats. It names the reactor, the concurrency settings and the machine's load
(``os.getloadavg``) before and after, since the machine may be shared.

The pages are the 92 real pages of the article-extraction benchmark in ``../shared``, repeated
under distinct URLs. Everything stays on this machine.

Run from the repository root::

    .venv/bin/python bench/throughput.py [--pages 2000,10000] [--set NAME=VALUE …] [--out results.json]

Progress goes to stderr; the result tables to stdout (and everything as JSON with ``--out``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
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

from pipelines.memory import descendants, pss_kb, status_kb
from tomtalks_scraper.crawl import CrawlFailed, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.extraction.issue import extract_issue

#: The shared benchmark folder sits next to the repository, not inside it.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PAGES_DIR = SHARED / "benchmarks" / "article-extraction" / "html"

DEFAULT_PAGES = (2000,)
#: The crawl is one subprocess; a stuck crawl must end the benchmark rather than hang it.
CRAWL_TIMEOUT_SECONDS = 3600
#: Loopback only: no politeness delay. The per-site concurrency stays the project's default (4):
#: on this machine it is enough to keep the extraction workers busy.
CRAWL_SETTINGS: Mapping[str, str] = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO"}
#: Settings that decide throughput and memory; reported with every result.
REPORTED_SETTINGS = (
    "TWISTED_REACTOR", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED", "CONCURRENT_ITEMS", "SCRAPER_SLOT_MAX_ACTIVE_SIZE", "EXTRACT_WORKERS",
    "EXTRACT_WORKER_NICENESS", "STORE_BATCH_SIZE", "STORE_BATCH_SECONDS", "DOWNLOADER",
)
#: Targets of the throughput issue, checked in the report.
TARGET_RATIO = 1.5
TARGET_TREE_MB = 400
TARGET_GROWTH = 1.15
SAMPLE_SECONDS = 0.5

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


# Settings ------------------------------------------------------------------------------------


def crawl_settings(passed: Mapping[str, str]) -> Settings:
    """The settings the crawl runs with, layered as ``scrapy crawl -s`` layers them.

    Scrapy's defaults, then ``tomtalks_scraper.settings``, then what we pass on the command line.
    """
    settings = Settings()
    settings.setmodule("tomtalks_scraper.settings", priority="project")
    settings.setdict(dict(passed), priority="cmdline")
    return settings


def effective_settings(passed: Mapping[str, str]) -> dict[str, str]:
    """The settings the crawl ran with, as named in ``REPORTED_SETTINGS``."""
    settings = crawl_settings(passed)
    values = {name: str(settings.get(name)) for name in REPORTED_SETTINGS}
    if values["EXTRACT_WORKERS"] in ("None", ""):
        values["EXTRACT_WORKERS"] = f"None (= os.cpu_count() = {os.cpu_count()})"
    return values


# Watching the crawl --------------------------------------------------------------------------


@dataclass
class TreeWatch:
    """Memory and CPU of the crawl's processes (every descendant of this process), sampled."""

    peak_rss_kb: int = 0  # largest total RSS at one moment
    peak_pss_kb: int = 0  # largest total PSS at one moment
    samples: int = 0
    processes: dict[int, dict[str, Any]] = field(default_factory=dict)  # pid → name, hwm_kb, cpu_s

    def sample(self) -> None:
        rss = pss = 0
        for pid in descendants(os.getpid()):
            status = status_kb(pid, "VmRSS", "VmHWM")
            if not status:
                continue
            rss += status.get("VmRSS", 0)
            pss += pss_kb(pid) or 0
            record = self.processes.setdefault(pid, {"kind": _kind(pid), "hwm_kb": 0, "cpu_s": 0.0})
            record["hwm_kb"] = max(record["hwm_kb"], status.get("VmHWM", 0))
            record["cpu_s"] = max(record["cpu_s"], _cpu_seconds(pid))
        self.samples += 1
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)

    def by_kind(self) -> dict[str, dict[str, float]]:
        """Per kind of process: how many, the sum and the max of their peaks, their CPU time."""
        kinds: dict[str, dict[str, float]] = {}
        for record in self.processes.values():
            kind = kinds.setdefault(record["kind"], {"count": 0, "peak_sum_mb": 0.0, "peak_max_mb": 0.0,
                                                     "cpu_s": 0.0})
            kind["count"] += 1
            kind["peak_sum_mb"] += record["hwm_kb"] / 1024
            kind["peak_max_mb"] = max(kind["peak_max_mb"], record["hwm_kb"] / 1024)
            kind["cpu_s"] += record["cpu_s"]
        return {name: {k: round(v, 1) for k, v in values.items()} for name, values in kinds.items()}


def _kind(pid: int) -> str:
    """What a descendant is: the crawl, an extraction worker, the fork server, the resource tracker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        parent = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return "gone"
    if "scrapy" in command:
        return "crawl"
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:
        return "fork server" if _kind_of_parent(parent) == "crawl" else "worker"
    return "other"


def _kind_of_parent(pid: int) -> str:
    try:
        return "crawl" if b"scrapy" in Path(f"/proc/{pid}/cmdline").read_bytes() else "other"
    except OSError:
        return "gone"


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


@contextmanager
def watching(site: LocalSite, total: int, watch: TreeWatch, every: float = 10.0) -> Iterator[None]:
    """Sample the crawl's processes while the blocking crawl runs; report progress now and then."""
    done = threading.Event()

    def run() -> None:
        last = time.monotonic()
        while not done.wait(SAMPLE_SECONDS):
            watch.sample()
            if time.monotonic() - last >= every:
                last = time.monotonic()
                progress(f"crawl: {len(site.requests)} of {total + 2} URLs fetched; processes "
                         f"{watch.peak_rss_kb // 1024} MB RSS at most so far")

    thread = threading.Thread(target=run, name="crawl-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# Crawl ---------------------------------------------------------------------------------------


@dataclass
class CrawlFigures:
    pages: int
    wall_seconds: float
    spider_seconds: float | None  # Scrapy's open→close time, i.e. without process start-up
    pages_per_second: float
    stored: int
    rejected: int
    rejection_reasons: dict[str, int]
    lost: int  # neither stored nor rejected
    log_errors: int
    reactor: str
    cpu_seconds_crawl_processes: float  # every process of the crawl, as last sampled (within half a second)
    cpu_seconds_server: float  # this process: the loopback server (and the sampling thread)
    tree_peak_rss_mb: float
    tree_peak_pss_mb: float
    processes: dict[str, dict[str, float]]
    crawl_stats: dict[str, str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def final_stats(log: str) -> dict[str, str]:
    """The crawl's final stats dump (``'name': value,`` lines)."""
    dump = log.split("Dumping Scrapy stats:")[-1]
    return {name: value.strip().strip("'") for name, value in re.findall(r"'([^']+)': ([^,\n}]+)", dump)}


def archive_counts(database: Path) -> tuple[int, int, dict[str, int]]:
    """Stored issues, rejected pages, and rejections by reason, read back from the archive."""
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM issues").fetchone()[0]
        rejected = connection.execute("SELECT count(*) FROM rejected_pages").fetchone()[0]
        by_reason = "SELECT reason, count(*) FROM rejected_pages GROUP BY reason ORDER BY 2 DESC"
        reasons = dict(connection.execute(by_reason).fetchall())
    return stored, rejected, reasons


def crawl(texts: list[str], workdir: Path, settings: Mapping[str, str]) -> CrawlFigures:
    """Serve the pages, crawl them into a fresh archive, and measure."""
    database = workdir / f"throughput-{len(texts)}.db"
    watch = TreeWatch()
    with LocalSite(build=site_builder(texts)) as site:
        feed_url = site.url("/feed.xml")
        progress(f"crawl: {len(texts)} pages from {feed_url} into {database}")
        load_before = os.getloadavg()
        self_before = os.times()
        started = time.perf_counter()
        with watching(site, len(texts), watch):
            result = run_crawl([feed_url], f"sqlite:///{database}", settings=settings, timeout=CRAWL_TIMEOUT_SECONDS)
        wall = time.perf_counter() - started
        self_after = os.times()
        load_after = os.getloadavg()
    progress(f"crawl: finished in {wall:.1f}s")
    stored, rejected, reasons = archive_counts(database)
    stats = final_stats(result.stderr)
    elapsed = stats.get("elapsed_time_seconds")
    return CrawlFigures(
        pages=len(texts),
        wall_seconds=round(wall, 2),
        spider_seconds=round(float(elapsed), 2) if elapsed else None,
        pages_per_second=round(len(texts) / wall, 2),
        stored=stored,
        rejected=rejected,
        rejection_reasons=reasons,
        lost=len(texts) - stored - rejected,
        log_errors=int(stats.get("log_count/ERROR", 0)),
        reactor=stats.get("tomtalks/reactor") or str(crawl_settings(settings).get("TWISTED_REACTOR")),
        cpu_seconds_crawl_processes=round(sum(kind["cpu_s"] for kind in watch.by_kind().values()), 1),
        cpu_seconds_server=round((self_after.user + self_after.system) - (self_before.user + self_before.system), 1),
        tree_peak_rss_mb=round(watch.peak_rss_kb / 1024, 1),
        tree_peak_pss_mb=round(watch.peak_pss_kb / 1024, 1),
        processes=watch.by_kind(),
        crawl_stats={k: v for k, v in stats.items() if k.startswith(("tomtalks/memory", "tomtalks/extract",
                                                                     "tomtalks/store", "memusage/max"))},
        load_before=tuple(round(x, 2) for x in load_before),
        load_after=tuple(round(x, 2) for x in load_after),
    )


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


def our_extraction(min_words: int) -> Callable[[str, int], bool]:
    """``extract_issue`` on the crawl's URLs; returns whether the page would pass the word minimum."""

    def extract(text: str, index: int) -> bool:
        return extract_issue(text, "http://127.0.0.1:8000" + page_path(index)).word_count >= min_words

    return extract


# Report --------------------------------------------------------------------------------------


@dataclass
class Results:
    distinct_pages: int
    crawls: list[CrawlFigures]
    bare_trafilatura_pages_per_second: float
    extract_issue_pages_per_second: float
    ratio_crawl_to_bare: float
    targets: dict[str, str]
    settings: dict[str, str]
    cpus: int | None
    versions: dict[str, str] = field(default_factory=dict)


def package_versions() -> dict[str, str]:
    """Versions the figures depend on, recorded with them."""
    packages = {name: version(name) for name in ("scrapy", "trafilatura", "lxml", "twisted", "sqlalchemy")}
    return {"python": sys.version.split()[0], **packages}


def check_targets(crawls: list[CrawlFigures], ratio: float) -> dict[str, str]:
    """The issue's targets, each with the measured value and whether it is met."""
    targets = {"crawl / bare trafilatura ≥ 1.5": f"{ratio:.2f} {'met' if ratio >= TARGET_RATIO else 'NOT met'}"}
    for figures in crawls:
        if figures.pages >= 10_000:
            total = figures.tree_peak_rss_mb
            targets[f"all processes ≤ {TARGET_TREE_MB} MB at {figures.pages} pages (peak total RSS)"] = (
                f"{total:.0f} MB {'met' if total <= TARGET_TREE_MB else 'NOT met'} "
                f"(PSS {figures.tree_peak_pss_mb:.0f} MB)")
            base = next((c for c in crawls if c.pages < figures.pages), None)
            if base is not None:
                growth = total / base.tree_peak_rss_mb
                targets[f"growth {base.pages} → {figures.pages} pages ≤ 15 %"] = (
                    f"{(growth - 1) * 100:+.1f} % {'met' if growth <= TARGET_GROWTH else 'NOT met'}")
    return targets


def tables(results: Results) -> str:
    """The results as Markdown tables, so they can be pasted into docs/benchmarks.md as they are."""
    columns = [f"{c.pages} pages" for c in results.crawls]
    rows: list[tuple[str, list[str]]] = []

    def row(name: str, value: Callable[[CrawlFigures], str]) -> None:
        rows.append((name, [value(c) for c in results.crawls]))

    row("crawl wall time", lambda c: f"{c.wall_seconds:.1f} s (spider {c.spider_seconds or 0:.1f} s)")
    row("pages/s (listed in the feed / wall time)", lambda c: f"{c.pages_per_second:.1f}")
    row("stored / rejected / lost", lambda c: f"{c.stored} / {c.rejected} / {c.lost}")
    row("ERROR lines in the crawl log", lambda c: str(c.log_errors))
    row("CPU: all crawl processes / loopback server", lambda c: f"{c.cpu_seconds_crawl_processes:.0f} s / "
                                                                f"{c.cpu_seconds_server:.0f} s")
    for kind in ("crawl", "worker", "fork server", "resource tracker"):
        row(f"{kind}: count, peak RSS (max / sum), CPU",
            lambda c, kind=kind: _kind_cell(c.processes.get(kind)))
    row("all processes: peak total RSS / PSS", lambda c: f"{c.tree_peak_rss_mb:.0f} MB / {c.tree_peak_pss_mb:.0f} MB")
    row("crawl stats tomtalks/memory/* (MB)", lambda c: ", ".join(
        f"{k.removeprefix('tomtalks/memory/')} {v}" for k, v in c.crawl_stats.items() if "memory" in k))
    row("store batches / largest", lambda c: f"{c.crawl_stats.get('tomtalks/store/batches')} / "
                                             f"{c.crawl_stats.get('tomtalks/store/largest_batch')}")
    row("load average before → after", lambda c: f"{c.load_before[0]:.2f} → {c.load_after[0]:.2f}")
    row("reactor", lambda c: c.reactor)
    lines = [f"| metric | {' | '.join(columns)} |", f"|---|{'---|' * len(columns)}"]
    lines += [f"| {name} | {' | '.join(values)} |" for name, values in rows]
    lines += ["", "| single process, same pages as the first crawl | pages/s |", "|---|---|",
              f"| bare `trafilatura.extract` | {results.bare_trafilatura_pages_per_second:.1f} |",
              f"| our `extract_issue` | {results.extract_issue_pages_per_second:.1f} |",
              "", "| target | measured |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in results.targets.items()]
    lines += ["", "Settings: " + ", ".join(f"`{k}={v}`" for k, v in results.settings.items()),
              f"CPUs: {results.cpus}; " + ", ".join(f"{k} {v}" for k, v in results.versions.items())]
    return "\n".join(lines)


def _kind_cell(kind: dict[str, float] | None) -> str:
    if not kind:
        return "–"
    return (f"{kind['count']:.0f}, {kind['peak_max_mb']:.0f} / {kind['peak_sum_mb']:.0f} MB, "
            f"{kind['cpu_s']:.0f} s")


# Main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default=",".join(map(str, DEFAULT_PAGES)),
                        help="pages per crawl, comma-separated (default 2000); the first sets the extraction "
                             "comparison, a crawl of 10000 or more is checked against the memory targets")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for the crawls (repeatable), e.g. --set EXTRACT_WORKERS=0")
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    try:
        args.pages = [int(n) for n in args.pages.split(",")]
    except ValueError:
        parser.error("--pages takes numbers separated by commas")
    if min(args.pages) < 1:
        parser.error("--pages must be at least 1")
    if any("=" not in item for item in args.set):
        parser.error("--set takes NAME=VALUE")
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
    settings = {**CRAWL_SETTINGS, **dict(item.split("=", 1) for item in args.set)}
    extract_issue(pages[0], "http://127.0.0.1:8000/p/0.html")  # every adapter imported now, not after the crawls
    progress(f"loaded {len(pages)} distinct pages; crawls of {', '.join(map(str, args.pages))} pages; "
             f"load average {os.getloadavg()[0]:.2f}")
    crawls: list[CrawlFigures] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tomtalks-bench-") as workdir:
            for count in args.pages:
                crawls.append(crawl(repeat_to(pages, count), Path(workdir), settings))
                progress(f"crawl figures: {json.dumps(asdict(crawls[-1]))}")  # kept even if a later step fails
    except CrawlFailed as error:
        print(f"the benchmark crawl failed, no figures: {error}", file=sys.stderr)
        return 1
    texts = repeat_to(pages, args.pages[0])
    bare_seconds, _ = time_each("bare trafilatura", texts, bare_trafilatura)
    min_words = crawl_settings(settings).getint("MIN_ISSUE_WORDS")
    ours_seconds, _ = time_each("extract_issue", texts, our_extraction(min_words))
    bare_rate = len(texts) / bare_seconds
    ratio = crawls[0].pages_per_second / bare_rate
    results = Results(
        distinct_pages=len(pages),
        crawls=crawls,
        bare_trafilatura_pages_per_second=round(bare_rate, 2),
        extract_issue_pages_per_second=round(len(texts) / ours_seconds, 2),
        ratio_crawl_to_bare=round(ratio, 3),
        targets=check_targets(crawls, ratio),
        settings=effective_settings(settings),
        cpus=os.cpu_count(),
        versions=package_versions(),
    )
    print(tables(results))
    if args.out:
        args.out.write_text(json.dumps(asdict(results), indent=2) + "\n", encoding="utf-8")
        progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
