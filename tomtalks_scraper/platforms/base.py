"""The shape every platform adapter shares: declarative selectors plus a few overridable steps.

An adapter is pure: functions of (url, parsed page) → results, so each is tested on saved pages
without a crawl. Most platforms only set the class attributes; code is for what selectors
cannot say (embedded JSON metadata, access rules).
"""

from __future__ import annotations

import re
from functools import cache
from typing import ClassVar

from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from tomtalks_scraper.extraction.metadata import PageMetadata, read_page_metadata

_WS = re.compile(r"\s+")
#: A block holding one of these headings is dropped only if it is small next to the page:
#: a marker inside a page-wide wrapper must not take the article with it.
_MAX_MARKER_BLOCK_SHARE = 0.5


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


@cache
def _heading_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def text_of(element: lxml_html.HtmlElement) -> str:
    return _WS.sub(" ", element.text_content()).strip()


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
    """

    name: ClassVar[str] = "generic"
    url_patterns: ClassVar[tuple[str, ...]] = ()
    page_markers: ClassVar[tuple[str, ...]] = ()
    body_selectors: ClassVar[tuple[str, ...]] = ()
    boilerplate: ClassVar[tuple[str, ...]] = ()
    boilerplate_headings: ClassVar[tuple[str, ...]] = ()

    def matches_url(self, url: str) -> bool:
        return any(re.search(pattern, url) for pattern in self.url_patterns)

    def matches_page(self, tree: lxml_html.HtmlElement) -> bool:
        return any(css(selector)(tree) for selector in self.page_markers)

    def metadata(self, tree: lxml_html.HtmlElement, url: str) -> PageMetadata:
        """Declared metadata; platforms with their own data override and fill from this."""
        return read_page_metadata(tree)

    def preclean(self, tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
        """Drop platform chrome, then cut the page down to the body when a body selector matches.

        Mutates and returns ``tree`` (callers parse a fresh tree per page). When no selector
        matches, the whole cleaned page goes to trafilatura, which finds the body itself.
        """
        for selector in self.boilerplate:
            for element in css(selector)(tree):
                remove_element(element)
        self._remove_marked_blocks(tree)
        for selector in self.body_selectors:
            found = css(selector)(tree)
            if found:
                return self._wrap_body(tree, found[0])
        return tree

    def _remove_marked_blocks(self, tree: lxml_html.HtmlElement) -> None:
        if not self.boilerplate_headings:
            return
        marker = _heading_pattern(self.boilerplate_headings)
        page_length = max(len(text_of(tree)), 1)
        for element in list(tree.iter("h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "strong", "div")):
            if element.getparent() is None or len(element) > 2 or not marker.fullmatch(text_of(element)):
                continue
            block = element.getparent()
            while block is not None and block.tag not in ("aside", "section", "div", "ul", "nav", "footer"):
                block = block.getparent()
            if block is None or block.tag in ("body", "html"):
                continue
            if len(text_of(block)) / page_length <= _MAX_MARKER_BLOCK_SHARE:
                remove_element(block)

    @staticmethod
    def _wrap_body(tree: lxml_html.HtmlElement, body: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
        """A new document holding the original ``<head>`` (for metadata) and only the body element."""
        document = lxml_html.Element("html")
        head = tree.find("head")
        if head is not None:
            document.append(head)
        wrapper = lxml_html.SubElement(document, "body")
        article = lxml_html.SubElement(wrapper, "article")
        body.tail = None
        article.append(body)
        return document
