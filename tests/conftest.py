"""Shared fixtures: local sites on 127.0.0.1, real crawls in a subprocess, the shared corpus."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from backends import PostgresServer, RedisServer, Unavailable

from storage import Archive
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site

REPO = Path(__file__).resolve().parents[1]
Server = TypeVar("Server", PostgresServer, RedisServer)
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared corpus beside the clone; tests that need it are skipped without it."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"the shared corpus is not at {SHARED} (it sits beside the clone in CI and dev sessions)")
    return SHARED


@pytest.fixture
def demo_site() -> Iterator[LocalSite]:
    """The bundled example newsletter, served on a free loopback port."""
    with LocalSite(build=build_site) as site:
        yield site


#: Backends a test can run against. A module opts in with ``pytestmark = pytest.mark.both_backends``: its
#: tests that use ``database_url`` (or ``module_crawl``) then run once per backend; a test marked
#: ``sqlite_only`` (file locking, WAL, FTS5 syntax) keeps to SQLite.
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the module's database tests on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: inherently SQLite-specific (file locking, WAL, FTS5 syntax)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not metafunc.definition.get_closest_marker("both_backends"):
        return
    backends = ["sqlite"] if metafunc.definition.get_closest_marker("sqlite_only") else list(BACKENDS)
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", backends, indirect=True)
    if "module_database_url" in metafunc.fixturenames:
        metafunc.parametrize("module_database_url", backends, indirect=True, scope="module")


REQUIRE_SERVERS_ENV = "TOMTALKS_REQUIRE_SERVERS"


def _server(kind: Callable[[], Server], what: str) -> Iterator[Server]:
    """The server, or a skip saying why; a failure instead where ``$TOMTALKS_REQUIRE_SERVERS`` is set (CI sets
    it once it has installed the binaries, so the PostgreSQL and Redis tests cannot silently stop running)."""
    try:
        server = kind()
    except Unavailable as error:
        if os.environ.get(REQUIRE_SERVERS_ENV):
            pytest.fail(f"no {what} for the {what} tests although ${REQUIRE_SERVERS_ENV} is set: {error}")
        pytest.skip(f"no {what} for the {what} tests: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster on 127.0.0.1 for the whole run (or ``$TOMTALKS_TEST_POSTGRES_URL``)."""
    yield from _server(PostgresServer, "PostgreSQL")


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new empty PostgreSQL database for this test (``postgresql+psycopg://…``), dropped after it."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private ``redis-server`` on 127.0.0.1 without persistence (or ``$TOMTALKS_TEST_REDIS_URL``)."""
    yield from _server(RedisServer, "Redis")


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The Redis server's URL (``redis://127.0.0.1:PORT/0``), emptied before this test."""
    redis_server.flush()
    return redis_server.url


def _backend_url(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{folder / 'archive.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """This test's own empty database: a SQLite file, or in ``both_backends`` modules also a PostgreSQL one."""
    yield from _backend_url(request, tmp_path)


@pytest.fixture
def archive(database_url: str) -> Iterator[Archive]:
    """An opened archive on this test's own empty database (either backend, like ``database_url``)."""
    opened = Archive.open(database_url, create=True)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database shared by one test module (per backend in ``both_backends`` modules)."""
    yield from _backend_url(request, tmp_path_factory.mktemp("archive"))


Crawl = Callable[..., Archive]


def crawler(database_url: str, opened: list[Archive]) -> Crawl:
    """A function running real ``scrapy crawl`` subprocesses into ``database_url``; returns the archive."""

    def run(*urls: str, spider: str = "newsletter", settings: dict[str, str] | None = None,
            spider_args: dict[str, str] | None = None) -> Archive:
        run_crawl(list(urls), database_url, spider=spider, settings={**LOOPBACK_SETTINGS, **(settings or {})},
                  spider_args=spider_args, timeout=120)
        archive = Archive.open(database_url)
        opened.append(archive)
        return archive

    return run


@pytest.fixture
def crawl(database_url: str) -> Iterator[Crawl]:
    """Crawl into this test's own database."""
    opened: list[Archive] = []
    yield crawler(database_url, opened)
    for archive in opened:
        archive.close()


@pytest.fixture(scope="module")
def module_crawl(module_database_url: str) -> Iterator[Crawl]:
    """Crawl into a database shared by one test module (for modules that read one crawl many ways)."""
    opened: list[Archive] = []
    yield crawler(module_database_url, opened)
    for archive in opened:
        archive.close()
