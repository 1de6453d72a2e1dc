"""Recrawl benchmark: what a cron run costs when nothing changed, and after a few edits and additions.

    .venv/bin/python bench/recrawl.py [--issues 1000] [--out FILE]

A local site of N issues (sitemap with ``lastmod``, ETag/Last-Modified on pages) is crawled three
times with ``tomtalks crawl``, the command cron runs:

1. cold: every issue is new;
2. nothing changed: targets ≤ 5% of run 1's wall time, and nothing extracted (no issue fetched);
3. after 10 issues are edited and 5 added: exactly 10 revisions and 5 new issues, and no more fetches
   than the changed and new pages plus the listings.

Each run's wall time is split into the crawl itself (Scrapy's ``elapsed_time_seconds``, spider opened →
closed, read from the run's log) and everything around it (interpreter start, imports, crawler set-up,
the run record and report); CPU seconds (the command and every process it started) and the 1-minute
load average at the start of the run are given too: on a shared machine wall time alone misleads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tomtalks_scraper.demo_site.editable import EditableNewsletter  # noqa: E402
from tomtalks_scraper.demo_site.server import LocalSite  # noqa: E402

LOOPBACK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(workdir: Path, label: str) -> dict:
    """One ``tomtalks crawl --json`` run: its per-source figures and where its time went."""
    log = workdir / "logs" / f"{label}.log"
    load = float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else None
    cpu, started = _cpu_of_children(), time.perf_counter()
    command = [sys.executable, "-m", "tomtalks_scraper.cli", "crawl", "--json", "--log-file", str(log), *LOOPBACK]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False, env=os.environ.copy())
    seconds, cpu = time.perf_counter() - started, _cpu_of_children() - cpu
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}):\n{result.stderr[-2000:]}")
    elapsed = re.search(r"'elapsed_time_seconds': ([0-9.]+)", log.read_text(encoding="utf-8"))
    crawl_seconds = float(elapsed.group(1)) if elapsed else float("nan")
    return {"seconds": round(seconds, 2), "crawl_seconds": round(crawl_seconds, 2),
            "around_seconds": round(seconds - crawl_seconds, 2), "cpu_seconds": round(cpu, 2), "load": load,
            **json.loads(result.stdout)["sources"][0]}


def fetches(site: LocalSite) -> tuple[int, int]:
    issues = sum(c for p, c in site.requests.items() if p.startswith("/issues/"))
    return issues, sum(site.requests.values()) - issues


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    letter = EditableNewsletter(args.issues)
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, LocalSite(build=letter.build) as site:
        workdir = Path(tmp)
        (workdir / "newsletters.toml").write_text(
            f'[[newsletter]]\nname = "Ledger"\nurls = ["{site.url(letter.start_path)}"]\n', encoding="utf-8")
        for label in ("cold", "unchanged", "edited"):
            if label == "edited":
                for number in range(1, 11):
                    letter.edit(f"issue-{number * max(1, min(7, args.issues // 10)):04d}")  # 7, 14, … 70
                for number in range(args.issues + 1, args.issues + 6):
                    letter.add(number)
                site.rebuild()
            site.requests.clear()
            print(f"run {label} …", file=sys.stderr)
            run = crawl(workdir, label)
            issue_fetches, other_fetches = fetches(site)
            figures[label] = {"issue_fetches": issue_fetches, "listing_fetches": other_fetches, **{k: run[k] for k in
                              ("seconds", "crawl_seconds", "around_seconds", "cpu_seconds", "load", "listed", "new",
                               "changed", "unchanged", "skipped", "failed")}}
        with sqlite3.connect(workdir / "data" / "newsletters.db") as db:
            figures["edited"]["revisions"] = db.execute("SELECT count(*) FROM issue_revisions").fetchone()[0]
            figures["edited"]["issues"] = db.execute("SELECT count(*) FROM issues").fetchone()[0]
    ratio = figures["unchanged"]["seconds"] / figures["cold"]["seconds"]
    cpu_ratio = figures["unchanged"]["cpu_seconds"] / figures["cold"]["cpu_seconds"]
    checks = {
        "unchanged run ≤ 5% of cold run": ratio <= 0.05,
        "unchanged run extracts nothing": figures["unchanged"]["issue_fetches"] == 0,
        "10 revisions and 5 new after edits": (figures["edited"]["revisions"], figures["edited"]["new"]) == (10, 5),
        "fetches ≤ changed + new + listings": figures["edited"]["issue_fetches"] <= 15,
    }
    print("| run | load | seconds | crawl | around it | CPU s | issue fetches | listing fetches | new | changed | "
          "skipped |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, f in figures.items():
        print(f"| {label} | {f['load']} | {f['seconds']} | {f['crawl_seconds']} | {f['around_seconds']} | "
              f"{f['cpu_seconds']} | {f['issue_fetches']} | {f['listing_fetches']} | {f['new']} | {f['changed']} | "
              f"{f['skipped']} |")
    print(f"\nunchanged / cold wall time: {ratio:.3f} (CPU time: {cpu_ratio:.3f})")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.out:
        args.out.write_text(json.dumps({"issues": args.issues, "runs": figures, "ratio": ratio,
                                        "cpu_ratio": cpu_ratio, "checks": checks}, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
