"""Mailchimp campaign archives: ``us<N>.campaign-archive.com/?u=<user>&id=<campaign>``,
``mailchi.mp/<account>/<slug>`` and ``eepurl.com/<code>`` short links.

Reference: ``shared/docs/platforms.md`` §7 (Mailchimp campaign archives).

* **Body.** A campaign page is the email's HTML. Current ("mcn") templates wrap everything in
  ``#bodyTable``, with the body in ``#templateBody`` (``.mcnTextContent`` blocks); the classic template
  [S:mailchimp/psnc-item-*.campaign.html] has ``#backgroundTable > #templateContainer`` and the body in
  ``.bodyContent``. The archive page adds the "awesomebar" (``#awesomewrap``). Chrome removed before
  trafilatura: the awesomebar, the preheader ("View this email in your browser"), the footer
  (unsubscribe / update-preferences links, copyright, mailing address), share and follow blocks.
* **Metadata.** ``<title>`` / ``og:title`` is the subject. The page carries no date and no author: the
  date comes from discovery (the index line's ``MM/DD/YYYY``, the feed's ``pubDate``).
* **Access.** Campaign archives are public or hidden, never paywalled: always ``free``.
* **Links.** Click tracking goes through ``*.list-manage.com/track/click?u=…&id=…&e=…``: the target is
  only known to Mailchimp's server, so those links are kept as they are (no redirect wrapper).

Discovery from the list's archive home ``/home/?u=<user>&id=<list>`` ("Past Issues"): its
``#archive-list li.campaign`` lines ("03/30/2023 - <a …>Subject</a>") list every campaign the owner
did not hide, with their send dates, on the campaign-archive host itself; that is the primary
listing. The list's RSS feed ``/feed?u=<user>&id=<list>`` (channel "<List> Archive Feed", items with
``pubDate`` and the whole HTML in ``content:encoded``) holds only recent campaigns and links them on
``mailchi.mp``: it is the fallback, read when the index lists nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, FoundIssue, Listing, ListingResult, read_feed
from tomtalks_scraper.extraction.metadata import clean_text
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import PlatformAdapter, css, remove_element, text_of
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import join_url

#: One line of the archive index: "03/30/2023 - " before the campaign's link.
_INDEX_DATE = re.compile(r"^\s*(\d{2})/(\d{2})/(\d{4})\s*-")
#: Lines of Mailchimp's email chrome, matched against an element's whole text.
CHROME_LINES = (
    r"View this email in your browser\.?",
    r"Why did I get this\?.*",
    r"Want to change how you receive these emails\?.*",
    r"You can update your preferences or unsubscribe from this list\.?",
    r"(?:unsubscribe from this list|update subscription preferences)(?:\s*(?:\||or)\s*"
    r"(?:unsubscribe from this list|update subscription preferences))*",
    r"Our mailing address is:.*",
    r"Copyright ©.{0,120}All rights reserved\.?",
    r"You are receiving this (?:e-?mail|newsletter) because.{0,200}",
)
_CHROME = re.compile("|".join(f"(?:{line})" for line in CHROME_LINES), re.I | re.S)
_CHROME_MAX_CHARS = 400
_BLOCK_TAGS = ("div", "p", "table", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_FEED_TITLE_SUFFIX = re.compile(r"\s+Archive Feed$", re.I)


class MailchimpAdapter(PlatformAdapter):
    name = "mailchimp"
    related_domains = ("campaign-archive.com", "mailchi.mp", "eepurl.com")
    url_patterns = (
        r"^https?://(?:us\d+\.)?campaign-archive\d*\.com/",
        r"^https?://mailchi\.mp/",
        r"^https?://eepurl\.com/",
    )
    page_markers = (
        "#awesomewrap",  # the archive bar Mailchimp adds to campaign pages
        "html:has(#templatePreheader):has(#templateFooter)",
        "html:has(#bodyTable):has(.mcnTextContent)",
        "#archive-list li.campaign",  # the list's archive home
    )
    body_selectors = ("#bodyTable", "#templateBody", ".bodyContent")
    boilerplate = (
        "#awesomewrap",
        "#templatePreheader",
        ".preheaderContent",
        ".mcnPreviewText",
        "#templateFooter",
        ".footerContent",
        ".mcnShareBlock",
        ".mcnFollowBlock",
    )

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Drop Mailchimp's chrome lines wherever a custom template put them, then the shared steps.

        Templates are tables, so the shared heading rule (which removes the enclosing div/section)
        does not apply; the smallest element holding exactly one chrome line is removed instead.
        """
        for element in list(tree.iter("p", "div", "span", "td", "h1", "h2", "h3", "h4", "h5", "h6", "em")):
            text = text_of(element)
            if element.getparent() is not None and len(text) <= _CHROME_MAX_CHARS and _CHROME.fullmatch(text):
                remove_element(element)
        document = super().preclean(tree, names)
        _unwrap_layout_tables(document)
        _divs_to_paragraphs(document)
        return document

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """The archive home (every visible campaign) first, the list's feed as the fallback."""
        parts = urlsplit(start_url)
        query = dict(parse_qsl(parts.query))
        has_index = page is not None and bool(css("#archive-list li.campaign, .display_archive .campaign")(page))
        if _is_campaign(parts.hostname or "", parts.path, query) and not has_index:
            return []
        origin = f"{parts.scheme}://{parts.netloc}"
        if "u" in query and "id" in query:
            ids = urlencode({"u": query["u"], "id": query["id"]})
            home = start_url if has_index else f"{origin}/home/?{ids}"
            return [Listing(home, ARCHIVE), Listing(f"{origin}/feed?{ids}", FEED, fallback=True)]
        return [Listing(start_url, ARCHIVE)] if has_index else []

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == ARCHIVE:
            return _read_archive_home(body, url)
        if listing.kind == FEED:
            return _read_list_feed(listing, body, url)
        return super().parse_listing(listing, body, url)


def _unwrap_layout_tables(document: lxml_html.HtmlElement) -> None:
    """Turn the template's layout tables into divs; data tables (cells of inline text) stay tables.

    Email templates nest tables only to place blocks. Left as tables, trafilatura renders the whole
    issue as one table cell ("| The night shift Hi all, … |"). A table is layout when one of its own
    cells holds a block (paragraph, heading, list, div, image block or another table).
    """
    cells = "./tr/*|./tbody/tr/*|./thead/tr/*|./tfoot/tr/*"
    for table in list(document.iter("table")):
        own_cells = table.xpath(cells)
        if not any(cell.xpath(f"./{' or ./'.join(_BLOCK_TAGS)} or ./img") for cell in own_cells):
            continue
        for element in [table, *table.xpath("./tbody|./thead|./tfoot|./tr|./*/tr"), *own_cells]:
            element.tag = "div"


def _divs_to_paragraphs(document: lxml_html.HtmlElement) -> None:
    """Make each ``div`` holding only inline content a ``p``: that is what it is in email HTML.

    Mailchimp's editor writes paragraphs as ``<div><span style…>text <strong>…</strong></span></div>``;
    trafilatura loses the text before the first inline tag of such a div in some documents (the
    first sentence of psnc-item-1), and reads the same markup as a ``p`` correctly.
    """
    for div in document.xpath(f"//body//div[not(.//{' or .//'.join(_BLOCK_TAGS)})]"):
        div.tag = "p"


def _is_campaign(host: str, path: str, query: dict[str, str]) -> bool:
    """One campaign: ``/?u=…&id=…`` on an archive host, ``mailchi.mp/<account>/<slug>``, ``eepurl.com/<code>``."""
    if host == "eepurl.com" or host == "mailchi.mp":
        return path.strip("/") != ""
    return path in ("", "/") and "u" in query and "id" in query


def _index_date(line: str) -> str | None:
    """The ``MM/DD/YYYY`` an index line starts with, as an ISO date (Mailchimp writes US order)."""
    match = _INDEX_DATE.match(line)
    if not match:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def _read_list_feed(listing: Listing, body: bytes, url: str) -> ListingResult:
    """The list's RSS feed: its items, the list's name (channel "<List> Archive Feed"), its archive home.

    The channel ``<link>`` is the feed itself, so the newsletter's home is taken as the list's
    ``/home/`` index instead.
    """
    result = read_feed(listing, body, url)
    if result.newsletter:
        result.newsletter = _FEED_TITLE_SUFFIX.sub("", result.newsletter) or result.newsletter
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if "u" in query and "id" in query:
        result.home_url = f"{parts.scheme}://{parts.netloc}/home/?{urlencode({'u': query['u'], 'id': query['id']})}"
    return result


def _read_archive_home(body: bytes, url: str) -> ListingResult:
    """Campaigns of the archive home (or of the embeddable ``.display_archive`` list) with their dates."""
    page = lxml_html.document_fromstring(body.decode("utf-8", errors="replace") or "<html></html>")
    issues: list[FoundIssue] = []
    seen: set[str] = set()
    for line in css("#archive-list li.campaign, .display_archive .campaign")(page):
        anchors = line.xpath(".//a[@href]")
        if not anchors:
            continue
        link = join_url(url, anchors[0].get("href", "").strip())
        if link in seen:
            continue
        seen.add(link)
        title = clean_text(anchors[0].get("title")) or clean_text(text_of(anchors[0]))
        hints = DiscoveryHints(title=title, published_at=_index_date(text_of(line)), source="archive")
        issues.append(FoundIssue(link, hints))
    return ListingResult(issues=issues)


ADAPTER = MailchimpAdapter()
