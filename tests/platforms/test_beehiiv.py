"""Beehiiv adapter (``../shared/docs/platforms.md`` §5): pure functions, a crawled fixture site.

* Golden pages (the real Milk Road web post, 2022 layout, and three received emails from the shared
  corpus; our current-layout fixtures: free post with poll/referral/subscribe furniture, premium post
  cut by the paywall) have their records in ``tests/fixtures/beehiiv/golden.json``, run by ``test_golden.py``.
* Pure functions: detection by URL and by page markers (and no false positive on the other
  platforms' corpus pages), listing plans, archive paging, sitemap filtering.
* A local custom-domain publication (33 posts in both layouts, 6 of them premium) crawled through the
  real spider from its home page: ``/archive?page=N`` is paged to its last page and every listed post
  is stored with its title, date and access; the sitemap and RSS fallbacks are not needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from golden import fold
from lxml import html as lxml_html
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, SITEMAP, Listing
from tomtalks_scraper.extraction.issue import extract_issue
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.beehiiv import ADAPTER
from tomtalks_scraper.urls import normalize_url

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "beehiiv"
OTHER_PLATFORMS = ("buttondown", "ghost", "kit", "linkedin", "mailchimp", "medium", "other", "substack", "wordpress")


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


# Detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://robots-weekly.beehiiv.com/p/warehouse-robots-learn-the-aisles",
    "https://robots-weekly.beehiiv.com/",
    "http://fossweekly.beehiiv.com/archive?page=2",
])
def test_publication_urls_are_beehiiv(url: str) -> None:
    assert ADAPTER.matches_url(url)


@pytest.mark.parametrize("url", [
    "https://www.beehiiv.com/pricing",
    "https://rss.beehiiv.com/feeds/Rb0tW33kly.xml",
    "https://app.beehiiv.com/posts/123",
    "https://beehiiv.com.example.org/p/x",
    "https://www.milkroad.com/p/peter-thiel",  # custom domain: known from the page, not the URL
])
def test_other_urls_are_not_beehiiv(url: str) -> None:
    assert not ADAPTER.matches_url(url)


def test_custom_domain_pages_are_detected_from_markup() -> None:
    for name in ("remix-free-post.html", "remix-premium-post.html"):
        tree = _parse((FIXTURES / name).read_text(encoding="utf-8"))
        assert detect_platform("https://news.robots.example/p/x", tree).name == "beehiiv"


def test_no_other_platform_page_of_the_corpus_looks_like_beehiiv(shared: Path) -> None:
    pages = [p for d in OTHER_PLATFORMS for p in shared.joinpath("corpus", "real", d).rglob("*.html")
             if ".expected" not in p.name]
    assert len(pages) > 40
    claimed = [p.name for p in pages if ADAPTER.matches_page(_parse(p.read_text(encoding="utf-8", errors="replace")))]
    assert claimed == []


# Listings ---------------------------------------------------------------------------------------


def test_a_post_url_is_a_single_issue() -> None:
    assert ADAPTER.listings("https://robots-weekly.beehiiv.com/p/warehouse-robots-learn-the-aisles", None) == []


def test_home_lists_archive_pages_first_then_linked_feed_and_sitemap_as_fallbacks() -> None:
    home = _parse((FIXTURES / "remix-free-post.html").read_text(encoding="utf-8"))
    assert ADAPTER.listings("https://news.robots.example/", home) == [
        Listing("https://news.robots.example/archive?page=1", ARCHIVE),
        Listing("https://rss.beehiiv.com/feeds/Rb0tW33kly.xml", FEED, fallback=True),
        Listing("https://news.robots.example/sitemap.xml", SITEMAP, fallback=True),
    ]
    without_feed = _parse("<html><head><title>x</title></head><body></body></html>")
    assert [listing.kind for listing in ADAPTER.listings("https://news.robots.example/archive", without_feed)] == [
        ARCHIVE, SITEMAP]


def test_archive_page_lists_posts_and_only_the_next_page() -> None:
    body = b"""<html><body><nav><a href="/p/not-in-nav-but-still-a-post">x</a></nav>
      <a href="/p/one"><h2>One</h2><time datetime="2024-05-14T13:00:00Z">May 14</time></a>
      <a href="https://news.robots.example/p/two/">Two</a><a href="/p/one">One again</a>
      <a href="https://elsewhere.example/p/three">Off-site</a><a href="/subscribe">Subscribe</a>
      <a href="/archive?page=1">1</a><a href="/archive?page=3">3</a><a href="/archive?page=4">Next</a></body></html>"""
    result = ADAPTER.parse_listing(Listing("https://news.robots.example/archive?page=3", ARCHIVE), body,
                                   "https://news.robots.example/archive?page=3")
    assert [i.url for i in result.issues] == [
        "https://news.robots.example/p/not-in-nav-but-still-a-post", "https://news.robots.example/p/one",
        "https://news.robots.example/p/two/"]
    assert result.issues[1].hints.published_at == "2024-05-14T13:00:00Z"
    assert result.next == [Listing("https://news.robots.example/archive?page=4", ARCHIVE)]
    last = ADAPTER.parse_listing(Listing("https://news.robots.example/archive?page=4", ARCHIVE), body,
                                 "https://news.robots.example/archive?page=4")
    assert last.next == []


def test_sitemap_keeps_only_posts() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://news.robots.example/</loc></url><url><loc>https://news.robots.example/archive</loc></url>
      <url><loc>https://news.robots.example/p/one</loc><lastmod>2024-05-14</lastmod></url>
      <url><loc>https://news.robots.example/authors/ada</loc></url></urlset>"""
    result = ADAPTER.parse_listing(Listing("https://news.robots.example/sitemap.xml", SITEMAP), body,
                                   "https://news.robots.example/sitemap.xml")
    assert [(i.url, i.hints.updated_at) for i in result.issues] == [("https://news.robots.example/p/one", "2024-05-14")]


# A crawled publication ----------------------------------------------------------------------------

PER_PAGE = 10
TOPICS = ("conveyor belts", "night shifts", "forklift sensors", "pick lists", "battery swaps", "dock doors",
          "vision models", "safety audits", "cold stores", "returns desks", "parcel chutes")


@dataclass(frozen=True)
class Post:
    number: int
    layout: str  # "2022" or "remix"
    premium: bool

    @property
    def slug(self) -> str:
        return f"issue-{self.number}-{TOPICS[self.number % len(TOPICS)].replace(' ', '-')}"

    @property
    def title(self) -> str:
        return f"Issue {self.number}: notes on {TOPICS[self.number % len(TOPICS)]}"

    @property
    def published(self) -> datetime:
        return datetime(2023, 9, 5, 13, 0, tzinfo=UTC) + timedelta(days=7 * self.number)

    @property
    def iso(self) -> str:
        return self.published.strftime("%Y-%m-%dT%H:%M:%SZ")


POSTS = [Post(n, "2022" if n % 3 == 0 else "remix", premium=n % 3 != 0 and n % 5 == 0) for n in range(1, 34)]
FAVICON = "https://media.beehiiv.com/cdn-cgi/image/quality=80/uploads/publication/logo/3b8f0c1a/thumb_robot.png"


def _paragraphs(post: Post, cut: bool = False) -> str:
    """The post's body blocks; a premium post shown to an anonymous reader stops before the last one."""
    topic = TOPICS[post.number % len(TOPICS)]
    sentences = (
        f"This week the floor team walked me through {topic}, and issue {post.number} is what I learned there.",
        "The vendor's dashboard showed one story; the people who keep the robots moving told another, "
        "with numbers from their own paper logs and a few photos of the whiteboard by the loading bay.",
        f"Next week we follow up on {topic} with the managers who signed the contract.",
    )
    return "".join(f'<div style="padding:12px 15px;"><p style="font-size:16px;">{escape(sentence)}</p></div>'
                   for sentence in (sentences[:-1] if cut else sentences))


def _poll() -> str:
    return ('<div style="padding:12px 15px;"><p><strong>What\'d you think of today\'s email?</strong></p></div>'
            '<div style="padding:12px 28px;"><ul><li><a href="https://flight.beehiiv.net/clicks/T1">Loved it</a></li>'
            '<li><a href="https://flight.beehiiv.net/clicks/T2">Meh</a></li></ul></div>')


def _post_2022(post: Post) -> str:
    """The 2022 Rails markup of the corpus page: og tags only, byline and <time> above #content-blocks."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(post.title)}</title>
<meta property="og:type" content="website"><meta property="og:title" content="{escape(post.title)}">
<meta name="description" content="Field notes on robots at work."><link rel="icon" type="image/png" href="{FAVICON}">
</head><body class="h-full flex flex-col">
<nav class="bg-wt-tertiary"><div class="flex"><a href="/"><span class="text-xl">Robots Weekly</span></a>
<div><a href="/subscribe">Subscribe</a><a href="/login">Sign in</a></div></div></nav>
<div class="mx-auto mt-0 mb-auto pt-4 w-full"><div><div class="rendered-post">
<div class="bg-wt-background"><div class="py-6">
<div class="pb-8"><h1>{escape(post.title)}</h1><div class="flex text-sm"><p><span>By Ada Byron</span> &#8226;
<span><time datetime="{post.iso}" data-local="time">{post.published:%B %d, %Y}</time></span></p></div></div>
<div id="content-blocks">{_paragraphs(post)}{_poll()}</div></div></div></div></div></div>
<div class="bg-wt-primary p-6"><h2>Subscribe to Robots Weekly</h2><p>Field notes on robots at work.</p>
<form id="subscribe_form" action="/create_subscription" method="post"><input type="email" name="email"></form></div>
<footer class="bg-wt-tertiary p-6"><p>© {post.published.year} Robots Weekly.</p>
<a class="link" href="https://www.beehiiv.com?utm_medium=web&amp;utm_source=robots_weekly">Publish on beehiiv</a>
</footer>
</body></html>"""


def _post_remix(post: Post) -> str:
    """The current markup (as the fixture pages): JSON-LD, #web-header, #content-blocks, paywall for premium."""
    ld = {"@context": "https://schema.org", "@type": "Article", "headline": post.title, "datePublished": post.iso,
          "author": [{"@type": "Person", "name": "Ada Byron"}], "publisher": {"@type": "Organization",
          "name": "Robots Weekly"}, "isAccessibleForFree": not post.premium}
    paywall = ('<div class="paywall-container"><h3>Subscribe to Robots Weekly Pro to read the rest.</h3>'
               '<a href="/upgrade">Upgrade</a><p>Already a paying subscriber? <a href="/login">Sign In</a></p></div>')
    return f"""<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>
<title>{escape(post.title)} | Robots Weekly</title><meta property="og:title" content="{escape(post.title)}"/>
<meta property="og:type" content="article"/><meta property="og:site_name" content="Robots Weekly"/>
<link rel="icon" type="image/png" href="{FAVICON}"/>
<script type="application/ld+json">{json.dumps(ld)}</script></head><body>
<header><nav><a href="/">Robots Weekly</a><a href="/archive">Posts</a><a href="/subscribe">Subscribe</a></nav></header>
<main><div class="rendered-post"><div id="web-header"><h1>{escape(post.title)}</h1>
<div><p>Ada Byron</p><time datetime="{post.iso}">{post.published:%B %d, %Y}</time></div></div>
<div id="content-blocks">{_paragraphs(post, cut=post.premium)}
{"" if post.premium else _poll()}</div>{paywall if post.premium else ""}</div></main>
<footer><p>© Robots Weekly.</p><a href="https://www.beehiiv.com/?utm_source=web">Powered by beehiiv</a></footer>
</body></html>"""


def _card(base: str, post: Post) -> str:
    return (f'<a href="{base}/p/{post.slug}" class="block"><h2>{escape(post.title)}</h2>'
            f'<p class="text-sm">Field notes</p><time datetime="{post.iso}">{post.published:%b %d, %Y}</time></a>')


def _archive_page(base: str, number: int, pages: int, posts: list[Post]) -> str:
    links = "".join(f'<a href="/archive?page={n}">{n}</a>' for n in range(1, pages + 1))
    previous = f'<a href="/archive?page={number - 1}">Previous</a>' if number > 1 else ""
    following = f'<a href="/archive?page={number + 1}">Next</a>' if number < pages else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>Archive | Robots Weekly</title>
<link rel="icon" type="image/png" href="{FAVICON}"/></head><body>
<header><nav><a href="/">Robots Weekly</a><a href="/archive">Posts</a><a href="/subscribe">Subscribe</a></nav></header>
<main><h1>Posts</h1><div class="grid">{"".join(_card(base, p) for p in posts)}</div>
<div class="pagination">{previous}{links}{following}</div></main></body></html>"""


def build_publication(base: str) -> dict[str, Page]:
    newest_first = sorted(POSTS, key=lambda p: p.published, reverse=True)
    pages = -(-len(newest_first) // PER_PAGE)
    site = {
        "/": Page(f"""<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>Robots Weekly</title>
<meta property="og:site_name" content="Robots Weekly"/><link rel="icon" type="image/png" href="{FAVICON}"/>
<link rel="alternate" type="application/rss+xml" href="https://rss.beehiiv.com/feeds/Rb0tW33kly.xml"/></head><body>
<header><nav><a href="/">Robots Weekly</a><a href="/archive">Posts</a></nav></header><main><h1>Robots Weekly</h1>
<p>Field notes on robots at work, every Tuesday.</p><form action="/create_subscription"><input name="email"></form>
<h2>Latest</h2>{"".join(_card(base, p) for p in newest_first[:3])}<a href="/archive">See all posts</a></main>
</body></html>""".encode()),
        "/sitemap.xml": Page(b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>",
                             "application/xml"),
    }
    for number in range(1, pages + 1):
        chunk = newest_first[(number - 1) * PER_PAGE:number * PER_PAGE]
        site[f"/archive?page={number}"] = Page(_archive_page(base, number, pages, chunk).encode())
    for post in POSTS:
        markup = _post_2022(post) if post.layout == "2022" else _post_remix(post)
        site[f"/p/{post.slug}"] = Page(markup.encode())
    return site


@pytest.mark.crawl
def test_publication_is_archived_from_its_home_page(crawl) -> None:
    assert len(POSTS) >= 30 and {p.layout for p in POSTS} == {"2022", "remix"} and any(p.premium for p in POSTS)
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url("/"))
        pages = -(-len(POSTS) // PER_PAGE)
        assert all(site.requests[f"/archive?page={n}"] == 1 for n in range(1, pages + 1))
        assert site.requests[f"/archive?page={pages + 1}"] == 0
        assert site.requests["/sitemap.xml"] == 0
        assert all(site.requests[f"/p/{p.slug}"] == 1 for p in POSTS)
        url_of = {p.number: normalize_url(site.url(f"/p/{p.slug}")) for p in POSTS}
    assert_stored(archive, {url_of[post.number]: {
        "title": post.title, "published_at": post.iso, "platform": "beehiiv", "newsletter": "Robots Weekly",
        "access": "paid_preview" if post.premium else "free"} for post in POSTS})
    premium = next(p for p in POSTS if p.premium)
    issue = archive.get(url_of[premium.number])
    assert "read the rest" not in issue["body_text"] and "Next week we follow up" not in issue["body_text"]
    free = next(p for p in POSTS if p.layout == "2022")
    body = archive.get(url_of[free.number])["body_text"]
    assert fold(body).endswith("with the managers who signed the contract.")
    assert "think of today" not in body and "Subscribe to Robots Weekly" not in body


@pytest.mark.crawl
def test_one_2022_post_as_start_url_is_stored(crawl) -> None:
    post = next(p for p in POSTS if p.layout == "2022")
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url(f"/p/{post.slug}"))
        assert site.requests["/archive?page=1"] == 0
    assert [row["title"] for row in archive.list()] == [post.title]


@pytest.mark.crawl
def test_one_current_post_as_start_url_is_stored(crawl) -> None:
    post = next(p for p in POSTS if p.layout == "remix" and not p.premium)
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url(f"/p/{post.slug}"))
        assert site.requests["/archive?page=1"] == 0
    assert [(row["title"], row["published_at"]) for row in archive.list()] == [(post.title, post.iso)]


def test_an_email_paragraph_written_as_a_div_keeps_the_spaces_around_its_links() -> None:
    """beehiiv e-mails write paragraphs as ``div.paragraphText`` in layout cells, wrapped at 80 columns."""
    page = """<html><head><title>A friend found millions</title></head><body><table role="presentation"><tr>
    <td class="email-card-body"><table role="presentation"><tr><td>
      <div class="paragraphText">
        <b>What happened?</b>&nbsp;<a href="https://example.com/xcopy"
          >XCopy</a
        >
        is one of the most popular artists in the
        world. <b>Check this out:</b>
        <a href="https://example.com/gianni">Gianni</a>
        went through every contract.
      </div>
      <div class="paragraphText">A second paragraph with enough words in it to count as the body of an email.</div>
    </td></tr></table></td></tr></table></body></html>"""
    issue = extract_issue(page, "https://www.milkroad.com/p/friend-found-millions", platform="beehiiv")
    assert issue.body_text.splitlines()[0] == ("What happened?\xa0XCopy is one of the most popular artists in the "
                                               "world. Check this out: Gianni went through every contract.")
    assert "[XCopy](https://example.com/xcopy) is one" in issue.body_markdown


def test_archive_page_reads_links_with_spaces_and_skips_unreadable_ones() -> None:
    """hrefs are taken as a browser takes them (surrounding whitespace ignored); one broken link
    (``http://[oops/``) costs only itself, not the archive page."""
    body = b"""<html><body>
      <a href="  /p/first-issue  ">First</a>
      <a href="http://[oops/p/broken">Broken</a>
      <a href="\n/p/second-issue#comments">Second</a>
      <a href=" /archive?page=3 ">Next</a>
    </body></html>"""
    url = "https://news.example.com/archive?page=2"
    result = ADAPTER.parse_listing(Listing(url, ARCHIVE), body, url)
    assert [issue.url for issue in result.issues] == ["https://news.example.com/p/first-issue",
                                                      "https://news.example.com/p/second-issue"]
    assert [listing.url for listing in result.next] == ["https://news.example.com/archive?page=3"]


def test_a_space_between_two_formatted_words_survives() -> None:
    """``<a><u><b>Dank Bank</b></u></a> <b>got…</b>``: the space alone between the two must stay a space."""
    page = """<html><head><title>Who got the bread</title></head><body><div class="rendered-post">
    <div class="pb-8"><h1>Who got the bread</h1></div><div id="content-blocks">
      <p>Over $700M was raised in Web3 companies and funds this week, and here is who got the money.</p>
      <p><a href="https://example.com/dank"><u><b>Dank Bank</b></u></a> <b>got $4.2M to let people trade
        memes.</b> Memes are a part of culture, and <i>maybe</i> <em>they</em> will be collected as art.</p>
    </div></div></body></html>"""
    issue = extract_issue(page, "https://www.milkroad.com/p/who-got-the-bread", platform="beehiiv")
    assert "Dank Bank got $4.2M to let people trade memes. Memes are a part of culture, and maybe they will be " \
        "collected as art." in issue.body_text
