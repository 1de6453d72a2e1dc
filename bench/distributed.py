"""Distributed crawl benchmark: pages/s with 1 and 2 workers, and the per-host rate the server saw.

A 500-issue local site (``EditableNewsletter``, sitemap listing) on 127.0.0.1, a private ``redis-server``
(or ``--redis URL``), a fresh SQLite archive per run. For each worker count: the frontier is emptied,
N ``scrapy crawl newsletter -s DISTRIBUTED=1`` workers start, the sitemap is seeded, and the archive is
polled until every issue is stored. Figures: crawl time (seed → last issue stored), issues/s, the most
requests the server saw in any one second, and the smallest gap between two requests.

    .venv/bin/python bench/distributed.py [--issues 500] [--workers 1,2] [--host-delay 0] [--redis URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS  # noqa: E402
from tomtalks_scraper.demo_site.editable import EditableNewsletter  # noqa: E402
from tomtalks_scraper.demo_site.server import LocalSite  # noqa: E402
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


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM issues").fetchone()[0]
    except sqlite3.Error:
        return 0


def run(workers: int, issues: int, redis: str, host_delay: float, folder: Path) -> dict[str, float]:
    server = connect(redis)
    server.flushdb()
    db = folder / f"archive-{workers}.db"
    settings = {**LOOPBACK_SETTINGS, "DISTRIBUTED_HOST_DELAY": str(host_delay), "DISTRIBUTED_IDLE_EXIT": "2"}
    newsletter = EditableNewsletter(issues)
    with LocalSite(build=newsletter.build) as site:
        processes = [start_worker(f"sqlite:///{db}", redis, folder / f"worker-{workers}-{i}.log", settings, REPO)
                     for i in range(workers)]
        time.sleep(3)  # workers started (imports, database migrations) before the clock starts
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        seed(server, [site.url(newsletter.start_path)])
        while stored(db) < issues and all(p.poll() is None for p in processes):
            time.sleep(0.1)
        took = time.monotonic() - began
        for process in processes:
            process.wait(timeout=120)
        issue_times = [t for t, path in site.log if path.startswith("/issues/") or "issue-" in path]
        fetched = max(site.requests.values())
    return {"workers": workers, "seconds": round(took, 2), "issues_stored": stored(db),
            "issues_per_s": round(stored(db) / took, 1), "max_fetches_of_a_page": fetched,
            "max_requests_in_1s": max_rate([t for t, _ in site.log]),
            "min_gap_ms": round(1000 * min(b - a for a, b in zip(sorted(issue_times), sorted(issue_times)[1:],
                                                                  strict=False)), 1),
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--host-delay", type=float, default=0.0, help="DISTRIBUTED_HOST_DELAY (0: no shared limit)")
    parser.add_argument("--redis", help="an existing Redis (default: a private redis-server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        started = None if args.redis else private_redis(folder)
        redis = args.redis or started[1]
        try:
            rows = [run(int(n), args.issues, redis, args.host_delay, folder) for n in args.workers.split(",")]
        finally:
            if started:
                started[0].terminate()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
