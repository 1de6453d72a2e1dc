"""Ghost publications (Ghost(Pro) ``*.ghost.io`` and self-hosted custom domains): platforms.md §4.

Detection: ``{{ghost_head}}`` writes ``<meta name="generator" content="Ghost X.Y">``; Portal and
Search scripts carry ``data-ghost`` / ``data-sodo-search``; Ghost core serves the Koenig card assets
under ``/public/cards.min.*``; newsletter emails load the "Powered by Ghost" badge from
``static.ghost.org`` (§4.1, §4.4).

Discovery (§4.1): the public Content API key that Portal needs is in every page
(``<script data-ghost data-key data-api>``), so ``/ghost/api/content/posts/?key=…`` lists every
post, paged with ``meta.pagination.next``. Without a key (Ghost < 5 themes, Portal disabled), or
when the API fails, ``/sitemap-posts.xml`` lists every post; ``/rss/`` (recent posts only) is the
last resort.

Body (§4.2): ``.gh-content`` (Source, Casper 4+), ``.post-full-content`` (Casper 2–3),
``.post-content`` (Ghost 0.x–3 themes), ``td.post-content*`` (emails). Access (§4.3): a visitor
without access gets ``aside.gh-post-upgrade-cta`` after the free preview. Whether a free sign-up
("subscribers only") or a paid plan ("paying subscribers", "… tier") opens the rest, the page holds
a truncated issue: ``paid_preview`` (``login_wall`` means a sign-in page instead of the issue,
which the validate stage refuses).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import API, FEED, SITEMAP, FoundIssue, Listing, ListingResult
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import PageMetadata, clean_text, read_page_metadata
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import PlatformAdapter, css, text_of
from tomtalks_scraper.urls import host_of, join_url

#: Posts per Content API page: Ghost's maximum (``limit=all`` is capped to it on Ghost 5+).
API_PAGE_SIZE = 100
#: Only what discovery needs; without ``fields`` every post's full HTML would be sent.
API_FIELDS = "id,title,url,visibility,published_at,updated_at"
#: ``<body>`` classes Ghost's ``{{body_class}}`` gives a single post (pages, tags, authors, home differ).
_POST_BODY = re.compile(r"(?:^|\s)post-template(?:\s|$)")
_LISTING_BODY = re.compile(r"(?:^|\s)(?:home-template|paged|tag-template|author-template|page-template)(?:\s|$)")
#: Email header line: "By Luis Villa – 14 Oct 2022 – View online →" (separators vary by version).
_EMAIL_BYLINE = re.compile(r"^By (?P<authors>.+?)\s+[–—•·|-]\s+(?P<date>\d{1,2} [A-Z][a-z]{2,8} \d{4})")
_PAGE_PARAM = re.compile(r"([?&]page=)\d+")


class GhostAdapter(PlatformAdapter):
    name = "ghost"
    url_patterns = (r"^https?://[^/?#]+\.ghost\.io(?:[/?#]|$)",)
    page_markers = (
        'meta[name="generator"][content^="Ghost"]',
        "script[data-ghost]",
        "script[data-sodo-search]",
        'link[href*="/public/cards.min.css"]',
        'img[src*="static.ghost.org"]',
    )
    body_selectors = (
        ".gh-content",
        ".post-full-content",
        ".post-content",
        "td.post-content-sans-serif",
    )
    boilerplate = (
        "aside.gh-post-upgrade-cta",  # members/paid CTA; access() sees it (paywall_markers) before pre-cleaning
        ".kg-signup-card",
        ".kg-cta-card",
        "section.gh-cta",
        "section.footer-cta",
        ".gh-comments",
        "aside.read-more-wrap",
        ".share-wrap",
        ".tag-wrap",
        "td.footer",
        "td.footer-powered",
    )
    boilerplate_headings = (
        r"This post is for .{1,80} only",
        r"Subscribe to .{1,80}",
        r"Sign up for .{1,80}",
    )
    paywall_markers = (".gh-post-upgrade-cta",)  # rendered by {{content}} only for visitors without access

    # Page ----------------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """``{{ghost_head}}`` data (JSON-LD, ``article:*``, ``twitter:data1/2``), or an email's header."""
        meta = _email_metadata(tree)
        meta.fill_from(read_page_metadata(tree))
        if not meta.authors:
            meta.authors = _twitter_field(tree, "Written by", split=False)
        if not meta.tags:
            meta.tags = _twitter_field(tree, "Filed under", split=True)
        meta.authors = _byline_authors(tree, meta.authors)
        meta.subtitle = meta.subtitle or _first_text(
            tree, ".gh-article-excerpt, .article-excerpt, .post-full-custom-excerpt"
        )
        meta.newsletter = meta.newsletter or meta.site_name
        return meta

    # Discovery -----------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """Content API first, then the posts sitemap, then RSS; nothing for a single post."""
        if page is not None and _is_single_post(page):
            return []
        site = _site_root(start_url, page)
        api = _content_api(start_url, page)
        plan = [Listing(api, API)] if api else []
        plan.append(Listing(urljoin(site, "sitemap-posts.xml"), SITEMAP, fallback=bool(api)))
        plan.append(Listing(urljoin(site, "rss/"), FEED, fallback=True))
        return plan

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind != API:
            return super().parse_listing(listing, body, url)
        data = json.loads(body)
        issues = [FoundIssue(post["url"], _post_hints(post)) for post in data["posts"] if post.get("url")]
        following = (data.get("meta") or {}).get("pagination", {}).get("next")
        next_pages = [Listing(_PAGE_PARAM.sub(rf"\g<1>{int(following)}", url), API)] if following else []
        return ListingResult(issues=issues, next=next_pages, home_url=url.split("/ghost/api/")[0] + "/")


def _is_single_post(page: lxml_html.HtmlElement) -> bool:
    """A post page by Ghost's body classes; by ``og:type`` when a theme drops them."""
    body_class = page.xpath("string(//body/@class)")
    if _POST_BODY.search(body_class):
        return True
    if _LISTING_BODY.search(body_class):
        return False
    return bool(page.xpath('//meta[@property="og:type"][@content="article"]'))


def _site_root(start_url: str, page: lxml_html.HtmlElement | None) -> str:
    """The publication's root, which may be a sub-path (``/blog/``): Portal's ``data-ghost``, else the RSS link.

    Only a root on the start URL's host is taken (a headless front end may name its Ghost backend).
    """
    candidates = []
    if page is not None:
        scripts = page.xpath("//script/@data-ghost | //script/@data-sodo-search")
        feeds = page.xpath('//link[@rel="alternate"][@type="application/rss+xml"]/@href')
        candidates += [f.strip().rstrip("/") + "/" for f in scripts if f.strip()]
        candidates += [f.rstrip("/")[: -len("rss")] for f in feeds if f.rstrip("/").endswith("/rss")]
    for candidate in candidates:
        root = join_url(start_url, candidate)  # a malformed one has no host: skipped below
        if host_of(root) == host_of(start_url):
            return root
    return urljoin(start_url, "/")


def _content_api(start_url: str, page: lxml_html.HtmlElement | None) -> str | None:
    """First page of the Content API posts listing, when the page embeds a content key.

    The API is used only on the start URL's host: the spider follows no other host, and an
    off-host API (``data-api`` on ``*.ghost.io`` behind a static mirror) would be dropped unseen.
    """
    if page is None:
        return None
    for script in page.xpath("//script[@data-key]"):
        key = script.get("data-key", "").strip()
        root = script.get("data-api") or script.get("data-ghost") or script.get("data-sodo-search")
        if not key or not root:
            continue
        api = join_url(start_url, root.strip())
        if not script.get("data-api"):
            api = join_url(api.rstrip("/") + "/", "ghost/api/content/")
        if host_of(api) != host_of(start_url):
            continue
        return (f"{api.rstrip('/')}/posts/?key={key}&limit={API_PAGE_SIZE}&page=1"
                f"&include=authors&fields={API_FIELDS}")
    return None


def _post_hints(post: dict[str, Any]) -> DiscoveryHints:
    authors = [a.get("name") for a in post.get("authors") or [] if isinstance(a, dict) and a.get("name")]
    return DiscoveryHints(
        title=clean_text(post.get("title")),
        author=authors[0] if authors else None,
        published_at=to_utc_iso(post.get("published_at")),
        updated_at=to_utc_iso(post.get("updated_at")),
        source="api",
    )


def _twitter_field(tree: lxml_html.HtmlElement, label: str, split: bool) -> list[str]:
    """``twitter:dataN`` whose ``twitter:labelN`` is ``label`` ("Written by", "Filed under")."""
    for n in (1, 2):
        if tree.xpath(f'string(//meta[@name="twitter:label{n}"]/@content)').strip() == label:
            value = clean_text(tree.xpath(f'string(//meta[@name="twitter:data{n}"]/@content)'))
            if value:
                return [v.strip() for v in value.split(",") if v.strip()] if split else [value]
    return []


def _byline_authors(tree: lxml_html.HtmlElement, declared: list[str]) -> list[str]:
    """Every author of a co-written post: ``{{ghost_head}}`` names only the primary one.

    The theme's byline lists all; it is trusted only when it contains the declared author, so a
    theme's unrelated "author" boxes never replace real metadata.
    """
    names = [text_of(e) for e in css(".gh-article-author-name a, .article-byline .author-name a")(tree)]
    names = list(dict.fromkeys(n for n in names if n))
    if len(names) > len(declared) and all(d in names for d in declared):
        return names
    return declared


def _first_text(tree: lxml_html.HtmlElement, selector: str) -> str | None:
    found = css(selector)(tree)
    return clean_text(text_of(found[0])) if found else None


def _email_metadata(tree: lxml_html.HtmlElement) -> PageMetadata:
    """A Ghost newsletter email's header: title, "By … – date", publication name (§4.4)."""
    meta = PageMetadata()
    if not css("td.post-meta")(tree):
        return meta
    meta.title = _first_text(tree, "a.post-title-link, td.post-title")
    meta.newsletter = _first_text(tree, ".site-title")
    byline = _EMAIL_BYLINE.match(_first_text(tree, "td.post-meta") or "")
    if byline:
        meta.authors = [a.strip() for a in re.split(r",| & | and ", byline["authors"]) if a.strip()]
        try:
            meta.published_at = to_utc_iso(datetime.strptime(byline["date"], "%d %b %Y").date().isoformat())
        except ValueError:
            meta.published_at = None
    return meta


ADAPTER = GhostAdapter()
