"""Readers and a second crawl during a real ``tomtalks crawl``: readers never meet "database is locked"
(SQLite in WAL mode), always see the full-text index in step with the issues, and a second crawl of the
same archive is refused at once with exit code 5 while the first goes on to the end."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS
from tomtalks_scraper.demo_site.editable import EditableNewsletter
from tomtalks_scraper.demo_site.server import LocalSite

ISSUES = 250
LOOPBACK = [arg for name, value in LOOPBACK_SETTINGS.items() for arg in ("-s", f"{name}={value}")]


def _tomtalks(*args: str) -> list[str]:
    return [sys.executable, "-m", "tomtalks_scraper.cli", *args]


@dataclass
class Observed:
    crawl_code: int | None = None
    second_code: int | None = None
    second_stderr: str = ""
    second_seconds: float = 0.0
    cli_runs: int = 0
    cli_errors: list[str] = field(default_factory=list)
    raw_reads: int = 0
    raw_errors: list[str] = field(default_factory=list)
    raw_counts: list[tuple[int, int]] = field(default_factory=list)  # (issues, issues_fts) in one snapshot
    slowest_raw_read: float = 0.0
    final_issues: int = 0


def _cli_reader(folder: Path, db: Path, running: threading.Event, seen: Observed) -> None:
    """``tomtalks list --json`` and ``tomtalks search --json`` in turn, as long as the crawl runs."""
    commands = [["list", "--limit", "5"], ["search", "lantern", "--limit", "5"]]
    while running.is_set():
        command = commands[seen.cli_runs % 2]
        result = subprocess.run(_tomtalks(*command, "--db", str(db), "--json"), cwd=folder,
                                capture_output=True, text=True, timeout=60, check=False)
        seen.cli_runs += 1
        if result.returncode != 0 or "locked" in result.stderr:
            seen.cli_errors.append(f"{command[0]}: exit {result.returncode}: {result.stderr.strip()[-300:]}")
            continue
        json.loads(result.stdout)


def _raw_reader(db: Path, running: threading.Event, seen: Observed) -> None:
    """A plain sqlite3 connection (5 s default timeout), reading as fast as it can."""
    connection = sqlite3.connect(db, isolation_level=None)
    try:
        while running.is_set():
            started = time.monotonic()
            try:
                connection.execute("BEGIN")
                issues = connection.execute("SELECT count(*) FROM issues").fetchone()[0]
                indexed = connection.execute("SELECT count(*) FROM issues_fts").fetchone()[0]
                connection.execute("SELECT title FROM issues ORDER BY published_at DESC LIMIT 10").fetchall()
                connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                seen.raw_errors.append(str(error))
                connection.execute("ROLLBACK") if connection.in_transaction else None
                continue
            seen.raw_reads += 1
            seen.raw_counts.append((issues, indexed))
            seen.slowest_raw_read = max(seen.slowest_raw_read, time.monotonic() - started)
            time.sleep(0.01)
    finally:
        connection.close()


def _wait_for(condition, timeout: float = 90) -> None:  # noqa: ANN001 - a callable returning bool
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _issue_count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT count(*) FROM issues").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Observed:
    folder = tmp_path_factory.mktemp("concurrency")
    db = folder / "archive.db"
    letter = EditableNewsletter(ISSUES)
    seen = Observed()
    with LocalSite(build=letter.build) as site:
        (folder / "newsletters.toml").write_text(
            f'[[newsletter]]\nname = "Ledger"\nurls = ["{site.url(letter.start_path)}"]\n', encoding="utf-8")
        crawl = subprocess.Popen(_tomtalks("crawl", "--db", str(db), *LOOPBACK), cwd=folder,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: _issue_count(db) > 0 or crawl.poll() is not None)
        running = threading.Event()
        running.set()
        readers = [threading.Thread(target=_cli_reader, args=(folder, db, running, seen)),
                   threading.Thread(target=_raw_reader, args=(db, running, seen))]
        for reader in readers:
            reader.start()
        started = time.monotonic()
        second = subprocess.run(_tomtalks("crawl", "--db", str(db), *LOOPBACK), cwd=folder,
                                capture_output=True, text=True, timeout=60, check=False)
        seen.second_seconds = time.monotonic() - started
        seen.second_code, seen.second_stderr = second.returncode, second.stderr
        _, stderr = crawl.communicate(timeout=180)
        seen.crawl_code = crawl.returncode
        running.clear()
        for reader in readers:
            reader.join(timeout=60)
    seen.final_issues = _issue_count(db)
    assert seen.crawl_code == 0, stderr
    return seen


def test_a_second_crawl_is_refused_while_the_first_runs(observed: Observed) -> None:
    assert observed.second_code == 5
    assert "another crawl of this archive is running" in observed.second_stderr
    assert observed.second_seconds < 20  # it stops at once (most of that is Python starting)


def test_the_first_crawl_goes_on_to_the_end(observed: Observed) -> None:
    assert observed.final_issues == ISSUES


def test_cli_readers_never_fail_during_the_crawl(observed: Observed) -> None:
    assert observed.cli_runs >= 4
    assert observed.cli_errors == []


def test_raw_sqlite_readers_are_never_locked_out(observed: Observed) -> None:
    assert observed.raw_reads >= 50
    assert observed.raw_errors == []
    assert observed.slowest_raw_read < 2.0  # a reader never waits for the writer


def test_readers_always_see_the_search_index_in_step(observed: Observed) -> None:
    assert all(issues == indexed for issues, indexed in observed.raw_counts)
    assert len({issues for issues, _ in observed.raw_counts}) > 1  # the readers did watch the archive grow
