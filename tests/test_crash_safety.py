"""Crash safety: crawls of a 500-issue site killed with SIGKILL at random moments, then run to the end.

Whatever moment the kill lands on (starting up, listing, in the middle of a transaction), the archive
must stay a sound SQLite file, keep every issue it had stored, never hold an issue twice, and keep its
full-text index in step with the issues table. Runs alternate between a full re-check (every page
written again), an incremental run (continues where the last one stopped) and ``tomtalks crawl`` (its
lock must not outlive it). Issues are edited between runs, so kills also land while revisions are
written. Each kill takes the crawl's whole process group (extraction workers included), as an OOM
killer or a power cut would.

Most kills wait for the run's first write and then a random moment; some are blind (any moment from
start-up on). Most runs extract in the crawl process (``EXTRACT_WORKERS=0``: it writes within two
seconds of starting); every sixth, and the final run, use the default worker pool, which starts slower.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.recorder import CrawlRecorder
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, crawl_command
from tomtalks_scraper.demo_site.editable import EditableNewsletter
from tomtalks_scraper.demo_site.server import LocalSite

ISSUES = 500
KILLS = 24
SEED = 20261127
NAME = "Ledger"
ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}


@dataclass
class Figures:
    """What the kills did, for the assertions and the report (docs/reliability.md)."""

    kills: int = 0
    mid_run: int = 0  # kills that found the crawl still running
    mid_write: int = 0  # kills after which the archive showed writes of that run
    snapshots: list[dict[int, str]] = field(default_factory=list)


def _scrapy(url: str, database_url: str, full: bool, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    args = {"newsletter": NAME, **({"refresh": "all"} if full else {})}
    command = crawl_command([url], database_url, settings={**LOOPBACK_SETTINGS, **settings}, spider_args=args)
    return subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _tomtalks(folder: Path, database_url: str, full: bool, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    """``tomtalks crawl``, which runs the scrapy crawl as its child (both in the new session)."""
    command = [sys.executable, "-m", "tomtalks_scraper.cli", "crawl", "--db", database_url,
               "--config", str(folder / "newsletters.toml"), *(["--full"] if full else []),
               *[arg for name, value in {**LOOPBACK_SETTINGS, **settings}.items() for arg in ("-s", f"{name}={value}")]]
    return subprocess.Popen(command, env=ENV, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (Linux /proc), read before the kill: ``tomtalks crawl`` puts its crawl in a
    process group of its own, so killing the command's group alone would leave the crawl running."""
    try:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return [pid for child in children for pid in (child, *_descendants(child))]


def _kill_tree(pid: int) -> None:
    """SIGKILL the process, its group and every process under it at once: a power cut, as far as one test can."""
    for target in (pid, *_descendants(pid)):
        try:
            os.killpg(os.getpgid(target), signal.SIGKILL)
        except ProcessLookupError:  # already gone (a run that found nothing to do, or one that was locked out)
            pass


def _has_schema(db: sqlite3.Connection) -> bool:
    """False until the first migration has committed (a kill may come before)."""
    return db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0] == 1


def _state(path: Path) -> tuple[dict[int, str], str]:
    """Stored issues (id → url) and PRAGMA integrity_check."""
    with sqlite3.connect(path) as db:
        issues = dict(db.execute("SELECT id, url FROM issues")) if _has_schema(db) else {}
        return issues, db.execute("PRAGMA integrity_check").fetchone()[0]


def _checked_at(path: Path) -> set[tuple[str, str]]:
    """Every URL's last check: it changes with each page a run writes."""
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT url, last_checked_at FROM crawl_state")) if _has_schema(db) else set()


def _wait_for_writes(path: Path, before: set[tuple[str, str]], crawl: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while _checked_at(path) == before and crawl.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


def _kill_at_random(rng: random.Random, letter: EditableNewsletter, site: LocalSite, folder: Path,
                    database_url: str, path: Path, figures: Figures) -> None:
    for run in range(KILLS):
        for slug in rng.sample(sorted(letter.issues), 3):  # edits: the next visit writes a revision
            letter.edit(slug)
        site.rebuild()
        before = _checked_at(path)
        kind = run % 3
        settings = {} if run % 6 == 5 else {"EXTRACT_WORKERS": "0"}
        crawl = (_scrapy(site.url(letter.start_path), database_url, kind == 0, settings) if kind < 2
                 else _tomtalks(folder, database_url, run % 2 == 0, settings))
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.3, 3.0))  # blind: start-up, listing, or the first pages
        else:
            _wait_for_writes(path, before, crawl)
            time.sleep(rng.uniform(0.0, 1.5))
        figures.mid_run += crawl.poll() is None
        _kill_tree(crawl.pid)
        crawl.wait(timeout=30)
        figures.kills += 1
        issues, integrity = _state(path)
        assert integrity == "ok", f"after kill {run + 1}: {integrity}"
        assert len(set(issues.values())) == len(issues), f"after kill {run + 1}: an issue stored twice"
        if figures.snapshots:
            lost = figures.snapshots[-1].items() - issues.items()
            assert not lost, f"after kill {run + 1}: stored issues lost or renumbered: {sorted(lost)[:5]}"
        figures.snapshots.append(issues)
        figures.mid_write += _checked_at(path) != before


def _fts_agrees(path: Path, word: str) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO issues_fts(issues_fts, rank) VALUES ('integrity-check', 1)")
        matched = db.execute("SELECT count(*) FROM issues_fts WHERE issues_fts MATCH ?", (f"body_text:{word}",))
        liked = db.execute("SELECT count(*) FROM issues WHERE body_text LIKE ?", (f"%{word}%",))
        return matched.fetchone()[0], liked.fetchone()[0]


def _hashes_match_bodies(path: Path) -> bool:
    """Each stored body hashes to its content_hash: no row holds half of one version and half of another."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT body_text, content_hash FROM issues").fetchall()
    return all(hashlib.sha256(" ".join(text.split()).encode()).hexdigest() == digest for text, digest in rows)


@pytest.mark.crawl
def test_random_sigkills_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    database_url = f"sqlite:///{path}"
    letter = EditableNewsletter(ISSUES)
    figures = Figures()
    with LocalSite(build=letter.build) as site:
        (tmp_path / "newsletters.toml").write_text(
            f'[[newsletter]]\nname = "{NAME}"\nurls = ["{site.url(letter.start_path)}"]\n', encoding="utf-8")
        _kill_at_random(random.Random(SEED), letter, site, tmp_path, database_url, path, figures)
        final = _tomtalks(tmp_path, database_url, False, {})  # a lock left by a killed run would make this exit 5
        assert final.wait(timeout=150) == 0
    issues, integrity = _state(path)
    print(f"\ncrash test: {figures.kills} kills ({figures.mid_run} mid-run, {figures.mid_write} after writes "
          f"began), issues {len(issues)}, distinct {len(set(issues.values()))}")
    assert figures.kills >= 20 and figures.mid_run >= 20 and figures.mid_write >= 15
    assert integrity == "ok"
    assert len(issues) == len(set(issues.values())) == ISSUES
    assert figures.snapshots[-1].items() <= issues.items()  # nothing stored before the last kill was lost
    matched, liked = _fts_agrees(path, "lantern")
    assert matched == liked > 0
    assert _hashes_match_bodies(path)


CRASHING_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
import storage.db as db

def crash_on_third_table(engine):
    created = []
    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)
            if len(created) == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # the power goes out mid-migration

original = db.create_engine
def create_engine(*args, **kwargs):
    engine = original(*args, **kwargs)
    crash_on_third_table(engine)
    return engine
db.create_engine = create_engine
db.make_engine(sys.argv[1])
"""


def test_a_crash_during_the_first_migration_leaves_a_usable_archive(tmp_path: Path) -> None:
    """Killed after two tables of the first migration were created: the next open must migrate cleanly.

    (This failed with "table newsletters already exists" until storage/db.py ran migrations as one
    transaction: pysqlite committed each CREATE TABLE on its own.)"""
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    crashed = subprocess.run([sys.executable, "-c", CRASHING_MIGRATION, database_url], env=ENV, check=False,
                             capture_output=True)
    assert crashed.returncode == -signal.SIGKILL
    CrawlRecorder.open(database_url).close()  # the next crawl opens the archive
    with sqlite3.connect(tmp_path / "archive.db") as db:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1


@pytest.mark.crawl
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the crawl process through /proc (Linux)")
def test_a_crawl_outliving_its_killed_command_keeps_the_archive_intact(tmp_path: Path) -> None:
    """The OOM killer or an impatient admin kills ``tomtalks crawl`` but not its crawl, which goes on alone while
    other processes open the archive. The crawl is a fork of the command: had an SQLite connection crossed the
    fork, its copy of SQLite would count the dead command's locks as its own, and the next process to open the
    archive would reset the WAL index under it ("database disk image is malformed")."""
    path = tmp_path / "archive.db"
    database_url = f"sqlite:///{path}"
    letter = EditableNewsletter(ISSUES)
    with LocalSite(build=letter.build, delay=0.05) as site:
        (tmp_path / "newsletters.toml").write_text(
            f'[[newsletter]]\nname = "{NAME}"\nurls = ["{site.url(letter.start_path)}"]\n', encoding="utf-8")
        command = _tomtalks(tmp_path, database_url, False, {"CONCURRENT_REQUESTS": "2", "EXTRACT_WORKERS": "0"})
        _wait_for_writes(path, set(), command)
        [crawl] = _descendants(command.pid)
        os.kill(command.pid, signal.SIGKILL)  # the command only: its crawl runs on, orphaned
        command.wait(timeout=30)
        readers = 0
        while Path(f"/proc/{crawl}").exists() and readers < 400:  # others open and close the archive meanwhile
            issues, integrity = _state(path)
            assert integrity == "ok", f"while the orphaned crawl ran: {integrity}"
            readers += 1
        other = _scrapy(site.url(letter.start_path), database_url, True, {"EXTRACT_WORKERS": "0"})
        assert other.wait(timeout=150) == 0
    issues, integrity = _state(path)
    assert integrity == "ok"
    assert len(issues) == len(set(issues.values())) == ISSUES
    assert _hashes_match_bodies(path)
