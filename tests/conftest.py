"""Shared fixtures: local sites on 127.0.0.1, real crawls in a subprocess, the shared corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage import Archive
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site

REPO = Path(__file__).resolve().parents[1]
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


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


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
def module_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """Crawl into a database shared by one test module (for modules that read one crawl many ways)."""
    opened: list[Archive] = []
    yield crawler(f"sqlite:///{tmp_path_factory.mktemp('archive') / 'archive.db'}", opened)
    for archive in opened:
        archive.close()
