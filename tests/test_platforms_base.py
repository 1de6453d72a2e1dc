"""Platform adapters: discovery of adapters, the shared pre-clean steps and the generic fallback."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import pytest
from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import FEED, Listing
from tomtalks_scraper.extraction.metadata import PageMetadata
from tomtalks_scraper.platforms import GENERIC, all_adapters, detect_platform, get_adapter
from tomtalks_scraper.platforms.base import FREE, PAID_FULL, PAID_PREVIEW, PlatformAdapter, remove_element, text_of
from tomtalks_scraper.platforms.generic import GenericAdapter

ARTICLE_TEXT = " ".join(
    [
        "The warehouse robots arrived in spring, and nobody on the floor was asked about the layout.",
        "Within a month the pickers had learned which aisles the robots avoided and started routing around them.",
        "Productivity rose, but not for the reasons the vendor's slide deck promised.",
    ]
    * 4
)


def parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


def linkedin_copy_page() -> str:
    """An article copied from LinkedIn onto a blog, with LinkedIn's widgets and a newsletter box around it."""
    return f"""<!DOCTYPE html><html lang="en"><head><title>Warehouse robotics | Robots Weekly</title>
<meta property="og:title" content="Warehouse robotics"></head>
<body>
<header><nav><a href="/">Robots Weekly</a> <a href="/archive/">Archive</a></nav></header>
<main>
  <article class="post">
    <h1>Warehouse robotics</h1>
    <p>{ARTICLE_TEXT}</p>
    <p>The second paragraph of the issue stays where it is.</p>
    <div class="share-buttons"><a href="https://twitter.com/share">Share on X</a></div>
  </article>
  <aside class="related">
    <h2>Recommended by LinkedIn</h2>
    <ul><li><a href="https://www.linkedin.com/pulse/ten-leadership-lessons">Ten leadership lessons</a></li>
        <li><a href="https://www.linkedin.com/pulse/culture-eats-strategy">Why culture eats strategy</a></li></ul>
  </aside>
  <div class="cta">
    <h3>Subscribe to Robots Weekly</h3>
    <p>Get the weekly issue in your inbox every Tuesday.</p>
    <form action="/subscribe"><input type="email" name="email"><button>Sign up</button></form>
  </div>
  <div class="subscribe-box">Join 10,000 readers of Robots Weekly</div>
  <section><h4>More posts from Robots Weekly</h4><ul><li><a href="/p/2">Conveyor belts</a></li></ul></section>
</main>
<footer><p>© Robots Weekly</p></footer>
</body></html>"""


# Registry -------------------------------------------------------------------------------------------


def test_platforms_package_lists_generic_last():
    adapters = all_adapters()
    assert GENERIC in adapters
    assert list(adapters)[-1] == GENERIC
    assert all(isinstance(adapter, PlatformAdapter) for adapter in adapters.values())
    assert all(name == adapter.name for name, adapter in adapters.items())


def test_get_adapter_returns_generic_for_none_and_any_case():
    assert get_adapter(None).name == "generic"
    assert get_adapter("Generic") is get_adapter("generic")
    assert isinstance(get_adapter("GENERIC"), GenericAdapter)


def test_get_adapter_unknown_name_raises_key_error_naming_known_platforms():
    with pytest.raises(KeyError) as caught:
        get_adapter("myspace")
    message = str(caught.value)
    assert "unknown platform 'myspace'" in message
    assert "known platforms:" in message
    for name in all_adapters():
        assert name in message


def test_detect_platform_returns_generic_for_unknown_site_url():
    assert detect_platform("https://robots-weekly.example/p/warehouse-robotics").name == "generic"


def test_detect_platform_returns_generic_for_unknown_site_page():
    adapter = detect_platform("https://robots-weekly.example/p/warehouse-robotics", parse(linkedin_copy_page()))
    assert adapter is get_adapter(GENERIC)


def test_platforms_package_imports_on_its_own():
    """Importing the platforms package first in a fresh interpreter must not hit a circular import."""
    result = subprocess.run(
        [sys.executable, "-c", "import tomtalks_scraper.platforms"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# Base adapter steps ---------------------------------------------------------------------------------


class NewsletterHostAdapter(PlatformAdapter):
    """A small declarative adapter, as a platform module would define one."""

    name: ClassVar[str] = "newsletterhost"
    url_patterns: ClassVar[tuple[str, ...]] = (r"^https?://[^/]+\.newsletterhost\.example/p/",)
    page_markers: ClassVar[tuple[str, ...]] = ('meta[name="generator"][content^="NewsletterHost"]',)
    body_selectors: ClassVar[tuple[str, ...]] = ("div.missing-layout", "div.post-body")
    boilerplate: ClassVar[tuple[str, ...]] = (".paywall-teaser", "div.post-body .footnote-ad")
    boilerplate_headings: ClassVar[tuple[str, ...]] = ("Share this post",)
    redirect_wrappers: ClassVar[tuple[tuple[str, str], ...]] = (
        (r"^https://www\.linkedin\.com/redir/redirect\?", "url"),
    )
    paywall_markers: ClassVar[tuple[str, ...]] = (".paywall-teaser",)


HOSTED_PAGE = f"""<html><head><title>Issue 12</title>
<meta name="generator" content="NewsletterHost 4.2">
<meta property="og:title" content="Issue 12: small models"><meta property="og:type" content="article">
</head><body>
<div class="topbar">Sign in</div>
<div class="post-body"><p>{ARTICLE_TEXT}</p>
  <div class="paywall-teaser">Upgrade to paid</div> Text after the teaser stays.
  <p class="footnote-ad">Sponsored by ACME</p>
</div>
<div class="comments">42 comments</div>
</body></html>"""


def test_matches_url_uses_url_patterns():
    adapter = NewsletterHostAdapter()
    assert adapter.matches_url("https://tom.newsletterhost.example/p/issue-12")
    assert not adapter.matches_url("https://tom.newsletterhost.example/archive")
    assert not adapter.matches_url("https://robots-weekly.example/p/issue-12")


def test_matches_page_uses_css_page_markers():
    adapter = NewsletterHostAdapter()
    assert adapter.matches_page(parse(HOSTED_PAGE))
    assert not adapter.matches_page(parse(linkedin_copy_page()))




def test_preclean_cuts_page_to_first_matching_body_selector_and_keeps_head():
    cleaned = NewsletterHostAdapter().preclean(parse(HOSTED_PAGE))
    text = text_of(cleaned)
    assert "Sign in" not in text and "42 comments" not in text
    assert text.startswith("Issue 12")  # the <head> title is kept for metadata
    assert cleaned.xpath("//meta[@property='og:title']/@content") == ["Issue 12: small models"]
    assert cleaned.xpath("count(//body/article/div[@class='post-body'])") == 1


def test_preclean_returns_whole_cleaned_page_when_no_body_selector_matches():
    page = parse(f"<html><body><div class='topbar'>Sign in</div><p>{ARTICLE_TEXT}</p>"
                 "<div class='paywall-teaser'>Upgrade</div></body></html>")
    text = text_of(NewsletterHostAdapter().preclean(page))
    assert "Sign in" in text and ARTICLE_TEXT[:40] in text and "Upgrade" not in text


def test_preclean_removes_boilerplate_but_keeps_tail_text_without_body_selector():
    page = parse(f"""<html><body><div class="post"><p>{ARTICLE_TEXT}</p>
      <div class="paywall-teaser">Upgrade to paid</div> Text after the teaser stays.</div></body></html>""")
    text = text_of(NewsletterHostAdapter().preclean(page))
    assert "Upgrade to paid" not in text
    assert "Text after the teaser stays." in text


def test_access_is_free_by_default():
    page = parse(f"<html><body><p>{ARTICLE_TEXT}</p></body></html>")
    assert NewsletterHostAdapter().access(page, PageMetadata()) == FREE


def test_access_is_paid_preview_when_a_paywall_marker_is_present():
    assert NewsletterHostAdapter().access(parse(HOSTED_PAGE), PageMetadata()) == PAID_PREVIEW


def test_access_is_paid_preview_when_json_ld_says_not_free():
    page = parse(f"<html><body><p>{ARTICLE_TEXT}</p></body></html>")
    assert get_adapter(GENERIC).access(page, PageMetadata(accessible_for_free=False)) == PAID_PREVIEW


def test_access_prefers_the_platform_data():
    assert NewsletterHostAdapter().access(parse(HOSTED_PAGE), PageMetadata(access=PAID_FULL)) == PAID_FULL


def test_unwrap_link_returns_target_of_click_tracking_redirect():
    adapter = NewsletterHostAdapter()
    wrapped = "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fchipnotes%2Eexample%2Freport&urlhash=Ab1_"
    assert adapter.unwrap_link(wrapped) == "https://chipnotes.example/report"
    assert adapter.unwrap_link("https://chipnotes.example/report?url=x") == "https://chipnotes.example/report?url=x"


def test_parse_listing_reads_feed_listing_with_the_shared_reader():
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Robots Weekly</title>
      <link>https://robots-weekly.example/</link>
      <item><title>Warehouse robotics</title><link>/p/warehouse-robotics</link></item></channel></rss>"""
    result = get_adapter(GENERIC).parse_listing(Listing("https://robots-weekly.example/feed", FEED), feed,
                                                "https://robots-weekly.example/feed")
    assert [issue.url for issue in result.issues] == ["https://robots-weekly.example/p/warehouse-robotics"]
    assert result.newsletter == "Robots Weekly"


def test_parse_listing_unknown_kind_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="no reader for listings of kind 'graphql'"):
        get_adapter(GENERIC).parse_listing(Listing("https://x.example/api", "graphql"), b"{}", "https://x.example/api")


def test_metadata_reads_declared_page_metadata():
    meta = NewsletterHostAdapter().metadata(parse(HOSTED_PAGE), "https://tom.newsletterhost.example/p/issue-12")
    assert isinstance(meta, PageMetadata)
    assert meta.title == "Issue 12: small models"
    assert meta.is_article


def test_remove_element_moves_tail_to_previous_sibling():
    div = lxml_html.fragment_fromstring("<div><p>Before</p><span class='ad'>AD</span> after the ad <b>bold</b></div>")
    remove_element(div.find("span"))
    assert lxml_html.tostring(div, encoding="unicode") == "<div><p>Before</p> after the ad <b>bold</b></div>"


def test_remove_element_moves_tail_to_parent_text_when_first_child():
    div = lxml_html.fragment_fromstring("<div>Lead <span class='ad'>AD</span>after the ad</div>")
    remove_element(div.find("span"))
    assert lxml_html.tostring(div, encoding="unicode") == "<div>Lead after the ad</div>"


def test_remove_element_ignores_root_element():
    root = parse("<html><body><p>x</p></body></html>")
    remove_element(root)
    assert text_of(root) == "x"


def test_text_of_collapses_whitespace():
    assert text_of(lxml_html.fragment_fromstring("<p>  Small\n\n  models   <b>win</b> </p>")) == "Small models win"


# Generic adapter ------------------------------------------------------------------------------------


@pytest.fixture
def cleaned_copy_text() -> str:
    return text_of(get_adapter(GENERIC).preclean(parse(linkedin_copy_page())))


def test_generic_preclean_removes_recommended_by_linkedin_aside(cleaned_copy_text):
    assert "Recommended by LinkedIn" not in cleaned_copy_text
    assert "Ten leadership lessons" not in cleaned_copy_text


def test_generic_preclean_removes_subscribe_to_box(cleaned_copy_text):
    assert "Subscribe to Robots Weekly" not in cleaned_copy_text
    assert "Get the weekly issue in your inbox" not in cleaned_copy_text


def test_generic_preclean_removes_more_posts_from_block(cleaned_copy_text):
    assert "Conveyor belts" not in cleaned_copy_text


def test_generic_preclean_removes_subscribe_and_share_widgets_by_class(cleaned_copy_text):
    assert "Join 10,000 readers" not in cleaned_copy_text
    assert "Share on X" not in cleaned_copy_text


def test_generic_preclean_keeps_the_article(cleaned_copy_text):
    assert ARTICLE_TEXT in cleaned_copy_text
    assert "The second paragraph of the issue stays where it is." in cleaned_copy_text


def test_generic_preclean_keeps_article_when_marker_sits_in_page_wide_wrapper():
    page = parse(f"""<html><body><div id="page-wrapper">
      <h2>Subscribe to Robots Weekly</h2>
      <p>{ARTICLE_TEXT}</p>
      <p>Closing thoughts of the issue.</p>
    </div></body></html>""")
    text = text_of(get_adapter(GENERIC).preclean(page))
    assert ARTICLE_TEXT in text
    assert "Closing thoughts of the issue." in text


def test_generic_preclean_keeps_body_when_marker_heading_is_directly_in_body():
    page = parse(f"<html><body><h2>Recommended by LinkedIn</h2><p>{ARTICLE_TEXT}</p></body></html>")
    assert ARTICLE_TEXT in text_of(get_adapter(GENERIC).preclean(page))


def test_generic_preclean_keeps_block_whose_heading_only_starts_like_a_marker():
    page = parse(f"""<html><body><article><p>{ARTICLE_TEXT}</p>
      <section><h3>Recommended by LinkedIn engineers: how we load-test our warehouse robots</h3>
      <p>A short section of the article itself.</p></section></article></body></html>""")
    assert "A short section of the article itself." in text_of(get_adapter(GENERIC).preclean(page))


MALFORMED = "http://[oops/"  # urllib raises ValueError on it ("Invalid IPv6 URL")


@pytest.mark.parametrize(("platform", "head"), [
    ("ghost", f'<script data-ghost="{MALFORMED}" data-key="22444f78447824223cefc48062"></script>'
              f'<link rel="alternate" type="application/rss+xml" href="{MALFORMED}rss/">'),
    ("wordpress", f'<link rel="https://api.w.org/" href="{MALFORMED}wp-json/">'),
])
def test_a_malformed_link_in_the_start_page_leaves_the_default_listings(platform: str, head: str) -> None:
    """A site's own page announcing an unreadable API root or feed must not stop its discovery."""
    page = lxml_html.fromstring(f"<html><head>{head}</head><body><p>Home</p></body></html>")
    listings = get_adapter(platform).listings("https://letter.example/", page)
    assert listings and all(listing.url.startswith("https://letter.example/") for listing in listings)


def test_a_malformed_edition_link_on_a_linkedin_newsletter_page_hides_no_other_edition() -> None:
    page = (b'<html><body><h1>Weekly</h1><a href="' + MALFORMED.encode() + b'pulse/x">broken</a>'
            b'<a href="https://www.linkedin.com/pulse/real-edition-tom-p?trk=x">ok</a></body></html>')
    adapter = get_adapter("linkedin")
    url = "https://www.linkedin.com/newsletters/weekly-123/"
    [listing] = [item for item in adapter.listings(url, None) if "newsletters" in item.url]
    result = adapter.parse_listing(listing, page, url)
    assert [issue.url for issue in result.issues] == ["https://www.linkedin.com/pulse/real-edition-tom-p"]


# Detection's id/class index (platforms/page_names.py) -------------------------------------------------


def test_required_names_ignore_quoted_values_and_attribute_tests() -> None:
    from tomtalks_scraper.platforms.page_names import required_names

    assert required_names("html:has(#templatePreheader):has(#templateFooter)") == (
        frozenset({"templatePreheader", "templateFooter"}), frozenset())
    assert required_names("div.rendered-post #content-blocks") == (frozenset({"content-blocks"}),
                                                                    frozenset({"rendered-post"}))
    assert required_names('head link[rel~="stylesheet"][href*=".licdn.com/"]') == (frozenset(), frozenset())
    assert required_names("a.x, .y") == (frozenset(), frozenset())  # a group: neither name is required
    assert required_names("div:not(.ad)") == (frozenset(), frozenset())


def _fixture_and_corpus_pages() -> list:
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    pages = sorted((repo / "tests" / "fixtures").rglob("*.html"))
    corpus = repo.parent / "shared" / "corpus" / "real"
    return pages + (sorted(corpus.rglob("*.html")) if corpus.is_dir() else [])


def test_the_name_index_never_hides_a_marker_that_matches() -> None:
    """Every adapter's every page marker on every fixture (and corpus) page: the index may only skip
    selectors that find nothing, and detection with it picks the platform it picked without it."""
    from tomtalks_scraper.platforms.base import css
    from tomtalks_scraper.platforms.page_names import PageNames

    pages = _fixture_and_corpus_pages()
    assert len(pages) > 30
    matched = ruled_out_by_attributes = 0
    for path in pages:
        tree = parse(path.read_bytes().decode("utf-8", "replace"))
        names = PageNames.of(tree)
        for adapter in all_adapters().values():
            for selector in adapter.page_markers + adapter.paywall_markers:
                if css(selector)(tree):
                    matched += 1
                    assert names.may_match(selector), (path.name, selector)
                    assert names.may_match_marker(selector), (path.name, selector)
                elif names.may_match(selector) and not names.may_match_marker(selector):
                    ruled_out_by_attributes += 1
    assert matched > 20  # the check saw real matches, not only absences
    assert ruled_out_by_attributes > 10 * len(pages)  # and the attribute values rule out most attribute markers


def test_attribute_values_rule_a_marker_out_only_when_no_element_could_match() -> None:
    """``may_match_marker`` reads the subject element's tag and attribute tests from the selector; a value
    present on any element of that tag keeps the selector (one-sided), and other selectors are kept."""
    from tomtalks_scraper.platforms.page_names import PageNames, subject_tests

    assert subject_tests('head link[rel~="icon"][href*=".licdn.com/"]') == (
        ("link", (("rel", "icon"), ("href", ".licdn.com/"))),)
    assert subject_tests("script[data-ghost], meta[name=generator]") == (
        ("script", (("data-ghost", None),)), ("meta", (("name", "generator"),)))
    assert subject_tests('meta[name="a"]:not([content="b"])') == (("meta", (("name", "a"),)),)  # not the negated
    assert subject_tests('meta[name="a"]:not(meta[content="b"])') == (("meta", (("name", "a"),)),)
    assert subject_tests("div[data-x]") is None  # a tag with too many elements to read them all
    assert subject_tests('[data-test-id="x"]') is None
    page = parse('<html><head><link rel="icon" href="/f.ico"><link rel="stylesheet" href="https://s.licdn.com/a.css">'
                 '<meta name="generator" content="Ghost 5.0"></head><body><p>Text</p></body></html>')
    names = PageNames.of(page)
    assert names.may_match_marker('link[rel~="stylesheet"][href*=".licdn.com/"]')
    assert names.may_match_marker('link[rel~="icon"][href*=".licdn.com/"]')  # both values occur: css decides
    assert not names.may_match_marker('link[href*="substackcdn.com"]')
    assert not names.may_match_marker("script[data-ghost]")
    assert names.may_match_marker('meta[name="generator"][content^="Ghost"]')
    assert not names.may_match_marker('meta[name="generator"][content^="WordPress"]')
    assert names.may_match_marker('meta[name="generator"][content!="Ghost"]')  # != requires nothing
    assert names.may_match_marker('meta[name="generator"]:not([content^="WordPress"])')  # the negation is not required
    assert not names.may_match_marker("link.x")  # the class test still applies
    assert not names.may_match_marker("script[src], link[href*=nothing]")  # a group: every alternative is ruled out
    assert names.may_match_marker("script[src], div.missing")  # ... unless one cannot be (a div)


def test_pre_cleaning_with_the_names_read_before_it_cleans_as_it_would_alone() -> None:
    """``extract_issue`` reads the page's ids and classes once, before detection, and pre-cleaning
    reuses them: on every fixture and corpus page, with every adapter, the cleaned page is the same as
    when pre-cleaning reads them itself (an adapter step that added an id or class would break this)."""
    from lxml import etree

    from tomtalks_scraper.platforms.page_names import PageNames

    for path in _fixture_and_corpus_pages():
        text = path.read_bytes().decode("utf-8", "replace")
        for adapter in all_adapters().values():
            alone = adapter.preclean(parse(text))
            before = parse(text)
            shared = adapter.preclean(before, PageNames.of(before))
            assert etree.tostring(shared) == etree.tostring(alone), (path.name, adapter.name)


def test_heading_candidates_are_the_elements_the_plain_xpath_finds() -> None:
    """The boilerplate-heading candidates are searched one tag at a time (faster in libxml2); on every
    fixture and corpus page they are the elements, in the order, that one ``//*`` search finds."""
    from lxml import etree

    from tomtalks_scraper.platforms.base import _HEADING_TAGS, _MAX_HEADING_CHARS, _SHORT_HEADING_CANDIDATES

    plain = etree.XPath("//*[" + " or ".join(f"self::{tag}" for tag in _HEADING_TAGS) + "][count(*) <= 2]"
                        f"[string-length(normalize-space()) <= {_MAX_HEADING_CHARS}]")
    found = 0
    for path in _fixture_and_corpus_pages():
        tree = parse(path.read_bytes().decode("utf-8", "replace"))
        candidates = _SHORT_HEADING_CANDIDATES(tree)
        assert candidates == plain(tree), path.name
        found += len(candidates)
    assert found > 1000
