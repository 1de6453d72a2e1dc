"""Properties over generated input (hypothesis): URL normal forms, the platform adapters and the extract
stage never fail in ways the crawl cannot record, whatever a page or a listing holds.

Pages are built from a small grammar of the markup adapters look at (metadata, JSON-LD, links, articles,
listings) mixed with random text and bytes. Examples are bounded so the module stays fast.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import parse_qsl, urlsplit

from faults.helpers import disallowed_markup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from tomtalks_scraper.discovery.listings import API, ARCHIVE, FEED, SITEMAP, Listing
from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue, parse_html
from tomtalks_scraper.extraction.sanitize import sanitize_markdown
from tomtalks_scraper.items import FetchFailure
from tomtalks_scraper.page_text import xml_safe
from tomtalks_scraper.platforms import all_adapters
from tomtalks_scraper.spiders.newsletter import NewsletterSpider, SourcePlan
from tomtalks_scraper.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    host_of,
    is_fetchable,
    is_tracking_param,
    join_url,
    normalize_url,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ADAPTERS = sorted(all_adapters())

# URLs --------------------------------------------------------------------------------------------

URL_CHARS = st.sampled_from(list("aZ09:/?#[]@!$&'()*+,;=%-._~ \t\n\x0b\x00İßé\u3000"))
URLISH = st.builds(lambda prefix, rest: prefix + rest,
                   st.sampled_from(["http://", "https://", "HTTP://", "//", "", "mailto:", "javascript:"]),
                   st.text(URL_CHARS, max_size=40))
ANY_URL_TEXT = st.one_of(st.text(max_size=80), URLISH)
NAME = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
TRACKING_NAME = st.one_of(st.sampled_from(sorted(TRACKING_PARAMS)),
                          st.builds(lambda p, n: p + n, st.sampled_from(TRACKING_PREFIXES), NAME))
PARAM = st.tuples(st.one_of(NAME, TRACKING_NAME), st.text("abc123-_.", max_size=6))


@FAST
@given(ANY_URL_TEXT)
def test_normalize_url_never_raises_and_is_idempotent(text: str) -> None:
    normal = normalize_url(text)
    assert normalize_url(normal) == normal


@FAST
@given(ANY_URL_TEXT, ANY_URL_TEXT)
def test_url_helpers_never_raise(base: str, link: str) -> None:
    host_of(link)
    is_fetchable(join_url(base, link))


@FAST
@given(st.sampled_from(["http", "https"]), st.sampled_from(["Letters.Example", "www.x.example:8080", "[::1]"]),
       st.text("abc/-_", max_size=20), st.lists(PARAM, max_size=6))
def test_tracking_parameters_are_dropped_and_the_others_kept(scheme: str, host: str, path: str,
                                                             params: list[tuple[str, str]]) -> None:
    query = "&".join(f"{name}={value}" for name, value in params)
    normal = normalize_url(f"{scheme}://{host}/{path}?{query}#frag")
    kept = parse_qsl(urlsplit(normal).query, keep_blank_values=True)
    assert not any(is_tracking_param(name) for name, _ in kept)
    assert sorted(kept) == sorted((n, v) for n, v in params if not is_tracking_param(n))
    assert "#" not in normal and normalize_url(normal) == normal


# Pages -------------------------------------------------------------------------------------------

TAGS = ["html", "head", "body", "title", "meta", "link", "script", "article", "main", "section", "div", "p", "a",
        "h1", "span", "time", "img", "header", "rss", "item", "feed", "entry", "urlset", "url", "loc", "svg"]
ATTRIBUTES = ["class", "id", "href", "src", "property", "name", "content", "rel", "type", "datetime", "onclick"]
VALUES = st.one_of(st.text(max_size=15), st.sampled_from([
    "og:title", "og:site_name", "article:published_time", "author", "canonical", "application/ld+json",
    "application/rss+xml", "alternate", "next", "2024-01-03T09:00:00Z", "javascript:alert(1)", "/p/a",
    "https://x.substack.com/p/a", "available-content", "paywall", "post-body", "body markup", "gh-content"]))
TEXTS = st.one_of(st.text(max_size=40), st.sampled_from([
    '{"@type": "NewsArticle", "headline": 5, "author": [1, null, {"name": []}], "datePublished": {}}',
    '{"@context": "https://schema.org", "@graph": [{"@type": "BlogPosting"}]}', "{", "&amp;&bogus;",
    "<![CDATA[x]]>", "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."]))


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attributes = "".join(f' {draw(st.sampled_from(ATTRIBUTES))}="{draw(VALUES).replace(chr(34), "")}"'
                         for _ in range(draw(st.integers(0, 3))))
    children = [] if depth >= 3 else draw(st.lists(st.one_of(TEXTS, markup(depth + 1)), max_size=4))
    closing = f"</{tag}>" if draw(st.booleans()) else ""  # unclosed tags too
    return f"<{tag}{attributes}>{''.join(children)}{closing}"


PAGES = st.one_of(markup(), st.builds(lambda m, tail: m + tail, markup(), st.text(max_size=60)),
                  st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
BODIES = st.one_of(PAGES.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=300))
START_URLS = st.sampled_from([
    "https://letters.substack.com/", "https://www.linkedin.com/newsletters/tomtalks-7000000000000000000/",
    "https://medium.com/@writer", "https://buttondown.com/letters/archive/", "https://letters.beehiiv.com/",
    "https://us1.campaign-archive.com/home/?u=abc&id=def", "https://blog.example/", "https://letters.ghost.io/",
    "https://blog.example/wp-json/wp/v2/posts", "http://127.0.0.1:8000/feed.xml"])


@FAST
@given(PAGES, START_URLS, st.sampled_from(ADAPTERS))
def test_adapter_hooks_never_raise_on_any_page(page: str, url: str, name: str) -> None:
    """What the spider hands over (decoded, XML-safe) never makes an adapter hook raise."""
    adapter = all_adapters()[name]
    try:
        tree = parse_html(xml_safe(page))
    except ExtractionError:
        return
    adapter.listings(url, tree)
    meta = adapter.metadata(tree, url)
    adapter.access(tree, meta)
    adapter.preclean(tree)


@cache
def _spider() -> NewsletterSpider:
    """One spider for every example (a crawler costs ~50 ms), as ``start()`` leaves it for its callbacks."""
    spider = NewsletterSpider.from_crawler(get_crawler(NewsletterSpider), url="https://blog.example/")
    spider.crawler.stats.open_spider()
    spider.states, spider.now, spider.schedule = {}, None, []
    return spider


@FAST
@given(BODIES, START_URLS, st.sampled_from(ADAPTERS), st.sampled_from([FEED, SITEMAP, ARCHIVE, API]),
       st.sampled_from([HtmlResponse, TextResponse, Response]))
def test_a_listing_always_ends_recorded_whatever_it_holds(body: bytes, url: str, name: str, kind: str,
                                                         response_type: type[Response]) -> None:
    """The spider's listing step over every adapter: it yields requests or recorded failures, never an
    exception (which would lose the listing's issues without a record), and it always closes the listing."""
    spider = _spider()
    spider.plans.clear()
    spider.plans["source"] = SourcePlan(pending=1)
    meta = {"listing": Listing(url, kind), "platform": name, "source": "source", "newsletter": None,
            "newsletter_url": None}
    response = response_type(url, body=body, request=Request(url, meta=meta))
    for output in spider.parse_listing(response):
        assert isinstance(output, Request | FetchFailure)
        if isinstance(output, FetchFailure):
            assert output.reason and output.url
    assert spider.plans["source"].pending <= 0


@FAST
@given(PAGES, st.sampled_from([None, *ADAPTERS]))
def test_extract_issue_returns_or_raises_extraction_error(page: str, platform: str | None) -> None:
    """On what the spider hands over, extraction has two outcomes, and a stored body obeys the allow-list."""
    try:
        issue = extract_issue(xml_safe(page), "https://letters.example/p/issue", platform=platform)
    except ExtractionError:
        return
    assert disallowed_markup(issue.body_html) == []
    assert sanitize_markdown(issue.body_markdown) == sanitize_markdown(sanitize_markdown(issue.body_markdown))


def test_extract_issue_on_raw_control_characters() -> None:
    """``parse_html`` drops C0 control characters (lxml refuses them as element text, which the LinkedIn
    adapter sets): a saved page given to ``tomtalks extract`` is read like the crawl reads it."""
    issue = extract_issue("<html><body><article><h1>T\x1f</h1><p>Text \x01here\x0b and\tthere.\x08</p>"
                          "</article></body></html>", "https://www.linkedin.com/pulse/x", platform="linkedin")
    assert "Text here and there." in " ".join(issue.body_text.split())
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in issue.body_text + issue.body_markdown + issue.body_html)


#: Bytes that make the characters ``xml_safe`` removes, mixed with text, invalid UTF-8 and Latin bytes.
PAGE_BYTES = st.lists(st.sampled_from([b"<p>caf\xc3\xa9 ", b"\x07", b"\x0c", b"\x00", b"\t\n\r", b"\xef\xbf\xbe",
                                       b"\xef\xbf\xbf", b"\xed\xa0\x80", b"\xe9", b"\x81", b"\xc3", b"\xef\xbf",
                                       b"plain words ", b"\xe6\x97\xa5"]), max_size=40).map(b"".join)


@FAST
@given(PAGE_BYTES, st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii", "shift_jis", "utf-16"]))
def test_the_byte_check_clears_only_text_xml_safe_would_leave_alone(body: bytes, codec: str) -> None:
    """``page_text_and_hash`` skips the regular expression when the bytes show no forbidden character: that must
    never let one through, however the codec read the bytes (with replacement characters, as Scrapy does)."""
    from tomtalks_scraper.page_text import _xml_safe_as_bytes_show

    text = body.decode(codec, errors="replace")
    if _xml_safe_as_bytes_show(body, text, codec):
        assert xml_safe(text) == text


@FAST
@given(PAGE_BYTES, st.sampled_from(["text/html; charset=utf-8", "text/html; charset=windows-1252", "text/html",
                                    "text/html; charset=iso-8859-1", "text/html; charset=shift_jis"]),
       st.sampled_from([b"", b"\xef\xbb\xbf"]))
def test_page_text_is_xml_safe_and_hashed_as_its_utf8_whatever_the_bytes_and_the_declared_charset(
        body: bytes, content_type: str, bom: bytes) -> None:
    from tomtalks_scraper.page_text import page_text_and_hash, text_hash

    response = HtmlResponse("https://letters.example/p/1", body=bom + b"<html><body>" + body,
                            headers={"Content-Type": content_type})
    text, text_sha, utf8 = page_text_and_hash(response)
    assert xml_safe(text) == text
    assert text_sha == text_hash(text)  # read from the bytes when they are the text's UTF-8, never different
    assert utf8 is None or utf8.decode("utf-8") == text  # the bytes a worker gets instead are exactly the text
    if content_type.endswith("utf-8") and not bom and body.isascii() and xml_safe(text) == response.text:
        assert utf8 is response.body  # the plain case is the common one: no copy, no second decoding


def _ui_phrases() -> list[str]:
    from tomtalks_scraper.extraction.copies import PLATFORM_UI

    return [phrase for phrases in PLATFORM_UI.values() for phrase in phrases]


WHITESPACE = st.text(alphabet=" \n\t\r\xa0\u2003\u3000", min_size=1, max_size=3)
#: A platform phrase as a page may write it (any whitespace between its words, one word sometimes
#: changed, glued to its neighbours), between other words.
PHRASE_IN_TEXT = st.builds(
    lambda before, phrase, gaps, cut, after: before + "".join(
        word + gaps[i % len(gaps)] for i, word in enumerate(phrase.split(" ")[:-1]) if i != cut)
    + phrase.split(" ")[-1] + after,
    st.sampled_from(["", "x", "Read ", " \n"]), st.sampled_from(_ui_phrases()),
    st.lists(st.one_of(WHITESPACE, st.just("")), min_size=1, max_size=4), st.integers(-1, 4),
    st.sampled_from(["", ".", " more", "s"]))


@FAST
@given(PHRASE_IN_TEXT)
def test_platform_ui_phrases_are_found_as_in_the_folded_text(text: str) -> None:
    """``copies._foreign_ui`` searches the page's raw text with whitespace-tolerant patterns instead of
    folding a 100 KB text first: the same phrases must be found."""
    from tomtalks_scraper.extraction.copies import _ui_phrase

    folded = " ".join(text.split())
    for phrase in _ui_phrases():
        assert bool(_ui_phrase(phrase).search(text)) == (phrase in folded), (phrase, text)
