"""Buttondown: archives at ``buttondown.com/<user>`` (or a custom "hosting domain"), emails at
``…/<user>/archive/<slug>/`` (the docs also write ``/archives/``; the old host ``buttondown.email``
still appears in links).

Reference: ``shared/docs/platforms.md`` §6 (Buttondown), itself from Buttondown's docs repo: the
archive classes documented for custom CSS (``.subject``, ``.email-detail-date``, ``.newsletter-name``,
``.email-body``; index ``.email-list .email``; chrome ``.header-navigation*``, ``.epilogue``,
``.related-emails-widget``, ``.social-networks``, subscribe widgets) and the paywall classes of the
stock stylesheets (``.email-detail__body--paywalled``, ``.nouveau-paywall``, ``.paywall``). No real
Buttondown archive page is in the corpus: the fixtures are modelled on those docs.

Detection uses only archive markup. A blog that embeds a Buttondown subscribe form
(``form.embeddable-buttondown-form`` posting to ``buttondown.email/api/emails/embed-subscribe/…``,
[S:buttondown/thevaluable-dev-…]) is not a Buttondown page and stays generic.

Discovery, in order:

1. The public JSON API ``GET /v1/public/emails/<user>?page=N`` → ``{results, next, previous, count}``,
   items with ``subject``, ``slug``, ``publish_date``, ``absolute_url`` (no key needed). Its base is
   ``https://api.buttondown.com`` for ``buttondown.com`` / ``buttondown.email`` archives. A host that
   serves Buttondown's archive under ``/<user>/`` (its pages link to ``/<user>/archive/…``) but is not
   buttondown.com is a mirror of it (a proxy, or the local test site on 127.0.0.1, where no second host
   exists): its API is taken at the same origin. A custom hosting domain serves the archive at its
   root and has no user in the path; the API host would be off-site for the crawl (and would need the
   username), so such archives use (2).
2. The archive index ``…/archive/`` (``.email-list .email``, Django-paged ``?page=N``): primary on
   custom domains, fallback elsewhere.
3. The RSS feed ``…/rss`` (30 items by default): fallback.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import html as lxml_html
from parsel import Selector

from tomtalks_scraper.discovery.html_pages import pagination_links
from tomtalks_scraper.discovery.listings import API, ARCHIVE, FEED, FoundIssue, Listing, ListingResult
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import PageMetadata, clean_text, read_page_metadata
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import PlatformAdapter, css, text_of
from tomtalks_scraper.urls import join_url

#: Buttondown's own hosts (the archive lives under ``/<user>`` there).
BUTTONDOWN_HOSTS = {"buttondown.com", "www.buttondown.com", "buttondown.email", "www.buttondown.email"}
API_BASE = "https://api.buttondown.com"
#: An email page: ``…/archive/<slug>`` or ``…/archives/<slug>``.
ISSUE_PATH = re.compile(r"/archives?/[^/]+/?$")
#: First path segments on buttondown.com that are Buttondown's own pages, not newsletters.
_RESERVED = "api|settings|login|register|features|pricing|legal|static|docs|changelog|support"
#: The visible date of an email page ("May 14, 2024"); read only in these exact spellings.
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d", "%d %B %Y")


class ButtondownAdapter(PlatformAdapter):
    name = "buttondown"
    related_domains = ("buttondown.com", "buttondown.email")
    url_patterns = (rf"^https?://(?:www\.)?buttondown\.(?:com|email)/(?!(?:{_RESERVED})(?:/|$))[\w.-]+",)
    page_markers = (
        ".email-detail__header",
        ".email-body-container .email-body",
        ".public-archive .email-list",
        "html:has(.email-list .email):has(.email-metadata)",
        "html:has(.header-navigation-container):has(.subscribe-container)",
    )
    body_selectors = (".email-detail .email-body", ".email-body")
    boilerplate = (
        ".announcement-bar",
        ".header-navigation-container",
        ".email-body .buttondown-custom-button",
        ".email-body .subscribe_button",
        ".email-body form",
        ".nouveau-paywall",
        ".epilogue",
        ".related-emails-widget",
        ".comment",
        ".comment-input",
        ".social-networks-container",
        ".share-form",
        ".subscribe-form",
        "#subscribe-form",
        ".subscription-form-fallback",
        ".email-detail__footer",
        ".footer",
    )
    paywall_markers = (
        ".nouveau-paywall",
        ".email-detail__body--paywalled",
        ".email-body.paywall",
        ".email-body-container .paywall",
    )

    # Metadata ----------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """The email's header (subject, description, newsletter name, date), then JSON-LD and meta tags.

        JSON-LD's ``datePublished`` has the time of day, the visible date only the day: it wins.
        """
        header = (css(".email-detail__header")(tree) or [tree])[0]
        meta = PageMetadata(
            title=_first_text(header, ".subject"),
            subtitle=_first_text(header, ".description"),
            newsletter=_first_text(tree, ".newsletter-name"),
            authors=[name for name in (text_of(e) for e in css(".author-name")(header)) if name],
            published_at=_visible_date(tree),
        )
        declared = read_page_metadata(tree)
        meta.published_at = declared.published_at or meta.published_at
        meta.fill_from(declared)
        return meta

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """The public API when it is reachable on the crawl's host, else the archive index; RSS last."""
        parts = urlsplit(start_url)
        if ISSUE_PATH.search(parts.path) or _is_email_page(page):
            return []
        base, user = _archive_base(start_url, page)
        archive_url = start_url if page is not None and css(".email-list .email")(page) else f"{base}/archive/"
        feed = Listing(f"{base}/rss", FEED, fallback=True)
        api = _api_url(start_url, user)
        if api is None:
            return [Listing(archive_url, ARCHIVE), feed]
        return [Listing(api, API), Listing(archive_url, ARCHIVE, fallback=True), feed]

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == API:
            return _read_api_page(body, url)
        if listing.kind == ARCHIVE:
            return _read_archive_page(body, url)
        return super().parse_listing(listing, body, url)


# Metadata helpers ------------------------------------------------------------------------------


def _first_text(root: lxml_html.HtmlElement, selector: str) -> str | None:
    found = css(selector)(root)
    return clean_text(text_of(found[0])) if found else None


def _visible_date(tree: lxml_html.HtmlElement) -> str | None:
    """``.email-detail-date``: its ``datetime`` attribute, else its text in one of a few exact spellings."""
    found = css(".email-detail-date")(tree)
    if not found:
        return None
    attributes = found[0].xpath("./@datetime | .//time/@datetime")
    if attributes:
        return to_utc_iso(attributes[0])
    text = text_of(found[0])
    for spelling in _DATE_FORMATS:
        try:
            return datetime.strptime(text, spelling).date().isoformat()
        except ValueError:
            continue
    return None


# Discovery helpers -----------------------------------------------------------------------------


def _is_email_page(page: lxml_html.HtmlElement | None) -> bool:
    """A single email on a URL of unusual shape: it has a body and no list of emails."""
    return page is not None and bool(css(".email-body")(page)) and not css(".email-list")(page)


def _archive_base(start_url: str, page: lxml_html.HtmlElement | None) -> tuple[str, str | None]:
    """The archive's root URL, and the newsletter's username when the archive lives under ``/<user>``.

    On buttondown.com the first path segment is the username. Elsewhere it is taken as one only when
    the page links under it (``/<user>/archive/…``, as Buttondown's navigation does): a mirror of
    buttondown.com. A custom hosting domain serves the archive at its root.
    """
    parts = urlsplit(start_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    segments = [s for s in parts.path.split("/") if s]
    candidate = segments[0] if segments and segments[0] not in ("archive", "archives", "rss") else None
    if candidate and (parts.hostname or "") in BUTTONDOWN_HOSTS:
        return f"{origin}/{candidate}", candidate
    if candidate and page is not None:
        for href in page.xpath("//a/@href"):
            try:
                link = urlsplit(join_url(start_url, href.strip()))
            except ValueError:  # a link that cannot be read is no archive link
                continue
            if link.netloc == parts.netloc and link.path.startswith(f"/{candidate}/"):
                return f"{origin}/{candidate}", candidate
    return origin, None


def _api_url(start_url: str, user: str | None) -> str | None:
    """Where the public API lists this newsletter's emails (see the module docstring), or ``None``."""
    if user is None:
        return None
    parts = urlsplit(start_url)
    base = API_BASE if (parts.hostname or "") in BUTTONDOWN_HOSTS else f"{parts.scheme}://{parts.netloc}"
    return f"{base}/v1/public/emails/{user}"


def _archive_url_of(api_url: str, item: dict[str, Any]) -> str | None:
    """An email's archive URL: ``absolute_url`` as the API gives it, else built from its ``slug``."""
    if isinstance(item.get("absolute_url"), str) and item["absolute_url"].startswith(("http://", "https://")):
        return item["absolute_url"]
    slug = item.get("slug")
    match = re.search(r"/v1/public/emails/([^/?#]+)", api_url)
    if not slug or not match:
        return None
    parts = urlsplit(api_url)
    host = "buttondown.com" if parts.netloc == urlsplit(API_BASE).netloc else parts.netloc
    return f"{parts.scheme}://{host}/{match.group(1)}/archive/{slug}/"


def _read_api_page(body: bytes, url: str) -> ListingResult:
    """One page of ``/v1/public/emails/<user>``: its emails, and the ``next`` page until it is null."""
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError("the Buttondown API page has no 'results' list")
    issues = []
    for item in data["results"]:
        link = _archive_url_of(url, item) if isinstance(item, dict) else None
        if link:
            hints = DiscoveryHints(title=clean_text(item.get("subject")),
                                   published_at=to_utc_iso(item.get("publish_date")), source="api")
            issues.append(FoundIssue(link, hints))
    following = data.get("next")
    following = join_url(url, following.strip()) if isinstance(following, str) and following.strip() else None
    return ListingResult(issues=issues, next=[Listing(following, API)] if following else [])


def _read_archive_page(body: bytes, url: str) -> ListingResult:
    """Email links of the archive index (``.email-list``) and the next of its pages ("Older", ``?page=N+1``)."""
    page = Selector(text=body.decode("utf-8", errors="replace"))
    links = []
    for href in page.css(".email-list a::attr(href)").getall():
        link = join_url(url, href.strip()).split("#")[0]
        try:
            path = urlsplit(link).path
        except ValueError:  # a link that cannot be read is no email of the archive
            continue
        if ISSUE_PATH.search(path) and link not in links:
            links.append(link)
    current = _page_number(url)
    following = [link for link in pagination_links(page, url) if _page_number(link) > current]
    return ListingResult(
        issues=[FoundIssue(link, DiscoveryHints(source="archive")) for link in links],
        next=[Listing(following[0], ARCHIVE)] if following else [],
    )


def _page_number(url: str) -> int:
    """The ``?page=N`` of an archive index URL (1 without one): only later pages are followed."""
    value = dict(parse_qsl(urlsplit(url).query)).get("page", "1")
    return int(value) if value.isdigit() else 1


ADAPTER = ButtondownAdapter()
