"""Real crawls (``scrapy crawl`` subprocesses) of local sites, checked in the database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site, load_issues

REPO = Path(__file__).resolve().parents[1]
DEMO_ISSUES = len(load_issues())


def _issue_paths(site: LocalSite) -> dict[str, int]:
    return {path: count for path, count in site.requests.items() if path.startswith("/issues/")}


def test_home_page_leads_to_the_feed_and_every_issue(demo_site: LocalSite, crawl) -> None:
    archive = crawl(demo_site.url("/"))
    issues = archive.list()
    assert len(issues) == DEMO_ISSUES
    assert demo_site.requests["/feed.xml"] == 1
    assert {i["newsletter"] for i in issues} == {"TomTalks"}
    assert all(i["published_at"] and i["published_at"].endswith("Z") for i in issues)
    assert [i["published_at"] for i in issues] == sorted((i["published_at"] for i in issues), reverse=True)
    netflix = archive.get(demo_site.url("/issues/netflix-900000-ai-job/"))
    assert netflix["title"] == "The real story behind Netflix's $900,000 AI job"
    assert netflix["author"] == "Tom Popomaronis"
    assert netflix["body_text"].startswith("Welcome to TomTalks, where #AInews meets #innovationPOV.")
    for chrome in ("Subscribe to TomTalks", "More from TomTalks", "Get every issue in your inbox", "RSS"):
        assert chrome not in netflix["body_text"]
    assert archive.stats()[0]["home_url"] == demo_site.url("/")


def _without_feed(base: str) -> dict[str, Page]:
    """The demo site as a site with no feed: no /feed.xml and no <link rel="alternate"> to it."""
    link = f'<link rel="alternate" type="application/rss+xml" title="TomTalks" href="{base}/feed.xml">'.encode()
    return {path: Page(page.body.replace(link, b""), page.content_type)
            for path, page in build_site(base).items() if path != "/feed.xml"}


def test_archive_pagination_is_followed_when_there_is_no_feed(crawl) -> None:
    with LocalSite(build=_without_feed) as site:
        archive = crawl(site.url("/archive/"))
        assert site.requests["/archive/page/2/"] == 1 and site.requests["/archive/page/3/"] == 1
        assert site.requests["/about/"] == 0  # navigation links are not issues
        assert all(count == 1 for count in _issue_paths(site).values())
    assert len(archive.list()) == DEMO_ISSUES


def test_sitemap_start_url_lists_every_issue(demo_site: LocalSite, crawl) -> None:
    archive = crawl(demo_site.url("/sitemap.xml"))
    assert len(archive.list()) == DEMO_ISSUES
    assert demo_site.requests["/feed.xml"] == 0


def test_single_issue_and_comma_separated_urls(demo_site: LocalSite, crawl) -> None:
    one = demo_site.url("/issues/homework-is-dead/")
    two = demo_site.url("/issues/warehouse-robotics/")
    archive = crawl(f"{one},{two}")
    assert sorted(i["url"] for i in archive.list()) == sorted([one, two])
    assert set(_issue_paths(demo_site)) == {"/issues/homework-is-dead/", "/issues/warehouse-robotics/"}


def test_recrawl_updates_in_place_without_duplicates(demo_site: LocalSite, crawl, database_url: str) -> None:
    first = {i["url"]: (i["id"], i["fetched_at"]) for i in crawl(demo_site.url("/feed.xml")).list()}
    second = {i["url"]: (i["id"], i["fetched_at"]) for i in crawl(demo_site.url("/feed.xml")).list()}
    assert {url: ids for url, (ids, _) in first.items()} == {url: ids for url, (ids, _) in second.items()}
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == DEMO_ISSUES
        assert db.execute("SELECT count(*) FROM issues_fts").fetchone()[0] == DEMO_ISSUES
        assert db.execute("SELECT count(*) FROM newsletters").fetchone()[0] == 1


def _feed(links: list[str]) -> Page:
    """An RSS feed listing ``links`` (absolute URLs)."""
    items = "".join(f"<item><title>Item {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Mixed bag</title>'
                f"{items}</channel></rss>".encode(), "application/rss+xml")


def test_only_start_hosts_are_followed(crawl) -> None:
    issue = build_site("http://unused")["/issues/homework-is-dead/"]

    def build(base: str) -> dict[str, Page]:
        other_host = base.replace("127.0.0.1", "localhost")  # same server, another host name
        return {
            "/feed.xml": _feed([f"{base}/issues/homework-is-dead/", f"{other_host}/offsite/"]),
            "/issues/homework-is-dead/": issue,
            "/offsite/": issue,
        }

    with LocalSite(build=build) as site:
        archive = crawl(site.url("/feed.xml"))
        assert site.requests["/offsite/"] == 0
    assert [i["title"] for i in archive.list()] == ["Homework is dead, long live learning"]


def test_failures_are_recorded_with_reasons_and_the_crawl_goes_on(crawl, database_url: str) -> None:
    demo = build_site("http://unused")
    teaser = b"<html><head><title>Soon</title></head><body><article><p>Coming soon.</p></article></body></html>"

    def build(base: str) -> dict[str, Page]:
        paths = ["/issues/homework-is-dead/", "/gone/", "/report.pdf", "/teaser/", "/refused/", "/broken/"]
        return {
            "/feed.xml": _feed([base + path for path in paths]),
            "/issues/homework-is-dead/": demo["/issues/homework-is-dead/"],
            "/report.pdf": Page(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
            "/teaser/": Page(teaser),
            "/refused/": Page(b"", "text/html", status=999),
            "/broken/": Page(b"<html><body>oops</body></html>", status=500),
        }

    with LocalSite(build=build) as site:
        archive = crawl(site.url("/feed.xml"))
        assert site.requests["/broken/"] == 3  # first try + RETRY_TIMES=2
    assert len(archive.list()) == 1
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        reasons = dict(db.execute("SELECT substr(url, instr(url, '://') + 3), reason FROM rejected_pages"))
    reasons = {url.split("/", 1)[1]: reason for url, reason in reasons.items()}
    assert reasons == {
        "gone/": "http_404", "report.pdf": "not_html", "teaser/": "too_short", "refused/": "refused",
        "broken/": "http_500",
    }
    assert archive.stats()[0]["rejected"] == 5


def _scrapy(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_scrapy_feed_export_and_environment_database(demo_site: LocalSite, tmp_path: Path) -> None:
    """`-O issues.jsonl` works as in any Scrapy project; $TOMTALKS_DATABASE_URL picks the database."""
    shutil.copy(REPO / "scrapy.cfg", tmp_path / "scrapy.cfg")
    result = _scrapy(["crawl", "newsletter", "-a", f"url={demo_site.url('/feed.xml')}", "-O", "issues.jsonl",
                      "-s", "LOG_LEVEL=WARNING", *_loopback_args()], tmp_path,
                     {"TOMTALKS_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}"})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "issues.jsonl").read_text().splitlines()]
    assert len(records) == DEMO_ISSUES
    assert {"id", "url", "title", "author", "published_at", "body_text", "body_markdown"} <= set(records[0])
    with sqlite3.connect(tmp_path / "env.db") as db:
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == DEMO_ISSUES
    assert not (tmp_path / "data").exists()  # the default database was not used


def _loopback_args() -> list[str]:
    return [arg for name, value in LOOPBACK_SETTINGS.items() for arg in ("-s", f"{name}={value}")]


def test_default_database_is_data_newsletters_db(demo_site: LocalSite, tmp_path: Path) -> None:
    shutil.copy(REPO / "scrapy.cfg", tmp_path / "scrapy.cfg")
    env = {k: v for k, v in os.environ.items() if k != "TOMTALKS_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "newsletter",
         "-a", f"url={demo_site.url('/issues/homework-is-dead/')}",
         "-s", "LOG_LEVEL=WARNING", *_loopback_args()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "data" / "newsletters.db") as db:
        assert db.execute("SELECT title FROM issues").fetchall() == [("Homework is dead, long live learning",)]


def test_tomtalks_preset_without_url_stops_and_names_the_key(tmp_path: Path) -> None:
    shutil.copy(REPO / "scrapy.cfg", tmp_path / "scrapy.cfg")
    shutil.copy(REPO / "newsletters.toml", tmp_path / "newsletters.toml")
    result = _scrapy(["crawl", "tomtalks", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}"], tmp_path, {})
    assert result.returncode != 0
    assert "newsletters.toml" in result.stderr and "`urls`" in result.stderr and "TomTalks" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_tomtalks_preset_crawls_the_configured_entry(demo_site: LocalSite, tmp_path: Path) -> None:
    shutil.copy(REPO / "scrapy.cfg", tmp_path / "scrapy.cfg")
    (tmp_path / "newsletters.toml").write_text(
        f'[[newsletter]]\nname = "TomTalks demo"\nurls = ["{demo_site.url("/feed.xml")}"]\n', encoding="utf-8"
    )
    result = _scrapy(["crawl", "tomtalks", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}", *_loopback_args()],
                     tmp_path, {})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "x.db") as db:
        assert db.execute("SELECT name FROM newsletters").fetchall() == [("TomTalks demo",)]
        assert db.execute("SELECT count(*) FROM issues").fetchone()[0] == DEMO_ISSUES


@pytest.mark.parametrize("bad", ["", "not a url"])
def test_newsletter_spider_without_usable_url_fails_clearly(bad: str, tmp_path: Path) -> None:
    shutil.copy(REPO / "scrapy.cfg", tmp_path / "scrapy.cfg")
    args = ["crawl", "newsletter", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}"]
    if bad:
        args += ["-a", f"url={bad}"]
    result = _scrapy(args, tmp_path, {})
    assert result.returncode != 0
    assert "-a url=URL" in result.stderr or "is not an http(s) URL" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_spider_callbacks_are_generators_without_return_values() -> None:
    """Scrapy's own check is switched off (settings.WARN_ON_GENERATOR_RETURN_VALUE: it re-parses a callback's
    source on every response); it runs here instead, on every generator method of our spiders."""
    import inspect

    from scrapy.utils.misc import is_generator_with_return_value

    from tomtalks_scraper.spiders.newsletter import NewsletterSpider
    from tomtalks_scraper.spiders.tomtalks import TomTalksSpider

    checked = []
    for spider in (NewsletterSpider, TomTalksSpider):
        for name, method in inspect.getmembers(spider, inspect.isgeneratorfunction):
            assert not is_generator_with_return_value(method), f"{spider.__name__}.{name} returns a value"
            checked.append(name)
    assert {"parse_start", "parse_listing", "parse_issue", "on_error"} <= set(checked)
