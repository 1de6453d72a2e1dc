"""Ghost adapter (``../shared/docs/platforms.md`` §4): pure functions, a crawled fixture site.

* Golden pages (the Ghost pages of the shared corpus: Ghost 0.11, a 3.99 third-party theme, a
  newsletter email; our own Source paid preview, Casper members-only post, Casper 3 free post with
  cards) have their records in ``tests/fixtures/ghost/golden.json``, run by ``test_golden.py``; here
  they serve detection and listing tests.
* Pure functions: detection, upgrade-CTA access, listing plans, Content API paging.
* A local custom-domain publication ("The Grid Ledger", 34 posts, some members-only or paid) crawled
  through the real spider from its home page: the Content API is paged by ``meta.pagination.next``
  to its last page; with Ghost's default robots.txt (``Disallow: /ghost/``) the posts sitemap and
  the RSS feed take over and still store every post.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest
from golden import fold, load
from lxml import html as lxml_html
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import API, FEED, SITEMAP, Listing
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.ghost import ADAPTER, API_FIELDS, API_PAGE_SIZE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ghost"


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


# Detection ------------------------------------------------------------------------------------------


def test_url_pattern_is_ghost_pro_hosting_only() -> None:
    assert ADAPTER.matches_url("https://soilandseason.ghost.io/field-notes-february/")
    assert ADAPTER.matches_url("https://nick-saraev.ghost.io")
    for url in ("https://ghost.org/docs/", "https://ghost.io.example.com/x/", "https://blog.example.com/ghost-kitchens/",
                "https://example.com/?next=https://a.ghost.io/"):
        assert not ADAPTER.matches_url(url), url


def test_every_ghost_page_is_recognised_on_a_custom_domain(shared: Path) -> None:
    for record in load("ghost"):
        tree = _parse(record.read(shared))
        assert detect_platform("http://127.0.0.1:8000/some-post/", tree).name == "ghost", record.name


def test_pages_of_other_platforms_are_not_ghost(shared: Path) -> None:
    others = [p for p in shared.joinpath("corpus", "real").rglob("*.html")
              if ".expected" not in p.name and p.parent.name != "ghost" and "ghost" not in p.parts]
    assert len(others) > 30
    for path in others:
        assert not ADAPTER.matches_page(_parse(path.read_text(encoding="utf-8", errors="replace"))), path.name


def test_a_blog_that_talks_about_ghost_is_not_ghost() -> None:
    page = _parse("""<html><head><meta name="generator" content="Hugo 0.121">
        <link rel="stylesheet" href="/css/ghost-theme.css"><title>Ghost kitchens</title></head>
        <body class="post-template"><article><h1>Ghost kitchens are here</h1>
        <div class="post-content gh-content"><p>We tried a Ghost blog once; the gh-content class is ours.</p></div>
        <a href="https://ghost.org/">Ghost</a></article></body></html>""")
    assert not ADAPTER.matches_page(page)


# Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("heading", [
    "This post is for paying subscribers only",
    "This post is for subscribers on the Premium tier only",
    "This post is for subscribers only",
    "This post is for members only",
])
def test_the_upgrade_cta_marks_a_preview_whatever_opens_the_post(heading: str) -> None:
    """Free sign-up or paid plan, the page holds the free part of the issue: a preview, not a sign-in wall."""
    page = _parse(f"""<html><head><meta name="generator" content="Ghost 5.0"></head><body class="post-template">
        <section class="gh-content"><p>Preview.</p><aside class="gh-post-upgrade-cta">
        <div class="gh-post-upgrade-cta-content"><h2>{heading}</h2>
        <a class="gh-btn" data-portal="signup">Subscribe now</a></div></aside></section></body></html>""")
    assert ADAPTER.access(page, ADAPTER.metadata(page, "https://x.example/p/")) == "paid_preview"


def test_members_styles_alone_do_not_gate_a_post(shared: Path) -> None:
    """Every Ghost 5 page carries ``#gh-members-styles`` CSS naming the CTA classes; only the element gates."""
    page = _parse((FIXTURES / "casper3-free-cards.html").read_text(encoding="utf-8").replace(
        "</head>", "<style id='gh-members-styles'>.gh-post-upgrade-cta { display: flex; }</style></head>"))
    assert ADAPTER.access(page, ADAPTER.metadata(page, "https://cartonotes.org/x/")) == "free"


# Listings -------------------------------------------------------------------------------------------

KEY = "5a1c9d3e7f20b4c6d8e0a2b4c6"


def _home(base: str, *, key: bool = True, api: str | None = None, root: str | None = None) -> str:
    root = root or f"{base}/"
    portal = (f'<script defer src="https://cdn.jsdelivr.net/ghost/portal@~2.37/umd/portal.min.js" data-i18n="true" '
              f'data-ghost="{root}" data-key="{KEY}" data-api="{api or root + "ghost/api/content/"}" '
              'data-locale="en" crossorigin="anonymous"></script>' if key else
              '<script defer src="https://unpkg.com/@tryghost/portal@~1.0.0/umd/portal.min.js" '
              f'data-ghost="{root}"></script>')
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Grid Ledger</title>
<link rel="canonical" href="{root}"><meta property="og:site_name" content="The Grid Ledger">
<meta property="og:type" content="website"><meta name="generator" content="Ghost 5.82">
<link rel="alternate" type="application/rss+xml" title="The Grid Ledger" href="{root}rss/">
{portal}
</head><body class="home-template has-sans-title"><div class="gh-viewport"><main class="gh-main">
<div class="gh-feed"></div></main></div></body></html>"""


def test_a_post_page_has_no_listings(shared: Path) -> None:
    for record in load("ghost"):
        if record.name.startswith("ghost/email/"):
            continue
        assert ADAPTER.listings(record.url, _parse(record.read(shared))) == [], record.name


def test_home_with_a_content_key_reads_the_api_then_the_sitemap_and_feed() -> None:
    plan = ADAPTER.listings("https://gridledger.example/", _parse(_home("https://gridledger.example")))
    assert plan == [
        Listing(f"https://gridledger.example/ghost/api/content/posts/?key={KEY}&limit=100&page=1"
                f"&include=authors&fields={API_FIELDS}", API),
        Listing("https://gridledger.example/sitemap-posts.xml", SITEMAP, fallback=True),
        Listing("https://gridledger.example/rss/", FEED, fallback=True),
    ]


def test_home_without_a_content_key_reads_the_posts_sitemap_first() -> None:
    plan = ADAPTER.listings("https://cartonotes.org/", _parse(_home("https://cartonotes.org", key=False)))
    assert plan == [Listing("https://cartonotes.org/sitemap-posts.xml", SITEMAP),
                    Listing("https://cartonotes.org/rss/", FEED, fallback=True)]


@pytest.mark.parametrize("root", [None, "https://northern.ghost.io/"])
def test_an_api_on_another_host_is_not_used(root: str | None) -> None:
    """A custom front end whose ``data-api`` (or whole Portal config) is ``*.ghost.io``: the spider follows
    the start host only, and a request to another host would be dropped without a word."""
    page = _parse(_home("https://www.northern.example", api="https://northern.ghost.io/ghost/api/content/", root=root))
    plan = ADAPTER.listings("https://www.northern.example/", page)
    assert plan == [Listing("https://www.northern.example/sitemap-posts.xml", SITEMAP),
                    Listing("https://www.northern.example/rss/", FEED, fallback=True)]


def test_a_publication_under_a_sub_path_is_listed_there() -> None:
    page = _parse(_home("https://example.com", root="https://example.com/blog/"))
    plan = ADAPTER.listings("https://example.com/blog/", page)
    assert [listing.url.split("?")[0] for listing in plan] == [
        "https://example.com/blog/ghost/api/content/posts/", "https://example.com/blog/sitemap-posts.xml",
        "https://example.com/blog/rss/"]


def _api_body(posts: list[dict[str, Any]], page: int, pages: int) -> bytes:
    return json.dumps({"posts": posts, "meta": {"pagination": {
        "page": page, "limit": 12, "pages": pages, "total": 30, "next": page + 1 if page < pages else None,
        "prev": page - 1 if page > 1 else None}}}).encode()


def test_content_api_pages_follow_pagination_next() -> None:
    url = f"https://g.example/ghost/api/content/posts/?key={KEY}&limit=100&page=2&include=authors&fields={API_FIELDS}"
    post = {"id": "1", "title": "A & B", "url": "https://g.example/a-b/", "visibility": "paid",
            "published_at": "2024-03-12T08:30:00.000+01:00", "updated_at": "2024-03-13T09:02:11.000+00:00",
            "authors": [{"id": "9", "name": "Maya Lindqvist", "slug": "maya"}, {"id": "8", "name": "Tomás Ferreira"}]}
    result = ADAPTER.parse_listing(Listing(url, API), _api_body([post], 2, 3), url)
    assert [issue.url for issue in result.issues] == ["https://g.example/a-b/"]
    hints = result.issues[0].hints
    assert (hints.title, hints.author, hints.published_at, hints.updated_at, hints.source) == (
        "A & B", "Maya Lindqvist", "2024-03-12T07:30:00Z", "2024-03-13T09:02:11Z", "api")
    assert result.next == [Listing(url.replace("&page=2&", "&page=3&"), API)]
    last = ADAPTER.parse_listing(Listing(url, API), _api_body([post], 3, 3), url)
    assert last.next == []


def test_a_content_api_error_is_an_error() -> None:
    """A revoked key answers ``{"errors": [...]}`` (401); the spider records it and reads the fallbacks."""
    url = "https://g.example/ghost/api/content/posts/?key=x&limit=100&page=1"
    body = json.dumps({"errors": [{"message": "Unknown Content API Key", "type": "UnauthorizedError"}]}).encode()
    with pytest.raises(KeyError):
        ADAPTER.parse_listing(Listing(url, API), body, url)


# A crawled publication ------------------------------------------------------------------------------

PUB_NAME = "The Grid Ledger"
API_CAP = 12  # posts this server answers per page, whatever ``limit`` asks for (Ghost's own default is 15)
AUTHORS = ("Maya Lindqvist", "Tomás Ferreira", "Ade Olatunji")
TOPICS = ("batteries", "transmission lines", "heat pumps", "wind farms", "smart meters", "hydrogen", "tariffs")
#: Ghost's default robots.txt.
ROBOTS = ("User-agent: *\nSitemap: {base}/sitemap.xml\n"
          "Disallow: /ghost/\nDisallow: /p/\nDisallow: /email/\nDisallow: /r/\n")


@dataclass(frozen=True)
class Post:
    number: int
    visibility: str  # public, members, paid

    @property
    def slug(self) -> str:
        return f"ledger-{self.number}-{TOPICS[self.number % len(TOPICS)].replace(' ', '-')}"

    @property
    def title(self) -> str:
        return f"Ledger {self.number}: what {TOPICS[self.number % len(TOPICS)]} changed this week"

    @property
    def author(self) -> str:
        return AUTHORS[self.number % len(AUTHORS)]

    @property
    def published(self) -> datetime:
        return datetime(2023, 9, 5, 7, 30, tzinfo=UTC) + timedelta(days=7 * self.number, minutes=self.number)

    @property
    def access(self) -> str:
        return "free" if self.visibility == "public" else "paid_preview"

    def url(self, base: str) -> str:
        return f"{base}/{self.slug}/"

    def paragraphs(self) -> list[str]:
        topic = TOPICS[self.number % len(TOPICS)]
        return [
            f"This is issue {self.number} of the Ledger, and this week the story is {topic} again.",
            f"Utilities filed {self.number * 3} new plans that mention {topic}, most of them in regions where "
            "demand grows fastest in the evening and the existing network has the least room to spare.",
            "The plans differ in detail, but they agree that the expensive part is not the equipment itself: "
            "it is the years of permits, studies and grid connection queues that come before it.",
            "Next week we follow one of those plans from application to approval. "
            f"Thanks for reading issue {self.number}.",
        ]


POSTS = [Post(n, "paid" if n % 7 == 3 else "members" if n % 5 == 4 else "public") for n in range(1, 35)]


def _post_page(post: Post, base: str) -> Page:
    paragraphs = post.paragraphs() if post.visibility == "public" else post.paragraphs()[:3]
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if post.visibility != "public":
        heading = "This post is for paying subscribers only" if post.visibility == "paid" else \
            "This post is for subscribers only"
        body += (f'\n<aside class="gh-post-upgrade-cta"><div class="gh-post-upgrade-cta-content" '
                 f'style="background-color: #1f6feb"><h2>{heading}</h2><a class="gh-btn" data-portal="signup" '
                 'href="#/portal/signup">Subscribe now</a><p><small>Already have an account? '
                 '<a data-portal="signin" href="#/portal/signin">Sign in</a></small></p></div></aside>')
    published = post.published.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ld = json.dumps({"@context": "https://schema.org", "@type": "Article",
                     "publisher": {"@type": "Organization", "name": PUB_NAME, "url": f"{base}/"},
                     "author": {"@type": "Person", "name": post.author, "url": f"{base}/author/x/"},
                     "headline": post.title, "url": post.url(base), "datePublished": published,
                     "dateModified": published, "mainEntityOfPage": post.url(base)}, indent=4)
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(post.title)}</title>
<link rel="canonical" href="{post.url(base)}"><meta property="og:site_name" content="{PUB_NAME}">
<meta property="og:type" content="article"><meta property="og:title" content="{escape(post.title)}">
<meta property="article:published_time" content="{published}">
<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="{post.author}">
<script type="application/ld+json">{ld}</script>
<meta name="generator" content="Ghost 5.82">
<link rel="alternate" type="application/rss+xml" title="{PUB_NAME}" href="{base}/rss/">
<script defer src="https://cdn.jsdelivr.net/ghost/portal@~2.37/umd/portal.min.js" data-ghost="{base}/"
 data-key="{KEY}" data-api="{base}/ghost/api/content/" crossorigin="anonymous"></script>
</head><body class="post-template tag-grid"><div class="gh-viewport">
<header id="gh-navigation" class="gh-navigation gh-outer"><a class="gh-navigation-logo" href="{base}">{PUB_NAME}</a>
<a href="#/portal/signup" data-portal="signup">Subscribe</a></header>
<main class="gh-main"><article class="gh-article post"><header class="gh-article-header gh-canvas">
<h1 class="gh-article-title is-title">{escape(post.title)}</h1>
<div class="gh-article-meta"><h4 class="gh-article-author-name"><a href="/author/x/">{post.author}</a></h4>
<time class="gh-article-meta-date" datetime="{post.published:%Y-%m-%d}">{post.published:%d %b %Y}</time></div>
</header>
<section class="gh-content gh-canvas is-body">
{body}
</section></article></main>
<section class="gh-cta gh-outer"><h2 class="gh-cta-title">Subscribe to {PUB_NAME}</h2>
<form data-members-form="signup"><input type="email" data-members-email><button>Subscribe</button></form></section>
<footer class="gh-footer gh-outer"><div class="gh-footer-copyright">Powered by <a href="https://ghost.org/">Ghost</a></div>
</footer></div></body></html>"""
    return Page(html.encode())


def _api_post(post: Post, base: str) -> dict[str, Any]:
    """A post as ``/ghost/api/content/posts/?include=authors&fields=…`` returns it."""
    stamp = post.published.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    author = {"id": f"65a0{post.number % 3:020d}", "name": post.author, "slug": post.author.split()[0].lower(),
              "profile_image": None, "cover_image": None, "bio": None, "website": None, "location": None,
              "facebook": None, "twitter": None, "meta_title": None, "meta_description": None,
              "url": f"{base}/author/{post.author.split()[0].lower()}/"}
    return {"id": f"65f0{post.number:020d}", "title": post.title, "url": post.url(base),
            "visibility": post.visibility, "published_at": stamp, "updated_at": stamp,
            "authors": [author], "primary_author": author}


def build_publication(base: str, robots: str | None = None) -> dict[str, Page]:
    newest_first = sorted(POSTS, key=lambda p: p.published, reverse=True)
    pages = -(-len(POSTS) // API_CAP)
    site = {"/": Page(_home(base).encode()),
            "/about/": Page(b'<html><body class="page-template"><h1>About</h1></body></html>')}
    if robots is not None:
        site["/robots.txt"] = Page(robots.format(base=base).encode(), "text/plain")
    for page in range(1, pages + 1):
        chunk = newest_first[(page - 1) * API_CAP:page * API_CAP]
        meta = {"pagination": {"page": page, "limit": API_CAP, "pages": pages, "total": len(POSTS),
                               "next": page + 1 if page < pages else None, "prev": page - 1 if page > 1 else None}}
        site[f"/ghost/api/content/posts/?key={KEY}&limit={API_PAGE_SIZE}&page={page}&include=authors"
             f"&fields={API_FIELDS}"] = Page(json.dumps({"posts": [_api_post(p, base) for p in chunk],
                                                         "meta": meta}).encode(), "application/json; charset=utf-8")
    urls = "".join(f"<url><loc>{p.url(base)}</loc><lastmod>{p.published:%Y-%m-%dT%H:%M:%S.000Z}</lastmod></url>"
                   for p in newest_first)
    site["/sitemap.xml"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         + "".join(f"<sitemap><loc>{base}/sitemap-{kind}.xml</loc></sitemap>"
                   for kind in ("pages", "posts", "authors", "tags"))
         + "</sitemapindex>").encode(), "text/xml")
    site["/sitemap-posts.xml"] = Page(
        (f'<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="//{base.split("//")[1]}'
         '/sitemap.xsl"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
         f'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">{urls}</urlset>').encode(), "text/xml")
    items = "".join(
        f"<item><title><![CDATA[{p.title}]]></title><link>{p.url(base)}</link><guid isPermaLink=\"false\">{p.number}"
        f"</guid><dc:creator><![CDATA[{p.author}]]></dc:creator><pubDate>{format_datetime(p.published, usegmt=True)}"
        "</pubDate></item>" for p in newest_first[:15])
    site["/rss/"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
         'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
         f'version="2.0"><channel><title><![CDATA[{PUB_NAME}]]></title><link>{base}/</link>'
         f"<generator>Ghost 5.82</generator>{items}</channel></rss>").encode(), "application/rss+xml; charset=utf-8")
    for post in POSTS:
        site[f"/{post.slug}/"] = _post_page(post, base)
    return site


def _api_pages(site: LocalSite) -> dict[int, int]:
    return {int(path.split("&page=")[1].split("&")[0]): count
            for path, count in site.requests.items() if path.startswith("/ghost/api/")}


def _assert_every_post_stored(archive: Any, base: str) -> None:
    assert_stored(archive, {post.url(base): {
        "title": post.title, "author": post.author, "access": post.access, "platform": "ghost",
        "published_at": post.published.strftime("%Y-%m-%dT%H:%M:%SZ"), "newsletter": PUB_NAME} for post in POSTS})


def test_home_page_crawl_pages_the_content_api_to_the_end(crawl) -> None:
    assert {p.visibility for p in POSTS} == {"public", "members", "paid"}
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_pages(site) == {1: 1, 2: 1, 3: 1}  # 12 + 12 + 10 posts; no request past the last page
        assert site.requests["/sitemap-posts.xml"] == 0 and site.requests["/rss/"] == 0  # fallbacks unused
        assert site.requests["/about/"] == 0
        assert all(site.requests[f"/{p.slug}/"] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)
    paid = archive.get(POSTS[2].url(base))
    assert POSTS[2].visibility == "paid"
    text = fold(paid["body_text"])
    assert text.startswith(POSTS[2].paragraphs()[0]) and text.endswith(POSTS[2].paragraphs()[2])
    for chrome in ("This post is for paying subscribers only", "Already have an account",
                   "Subscribe to The Grid Ledger", "Powered by"):
        assert chrome not in paid["body_text"] and chrome not in paid["body_markdown"], chrome


def test_default_ghost_robots_txt_sends_discovery_to_the_posts_sitemap(crawl) -> None:
    """Ghost's own robots.txt disallows ``/ghost/``: the API is refused, the sitemap lists every post."""
    with LocalSite(build=lambda base: build_publication(base, robots=ROBOTS)) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_pages(site) == {}
        assert site.requests["/sitemap-posts.xml"] == 1 and site.requests["/rss/"] == 1
        assert site.requests["/sitemap.xml"] == 0 and site.requests["/about/"] == 0
        assert all(site.requests[f"/{p.slug}/"] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)


def test_a_post_url_is_one_issue(crawl) -> None:
    with LocalSite(build=build_publication) as site:
        post = POSTS[3]
        archive = crawl(site.url(f"/{post.slug}/"))
        assert _api_pages(site) == {} and site.requests["/sitemap-posts.xml"] == 0 and site.requests["/"] == 0
        base = site.base_url
    [stored] = archive.list()
    assert (stored["url"], stored["title"], stored["access"]) == (post.url(base), post.title, post.access)
