"""Security through real crawls: hostile markup never reaches the stored bodies, credentials and cookies
are written nowhere, and redirects never lead the crawler onto private or link-local addresses."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults.helpers import GOOD, disallowed_markup, everything_stored, feed, good_issue

from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite, Page

PROSE = "".join(f"<p>Paragraph {i} of the letter, with enough plain words to count as a real issue body.</p>"
                for i in range(8))
HOSTILE = f"""<!DOCTYPE html><html><head><title>Hostile letter</title>
<meta property="og:title" content="Hostile letter"><meta property="og:image" content="javascript:alert('og')">
<link rel="canonical" href="javascript:alert('canonical')">
<style>body {{ background: url("javascript:alert('css')") }}</style><script>alert('head')</script></head>
<body onload="alert('onload')"><article><h1>Hostile letter</h1>
<p>Links: <a href="javascript:alert('plain')">plain</a>, <a href=" javascript:alert('space')">leading space</a>,
<a href="jav&#x09;ascript:alert('tab')">tab entity</a>, <a href="&#106;avascript:alert('entity')">entity</a>,
<a href="JaVaScRiPt:alert('case')">mixed case</a>, <a href="vbscript:msgbox('vb')">visual basic</a>,
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+">inline document</a> and
<a href="https://letters.example/ok" onclick="alert('click')" style="color:red">a real link</a>.</p>
<p>Images: <img src="https://letters.example/ok.png" onerror="alert('onerror')" alt="ok picture">
<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoJ3N2ZycpPjwvc3ZnPg==" alt="svg data picture">
<img src="javascript:alert('img')" alt="script picture"> in a row.</p>
<script>alert('body')</script><style>p {{ color: red }}</style>
<iframe src="https://evil.example/frame"></iframe><object data="evil.swf"></object>
<svg><script>alert('svg-script')</script><a href="javascript:alert('svg-link')"><text>svg</text></a></svg>
<form action="javascript:alert('form')"><input onfocus="alert('focus')" autofocus></form>
<p style="background:url(javascript:alert('style'))" onmouseover="alert('over')">A styled paragraph of words.</p>
<details open ontoggle="alert('toggle')"><summary>Summary</summary>Details of the letter.</details>
{PROSE}<embed src="evil.swf"></article></body></html>"""
FORBIDDEN = ("alert", "javascript", "vbscript", "data:", "onerror", "onclick", "onload", "<script", "<iframe",
             "<style", "<svg", "<object", "<embed", "<form")


def test_hostile_markup_never_reaches_the_archive(crawl) -> None:
    with LocalSite({"/hostile/": Page(HOSTILE.encode())}) as site:
        archive = crawl(site.url("/hostile/"))
    [summary] = archive.list()
    issue = archive.get(summary["id"])
    assert issue["title"] == "Hostile letter" and "Paragraph 7 of the letter" in issue["body_text"]
    assert disallowed_markup(issue["body_html"]) == []
    for field in ("body_html", "body_markdown", "body_text"):
        lowered = issue[field].lower()
        assert not [word for word in FORBIDDEN if word in lowered], field
    assert "[a real link](https://letters.example/ok)" in issue["body_markdown"]
    assert "![ok picture](https://letters.example/ok.png)" in issue["body_markdown"]
    assert issue["image_url"] is None and issue["canonical_url"] is None


def test_credentials_in_a_start_url_are_sent_as_a_header_and_written_nowhere(crawl, database_url: str,
                                                                            tmp_path: Path) -> None:
    cookie = "session=C00KIE-SECRET-42; Path=/; HttpOnly"
    pages = {GOOD: Page(good_issue().body, headers={"Set-Cookie": cookie})}
    with LocalSite(build=lambda base: {"/feed.xml": feed([base + GOOD, base + "/missing/"]), **pages}) as site:
        start = site.url("/feed.xml").replace("http://", "http://alice:S3cret%2Fpw@")
        log = tmp_path / "crawl.log"
        archive = crawl(start, settings={"LOG_FILE": str(log), "LOG_LEVEL": "DEBUG"})
        headers, issue_url = site.headers, site.url(GOOD)
    assert [issue["url"] for issue in archive.list()] == [issue_url]
    expected = "Basic " + base64.b64encode(b"alice:S3cret/pw").decode()
    assert all(sent.get("Authorization") == expected for path in ("/feed.xml", GOOD) for sent in headers[path])
    assert not any("Cookie" in sent for sent_list in headers.values() for sent in sent_list)
    stored, logged = everything_stored(database_url), log.read_text()
    assert "alice:" not in stored
    for secret in ("S3cret", "C00KIE-SECRET-42"):
        assert secret not in stored and secret not in logged
    assert "/feed.xml" in logged  # the log was written, at DEBUG level


@pytest.fixture
def second_machine() -> Iterator[LocalSite]:
    """A server on 127.0.0.2: another loopback address no start URL is on (an intranet host, say)."""
    try:
        site = LocalSite({"/secret/": Page(b"<html><body><p>intranet secret</p></body></html>")},
                         host="127.0.0.2").start()
    except OSError as error:
        pytest.skip(f"cannot listen on 127.0.0.2 here: {error}")
    yield site
    site.stop()


def _redirecting_site(second: LocalSite) -> dict[str, Page]:
    return {
        "/to-metadata/": Page(b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
        "/to-intranet/": Page(b"", status=302, headers={"Location": "http://10.0.0.1/"}),
        "/to-second/": Page(b"", status=301, headers={"Location": second.url("/secret/")}),
    }


def _private_redirects(crawl, database_url: str, second: LocalSite, settings: dict[str, str] | None = None) -> dict:
    pages = _redirecting_site(second)
    with LocalSite(build=lambda base: {"/feed.xml": feed([base + path for path in pages]), **pages}) as site:
        crawl(site.url("/feed.xml"), settings=settings)
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return {url.split("/", 3)[-1]: (reason, detail) for url, reason, detail
                in db.execute("SELECT url, reason, detail FROM rejected_pages")}


def test_redirects_to_private_addresses_are_refused_by_the_guard(crawl, database_url: str,
                                                                  second_machine: LocalSite) -> None:
    rejected = _private_redirects(crawl, database_url, second_machine)
    assert second_machine.requests["/secret/"] == 0
    assert set(rejected) == {"to-metadata/", "to-intranet/", "to-second/"}
    for reason, detail in rejected.values():
        assert reason == "private_address" and "redirected from" in detail
    assert "intranet secret" not in everything_stored(database_url)


def test_without_the_guard_the_redirect_would_be_followed(crawl, database_url: str,
                                                          second_machine: LocalSite) -> None:
    """The control experiment: the guard, not the offsite check, is what keeps the crawler out."""
    middlewares = {"scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                   "tomtalks_scraper.middlewares.RetryAfterMiddleware": 550}
    _private_redirects(crawl, database_url, second_machine, {"DOWNLOADER_MIDDLEWARES": json.dumps(middlewares)})
    assert second_machine.requests["/secret/"] == 1


def test_a_private_start_url_may_be_crawled(database_url: str, second_machine: LocalSite) -> None:
    """Private addresses are refused only when no start URL is on them."""
    second_machine.pages["/issue/"] = good_issue()
    run_crawl([second_machine.url("/issue/")], database_url, settings=LOOPBACK_SETTINGS, timeout=120)
    assert second_machine.requests["/issue/"] == 1
