"""HTTP faults over two real crawls of one site into one archive: redirect loops, 404/410 (issues marked
gone, never deleted), 5xx retried then recorded, 503 with Retry-After, timeouts, LinkedIn's 999 and
auth-wall redirects (refused, then fetched again and stored by the next run)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite, Page

from .helpers import GOOD, Outcome, article, feed, good_issue, outcome

RECENT = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recent(title: str) -> Page:
    """An issue published yesterday: re-checked by every incremental run."""
    return Page(article(title, "what happened this week", head=f'<meta property="article:published_time" '
                                                              f'content="{RECENT}">').encode())


def _redirect(to: str, status: int = 302) -> Page:
    return Page(b"", status=status, headers={"Location": to})


def _site(base: str) -> dict[str, Page]:
    chain = {f"/chain/{i}": _redirect(f"/chain/{i + 1}") for i in range(25)}  # > REDIRECT_MAX_TIMES (20)
    pages = {
        "/loop-self/": _redirect("/loop-self/", 301),
        "/loop-a/": _redirect("/loop-b/"),
        "/loop-b/": _redirect("/loop-a/"),
        "/chain/0": chain["/chain/0"],
        "/gone-later/": _recent("Gone later"),
        "/removed-later/": _recent("Removed later"),
        "/never/": Page(b"<html><body>Not found</body></html>", status=404),
        "/withdrawn/": Page(b"<html><body>Gone</body></html>", status=410),
        "/flaky/": _recent("Flaky"),
        **{f"/down-{code}/": Page(b"<html><body>down</body></html>", status=code) for code in (500, 502, 503, 504)},
        "/refused-999/": Page(b"", "text/html", status=999),
        "/auth/": _redirect("/authwall?trk=public_post&sessionRedirect=%2Fauth%2F"),
        "/authwall": Page(b"<html><body><h1>Sign in</h1><p>Join now to see this.</p></body></html>"),
        "/slow/": Page(_recent("Slow").body, delay=3.0),
        GOOD: good_issue(),
    }
    links = [base + path for path in pages if path not in ("/loop-b/", "/authwall")]
    return {"/feed.xml": feed(links), **pages, **chain}


@dataclass
class Runs:
    first: Outcome
    second: Outcome
    database_url: str


@pytest.fixture(scope="module")
def runs(module_crawl) -> Runs:
    settings = {"DOWNLOAD_TIMEOUT": "1"}
    with LocalSite(build=_site) as site:
        site.first_answers["/flaky/"] = [Page(b"", status=503), Page(b"", status=502)]
        archive = module_crawl(site.url("/feed.xml"), settings=settings)
        first = outcome(archive.url, site)
        # Between the runs: two stored issues disappear, the refusals and the slow page come right.
        site.pages["/gone-later/"].status = 404
        site.pages["/removed-later/"].status = 410
        site.pages["/refused-999/"] = site.pages["/auth/"] = _recent("Readable now")
        site.pages["/slow/"].delay = 0
        site.requests.clear()
        module_crawl(site.url("/feed.xml"), settings=settings)
        return Runs(first, outcome(archive.url, site), archive.url)


@pytest.mark.parametrize("path", ["/loop-self/", "/loop-a/", "/chain/0"])
def test_redirect_loops_are_recorded(runs: Runs, path: str) -> None:
    rejected = runs.first.rejected[path]
    assert rejected["reason"] == "redirect_loop"
    assert path not in runs.first.issues


def test_a_loop_is_stopped_at_once(runs: Runs) -> None:
    assert runs.first.requests["/loop-self/"] == 1
    assert runs.first.requests["/loop-a/"] == runs.first.requests["/loop-b/"] == 1


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_server_errors_are_retried_then_recorded(runs: Runs, code: int) -> None:
    assert runs.first.requests[f"/down-{code}/"] == 3  # the first try and RETRY_TIMES=2
    rejected = runs.first.rejected[f"/down-{code}/"]
    assert (rejected["reason"], rejected["http_status"]) == (f"http_{code}", code)


def test_a_server_error_that_passes_is_stored(runs: Runs) -> None:
    assert runs.first.requests["/flaky/"] == 3 and runs.first.issues["/flaky/"]["title"] == "Flaky"


def test_503_with_retry_after_is_honoured_then_stored(crawl) -> None:
    """In a crawl of its own: the wait becomes the host's delay for the rest of that crawl."""
    with LocalSite(build=lambda base: {"/feed.xml": feed([base + "/busy/"]), "/busy/": _recent("Busy")}) as site:
        site.first_answers["/busy/"] = [Page(b"busy", "text/plain", status=503, headers={"Retry-After": "2"})]
        archive = crawl(site.url("/feed.xml"))
        times = [moment for moment, path in site.log if path == "/busy/"]
    assert len(times) == 2 and times[1] - times[0] >= 1.9
    assert [issue["title"] for issue in archive.list()] == ["Busy"]


def test_a_timeout_is_retried_recorded_and_fetched_again_next_run(runs: Runs) -> None:
    assert runs.first.requests["/slow/"] == 3
    assert runs.first.rejected["/slow/"]["reason"] == "timeout"
    assert runs.second.issues["/slow/"]["title"] == "Slow" and "/slow/" not in runs.second.rejected


@pytest.mark.parametrize(("path", "status"), [("/refused-999/", 999), ("/auth/", 302)])
def test_refusals_are_recorded_then_retried_and_stored_next_run(runs: Runs, path: str, status: int) -> None:
    rejected = runs.first.rejected[path]
    assert (rejected["reason"], rejected["http_status"]) == ("refused", status)
    assert not any(key.startswith("/authwall") for key in runs.first.rejected)  # recorded on the issue's URL
    assert runs.second.requests[path] == 1
    assert runs.second.issues[path]["title"] == "Readable now" and path not in runs.second.rejected


@pytest.mark.parametrize(("path", "status"), [("/gone-later/", 404), ("/removed-later/", 410)])
def test_a_stored_issue_that_disappears_is_marked_gone_and_kept(runs: Runs, path: str, status: int) -> None:
    before, after = runs.first.issues[path], runs.second.issues[path]
    assert before["gone_at"] is None and after["gone_at"] is not None
    assert (after["id"], after["body_text"]) == (before["id"], before["body_text"])
    assert path not in runs.second.rejected


@pytest.mark.parametrize(("path", "status"), [("/never/", 404), ("/withdrawn/", 410)])
def test_missing_pages_never_stored_are_recorded_each_run(runs: Runs, path: str, status: int) -> None:
    rejected = runs.second.rejected[path]
    assert (rejected["reason"], rejected["http_status"], rejected["attempts"]) == (f"http_{status}", status, 2)
    assert rejected["first_at"] <= rejected["last_at"]


def test_the_good_issue_is_not_fetched_again(runs: Runs) -> None:
    assert runs.first.requests[GOOD] == 1 and runs.second.requests.get(GOOD, 0) == 0


def test_failures_command_after_two_runs(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failures", "--db", runs.database_url, "--json"]) == 0
    rows = {row["url"].split("/", 3)[-1]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["never/"]["attempts"] == 2 and rows["down-503/"]["attempts"] == 2
    assert "slow/" not in rows and "refused-999/" not in rows  # stored since: no longer failures
