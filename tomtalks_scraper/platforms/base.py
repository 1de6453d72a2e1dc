"""The shape every platform adapter shares: declarative selectors plus a few overridable steps.

An adapter is pure: functions of (url, parsed page) → results, so each is tested on saved pages
without a crawl. Most platforms only set the class attributes; code is for what selectors
cannot say (embedded JSON metadata, access rules).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from tomtalks_scraper.access import ACCESS, FREE, LOGIN_WALL, PAID_FULL, PAID_PREVIEW, REFUSED  # noqa: F401
from tomtalks_scraper.discovery.listings import READERS, Listing, ListingResult
from tomtalks_scraper.extraction.metadata import PageMetadata, newsletter_from_email, read_page_metadata
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import unwrap_query_redirect

if TYPE_CHECKING:  # trafilatura (~0.25 s) is imported by ``extract_body`` only: a crawl process whose pages
    from tomtalks_scraper.extraction.body import Body  # go to extraction workers, or a recrawl, never needs it

#: Set on the document ``preclean`` cut down to a body selector's match.
CUT_MARKER = "data-tomtalks-cut"
#: Set on the document's root by ``mark_embed``: the texts of embedded posts (JSON list), kept out of the plain text.
EMBEDS_MARKER = "data-tomtalks-embeds"
#: A block titled by a boilerplate heading is dropped only up to this many characters of text.
_MAX_MARKER_BLOCK_CHARS = 4000
_SHORT_BLOCK_CHARS = 300


@cache
def css(selector: str) -> CSSSelector:
    """Compiled CSS selector (cached: adapters reuse a handful of selectors on every page)."""
    return CSSSelector(selector, translator="html")


def remove_element(element: lxml_html.HtmlElement) -> None:
    """Remove ``element`` but keep its tail text in the document (lxml attaches text after a tag to it)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _is_marked_chrome(block: lxml_html.HtmlElement, heading: str) -> bool:
    """Whether a block titled by a boilerplate heading is chrome: it starts with that heading, is small,
    and is a list of links, a sign-up form, or a few words. A marker atop a page-wide wrapper that
    holds the article's prose must not take the article with it."""
    block_text = text_of(block)
    if not block_text.startswith(heading) or len(block_text) > _MAX_MARKER_BLOCK_CHARS:
        return False
    link_text = sum(len(text_of(a)) for a in block.iter("a"))
    has_form = any(True for _ in block.iter("form", "input", "button"))
    return has_form or link_text >= 0.5 * (len(block_text) - len(heading)) or len(block_text) <= _SHORT_BLOCK_CHARS


#: A visible heading longer than this is a paragraph, never a boilerplate heading (the longest an
#: adapter's ``boilerplate_headings`` pattern can match is about 160 characters).
_MAX_HEADING_CHARS = 200
#: Elements that may be a boilerplate heading: at most two child elements and short text. Filtered in
#: libxml2: reading the text of every ``div`` from Python cost 1.5 ms a page. One path per tag, from the
#: root element: libxml2 walks for a named tag much faster than it tests ``//*`` against ten names (0.56
#: against 1.11 ms a page; the same elements, and a union comes back in document order too).
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "strong", "div")
_SHORT_HEADING_CANDIDATES = etree.XPath("|".join(
    f"descendant-or-self::{tag}[count(*) <= 2][string-length(normalize-space()) <= {_MAX_HEADING_CHARS}]"
    for tag in _HEADING_TAGS))


@cache
def _heading_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


#: Elements whose whitespace is content.
_PREFORMATTED = frozenset({"pre", "code", "textarea", "script", "style", "listing", "plaintext", "xmp"})
_WHITESPACE_RUN = re.compile(r"[ \t\n\r\f]+")


def collapse_whitespace(root: lxml_html.HtmlElement) -> None:
    """Fold every run of spaces, tabs and line breaks in ``root``'s text into one space, as a browser shows it,
    except inside ``<pre>``, ``<code>`` and the like.

    trafilatura keeps the source's line breaks inside a paragraph (e-mail templates wrap text at 80
    columns) and, inside layout cells, drops the indentation that was the only space between a link and
    the next word ("XCopy</a>\n      is" became "XCopyis"). No-break spaces are left alone.
    """
    def fold(text: str | None) -> str | None:
        return _WHITESPACE_RUN.sub(" ", text) if text else text

    skip: set[lxml_html.HtmlElement] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            element.tail = fold(element.tail)
            continue
        parent = element.getparent()
        if parent in skip or element.tag in _PREFORMATTED:
            skip.add(element)
        else:
            element.text = fold(element.text)
        if parent not in skip:
            element.tail = fold(element.tail)
    _carry_separating_spaces(root)


_INLINE_TAGS = frozenset({"a", "abbr", "b", "cite", "code", "em", "i", "mark", "q", "s", "small", "span", "strong",
                          "sub", "sup", "time", "u"})


def _carry_separating_spaces(root: lxml_html.HtmlElement) -> None:
    """``<a><b>Dank Bank</b></a> <b>got $4.2M</b>``: trafilatura drops a tail that is only a space, and the two
    words touch ("Dank Bankgot"). The space moves to the start of the next inline element's text."""
    for element in root.iter():
        tail = element.tail
        following = element.getnext()
        if tail is None or tail.strip() or not tail or following is None:
            continue
        if not isinstance(following.tag, str) or following.tag not in _INLINE_TAGS:
            continue
        if not (following.text or "")[:1].isspace():
            following.text = tail + (following.text or "")  # the space as written (a no-break space stays one)
            element.tail = None


#: Elements that make a ``div`` holding them a container rather than a paragraph.
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul", "iframe", "video", "audio",
})


def unwrap_layout_tables(root: lxml_html.HtmlElement) -> int:
    """Tables declared as layout (``role="presentation"``, what every e-mail template uses) become ``div``s;
    returns how many.

    trafilatura reads them as data tables: a whole e-mail body came out as one table row, "| | text |".
    """
    tables = root.xpath('descendant-or-self::table[@role="presentation" or @role="none"]')
    for table in tables:
        etree.strip_tags(table, "tbody", "thead", "tfoot", "tr", "td", "th")
        table.tag = "div"
    return len(tables)


def inline_divs_as_paragraphs(root: lxml_html.HtmlElement) -> None:
    """A ``div`` holding text and only inline elements is a paragraph: make it a ``<p>`` (e-mail bodies only).

    E-mail templates (beehiiv's ``div.paragraphText``) and site builders write paragraphs so; trafilatura
    reads such a div's children one by one and glues a link to the next word ("What happened? XCopy is"
    became "What happened?" and "XCopyis").
    """
    for div in list(root.iter("div")):
        if not (div.text_content() or "").strip():
            continue
        if any(isinstance(e.tag, str) and e.tag in _BLOCK_TAGS for e in div.iterdescendants()):
            continue
        div.tag = "p"


def mark_embed(tree: lxml_html.HtmlElement, text: str) -> None:
    """Record ``text`` (a ``<blockquote>`` the adapter made of a post embedded from elsewhere) on the document,
    so that the body's plain text leaves it out while its Markdown and HTML keep it (``render_body``)."""
    root = tree.getroottree().getroot()
    embeds = json.loads(root.get(EMBEDS_MARKER) or "[]")
    embeds.append(text)
    root.set(EMBEDS_MARKER, json.dumps(embeds))  # ASCII: any character is a valid attribute


def embeds_of(tree: lxml_html.HtmlElement) -> list[str]:
    """The embedded posts' texts recorded by ``mark_embed``."""
    try:
        embeds = json.loads(tree.getroottree().getroot().get(EMBEDS_MARKER) or "[]")
    except ValueError:
        return []
    return [e for e in embeds if isinstance(e, str)] if isinstance(embeds, list) else []


def text_of(element: lxml_html.HtmlElement) -> str:
    """The element's text with whitespace folded (``str.split`` splits on exactly what ``\\s`` matches)."""
    return " ".join(element.text_content().split())


class PlatformAdapter:
    """Base adapter; the generic fallback uses it nearly as it is.

    Class attributes, in the manner of one small declarative parser per publisher:

    ``name``                platform name stored with each issue.
    ``url_patterns``        regexes on the URL that identify the platform without fetching.
    ``page_markers``        CSS selectors whose presence identifies the platform on custom domains.
    ``body_selectors``      CSS selectors of the article body, first match wins (one per layout).
    ``boilerplate``         CSS selectors of platform chrome removed before trafilatura runs.
    ``boilerplate_headings`` regexes matching a whole visible heading whose block is platform chrome
                            ("Recommended by LinkedIn", "Subscribe to .*"); case is ignored.
    ``redirect_wrappers``   (URL regex, query parameter) pairs: links matching the regex are unwrapped to
                            the URL in that parameter (``linkedin.com/redir/redirect?url=…``).
    ``paywall_markers``     CSS selectors present only when the body is cut by a paywall.
    ``related_domains``     other domains the platform serves a newsletter's listings or issues from
                            (``mailchi.mp`` for campaign-archive.com lists); the spider may fetch them.

    Code hooks, overridden where selectors are not enough: ``metadata`` (platform data first),
    ``access``, ``extract_body``, ``listings`` / ``parse_listing`` (discovery of every issue), ``unwrap_link``.
    """

    name: ClassVar[str] = "generic"
    url_patterns: ClassVar[tuple[str, ...]] = ()
    page_markers: ClassVar[tuple[str, ...]] = ()
    body_selectors: ClassVar[tuple[str, ...]] = ()
    boilerplate: ClassVar[tuple[str, ...]] = ()
    boilerplate_headings: ClassVar[tuple[str, ...]] = ()
    redirect_wrappers: ClassVar[tuple[tuple[str, str], ...]] = ()
    related_domains: ClassVar[tuple[str, ...]] = ()
    paywall_markers: ClassVar[tuple[str, ...]] = ()

    def matches_url(self, url: str) -> bool:
        return any(re.search(pattern, url) for pattern in self.url_patterns)

    def matches_page(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> bool:
        """Whether a page marker is on the page. ``names``: the page's ids and classes, when the caller
        tries several adapters on one page (``detect_platform``), so that selectors naming an id or class
        the page lacks are skipped."""
        names = names or PageNames.of(tree)
        return any(names.may_match_marker(selector) and css(selector)(tree) for selector in self.page_markers)

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """Declared metadata; platforms with their own data override and fill from this. A received
        e-mail names its newsletter in its footer (``newsletter_from_email``)."""
        meta = read_page_metadata(tree)
        meta.newsletter = meta.newsletter or newsletter_from_email(tree)
        return meta

    def extract_body(self, tree: lxml_html.HtmlElement, url: str) -> Body:
        """The body of the pre-cleaned page as text, Markdown and HTML.

        When a body selector cut the page, trafilatura runs on that known body as it is, and the link
        lists it takes for navigation are put back (``restore_link_blocks``). When none matched (a
        layout the adapter does not know, or the generic adapter), the page goes through the generic
        method: trafilatura's precision mode plus structural trimming (``ensemble.py``).
        """
        from tomtalks_scraper.extraction.body import render_body, restore_link_blocks, trafilatura_document
        from tomtalks_scraper.extraction.ensemble import extract_generic_body

        if tree.get(CUT_MARKER) == "1":
            document = trafilatura_document(tree, url)
            if document is not None:
                restore_link_blocks(document.body, tree, url)
            return render_body(document, embeds_of(tree))
        return extract_generic_body(tree, url)

    def access(self, tree: lxml_html.HtmlElement, meta: PageMetadata, names: PageNames | None = None) -> str:
        """``free`` unless the platform's data or a paywall marker says otherwise.

        Called on the full page, before pre-cleaning removes the markers. ``names``: the page's ids and
        classes (``PageNames``), which rule most markers out without running them.
        """
        if meta.access in ACCESS:
            return meta.access
        if any((names is None or names.may_match_marker(selector)) and css(selector)(tree)
               for selector in self.paywall_markers):
            return PAID_PREVIEW
        if meta.accessible_for_free is False:
            return PAID_PREVIEW
        return FREE

    def unwrap_link(self, url: str) -> str:
        """The real target of a link this platform wraps for click tracking (else ``url`` itself)."""
        for pattern, parameter in self.redirect_wrappers:
            if re.search(pattern, url):
                return unwrap_query_redirect(url, parameter)
        return url

    # Discovery ---------------------------------------------------------------------------------

    def listings(self, start_url: str, page: lxml_html.HtmlElement | None) -> list[Listing]:
        """Where every issue of the newsletter at ``start_url`` is listed, best source first.

        ``page`` is the start URL's parsed HTML when it was HTML. The default, an empty list, means
        the start URL is a single issue or a site for generic discovery (feed, sitemap, archive).
        """
        return []

    def parse_listing(self, listing: Listing, body: bytes, url: str) -> ListingResult:
        """Read one fetched listing. Platforms override for their API shapes."""
        reader = READERS.get(listing.kind)
        if reader is None:
            raise ValueError(f"{self.name}: no reader for listings of kind {listing.kind!r}")
        return reader(listing, body, url)

    def preclean(self, tree: lxml_html.HtmlElement, names: PageNames | None = None) -> lxml_html.HtmlElement:
        """Drop platform chrome, then cut the page down to the body when a body selector matches.

        Mutates and returns ``tree`` (callers parse a fresh tree per page). When no selector
        matches, the whole cleaned page goes to trafilatura, which finds the body itself. ``names``:
        the page's ids and classes as parsed (``extract_issue`` reads them once for detection and
        for this). Adapters' own steps before this one remove, move or rename elements and never add an
        id or class, so the names stay a superset of the page's, which at most runs a selector more.
        """
        names = names or PageNames.of(tree)  # selectors naming an id or class the page lacks are not run
        for selector in self.boilerplate:
            if names.may_match(selector):
                for element in css(selector)(tree):
                    remove_element(element)
        self._remove_marked_blocks(tree)
        for selector in self.body_selectors:
            found = css(selector)(tree) if names.may_match(selector) else None
            if found:
                return self._wrap_body(tree, found[0])
        return tree

    def _remove_marked_blocks(self, tree: lxml_html.HtmlElement) -> None:
        if not self.boilerplate_headings:
            return
        marker = _heading_pattern(self.boilerplate_headings)
        for element in _SHORT_HEADING_CANDIDATES(tree.getroottree().getroot()):  # the whole page
            if element.getparent() is None:
                continue
            heading = text_of(element)
            if not marker.fullmatch(heading):
                continue
            block = element.getparent()
            while block is not None and block.tag not in ("aside", "section", "div", "ul", "nav", "footer"):
                block = block.getparent()
            if block is None or block.tag in ("body", "html"):
                continue
            if _is_marked_chrome(block, heading):
                remove_element(block)

    @staticmethod
    def _wrap_body(tree: lxml_html.HtmlElement, body: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
        """A new document holding the original ``<head>`` (for metadata) and only the body element."""
        document = lxml_html.Element("html")
        document.set(CUT_MARKER, "1")
        if (embeds := tree.getroottree().getroot().get(EMBEDS_MARKER)) is not None:
            document.set(EMBEDS_MARKER, embeds)
        head = tree.find("head")
        if head is not None:
            document.append(head)
        wrapper = etree.SubElement(document, "body")
        article = etree.SubElement(wrapper, "article")
        body.tail = None
        email_layout = body.tag in ("td", "th", "tr", "tbody")  # an e-mail's body cell, out of its layout table
        if email_layout:
            body.tag = "div"
        article.append(body)
        email_layout = unwrap_layout_tables(body) > 0 or email_layout
        collapse_whitespace(body)
        if email_layout:  # on web pages the same rewrite let sign-off and tag lines through (measured)
            inline_divs_as_paragraphs(body)
        return document
