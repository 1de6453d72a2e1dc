"""Cron-ready incremental crawling, through real crawls of local sites that count requests."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.crawl_state import UrlState
from tomtalks_scraper.crawl import can_fork, start_crawl
from tomtalks_scraper.demo_site.editable import EditableNewsletter
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.incremental import DEFAULT_SCHEDULE, decide, parse_schedule
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.lock import CrawlLock

LOOPBACK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SCHEDULE = parse_schedule(DEFAULT_SCHEDULE)


def state(**overrides: object) -> UrlState:
    base = {"url": "https://x.example/p/1", "status": "stored", "etag": '"abc"', "last_modified": None,
            "page_hash": "h", "listed_date": "2024-01-03T09:00:00Z", "published_at": "2024-01-03T09:00:00Z",
            "last_checked_at": "2026-11-27T11:00:00Z", "issue_id": 1}
    return UrlState(**{**base, **overrides})


# Decisions (pure) ------------------------------------------------------------------------------

def test_unknown_failed_and_full_refresh_urls_are_fetched() -> None:
    assert decide(None, DiscoveryHints(), NOW, SCHEDULE).reason == "new"
    assert decide(state(status="failed", issue_id=None), DiscoveryHints(), NOW, SCHEDULE).reason == "retry"
    full = decide(state(), DiscoveryHints(updated_at="2024-01-03T09:00:00Z"), NOW, SCHEDULE, full=True)
    assert full.fetch and full.headers == {}


def test_listing_modification_dates_decide_alone() -> None:
    same = decide(state(), DiscoveryHints(updated_at="2024-01-03T09:00:00Z"), NOW, SCHEDULE)
    assert not same.fetch and same.reason == "unchanged_listing"
    newer = decide(state(), DiscoveryHints(updated_at="2026-11-27T11:30:00Z"), NOW, SCHEDULE)
    assert newer.fetch and newer.headers == {"If-None-Match": '"abc"'}


def test_without_listing_dates_the_issue_age_sets_the_recheck_interval() -> None:
    young = state(published_at="2026-11-25T00:00:00Z", last_checked_at="2026-11-27T11:59:00Z")
    assert decide(young, DiscoveryHints(), NOW, SCHEDULE).reason == "due"  # < 7 days: every run
    month_old = state(published_at="2026-11-10T00:00:00Z", last_checked_at="2026-11-27T02:00:00Z")
    assert decide(month_old, DiscoveryHints(), NOW, SCHEDULE).reason == "not_due"  # daily
    old = state(published_at="2020-01-01T00:00:00Z", last_checked_at="2026-10-20T00:00:00Z")
    assert decide(old, DiscoveryHints(), NOW, SCHEDULE).reason == "due"  # monthly, and a month passed


def test_a_listing_date_seen_for_the_first_time_is_compared_with_the_last_check() -> None:
    first_dates = state(listed_date=None, last_checked_at="2026-11-27T11:00:00Z")
    assert not decide(first_dates, DiscoveryHints(updated_at="2026-11-26T00:00:00Z"), NOW, SCHEDULE).fetch
    assert decide(first_dates, DiscoveryHints(updated_at="2026-11-27T11:30:00Z"), NOW, SCHEDULE).fetch
    edited_in_the_past = state(listed_date="2024-01-03T09:00:00Z")
    assert decide(edited_in_the_past, DiscoveryHints(updated_at="2024-01-04T09:00:00Z"), NOW, SCHEDULE).fetch


def test_schedule_setting_is_validated() -> None:
    assert parse_schedule("2:0,*:24") == [(2.0, 0.0), (float("inf"), 24.0)]
    with pytest.raises(ValueError, match="RECHECK_SCHEDULE"):
        parse_schedule("weekly")


# Crawls ------------------------------------------------------------------------------------------

def _tomtalks(args: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tomtalks_scraper.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _config(tmp_path: Path, url: str, name: str = "Ledger", extra: str = "") -> None:
    (tmp_path / "newsletters.toml").write_text(f'[[newsletter]]\nname = "{name}"\nurls = ["{url}"]\n{extra}',
                                               encoding="utf-8")


def _db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "data" / "newsletters.db")


def _issue_requests(site: LocalSite) -> int:
    return sum(count for path, count in site.requests.items() if path.startswith("/issues/"))


def test_second_run_with_nothing_changed_fetches_no_issue(tmp_path: Path) -> None:
    letter = EditableNewsletter(12)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        first = _tomtalks(["crawl", *LOOPBACK], tmp_path)
        assert first.returncode == 0, first.stderr
        assert "Ledger: listed 12, new 12" in first.stdout
        fetched_before = _issue_requests(site)
        second = _tomtalks(["crawl", "--json", *LOOPBACK], tmp_path)
        assert second.returncode == 0, second.stderr
        assert _issue_requests(site) == fetched_before == 12
    [source] = json.loads(second.stdout)["sources"]
    assert (source["listed"], source["skipped"], source["new"], source["changed"]) == (12, 12, 0, 0)
    with _db(tmp_path) as db:
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == 12
        assert db.execute("SELECT count(*) FROM crawl_runs WHERE finish_reason = 'finished'").fetchone()[0] == 2


_PROBE = """
import json, sys
from multiprocessing import resource_tracker
from tomtalks_scraper.crawl import crawl_here
code = crawl_here("newsletter", {"url": sys.argv[1], "newsletter": "Ledger"}, json.loads(sys.argv[2]))
print(json.dumps({"code": code, "trafilatura": sorted({m.split(".")[0] for m in sys.modules} & {"trafilatura"}),
                  "processes_started": resource_tracker._resource_tracker._pid is not None}))
"""


def test_a_recrawl_with_nothing_to_extract_loads_no_extraction_code(tmp_path: Path) -> None:
    """What makes a cron run that finds nothing new cheap: the crawl process neither imports trafilatura (the
    extraction workers do) nor starts the extraction pool (not even multiprocessing's tracker process)."""
    letter = EditableNewsletter(6)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'newsletters.db'}", "LOG_LEVEL": "WARNING",
                    **dict(pair.split("=") for pair in LOOPBACK[1::2])}
        probe = subprocess.run([sys.executable, "-c", _PROBE, site.url(letter.start_path), json.dumps(settings)],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert probe.returncode == 0, probe.stderr
        assert _issue_requests(site) == 6
    assert json.loads(probe.stdout) == {"code": 0, "trafilatura": [], "processes_started": False}


def test_edits_additions_and_deletions_between_runs(tmp_path: Path) -> None:
    letter = EditableNewsletter(10)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        letter.edit("issue-0003")
        letter.edit("issue-0007")
        added = letter.add(11)
        site.rebuild()
        site.requests.clear()
        result = _tomtalks(["crawl", "--json", *LOOPBACK], tmp_path)
        assert result.returncode == 0, result.stderr
        fetched = {path for path in site.requests if path.startswith("/issues/")}
    assert fetched == {"/issues/issue-0003/", "/issues/issue-0007/", f"/issues/{added}/"}
    [source] = json.loads(result.stdout)["sources"]
    assert (source["new"], source["changed"], source["skipped"]) == (1, 2, 8)
    with _db(tmp_path) as db:
        revisions = db.execute("SELECT i.url, r.revision FROM issue_revisions r JOIN issues i ON i.id = r.issue_id")
        assert sorted(url.rsplit("/", 2)[-2] for url, _ in revisions) == ["issue-0003", "issue-0007"]
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == 11
        assert db.execute("SELECT body_text FROM issues WHERE url LIKE '%issue-0003/'").fetchone()[0].startswith(
            "Issue 3 version 2 opens here.")


def test_an_issue_that_disappears_is_marked_gone_and_kept(tmp_path: Path) -> None:
    letter = EditableNewsletter(4, recent=True, listing="feed")
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        site.pages["/issues/issue-0002/"].status = 410
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
    with _db(tmp_path) as db:
        gone = db.execute("SELECT url, gone_at FROM issues WHERE gone_at IS NOT NULL").fetchall()
        assert [url.rsplit("/", 2)[-2] for url, _ in gone] == ["issue-0002"]
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == 4
        assert db.execute("SELECT status FROM crawl_state WHERE url LIKE '%issue-0002/'").fetchone() == ("gone",)


@pytest.mark.parametrize("honour", [True, False], ids=["server-honours-304", "server-ignores-validators"])
def test_due_rechecks_are_conditional_and_an_identical_page_is_not_extracted(tmp_path: Path, honour: bool) -> None:
    letter = EditableNewsletter(5, recent=True, listing="feed")  # no modification dates: re-checked each run
    with LocalSite(build=letter.build, honour_conditional=honour) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        with _db(tmp_path) as db:
            stored_before = db.execute("SELECT url, fetched_at, content_hash FROM issues ORDER BY url").fetchall()
        time.sleep(1.1)  # fetched_at has one-second resolution
        result = _tomtalks(["crawl", "--json", *LOOPBACK], tmp_path)
        assert result.returncode == 0, result.stderr
        assert _issue_requests(site) == 10  # every issue re-checked once more
        assert sum(site.not_modified.values()) == (5 if honour else 0)
    [source] = json.loads(result.stdout)["sources"]
    assert (source["unchanged"], source["new"], source["changed"]) == (5, 0, 0)
    with _db(tmp_path) as db:
        assert db.execute("SELECT url, fetched_at, content_hash FROM issues ORDER BY url").fetchall() == stored_before
        assert db.execute("SELECT count(*) FROM issue_revisions").fetchone()[0] == 0
        checks = db.execute("SELECT count(*) FROM crawl_state WHERE last_checked_at > first_seen_at").fetchone()[0]
        assert checks == 5


def test_an_unchanged_page_is_logged_quietly_and_without_its_text(tmp_path: Path) -> None:
    """A re-check that finds the same page is normal: not a WARNING, and no log line holds the page (Scrapy
    logs a dropped item's repr, which held the whole page text, and then its bytes too)."""
    from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, run_crawl

    letter = EditableNewsletter(3, recent=True, listing="feed")  # no modification dates: re-checked each run
    with LocalSite(build=letter.build, honour_conditional=False) as site:
        database = f"sqlite:///{tmp_path / 'letters.db'}"
        run_crawl([site.url(letter.start_path)], database, settings=LOOPBACK_SETTINGS, timeout=180)
        time.sleep(1.1)
        log = run_crawl([site.url(letter.start_path)], database, settings={**LOOPBACK_SETTINGS, "LOG_LEVEL": "DEBUG"},
                        timeout=180).stderr
        pages = [page.body.decode() for path, page in site.pages.items() if "/issues/" in path]
    dropped = [line for line in log.splitlines() if "Dropped: unchanged page" in line]
    assert len(dropped) == 3 and all("DEBUG" in line for line in dropped)
    assert "IssuePage(url=" in log and "html_utf8" not in log
    assert pages and all(page.lstrip().startswith("<!DOCTYPE") for page in pages) and "<!DOCTYPE" not in log


def test_full_mode_rechecks_everything(tmp_path: Path) -> None:
    letter = EditableNewsletter(6)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        assert _tomtalks(["crawl", "--full", *LOOPBACK], tmp_path).returncode == 0
        assert _issue_requests(site) == 12
        assert sum(site.not_modified.values()) == 0  # a full run sends no validators


def test_overlapping_run_exits_at_once_with_its_own_code(tmp_path: Path) -> None:
    _config(tmp_path, "http://127.0.0.1:9/feed.xml")
    (tmp_path / "data").mkdir()
    with CrawlLock(tmp_path / "data" / "newsletters.db.crawl.lock"):
        started = time.monotonic()
        result = _tomtalks(["crawl"], tmp_path)
    assert result.returncode == 5
    assert "another crawl of this archive is running" in result.stderr
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[newsletter]]\nname = "A"\nurls = ["ftp://x"]\n', "is not a full http(s) URL"),
        ('[[newsletter]]\nname = "A"\nurl = "https://x.example"\n', "unknown key(s) ['url']"),
        ('[[newsletter]]\nname = "A"\n[[newsletter]]\nname = "a"\n', "used twice"),
        ('[[newsletter]]\nname = "A"\nschedule = "sometimes"\n', "is not a schedule"),
        ("[[newsletter]\n", "not valid TOML"),
    ],
)
def test_bad_config_is_exit_code_3_with_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "newsletters.toml").write_text(content, encoding="utf-8")
    result = _tomtalks(["crawl"], tmp_path)
    assert result.returncode == 3
    assert message in result.stderr and "Traceback" not in result.stderr


def _sigterm_to_the_command(crawl: subprocess.Popen[str]) -> None:
    crawl.send_signal(signal.SIGTERM)  # cron, systemd, `kill`


def _ctrl_c_in_a_terminal(crawl: subprocess.Popen[str]) -> None:
    os.killpg(crawl.pid, signal.SIGINT)  # a terminal signals its whole foreground process group


@pytest.mark.parametrize("stop", [_sigterm_to_the_command, _ctrl_c_in_a_terminal])
def test_a_stop_signal_stops_after_items_in_flight_and_the_next_run_resumes(tmp_path: Path, stop) -> None:
    letter = EditableNewsletter(24)
    with LocalSite(build=letter.build, delay=0.15) as site:
        _config(tmp_path, site.url(letter.start_path))
        env = {**os.environ}
        crawl = subprocess.Popen(
            [sys.executable, "-m", "tomtalks_scraper.cli", "crawl", "-s", "DOWNLOAD_DELAY=0", "-s",
             "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "CONCURRENT_REQUESTS=1"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < 3:
            time.sleep(0.2)
            if (tmp_path / "data" / "newsletters.db").exists():
                try:
                    with _db(tmp_path) as db:
                        stored = db.execute("SELECT count(*) FROM issues").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
        stop(crawl)
        _, stderr = crawl.communicate(timeout=60)
        assert crawl.returncode == 130, stderr
        log = next((tmp_path / "data" / "logs").glob("*.log")).read_text(encoding="utf-8")
        assert "unclean shutdown" not in log  # the crawl saw one signal, not the terminal's and ours
        with _db(tmp_path) as db:
            interrupted = db.execute("SELECT count(*) FROM issues").fetchone()[0]
            assert 3 <= interrupted < 24
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert db.execute("SELECT finish_reason FROM crawl_runs").fetchall() == [("interrupted",)]
        before = dict(site.requests)
        resumed = _tomtalks(["crawl", *LOOPBACK], tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        refetched = [p for p in site.requests if p.startswith("/issues/") and site.requests[p] > before.get(p, 0)
                     and before.get(p, 0) > 0]
    with _db(tmp_path) as db:
        assert db.execute("SELECT count(*), count(DISTINCT url) FROM issues").fetchone() == (24, 24)
    assert len(refetched) <= 1  # at most the page that was in flight when the signal came


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the crawl process through /proc (Linux)")
def test_a_crawl_process_that_dies_fails_its_source_only(tmp_path: Path) -> None:
    """Each newsletter is crawled in its own process: one killed mid-crawl (a crash: a segfault, the OOM killer)
    fails that source, and the run goes on to the next newsletter, records the failure and exits 1."""
    slow, fine = EditableNewsletter(24), EditableNewsletter(3)
    with LocalSite(build=slow.build, delay=0.15) as slow_site, LocalSite(build=fine.build) as fine_site:
        (tmp_path / "newsletters.toml").write_text(
            f'[[newsletter]]\nname = "Slow"\nurls = ["{slow_site.url(slow.start_path)}"]\n\n'
            f'[[newsletter]]\nname = "Fine"\nurls = ["{fine_site.url(fine.start_path)}"]\n', encoding="utf-8")
        crawl = subprocess.Popen(
            [sys.executable, "-m", "tomtalks_scraper.cli", "crawl", "--json", *LOOPBACK, "-s", "CONCURRENT_REQUESTS=1"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _issue_requests(slow_site) < 2:
            time.sleep(0.05)
        fine_prefix = fine_site.url("/") + "%"
        [child] = _children(crawl.pid)
        assert b"tomtalks_scraper.cli" in Path(f"/proc/{child}/cmdline").read_bytes()  # a fork, not `scrapy crawl`
        os.kill(child, signal.SIGKILL)
        stdout, stderr = crawl.communicate(timeout=120)
    assert crawl.returncode == 1, stderr
    report = json.loads(stdout)
    assert report["finish_reason"] == "source_failed"
    dead, alive = report["sources"]
    assert not dead["ok"] and "exited with -9" in dead["error"]
    assert alive["ok"] and alive["new"] == 3
    with _db(tmp_path) as db:
        assert db.execute("SELECT finish_reason FROM crawl_runs").fetchall() == [("source_failed",)]
        assert db.execute("SELECT count(*) FROM issues WHERE url LIKE ?", (fine_prefix,)).fetchone() == (3,)


def test_a_crawl_started_beside_other_threads_is_a_scrapy_crawl_subprocess(tmp_path: Path) -> None:
    """Forking copies only the calling thread (a lock another thread holds would stay locked in the copy):
    with the local site's server thread running here, ``start_crawl`` runs ``scrapy crawl`` instead."""
    letter = EditableNewsletter(3)
    with LocalSite(build=letter.build) as site:
        assert not can_fork()
        with start_crawl([site.url(letter.start_path)], f"sqlite:///{tmp_path / 'x.db'}",
                         settings=dict(pair.split("=") for pair in LOOPBACK[1::2])) as crawl:
            _, stderr = crawl.communicate()
        assert isinstance(crawl, subprocess.Popen) and crawl.returncode == 0, stderr
        assert _issue_requests(site) == 3
    with sqlite3.connect(tmp_path / "x.db") as db:
        assert db.execute("SELECT count(*) FROM issues").fetchone() == (3,)


def test_history_and_diff_show_the_revisions(tmp_path: Path) -> None:
    letter = EditableNewsletter(3)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path))
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        letter.edit("issue-0002")
        site.rebuild()
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        url = site.url("/issues/issue-0002/")
        unchanged_url = site.url("/issues/issue-0001/")
    history = json.loads(_tomtalks(["history", url, "--json"], tmp_path).stdout)
    assert [(v["revision"], v["current"]) for v in history["versions"]] == [(1, False), (2, True)]
    diff = json.loads(_tomtalks(["diff", url, "--json"], tmp_path).stdout)
    assert {"op": "-", "text": "1"} in diff["diff"] and {"op": "+", "text": "2"} in diff["diff"]
    human = _tomtalks(["diff", url], tmp_path)
    assert "[-1-]{+2+}" in human.stdout.replace(" ", "")
    unchanged = _tomtalks(["diff", unchanged_url], tmp_path)
    assert unchanged.returncode == 1 and "has never changed" in unchanged.stderr


def test_sources_lists_listed_stored_missing_and_next_due(tmp_path: Path) -> None:
    letter = EditableNewsletter(4)
    with LocalSite(build=letter.build) as site:
        _config(tmp_path, site.url(letter.start_path), extra='schedule = "daily"\n')
        del site.pages["/issues/issue-0004/"]
        assert _tomtalks(["crawl", *LOOPBACK], tmp_path).returncode == 0
        skipped = _tomtalks(["crawl", *LOOPBACK], tmp_path)
        assert "nothing due" in skipped.stdout
    [row] = json.loads(_tomtalks(["sources", "--json"], tmp_path).stdout)
    assert (row["listed"], row["stored"], row["missing"]) == (4, 3, {"http_404": 1})
    next_due = datetime.fromisoformat(row["next_due"].replace("Z", "+00:00"))
    assert timedelta(hours=23) < next_due - datetime.now(UTC) <= timedelta(days=1)
