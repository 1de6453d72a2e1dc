"""Medium adapter (``../shared/docs/platforms.md`` §8): specific pages, detection, discovery, access,
and a crawl of a custom-domain publication whose feed lists only its 10 latest stories.

Golden pages have their records in ``tests/fixtures/medium/golden.json``, run by ``test_golden.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from golden import find, fold, read_page
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, Listing
from tomtalks_scraper.extraction.issue import extract_issue, parse_html
from tomtalks_scraper.platforms import detect_platform, get_adapter
from tomtalks_scraper.platforms.medium import ADAPTER, post_id
from tomtalks_scraper.urls import normalize_url

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "medium"
CORPUS = Path("corpus") / "real" / "medium"
VOODOO, WTF = find("medium", "voodoo-engineering-cpu-profiling.html"), find("medium", "postlight-medium.com.html")
FREE_2024, PREVIEW_2024 = find("medium", "free-story-2024.html"), find("medium", "member-preview-2024.html")


# Specific pages -----------------------------------------------------------------------------------


def test_lazy_images_are_the_noscript_originals(shared: Path) -> None:
    html = (shared / CORPUS / "voodoo-engineering-cpu-profiling.html").read_text(encoding="utf-8")
    issue = extract_issue(html, VOODOO.url)
    assert "https://miro.medium.com/max/3788/1*5o3M5niyi911waUrKWVZ0Q.png" in issue.body_markdown
    assert "?q=20" not in issue.body_markdown


def test_outbound_links_are_unwrapped_from_medium_redirects() -> None:
    wrapped = "https://medium.com/r/?url=https%3A%2F%2Fdocs.python.org%2F3%2Flibrary%2Fsched.html"
    assert ADAPTER.unwrap_link(wrapped) == "https://docs.python.org/3/library/sched.html"
    assert ADAPTER.unwrap_link("https://example.com/r/?url=https%3A%2F%2Fevil.test") == (
        "https://example.com/r/?url=https%3A%2F%2Fevil.test")
    html = (FIXTURES / "free-story-2024.html").read_text(encoding="utf-8").replace(
        "started reading logs.", f'started reading <a href="{wrapped}">logs</a>.')
    issue = extract_issue(html, FREE_2024.url)
    assert "https://docs.python.org/3/library/sched.html" in [link.url for link in issue.links]


def test_story_text_that_looks_like_chrome_is_kept() -> None:
    html = (FIXTURES / "free-story-2024.html").read_text(encoding="utf-8").replace(
        "needs one clock, not many clocks that usually agree.", "needs one clock. <strong>Share</strong> a 5 min read.")
    text = fold(extract_issue(html, FREE_2024.url).body_text)
    assert "A schedule shared by many machines needs one clock. Share a 5 min read." in text


# Detection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://medium.com/@anaruiz/why-our-cron-jobs-drifted-4f1c2a9b7e3d",
    "https://medium.com/voodoo-engineering",
    "https://debugger.medium.com/",
])
def test_medium_hosts_are_recognised_from_the_url(url: str) -> None:
    assert ADAPTER.matches_url(url)


@pytest.mark.parametrize("url", ["https://notmedium.com/x-0123456789ab", "https://example.com/medium.com/"])
def test_other_hosts_are_not_medium_by_url(url: str) -> None:
    assert not ADAPTER.matches_url(url)


def test_custom_domains_are_recognised_from_medium_markers(request: pytest.FixtureRequest) -> None:
    for case in (WTF, PREVIEW_2024):  # wtfeconomy.com (postlight copy), blog.tidepool.dev
        assert detect_platform(case.url, parse_html(read_page(case, request))).name == "medium"


def test_a_blog_quoting_medium_is_not_medium() -> None:
    page = parse_html("""<html><head><title>Notes</title><meta property="og:site_name" content="Medium">
    <meta property="og:type" content="article"><link rel="alternate" type="application/rss+xml" href="/feed"></head>
    <body><article><h1>What I read</h1><p>I liked <a href="https://medium.com/@anaruiz/why-our-cron-jobs-drifted-4f1c2a9b7e3d">
    this story</a> on Medium.</p><img src="https://miro.medium.com/v2/resize:fit:700/1*Qm3xW8a0kPz2t7cVbN1yLg.jpeg">
    <p>Member-only story</p></article></body></html>""")
    assert detect_platform("https://notes.example.org/what-i-read/", page).name != "medium"


# Access -------------------------------------------------------------------------------------------


REGWALL_START = '<div class="ab cb"><div class="ci bh ew ex ey ez"><div class="pk'


def test_a_cut_member_story_without_regwall_text_is_a_preview_by_its_reading_time() -> None:
    html = (FIXTURES / "member-preview-2024.html").read_text(encoding="utf-8")
    start, end = html.index(REGWALL_START), html.index("</article>")
    issue = extract_issue(html[:start] + html[end:], PREVIEW_2024.url)
    assert "Create an account" not in html[:start] + html[end:]
    assert issue.access == "paid_preview"


def test_a_member_story_served_in_full_is_paid_full() -> None:
    html = (FIXTURES / "member-preview-2024.html").read_text(encoding="utf-8")
    start, end = html.index(REGWALL_START), html.index("</article>")
    rest = "".join(f'<p class="pw-post-body-paragraph" data-selectable-paragraph="">Step {i}. {_paragraph(i, 3)}</p>'
                   for i in range(40))
    html = html[:start].replace("needed to…</p>", f"needed to join two merchants.</p>{rest}") + html[end:]
    issue = extract_issue(html, PREVIEW_2024.url)
    assert issue.word_count > 0.4 * 9 * 265
    assert issue.access == "paid_full"


def test_a_free_story_is_free_whatever_its_length() -> None:
    html = (FIXTURES / "free-story-2024.html").read_text(encoding="utf-8")
    assert extract_issue(html.replace("3 min read", "30 min read"), FREE_2024.url).access == "free"


# Discovery ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "expected"), [
    ("https://medium.com/@anaruiz", [("https://medium.com/feed/@anaruiz", FEED),
                                     ("https://medium.com/@anaruiz", ARCHIVE)]),
    ("https://medium.com/voodoo-engineering", [("https://medium.com/feed/voodoo-engineering", FEED),
                                               ("https://medium.com/voodoo-engineering/archive", ARCHIVE)]),
    ("https://debugger.medium.com/", [("https://debugger.medium.com/feed", FEED),
                                      ("https://debugger.medium.com/archive", ARCHIVE)]),
    ("https://medium.com/@anaruiz/why-our-cron-jobs-drifted-4f1c2a9b7e3d", []),
    ("https://debugger.medium.com/why-is-apples-m1-chip-so-fast-3262b158cba2", []),
    ("https://medium.com/p/3262b158cba2", []),
    ("https://medium.com/tag/python", []),
])
def test_listings_by_url_shape(start: str, expected: list[tuple[str, str]]) -> None:
    plan = ADAPTER.listings(start, None)
    assert [(listing.url, listing.kind) for listing in plan] == expected
    assert not any(listing.fallback for listing in plan)  # the feed is partial: the archive is always read


def test_a_user_subdomain_lists_its_profile_page_instead_of_an_archive() -> None:
    page = parse_html('<html><head><meta property="og:type" content="profile">'
                      '<meta property="al:android:package" content="com.medium.reader"></head><body></body></html>')
    plan = ADAPTER.listings("https://erik-engheim.medium.com/", page)
    assert [(listing.url, listing.kind) for listing in plan] == [
        ("https://erik-engheim.medium.com/feed", FEED), ("https://erik-engheim.medium.com/", ARCHIVE)]


def test_feed_links_lose_medium_source_query_and_title_loses_medium_suffix() -> None:
    feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
    <channel><title><![CDATA[Stories by Ana Ruiz on Medium]]></title>
    <link>https://medium.com/@anaruiz?source=rss-3e1a2f7c0d1e------2</link>
    {_feed_item(POSTS[0], "https://medium.com")}</channel></rss>""".encode()
    result = ADAPTER.parse_listing(Listing("https://medium.com/feed/@anaruiz", FEED), feed, "https://medium.com/feed/@anaruiz")
    assert result.newsletter == "Ana Ruiz"
    assert result.home_url == "https://medium.com/@anaruiz"
    assert [found.url for found in result.issues] == [f"https://medium.com{POSTS[0].path}"]
    assert result.issues[0].hints.title == POSTS[0].title


def test_archive_pages_lead_one_date_level_down_and_list_only_the_blogs_stories() -> None:
    base = "https://medium.com/northwind"
    body = f"""<html><body>{_bucket(f"{base}/archive/2024/05", "May", 80)}{_bucket(f"{base}/archive/2023", "2023", 50)}
    {_bucket(f"{base}/archive/2024/05/03", "03", 35)}{_card(POSTS[3], base)}
    <a href="https://medium.com/@someoneelse/unrelated-story-5c3b9e1f7a24?source=collection_archive">Other</a></body></html>"""
    result = ADAPTER.parse_listing(Listing(f"{base}/archive/2024", ARCHIVE), body.encode(), f"{base}/archive/2024")
    assert [listing.url for listing in result.next] == [f"{base}/archive/2024/05"]
    assert [found.url for found in result.issues] == [f"{base}{POSTS[3].path}"]
    hints = result.issues[0].hints
    assert (hints.title, hints.author, hints.published_at) == (POSTS[3].title, POSTS[3].author, POSTS[3].iso)


# The fixture publication --------------------------------------------------------------------------

PUBLICATION = "Northwind Field Notes"
AUTHORS = ("Ana Ruiz", "Malik Osei", "Priya Natarajan")
TITLES = (
    "Why our cron jobs drifted", "Blue-green deploys on a budget", "The pager is not a to-do list",
    "Queues are databases too", "What a load test cannot tell you", "Retiring a monolith one route at a time",
    "Our first week with feature flags", "Sharding Postgres without tears", "The cost of a cold start",
    "How we review infrastructure changes", "Backups you have never restored", "A runbook nobody reads",
    "Measuring what the on-call rota costs", "Idempotency keys in practice", "The quiet failure of retries",
    "Naming services after what they do", "Three dashboards we deleted", "Capacity planning for a small team",
    "Latency budgets, explained with coffee", "When to shard and when to wait", "Migrating DNS without drama",
    "The incident review template we use", "Rate limits are a product decision", "Secrets rotation on a Friday",
    "Observability for batch jobs", "Why we pinned our base images", "A month without deploy freezes",
    "Testing time zones on purpose", "Schema changes in three steps", "The slow query we lived with",
    "Caches that lie", "Turning off a data centre", "On-call handovers that work", "What we learned from chaos day",
)
SENTENCES = (
    "The first version worked well enough that nobody questioned it for a long time.",
    "Then the traffic doubled over one winter and the assumptions underneath it started to show.",
    "We wrote down what we believed about the system before changing anything at all.",
    "Most of those beliefs turned out to be true, which made the false ones harder to spot.",
    "The fix itself took an afternoon; convincing ourselves it was the right fix took two weeks.",
    "Every change went out behind a flag, and every flag had an owner and an expiry date.",
    "We measured before and after, and we kept the raw numbers rather than the averages.",
    "Some of the work was boring in the best way: small steps, each one easy to undo.",
    "The hardest part was deciding what not to build while the incident was still fresh.",
    "A year later the dashboard is still green, and the runbook still matches the system.",
    "If we did it again we would start with the logs we wished we had kept.",
    "None of this needed new tools, only a shared picture of how the pieces fit together.",
)


@dataclass(frozen=True)
class Post:
    index: int
    title: str
    author: str
    published: datetime
    access: str  # free, paid_full, paid_preview

    @property
    def id(self) -> str:
        return f"{0x5A17C0DE0000 + self.index * 7919:012x}"

    @property
    def path(self) -> str:
        slug = "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")
        return f"/{slug.replace('--', '-')}-{self.id}"

    @property
    def iso(self) -> str:
        return self.published.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def bucket(self) -> tuple[str, str, str]:
        return self.published.strftime("%Y"), self.published.strftime("%m"), self.published.strftime("%d")


def _paragraph(index: int, k: int) -> str:
    return f"{SENTENCES[(index + k) % 12]} {SENTENCES[(index + 3 * k + 1) % 12]} {SENTENCES[(index + 5 * k + 2) % 12]}"


def _posts() -> list[Post]:
    dates = [datetime(2023, 1, 9, 8, 30, tzinfo=UTC) + timedelta(days=34 * i, hours=i) for i in range(29)]
    dates += [datetime(2024, 5, day, 15, 5, tzinfo=UTC) for day in (2, 7, 13, 21, 28)]  # a busy month
    access = {i: "paid_full" for i in range(2, 34, 5)} | {7: "paid_preview"}
    return [Post(i, TITLES[i], AUTHORS[i % 3], date, access.get(i, "free")) for i, date in enumerate(sorted(dates))]


POSTS = _posts()
BUSY_MONTH = ("2024", "05")
MARKERS = ('<meta data-rh="true" property="al:ios:app_store_id" content="828256236"/>'
           '<meta data-rh="true" property="al:android:package" content="com.medium.reader"/>')
SCRIPTS = '<script src="https://cdn-client.medium.com/lite/static/js/main.c91e2f4b.js"></script>'


def _profile(post: Post) -> str:
    return "https://medium.com/@" + post.author.split()[0].lower()


def _zulu(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _story_page(post: Post, base: str) -> str:
    member = post.access != "free"
    paragraphs = [_paragraph(post.index, k) for k in range(3 if post.access == "paid_preview" else 6)]
    minutes = 7 if post.access == "paid_preview" else max(1, round(sum(len(p.split()) for p in paragraphs) / 265))
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "identifier": post.id,
          "headline": f"{post.title} | {PUBLICATION}",
          "datePublished": post.published.isoformat(timespec="milliseconds"),
          "dateModified": (post.published + timedelta(hours=3)).isoformat(timespec="milliseconds"),
          "author": {"@type": "Person", "name": post.author, "url": _profile(post)},
          "publisher": {"@type": "Organization", "name": PUBLICATION, "url": base},
          "keywords": ["Lite:true", "Tag:Engineering", f"Tag:{post.title.split()[-1].title()}", "Elevated:false"],
          "isAccessibleForFree": "False" if member else True}
    label = '<div class="gb gc"><p class="bf b dv z du">Member-only story</p></div>' if member else ""
    regwall = ('<div class="ab cb"><h2 class="bf pw">Create an account to read the full story.</h2><p class="bf b">The '
               "author made this story available to Medium members only.</p><a href=\"https://medium.com/m/signin?"
               f'operation=register&amp;source=-----{post.id}----post_regwall---">Sign up</a></div>'
               if post.access == "paid_preview" else "")
    body = "".join(f'<p class="pw-post-body-paragraph nm nn" data-selectable-paragraph="">{p}</p>' for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><title>{post.title} | by {post.author} | {PUBLICATION}</title>
<meta data-rh="true" charset="utf-8"/>{MARKERS}<meta data-rh="true" property="og:site_name" content="{PUBLICATION}"/>
<meta data-rh="true" property="og:type" content="article"/>
<meta data-rh="true" property="og:title" content="{post.title}"/>
<meta data-rh="true" name="author" content="{post.author}"/>
<meta data-rh="true" name="twitter:label1" value="Reading time"/>
<meta data-rh="true" name="twitter:data1" value="{minutes} min read"/>
<link data-rh="true" rel="canonical" href="{base}{post.path}"/>
<link data-rh="true" rel="alternate" href="android-app://com.medium.reader/https/medium.com/p/{post.id}"/>
<script data-rh="true" type="application/ld+json">{json.dumps(ld)}</script></head>
<body><div id="root"><nav><a href="https://medium.com/m/signin?operation=login">Sign in</a></nav>
<article{' class="meteredContent"' if member else ''}><div class="l"><section><div class="fw fx">{label}
<h1 class="pw-post-title" data-testid="storyTitle" data-selectable-paragraph="">{post.title}</h1>
<div class="speechify-ignore ab cp"><a data-testid="authorName" href="/@x?source=post_page---byline">{post.author}</a>
<button>Follow</button><span data-testid="storyReadTime">{minutes} min read</span>
<span data-testid="storyPublishDate">{post.published:%b} {post.published.day}, {post.published.year}</span></div>
{body}</div></section>{regwall}</div></article>
<div class="ab cb"><h2>Written by {post.author}</h2><button>Follow</button></div>
<div class="ts l"><h2>More from {PUBLICATION}</h2><article data-testid="post-preview">
<a href="{base}{POSTS[0].path}?source=author_recirc-----{post.id}----0">{POSTS[0].title}</a></article></div>
</div>{SCRIPTS}</body></html>"""


def _feed_item(post: Post, base: str) -> str:
    link = f"{base}{post.path}?source=rss----2b4e6f8a0c1d---4"
    if post.access == "free":
        content = "".join(f"<p>{_paragraph(post.index, k)}</p>" for k in range(6))
        content += (f'<img src="https://medium.com/_/stat?event=post.clientViewed&amp;referrerSource=full_rss&amp;'
                    f'postId={post.id}" width="1" height="1" alt=""><hr><p><a href="{base}{post.path}">'
                    f'{escape(post.title)}</a> was originally published in <a href="{base}">{PUBLICATION}</a> on '
                    "Medium, where people are continuing the conversation by highlighting and responding to this "
                    "story.</p>")
    else:
        content = (f'<div class="medium-feed-item"><p class="medium-feed-snippet">{SENTENCES[post.index % 12]}</p>'
                   f'<p class="medium-feed-link"><a href="{link}">Continue reading on {PUBLICATION} »</a></p></div>')
    return f"""<item><title><![CDATA[{post.title}]]></title><link>{link}</link>
<guid isPermaLink="false">https://medium.com/p/{post.id}</guid><category><![CDATA[engineering]]></category>
<dc:creator><![CDATA[{post.author}]]></dc:creator><pubDate>{format_datetime(post.published, usegmt=True)}</pubDate>
<atom:updated>{_zulu(post.published + timedelta(hours=3))}</atom:updated>
<content:encoded><![CDATA[{content}]]></content:encoded></item>"""


def _feed(base: str) -> str:
    recent = sorted(POSTS, key=lambda p: p.published, reverse=True)[:10]  # Medium's feed: the 10 latest only
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/"
xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"
xmlns:cc="http://cyber.law.harvard.edu/rss/creativeCommonsRssModule.html"><channel>
<title><![CDATA[{PUBLICATION} - Medium]]></title>
<description><![CDATA[How Northwind runs its systems. - Medium]]></description>
<link>{base}?source=rss----2b4e6f8a0c1d---4</link><generator>Medium</generator>
<lastBuildDate>{format_datetime(recent[0].published, usegmt=True)}</lastBuildDate>
<atom:link href="{base}/feed" rel="self" type="application/rss+xml"/>
<webMaster><![CDATA[yourfriends@medium.com]]></webMaster><atom:link href="http://medium.superfeedr.com" rel="hub"/>
{"".join(_feed_item(p, base) for p in recent)}</channel></rss>"""


def _card(post: Post, base: str) -> str:
    """A legacy archive card (``div.postArticle``, as Medium's /archive pages still render them)."""
    link = f"{base}{post.path}?source=collection_archive---------{post.index}-----------------------"
    star = '<span class="svgIcon svgIcon--star svgIcon--15px"></span>' if post.access != "free" else ""
    user = _profile(post)
    return f"""<div class="streamItem streamItem--postPreview js-streamItem"><div class="cardChromeless u-marginTop20">
<div class="postArticle postArticle--short js-postArticle js-trackPostPresentation" data-post-id="{post.id}"
 data-source="collection_archive---------{post.index}-----------------------"><div class="u-clearfix u-marginBottom15">
<div class="postMetaInline u-floatLeft"><div class="postMetaInline-avatar u-flex0">
<a class="link avatar" href="{user}" data-action="show-user-card">
<img src="https://cdn-images-1.medium.com/fit/c/36/36/1*avatar.jpeg" alt="Go to the profile of {post.author}"></a></div>
<div class="postMetaInline postMetaInline-authorLockup ui-captionStrong u-flex1">
<a class="ds-link ds-link--styleSubtle" href="{user}" data-action="show-user-card">{post.author}</a> in
<a class="ds-link ds-link--styleSubtle" href="{base}" data-action="show-collection-card">{PUBLICATION}</a>
<div class="ui-caption u-fontSize12 js-postMetaInlineSupplemental"><a class="link link--darken" href="{link}"
 data-action="open-post"><time datetime="{_zulu(post.published)}">
{post.published:%b} {post.published.day}, {post.published.year}</time></a>
<span class="middotDivider u-fontSize12"></span>
<span class="readingTime" title="2 min read"></span>{star}</div></div></div></div>
<div class="postArticle-content"><a href="{link}" data-action="open-post"><section class="section section--body
 section--first section--last"><div class="section-content"><div class="section-inner sectionLayout--insetColumn">
<h3 name="previewTitle" class="graf graf--h3 graf--title">{post.title}</h3><p name="previewSubtitle"
 class="graf graf--p graf--trailing">{SENTENCES[post.index % 12]}</p></div></div></section></a></div>
<div class="u-clearfix u-paddingTop10"><div class="u-floatLeft"><button class="button button--chromeless"
 data-action="show-recommends">{40 + post.index}</button></div><div class="buttonSet u-floatRight">
<a class="button button--chromeless" href="{link}#--responses">{post.index % 4} responses</a></div></div>
<div class="postArticle-readMore"><a class="button button--smaller button--chromeless" href="{link}"
 data-action="open-post">Read more…</a></div></div></div></div>"""


def _bucket(href: str, label: str, width: int) -> str:
    return f'<div class="timebucket u-inlineBlock u-width{width}"><a href="{href}">{label}</a></div>'


def _archive_page(base: str, heading: str, buckets: str, posts: list[Post]) -> Page:
    return Page(f"""<!doctype html><html><head><title>Archive of stories published by {PUBLICATION}</title>{MARKERS}
</head><body><div class="surface"><nav class="metabar"><a href="{base}">{PUBLICATION}</a>
<a href="https://medium.com/m/signin">Sign in</a></nav><div class="container u-maxWidth740">
<h1 class="heading-title">{heading}</h1><div class="u-marginBottom40">{buckets}</div>
<div class="js-postStream">{"".join(_card(p, base) for p in posts)}</div></div></div>{SCRIPTS}</body>
</html>""".encode())


def build_publication(base: str) -> dict[str, Page]:
    """A Medium publication on its own domain: home, /feed (10 latest), /archive → years → months → days."""
    recent = sorted(POSTS, key=lambda p: p.published, reverse=True)
    cards = "".join(f'<article data-testid="post-preview"><a href="{base}{p.path}?source=collection_home---4------{i}'
                    f'-----------------------"><h2>{p.title}</h2></a></article>' for i, p in enumerate(recent[:3]))
    pages = {
        "/": Page(f"""<!doctype html><html lang="en"><head><title>{PUBLICATION}</title>{MARKERS}
<meta data-rh="true" property="og:type" content="website"/>
<meta data-rh="true" property="og:site_name" content="{PUBLICATION}"/>
<link data-rh="true" rel="alternate" type="application/rss+xml" title="RSS" href="{base}/feed"/></head>
<body><div id="root">
<nav><a href="https://medium.com/m/signin">Sign in</a></nav><h1>{PUBLICATION}</h1>{cards}
<a href="{base}/archive">Archive</a></div>{SCRIPTS}</body></html>""".encode()),
        "/feed": Page(_feed(base).encode(), "text/xml; charset=UTF-8"),
    }
    years = sorted({p.bucket[0] for p in POSTS})
    pages["/archive"] = _archive_page(base, "Archive", "".join(_bucket(f"{base}/archive/{y}", y, 50) for y in years),
                                      recent[:3])
    for year in years:
        in_year = [p for p in POSTS if p.bucket[0] == year]
        months = {p.bucket[1] for p in in_year}
        names = {f"{m:02d}": datetime(2000, m, 1).strftime("%b") for m in range(1, 13)}
        buckets = "".join(_bucket(f"{base}/archive/{year}/{m}", name, 80) if m in months
                          else f'<span class="u-textColorDarker">{name}</span>' for m, name in names.items())
        pages[f"/archive/{year}"] = _archive_page(base, year, buckets, in_year[:2])
        for month in months:
            in_month = [p for p in in_year if p.bucket[1] == month]
            if (year, month) != BUSY_MONTH:
                pages[f"/archive/{year}/{month}"] = _archive_page(base, f"{month} {year}", "", in_month)
                continue
            days = sorted({p.bucket[2] for p in in_month})
            pages[f"/archive/{year}/{month}"] = _archive_page(
                base, f"{month} {year}", "".join(_bucket(f"{base}/archive/{year}/{month}/{d}", d, 35) for d in days),
                in_month[:1])
            for day in days:
                pages[f"/archive/{year}/{month}/{day}"] = _archive_page(
                    base, f"{day} {month} {year}", "", [p for p in in_month if p.bucket[2] == day])
    pages.update({post.path: Page(_story_page(post, base).encode()) for post in POSTS})
    return pages


def test_fixture_publication_shape() -> None:
    """The site is what the crawl test needs: the feed is partial and the archive goes down to days."""
    pages = build_publication("http://127.0.0.1:1")
    feed_ids = {post_id(line) for line in pages["/feed"].body.decode().split("<link>") if post_id(line.split("?")[0])}
    assert len(POSTS) >= 30 and len({p.id for p in POSTS}) == len(POSTS) and len(feed_ids) == 10
    assert "/archive/2024/05/13" in pages
    assert {p.access for p in POSTS} == {"free", "paid_full", "paid_preview"}


def test_crawl_of_a_custom_domain_publication_stores_every_story(crawl) -> None:
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        requests = dict(site.requests)
    assert_stored(archive, {normalize_url(base + post.path): {
        "title": post.title, "published_at": post.iso, "access": post.access, "author": post.author,
        "newsletter": PUBLICATION} for post in POSTS})
    assert requests["/feed"] == 1
    archive_pages = [path for path in build_publication(base) if path.startswith("/archive")]
    assert all(requests.get(path) == 1 for path in archive_pages), {p: requests.get(p) for p in archive_pages}
    assert all(requests.get(post.path) == 1 for post in POSTS)  # feed, archive and cards name a story one way
    empty = [f"/archive/{y}/{m:02d}" for y in ("2023", "2024") for m in range(1, 13)
             if not any(p.bucket[:2] == (y, f"{m:02d}") for p in POSTS)]
    assert empty and all(requests.get(path) is None for path in empty)  # months without stories are not links
    preview = archive.get(base + POSTS[7].path)
    assert "Create an account" not in preview["body_text"] and "Member-only story" not in preview["body_text"]
    assert [s["newsletter"] for s in archive.stats()] == [PUBLICATION]


def test_crawl_of_one_story_url_stores_only_that_story(crawl) -> None:
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url(POSTS[5].path))
        requests = dict(site.requests)
    assert [issue["title"] for issue in archive.list()] == [POSTS[5].title]
    assert {path: n for path, n in requests.items() if path != "/robots.txt"} == {POSTS[5].path: 1}


def test_the_adapter_is_registered() -> None:
    assert get_adapter("medium") is ADAPTER
