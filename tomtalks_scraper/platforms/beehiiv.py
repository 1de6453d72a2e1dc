"""Beehiiv: publications on ``<pub>.beehiiv.com`` or a custom domain, posts at ``/p/<slug>``.

Reference: ``shared/docs/platforms.md`` §5 (Beehiiv). Three markups are read:

* **2022 Rails layout** [S:beehiiv/milkroad-peter-thiel.html]: ``div.rendered-post`` holds a header
  ``div.pb-8`` (``h1``, byline "By A & B", ``time[datetime]``) and the body ``div#content-blocks``; the
  subscribe section (``form#subscribe_form``) and a "Publish on beehiiv" footer follow. No JSON-LD,
  ``og:type`` is "website".
* **Current (Remix) layout**, not in the corpus and modelled on public scrapers of live pages:
  ``div.rendered-post`` holds ``div#web-header`` (``h1`` title, ``h2`` subtitle, authors, ``time``) and
  the same ``div#content-blocks``; the page carries JSON-LD and ``window.__remixContext`` whose
  ``loaderData["routes/p/$slug"].post`` has ``web_title``, ``web_subtitle``, ``authors[].name`` and
  ``content_tags[].name``. Premium posts end where a paywall block (class or id containing
  "paywall") starts and JSON-LD says ``isAccessibleForFree: false``.
* **Emails** (MJML tables) [S:beehiiv/email/*]: the body is ``td.email-card-body``.

The issue's tail is platform furniture, not writing: the reader poll ("What'd you think of today's
email?") and everything after it, Milk Road's "Reviews from the Road", and the referral box
("You currently have 0 referrals…") are cut before trafilatura runs. Links go through
``flight.beehiiv.net/clicks/<opaque token>``: the target is not in the URL, so they cannot be
unwrapped offline and are left as they are.

Discovery: the archive pages ``/archive?page=N`` (every post, paged to the end) first; the RSS
feed ``rss.beehiiv.com/feeds/<id>.xml`` when the page links it (publishers may disable it) and
``/sitemap.xml`` (filtered on ``/p/``) are fallbacks. Beehiiv's own API needs the publisher's key.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import html as lxml_html

from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, SITEMAP, FoundIssue, Listing, ListingResult, read_sitemap
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import PageMetadata, clean_text, newsletter_from_email, read_page_metadata
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms.base import PlatformAdapter, css, text_of
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import join_url

#: A post URL: ``/p/<slug>`` (with an optional trailing slash).
POST_PATH = re.compile(r"^/p/[^/]+/?$")
#: Beehiiv's own service hosts are not publications.
_SERVICE_HOSTS = r"(?:www|app|rss|api|embeds|media|flight|support|developers)"
#: The reader poll and the sections after the sign-off: the issue ends before the first of these.
TAIL_MARKERS = (
    r"What(?:['’]?d| did) you think of (?:today['’]?s|this|this week['’]?s) "
    r"(?:email|edition|issue|newsletter|post)\s*\??",
    r"How did you like (?:today['’]?s|this|this week['’]?s) (?:email|edition|issue|newsletter|post)\s*\??",
    r"Reviews from the Road:?",  # Milk Road's recurring reader-review section (platforms.md §5)
)
_TAIL = re.compile("|".join(f"(?:{m})" for m in TAIL_MARKERS), re.I)
#: The referral programme box ("Share Milk Road / You currently have 0 referrals, …").
_REFERRAL = re.compile(r"You currently have \d+ referrals?|\{\{\s*rp_", re.I)
#: A block holding a marker is taken up to this many characters of text around it.
_BLOCK_LIMIT = 600
_BYLINE = re.compile(r"^By\s+(.+)$", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:,|&|\band\b)\s*", re.I)
_SUBSCRIBE_HEADING = re.compile(r"^Subscribe to (.{1,80})$", re.I)
#: The email header line "October 12, 2022 | Read Online" (the send date; the web page has its own).
_EMAIL_DATE = re.compile(r"^([A-Z][a-z]+ \d{1,2}, \d{4})\s*\|\s*Read Online$")
_REMIX_CONTEXT = re.compile(r"window\.__remixContext\s*=\s*(\{.*\})\s*;?\s*$", re.S)
_TEXT_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "div", "td")


class BeehiivAdapter(PlatformAdapter):
    name = "beehiiv"
    related_domains = ("rss.beehiiv.com",)
    url_patterns = (rf"^https?://(?!{_SERVICE_HOSTS}\.)[a-z0-9-]+\.beehiiv\.com(?:[/:?#]|$)",)
    page_markers = (
        'link[rel~="icon"][href*="media.beehiiv."]',  # the publication's favicon on beehiiv's CDN
        'link[rel="alternate"][href*="rss.beehiiv.com/feeds/"]',
        "div.rendered-post #content-blocks",
        "html:has(#web-header):has(#content-blocks)",
        'html:has(td.email-card-body):has(img[src*="beehiiv"])',  # a beehiiv email
    )
    body_selectors = ("div.rendered-post #content-blocks", "td.email-card-body", "#content-blocks")
    boilerplate = (
        "body > nav",
        "form#subscribe_form",
        "#content-blocks form",  # inline subscribe and poll forms
        '#content-blocks > div:has(a[href*="/subscribe"] > button)',  # "Subscribe" button blocks
        '.rendered-post [class*="paywall"]',
        '.rendered-post [id*="paywall"]',
        "footer",
    )
    boilerplate_headings = (r"Subscribe to .{1,80}",)
    paywall_markers = ('.rendered-post [class*="paywall"]', '.rendered-post [id*="paywall"]')

    # Metadata ----------------------------------------------------------------------------------

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """The Remix post data, then the post header (byline, ``time``), then the page's declared data."""
        meta = _remix_metadata(tree)
        header = _post_header(tree)
        if header is not None:
            if not meta.authors:
                meta.authors = _byline_authors(header)
            times = header.xpath(".//time/@datetime")
            meta.published_at = to_utc_iso(times[0]) if times else None
            if not meta.subtitle:
                subtitle = header.xpath(".//h2")
                meta.subtitle = clean_text(text_of(subtitle[0])) if subtitle else None
        elif css("td.email-card-body")(tree):
            meta.title = clean_text(tree.findtext(".//title"))  # an email's <title> is its subject line
            meta.published_at = _email_date(tree)
        declared = read_page_metadata(tree)
        meta.fill_from(declared)
        meta.newsletter = (meta.newsletter or declared.site_name or _publication_name(tree)
                           or newsletter_from_email(tree))
        return meta

    # Pre-clean ---------------------------------------------------------------------------------

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Cut the poll-and-after tail and the referral boxes out of the body, then the shared steps."""
        container = next((found[0] for s in self.body_selectors if (found := css(s)(tree))), None)
        if container is not None:
            _drop_referral_boxes(container)
            _cut_tail(container)
        return super().preclean(tree, names)

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """Archive pages first; the linked RSS feed and the sitemap when the archive lists nothing."""
        parts = urlsplit(start_url)
        if POST_PATH.match(parts.path):
            return []
        origin = f"{parts.scheme}://{parts.netloc}"
        found = [Listing(f"{origin}/archive?page=1", ARCHIVE)]
        if page is not None:
            feeds = page.xpath('//link[@rel="alternate"]/@href[contains(., "rss.beehiiv.com/feeds/")]')
            found += [Listing(join_url(start_url, feeds[0].strip()), FEED, fallback=True)] if feeds else []
        found.append(Listing(f"{origin}/sitemap.xml", SITEMAP, fallback=True))
        return found

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        if listing.kind == ARCHIVE:
            return _read_archive_page(body, url)
        if listing.kind == SITEMAP:
            return read_sitemap(listing, body, url, path_filter="/p/")
        return super().parse_listing(listing, body, url)


# Metadata helpers ------------------------------------------------------------------------------


def _remix_post(tree: lxml_html.HtmlElement) -> dict[str, Any]:
    """The post object of ``window.__remixContext`` (current layout); ``{}`` when absent or unreadable."""
    for script in tree.xpath("//script[not(@src)][contains(., '__remixContext')]"):
        match = _REMIX_CONTEXT.search(script.text or "")
        if not match:
            continue
        try:
            context = json.loads(match.group(1))
        except ValueError:
            continue
        loader = (context.get("state") or {}).get("loaderData") or {}
        for route, data in loader.items():
            if "p/$slug" in route and isinstance(data, dict) and isinstance(data.get("post"), dict):
                return data["post"]
    return {}


def _names(items: Any, key: str = "name") -> list[str]:
    values = [clean_text(item.get(key)) for item in items or [] if isinstance(item, dict)]
    return [value for value in values if value]


def _remix_metadata(tree: lxml_html.HtmlElement) -> PageMetadata:
    post = _remix_post(tree)
    return PageMetadata(
        title=clean_text(post.get("web_title")),
        subtitle=clean_text(post.get("web_subtitle")),
        authors=_names(post.get("authors")),
        tags=_names(post.get("content_tags")),
        description=clean_text(post.get("meta_default_description")),
        image=clean_text(post.get("image_url")),
    )


def _post_header(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The block above the body with title, byline and date (``#web-header`` now, ``div.pb-8`` in 2022)."""
    found = css("div.rendered-post #web-header")(tree) or css("div.rendered-post div.pb-8")(tree)
    return found[0] if found else None


def _byline_authors(header: lxml_html.HtmlElement) -> list[str]:
    """Names from a "By Shaan Puri & Ben Levy" byline (the smallest element that starts with "By ")."""
    for element in header.iter("span", "p", "div"):
        match = _BYLINE.match(text_of(element))
        if match and len(element) <= 3:
            byline = match.group(1).split("•")[0]
            return [name for name in (n.strip() for n in _NAME_SPLIT.split(byline)) if name]
    return []


def _email_date(tree: lxml_html.HtmlElement) -> str | None:
    """The send date an email prints above its body ("April 12, 2022 | Read Online"), as a bare date."""
    for element in tree.iter("p", "div", "td", "span"):
        match = _EMAIL_DATE.match(text_of(element)) if len(element) <= 2 else None
        if match:
            try:
                return datetime.strptime(match.group(1), "%B %d, %Y").date().isoformat()
            except ValueError:
                return None
    return None


def _publication_name(tree: lxml_html.HtmlElement) -> str | None:
    """The publication's name from the subscribe section ("Subscribe to Milk Road")."""
    for heading in tree.xpath("//h1|//h2|//h3"):
        match = _SUBSCRIBE_HEADING.match(text_of(heading))
        if match:
            return match.group(1).strip()
    return None


# Pre-clean helpers -----------------------------------------------------------------------------


def _marker_elements(
    container: lxml_html.HtmlElement, pattern: re.Pattern[str], whole: bool
) -> list[lxml_html.HtmlElement]:
    """Small text elements of ``container`` whose text matches ``pattern`` (whole text or anywhere)."""
    found = []
    for element in container.iter(*_TEXT_TAGS):
        if element is container or len(element) > 3:
            continue
        text = text_of(element)
        if (pattern.fullmatch(text) if whole else pattern.search(text)) and len(text) <= _BLOCK_LIMIT:
            found.append(element)
    return found


def _block_of(container: lxml_html.HtmlElement, element: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The largest ancestor of ``element`` below ``container`` whose text stays small (one content block)."""
    block = element
    parent = block.getparent()
    while parent is not None and parent is not container and len(text_of(parent)) <= _BLOCK_LIMIT:
        block, parent = parent, parent.getparent()
    return block


def _cut_tail(container: lxml_html.HtmlElement) -> None:
    """Remove the first tail marker's block and every block after it at the same level."""
    markers = _marker_elements(container, _TAIL, whole=True)
    if not markers:
        return
    block = _block_of(container, markers[0])
    parent = block.getparent()
    for sibling in [block, *block.itersiblings()]:
        parent.remove(sibling)


def _drop_referral_boxes(container: lxml_html.HtmlElement) -> None:
    for element in _marker_elements(container, _REFERRAL, whole=False):
        block = _block_of(container, element)
        if block.getparent() is not None:
            block.getparent().remove(block)


# Discovery helpers -----------------------------------------------------------------------------


def _page_number(url: str) -> int:
    value = dict(parse_qsl(urlsplit(url).query)).get("page", "1")
    return int(value) if value.isdigit() else 1


def _read_archive_page(body: bytes, url: str) -> ListingResult:
    """Posts (``/p/<slug>`` links on the archive's host) and the next archive page, if any."""
    page = lxml_html.document_fromstring(body.decode("utf-8", errors="replace") or "<html></html>")
    host = urlsplit(url).hostname
    issues: dict[str, FoundIssue] = {}
    following: list[str] = []
    current = _page_number(url)
    for anchor in page.xpath("//a[@href]"):
        link = join_url(url, anchor.get("href", "").strip()).split("#")[0]
        try:
            parts = urlsplit(link)
            if parts.hostname != host:
                continue
        except ValueError:  # a link that cannot be read ("http://[oops/"): not a post of this archive
            continue
        if POST_PATH.match(parts.path) and link not in issues:
            times = anchor.xpath(".//time/@datetime")
            hints = DiscoveryHints(published_at=to_utc_iso(times[0]) if times else None, source="archive")
            issues[link] = FoundIssue(link, hints)
        elif parts.path.rstrip("/") == "/archive" and _page_number(link) == current + 1:
            following.append(link)
    return ListingResult(issues=list(issues.values()), next=[Listing(following[0], ARCHIVE)] if following else [])


ADAPTER = BeehiivAdapter()
