"""WordPress sites, self-hosted and WordPress.com: platforms.md §9.

Detection: ``<meta name="generator" content="WordPress …">`` (often removed by security plugins),
the REST API link ``<link rel="https://api.w.org/">``, and the site's own stylesheets and scripts
under ``/wp-content/`` (themes, plugins, optimiser caches) or ``/wp-includes/``. Images and icons
are not used: a copy of a WordPress article on another site keeps its ``/wp-content/uploads/`` files.

Discovery: the REST API ``/wp-json/wp/v2/posts`` lists every post. The spider hands
``parse_listing`` only the body, so the page count (``X-WP-TotalPages`` header) is asked for in the
body with core's ``_envelope`` parameter; a page past the end then answers ``status: 400``
(``rest_post_invalid_page_number``) inside a 200 instead of an HTTP error. ``_fields`` keeps each
page small (no rendered content). Fallbacks: ``/wp-sitemap.xml`` (core ≥ 5.5; Yoast and Rank Math
redirect it to their index), only its post sitemaps, then the RSS ``/feed/`` (recent posts only).

Body: ``.entry-content`` (classic themes), ``.wp-block-post-content`` (block themes), else the post
``<article>``; Jetpack sharing, likes, related posts and subscribe forms, comments, post navigation
and "Subscribe" button groups are dropped. Metadata: Yoast/Jetpack JSON-LD ``@graph`` with
``@id`` references resolved (the author is a reference to a ``Person``; shared ``resolve_references``),
``article:*`` tags, then
the theme's byline and ``time.entry-date``. Access: Jetpack's newsletter paywall (free or paid
subscribers alike see a truncated post: ``paid_preview``) and common membership plugins'
"restricted" messages.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import API, FEED, SITEMAP, FoundIssue, Listing, ListingResult
from tomtalks_scraper.discovery.sitemaps import parse_sitemap
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import (
    ARTICLE_TYPES,
    PageMetadata,
    clean_text,
    json_ld_index,
    json_ld_objects,
    read_page_metadata,
    resolve_references,
)
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import PlatformAdapter, css, remove_element, text_of
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import host_of, join_url

#: Posts per REST API page: the most core allows (``per_page`` above 100 is a 400 error).
API_PAGE_SIZE = 100
API_FIELDS = "id,link,title,date_gmt,modified_gmt"
#: ``body_class()`` of a single post (any post type) and of listings. Pages (``page``) count as
#: listings: a newsletter's landing page is usually a WordPress page.
_SINGLE_BODY = re.compile(r"(?:^|\s)(?:single|single-post|singular-post|postid-\d+)(?:\s|$)")
_LISTING_BODY = re.compile(r"(?:^|\s)(?:home|blog|archive|search|page|paged)(?:\s|$)")
#: Child sitemaps of an index that list no posts (core, Yoast, Rank Math and Jetpack names).
_NOT_POST_SITEMAP = re.compile(
    r"(?:-page-|page-sitemap|categor|post_tag|tag-sitemap|taxonom|users?-|author|attachment|image|video|news-sitemap)",
    re.I,
)
_SUBSCRIBE_BUTTONS = re.compile(
    r"\b(?:subscribe|sign up|signup|join (?:now|us|the)|newsletter|get (?:it|them|new posts) in your inbox)\b", re.I
)
_BYLINE_PREFIX = re.compile(
    r"^(?:(?:author|posted|written|published)\s+)?(?:by\s+|view all posts by\s+|posts by\s+)", re.I
)
_TAGS = re.compile(r"<[^>]+>")
_PAGE_PARAM = re.compile(r"([?&]page=)(\d+)")
#: What the byline and dates are read from: the post itself, never comments, widgets or related posts.
_NOT_POST = (
    "ancestor::*[not(self::body or self::html)]"
    "[contains(@class,'comment') or contains(@class,'related') or contains(@class,'widget')"
    " or @id='comments' or self::aside or self::footer[contains(@class,'site-footer')]]"
)
_BYLINE_SELECTORS = (
    ".wp-block-post-author-name a, .wp-block-post-author__name",  # block themes
    ".byline .author .fn",
    '.byline a[rel~="author"]',
    '.entry-meta a[rel~="author"]',
    '[itemprop="author"] [itemprop="name"]',
    '.author.vcard .fn',
    'a[rel~="author"]',
    ".entry-author-name, .author-name",
)
_PUBLISHED_XPATHS = (
    ".//*[contains(@class, 'wp-block-post-date')]//time/@datetime",  # block themes
    ".//time[contains(concat(' ', normalize-space(@class), ' '), ' published ')]/@datetime",
    ".//time[contains(@class, 'entry-date') or contains(@class, 'entry-published')]/@datetime",
    ".//*[@itemprop='datePublished']/@datetime | .//*[@itemprop='datePublished']/@content",
    ".//abbr[contains(concat(' ', normalize-space(@class), ' '), ' published ')]/@title",
)


class WordPressAdapter(PlatformAdapter):
    name = "wordpress"
    url_patterns = (r"^https?://[^/?#]+\.wordpress\.com(?:[/?#]|$)", r"^https?://wp\.me/")
    page_markers = (
        'meta[name="generator"][content^="WordPress"]',
        'link[rel="https://api.w.org/"]',
        'link[rel~="stylesheet"][href*="/wp-content/"]',
        'script[src*="/wp-content/"]',
        'link[rel~="stylesheet"][href*="/wp-includes/"]',
        'script[src*="/wp-includes/"]',
    )
    body_selectors = (
        ".entry-content",
        ".wp-block-post-content",
        "article.type-post",
        "article.post",
    )
    boilerplate = (
        "#jp-post-flair",
        ".sharedaddy",
        "#jp-relatedposts",
        '[class^="jp-relatedposts"]',
        '[class*=" jp-relatedposts"]',
        ".wp-block-jetpack-related-posts",
        ".wp-block-jetpack-subscriptions",
        ".jetpack_subscription_widget",
        ".jetpack-subscribe-paywall",  # access() sees it (paywall_markers) before pre-cleaning
        ".mc4wp-form",
        ".newsletter_form",
        ".jetpack-subscribe-modal",
        ".wpcnt",
        ".wordads-ad-wrapper",
        ".inline-ad-slot",
        ".addtoany_share_save_container",
        ".sociable",
        "#comments",
        "#respond",
        ".comments-area",
        ".comment-list",
        ".commentlist",
        ".wp-block-comments",
        ".post-navigation",
        ".navigation",
        ".entry-footer",
        "footer.entry-meta",
    )
    boilerplate_headings = (
        r"Share this:?",
        r"Like this:?",
        r"Related",
        r"Discover more from .{1,80}",
        r"Subscribe to .{1,80}",
    )
    paywall_markers = (".jetpack-subscribe-paywall", ".mepr-unauthorized-message", ".pmpro_content_message")

    # Page ----------------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """JSON-LD ``@graph`` with references resolved, then meta tags, then the theme's byline and dates."""
        meta = _graph_metadata(tree)
        post = _post_element(tree)
        if not meta.title and post is not None:
            meta.title = _first_text(post, "h1.entry-title, .entry-title")
        meta.fill_from(read_page_metadata(tree))
        for scope in (post, tree):  # some themes print the byline above the post's element
            if scope is not None:
                meta.authors = meta.authors or _byline(scope)
                meta.published_at = meta.published_at or _visible_date(scope)
        meta.tags = meta.tags or _tag_links(post if post is not None else tree)
        meta.newsletter = meta.newsletter or meta.site_name
        return meta

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Button groups are content as often as chrome: those asking to subscribe go, the others
        become a plain paragraph of links (trafilatura drops anything classed as a button). Footnote
        buttons are put back in their sentence (``_inline_footnote_buttons``)."""
        names = names or PageNames.of(tree)  # most pages have neither footnote plugins nor button groups
        if any(names.may_match(container) for container in _FOOTNOTE_CONTAINERS):
            _inline_footnote_buttons(tree)
        for group in css(_BUTTON_GROUPS)(tree) if names.may_match(_BUTTON_GROUPS) else ():
            if _SUBSCRIBE_BUTTONS.search(text_of(group)):
                remove_element(group)
                continue
            paragraph = lxml_html.Element("p")
            for anchor in group.iter("a"):
                link = etree.SubElement(paragraph, "a", href=anchor.get("href", ""))
                link.text, link.tail = text_of(anchor), " "
            paragraph.tail = group.tail
            group.getparent().replace(group, paragraph)
        return super().preclean(tree, names)

    # Discovery -----------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """REST API first; the core sitemap and the feed when it fails; nothing for a single post."""
        if page is not None and _is_single_post(page):
            return []
        api_root = _api_root(start_url, page)
        use_api = host_of(api_root) == host_of(start_url)  # the spider follows no other host
        home = _home(start_url, api_root) if use_api else urljoin(start_url, "/")
        plan = [Listing(_posts_url(api_root, 1), API)] if use_api else []
        plan.append(Listing(urljoin(home, "wp-sitemap.xml"), SITEMAP, fallback=use_api))
        plan.append(Listing(_feed_url(start_url, home, page), FEED, fallback=True))
        return plan

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == API:
            return _read_posts(body, url)
        if listing.kind == SITEMAP:
            return _read_sitemap(body, url)
        return super().parse_listing(listing, body, url)


# Discovery helpers ---------------------------------------------------------------------------------


def _is_single_post(page: lxml_html.HtmlElement) -> bool:
    body_class = page.xpath("string(//body/@class)")
    if _SINGLE_BODY.search(body_class):
        return True
    if _LISTING_BODY.search(body_class):
        return False
    return bool(page.xpath('//meta[@property="og:type"][@content="article"]'))


def _api_root(start_url: str, page: lxml_html.HtmlElement | None) -> str:
    """The REST API root the site announces (``/wp-json/`` or ``/?rest_route=/``), else ``/wp-json/``."""
    if page is not None:
        for href in page.xpath('//link[@rel="https://api.w.org/"]/@href'):
            root = join_url(start_url, href.strip())
            if href.strip() and host_of(root):  # an unreadable one ("http://[oops/") is no API root
                return root
    return urljoin(start_url, "/wp-json/")


def _home(start_url: str, api_root: str) -> str:
    """The site's home, which may be a sub-directory install: the API root's parent."""
    parts = urlsplit(api_root)
    if "rest_route=" in parts.query:
        return urljoin(api_root, parts.path or "/")
    if parts.path.rstrip("/").endswith("/wp-json"):
        return urljoin(api_root, parts.path.rstrip("/")[: -len("wp-json")])
    return urljoin(start_url, "/")


def _feed_url(start_url: str, home: str, page: lxml_html.HtmlElement | None) -> str:
    """The site's main feed as the page announces it (not a comments feed, not on another host)."""
    if page is not None:
        for href in page.xpath('//link[@rel="alternate"][@type="application/rss+xml"]/@href'):
            feed = urljoin(start_url, href.strip())
            if "comments" not in feed and host_of(feed) == host_of(start_url):
                return feed
    return urljoin(home, "feed/")


#: Where Bigfoot and Littlefoot put a footnote's button (``_inline_footnote_buttons``).
_FOOTNOTE_CONTAINERS = (".bigfoot-footnote__container", ".littlefoot__container")
#: A row of buttons (the block editor's "Buttons" block).
_BUTTON_GROUPS = ".wp-block-buttons"
#: What ends the run of loose text and inline elements that belongs to the paragraph before a footnote button.
_BLOCKS = frozenset({"p", "div", "ul", "ol", "table", "blockquote", "pre", "figure", "section", "h1", "h2", "h3",
                     "h4", "h5", "h6", "hr", "dl", "form", "aside", "header", "footer", "article", "details"})


def _inline_footnote_buttons(tree: lxml_html.HtmlElement) -> None:
    """Bigfoot / Littlefoot footnotes (common WordPress plugins) put a ``<div>`` with a button in mid-sentence.

    An HTML parser closes the paragraph at that ``<div>``: the rest of the sentence and of the paragraph is
    loose text after it, which trafilatura drops with the button (a whole paragraph per footnote). The button
    becomes its number, ``[1]``, and it and everything up to the next block go back into the paragraph.
    """
    for container in css(", ".join(_FOOTNOTE_CONTAINERS))(tree):
        parent = container.getparent()
        if parent is None:
            continue
        button = container.find(".//button")
        number = (button.get("data-footnote-number") or "").strip() if button is not None else ""
        marker = lxml_html.Element("span")
        marker.text, marker.tail = (f"[{number}]" if number.isdigit() else ""), container.tail
        container.tail = None
        previous = container.getprevious()
        if previous is None or previous.tag != "p":
            parent.replace(container, marker)
            continue
        follower = container.getnext()
        parent.remove(container)
        previous.append(marker)
        while follower is not None and not (isinstance(follower.tag, str) and follower.tag in _BLOCKS):
            following = follower.getnext()
            previous.append(follower)
            follower = following


def _posts_url(api_root: str, page_number: int) -> str:
    """One page of the posts collection; ``?rest_route=`` roots (plain permalinks) take it as a parameter."""
    query = f"_envelope=1&per_page={API_PAGE_SIZE}&page={page_number}&_fields={API_FIELDS}"
    if "rest_route=" in api_root:
        return f"{api_root.rstrip('/')}/wp/v2/posts&{query}"
    return f"{api_root.rstrip('/')}/wp/v2/posts?{query}"


def _read_posts(body: bytes, url: str) -> ListingResult:
    """One page of ``/wp/v2/posts``, enveloped (page count known) or plain (paged until empty)."""
    data = json.loads(body)
    total_pages: int | None = None
    if isinstance(data, dict) and "body" in data and "status" in data:
        headers = {str(k).lower(): v for k, v in (data.get("headers") or {}).items()}
        if str(headers.get("x-wp-totalpages", "")).strip().isdigit():
            total_pages = int(headers["x-wp-totalpages"])
        posts = data["body"] if int(data["status"]) < 400 and isinstance(data["body"], list) else []
    elif isinstance(data, list):
        posts = data
    else:  # a bare error object such as rest_post_invalid_page_number: past the end
        posts = []
    issues = [FoundIssue(p["link"], _post_hints(p)) for p in posts if isinstance(p, dict) and p.get("link")]
    current = _PAGE_PARAM.search(url)
    number = int(current.group(2)) if current else 1
    more = number < total_pages if total_pages is not None else bool(posts)
    following = [Listing(_PAGE_PARAM.sub(rf"\g<1>{number + 1}", url), API)] if more and current else []
    home = url.split("/wp-json/")[0] + "/" if "/wp-json/" in url else url.split("?")[0]
    return ListingResult(issues=issues, next=following, home_url=home)


def _post_hints(post: dict[str, Any]) -> DiscoveryHints:
    title = post.get("title")
    rendered = title.get("rendered") if isinstance(title, dict) else title
    return DiscoveryHints(
        title=clean_text(html.unescape(_TAGS.sub("", rendered))) if isinstance(rendered, str) else None,
        published_at=to_utc_iso(post.get("date_gmt")),
        updated_at=to_utc_iso(post.get("modified_gmt")),
        source="api",
    )


def _read_sitemap(body: bytes, url: str) -> ListingResult:
    """A sitemap index leads only to its post sitemaps (pages, terms and users are not issues)."""
    sitemap = parse_sitemap(body, url)
    if sitemap.kind == "sitemapindex":
        children = [loc for loc, _ in sitemap.urls if not _NOT_POST_SITEMAP.search(urlsplit(loc).path)]
        return ListingResult(next=[Listing(loc, SITEMAP) for loc in children])
    return ListingResult(
        issues=[FoundIssue(loc, DiscoveryHints(updated_at=lastmod, source="sitemap")) for loc, lastmod in sitemap.urls]
    )


# Metadata helpers ----------------------------------------------------------------------------------


def _graph_metadata(tree: lxml_html.HtmlElement) -> PageMetadata:
    """The article described by Yoast/Jetpack JSON-LD, with ``{"@id": …}`` references followed.

    Yoast writes ``"author": {"@id": ".../#/schema/person/…"}`` and the name only on the ``Person``
    node, so the shared JSON-LD reader finds no author; the ``WebPage`` node carries the dates
    when a site emits no ``Article``.
    """
    objects = json_ld_objects(tree)
    index = json_ld_index(objects)

    def resolve(value: Any) -> Any:
        return resolve_references(value, index)

    article = next((o for o in objects if _types(o) & ARTICLE_TYPES), None)
    webpage = next((o for o in objects if "webpage" in _types(o)), None)
    website = next((o for o in objects if "website" in _types(o)), None)
    meta = PageMetadata()
    if article is None and webpage is None:
        return meta
    main = article or webpage or {}
    meta.is_article = article is not None
    meta.title = clean_text(main.get("headline")) if article is not None else None
    authors = resolve(main.get("author"))
    meta.authors = [n for n in (_name(a) for a in (authors if isinstance(authors, list) else [authors])) if n]
    for source in (main, webpage or {}):
        meta.published_at = meta.published_at or to_utc_iso(source.get("datePublished"))
        meta.updated_at = meta.updated_at or to_utc_iso(source.get("dateModified"))
    keywords = main.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    meta.tags = [k for k in (clean_text(x) for x in keywords or [] if isinstance(x, str)) if k]
    image = resolve(main.get("image"))
    image = image[0] if isinstance(image, list) and image else image
    image = image.get("url") or image.get("contentUrl") if isinstance(image, dict) else image
    meta.image = clean_text(html.unescape(image)) if isinstance(image, str) else None  # Yoast escapes "&"
    publisher = resolve(main.get("publisher"))
    meta.site_name = clean_text((website or {}).get("name")) or _name(publisher)
    free = main.get("isAccessibleForFree")
    if free is not None:
        meta.accessible_for_free = str(free).strip().lower() not in ("false", "0", "no")
    return meta


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", [])
    return {str(k).lower() for k in (kind if isinstance(kind, list) else [kind])}


def _name(value: Any) -> str | None:
    name = clean_text(value.get("name")) if isinstance(value, dict) else None
    return name if name and not name.startswith(("http://", "https://")) else None


def _post_element(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The post's own container, so bylines and dates of comments and related posts are never read."""
    for selector in ("article.type-post", "article.post", "article.hentry", "main article", "article", "main"):
        found = css(selector)(tree)
        if found:
            return found[0]
    return tree.find("body")


def _first_text(element: lxml_html.HtmlElement, selector: str) -> str | None:
    found = css(selector)(element)
    return clean_text(text_of(found[0])) if found else None


def _byline(post: lxml_html.HtmlElement) -> list[str]:
    """Author names from the theme's byline ("Posted by …", "Author by …" prefixes removed)."""
    for selector in _BYLINE_SELECTORS:
        names = []
        for element in css(selector)(post):
            if element.xpath(_NOT_POST):
                continue
            name = clean_text(_BYLINE_PREFIX.sub("", text_of(element)))
            if name and len(name) <= 80 and not name.startswith(("http://", "https://")) and name not in names:
                names.append(name)
        if names:
            return names
    return []


def _tag_links(post: lxml_html.HtmlElement) -> list[str]:
    """The post's tag links (``rel="tag"`` to ``/tag/…``; categories and tag-cloud widgets are not tags)."""
    names = [text_of(a) for a in css('a[rel~="tag"][href*="/tag/"]')(post) if not a.xpath(_NOT_POST)]
    return list(dict.fromkeys(n for n in names if n))


def _visible_date(post: lxml_html.HtmlElement) -> str | None:
    for xpath in _PUBLISHED_XPATHS:
        for value in post.xpath(xpath):
            owner = value.getparent()
            if owner is not None and owner.xpath(_NOT_POST):
                continue
            if date := to_utc_iso(value):
                return date
    return None


ADAPTER = WordPressAdapter()
