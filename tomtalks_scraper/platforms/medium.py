"""Medium: user blogs, publications on ``medium.com``, ``*.medium.com`` and custom domains
(``../shared/docs/platforms.md`` §8; §1 for the member banner trafilatura keeps).

Why this adapter has code and not only selectors:

* **Detection**: custom-domain publications (``wtfeconomy.com``, ``betterprogramming.pub``) carry
  no Medium host, only Medium's app-link metas (``al:android:package = com.medium.reader``, the
  ``android-app://com.medium.reader/…`` alternate link, the iOS app id) and ``cdn-client.medium.com``
  scripts. Saved copies spell ``<meta content>`` as ``<meta value>`` (postlight fixtures), and Medium
  itself writes ``twitter:data1`` (reading time) with ``value=``: every meta is read both ways.
* **Discovery** (§8): the RSS feed (``medium.com/feed/@user``, ``medium.com/feed/<pub>``,
  ``<host>/feed``) holds only the ~10 latest stories, so for a publication the archive
  (``/archive`` → ``/archive/YYYY`` → ``/archive/YYYY/MM`` → ``/archive/YYYY/MM/DD``) is a primary
  listing too, read down to the leaves. Links carry Medium's ``?source=…`` tracking query, which
  the shared URL normaliser keeps; they are reduced to the bare post URL so that the feed and the
  archive name a post the same way.
* **Body**: Medium's chrome has no stable classes (atomic CSS such as ``class="fe ff fg"``), so
  besides the few stable hooks (``pw-*``, ``data-testid``) the byline, the "Member-only story" label
  and the meter banner ("You have 2 free member-only stories left this month.") are found by their
  text.
* **Metadata**: JSON-LD ``NewsArticle`` first: its ``headline`` carries " - Author - Medium" or
  " | Publication" suffixes (og:title does not), ``keywords`` mixes ``Tag:…`` with internal flags
  (``Lite:true``, ``LockedPostSource:…``) and ``isAccessibleForFree`` is the string ``"False"``.
  ``datePublished`` is taken over ``article:published_time``: on 3 of 4 corpus pages the meta holds
  a later re-publication date (§8 "Date pitfall"). Without JSON-LD the meta is trusted only when
  the byline shows the same day; otherwise the byline's day is stored (a bare date).
* **Access** (§8): member-only stories (``isAccessibleForFree: "False"``, ``article.meteredContent``,
  the "Member-only story" label or the meter banner) are ``paid_full`` when the whole text was served
  (guests get it while their meter lasts) and ``paid_preview`` when Medium's regwall text is on the
  page or the text is far shorter than Medium's own reading time says.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lxml import html as lxml_html
from parsel import Selector

from tomtalks_scraper.discovery.html_pages import feed_links
from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, FoundIssue, Listing, ListingResult, read_feed
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import (
    ARTICLE_TYPES,
    PageMetadata,
    clean_text,
    json_ld_objects,
    read_page_metadata,
)
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import (
    FREE,
    PAID_FULL,
    PAID_PREVIEW,
    PlatformAdapter,
    css,
    remove_element,
    text_of,
)
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import join_url

#: Hosts Medium serves stories from (custom domains are recognised by page markers instead).
_MEDIUM_HOST = re.compile(r"^(?:[\w-]+\.)*medium\.com$")
#: ``medium.com`` paths that are Medium's own pages, not a user or a publication.
_RESERVED_SEGMENTS = {
    "", "m", "p", "r", "me", "tag", "tags", "topic", "topics", "search", "feed", "plans", "membership",
    "about", "creators", "jobs-at-medium", "policy", "sitemap", "_", "new-story", "signin", "sign-in",
}
#: A story path: ``…/<slug>-<12 hex id>`` or ``/p/<id>`` (the id is the story's stable key).
_POST_PATH = re.compile(r"(?:-|^/p/|/p/)([0-9a-f]{12})/?$")
_ARCHIVE_PATH = re.compile(r"^(?P<base>.*?/archive)(?P<dates>(?:/\d{2,4}){0,3})/?$")
_BYLINE_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (\d{1,2}), (\d{4})\b")
_READING_TIME = re.compile(r"\b(\d+)\s*min read\b", re.I)
#: Medium's reading time counts 265 words a minute (plus image time, so it overestimates text).
_WORDS_PER_MINUTE = 265
#: Below this share of the words the reading time implies, a member-only text is a preview.
_FULL_TEXT_SHARE = 0.4
#: Medium's blurred lazy-loading placeholder (the real image is in the ``<noscript>`` next to it).
_PLACEHOLDER_IMAGE = re.compile(r"[?&]q=20\b|/max/\d{1,2}/")
_INTERNAL_KEYWORD = re.compile(r"^[A-Z][A-Za-z]+:")
_FEED_TITLE = (re.compile(r"^Stories by (.+) on Medium$"), re.compile(r"^(.+?) [-–] Medium$"))

#: Whole texts of Medium's interface labels, dropped wherever they stand alone in an element.
_UI_LABELS = {
    "member-only story", "listen", "share", "follow", "following", "top highlight", "sign in", "sign up",
    "get started", "open in app", "get unlimited access", "press enter or click to view image in full size",
    "--", "·", "featured", "follow publication",
}
#: The meter banner at the head of member-only stories read by guests (§1).
_METER_BANNER = re.compile(r"^You have \d+ free member-only stor(?:y|ies) left this month\b", re.I)
#: Text of Medium's regwall / upgrade wall, shown in place of the rest of a cut member-only story.
_REGWALL = re.compile(
    r"Create an account to read the full story|made this story available to Medium members only|"
    r"Read the full story with a free account|Upgrade to instantly unlock this story|"
    r"read all your free member-only stories|Become a member to read this story",
    re.I,
)
_MEMBER_ONLY_LABEL = re.compile(r"^\s*Member-only story\s*$", re.I)
#: Story paragraphs (2020+ ``data-selectable-paragraph``, 2022+ ``pw-post-body-paragraph``, legacy
#: ``graf``) and what is inside them: never chrome, whatever their text says.
_IN_STORY_TEXT = ("ancestor-or-self::*[@data-selectable-paragraph or contains(@class, 'pw-post-body-paragraph')"
                  " or contains(concat(' ', @class), ' graf')]")
_MAX_BANNER_CHARS = 300
_HEADINGS = ".//h1 | .//h2 | .//h3 | .//*[@data-selectable-paragraph] | .//p[contains(@class, 'graf')]"
#: A byline block is small: author, "Follow", date and reading time.
_MAX_BYLINE_CHARS = 160


def _meta(tree: lxml_html.HtmlElement, *keys: str) -> str | None:
    """A meta tag's value by ``name`` or ``property``, from ``content`` or ``value`` (both occur)."""
    for key in keys:
        for element in tree.xpath("//meta[@name=$key or @property=$key]", key=key):
            value = clean_text(element.get("content") or element.get("value"))
            if value:
                return value
    return None


def _news_article(tree: lxml_html.HtmlElement) -> dict[str, Any]:
    """The page's JSON-LD article object (Medium writes one ``NewsArticle``), or ``{}``."""
    for obj in json_ld_objects(tree):
        kinds = obj.get("@type", [])
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if {str(kind).lower() for kind in kinds} & ARTICLE_TYPES:
            return obj
    return {}


def _person_names(value: Any) -> list[str]:
    """Names from a JSON-LD person (object, string or list), never a URL or a button label."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = clean_text(item.get("name") if isinstance(item, dict) else item)
        if name and name.lower() not in _UI_LABELS and not name.startswith(("http://", "https://", "/")):
            names.append(name)
    return names


def _headline(value: Any, authors: list[str], publication: str | None) -> str | None:
    """JSON-LD ``headline`` without Medium's " - Author - Medium" / " | Publication" decorations."""
    title = clean_text(value)
    if not title:
        return None
    noise = {"medium", *(a.lower() for a in authors), *([publication.lower()] if publication else [])}
    for separator in (" - ", " | "):
        parts = title.split(separator)
        while len(parts) > 1 and (parts[-1].lower() in noise or parts[-1].lower().startswith("by ")):
            parts.pop()
        title = separator.join(parts)
    return title


def _title_tag_publication(tree: lxml_html.HtmlElement, title: str | None) -> str | None:
    """The publication named in Medium's ``<meta name=title>`` decorations: "Title | by Author |
    Publication | Medium" (2020+), "Title | Publication", "Title - Publication" (2016)."""
    full = _meta(tree, "title") or ""
    if title and full.startswith(title) and full[len(title):].startswith((" | ", " - ")):
        parts = re.split(r" \| | - ", full[len(title) + 3:])
    else:
        parts = full.split(" | ")[1:]
    parts = [p.strip() for p in parts if p.strip() and p.strip() != "Medium" and not p.strip().startswith("by ")]
    return parts[-1] if parts else None


def post_id(url: str) -> str | None:
    """The 12-hex story id of a Medium story URL, ``None`` for any other URL."""
    match = _POST_PATH.search(urlsplit(url).path)
    return match.group(1) if match else None


def _bare_post_url(href: str | None, base_url: str) -> str | None:
    """A story link as an issue URL: absolute, without Medium's ``?source=…`` query or fragment."""
    if not href:
        return None
    try:
        parts = urlsplit(join_url(base_url, href.strip()))
    except ValueError:  # "http://[oops/": not a story link
        return None
    if parts.scheme not in ("http", "https") or not _POST_PATH.search(parts.path):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _reading_minutes(tree: lxml_html.HtmlElement) -> int | None:
    """Medium's own reading time: ``twitter:data1`` ("18 min read"), else the visible byline."""
    candidates = [_meta(tree, "twitter:data1")]
    candidates += [text_of(e) for e in css('[data-testid="storyReadTime"], .pw-reading-time')(tree)[:1]]
    for candidate in candidates:
        match = _READING_TIME.search(candidate or "")
        if match:
            return int(match.group(1))
    return None


def _visible_date(tree: lxml_html.HtmlElement) -> str | None:
    """The byline's publication date ("Aug 8, 2016", "Oct 15, 2015 · 18 min read") as ``YYYY-MM-DD``."""
    texts = [text_of(e) for e in css('.pw-published-date, [data-testid="storyPublishDate"]')(tree)]
    for node in tree.xpath("//body//text()[contains(., 'min read')]"):
        holder = node.getparent()
        holder = holder.getparent() if holder is not None and node.is_tail else holder
        if holder is not None:
            texts.append(text_of(holder.getparent() if holder.getparent() is not None else holder))
    for text in texts:
        if len(text) > _MAX_BYLINE_CHARS:
            continue
        if match := _BYLINE_DATE.search(text):
            try:
                day = datetime.strptime(" ".join(match.groups()), "%b %d %Y")
            except ValueError:
                continue
            return to_utc_iso(day.date().isoformat())
    return None


def _first_published(tree: lxml_html.HtmlElement) -> str | None:
    """The first-publication time without JSON-LD: ``article:published_time`` only when the byline
    shows the same day. Medium rewrites that meta on re-publication (§8 "Date pitfall": 2018-01-19
    in the meta of a story whose byline says Aug 8, 2016); the byline keeps the first date."""
    declared = to_utc_iso(_meta(tree, "article:published_time"))
    shown = _visible_date(tree)
    if shown and declared and not declared.startswith(shown):
        return shown
    return declared or shown


class MediumAdapter(PlatformAdapter):
    name = "medium"
    url_patterns = (r"^https?://(?:[\w-]+\.)*medium\.com(?::\d+)?(?:/|$)",)
    #: Medium's app-link metas and script CDN: present on every Medium-served page, custom domains
    #: included, and on no other site (a copied article keeps miro.medium.com images, not these).
    page_markers = (
        'meta[property="al:android:package"][content="com.medium.reader"]',
        'meta[name="al:android:package"][value="com.medium.reader"]',
        'link[rel="alternate"][href^="android-app://com.medium.reader/"]',
        'meta[name="twitter:app:id:iphone"][content="828256236"]',
        'meta[property="al:ios:app_store_id"][content="828256236"]',
        'script[src*="//cdn-client.medium.com/"]',
        'link[href*="//cdn-client.medium.com/"]',
    )
    body_selectors = (
        "article.meteredContent",  # member-only stories, 2020+
        "article.postArticle div.postArticle-content",  # 2015-2019 (legacy "graf" markup)
        "article.postArticle",
        'article:not([data-testid="post-preview"])',  # 2020+ free stories
        "div.postArticle-content",
        'section[data-field="body"]',
    )
    boilerplate = (
        '[id^="lo-highlight-meter"]',  # the meter banner
        "header.pw-post-byline-header",  # 2022: author, Follow, date, reading time, share buttons
        ".speechify-ignore",  # 2023+: byline, clap / response / bookmark / listen / share bar
        '[data-testid="post-preview"]',
        '[data-testid*="Clap"]',
        '[data-testid*="Bookmark"]',
        '[data-testid*="Share"]',
        '[data-testid*="Response"]',
        '[data-testid="authorPhoto"]',
        '[data-testid="authorName"]',
        '[data-testid="storyReadTime"]',
        '[data-testid="storyPublishDate"]',
        '[data-testid="audioPlayButton"]',
        '[data-testid="close-button"]',
        '[data-testid="publicationName"]',
        ".pw-author",
        ".pw-published-date",
        ".pw-reading-time",
        ".pw-multi-vote-icon",
        ".pw-multi-vote-count",
        ".pw-responses-count",
        'a[href*="medium.com/plans"]',
        'a[href*="/m/signin"]',
        'a[href*="post_regwall"]',
        "button",
        "nav",
        ".postMetaHeader",  # legacy layouts
        ".postMetaInline",
        ".postFooter",
        ".supplementalPostContent",
        ".js-responsesWrapper",
        ".js-postShareWidget",
        "footer.post-footer",
        "article footer",
    )
    boilerplate_headings = (
        r"More from .{1,80}",
        r"Recommended from Medium",
        r"More From Medium",
        r"Responses \(\d+\)",
        r"No responses yet",
        r"Written by .{1,80}",
        r"Published in .{1,80}",
        r"Get an email whenever .{1,120}",
        r"Sign up to discover human stories.{0,80}",
        r"Create an account to read the full story\.?",  # the regwall's blocks
        r"Or, continue in mobile web",
        r"Already have an account\?(?: Sign in)?",
        r"Read the best stories from industry leaders on Medium\.?",
    )
    redirect_wrappers = ((r"^https?://(?:[\w-]+\.)*medium\.com/r/?\?", "url"),)

    # Metadata ------------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """JSON-LD ``NewsArticle`` and Medium's metas first, then the shared chain."""
        post = _news_article(tree)
        meta = PageMetadata(is_article=bool(post) or (_meta(tree, "og:type") or "").lower() == "article")
        meta.authors = _person_names(post.get("author")) or _person_names(_meta(tree, "author"))
        if not meta.authors:
            meta.authors = _person_names([text_of(e) for e in css('[data-testid="authorName"]')(tree)[:1]])
        publisher = post.get("publisher")
        publication = _person_names(publisher.get("name") if isinstance(publisher, dict) else None)
        site = _meta(tree, "og:site_name")
        title = (_meta(tree, "og:title", "twitter:title")
                 or next((text_of(e) for e in css('[data-testid="storyTitle"], h1.pw-post-title')(tree)), None))
        meta.newsletter = next((p for p in publication if p != "Medium"), None) or (
            site if site and site != "Medium" else None) or _title_tag_publication(tree, title)
        if not meta.newsletter and meta.authors:
            meta.newsletter = meta.authors[0]  # a personal blog: its stories are the author's
        meta.title = title or _headline(post.get("headline"), meta.authors, meta.newsletter)
        meta.published_at = to_utc_iso(post.get("datePublished")) or _first_published(tree)
        meta.updated_at = to_utc_iso(post.get("dateModified")) or to_utc_iso(_meta(tree, "article:modified_time"))
        keywords = post.get("keywords") if isinstance(post.get("keywords"), list) else []
        meta.tags = [k[4:].strip() for k in keywords if isinstance(k, str) and k.startswith("Tag:") and k[4:].strip()]
        subtitle = css(".pw-subtitle-paragraph, .graf--subtitle")(tree)
        meta.subtitle = (text_of(subtitle[0]) or None) if subtitle else None
        canonical = tree.xpath('//link[@rel="canonical"]/@href')
        meta.canonical_url = clean_text(canonical[0]) if canonical else _meta(tree, "og:url")
        meta.site_name = site
        meta.description = _meta(tree, "description", "og:description")
        meta.image = _meta(tree, "og:image", "twitter:image:src")
        if "isAccessibleForFree" in post:
            meta.accessible_for_free = str(post["isAccessibleForFree"]).strip().lower() not in ("false", "0", "no")
        fallback = read_page_metadata(tree)
        fallback.tags = [t for t in fallback.tags if not _INTERNAL_KEYWORD.match(t)]
        meta.fill_from(fallback)
        return meta

    # Access --------------------------------------------------------------------------------------

    def access(self, tree: lxml_html.HtmlElement, meta: PageMetadata, names: PageNames | None = None) -> str:
        """``free`` unless member-only; then ``paid_full`` or ``paid_preview`` by what was served."""
        body = next((found[0] for s in self.body_selectors if (found := css(s)(tree))), None)
        member_only = (
            meta.accessible_for_free is False
            or bool(css("article.meteredContent")(tree))
            or self._has_text(tree, _METER_BANNER)
            # the story's own label, not the star on a recommended story's card
            or (body is not None and self._has_text(body, _MEMBER_ONLY_LABEL, "[not(ancestor::*[@data-testid])]"))
        )
        if not member_only:
            return FREE
        if self._has_text(tree, _REGWALL):
            return PAID_PREVIEW
        minutes = _reading_minutes(tree)
        words = len(text_of(body).split()) if body is not None else 0
        if minutes and words < minutes * _WORDS_PER_MINUTE * _FULL_TEXT_SHARE:
            return PAID_PREVIEW
        return PAID_FULL

    @staticmethod
    def _has_text(tree: lxml_html.HtmlElement, pattern: re.Pattern[str], condition: str = "") -> bool:
        """Whether a text node of ``tree`` (a page or an element) matches ``pattern``."""
        return any(pattern.search(text) for text in tree.xpath(f".//text()[normalize-space()]{condition}"))

    # Body ----------------------------------------------------------------------------------------

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Drop the chrome only its text identifies (labels, meter banner, byline), then the rest.

        Image captions become paragraphs: on Medium the author writes them as part of the story (an
        editable line under each image), and trafilatura 2.x drops a ``<figcaption>``'s own text.
        """
        for caption in tree.iter("figcaption"):
            caption.tag = "p"
        self._remove_labels(tree)
        self._remove_bylines(tree)
        self._remove_title_heading(tree)
        self._promote_noscript_images(tree)
        return super().preclean(tree, names)

    @staticmethod
    def _remove_labels(tree: lxml_html.HtmlElement) -> None:
        """Remove the elements whose whole text is an interface label ("Member-only story", "Follow",
        "Listen", "Share", "--") or the meter banner, with the wrappers holding nothing else."""
        for node in tree.xpath("//body//text()[normalize-space()]"):
            text = " ".join(str(node).split())
            banner = bool(_METER_BANNER.match(text))
            if not banner and text.lower() not in _UI_LABELS:
                continue
            element = node.getparent()
            if element is not None and node.is_tail:
                element = element.getparent()
            if element is None or element.getparent() is None or element.xpath(_IN_STORY_TEXT):
                continue
            own = text_of(element)
            if banner:
                whole = bool(_METER_BANNER.match(own)) and len(own) < _MAX_BANNER_CHARS
            else:
                whole = own.lower() == text.lower()
            if not whole:
                continue
            while (parent := element.getparent()) is not None and parent.tag not in ("body", "article"):
                if text_of(parent) != own:
                    break
                element = parent
            remove_element(element)

    @staticmethod
    def _remove_title_heading(tree: lxml_html.HtmlElement) -> None:
        """Drop the story's own title heading (``graf--title``, ``pw-post-title``, the first ``h1``): it
        repeats og:title, and when a cover image comes first the shared first-line check misses it."""
        title = " ".join((_meta(tree, "og:title", "twitter:title") or "").split())
        for heading in tree.xpath("//body//*[self::h1 or self::h2 or self::h3]")[:4]:
            if title and " ".join(text_of(heading).split()) == title:
                remove_element(heading)
                return

    @staticmethod
    def _promote_noscript_images(tree: lxml_html.HtmlElement) -> None:
        """Put each lazy image's real ``<noscript><img>`` in place of its blurred 60px placeholder
        (``max/60/…?q=20``) and the empty ``<img>`` the script would fill (§8)."""
        for noscript in list(tree.iter("noscript")):
            images = noscript.xpath(".//img[@src]")
            if not images or noscript.getparent() is None:
                continue
            container = next(iter(noscript.xpath("ancestor::figure[1]")), noscript.getparent())
            for placeholder in container.xpath(".//img[not(ancestor::noscript)]"):
                if not placeholder.get("src") or _PLACEHOLDER_IMAGE.search(placeholder.get("src", "")):
                    remove_element(placeholder)
            if not container.xpath(".//img[not(ancestor::noscript)]"):  # a rendered snapshot has it already
                for image in images:
                    noscript.addprevious(image)
            remove_element(noscript)

    @staticmethod
    def _remove_bylines(tree: lxml_html.HtmlElement) -> None:
        """Remove each "Author · Mar 17, 2015 · 18 min read" block: the largest small ancestor of a
        reading-time text that holds no heading or story paragraph."""
        for node in tree.xpath("//body//text()[contains(., 'min read')]"):
            holder = node.getparent()  # for a tail (after a React ``<!-- -->``), the element before it
            if holder is not None and node.is_tail:
                holder = holder.getparent()
            if holder is None or holder.getparent() is None or not _READING_TIME.search(text_of(holder)):
                continue
            if holder.xpath(_IN_STORY_TEXT):  # "a 5 min read" written in the story itself
                continue
            block = holder
            while True:
                parent = block.getparent()
                if parent is None or parent.tag in ("body", "article", "html"):
                    break
                if len(text_of(parent)) > _MAX_BYLINE_CHARS or parent.xpath(_HEADINGS):
                    break
                block = parent
            if block.getparent() is not None and not block.xpath(_HEADINGS) and block.tag not in ("p", "li"):
                remove_element(block)

    # Discovery -----------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """Feed plus archive (or profile page) for a user or publication; nothing for one story."""
        parts = urlsplit(start_url)
        if post_id(start_url) or (page is not None and self._is_story_page(page)):
            return []
        origin = f"{parts.scheme}://{parts.netloc}"
        host = (parts.hostname or "").lower()
        segments = [s for s in parts.path.split("/") if s]
        if host in ("medium.com", "www.medium.com"):
            if not segments or segments[0].lower() in _RESERVED_SEGMENTS:
                return []
            owner = segments[0]
            if owner.startswith("@"):
                return [Listing(f"{origin}/feed/{owner}", FEED), Listing(f"{origin}/{owner}", ARCHIVE)]
            return [Listing(f"{origin}/feed/{owner}", FEED), Listing(f"{origin}/{owner}/archive", ARCHIVE)]
        if not _MEDIUM_HOST.match(host) and page is None:
            return []
        announced = [u for u in (feed_links_of(page, start_url) if page is not None else [])
                     if urlsplit(u).hostname == parts.hostname]
        feed = announced[0] if announced else f"{origin}/feed"
        if page is not None and self._is_profile_page(page):
            return [Listing(feed, FEED), Listing(f"{origin}/", ARCHIVE)]
        return [Listing(feed, FEED), Listing(f"{origin}/archive", ARCHIVE)]

    @staticmethod
    def _is_story_page(page: lxml_html.HtmlElement) -> bool:
        return (_meta(page, "og:type") or "").lower() == "article"

    @staticmethod
    def _is_profile_page(page: lxml_html.HtmlElement) -> bool:
        """A user's page (``og:type`` profile) has no archive; its stories are listed on the page."""
        return (_meta(page, "og:type") or "").lower() == "profile" or _meta(page, "profile:username") is not None

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == FEED:
            return self._read_feed(listing, body, url)
        if listing.kind == ARCHIVE:
            return self._read_archive(body, url)
        return super().parse_listing(listing, body, url)

    @staticmethod
    def _read_feed(listing: Listing, body: bytes, url: str) -> ListingResult:
        """The shared feed reader, with bare story URLs and the feed title without "- Medium"."""
        result = read_feed(listing, body, url)
        issues = []
        for found in result.issues:
            bare = _bare_post_url(found.url, url)
            issues.append(FoundIssue(bare or found.url, found.hints))
        result.issues = issues
        title = result.newsletter or ""
        for pattern in _FEED_TITLE:
            if match := pattern.match(title):
                result.newsletter = match.group(1).strip()
                break
        if result.home_url:
            home = urlsplit(result.home_url)
            result.home_url = urlunsplit((home.scheme, home.netloc, home.path or "/", "", ""))
        return result

    @staticmethod
    def _read_archive(body: bytes, url: str) -> ListingResult:
        """Story cards of an archive (or profile) page, and the next level of its date buckets.

        Only the newsletter's own stories count: same host, and on ``medium.com`` the same owner
        path (``/@user/…``, ``/<publication>/…``), since recommendations link other blogs' stories.
        """
        page = lxml_html.document_fromstring(body.decode("utf-8", errors="replace") or "<html></html>")
        here = urlsplit(url)
        owner = _owner_prefix(url)
        found: dict[str, FoundIssue] = {}
        for anchor in page.xpath("//body//a[@href]"):
            story = _bare_post_url(anchor.get("href"), url)
            key = post_id(story) if story else None
            if not story or not key or key in found:
                continue
            target = urlsplit(story)
            if target.hostname != here.hostname or (owner and not target.path.startswith(owner)):
                continue
            found[key] = FoundIssue(story, _card_hints(anchor))
        return ListingResult(issues=list(found.values()), next=_deeper_buckets(page, url))


def _owner_prefix(url: str) -> str | None:
    """``/@user/`` or ``/<publication>/`` for a ``medium.com`` listing; ``None`` on a blog's own host."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in ("medium.com", "www.medium.com"):
        return None
    segments = [s for s in parts.path.split("/") if s]
    return f"/{segments[0]}/" if segments else None


def feed_links_of(page: lxml_html.HtmlElement, base_url: str) -> list[str]:
    """Feeds a page announces (the shared reader takes a parsel ``Selector``)."""
    return feed_links(Selector(root=page), base_url)


def _card_hints(anchor: lxml_html.HtmlElement) -> DiscoveryHints:
    """Title, author and date from the archive card around a story link (legacy ``postArticle`` cards)."""
    cards = anchor.xpath("ancestor-or-self::*[@data-post-id or contains(concat(' ', @class, ' '), ' postArticle ')"
                         " or self::article][1]")
    if not cards:
        return DiscoveryHints(source="archive")
    card = cards[0]
    titles = card.xpath(".//*[contains(@class, 'graf--title')] | .//h3 | .//h2")
    authors = [text_of(a) for a in card.xpath(".//a[@data-action='show-user-card'] | .//*[@data-testid='authorName']")]
    times = card.xpath(".//time/@datetime")
    return DiscoveryHints(
        title=text_of(titles[0]) if titles else None,
        author=next((a for a in authors if a), None),  # the first user link is the avatar image
        published_at=to_utc_iso(times[0]) if times else None,
        source="archive",
    )


def _deeper_buckets(page: lxml_html.HtmlElement, url: str) -> list[Listing]:
    """Archive pages one date level below ``url`` (``/archive`` → years → months → days)."""
    here = _ARCHIVE_PATH.match(urlsplit(url).path)
    if not here:
        return []
    depth = here.group("dates").count("/")
    host = urlsplit(url).hostname
    following: dict[str, Listing] = {}
    for href in page.xpath("//body//a/@href"):
        try:
            target = urlsplit(join_url(url, href.strip()))
            target_host = target.hostname
        except ValueError:  # a link that cannot be read is no archive page
            continue
        match = _ARCHIVE_PATH.match(target.path)
        if (target_host != host or not match or match.group("base") != here.group("base")
                or match.group("dates").count("/") != depth + 1
                or not match.group("dates").startswith(here.group("dates"))):
            continue
        bucket = urlunsplit((target.scheme, target.netloc, target.path.rstrip("/"), "", ""))
        following.setdefault(bucket, Listing(bucket, ARCHIVE))
    return list(following.values())


ADAPTER = MediumAdapter()
