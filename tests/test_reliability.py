"""Reliability on the crawl path: rate limits, private addresses, the failures command."""

from __future__ import annotations

import json

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site
from tomtalks_scraper.middlewares import PrivateNetworkGuard, is_private_host, retry_after_seconds
from tomtalks_scraper.spiders.newsletter import NewsletterSpider

ISSUE = "/issues/homework-is-dead/"


def _feed(links: list[str]) -> Page:
    items = "".join(f"<item><title>Item {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Letters</title>{items}</channel></rss>'
                .encode(), "application/rss+xml")


def test_retry_after_values() -> None:
    assert retry_after_seconds(b"3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


@pytest.mark.parametrize(("host", "private"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("169.254.169.254", True), ("[::1]", True), ("localhost", True),
    ("192.168.0.10", True), ("93.184.216.34", False), ("example.com", False), ("localhost.example.com", False),
])
def test_private_hosts(host: str, private: bool) -> None:
    assert is_private_host(host) is private


def test_429_with_retry_after_is_honoured_then_stored(crawl) -> None:
    issue = build_site("http://unused")[ISSUE]
    with LocalSite(build=lambda base: {"/feed.xml": _feed([base + ISSUE]), ISSUE: issue}) as site:
        site.first_answers[ISSUE] = [Page(b"slow down", "text/plain", status=429, headers={"Retry-After": "2"})]
        archive = crawl(site.url("/feed.xml"))
        times = [moment for moment, path in site.log if path == ISSUE]
    assert len(times) == 2 and times[1] - times[0] >= 1.9
    assert [i["title"] for i in archive.list()] == ["Homework is dead, long live learning"]


def test_retry_after_beyond_the_maximum_is_recorded_for_the_next_run(crawl, database_url: str, capsys) -> None:
    issue = build_site("http://unused")[ISSUE]
    with LocalSite(build=lambda base: {"/feed.xml": _feed([base + ISSUE]), ISSUE: issue}) as site:
        site.first_answers[ISSUE] = [Page(b"later", "text/plain", status=429, headers={"Retry-After": "3600"})]
        archive = crawl(site.url("/feed.xml"))
        assert site.requests[ISSUE] == 1
    assert archive.list() == []
    assert main(["failures", "--db", database_url, "--json"]) == 0
    [failure] = json.loads(capsys.readouterr().out)
    assert (failure["reason"], failure["http_status"], failure["attempts"]) == ("http_429", 429, 1)
    assert failure["url"].endswith(ISSUE)


def test_private_network_guard_refuses_private_hosts_no_start_url_is_on() -> None:
    spider = NewsletterSpider(url="https://letters.example/feed")
    guard = PrivateNetworkGuard(crawler=None)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x", "http://localhost:8080/admin"):
        with pytest.raises(IgnoreRequest, match="private or loopback"):
            guard.process_request(Request(url), spider)
    assert guard.process_request(Request("https://letters.example/p/1"), spider) is None
    local = NewsletterSpider(url="http://127.0.0.1:8000/feed.xml")
    assert guard.process_request(Request("http://127.0.0.1:8000/p/1"), local) is None
    with pytest.raises(IgnoreRequest):
        guard.process_request(Request("http://127.0.0.2:8000/p/1"), local)
