"""CPU cost of the crawl's store step alone: milliseconds of CPU per stored page, overall and per step.

Why: in a crawl, the crawl process's writer thread (``pipelines/batching.py`` → ``CrawlRecorder.run_batch``)
stores every extracted page — issue row, links, gzip of the raw page, identity and aliases, copy evidence,
near-duplicate grouping, crawl state — and competes for the 2 cores with the extraction workers. Its cost
is hard to see inside ``bench/throughput.py`` (a whole crawl, noisy, shared machine); here it runs alone,
on exactly what a crawl hands it, so a change to the store can be measured in seconds.

What it does:

1. extracts the 92 pages of the article-extraction benchmark in ``../shared`` once (``extract_issue``,
   then the validate stage, as a crawl does), and computes each stored page's ``storage.page_checks``
   for its own URL from the extraction before validation, as ``pipelines/worker.py`` ``_page_checks``
   does (extracted values do not depend on the URL, the page checks do);
2. stores N of them (cycling through the pages) under distinct URLs ``http://127.0.0.1:1/p/<i>.html``
   into a fresh SQLite file, through ``CrawlRecorder.run_batch`` in batches of 20 (``--batch``) built with
   ``pipelines.store`` (``save_issue``, ``issue_values``, ``check_values``), as the crawl's writer thread does;
3. reports ``time.process_time`` per stored page, overall and per step (inclusive timers around the
   functions named below, so the steps overlap: ``index_issue`` is inside ``after_upsert``, which is
   inside ``upsert_issue``).

By default all pages belong to one newsletter, as in the throughput benchmark's RSS crawl: each of the
92 pages then has ~21 identical copies in the newsletter — the worst case of the duplicate grouping
(every page joins a work; its paragraphs become the newsletter's boilerplate). ``--newsletter-per-page``
gives each stored page its own newsletter: no paragraph becomes boilerplate, so every page is a cross-post
of ~21 others and joins their work (the grouping's other worst case). ``--no-copies`` stores each distinct
page at most once per archive (a fresh archive for every 91 pages): no duplicates at all, the store's floor.

Run from the repository root::

    .venv/bin/python bench/store.py [--pages 2000] [--newsletter-per-page] [--no-copies] [--batch 20]
                                    [--keep FILE] [--profile N]
    .venv/bin/python bench/store.py --compare A.sqlite B.sqlite   # same content? (times ignored)

``--keep`` keeps the archive (to compare two versions of the code with ``--compare``: every table,
row by row, leaving out the columns that hold times, ``*_at``). ``--profile N`` prints cProfile's N
most expensive functions (cumulative) of the store phase instead of the step timers.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.throughput import PAGES_DIR, load_pages, page_path  # noqa: E402
from pipelines.rejection import Rejected  # noqa: E402
from pipelines.store import check_values, issue_values  # noqa: E402
from pipelines.validate import ValidatePipeline  # noqa: E402
from storage.page_checks import page_checks  # noqa: E402
from storage.recorder import CrawlRecorder, save_issue  # noqa: E402
from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue  # noqa: E402
from tomtalks_scraper.items import DiscoveryHints, IssuePage  # noqa: E402

BASE_URL = "http://127.0.0.1:1"
#: What the throughput benchmark's RSS feed names the newsletter (its <title> and <link>).
NEWSLETTER, NEWSLETTER_URL = "Throughput benchmark", BASE_URL + "/"
BATCH = 20  # the crawl's STORE_BATCH_SIZE
Writes = list[Callable[..., Any]]
MIN_WORDS = 40  # the crawl's MIN_ISSUE_WORDS
#: Timed steps: (label, module, function name). Inclusive; the outermost call of a recursive one counts.
STEPS = (
    ("upsert_issue (all of the issue's store)", "storage.recorder", "upsert_issue"),
    ("  find_issue (the stored row, if any)", "storage.writes", "find_issue"),
    ("  insert_or_get (issue and newsletter rows)", "storage.writes", "insert_or_get"),
    ("  gzip of the raw page", "storage.writes", "compress_html"),
    ("  _insert_links (a new issue's links)", "storage.writes", "_insert_links"),
    ("  after_upsert (identity, aliases, copies)", "storage.writes.works", "after_upsert"),
    ("    index_issue (fingerprints, grouping)", "storage.works", "index_issue"),
    ("      _recheck_holders (boilerplate regroup)", "storage.works", "_recheck_holders"),
    ("record_check (crawl state)", "storage.recorder.crawl_state", "record_check"),
    ("commit", "sqlalchemy.orm.session.SessionTransaction", "commit"),
)


def extracted_pages(texts: list[str]) -> list[IssuePage | None]:
    """Each distinct page extracted and validated once, as the crawl's extract and validate stages do
    (None: the crawl rejects it). Extracted under the URL of its first copy; only ``url`` would differ."""
    validate = ValidatePipeline(MIN_WORDS)
    items: list[IssuePage | None] = []
    for index, text in enumerate(texts):
        url = BASE_URL + page_path(index)
        item = IssuePage(url=url, final_url=url, status=200, html=text, content_type="text/html",
                         newsletter=NEWSLETTER, newsletter_url=NEWSLETTER_URL, hints=DiscoveryHints(source="feed"),
                         source=BASE_URL + "/feed.xml")
        try:
            issue = item.extracted = extract_issue(text, url, hints=item.hints)
            # What the worker computes the page checks from: the extraction, before validation disarms it.
            item.copy_checks = {"canonical_url": issue.canonical_url, "platform": issue.platform,
                                "author": issue.author, "body_text": issue.body_text,
                                "links": [link.url for link in issue.links]}
            items.append(validate.process_item(item))
        except (ExtractionError, Rejected):
            items.append(None)
    return items


def writes_for(items: list[IssuePage | None], count: int, newsletter_per_page: bool) -> Writes:
    """The writer thread's writes for ``count`` pages, as ``StorePipeline.process_item`` builds them."""
    from tomtalks_scraper.page_text import text_hash as page_hash

    writes = []
    for index in range(count):
        item = items[index % len(items)]
        if item is None:
            continue
        url = BASE_URL + page_path(index)
        issue = item.extracted
        checks = page_checks(item.html, url, **item.copy_checks)  # as pipelines/worker.py ``_page_checks``
        item.page_hash = page_hash(item.html)
        newsletter, home = (f"Newsletter {index}", f"http://n{index}.example/") if newsletter_per_page else (
            NEWSLETTER, NEWSLETTER_URL)
        writes.append(partial(save_issue, url=url, newsletter=newsletter, newsletter_url=home, raw_html=item.html,
                              values=issue_values(item), links=[(link.url, link.text) for link in issue.links],
                              check=check_values(item), checks=checks))
    return writes


class StepTimers:
    """Inclusive CPU time of the functions in ``STEPS``, patched in place for the store phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._patched: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> StepTimers:
        import importlib

        for label, module_name, name in STEPS:
            owner = _resolve(importlib, module_name)
            original = getattr(owner, name, None)
            if original is None:
                continue
            setattr(owner, name, self._timed(label, original))
            self._patched.append((owner, name, original))
        return self

    def __exit__(self, *_: Any) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)

    def _timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        depth = [0]

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return function(*args, **kwargs)
            depth[0] += 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.process_time() - started
                self.calls[label] += 1
                depth[0] -= 1

        return timed


def _resolve(importlib: Any, dotted: str) -> Any:
    """A module, or an attribute of one (``storage.writes.works``: the ``works`` module ``writes`` calls)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            owner = getattr(owner, attribute)
        return owner
    raise ImportError(dotted)


def store(archives: list[tuple[Path, Writes]], profile: int,
          batch: int = BATCH) -> tuple[float, float, StepTimers | None]:
    """Store each archive's writes through ``run_batch`` in batches of ``batch`` (opening the archive, which
    creates its schema, is not counted); (CPU seconds, wall seconds, step timers)."""
    profiler = cProfile.Profile() if profile else None
    timers = None if profile else StepTimers()
    cpu = wall = 0.0
    for database, writes in archives:
        recorder = CrawlRecorder.open(f"sqlite:///{database}")
        try:
            with timers or _nothing():
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                for start in range(0, len(writes), batch):
                    for result in recorder.run_batch(writes[start:start + batch]):
                        if isinstance(result, Exception):
                            raise result
                if profiler:
                    profiler.disable()
                cpu += time.process_time() - started_cpu
                wall += time.perf_counter() - started_wall
        finally:
            recorder.close()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    return cpu, wall, timers


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: Any) -> None:
        return None


def table_rows(database: Path) -> Iterator[tuple[str, list[tuple]]]:
    """Every table's rows in a stable order, without the columns that hold times (``*_at``)."""
    with sqlite3.connect(database) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                              "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for name in names:
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{name}")') if not row[1].endswith("_at")]
            quoted = ", ".join(f'"{c}"' for c in columns)
            yield name, db.execute(f'SELECT {quoted} FROM "{name}" ORDER BY {quoted}').fetchall()


def compare(first: Path, second: Path) -> int:
    """0 when both archives hold the same rows (times left out), else 1, naming the tables that differ."""
    a, b = dict(table_rows(first)), dict(table_rows(second))
    differ = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
    for name in differ:
        only_a = set(a.get(name, [])) - set(b.get(name, []))
        only_b = set(b.get(name, [])) - set(a.get(name, []))
        print(f"{name}: {len(a.get(name, []))} vs {len(b.get(name, []))} rows; {len(only_a)} only in the first, "
              f"{len(only_b)} only in the second; e.g. {sorted(only_a)[:1]!r:.300} / {sorted(only_b)[:1]!r:.300}")
    print(f"{len(a)} tables, {sum(map(len, a.values()))} rows: "
          + ("identical" if not differ else f"{len(differ)} differ"))
    return 1 if differ else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages to store (default 2000)")
    parser.add_argument("--newsletter-per-page", action="store_true",
                        help="every page in a newsletter of its own (no duplicate worst case)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"writes per transaction (default {BATCH}, "
                        "the crawl's STORE_BATCH_SIZE)")
    parser.add_argument("--no-copies", action="store_true",
                        help="no page stored twice in one archive (the distinct pages, once per fresh archive)")
    parser.add_argument("--keep", type=Path, help="write the archive here (kept) instead of a temporary file")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions")
    parser.add_argument("--compare", type=Path, nargs=2, metavar="ARCHIVE", help="compare two kept archives")
    args = parser.parse_args(argv)
    if args.keep and args.no_copies:
        parser.error("--keep keeps one archive; --no-copies writes several")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not PAGES_DIR.is_dir():
        print(f"benchmark pages not found: {PAGES_DIR} (the shared benchmarks folder must sit next to the "
              "repository)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    items = extracted_pages(load_pages(PAGES_DIR))
    writes = writes_for(items, args.pages, args.newsletter_per_page)
    print(f"{sum(i is not None for i in items)} of {len(items)} pages pass validation; {len(writes)} writes "
          f"prepared in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tomtalks-store-") as workdir:
        if args.no_copies:  # each distinct page once per archive (writes cycle through them): as many as it takes
            distinct = sum(item is not None for item in items)
            archives = [(Path(workdir) / f"archive-{start}.sqlite", writes[start:start + distinct])
                        for start in range(0, len(writes), distinct)]
        else:
            archives = [(args.keep or Path(workdir) / "archive.sqlite", writes)]
            archives[0][0].unlink(missing_ok=True)
        cpu, wall, timers = store(archives, args.profile, args.batch)
    pages = len(writes)
    variant = ("a newsletter per page" if args.newsletter_per_page else "one newsletter") + (
        f", no copies: {len(archives)} archives" if args.no_copies else "")
    print(f"stored {pages} pages ({variant}) in batches of {args.batch}: {cpu * 1000 / pages:.2f} ms CPU per page "
          f"({cpu:.2f} s CPU, {wall:.2f} s wall); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if timers is not None:
        for label, *_ in STEPS:
            if label in timers.calls:
                print(f"  {label:<48} {timers.seconds[label] * 1000 / pages:7.2f} ms/page "
                      f"({timers.calls[label]} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
