"""WordPress adapter (``../shared/docs/platforms.md`` §9): pure functions, a crawled fixture site.

* Golden pages (the seven WordPress pages of the shared corpus: self-hosted, WordPress.com, Yoast,
  Jetpack, Stratechery; our own block theme with Yoast and Jetpack chrome, a WordPress.com newsletter
  post behind Jetpack's paid paywall) have their records in ``tests/fixtures/wordpress/golden.json``,
  run by ``test_golden.py``; here they serve detection and listing tests.
* Pure functions: detection, Yoast ``@graph`` references, paywall access, listing plans, the REST
  API envelope (``X-WP-TotalPages``) and its end, sitemap index filtering.
* A local self-hosted site ("Harbour Economics", 34 posts, some behind Jetpack's paywall) crawled
  through the real spider from its home page: ``/wp-json/wp/v2/posts`` is paged to the page count
  the API gives; with the REST API closed to visitors, the core sitemap (post sitemaps only) and
  the feed take over and still store every post.
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
from tomtalks_scraper.extraction.issue import extract_issue
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.wordpress import ADAPTER, API_FIELDS, API_PAGE_SIZE

CORPUS_DIR = ("corpus", "real", "wordpress")


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


# Detection ------------------------------------------------------------------------------------------


def test_url_patterns_are_wordpress_com_hosting_and_shortlinks() -> None:
    for url in ("https://jacobbrazeal.wordpress.com/2020/11/16/x/", "https://cellarletter.wordpress.com",
                "https://wp.me/pfQx2a-4k"):
        assert ADAPTER.matches_url(url), url
    for url in ("https://wordpress.org/news/", "https://danwang.co/2020-letter", "https://wordpress.com.example.org/x",
                "https://example.com/?u=https://x.wordpress.com/"):
        assert not ADAPTER.matches_url(url), url


def test_every_wordpress_page_is_recognised_on_a_custom_domain(shared: Path) -> None:
    for record in load("wordpress"):
        tree = _parse(record.read(shared))
        assert detect_platform("http://127.0.0.1:8000/2024/01/01/post/", tree).name == "wordpress", record.name


def test_pages_of_other_platforms_are_not_wordpress(shared: Path) -> None:
    others = [p for p in shared.joinpath("corpus", "real").rglob("*.html")
              if ".expected" not in p.name and "wordpress" not in p.parts]
    assert len(others) > 30
    for path in others:
        assert not ADAPTER.matches_page(_parse(path.read_text(encoding="utf-8", errors="replace"))), path.name


def test_a_copy_with_wordpress_images_is_not_wordpress() -> None:
    """Content farms copy articles with their ``/wp-content/uploads/`` images; only the site's own assets count."""
    page = _parse("""<html><head><meta name="generator" content="Hugo 0.121"><link rel="stylesheet" href="/main.css">
        <title>Copied</title></head><body class="single post"><article><div class="entry-content">
        <p>Text.</p><img src="https://danwang.co/wp-content/uploads/2021/01/nasa-titan.jpg"></div></article>
        <a href="https://wordpress.org/">WordPress</a></body></html>""")
    assert not ADAPTER.matches_page(page)


# Metadata and access --------------------------------------------------------------------------------


def test_yoast_author_reference_is_resolved_to_the_person(shared: Path) -> None:
    page = _parse(shared.joinpath(*CORPUS_DIR, "danwang-2020-letter.html").read_text(encoding="utf-8"))
    meta = ADAPTER.metadata(page, "https://danwang.co/2020-letter/")
    assert meta.authors == ["Dan Wang"]
    assert meta.image == "https://i1.wp.com/danwang.co/wp-content/uploads/2021/01/nasa-titan.jpg?fit=700%2C1044&ssl=1"


def test_webpage_node_gives_the_dates_when_there_is_no_article_node() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "https://x.example/p/#webpage", "name": "P | X",
         "datePublished": "2022-02-01T09:00:00+01:00", "dateModified": "2022-02-02T09:00:00+01:00",
         "author": {"@id": "https://x.example/#/schema/person/1"}},
        {"@type": "Person", "@id": "https://x.example/#/schema/person/1", "name": "Ana Ruiz"}]}
    page = _parse(f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head>'
                  '<body class="single single-post"><article class="post type-post"><h1 class="entry-title">P</h1>'
                  '<div class="entry-content"><p>x</p></div></article></body></html>')
    meta = ADAPTER.metadata(page, "https://x.example/p/")
    assert (meta.title, meta.authors, meta.published_at, meta.updated_at) == (
        "P", ["Ana Ruiz"], "2022-02-01T08:00:00Z", "2022-02-02T08:00:00Z")


def test_block_theme_byline_and_date_without_json_ld() -> None:
    page = _parse("""<html><head><meta name="generator" content="WordPress 6.4.2"></head>
        <body class="post-template-default single single-post postid-9"><div class="wp-site-blocks"><main>
        <h1 class="wp-block-post-title">Notes from the quay</h1>
        <div class="wp-block-post-date"><time datetime="2024-01-09T07:00:00+02:00">January 9, 2024</time></div>
        <div class="wp-block-post-author-name"><a href="/author/jonas/" class="wp-block-post-author-name__link">Jonas
        Weber</a></div><div class="entry-content wp-block-post-content"><p>Text.</p></div>
        <div class="wp-block-comments"><div class="wp-block-comment-author-name"><a rel="author">Dock Watcher</a></div>
        <div class="wp-block-comment-date"><time datetime="2024-01-10T07:00:00+00:00">Jan 10</time></div></div>
        </main></div></body></html>""")
    meta = ADAPTER.metadata(page, "https://harbour.example/notes/")
    assert (meta.authors, meta.published_at) == (["Jonas Weber"], "2024-01-09T05:00:00Z")


def _gated(block: str) -> lxml_html.HtmlElement:
    return _parse(f'<html><body class="single single-post"><article class="post type-post"><div class="entry-content">'
                  f'<p>Preview.</p>{block}</div></article></body></html>')


@pytest.mark.parametrize(("block", "access"), [
    ('<div class="wp-block-group jetpack-subscribe-paywall"><h2>Subscribe to continue reading</h2>'
     '<p>Subscribe to get access to the rest of this post and other subscriber-only content.</p></div>',
     "paid_preview"),
    ('<div class="wp-block-group jetpack-subscribe-paywall"><h2>Subscribe to continue reading</h2>'
     '<p>Become a paid subscriber to get access to the rest of this post and other exclusive content.</p></div>',
     "paid_preview"),
    ('<div class="mepr-unauthorized-message"><p>You are unauthorized to view this page.</p></div>', "paid_preview"),
    ('<div class="pmpro_content_message">This content is for Gold members only.</div>', "paid_preview"),
    ('<div class="wp-block-buttons"><div class="wp-block-button"><a>Subscribe</a></div></div>', "free"),
])
def test_paywall_blocks_set_access(block: str, access: str) -> None:
    page = _gated(block)
    assert ADAPTER.access(page, ADAPTER.metadata(page, "https://x.example/p/")) == access


# Listings -------------------------------------------------------------------------------------------


def _home(base: str, *, api_link: str | None = "/wp-json/") -> str:
    api = f'<link rel="https://api.w.org/" href="{base}{api_link}" />' if api_link else ""
    return f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8" /><title>Harbour Economics</title>
<link rel="alternate" type="application/rss+xml" title="Harbour Economics &raquo; Feed" href="{base}/feed/" />
<link rel="alternate" type="application/rss+xml" title="Harbour Economics &raquo; Comments Feed"
 href="{base}/comments/feed/" />
<link rel='stylesheet' id='wp-block-library-css'
 href='{base}/wp-includes/css/dist/block-library/style.min.css?ver=6.5.3' media='all' />
{api}
<meta name="generator" content="WordPress 6.5.3" />
</head><body class="home blog wp-embed-responsive"><div class="wp-site-blocks"><main class="wp-block-group">
<h1 class="wp-block-site-title">Harbour Economics</h1></main></div></body></html>"""


def test_a_post_page_has_no_listings(shared: Path) -> None:
    for record in load("wordpress"):
        page = _parse(record.read(shared))
        assert ADAPTER.listings(record.url, page) == [], record.name


def test_home_reads_the_rest_api_then_the_sitemap_and_feed() -> None:
    plan = ADAPTER.listings("https://harbour.example/", _parse(_home("https://harbour.example")))
    assert plan == [
        Listing("https://harbour.example/wp-json/wp/v2/posts?_envelope=1&per_page=100&page=1"
                f"&_fields={API_FIELDS}", API),
        Listing("https://harbour.example/wp-sitemap.xml", SITEMAP, fallback=True),
        Listing("https://harbour.example/feed/", FEED, fallback=True),
    ]


def test_plain_permalink_sites_take_the_route_as_a_parameter() -> None:
    plan = ADAPTER.listings("https://plain.example/", _parse(_home("https://plain.example", api_link="/?rest_route=/")))
    assert plan[0].url.startswith("https://plain.example/?rest_route=/wp/v2/posts&_envelope=1&per_page=100&page=1")
    assert plan[1].url == "https://plain.example/wp-sitemap.xml"


def test_a_sub_directory_install_is_listed_there() -> None:
    page = _parse(_home("https://example.com", api_link="/blog/wp-json/"))
    plan = ADAPTER.listings("https://example.com/blog/", page)
    assert [listing.url.split("?")[0] for listing in plan] == [
        "https://example.com/blog/wp-json/wp/v2/posts", "https://example.com/blog/wp-sitemap.xml",
        "https://example.com/feed/"]


def test_an_api_on_another_host_is_not_used() -> None:
    page = _parse(_home("https://harbour.example").replace(
        'href="https://harbour.example/wp-json/"', 'href="https://api.harbour.example/wp-json/"'))
    assert ADAPTER.listings("https://harbour.example/", page) == [
        Listing("https://harbour.example/wp-sitemap.xml", SITEMAP),
        Listing("https://harbour.example/feed/", FEED, fallback=True)]


def test_a_landing_page_lists_the_whole_site() -> None:
    """A newsletter's landing page is usually a WordPress page (``body.page``): discover every post."""
    page = _parse(_home("https://harbour.example").replace('class="home blog', 'class="page-template-default page'))
    assert [listing.kind for listing in ADAPTER.listings("https://harbour.example/newsletter/", page)] == [
        API, SITEMAP, FEED]


def _envelope(posts: list[dict[str, Any]], status: int = 200, total_pages: int = 3) -> bytes:
    return json.dumps({"body": posts, "status": status,
                       "headers": {"X-WP-Total": 30, "X-WP-TotalPages": total_pages,
                                   "Link": '<https://h.example/wp-json/wp/v2/posts?page=3>; rel="next"'}}).encode()


POSTS_URL = f"https://h.example/wp-json/wp/v2/posts?_envelope=1&per_page=100&page=2&_fields={API_FIELDS}"
API_POST = {"id": 7, "link": "https://h.example/2024/05/21/a-b/",
            "title": {"rendered": "A &#8220;quoted&#8221; <em>B</em>"},
            "date_gmt": "2024-05-21T05:45:00", "modified_gmt": "2024-05-22T10:12:31"}


def test_rest_api_pages_run_to_the_page_count_in_the_envelope() -> None:
    result = ADAPTER.parse_listing(Listing(POSTS_URL, API), _envelope([API_POST]), POSTS_URL)
    assert [issue.url for issue in result.issues] == ["https://h.example/2024/05/21/a-b/"]
    hints = result.issues[0].hints
    assert (hints.title, hints.published_at, hints.updated_at) == (
        "A “quoted” B", "2024-05-21T05:45:00Z", "2024-05-22T10:12:31Z")
    assert result.next == [Listing(POSTS_URL.replace("&page=2&", "&page=3&"), API)]
    last = POSTS_URL.replace("&page=2&", "&page=3&")
    assert ADAPTER.parse_listing(Listing(last, API), _envelope([API_POST]), last).next == []


def test_a_page_past_the_end_lists_nothing() -> None:
    error = {"code": "rest_post_invalid_page_number", "data": {"status": 400},
             "message": "The page number requested is larger than the number of pages available."}
    enveloped = json.dumps({"body": error, "status": 400, "headers": []}).encode()
    for body in (enveloped, json.dumps(error).encode()):
        result = ADAPTER.parse_listing(Listing(POSTS_URL, API), body, POSTS_URL)
        assert (result.issues, result.next) == ([], [])


def test_without_the_envelope_pages_run_until_an_empty_page() -> None:
    """A server that drops ``_envelope`` answers the bare list: paging stops at the first empty page."""
    full = ADAPTER.parse_listing(Listing(POSTS_URL, API), json.dumps([API_POST]).encode(), POSTS_URL)
    assert len(full.issues) == 1 and len(full.next) == 1
    assert ADAPTER.parse_listing(Listing(POSTS_URL, API), b"[]", POSTS_URL).next == []


def test_an_envelope_without_a_page_count_pages_until_empty() -> None:
    body = json.dumps({"body": [API_POST], "status": 200, "headers": []}).encode()
    assert len(ADAPTER.parse_listing(Listing(POSTS_URL, API), body, POSTS_URL).next) == 1
    empty = json.dumps({"body": [], "status": 200, "headers": []}).encode()
    assert ADAPTER.parse_listing(Listing(POSTS_URL, API), empty, POSTS_URL).next == []


def test_a_sitemap_index_leads_only_to_post_sitemaps() -> None:
    base = "https://h.example"
    index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             + "".join(f"<sitemap><loc>{base}/{name}</loc></sitemap>" for name in (
                 "wp-sitemap-posts-post-1.xml", "wp-sitemap-posts-post-2.xml", "wp-sitemap-posts-page-1.xml",
                 "wp-sitemap-taxonomies-category-1.xml", "wp-sitemap-taxonomies-post_tag-1.xml",
                 "wp-sitemap-users-1.xml",
                 "post-sitemap.xml", "page-sitemap.xml", "category-sitemap.xml", "author-sitemap.xml"))
             + "</sitemapindex>").encode()
    result = ADAPTER.parse_listing(Listing(f"{base}/wp-sitemap.xml", SITEMAP), index, f"{base}/wp-sitemap.xml")
    assert [listing.url for listing in result.next] == [
        f"{base}/wp-sitemap-posts-post-1.xml", f"{base}/wp-sitemap-posts-post-2.xml", f"{base}/post-sitemap.xml"]


# A crawled site -------------------------------------------------------------------------------------

SITE_NAME = "Harbour Economics"
API_CAP = 12  # posts this server answers per page (a host filter caps per_page); the envelope says how many pages
AUTHORS = ("Priya Raman", "Jonas Weber", "Leila Haddad")
PORTS = ("Rotterdam", "Felixstowe", "Gdansk", "Valencia", "Piraeus", "Antwerp", "Genoa")


@dataclass(frozen=True)
class Post:
    number: int
    gate: str  # "", "subscribers", "paid"

    @property
    def port(self) -> str:
        return PORTS[self.number % len(PORTS)]

    @property
    def published(self) -> datetime:
        return datetime(2023, 6, 6, 5, 45, tzinfo=UTC) + timedelta(days=14 * self.number, minutes=self.number)

    @property
    def path(self) -> str:
        return f"/{self.published:%Y/%m/%d}/quiet-ledger-{self.number}/"

    @property
    def title(self) -> str:
        return f"The Quiet Ledger #{self.number}: a fortnight at {self.port}"

    @property
    def author(self) -> str:
        return AUTHORS[self.number % len(AUTHORS)]

    @property
    def access(self) -> str:
        return "paid_preview" if self.gate else "free"

    def paragraphs(self) -> list[str]:
        return [
            f"Good morning. This is issue {self.number} of The Quiet Ledger, written this fortnight from {self.port}.",
            f"Container dwell times at {self.port} moved by {self.number % 9 + 1} hours since the last letter, and the "
            "terminal operators explain the change in very different ways depending on who is asking them.",
            "Shipping lines blame the railways, the railways blame the customs systems, and the importers quietly "
            "admit that they are in no hurry to collect boxes full of goods nobody has ordered yet.",
            f"That is all for issue {self.number}. Reply and tell me what you see on your own quay.",
        ]


POSTS = [Post(n, "paid" if n % 6 == 2 else "subscribers" if n % 8 == 5 else "") for n in range(1, 35)]


def _paywall(gate: str) -> str:
    text = {"paid": "Become a paid subscriber to get access to the rest of this post and other exclusive content.",
            "subscribers": "Subscribe to get access to the rest of this post and other subscriber-only content."}[gate]
    return ('<div class="wp-block-group jetpack-subscribe-paywall has-border-color"><h2 class="wp-block-heading">'
            f'Subscribe to continue reading</h2><p class="has-text-align-center">{text}</p>'
            '<div class="wp-block-jetpack-subscriptions"><form><input type="email" name="email">'
            '<button type="submit">Subscribe</button></form></div></div>')


def _post_page(post: Post, base: str) -> Page:
    url = base + post.path
    paragraphs = post.paragraphs()[:3] if post.gate else post.paragraphs()
    content = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs) + (_paywall(post.gate) if post.gate else "")
    person = f"{base}/#/schema/person/{post.number % len(AUTHORS)}"
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Article", "@id": f"{url}#article", "isPartOf": {"@id": url}, "author": {"@id": person},
         "headline": post.title, "datePublished": post.published.isoformat(),
         "dateModified": post.published.isoformat(),
         "publisher": {"@id": f"{base}/#organization"}, "articleSection": ["The Quiet Ledger"]},
        {"@type": "WebPage", "@id": url, "url": url, "name": f"{post.title} - {SITE_NAME}"},
        {"@type": "WebSite", "@id": f"{base}/#website", "url": f"{base}/", "name": SITE_NAME},
        {"@type": "Organization", "@id": f"{base}/#organization", "name": f"{SITE_NAME} Ltd"},
        {"@type": "Person", "@id": person, "name": post.author}]}
    html = f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8" />
<title>{escape(post.title)} - {SITE_NAME}</title>
<link rel="canonical" href="{url}" /><meta property="og:type" content="article" />
<meta property="og:title" content="{escape(post.title)} - {SITE_NAME}" />
<meta property="og:site_name" content="{SITE_NAME}" />
<meta property="article:published_time" content="{post.published.isoformat()}" />
<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(graph)}</script>
<link rel='stylesheet' href='{base}/wp-content/themes/twentytwentyone/style.css?ver=2.1' media='all' />
<link rel="https://api.w.org/" href="{base}/wp-json/" /><meta name="generator" content="WordPress 6.5.3" />
</head><body class="post-template-default single single-post postid-{post.number} single-format-standard">
<div id="page" class="site"><header id="masthead" class="site-header">
<p class="site-title"><a href="{base}/">{SITE_NAME}</a></p></header>
<main id="main" class="site-main">
<article id="post-{post.number}" class="post-{post.number} post type-post hentry entry">
<header class="entry-header"><h1 class="entry-title">{escape(post.title)}</h1></header>
<div class="entry-content">
{content}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>
<ul><li><a href="?share=x">X</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3></div>
</div>
<footer class="entry-footer"><span class="posted-on">Published <time class="entry-date published"
 datetime="{post.published.isoformat()}">{post.published:%B %d, %Y}</time></span>
<span class="byline">By <a href="{base}/author/x/" rel="author">{post.author}</a></span></footer>
</article></main>
<footer id="colophon" class="site-footer"><div class="powered-by">Proudly powered by <a href="https://wordpress.org/">WordPress</a>.</div></footer>
</div></body></html>"""
    return Page(html.encode())


def _api_item(post: Post, base: str) -> dict[str, Any]:
    """A post as ``/wp-json/wp/v2/posts?_fields=id,link,title,date_gmt,modified_gmt`` returns it."""
    stamp = post.published.strftime("%Y-%m-%dT%H:%M:%S")
    return {"id": post.number, "link": base + post.path, "title": {"rendered": escape(post.title)},
            "date_gmt": stamp, "modified_gmt": stamp}


def build_site(base: str, api_closed: bool = False) -> dict[str, Page]:
    newest_first = sorted(POSTS, key=lambda p: p.published, reverse=True)
    pages = -(-len(POSTS) // API_CAP)
    json_type = "application/json; charset=UTF-8"
    site = {"/": Page(_home(base).encode()),
            "/about/": Page(b'<html><body class="page-template-default page"><h1>About</h1></body></html>')}
    for number in range(1, pages + 2):  # one page past the end answers 400 inside the envelope
        chunk = newest_first[(number - 1) * API_CAP:number * API_CAP]
        headers = {"X-WP-Total": str(len(POSTS)), "X-WP-TotalPages": str(pages)}
        if api_closed:
            body: Any = {"code": "rest_cannot_access", "message": "Only authenticated users can access the REST API.",
                         "data": {"status": 401}}
            envelope = {"body": body, "status": 401, "headers": {}}
        elif chunk:
            envelope = {"body": [_api_item(p, base) for p in chunk], "status": 200, "headers": headers}
        else:
            envelope = {"body": {"code": "rest_post_invalid_page_number", "data": {"status": 400},
                                 "message": "The page number requested is larger than the number of pages available."},
                        "status": 400, "headers": []}
        site[f"/wp-json/wp/v2/posts?_envelope=1&per_page={API_PAGE_SIZE}&page={number}&_fields={API_FIELDS}"] = Page(
            json.dumps(envelope).encode(), json_type)
    sitemaps = ("wp-sitemap-posts-post-1.xml", "wp-sitemap-posts-page-1.xml", "wp-sitemap-taxonomies-category-1.xml",
                "wp-sitemap-users-1.xml")
    site["/wp-sitemap.xml"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="' + base
         + '/wp-sitemap-index.xsl" ?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         + "".join(f"<sitemap><loc>{base}/{name}</loc></sitemap>" for name in sitemaps) + "</sitemapindex>\n").encode(),
        "application/xml; charset=UTF-8")
    site["/wp-sitemap-posts-post-1.xml"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         + "".join(f"<url><loc>{base}{p.path}</loc><lastmod>{p.published.isoformat()}</lastmod></url>"
                   for p in newest_first) + "</urlset>\n").encode(), "application/xml; charset=UTF-8")
    site["/wp-sitemap-posts-page-1.xml"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         f"<url><loc>{base}/about/</loc></url></urlset>\n").encode(), "application/xml; charset=UTF-8")
    items = "".join(
        f"<item><title>{escape(p.title)}</title><link>{base}{p.path}</link><dc:creator><![CDATA[{p.author}]]>"
        f"</dc:creator><pubDate>{format_datetime(p.published, usegmt=True)}</pubDate></item>"
        for p in newest_first[:10])
    site["/feed/"] = Page(
        ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
         f"<channel><title>{SITE_NAME}</title><link>{base}</link>{items}</channel></rss>").encode(),
        "application/rss+xml; charset=UTF-8")
    for post in POSTS:
        site[post.path] = _post_page(post, base)
    return site


def _api_pages(site: LocalSite) -> dict[int, int]:
    return {int(path.split("&page=")[1].split("&")[0]): count
            for path, count in site.requests.items() if path.startswith("/wp-json/")}


def _assert_every_post_stored(archive: Any, base: str) -> None:
    assert_stored(archive, {base + post.path: {
        "title": post.title, "author": post.author, "access": post.access, "platform": "wordpress",
        "published_at": post.published.strftime("%Y-%m-%dT%H:%M:%SZ"), "issue_number": post.number,
        "newsletter": SITE_NAME} for post in POSTS})


def test_home_page_crawl_pages_the_rest_api_to_its_page_count(crawl) -> None:
    assert {p.gate for p in POSTS} == {"", "subscribers", "paid"}
    with LocalSite(build=build_site) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_pages(site) == {1: 1, 2: 1, 3: 1}  # X-WP-TotalPages is 3: page 4 is never asked for
        assert site.requests["/wp-sitemap.xml"] == 0 and site.requests["/feed/"] == 0  # fallbacks unused
        assert site.requests["/about/"] == 0
        assert all(site.requests[p.path] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)
    paid = archive.get(base + POSTS[1].path)
    assert POSTS[1].gate == "paid"
    text = fold(paid["body_text"])
    assert text.startswith(POSTS[1].paragraphs()[0]) and text.endswith(POSTS[1].paragraphs()[2])
    for chrome in ("Subscribe to continue reading", "Become a paid subscriber", "Share this:", "Related",
                   "Proudly powered by", "Published"):
        assert chrome not in paid["body_text"] and chrome not in paid["body_markdown"], chrome


def test_a_closed_rest_api_sends_discovery_to_the_post_sitemap(crawl) -> None:
    with LocalSite(build=lambda base: build_site(base, api_closed=True)) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_pages(site) == {1: 1}
        assert site.requests["/wp-sitemap.xml"] == 1 and site.requests["/wp-sitemap-posts-post-1.xml"] == 1
        assert site.requests["/feed/"] == 1
        assert site.requests["/wp-sitemap-posts-page-1.xml"] == 0 and site.requests["/wp-sitemap-users-1.xml"] == 0
        assert site.requests["/about/"] == 0
        assert all(site.requests[p.path] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)


def test_a_footnote_button_in_mid_sentence_keeps_the_rest_of_the_paragraph() -> None:
    """Bigfoot's ``<div>`` makes the parser close the paragraph: the sentence's end is loose text after it."""
    page = """<html><head><meta name="generator" content="WordPress 5.6"></head><body>
    <article class="post type-post"><div class="entry-content">
    <p>The journal is read closely by officials, and reading it all year long shows""" \
        """<div class="bigfoot-footnote__container"><button class="bigfoot-footnote__button" data-footnote-number="1">
        <svg><circle r="3"></circle></svg></button></div> that the leadership considers propaganda to be the
        lifeblood of the party state, <em>whatever</em> the season.
    <p>A second paragraph follows the first one, with enough words to be read as body text by anyone.</p>
    </div></article></body></html>"""
    issue = extract_issue(page, "https://letters.example/2020-letter/")
    assert fold(issue.body_text).startswith(
        "The journal is read closely by officials, and reading it all year long shows[1] that the leadership "
        "considers propaganda to be the lifeblood of the party state, whatever the season.")
    assert "A second paragraph follows the first one" in issue.body_text


def test_a_reading_list_of_links_stays_in_the_known_body_and_site_navigation_does_not() -> None:
    """trafilatura's link-density filter drops link lists; in a body the adapter cut out, links to other
    sites are the issue's reading list and come back in place, links to the site itself stay out."""
    page = """<html><head><meta name="generator" content="WordPress 6.4"><title>Issue 12</title></head><body>
    <article class="post type-post"><h1 class="entry-title">Issue 12</h1><div class="entry-content">
    <p>This week I read a lot about distributed systems, and three pieces stood out from the rest of the pile.</p>
    <p>Each of them changed how I think about failure, and each is short enough for a train ride home.</p>
    <h3>Further reading</h3>
    <ul>
      <li><a href="https://martin.example/articles/microservices">Microservices, a definition</a></li>
      <li><a href="https://books.example/building-microservices">Building Microservices</a></li>
      <li><a href="https://wiki.example/Fallacies_of_distributed_computing">Fallacies of distributed computing</a></li>
    </ul>
    <p>That is all for this issue, see you next week with more reading and a few more thoughts about systems.</p>
    <ul><li><a href="https://letters.example/2024/03/issue-11/">Issue 11: queues</a></li>
      <li><a href="https://letters.example/2024/03/issue-10/">Issue 10: clocks</a></li></ul>
    </div></article></body></html>"""
    issue = extract_issue(page, "https://letters.example/2024/03/issue-12/")
    assert issue.body_text.splitlines()[2:7] == [
        "Further reading", "- Microservices, a definition", "- Building Microservices",
        "- Fallacies of distributed computing",
        "That is all for this issue, see you next week with more reading and a few more thoughts about systems."]
    assert "- [Building Microservices](https://books.example/building-microservices)" in issue.body_markdown
    assert "Issue 11" not in issue.body_text
    assert any(link.url == "https://wiki.example/Fallacies_of_distributed_computing" for link in issue.links)


def test_a_link_sublist_goes_back_under_its_item() -> None:
    """"In progress:" over a list of bug links: trafilatura keeps the outer list and drops the links."""
    page = """<html><head><meta name="generator" content="WordPress 5.6"><title>These weeks, issue 85</title></head>
    <body><article class="post type-post"><div class="entry-content">
    <p>Here is what the team did over the last two weeks, with thanks to everyone who sent patches our way.</p>
    <ul>
      <li>We have the green light for another round of students hacking on Picture-in-Picture next term.</li>
      <li>In progress:
        <ul>
          <li><a href="https://bugzilla.example/show_bug.cgi?id=1677080">Bug 1677080 – Fullscreen window follows
            the video</a></li>
          <li><a href="https://bugzilla.example/show_bug.cgi?id=1677107">Bug 1677107 – Add telemetry for multiple
            windows</a></li>
        </ul>
      </li>
    </ul>
    <p>That is all for these weeks; the next issue comes out after the holidays, as every year.</p>
    </div></article></body></html>"""
    issue = extract_issue(page, "https://blog.example/2020/12/18/these-weeks-issue-85/")
    assert "- In progress:\n  - [Bug 1677080 – Fullscreen window follows the video]" \
           "(https://bugzilla.example/show_bug.cgi?id=1677080)\n  - [Bug 1677107" in issue.body_markdown
    assert "Bug 1677107 – Add telemetry for multiple windows" in issue.body_text
