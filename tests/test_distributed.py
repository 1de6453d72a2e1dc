"""The shared frontier (tomtalks_scraper/distributed): real ``scrapy crawl`` workers, a real Redis, a local site.

Two worker processes crawl a 500-issue site from one frontier: every issue is stored once, every issue
page fetched once, and the server never sees more requests per second than ``DISTRIBUTED_HOST_DELAY``
allows across both. A worker killed with SIGKILL midway leaves the requests it held; the other worker
crawls them. The recipe of docs/scaling.md runs exactly as written.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

redis = pytest.importorskip("redis", reason="the [distributed] extra is not installed")
pytest.importorskip("scrapy_redis", reason="the [distributed] extra is not installed")

from sqlalchemy import create_engine, text  # noqa: E402

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS  # noqa: E402
from tomtalks_scraper.demo_site.editable import EditableNewsletter  # noqa: E402
from tomtalks_scraper.demo_site.server import LocalSite  # noqa: E402
from tomtalks_scraper.demo_site.site import build_site, load_issues  # noqa: E402
from tomtalks_scraper.distributed.frontier import Frontier, FrontierKeys  # noqa: E402
from tomtalks_scraper.distributed.run import max_rate, start_worker  # noqa: E402
from tomtalks_scraper.distributed.seed import main as seed_main  # noqa: E402

pytestmark = pytest.mark.crawl
REPO = Path(__file__).resolve().parents[1]
ISSUES = 500
HOST_DELAY = 0.03  # 33 requests/s across both workers; unthrottled they reach 160-190/s here
KEYS = FrontierKeys("tomtalks", "newsletter")


@pytest.fixture
def newsletter_site() -> Iterator[tuple[LocalSite, EditableNewsletter]]:
    newsletter = EditableNewsletter(ISSUES)
    with LocalSite(build=newsletter.build) as site:
        yield site, newsletter


def issue_rows(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT url FROM issues"))]
    finally:
        engine.dispose()


def stored(database_url: str) -> int:
    try:
        return len(issue_rows(database_url))
    except Exception:  # noqa: BLE001 - the schema is created by the first worker
        return 0


def workers(database_url: str, redis_url: str, folder: Path, count: int, **extra: str) -> list[subprocess.Popen]:
    settings = {**LOOPBACK_SETTINGS, "DISTRIBUTED_HOST_DELAY": str(HOST_DELAY), "DISTRIBUTED_IDLE_EXIT": "2",
                "DISTRIBUTED_WORKER_TTL": "3", "LOG_LEVEL": "INFO",
                "EXTRACT_WORKERS": "1", **extra}  # two workers, one extraction process each: the 2 cores
    return [start_worker(database_url, redis_url, folder / f"worker-{i}.log", settings, REPO) for i in range(count)]


def finish(processes: list[subprocess.Popen], timeout: float = 90) -> None:
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def issue_fetches(site: LocalSite) -> dict[str, int]:
    return {path: n for path, n in site.requests.items() if path.startswith("/issues/")}


def test_two_workers_share_one_frontier(newsletter_site, redis_url, database_url, tmp_path):
    site, newsletter = newsletter_site
    processes = workers(database_url, redis_url, tmp_path, 2)
    assert seed_main(["seed", site.url(newsletter.start_path), "--redis", redis_url]) == 0
    finish(processes)
    logs = [(tmp_path / f"worker-{i}.log").read_text() for i in range(2)]
    assert all(p.returncode == 0 for p in processes), logs[0][-3000:] + logs[1][-3000:]

    urls = issue_rows(database_url)
    assert len(urls) == ISSUES and len(set(urls)) == ISSUES  # every issue stored exactly once
    fetched = issue_fetches(site)
    assert len(fetched) == ISSUES and set(fetched.values()) == {1}, "an issue page was fetched twice or never"
    # Both workers took requests from the frontier.
    dequeued = [int(m.group(1)) for log in logs for m in re.finditer(r"'scheduler/dequeued/redis': (\d+)", log)]
    assert len(dequeued) == 2 and min(dequeued) > 20, dequeued
    # The per-host rate held across both workers, as the server saw it (a little slack for timer jitter).
    rate = max_rate([t for t, _ in site.log])
    assert rate <= 1.15 / HOST_DELAY + 2, f"{rate} requests/s to one host; the shared limit is {1 / HOST_DELAY:.0f}/s"


def held_urls(server: redis.Redis, worker: str) -> list[str]:
    """The URLs of the requests a worker holds (popped, not yet done)."""
    return [pickle.loads(value.split(b"\n", 1)[1])["url"]
            for value in server.hvals(KEYS.processing(worker))]


def test_a_killed_workers_requests_are_crawled_by_the_other(newsletter_site, redis_url, database_url, tmp_path):
    site, newsletter = newsletter_site
    server = redis.Redis.from_url(redis_url)
    first, second = workers(database_url, redis_url, tmp_path, 2)
    assert seed_main(["seed", site.url(newsletter.start_path), "--redis", redis_url]) == 0
    deadline = time.monotonic() + 60
    while stored(database_url) < ISSUES // 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    joined = re.search(r"Frontier worker (\w+) joined", (tmp_path / "worker-0.log").read_text())
    assert joined, "the first worker did not join the frontier"
    victim = joined.group(1)
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait()
    held = held_urls(server, victim)
    assert held, "the killed worker held no request: the test did not kill it midway"

    finish([second])
    assert second.returncode == 0, (tmp_path / "worker-1.log").read_text()[-3000:]
    urls = issue_rows(database_url)
    assert len(urls) == ISSUES and len(set(urls)) == ISSUES
    assert set(issue_fetches(site)) == {p.path for p in newsletter.issues.values()}
    # What the killed worker held was fetched again after the kill (by the survivor: the victim is dead).
    paths = [url.removeprefix(site.base_url) for url in held]
    late = {path for t, path in site.log if t > killed_at}
    assert set(paths) <= late, f"never fetched after the kill: {sorted(set(paths) - late)[:5]}"
    assert "Requeued" in (tmp_path / "worker-1.log").read_text()
    assert not Frontier(server, KEYS).busy()


def test_a_worker_without_redis_says_what_to_fix(database_url, tmp_path):
    """Not ``RuntimeError: Engine slot not assigned`` (what a failing scrapy-redis scheduler gives): the setting."""
    result = subprocess.run(
        [*start_command(database_url, "redis://127.0.0.1:1/0")], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}, timeout=60)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr and "redis://127.0.0.1:1/0" in result.stderr
    assert "Engine slot not assigned" not in result.stderr


def start_command(database_url: str, redis_url: str) -> list[str]:
    from tomtalks_scraper.distributed.run import worker_command
    return worker_command(database_url, redis_url)


def test_seed_refuses_bad_urls(redis_url, capsys):
    assert seed_main(["seed", "ftp://example.com/feed", "--redis", redis_url]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err
    assert seed_main(["seed", "https://user:secret@example.com/feed", "--redis", redis_url]) == 2
    assert "credentials" in capsys.readouterr().err
    assert seed_main(["seed", "https://example.com/feed", "--redis", "redis://127.0.0.1:1/0"]) == 4


# docs/scaling.md ------------------------------------------------------------------------------------------


def recipe() -> str:
    text_ = (REPO / "docs" / "scaling.md").read_text()
    blocks = re.findall(r"^```sh distributed\n(.*?)^```", text_, flags=re.S | re.M)
    assert len(blocks) == 1, "docs/scaling.md must hold exactly one ```sh distributed block"
    return blocks[0]


def test_the_recipe_names_only_its_variables_and_backgrounds_each_worker():
    block = recipe()
    assert set(re.findall(r"\$\{?(\w+)", block)) <= {"REDIS_URL", "DATABASE_URL", "START_URL"}
    worker_lines = [line for line in block.splitlines() if "DISTRIBUTED=1" in line]
    assert len(worker_lines) >= 2 and all(line.rstrip().endswith("&") for line in worker_lines)
    assert "seed" in block and "wait" in block


@pytest.fixture
def recipe_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL when the fixture can start one, else SQLite."""
    try:
        return request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        return f"sqlite:///{tmp_path / 'archive.db'}"


def test_the_recipe_runs_as_written(redis_url, recipe_database, tmp_path):
    with LocalSite(build=build_site) as site:
        env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": recipe_database, "START_URL": site.url("/"),
               "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"}
        result = subprocess.run(["bash", "-c", recipe()], cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = issue_fetches(site)
    urls = issue_rows(recipe_database)
    assert len(urls) == len(set(urls)) == len(load_issues())
    assert fetched and set(fetched.values()) == {1}
    if recipe_database.startswith("sqlite"):
        with sqlite3.connect(recipe_database.removeprefix("sqlite:///")) as connection:
            assert connection.execute("SELECT count(*) FROM crawl_state").fetchone()[0] >= len(load_issues())


def _crawl_distributed(config: Path, redis_url: str, *names: str) -> str:
    """`tomtalks crawl --distributed` as cron runs it; its stdout (it must exit 0)."""
    result = subprocess.run([sys.executable, "-m", "tomtalks_scraper.cli", "crawl", "--distributed", "--config",
                             str(config), *names], cwd=REPO, env={**os.environ, "REDIS_URL": redis_url},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_tomtalks_crawl_distributed_seeds_the_configured_newsletters(redis_url, tmp_path):
    config = tmp_path / "newsletters.toml"
    config.write_text('[[newsletter]]\nname = "Ledger"\nurls = ["https://ledger.example/feed.xml"]\n\n'
                      '[[newsletter]]\nname = "Later"\nurls = []\n')
    stdout = _crawl_distributed(config, redis_url)
    assert "Ledger: seeded 1 start URL" in stdout and "Later: skipped" in stdout
    server = redis.Redis.from_url(redis_url)
    [queued] = [pickle.loads(data) for data in server.zrange(KEYS.queue, 0, -1)]
    assert queued["url"] == "https://ledger.example/feed.xml" and queued["callback"] == "parse_start"
    assert queued["meta"]["newsletter"] == "Ledger" and queued["dont_filter"]


def test_cron_seeding_follows_each_newsletters_schedule(redis_url, tmp_path):
    """Cron runs `tomtalks crawl --distributed` every hour: a daily newsletter is seeded once a day, one without a
    schedule every run, and naming a newsletter seeds it whatever its schedule."""
    config = tmp_path / "newsletters.toml"
    config.write_text('[[newsletter]]\nname = "Daily"\nurls = ["https://daily.example/feed.xml"]\n'
                      'schedule = "daily"\n\n[[newsletter]]\nname = "Always"\nurls = ["https://always.example/feed.xml"]\n')
    first, second = _crawl_distributed(config, redis_url), _crawl_distributed(config, redis_url)
    named = _crawl_distributed(config, redis_url, "Daily")
    assert "Daily: seeded" in first and "Always: seeded" in first
    assert "Daily: not due (schedule 'daily'" in second and "Always: seeded" in second
    assert "Daily: seeded" in named
