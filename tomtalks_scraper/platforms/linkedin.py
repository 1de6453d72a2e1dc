"""LinkedIn Pulse articles and LinkedIn newsletters (``../shared/docs/platforms.md`` §2; §11 for the
"Recommended by LinkedIn" widget that content farms copy along).

Why this adapter has code and not only selectors:

* **Metadata** lives in a different place in every layout generation (§2.4): JSON-LD (2023+), the
  ``<code id="article"><!--{json}--></code>`` blob (2019-20: epoch-ms dates, first/last name,
  ``series`` = the newsletter), ``twitter:data1`` "Written by" (2021-22), ``article:author`` (2017),
  ``<time itemprop=datePublished>`` (2016) or only the visible "Published on …" line. Saved copies
  of old pages also spell ``<meta content>`` as ``<meta value>``, which the shared readers ignore.
  trafilatura's own guesses are wrong here ("Follow", "Name Name headline", §1), so the adapter
  always names the author itself.
* **Discovery** (§2.2): LinkedIn has no RSS. A newsletter page ``/newsletters/<slug>-<id>/`` lists
  its editions (main list + right rail); the author's article list ``/today/author/<vanity>`` is
  read as well because the guest newsletter page shows only some editions.
* **Access** (§2.5): no paywall, but LinkedIn serves its sign-in wall HTML in place of an article
  to guests it throttles; that page has no body and is marked ``login_wall``.
* **Lazy images**: inline images carry their URL in ``data-delayed-url`` (2023+) or ``data-li-src``
  (2017-22) with an empty or ``//:0`` ``src``; they are promoted so the stored body keeps them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector

from tomtalks_scraper.discovery.html_pages import pagination_links
from tomtalks_scraper.discovery.listings import FoundIssue, Listing, ListingResult
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import PageMetadata, clean_text, read_page_metadata
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import FREE, LOGIN_WALL, PlatformAdapter, css, text_of
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import clean_link, join_url

#: Listing kinds read by this adapter (``parse_listing``).
NEWSLETTER_PAGE, AUTHOR_LIST = "linkedin_newsletter", "linkedin_author"

_NEWSLETTER_PATH = re.compile(r"^/newsletters/[^/]+/?$")
_AUTHOR_PATH = re.compile(r"^/today/author/([^/?#]+)/?$")
#: A Pulse article path; topic hubs, channels and API paths share the prefix but are not articles.
_ARTICLE_PATH = re.compile(r"^/pulse/(?!topics/|channel/|api/|discover/)[^/]+/?$")
_PROFILE_PATH = re.compile(r"/in/([^/?#]+)")
_PUBLISHED = re.compile(r"Published(?:\s+on)?\s+([A-Z][a-z]{2,9}\.?\s+\d{1,2},\s+\d{4})")
_HASHTAG = re.compile(r"#(\w+)")
_TEXT_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption")
_IMAGE_FILE = re.compile(r"\.(?:avif|bmp|gif|hei[cf]|jpe?g|png|webp)(?:\b|$)", re.I)
#: Page keys of LinkedIn's sign-in, join and checkpoint pages (served instead of the article).
_WALL_PAGE_KEY = re.compile(r"authwall|login|checkpoint|registration|cold-join|signup", re.I)
_WALL_TITLE = re.compile(r"^\s*(?:sign up|sign in|log in|join)\b.*\|\s*linkedin\s*$|linkedin login", re.I)
#: Button labels and chrome that trafilatura and naive selectors mistake for the author.
_NOT_AUTHORS = {"follow", "+ follow", "following", "unfollow", "linkedin", "linkedin editors", "sign in"}


def _meta(tree: lxml_html.HtmlElement, *keys: str) -> str | None:
    """A meta tag's value by name/property, reading ``content`` or the ``value`` spelling of saved copies."""
    for key in keys:
        for element in tree.xpath(f'//meta[@name="{key}" or @property="{key}"]'):
            value = clean_text(element.get("content") or element.get("value"))
            if value:
                return value
    return None


def _metas(tree: lxml_html.HtmlElement, key: str) -> list[str]:
    values = (clean_text(e.get("content") or e.get("value"))
              for e in tree.xpath(f'//meta[@name="{key}" or @property="{key}"]'))
    return [v for v in values if v]


def _author_name(value: Any) -> str | None:
    """A person's name, or ``None`` for button labels, URLs and other noise."""
    name = clean_text(value)
    if not name:
        return None
    name = re.sub(r"^(?:written\s+)?by\s+", "", name, flags=re.I)
    if name.lower() in _NOT_AUTHORS or name.startswith(("http://", "https://")) or len(name) > 80:
        return None
    return name


def _visible_date(text: str | None) -> str | None:
    """The date of a visible "Published on August 19, 2019" / "Published Dec 19, 2016" line."""
    match = _PUBLISHED.search(text or "")
    if not match:
        return None
    spelled = re.sub(r"\s+", " ", match.group(1).replace(".", "")).replace("Sept ", "Sep ")
    for pattern in ("%B %d, %Y", "%b %d, %Y"):
        try:
            return to_utc_iso(datetime.strptime(spelled, pattern).date().isoformat())
        except ValueError:
            continue
    return None


def _promote_images(tree: lxml_html.HtmlElement) -> None:
    """Give lazily loaded images a ``src`` trafilatura keeps.

    Inline images carry their URL in ``data-delayed-url`` (2023+) or ``data-li-src`` (2017-22) with
    an empty or ``//:0`` ``src``. trafilatura keeps only images whose URL ends like a file name,
    which licdn URLs (``/dms/image/<id>/…/0/<ts>?e=…``) never do: a ``#image.jpg`` fragment (never
    sent to the server) makes them pass. 2021-22 frames are renamed: trafilatura discards any block
    whose class says "embed".
    """
    for image in tree.iter("img"):
        src = (image.get("src") or "").strip()
        lazy = (image.get("data-delayed-url") or image.get("data-li-src") or "").strip()
        if lazy and (not src or src.startswith(("data:", "//:0"))):
            src = lazy
        if src.startswith(("http://", "https://", "//")) and not _IMAGE_FILE.search(src):
            src += "#image.jpg"
        if src:
            image.set("src", src)
    for frame in css("div.slate-resizable-image-embed")(tree):
        frame.tag = "figure"
        frame.attrib.pop("class", None)


def _flatten_text_blocks(tree: lxml_html.HtmlElement) -> None:
    """Turn 2023+ text blocks into plain paragraphs trafilatura scores like any other.

    Every paragraph sits in its own ``div[data-test-id=publishing-text-block]``; trafilatura's
    link-density test then drops a short paragraph made mostly of links ("… from 2018 to 2023.").
    Bold and italic are ``<span class="font-[700]">`` / ``<span class="italic">``, and the template
    indentation inside blocks would survive as blank-looking lines.
    """
    for block in css('div[data-test-id="publishing-text-block"]')(tree):
        block.drop_tag()
    for span in tree.xpath('//span[contains(@class, "font-[700]") or contains(concat(" ", @class, " "), " italic ")]'):
        span.tag = "strong" if "font-[700]" in span.get("class", "") else "em"
    for element in tree.iter(*_TEXT_BLOCKS):
        _trim_edges(element)


def _trim_edges(element: lxml_html.HtmlElement) -> None:
    """Drop the template indentation at the start and end of a text block: trafilatura keeps it
    when the block has inline children (LinkedIn's ``<p>`` + newline + spaces + ``<span>…``)."""
    if element.text:
        element.text = element.text.lstrip()
    if len(element) and element[-1].tail:
        element[-1].tail = element[-1].tail.rstrip()
    elif not len(element) and element.text:
        element.text = element.text.rstrip()


def _pulse_url(href: str | None, base_url: str) -> str | None:
    """An article link as an issue URL: absolute, without LinkedIn's tracking query; ``None`` if not one."""
    if not href:
        return None
    try:
        parts = urlsplit(join_url(base_url, href.strip()))
    except ValueError:  # "http://[oops/": one unreadable link must not hide the page's other editions
        return None
    if parts.scheme not in ("http", "https") or not _ARTICLE_PATH.match(parts.path):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class LinkedInAdapter(PlatformAdapter):
    name = "linkedin"
    related_domains = ("linkedin.com",)
    url_patterns = (
        r"^https?://(?:[\w-]+\.)?linkedin\.com/(?:pulse|newsletters|today/author|posts|feed/update|authwall)(?:/|\?|$)",
    )
    #: Only ``<head>`` markers: a copied article keeps LinkedIn's body markup, links and images
    #: (``data-test-id`` blocks, licdn.com images, "Recommended by LinkedIn"), never its head.
    page_markers = (
        'head meta[name="pageKey"]',
        'head meta[name="linkedin:pageTag"]',
        'head link[rel~="stylesheet"][href*=".licdn.com/"]',
        'head link[rel~="icon"][href*=".licdn.com/"]',
    )
    body_selectors = (
        'div[data-test-id="article-content-blocks"]',  # 2023+ guest layout
        "div.article-content__body",  # 2021-22
        "section.article-body",  # 2019-20
        'div.prose[itemprop="articleBody"]',  # 2017
        'div.article-body[itemprop="articleBody"]',  # 2016
        "div.share-update-card",  # a public feed post (d_public_post): not an article, but its text
    )
    boilerplate = (
        ".inline-articles",  # "Recommended by LinkedIn", injected inside the 2023+ body
        ".content-author-card",
        ".ellipsis-menu",  # "Report this article"
        "div.social-details",  # reactions, Like/Comment/Share bar, comments
        ".social-action-bar",
        "ul.social-ctas",
        "ul.social-shares",
        ".comments",
        ".article-comment__container",
        ".feed-cta-banner__text",  # "To view or add a comment, sign in"
        "section.more-articles",  # "More articles by …"
        ".related-articles-container",
        "section.related-articles",
        "section.right-rail",  # "Explore topics", "Others also viewed"
        ".ugc-post-bar",
        ".share-update-card__header",  # a feed post's actor, follower count and age
        "form.google-one-tap",
        ".artdeco-global-alert",  # cookie banner
    )
    boilerplate_headings = (
        "Recommended by LinkedIn",
        r"More articles by .{1,80}",
        "Others also viewed",
        "Explore topics",
        "Explore content categories",
        "Report this article",
    )
    redirect_wrappers = ((r"^https?://(?:[\w-]+\.)?linkedin\.com/redir/redirect", "url"),)

    # Metadata ----------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """Platform data first (article JSON, JSON-LD), then meta tags in either spelling, then visible text."""
        meta = self._from_article_json(tree)
        meta.fill_from(read_page_metadata(tree))
        meta.fill_from(self._from_meta_values(tree))
        meta.fill_from(self._from_visible_markup(tree))
        meta.authors = [name for name in (_author_name(a) for a in meta.authors) if name]
        if not meta.authors and (fallback := self._visible_author(tree)):
            meta.authors = [fallback]
        meta.newsletter = meta.newsletter or self._newsletter_link_name(tree)
        meta.access = meta.access or (LOGIN_WALL if self._is_login_wall(tree) else FREE)
        return meta

    @staticmethod
    def _article_json(tree: lxml_html.HtmlElement) -> dict[str, Any] | None:
        """The 2019-20 ``<code id="article"><!--{…}--></code>`` JSON (its text is an HTML comment)."""
        for code in tree.xpath('//code[@id="article"]'):
            raw = "".join(c.text or "" for c in code.iter(etree.Comment)) or code.text or ""
            try:
                data = json.loads(raw.strip())
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
        return None

    def _from_article_json(self, tree: lxml_html.HtmlElement) -> PageMetadata:
        data = self._article_json(tree)
        if not data:
            return PageMetadata()
        author = data.get("author") if isinstance(data.get("author"), dict) else {}
        profile = author.get("miniProfile") if isinstance(author.get("miniProfile"), dict) else {}
        name = " ".join(p for p in (profile.get("firstName") or author.get("firstName"),
                                     profile.get("lastName") or author.get("lastName")) if p)
        image = data.get("articleImage") if isinstance(data.get("articleImage"), dict) else {}
        series = data.get("series")
        if isinstance(series, dict):
            series = series.get("title") or series.get("name")
        share = (data.get("ugcPost") or {}).get("shareText") if isinstance(data.get("ugcPost"), dict) else None
        share_text = " ".join(str(s.get("value") or "") for s in share if isinstance(s, dict)) if share else ""
        return PageMetadata(
            title=clean_text(data.get("title")),
            authors=[name] if clean_text(name) else [],
            published_at=to_utc_iso(data.get("publishedDate")),
            updated_at=to_utc_iso(data.get("lastModifiedDate")),
            description=clean_text(data.get("description")),
            image=clean_text(image.get("imageUrl")),
            tags=list(dict.fromkeys(_HASHTAG.findall(share_text))),
            newsletter=clean_text(series) if isinstance(series, str) else None,
            is_article=True,
        )

    @staticmethod
    def _from_meta_values(tree: lxml_html.HtmlElement) -> PageMetadata:
        """OpenGraph, ``article:*`` and Twitter tags, also when spelled ``<meta name=… value=…>``."""
        written_by = (_meta(tree, "twitter:label1") or "").lower() == "written by"
        author = _meta(tree, "article:author") or (_meta(tree, "twitter:data1") if written_by else None)
        return PageMetadata(
            title=_meta(tree, "og:title", "twitter:title"),
            authors=[author] if author else [],
            published_at=to_utc_iso(_meta(tree, "article:published_time")),
            updated_at=to_utc_iso(_meta(tree, "article:modified_time")),
            description=_meta(tree, "og:description", "description"),
            image=_meta(tree, "og:image", "twitter:image", "twitter:image:src"),
            tags=_metas(tree, "article:tag"),
            site_name=_meta(tree, "og:site_name"),
        )

    @staticmethod
    def _from_visible_markup(tree: lxml_html.HtmlElement) -> PageMetadata:
        """The "Published on …" line of the article header or author card (2019-22 have no machine date)."""
        for selector in ("time.article-head__timestamp", ".base-main-card__metadata", "ul.article-meta",
                         ".publisher-author-card", ".main-author-card"):
            for element in css(selector)(tree):
                if date := _visible_date(text_of(element)):
                    return PageMetadata(published_at=date)
        return PageMetadata()

    @staticmethod
    def _visible_author(tree: lxml_html.HtmlElement) -> str | None:
        """The author card's name element (never the whole card: it also holds the headline and "Follow")."""
        for selector in (".publisher-author-card h3", ".main-author-card h3.base-main-card__title",
                         "a.mini-card__title-link", ".article-author-wrapper .entity-name [itemprop=name]",
                         'span[itemprop="author"][rel="author"]'):
            for element in css(selector)(tree):
                if name := _author_name(text_of(element)):
                    return name
        return None

    def _newsletter_link_name(self, tree: lxml_html.HtmlElement) -> str | None:
        """The newsletter an edition belongs to: the first ``/newsletters/`` link outside the body (§2.2)."""
        bodies = {found for selector in self.body_selectors for found in css(selector)(tree)}
        for anchor in tree.xpath('//a[contains(@href, "/newsletters/")]'):
            if any(ancestor in bodies for ancestor in anchor.iterancestors()):
                continue
            if name := clean_text(text_of(anchor)):
                return name
        return None

    # Access ------------------------------------------------------------------------------------

    def _is_login_wall(self, tree: lxml_html.HtmlElement) -> bool:
        """LinkedIn's sign-in/join wall served at the article URL: no body and a login page key, title or form.

        A readable article also carries sign-in forms (Google one-tap, "Join now"), so the wall is
        only recognised when no article body is on the page.
        """
        if any(css(selector)(tree) for selector in self.body_selectors):
            return False
        page_key = _meta(tree, "pageKey") or ""
        title = clean_text(tree.xpath("string(//title[1])")) or ""
        login_form = tree.xpath('//form[not(contains(@class, "google-one-tap")) and (contains(@action, "/checkpoint/")'
                                ' or contains(@class, "authwall") or contains(@class, "login__form"))]')
        return bool(_WALL_PAGE_KEY.search(page_key) or _WALL_TITLE.search(title) or login_form)

    # Pre-clean ---------------------------------------------------------------------------------

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Drop the chrome and cut to the body, repairing what trafilatura would lose (lazy images,
        links, one-paragraph blocks, emphasis). A sign-in wall has no body: nothing is kept.

        Text blocks are flattened only after the cut, so that a chrome heading matched inside the
        body (``boilerplate_headings``) takes its own block with it, never the whole body.
        """
        if self._is_login_wall(tree):
            return lxml_html.document_fromstring("<html><body></body></html>")
        _promote_images(tree)
        for anchor in tree.xpath("//a[@href]"):
            anchor.set("href", clean_link(self.unwrap_link(anchor.get("href", "").strip())))
            # trafilatura 2.3.1 drops a link whose text is wrapped in <strong>/<em> when the
            # paragraph opens with formatting (LinkedIn's "<strong>…</strong><a><strong>…"): keep the link.
            etree.strip_tags(anchor, "strong", "b", "em", "i", "u", "span")
        document = super().preclean(tree, names)
        _flatten_text_blocks(document)
        return document

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """A newsletter page is its own edition list, plus the author's article list; an article is one issue."""
        path = urlsplit(start_url).path
        if _AUTHOR_PATH.match(path):
            return [Listing(start_url, AUTHOR_LIST)]
        is_newsletter = bool(_NEWSLETTER_PATH.match(path)) or (
            page is not None and bool(css("section.newsletter__editions-container, ul.newsletter__updates")(page))
        )
        if not is_newsletter:
            return []
        plan = [Listing(start_url, NEWSLETTER_PAGE)]
        if page is not None and (vanity := self._author_vanity(page)):
            plan.append(Listing(urljoin(start_url, f"/today/author/{vanity}"), AUTHOR_LIST))
        return plan

    @staticmethod
    def _author_vanity(page: lxml_html.HtmlElement) -> str | None:
        """The newsletter author's profile name: the author card's link, else the first ``/in/`` link
        without ``trk=`` (commenters' links carry ``trk=``, §2.2)."""
        candidates = css(".newsletter__author-container a[href*='/in/']")(page) + [
            a for a in css("a[href*='/in/']")(page) if "trk=" not in a.get("href", "")
        ]
        for anchor in candidates:
            if match := _PROFILE_PATH.search(urlsplit(anchor.get("href", "")).path):
                return match.group(1)
        return None

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == NEWSLETTER_PAGE:
            return self._read_newsletter_page(body, url)
        if listing.kind == AUTHOR_LIST:
            return self._read_author_list(body, url)
        return super().parse_listing(listing, body, url)

    @staticmethod
    def _read_newsletter_page(body: bytes, url: str) -> ListingResult:
        """Editions newest first from the main list, then older ones from the right rail (any ``/pulse/`` link)."""
        page = Selector(text=body.decode("utf-8", errors="replace"))
        found: dict[str, FoundIssue] = {}
        for card in page.css("section.newsletter__editions-container ul.newsletter__updates li, "
                             "section.newsletter__editions-container ul.newsletter__updates div.share-update-card"):
            link = _pulse_url(card.css("div.share-article a::attr(href)").get(), url)
            if link and link not in found:
                title = clean_text(" ".join(card.css(".share-article__title ::text").getall()))
                date = _visible_date(" ".join(card.css(".share-update-card-header ::text").getall()))
                found[link] = FoundIssue(link, DiscoveryHints(title=title, published_at=date, source="archive"))
        for href in page.css('a[href*="/pulse/"]::attr(href)').getall():
            link = _pulse_url(href, url)
            if link and link not in found:
                found[link] = FoundIssue(link, DiscoveryHints(source="archive"))
        heading = page.css("h1.top-card-layout__title") or page.css("h1")
        name = clean_text(" ".join(heading[0].css("::text").getall())) if heading else None
        return ListingResult(issues=list(found.values()), newsletter=name, home_url=url)

    @staticmethod
    def _read_author_list(body: bytes, url: str) -> ListingResult:
        """Every article on the author's list page; further pages of the same list are followed."""
        page = Selector(text=body.decode("utf-8", errors="replace"))
        links = dict.fromkeys(
            link for link in (_pulse_url(href, url) for href in page.css('a[href*="/pulse/"]::attr(href)').getall())
            if link
        )
        own_list = urlsplit(url).path.rstrip("/")
        following = [Listing(u, AUTHOR_LIST) for u in pagination_links(page, url)
                     if urlsplit(u).path.rstrip("/") == own_list]
        return ListingResult(issues=[FoundIssue(link, DiscoveryHints(source="archive")) for link in links],
                             next=following)


ADAPTER = LinkedInAdapter()
