"""Distributed crawl benchmark: pages/s with 1 and 2 workers, and the per-host rate the server saw.

A 500-issue local site on 127.0.0.1 — ``EditableNewsletter`` (short generated issues, sitemap listing), or
with ``--pages real`` the 92 real pages of the article-extraction benchmark repeated under distinct URLs
behind a feed, as in ``bench/throughput.py`` — a private ``redis-server`` (or ``--redis URL``), a fresh
SQLite archive per run. For each worker count: the frontier is emptied,
N ``scrapy crawl newsletter -s DISTRIBUTED=1`` workers start, the sitemap is seeded, and the archive is
polled until every issue is stored. Figures: crawl time (seed → last issue stored), issues/s, the most
requests the server saw in any one second, the smallest gap between two requests, and the archive's size
per stored issue (SQLite file after the crawl).

    .venv/bin/python bench/distributed.py [--issues 500] [--workers 1,2] [--host-delay 0] [--pages real]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.throughput import PAGES_DIR, load_pages, repeat_to, site_builder  # noqa: E402
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS  # noqa: E402
from tomtalks_scraper.demo_site.editable import EditableNewsletter  # noqa: E402
from tomtalks_scraper.demo_site.server import LocalSite, Page  # noqa: E402
from tomtalks_scraper.distributed.addon import connect  # noqa: E402
from tomtalks_scraper.distributed.run import max_rate, start_worker  # noqa: E402
from tomtalks_scraper.distributed.seed import seed  # noqa: E402


def private_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                              stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            connect(url).close()
            return server, url
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def stored(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM issues")).scalar_one()
    except SQLAlchemyError:
        return 0  # the first worker has not created the schema yet
    finally:
        engine.dispose()


def size_bytes(database_url: str) -> int:
    """The archive's size: the SQLite file, or PostgreSQL's ``pg_database_size``."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).stat().st_size
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        engine.dispose()


def site_for(issues: int, pages: str) -> tuple[Callable[[str], dict[str, Page]], str]:
    """The site's builder and start path."""
    if pages == "real":
        if not PAGES_DIR.is_dir():
            raise SystemExit(f"--pages real needs the benchmark pages in {PAGES_DIR}")
        return site_builder(repeat_to(load_pages(PAGES_DIR), issues)), "/feed.xml"
    newsletter = EditableNewsletter(issues)
    return newsletter.build, newsletter.start_path


def run(workers: int, issues: int, redis: str, host_delay: float, folder: Path, pages: str,
        database: str | None) -> dict[str, float]:
    server = connect(redis)
    server.flushdb()
    db = database or f"sqlite:///{folder / f'archive-{workers}.db'}"
    settings = {**LOOPBACK_SETTINGS, "DISTRIBUTED_HOST_DELAY": str(host_delay), "DISTRIBUTED_IDLE_EXIT": "2"}
    build, start_path = site_for(issues, pages)
    with LocalSite(build=build) as site:
        processes = [start_worker(db, redis, folder / f"worker-{workers}-{i}.log", settings, REPO)
                     for i in range(workers)]
        time.sleep(3)  # workers started (imports, database migrations) before the clock starts
        load_before = os.getloadavg()[0]
        empty = size_bytes(db) if database else 0  # PostgreSQL: the empty schema's size is not the issues'
        began = time.monotonic()
        seed(server, [site.url(start_path)])
        count, last_change = 0, began
        while any(p.poll() is None for p in processes):  # workers exit DISTRIBUTED_IDLE_EXIT after the end
            if (now := stored(db)) != count:
                count, last_change = now, time.monotonic()
            time.sleep(0.1)
        took = last_change - began  # seed → last issue stored
        issue_times = [t for t, path in site.log if path.startswith(("/issues/", "/p/"))]
        # issue pages only: robots.txt and the listing are fetched by each worker, as they should be
        fetched = max((n for path, n in site.requests.items() if path.startswith(("/issues/", "/p/"))), default=0)
    return {"workers": workers, "seconds": round(took, 2), "issues_stored": stored(db),
            "issues_per_s": round(stored(db) / took, 1), "max_fetches_of_a_page": fetched,
            "max_requests_in_1s": max_rate([t for t, _ in site.log]),
            "min_gap_ms": round(1000 * min(b - a for a, b in zip(sorted(issue_times), sorted(issue_times)[1:],
                                                                  strict=False)), 1),
            "kb_per_issue": round((size_bytes(db) - empty) / 1024 / max(1, stored(db)), 1),
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--host-delay", type=float, default=0.0, help="DISTRIBUTED_HOST_DELAY (0: no shared limit)")
    parser.add_argument("--redis", help="an existing Redis (default: a private redis-server)")
    parser.add_argument("--pages", choices=("generated", "real"), default="generated")
    parser.add_argument("--database", help="an empty archive to crawl into, e.g. PostgreSQL (one worker count only)")
    args = parser.parse_args()
    if args.database and "," in args.workers:
        parser.error("--database takes one run: give one worker count (--workers 2)")
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        started = None if args.redis else private_redis(folder)
        redis = args.redis or started[1]
        try:
            rows = [run(int(n), args.issues, redis, args.host_delay, folder, args.pages, args.database)
                    for n in args.workers.split(",")]
        finally:
            if started:
                started[0].terminate()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
