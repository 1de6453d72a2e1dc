"""``tomtalks serve``: Datasette on loopback over a real archive, queried through its JSON API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote

import pytest

from storage import Archive
from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site, load_issues

pytest.importorskip("datasette", reason="Datasette is the optional [serve] extra")

REPO = Path(__file__).resolve().parents[1]
WAREHOUSE = "The warehouse is AI's toughest proving ground"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def archive_path(module_crawl) -> Path:
    with LocalSite(build=build_site) as site:
        archive: Archive = module_crawl(site.url("/feed.xml"))
    body = "The harbour warehouse stores grain."
    archive.save_issue(
        url="https://harbour.example/p/1", newsletter="Harbour Notes", newsletter_url="https://harbour.example/",
        raw_html=None,
        values={"canonical_url": None, "platform": "ghost", "title": "Grain at the quay", "author": "Ann Author",
                "authors": ["Ann Author"], "published_at": "2023-03-01T09:00:00Z", "modified_at": None,
                "description": None, "tags": [], "image_url": None, "language": "en", "body_text": body,
                "body_markdown": body, "body_html": f"<p>{body}</p>", "word_count": 5, "content_hash": "h",
                "http_status": 200, "extractor": "t", "extractor_version": "1", "access": "paid_full"},
    )
    return Path(archive.url.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def server(archive_path: Path) -> Iterator[str]:
    """``tomtalks serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tomtalks_scraper.cli", "serve", "--db", str(archive_path), "--port", str(port),
         "--no-open"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "BROWSER": "true"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
                break
            except (URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"tomtalks serve did not start: {output}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_full_text_search_on_issues(server: str) -> None:
    data = get_json(f"{server}/archive/issues.json?_search=warehouse&_shape=objects&_col=title")
    assert {row["title"] for row in data["rows"]} == {
        WAREHOUSE, "Main Street doesn't need a moonshot, it needs a Tuesday win", "Grain at the quay"}
    phrase = quote('"toughest proving ground"')
    raw = get_json(f"{server}/archive/issues.json?_search={phrase}&_searchmode=raw&_shape=objects&_col=title")
    assert [row["title"] for row in raw["rows"]] == [WAREHOUSE]


def test_default_facets_newsletter_author_year_access(server: str) -> None:
    facets = get_json(f"{server}/archive/issues.json?_size=0")["facet_results"]
    counts = {name: {r["label"]: r["count"] for r in facet["results"]} for name, facet in facets.items()}
    demo = len(load_issues())
    assert counts["newsletter_id"] == {"TomTalks": demo, "Harbour Notes": 1}  # labels, not ids
    assert counts["author"] == {"Tom Popomaronis": demo, "Ann Author": 1}
    assert counts["published_at"] == {"2024": demo, "2023": 1} and facets["published_at"]["type"] == "year"
    assert counts["access"] == {"free": demo, "paid_full": 1}


def test_year_facet_selects_a_year(server: str) -> None:
    data = get_json(f"{server}/archive/issues.json?_search=warehouse&_shape=objects&_col=title"
                    "&published_at__startswith=2023")
    assert [row["title"] for row in data["rows"]] == ["Grain at the quay"]
    year = data["facet_results"]["published_at"]["results"]
    assert year == [{"value": "2023", "label": "2023", "count": 1, "selected": True,
                     "toggle_url": year[0]["toggle_url"]}]
    assert "published_at__startswith" not in year[0]["toggle_url"]  # clicking it again removes the filter


def test_ranked_search_query(server: str) -> None:
    data = get_json(f"{server}/archive/search.json?q=warehouse&_shape=objects")
    assert data["rows"][0]["title"] == WAREHOUSE  # title match first
    assert "**warehouse**" in data["rows"][0]["snippet"].lower()


def test_urls_are_links(server: str) -> None:
    page = urllib.request.urlopen(f"{server}/archive/issues?_col=url", timeout=30).read().decode()
    assert '<a href="https://harbour.example/p/1">https://harbour.example/p/1</a>' in page


def test_serves_the_archive_file_live(server: str, archive_path: Path) -> None:
    """Mutable (read-only ``mode=ro`` connections), not immutable: what the crawl adds shows up without a restart."""
    [database] = [d for d in get_json(f"{server}/-/databases.json") if d["name"] == "archive"]
    assert database["is_mutable"] is True and database["path"] == str(archive_path.resolve())
    writer = Archive.open(str(archive_path))
    try:
        with writer.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE issues SET title = 'Grain at the quay, revised' WHERE url = ?",
                                       ("https://harbour.example/p/1",))
        data = get_json(f"{server}/archive/issues.json?_search=grain&_shape=objects&_col=title")
        assert [row["title"] for row in data["rows"]] == ["Grain at the quay, revised"]
    finally:
        with writer.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE issues SET title = 'Grain at the quay' WHERE url = ?",
                                       ("https://harbour.example/p/1",))
        writer.close()


def test_serve_without_an_archive_is_an_error(capsys, tmp_path: Path) -> None:
    code = main(["serve", "--db", str(tmp_path / "none.db"), "--no-open"])
    assert code == 1 and "no database at" in capsys.readouterr().err
