"""Broken and non-HTML content at issue URLs, through one real crawl: each page ends stored or recorded
with a reason, and the real issue listed after them is still stored."""

from __future__ import annotations

import json

import pytest

from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite, Page

from .helpers import GOOD, GOOD_TITLE, Outcome, feed, good_issue, outcome, path_of

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
TEASER = b"<html><head><title>Soon</title></head><body><article><p>Coming soon.</p></article></body></html>"
FAULT_PATHS = ["/malformed/", "/truncated/", "/cut/", "/report.pdf", "/cover.png", "/data.json", "/binary/",
               "/empty/", "/blank/", "/shell/", "/teaser/"]


def _site(base: str) -> dict[str, Page]:
    issue = good_issue().body
    malformed = (issue.replace(b"</p>", b"").replace(b"<div", b"<div <<>> &bogus; ", 3)
                 .replace(b"</body></html>", b"<table><tr><td>unclosed"))
    links = [base + path for path in FAULT_PATHS]
    links += ["http://[oops/", "javascript:alert(1)",  # unusable links before the real issue
              f"{base}{GOOD}?utm_source=newsletter&utm_medium=email", f"{base}{GOOD}?fbclid=IwAR0abc", base + GOOD]
    return {
        "/feed.xml": feed(links),
        "/malformed/": Page(malformed),
        "/truncated/": Page(issue[: len(issue) * 2 // 3]),  # the markup stops mid-page, the answer is complete
        "/cut/": Page(issue[:3000], headers={"Content-Length": str(len(issue))}),  # the connection drops early
        "/report.pdf": Page(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
        "/cover.png": Page(PNG, "image/png"),
        "/data.json": Page(b'{"title": "Not an issue", "body": "json"}', "application/json"),
        "/binary/": Page(PNG, "text/html"),
        "/empty/": Page(b"", "text/html"),
        "/blank/": Page(b"  \n\t  ", "text/html; charset=utf-8"),
        "/shell/": Page(b"<html><head><title>Shell</title></head><body></body></html>"),
        "/teaser/": Page(TEASER),
        GOOD: good_issue(),
    }


@pytest.fixture(scope="module")
def crawled(module_crawl) -> tuple[Outcome, str]:
    with LocalSite(build=_site) as site:
        archive = module_crawl(site.url("/feed.xml"))
        return outcome(archive.url, site), archive.url


def test_the_real_issue_is_stored_once_whatever_came_before_it(crawled) -> None:
    result, _ = crawled
    assert result.issues[GOOD]["title"] == GOOD_TITLE
    assert result.requests[GOOD] == 1  # listed three times (twice with tracking parameters): fetched once
    assert [path for path in result.issues if path.startswith(GOOD)] == [GOOD]


def test_malformed_and_truncated_markup_is_stored_best_effort(crawled) -> None:
    result, _ = crawled
    for path in ("/malformed/", "/truncated/"):
        stored = result.issues[path]
        assert stored["title"] == GOOD_TITLE
        assert stored["body_text"].startswith("Welcome to TomTalks, where #AInews meets #innovationPOV.")
    assert result.issues["/truncated/"]["word_count"] < result.issues[GOOD]["word_count"]


@pytest.mark.parametrize(("path", "reason", "detail"), [
    ("/report.pdf", "not_html", "application/pdf"),
    ("/cover.png", "not_html", "image/png"),
    ("/data.json", "not_html", "application/json"),
    ("/binary/", "not_html", "binary data"),
    ("/empty/", "too_short", "empty"),
    ("/blank/", "too_short", "empty"),
    ("/shell/", "too_short", "0 words"),
    ("/teaser/", "too_short", "words in the body"),
    ("/cut/", "truncated", "ResponseDataLossError"),
])
def test_pages_that_are_not_issues_are_recorded_with_a_reason(crawled, path: str, reason: str, detail: str) -> None:
    result, _ = crawled
    assert path not in result.issues
    assert result.rejected[path]["reason"] == reason
    assert detail in result.rejected[path]["detail"]


def test_a_connection_cut_short_is_retried_before_it_is_recorded(crawled) -> None:
    result, _ = crawled
    assert result.requests["/cut/"] == 3  # the first try and RETRY_TIMES=2


def test_unusable_links_in_a_feed_are_recorded_and_do_not_stop_it(crawled) -> None:
    result, _ = crawled
    assert result.rejected["http://[oops/"]["reason"] == "bad_url"
    assert result.rejected["javascript:alert(1)"]["reason"] == "bad_url"
    assert "/feed.xml" not in result.rejected


def test_failures_command_lists_each_case(crawled, capsys: pytest.CaptureFixture[str]) -> None:
    result, database_url = crawled
    assert main(["failures", "--db", database_url, "--json"]) == 0
    rows = {path_of(row["url"]): row for row in json.loads(capsys.readouterr().out)}
    stored_faults = {"/malformed/", "/truncated/"}
    assert set(rows) == set(result.rejected) == set(FAULT_PATHS) - stored_faults | {"http://[oops/",
                                                                                    "javascript:alert(1)"}
    for row in rows.values():
        assert {"url", "reason", "http_status", "attempts", "first_at", "last_at", "detail"} <= set(row)
        assert row["attempts"] == 1 and row["first_at"] == row["last_at"]
    assert rows["/empty/"]["http_status"] == 200 and rows["/cut/"]["http_status"] is None
    assert main(["failures", "--db", database_url]) == 0
    assert "page(s) not stored" in capsys.readouterr().out
