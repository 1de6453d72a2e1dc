"""``tomtalks crawl`` — the command cron runs — and ``tomtalks sources``.

``crawl`` holds an exclusive lock on the archive, opens a crawl-run record, crawls each due
newsletter of ``newsletters.toml`` in its own process (a ``scrapy crawl`` in a fork of this one, see
``tomtalks_scraper.crawl.ForkedCrawl``: a crash in one cannot take the others down), writes a log
file, prints one summary line per newsletter and exits with a documented code:

    0  every source went well          3  the config file is unusable
    1  at least one source failed      4  the database is unusable
    2  the command line is wrong       5  another crawl of this archive is running
    130 interrupted (Ctrl-C / SIGTERM): items in flight were stored; the next run resumes
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from storage import DatabaseError
from storage.db import resolve_database_url, session_factory, sqlite_path
from storage.history import run_sources, source_overview
from storage.recorder import CrawlRecorder
from tomtalks_scraper.cli.common import CliError, add_db_option, add_json_option, console, print_json, table
from tomtalks_scraper.config import DEFAULT_CONFIG, ConfigError, NewsletterConfig, load_config
from tomtalks_scraper.crawl import ForkedCrawl, can_fork, preload_crawl_modules, start_crawl
from tomtalks_scraper.lock import CrawlLock, LockHeld

EXIT_OK, EXIT_SOURCE_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_DATABASE, EXIT_LOCKED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


def register(commands: argparse._SubParsersAction) -> None:
    crawl = commands.add_parser(
        "crawl", help="crawl the newsletters of newsletters.toml (what cron runs)",
        description="Crawl the configured newsletters that are due (or those NAMEd) into the archive. "
                    "Exit codes: 0 all went well, 1 a source failed, 2 bad command line, 3 config unusable, "
                    "4 database unusable, 5 another crawl is running, 130 interrupted.",
    )
    crawl.add_argument("names", nargs="*", metavar="NAME", help="only these newsletters (default: all that are due)")
    crawl.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default newsletters.toml)")
    crawl.add_argument("--full", action="store_true", help="re-check every issue, ignoring what is already stored")
    crawl.add_argument("--distributed", action="store_true",
                       help="seed these newsletters into the shared frontier ($REDIS_URL) for distributed workers "
                            "instead of crawling here (docs/scaling.md)")
    crawl.add_argument("--log-file", help="crawl log (default: logs/crawl-<time>.log beside the database)")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                       help="a Scrapy setting for the crawls (repeatable), e.g. -s DOWNLOAD_DELAY=1")
    add_db_option(crawl)
    add_json_option(crawl)
    crawl.set_defaults(run=run_crawl_command, needs_archive=False)

    sources = commands.add_parser(
        "sources", help="per configured newsletter: listed, stored, missing with reasons, last run, next due",
        description="For each newsletter of the config: issues listed by the last run, stored, missing (with "
                    "the reasons they were not stored), the last run and when the next is due.",
    )
    sources.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default newsletters.toml)")
    add_db_option(sources)
    add_json_option(sources)
    sources.set_defaults(run=run_sources_command)


def _lock_path(database_url: str) -> Path:
    path = sqlite_path(database_url)
    return path.with_name(path.name + ".crawl.lock") if path else Path("data") / ".tomtalks-crawl.lock"


def _log_path(database_url: str, explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    folder = (sqlite_path(database_url) or Path("data") / "x").parent / "logs"
    return folder / f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"-s {pair!r}: write settings as NAME=VALUE", exit_code=EXIT_USAGE)
        settings[name] = value
    return settings


class _Interrupt:
    """Forwards SIGINT/SIGTERM to the running crawl (Scrapy then stops after the items in flight)."""

    def __init__(self) -> None:
        self.child: ForkedCrawl | subprocess.Popen[str] | None = None
        self.received = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.received = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)


def run_crawl_command(args: argparse.Namespace, _archive: None) -> int:
    try:
        entries = load_config(args.config)
    except ConfigError as error:
        raise CliError(str(error), exit_code=EXIT_CONFIG) from error
    known = {e.name.lower(): e for e in entries}
    unknown = [n for n in args.names if n.lower() not in known]
    if unknown:
        raise CliError(f"{args.config}: no newsletter named {', '.join(map(repr, unknown))}; configured: "
                       f"{', '.join(e.name for e in entries)}", exit_code=EXIT_USAGE)
    if args.distributed:  # the workers crawl; this only seeds (tomtalks_scraper/distributed)
        from tomtalks_scraper.distributed.seed import seed_config
        return seed_config([known[n.lower()] for n in args.names] or entries, only_due=not args.names)
    settings = _settings(args.set)
    database_url = resolve_database_url(args.db)
    try:
        recorder = CrawlRecorder.open(database_url)
    except DatabaseError as error:
        raise CliError(str(error), exit_code=EXIT_DATABASE) from error
    try:
        with CrawlLock(_lock_path(database_url)):
            return _crawl_all(args, entries, known, recorder, database_url, settings)
    except LockHeld as error:
        raise CliError(f"{error}; this run stops here", exit_code=EXIT_LOCKED) from error
    finally:
        recorder.close()


def _crawl_all(args: argparse.Namespace, entries: list[NewsletterConfig], known: dict[str, NewsletterConfig],
               recorder: CrawlRecorder, database_url: str, settings: dict[str, str]) -> int:
    chosen = [known[n.lower()] for n in args.names] or entries
    with session_factory(recorder.engine)() as session:
        overview = source_overview(session)
    now = datetime.now(UTC)
    if not args.names:
        last_started = {name: (row.get("last_run") or {}).get("started_at") for name, row in overview.items()}
        chosen = [e for e in chosen if e.is_due(last_started.get(e.name), now)]
    log_file = _log_path(database_url, args.log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    run_id = recorder.start_run("full" if args.full else "incremental", str(log_file))
    interrupt = _Interrupt()
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    results = []
    try:
        if len(chosen) > 1 and can_fork():
            preload_crawl_modules()  # once here rather than once in each newsletter's fork
        for entry in chosen:
            if interrupt.received:
                break
            # No SQLite connection may cross the fork: the child's copy of SQLite would believe it holds the
            # parent's locks (WAL's shared-memory "in use" lock among them), and once the parent died a new process
            # would reset the WAL index under the still-running child. The pool reconnects when next needed.
            recorder.close()
            results.append(_crawl_one(entry, run_id, database_url, log_file, settings, args.full, interrupt))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    reason = "interrupted" if interrupt.received else "finished" if all(r["ok"] for r in results) else "source_failed"
    recorder.finish_run(run_id, reason)
    _print_summary(args, results, run_id, log_file, reason)
    if interrupt.received:
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_SOURCE_FAILED


def _crawl_one(entry: NewsletterConfig, run_id: int, database_url: str, log_file: Path, settings: dict[str, str],
               full: bool, interrupt: _Interrupt) -> dict:
    result = {"newsletter": entry.name, "ok": False, "listed": 0, "new": 0, "changed": 0, "unchanged": 0,
              "skipped": 0, "failed": 0, "error": None}
    if not entry.urls:
        result["error"] = "no start URL: set its `urls` in the config"
        return result
    spider_args = {"newsletter": entry.name, "run_id": str(run_id)}
    if entry.platform:
        spider_args["platform"] = entry.platform
    if entry.include:
        spider_args["include"] = ",".join(entry.include)
    if entry.exclude:
        spider_args["exclude"] = ",".join(entry.exclude)
    if full:
        spider_args["refresh"] = "all"
    with start_crawl(entry.urls, database_url, spider_args=spider_args, own_process_group=True,
                     settings={"LOG_LEVEL": "INFO", "LOG_FILE": str(log_file), "LOG_FILE_APPEND": "True",
                               **settings}) as child:
        interrupt.child = child
        if interrupt.received:  # the signal came while the crawl was starting: pass it on now
            child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate()
        interrupt.child = None
    recorder = CrawlRecorder.open(database_url)
    try:
        with session_factory(recorder.engine)() as session:
            rows = [r for r in run_sources(session, run_id) if r["newsletter"] == entry.name]
    finally:
        recorder.close()
    for name in ("listed", "new", "changed", "unchanged", "skipped", "failed"):
        result[name] = sum(r[name] for r in rows)
    start_failed = any(r["listed"] == 0 and r["failed"] > 0 for r in rows)
    if child.returncode != 0:
        result["error"] = f"crawl process exited with {child.returncode}: {_last_line(stderr)}"
    elif not rows:
        result["error"] = "the crawl recorded nothing (see the log)"
    elif start_failed:
        result["error"] = "a start URL could not be read (see `tomtalks failures` / the log)"
    else:
        result["ok"] = True
    return result


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _print_summary(args: argparse.Namespace, results: list[dict], run_id: int, log_file: Path, reason: str) -> None:
    if args.json:
        print_json({"run_id": run_id, "finish_reason": reason, "log_file": str(log_file), "sources": results})
        return
    for r in results:
        status = "ok" if r["ok"] else f"FAILED: {r['error']}"
        print(f"{r['newsletter']}: listed {r['listed']}, new {r['new']}, changed {r['changed']}, unchanged "
              f"{r['unchanged']}, skipped {r['skipped']}, failed {r['failed']} — {status}")
    if not results:
        print("nothing due: every newsletter was crawled within its schedule (name one to crawl it now)")
    print(f"run {run_id} {reason}; log: {log_file}", file=sys.stderr)


def run_sources_command(args: argparse.Namespace, archive) -> int:  # noqa: ANN001 - Archive
    try:
        entries = load_config(args.config)
    except ConfigError as error:
        raise CliError(str(error), exit_code=EXIT_CONFIG) from error
    with session_factory(archive.engine)() as session:
        overview = source_overview(session)
    now = datetime.now(UTC)
    rows = []
    for entry in entries:
        info = overview.get(entry.name, {"stored": 0, "gone": 0, "missing": {}, "last_run": None})
        last = info.get("last_run") or {}
        due = "now" if entry.is_due(last.get("started_at"), now) else (
            datetime.fromisoformat(last["started_at"].replace("Z", "+00:00")) + entry.interval
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append({"newsletter": entry.name, "urls": entry.urls, "listed": last.get("listed"),
                     "stored": info["stored"], "gone": info["gone"], "missing": info["missing"],
                     "last_run": last.get("started_at"), "last_result": last.get("finish_reason"),
                     "next_due": due if entry.urls else "never: no urls set"})
    if args.json:
        print_json(rows)
        return 0
    console().print(table(
        ["newsletter", "listed", "stored", "gone", "missing", "last run", "next due"],
        [[r["newsletter"], r["listed"] if r["listed"] is not None else "—", r["stored"], r["gone"],
          ", ".join(f"{k} {v}" for k, v in sorted(r["missing"].items())) or "—", r["last_run"] or "never",
          r["next_due"]] for r in rows],
        title=f"Sources of {args.config}",
    ))
    return 0
