"""Substack publications on ``*.substack.com`` and custom domains (``../shared/docs/platforms.md`` §3).

Why this adapter has code and not only selectors:

* **Detection** (§1, §3.1): custom domains (``www.slowboring.com``) carry no Substack host, so the
  page is recognised by Substack's own assets (``substackcdn.com/bundle/…``, older
  ``cdn.substack.com/min|theme/…``), the ``window._preloads`` boot script, or an email's
  "powered by Substack" footer. Images from ``substackcdn.com`` alone are not a marker: copies of
  Substack posts on other blogs keep them.
* **Metadata** (§3.4): ``window._preloads`` (``JSON.parse("…")`` or an object literal) holds the post
  as Substack stores it: ``title``, ``subtitle``, ``post_date``, ``audience``, ``publishedBylines``,
  ``postTags`` (the only tag source), and ``pub.name`` (the newsletter). JSON-LD ``NewsArticle`` and
  OpenGraph fill the rest; received emails (§3.3) carry only visible markup.
* **Access** (§3.5): ``audience`` ``only_paid``/``founding`` with a cut body, or a body paywall block
  after ``div.available-content``, is a ``paid_preview``. Free posts also carry a *comments* paywall
  modal (``div.paywall.modal-paywall`` "Only paid subscribers can comment"), which is not a body
  paywall.
* **Discovery** (§3.2): the archive API ``/api/v1/archive?sort=new&offset=N&limit=M`` paged until an
  empty page (the server caps ``limit``, so a short page is not the end); ``/sitemap.xml`` filtered to
  ``/p/`` URLs and ``/feed`` (only the ~20 newest posts, read for freshness) are fallbacks.
* **Links** (§3.3): emails wrap links as ``email.mgN.substack.com/c/<base64 zlib query>`` (target in
  ``l=``) and ``substack.com/redirect/2/<JWT>`` (target in the payload's ``e``); both are decoded
  offline. ``substack.com/redirect/<uuid>?r=…`` is an opaque server-side id and stays as it is.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import API, FEED, SITEMAP, FoundIssue, Listing, ListingResult, read_sitemap
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import (
    PageMetadata,
    clean_text,
    json_ld_objects,
    newsletter_from_email,
    read_page_metadata,
)
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import (
    FREE,
    PAID_FULL,
    PAID_PREVIEW,
    PlatformAdapter,
    css,
    mark_embed,
    remove_element,
    text_of,
)
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import clean_link

#: Posts asked for per archive API page. Substack may return fewer (it caps the page size), which
#: is why paging advances by the number received and stops only on an empty page (§3.2).
ARCHIVE_PAGE_SIZE = 50
#: A server that ignores ``offset`` would page forever; no publication has this many posts.
MAX_ARCHIVE_OFFSET = 20_000
#: ``post.audience`` values of posts whose full body only paying subscribers get (§3.5).
PAID_AUDIENCES = frozenset({"only_paid", "founding"})

_POST_PATH = re.compile(r"^/p/[^/]+")
#: substack.com reader paths that show one post or note (§3.1).
_APP_ITEM_PATH = re.compile(r"^/(?:home/post/p-\d+|@[^/]+/note/|note/|inbox/post/)")
#: Hosts that are Substack's own reader, mail and CDN hosts, not a publication with an archive.
_NOT_PUBLICATION_HOST = re.compile(r"^(?:www\.|open\.|email\.[\w.]+\.|cdn\.)?substack\.com$|^substackcdn\.com$")
_PRELOADS = re.compile(r"window\._preloads\s*=(?!=)\s*")
_JSON_PARSE = re.compile(r"JSON\.parse\(\s*")
#: ``email.mg2.substack.com/c/<base64url(zlib(query string))>``: the query's ``l`` is the target.
_MAILGUN_LINK = re.compile(r"^https?://email\.mg\d*\.substack\.com/c/([A-Za-z0-9_-]+=*)")
#: ``substack.com/redirect/2/<payload>.<signature>``: the JSON payload's ``e`` is the target.
_SIGNED_REDIRECT = re.compile(r"^https?://substack\.com/redirect/2/([A-Za-z0-9_-]+)\.")
#: ``open.substack.com/pub/<subdomain>/p/<slug>``: the app link to a post of ``<subdomain>``.
_OPEN_LINK = re.compile(r"^https?://open\.substack\.com/pub/([\w-]+)/p/([^/?#]+)")
_MAX_DECODED_BYTES = 16_384


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _decode_mailgun(token: str) -> str | None:
    """The target of a Mailgun click link: its payload is a zlib-compressed query string."""
    try:
        query = zlib.decompressobj().decompress(_b64url(token), _MAX_DECODED_BYTES).decode("utf-8")
    except (binascii.Error, ValueError, zlib.error):
        return None
    target = dict(parse_qsl(query)).get("l", "")
    return target if target.startswith(("http://", "https://")) else None


def _decode_signed_redirect(payload: str) -> str | None:
    """The target of a ``substack.com/redirect/2/…`` link: the ``e`` of its (unverified) JWT payload."""
    try:
        data = json.loads(_b64url(payload)[:_MAX_DECODED_BYTES])
    except (binascii.Error, ValueError):
        return None
    target = data.get("e") if isinstance(data, dict) else None
    return target if isinstance(target, str) and target.startswith(("http://", "https://")) else None


def _without_params(url: str, names: set[str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query)))


def read_preloads(tree: lxml_html.HtmlElement) -> dict[str, Any] | None:
    """The ``window._preloads`` object of a Substack page, in either spelling (§3.4), else ``None``."""
    decoder = json.JSONDecoder()
    for script in tree.xpath('//script[contains(., "_preloads")]'):
        text = script.text or ""
        for match in _PRELOADS.finditer(text):
            rest = text[match.end():]
            try:
                if parse_call := _JSON_PARSE.match(rest):
                    literal, _ = decoder.raw_decode(rest[parse_call.end():])
                    value = json.loads(literal) if isinstance(literal, str) else None
                else:
                    value, _ = decoder.raw_decode(rest)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _has_preloads(tree: lxml_html.HtmlElement) -> bool:
    return any(_PRELOADS.search(text) for text in tree.xpath('//script[contains(., "_preloads")]/text()'))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(bylines: Any) -> list[str]:
    """Author names of ``publishedBylines`` (API items and ``_preloads.post`` share the shape)."""
    names = (clean_text(b.get("name")) for b in bylines if isinstance(b, dict)) if isinstance(bylines, list) else ()
    return list(dict.fromkeys(name for name in names if name))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def archive_api_url(origin: str, offset: int, limit: int = ARCHIVE_PAGE_SIZE) -> str:
    """One page of the archive API, newest first; the parameter order is the one Substack's own client uses."""
    return f"{origin}/api/v1/archive?sort=new&offset={offset}&limit={limit}"


class SubstackAdapter(PlatformAdapter):
    name = "substack"
    url_patterns = (
        r"^https?://(?:[\w-]+\.)+substack\.com(?:[:/?#]|$)",  # <pub>.substack.com, email.mg2.substack.com/c/…
        r"^https?://(?:www\.)?substack\.com/(?:home/post/|@[^/]+/note/|note/|inbox/post/)",
    )
    #: The publication's own assets and the email footer; never ``substackcdn.com/image`` (copies keep those).
    page_markers = (
        'link[href*="substackcdn.com/bundle/"]',
        'script[src*="substackcdn.com/bundle/"]',
        'link[href^="https://cdn.substack.com/theme/"]',
        'script[src^="https://cdn.substack.com/min/"]',
        "p.powered-by-substack",
    )
    body_selectors = (
        "div.available-content > div.body.markup",  # 2022+ web posts (pencraft and older classes)
        "article.post > div.body.markup",  # 2020-21 web posts (chinatalk, spakhm)
        "div.post > div.body.markup",  # received emails: not the header preamble or the postscript
        "div.FeedProseMirror",  # Notes (substack.com/@user/note/c-…)
        "div.body.markup",
    )
    boilerplate = (
        # Inside the body (§3.3): subscribe and share widgets, CTA buttons, heading anchors.
        "div.subscription-widget-wrap",
        "div.subscription-widget-wrap-editor",
        "div.subscribe-widget",
        "div.captioned-button-wrap",  # "Thank you for reading X. This post is public…" + Share
        "p.button-wrapper",  # "Subscribe now", "Share", "Leave a comment"
        "div.header-anchor-parent",
        "div.header-anchor-widget",
        "div.image-link-expand",  # restack / view-image buttons over images
        "label.hide-text",  # editor label "Text within this block will maintain its original spacing…"
        "div.tweet-footer",  # like and retweet counts of static tweets
        "div.paywall-jump",
        "button",
        # Around the body: paywall blocks (body and comments modal), post footer, comments.
        "div.paywall",
        "div.post-footer",
        "div.post-end-cta-full",
        "div.subscribe-footer",
        "div.comments-section",
        "div[inert]",  # the feed behind a Note's modal view
        # Received emails (§3.3).
        "table.post-meta",
        "table.meta-author-wrap",
        "table.email-ufi-2-top",
        "table.email-ufi-2-bottom",
        "div.post-cta",
        "div.container-border",
        "div.footer",
    )
    boilerplate_headings = (
        r"Subscribe to .{1,80}",
        r"Thanks for reading .{1,80}",
        "Ready for more\\?",
        "Share this post",
        "Only paid subscribers can comment on this post",
        "Discussion about this post",
    )

    # Detection ---------------------------------------------------------------------------------

    def matches_page(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> bool:
        """Substack assets or email footer, else the ``window._preloads`` boot script (browser-saved pages)."""
        return super().matches_page(tree, names) or _has_preloads(tree)

    # Metadata ----------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """``_preloads`` first, then an email's visible header, then JSON-LD → OpenGraph → ``<time>``."""
        preloads = read_preloads(tree) or {}
        post = _dict(preloads.get("post"))
        meta = self._from_preloads(post, _dict(preloads.get("pub")), preloads)
        if self._is_email(tree):
            meta.fill_from(self._from_email(tree))
        meta.fill_from(read_page_metadata(tree))
        meta.subtitle = meta.subtitle or self._visible_subtitle(tree)
        meta.newsletter = meta.newsletter or self._publisher(tree) or (
            newsletter_from_email(tree) if self._is_email(tree) else None)
        meta.access = self._access(tree, post, meta)
        return meta

    @staticmethod
    def _from_preloads(post: dict[str, Any], pub: dict[str, Any], preloads: dict[str, Any]) -> PageMetadata:
        tags = [clean_text(t.get("name")) for t in post.get("postTags") or [] if isinstance(t, dict)
                and not t.get("hidden")]
        return PageMetadata(
            title=clean_text(post.get("title")),
            subtitle=clean_text(post.get("subtitle")),
            authors=_names(post.get("publishedBylines")),
            published_at=to_utc_iso(post.get("post_date")),
            canonical_url=clean_text(post.get("canonical_url") or (preloads.get("canonicalUrl") if post else None)),
            description=clean_text(post.get("description") or post.get("search_engine_description")),
            image=clean_text(post.get("cover_image")),
            tags=[t for t in tags if t],
            newsletter=clean_text(pub.get("name")),
            is_article=bool(post),
        )

    def _from_email(self, tree: lxml_html.HtmlElement) -> PageMetadata:
        """A received email's header: title (linked to the web post), subtitle, author, ``<time datetime>``."""
        title = css("h1.post-title")(tree)
        links = title[0].xpath(".//a/@href") if title else []
        web_url = urlsplit(self.unwrap_link(links[0])) if links else None
        bylines = css(".post-header .meta-author, .post-header .custom-css-email-post-author")(tree)
        authors = [text_of(e) for e in bylines]
        dates = tree.xpath('//*[contains(@class, "post-header") or contains(@class, "post-meta")]//time/@datetime')
        return PageMetadata(
            title=text_of(title[0]) if title else None,
            authors=[a for a in dict.fromkeys(authors) if a],
            published_at=to_utc_iso(dates[0]) if dates else None,
            # The post's web address without the reader's query (tracking and sign-in token).
            canonical_url=urlunsplit(web_url._replace(query="", fragment=""))
            if web_url and _POST_PATH.match(web_url.path) else None,
        )

    @staticmethod
    def _visible_subtitle(tree: lxml_html.HtmlElement) -> str | None:
        found = css("div.post-header h3.subtitle")(tree)
        return clean_text(text_of(found[0])) if found else None

    @staticmethod
    def _publisher(tree: lxml_html.HtmlElement) -> str | None:
        """The JSON-LD publisher's name: on Substack it is the publication (§3.4). Notes have none."""
        for obj in json_ld_objects(tree):
            publisher = obj.get("publisher")
            if isinstance(publisher, dict) and (name := clean_text(publisher.get("name"))):
                return name
        return None

    @staticmethod
    def _is_email(tree: lxml_html.HtmlElement) -> bool:
        return bool(css(".email-body-container, p.powered-by-substack")(tree))

    # Access ------------------------------------------------------------------------------------

    @staticmethod
    def body_paywall(tree: lxml_html.HtmlElement) -> bool:
        """A paywall block cutting the body: ``div.paywall`` that is not the comments modal (§3.5).

        The comments paywall sits in ``.modal-paywall`` inside a modal of the comments section; the
        body paywall follows ``div.available-content`` inside the post.
        """
        for block in css('div.paywall, div[data-testid="paywall"]')(tree):
            if "modal-paywall" in (block.get("class") or ""):
                continue
            if any("modal" in (a.get("class") or "") or "comment" in (a.get("class") or "")
                   for a in block.iterancestors()):
                continue
            return True
        return False

    def _access(self, tree: lxml_html.HtmlElement, post: dict[str, Any], meta: PageMetadata) -> str:
        """Body paywall → preview; paid audience → preview when the body is cut, else a subscriber's full copy."""
        if self.body_paywall(tree):
            return PAID_PREVIEW
        if post.get("audience") in PAID_AUDIENCES:
            # Substack leaves ``body_html`` empty in ``_preloads`` for readers without access.
            return PAID_FULL if post.get("body_html") else PAID_PREVIEW
        if meta.accessible_for_free is False:
            return PAID_PREVIEW
        return FREE

    # Links and pre-clean -----------------------------------------------------------------------

    def unwrap_link(self, url: str) -> str:
        """Decode Substack's email click links; opaque ``substack.com/redirect/<uuid>`` links are left as they are.

        A decoded target loses its ``token`` parameter: it is the recipient's sign-in token that the
        email adds to links to the publication, not part of the link the author wrote.
        """
        target = None
        if match := _MAILGUN_LINK.match(url):
            target = _decode_mailgun(match.group(1))
        elif match := _SIGNED_REDIRECT.match(url):
            target = _decode_signed_redirect(match.group(1))
        elif match := _OPEN_LINK.match(url):
            target = f"https://{match.group(1)}.substack.com/p/{match.group(2)}"
        return _without_params(target, {"token"}) if target else url

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Prepare the page for trafilatura, then cut it to the body.

        * email click links are unwrapped in place, so the stored Markdown and HTML hold real targets;
        * an email's layout tables around images are unwrapped (trafilatura reads them as data tables);
        * image captions become paragraphs: trafilatura 2.x drops a ``<figcaption>``'s own text and
          keeps only its links ("Montecruz Photolicensed under"), and Substack captions are content;
        * footnote numbers become bracketed text, not links: the page shows them superscript (plain text
          would glue them to the word or number before: "in 2020.1"), and as in-page jumps they are not
          links of the issue (trafilatura would also resolve ``#footnote-1`` against the site root);
        * embedded tweets become quotes with their author and link (``_tweets_as_quotes``).
        """
        for anchor in tree.xpath('//a[contains(@href, "substack.com/")]'):
            href = anchor.get("href", "").strip()
            if (target := self.unwrap_link(href)) != href:
                anchor.set("href", clean_link(target))
        for table in css('div.body.markup table.image-wrapper, div.body.markup table[role="presentation"]')(tree):
            etree.strip_tags(table, "tbody", "thead", "tr", "td", "th")
            table.tag = "div"
        for caption in tree.iter("figcaption"):
            caption.tag = "p"
        self._plain_footnote_numbers(tree)
        self._tweets_as_quotes(tree)
        return super().preclean(tree, names)

    @staticmethod
    def _tweets_as_quotes(tree: lxml_html.HtmlElement) -> None:
        """A static tweet (``div.tweet``: header with name and handle, text, photos, like counts) becomes
        ``<blockquote><p>text</p><p>— Name (<a href=tweet>@handle</a>)</p></blockquote>``.

        The quote is recorded as an embed (``mark_embed``): the Markdown and HTML keep it, the plain text
        does not. It is someone else's post that Substack draws from its own copy; a reader of the issue's
        text (and its word count, search and copy detection) gets the author's words. Readers built on
        Readability do the same (Omnivore leaves a placeholder where the tweet was).
        """
        for tweet in css("div.tweet")(tree):
            if tweet.getparent() is None or any(a.get("class") == "tweet" for a in tweet.iterancestors("div")):
                continue
            name = next((text_of(e) for e in css(".tweet-author-name")(tweet)), "")
            handle = next((text_of(e) for e in css(".tweet-author-handle, .tweet-author")(tweet)), "")
            links = [h for h in tweet.xpath(".//a/@href") if "/status/" in h]
            for chrome in css(".tweet-header, .tweet-footer, .tweet-photos-container, .tweet-ufi, .retweets")(tweet):
                remove_element(chrome)
            text = " ".join(t for t in (text_of(e) for e in css(".tweet-text, .quote-tweet")(tweet)) if t) \
                or text_of(tweet)
            if not text:
                remove_element(tweet)
                continue
            quote = lxml_html.Element("blockquote")
            etree.SubElement(quote, "p").text = text
            credit = etree.SubElement(quote, "p")
            credit.text = f"— {name} (" if name and handle else "— "
            anchor = etree.SubElement(credit, "a", href=clean_link(links[0].strip())) if links else None
            if anchor is not None:
                anchor.text = handle or name or "tweet"
            else:
                credit.text += handle or name
            if name and handle:
                (anchor if anchor is not None else credit).tail = ")"
            quote.tail = tweet.tail
            tweet.getparent().replace(tweet, quote)
            mark_embed(tree, text_of(quote))

    @staticmethod
    def _plain_footnote_numbers(tree: lxml_html.HtmlElement) -> None:
        """``…coffee.<a class="footnote-anchor">1</a>`` → ``…coffee.[1]``; the footnote's own number opens its text."""
        for anchor in css("a.footnote-anchor")(tree):
            if len(anchor) == 0 and (number := (anchor.text or "").strip()).isdigit():
                anchor.tag, anchor.text = "span", f"[{number}]"
                anchor.attrib.pop("href", None)
        for label in css("div.footnote > a.footnote-number")(tree):
            number = (label.text or "").strip()
            first = css("div.footnote-content > p")(label.getparent())
            if number.isdigit() and first:
                first[0].text = f"[{number}] " + (first[0].text or "").lstrip()
                remove_element(label)

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """A publication's archive API, with its sitemap and feed as fallbacks; a post, note or email is one issue."""
        parts = urlsplit(start_url)
        if _POST_PATH.match(parts.path) or _APP_ITEM_PATH.match(parts.path):
            return []
        if _NOT_PUBLICATION_HOST.match(parts.hostname or ""):
            return []
        if page is not None and (_dict((read_preloads(page) or {}).get("post")) or self._is_email(page)):
            return []
        origin = _origin(start_url)
        return [
            Listing(archive_api_url(origin, 0), API),
            Listing(f"{origin}/sitemap.xml", SITEMAP, fallback=True),
            Listing(f"{origin}/feed", FEED, fallback=True),
        ]

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == API:
            return self._read_archive_api(listing, body)
        if listing.kind == SITEMAP:
            return read_sitemap(listing, body, url, path_filter="/p/")
        return super().parse_listing(listing, body, url)

    @classmethod
    def _read_archive_api(cls, listing: Listing, body: bytes) -> ListingResult:
        """One archive API page: a JSON list of posts; the next page starts after the posts received."""
        data = json.loads(body)
        posts = data.get("posts") if isinstance(data, dict) else data
        if not isinstance(posts, list):
            raise ValueError(f"the archive API answered {type(data).__name__}, not a list of posts")
        origin = _origin(listing.url)
        issues = [found for found in (cls._found_issue(_dict(p), origin) for p in posts) if found]
        query = dict(parse_qsl(urlsplit(listing.url).query))
        offset = int(query.get("offset") or 0) + len(posts)
        following = []
        if posts and offset <= MAX_ARCHIVE_OFFSET:
            query["offset"] = str(offset)
            following = [Listing(urlunsplit(urlsplit(listing.url)._replace(query=urlencode(query))), API)]
        newsletter = next((name for name in (cls._publication_name(_dict(p)) for p in posts) if name), None)
        return ListingResult(issues=issues, next=following, newsletter=newsletter, home_url=origin + "/")

    @staticmethod
    def _found_issue(post: dict[str, Any], origin: str) -> FoundIssue | None:
        """A post of the API as an issue URL on the host being crawled, with the API's data as hints.

        ``canonical_url`` names the publication's custom domain; when the crawl started on another host
        (``<pub>.substack.com``), the same post is requested as ``/p/<slug>`` there, which Substack serves
        or redirects, so that the crawl stays on the start host.
        """
        canonical, slug = clean_text(post.get("canonical_url")), clean_text(post.get("slug"))
        if canonical and _origin(canonical) == origin:
            url = canonical
        elif slug:
            url = urljoin(origin + "/", f"p/{slug}")
        else:
            return None
        authors = _names(post.get("publishedBylines"))
        return FoundIssue(url, DiscoveryHints(
            title=clean_text(post.get("title")),
            author=", ".join(authors) or None,
            published_at=to_utc_iso(post.get("post_date")),
            source="api",
        ))

    @staticmethod
    def _publication_name(post: dict[str, Any]) -> str | None:
        """The publication's name as the API gives it: the byline's membership of this post's publication."""
        for byline in post.get("publishedBylines") or []:
            for membership in _dict(byline).get("publicationUsers") or []:
                publication = _dict(_dict(membership).get("publication"))
                name = clean_text(publication.get("name"))
                if name and publication.get("id") == post.get("publication_id"):
                    return name
        return None


ADAPTER = SubstackAdapter()
