"""Hostile and broken feeds and sitemaps, all read in one real crawl (one start URL each): nothing is
expanded, no local file or network DTD is read, real entries are still read, and what cannot be read at
all is recorded as ``bad_feed`` / ``bad_sitemap``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site, load_issues

from .helpers import Outcome, everything_stored, outcome

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BOMB_DTD = f'<!ENTITY lol0 "lol">{LAUGHS}'
XXE_DTD = '<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY % remote SYSTEM "{base}/evil.dtd"> %remote;'
SLUGS = [issue.path for issue in load_issues()]


def _rss(body: str, dtd: str = "") -> Page:
    doctype = f"<!DOCTYPE rss [{dtd}]>" if dtd else ""
    return Page(f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel>{body}</channel></rss>'.encode(),
                "application/rss+xml")


def _urlset(body: str, dtd: str = "") -> Page:
    doctype = f"<!DOCTYPE urlset [{dtd}]>" if dtd else ""
    return Page(f'<?xml version="1.0"?>{doctype}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{body}</urlset>".encode(), "application/xml")


def _item(link: str, title: str = "An issue") -> str:
    return f"<item><title>{title}</title><link>{link}</link></item>"


#: start path → the issue path its listing names (None: nothing readable in it)
SOURCES = {"/bomb-feed.xml": SLUGS[0], "/bomb-sitemap.xml": SLUGS[1], "/xxe-feed.xml": SLUGS[2],
           "/xxe-sitemap.xml": SLUGS[3], "/truncated-feed.xml": SLUGS[4], "/broken-feed.xml": None,
           "/broken-sitemap.xml": None}


def _site(base: str) -> dict[str, Page]:
    xxe = XXE_DTD.format(base=base)
    pages = {path: page for path, page in build_site(base).items() if path in SLUGS}
    pages |= {
        "/bomb-feed.xml": _rss(f"<title>Laughs &lol9;</title>{_item(base + SLUGS[0], '&lol9;')}", BOMB_DTD),
        "/bomb-sitemap.xml": _urlset(f"<url><loc>{base}{SLUGS[1]}</loc><lastmod>&lol9;</lastmod></url>", BOMB_DTD),
        "/xxe-feed.xml": _rss(f"<title>Leak &xxe;</title>{_item(base + SLUGS[2], '&xxe;')}"
                              f"<item><title>x</title><link>&xxe;</link><description>&xxe;</description></item>", xxe),
        "/xxe-sitemap.xml": _urlset(f"<url><loc>{base}{SLUGS[3]}</loc></url><url><loc>&xxe;</loc></url>", xxe),
        "/truncated-feed.xml": Page(_rss(_item(base + SLUGS[4]) + _item(base + "/never-read/")).body[:-60],
                                    "application/rss+xml"),
        "/broken-feed.xml": Page(b'<?xml version="1.0"?><rss version="2.0"><channel><<<\x00\x01 not xml',
                                 "application/rss+xml"),
        "/broken-sitemap.xml": Page(b"<urlset <url><loc>garbage", "application/xml"),
        "/evil.dtd": Page(b'<!ENTITY leak "network DTD was read">', "application/xml-dtd"),
    }
    return pages


@pytest.fixture(scope="module")
def crawled(module_crawl) -> tuple[Outcome, str]:
    with LocalSite(build=_site) as site:
        archive = module_crawl(*[site.url(path) for path in SOURCES])
        return outcome(archive.url, site), everything_stored(archive.url)


@pytest.mark.parametrize(("source", "issue"), [(s, i) for s, i in SOURCES.items() if i])
def test_real_entries_are_read_from_hostile_listings(crawled, source: str, issue: str) -> None:
    result, _ = crawled
    assert issue in result.issues, f"{source} should have led to {issue}"
    assert source not in result.rejected


def test_no_entity_is_expanded_and_no_file_or_network_dtd_is_read(crawled) -> None:
    result, stored = crawled
    assert "lollollol" not in stored
    assert "network DTD was read" not in stored and result.requests.get("/evil.dtd", 0) == 0
    if "root:" not in Path("/etc/passwd").read_text(errors="replace"):
        pytest.skip("/etc/passwd holds no root entry here: nothing to leak")
    assert "root:" not in stored


@pytest.mark.parametrize(("source", "reason"), [("/broken-feed.xml", "bad_feed"),
                                                ("/broken-sitemap.xml", "bad_sitemap")])
def test_unreadable_listings_are_recorded(crawled, source: str, reason: str) -> None:
    result, _ = crawled
    assert result.rejected[source]["reason"] == reason
    assert "not well-formed XML" in result.rejected[source]["detail"]
