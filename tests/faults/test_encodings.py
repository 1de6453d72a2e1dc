"""Wrong, missing and lying charsets, through one real crawl: the stored text reads "café" and "日本語"."""

from __future__ import annotations

import pytest

from tomtalks_scraper.demo_site.server import LocalSite, Page

from .helpers import Outcome, article, feed, outcome

CAFE = "Café crème"
NIHONGO = "日本語のニュース"


def _page(title: str, words: str, encoding: str, content_type: str = "text/html", head: str = "") -> Page:
    return Page(article(title, words, head=head).encode(encoding), content_type)


PAGES = {
    "/cp1252-declared/": _page(CAFE, "the café", "cp1252", "text/html; charset=windows-1252"),
    "/cp1252-undeclared/": _page(CAFE, "the café", "cp1252"),
    "/shift-jis-header/": _page(NIHONGO, "日本語 の 記事", "shift_jis", "text/html; charset=Shift_JIS"),
    "/shift-jis-meta/": _page(NIHONGO, "日本語 の 記事", "shift_jis", head='<meta charset="shift_jis">'),
    "/utf8-bom-header-says-latin1/": Page(b"\xef\xbb\xbf" + article(CAFE, "the café 日本語").encode(),
                                          "text/html; charset=iso-8859-1"),
    "/meta-says-latin1-bytes-are-utf8/": _page(CAFE, "the café", "utf-8", head='<meta charset="iso-8859-1">'),
    "/header-says-latin1-bytes-are-utf8/": _page(CAFE, "the café", "utf-8", "text/html; charset=iso-8859-1"),
    "/meta-says-utf8-bytes-are-cp1252/": _page(CAFE, "the café", "cp1252", head='<meta charset="utf-8">'),
}
CONTROL = "/control-characters/"


def _site(base: str) -> dict[str, Page]:
    control = article("Control characters", "a bell\x07 an escape\x1b and a form feed\x0c in the text").encode()
    return {"/feed.xml": feed([base + path for path in [*PAGES, CONTROL]]), **PAGES, CONTROL: Page(control)}


@pytest.fixture(scope="module")
def crawled(module_crawl) -> Outcome:
    with LocalSite(build=_site) as site:
        return outcome(module_crawl(site.url("/feed.xml")).url, site)


@pytest.mark.parametrize("path", list(PAGES))
def test_stored_text_is_decoded_right(crawled: Outcome, path: str) -> None:
    issue = crawled.issues[path]
    expected = NIHONGO if "shift-jis" in path else CAFE
    assert issue["title"] == expected
    word = "日本語" if "shift-jis" in path else "café"
    assert word in issue["body_text"] and word in issue["body_markdown"] and word in issue["body_html"]
    for mojibake in ("Ã", "\ufffd", "ï»¿", "\ufeff"):
        assert mojibake not in issue["title"] + issue["body_text"]


def test_control_characters_are_dropped_not_fatal(crawled: Outcome) -> None:
    issue = crawled.issues[CONTROL]
    assert "a bell an escape and a form feed in the text" in issue["body_text"]
    assert not any(char in issue["body_text"] for char in "\x07\x1b\x0c")


def test_control_characters_do_not_break_a_platform_adapter(crawl) -> None:
    """The LinkedIn adapter sets element text, which lxml refuses with control characters in it."""
    page = Page(article("Control characters", "a bell\x07 an escape\x1b in a post").encode())
    with LocalSite({"/post/": page}) as site:
        archive = crawl(site.url("/post/"), spider_args={"platform": "linkedin"})
    [issue] = archive.list()
    assert issue["title"] == "Control characters"
    assert "a bell an escape in a post" in archive.get(issue["id"])["body_text"]
