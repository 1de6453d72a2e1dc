"""From one page's HTML to the issue we store: platform pre-clean, trafilatura, metadata priority.

This is a pure function of (html, url, discovery hints): the crawl pipeline and the
``tomtalks extract`` command both call it, so what users debug is exactly what gets stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper import __version__
from tomtalks_scraper.extraction.body import drop_leading_title, word_count
from tomtalks_scraper.extraction.content_root import cut_to_content
from tomtalks_scraper.extraction.links import BodyLink, body_links
from tomtalks_scraper.extraction.markup import parse_page_text
from tomtalks_scraper.extraction.metadata import clean_text, page_language
from tomtalks_scraper.extraction.numbering import parse_numbering
from tomtalks_scraper.extraction.titles import choose_title
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms import all_adapters, detect_platform, get_adapter
from tomtalks_scraper.platforms.base import CUT_MARKER
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import host_of

#: C0 control characters other than tab, line feed and carriage return (a saved page may hold them).
_C0_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NAME_LIKE = re.compile(r"^[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){1,3}$")
_NOT_NAMES = {"follow", "subscribe", "share", "admin", "editor", "staff"}


class ExtractionError(ValueError):
    """The input cannot be read as an HTML page at all (empty, binary, not markup)."""


@dataclass
class ExtractedIssue:
    """Everything the pipeline would store for one page (before validation)."""

    url: str
    canonical_url: str | None
    platform: str
    title: str | None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    updated_at: str | None = None
    description: str | None = None
    site_name: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    subtitle: str | None = None
    newsletter: str | None = None  # the newsletter's name as the page gives it (platform data)
    issue_number: int | None = None
    volume: int | None = None
    access: str = "free"
    links: list[BodyLink] = field(default_factory=list)
    body_text: str = ""
    body_markdown: str = ""
    body_html: str = ""
    word_count: int = 0
    content_hash: str = ""
    extractor: str = "trafilatura"
    extractor_version: str = ""

    @property
    def author(self) -> str | None:
        """Authors as one display string, the form the ``issues.author`` column holds."""
        return ", ".join(self.authors) or None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["author"] = self.author
        return data


def parse_html(html: str, xml_safe: bool = False, utf8: bytes | None = None) -> lxml_html.HtmlElement:
    """Parse decoded page text; raise ``ExtractionError`` when it is not markup. ``xml_safe``: the text is
    known to hold no C0 control character (a crawl's page text), so the scan for them (~0.4 ms on a
    150 KB page) is skipped. ``utf8``: the text's exact UTF-8, if at hand (``parse_page_text``)."""
    if not html or not html.strip():
        raise ExtractionError("the page is empty")
    if "\x00" in html[:2048]:
        raise ExtractionError("the page is binary data, not HTML")
    if "<" not in html[:4096]:
        raise ExtractionError("the page holds no HTML markup")
    if not xml_safe:
        html = _C0_CONTROLS.sub("", html)  # lxml refuses them as element text, which adapters set; browsers hide them
        utf8 = None
    try:
        tree = parse_page_text(html, utf8)
    except (etree.ParserError, ValueError) as error:
        raise ExtractionError(f"the page could not be parsed as HTML: {error}") from error
    return tree


def content_hash(body_text: str) -> str:
    """sha256 of the body with whitespace folded: the same text in other markup hashes the same."""
    return hashlib.sha256(" ".join(body_text.split()).encode("utf-8")).hexdigest()


def _plausible_author(name: str | None) -> str | None:
    """trafilatura's author guess, only when it looks like a person's name (it often is not)."""
    name = clean_text(name)
    if not name or name.lower() in _NOT_NAMES or not _NAME_LIKE.match(name):
        return None
    return name


#: The link attributes that can reach what we store: link targets, and image sources (trafilatura reads
#: ``src``; what it keeps of other elements carries no link). The canonical ``<link href>`` counts too
#: (trafilatura's fallback site name reads it).
_LINK_ATTRIBUTES = ("href", "src")
_HAS_LINK = etree.XPath("//*[@href or @src]")
_BASE = etree.XPath("//base[@href]|//x:base[@href]", namespaces={"x": "http://www.w3.org/1999/xhtml"})


def _absolute_links(tree: lxml_html.HtmlElement, url: str) -> None:
    """Resolve relative links and images against the page URL (and its ``<base href>``), so a stored
    body's ``#note-1`` or ``older-post`` points where the page pointed.

    What lxml's ``make_links_absolute(url, resolve_base_href=True, handle_failures="discard")`` does,
    limited to ``_LINK_ATTRIBUTES``: lxml rewrites every link-like attribute, stylesheet and refresh
    header of the page (about 5 ms a page), which trafilatura then throws away. A ``<base href>``
    (rare) still goes through lxml itself, whose first pass stops at the first unusable link.
    """
    try:
        base_href = None
        for base in _BASE(tree):
            base_href = base.get("href")
            base.drop_tree()
        if base_href:
            tree.make_links_absolute(base_href, resolve_base_href=False)
    except ValueError:
        return  # an unusable page URL: links stay as written (as lxml leaves them)
    joined: dict[str, str | None] = {}
    for element in _HAS_LINK(tree):
        attributes = element.attrib
        for name in _LINK_ATTRIBUTES:
            link = attributes.get(name)
            if link is None:
                continue
            key = link.strip()
            if key not in joined:
                try:
                    joined[key] = urljoin(url, key)
                except ValueError:
                    joined[key] = None  # lxml's "discard": the attribute goes
            absolute = joined[key]
            if absolute is None:
                del attributes[name]
            elif absolute != link:
                attributes[name] = absolute


def unwrap_any(url: str) -> str:
    """Unwrap a link with whichever platform's redirect wrapper it uses (copies keep foreign wrappers)."""
    for adapter in all_adapters().values():
        unwrapped = adapter.unwrap_link(url)
        if unwrapped != url:
            return unwrapped
    return url


def extract_issue(
    html: str,
    url: str,
    hints: DiscoveryHints | None = None,
    platform: str | None = None,
    content_language: str | None = None,
    read_raw_page: Callable[[lxml_html.HtmlElement, str, str | None, PageNames], None] | None = None,
    xml_safe: bool = False,
    html_utf8: bytes | None = None,
) -> ExtractedIssue:
    """Extract one issue from a page.

    Metadata priority: the platform adapter's data (which starts from JSON-LD, then
    OpenGraph / meta, then visible ``<time>``) → what discovery saw (feed entry, sitemap) →
    trafilatura's guesses for title and author only. Dates never come from guessing.

    ``read_raw_page(tree, platform, canonical_url, names)`` is called with the parsed page (and its ids
    and classes) before pre-cleaning changes it, for work that reads the raw page too (the copy checks)
    and need not parse it again. ``xml_safe``, ``html_utf8``: see ``parse_html``.
    """
    hints = hints or DiscoveryHints()
    tree = parse_html(html, xml_safe, html_utf8)
    names = PageNames.of(tree)  # read once: detection, pre-cleaning and the copy checks skip selectors by them
    adapter = get_adapter(platform) if platform else detect_platform(url, tree, names)
    meta = adapter.metadata(tree, url)
    access = adapter.access(tree, meta, names)
    if access == "free" and hints.access and hints.access != "free":
        access = hints.access  # the listing knew the post is gated although the page shows no sign of it
    h1 = tree.xpath("string(//h1[1])")
    html_title = tree.xpath("string(//title[1])")
    if read_raw_page is not None:
        read_raw_page(tree, adapter.name, meta.canonical_url, names)
    cleaned = adapter.preclean(tree, names)
    if cleaned.get(CUT_MARKER) != "1":  # no body selector matched: cut to the prose before trafilatura
        cut_to_content(cleaned)
    _absolute_links(cleaned, url)  # after the adapter's own repairs of lazy images and wrapped links
    body = adapter.extract_body(cleaned, url)

    host = host_of(url)
    site_names = [s for s in (meta.site_name, body.sitename, host, host.removeprefix("www.").split(".")[0]) if s]
    title = choose_title([meta.title, hints.title, clean_text(h1), body.title, html_title], site_names, body.text)
    body = drop_leading_title(body, [title, meta.title, h1, hints.title, body.title])
    authors = meta.authors or ([hints.author] if hints.author else [])
    if not authors and (guess := _plausible_author(body.fallback_author())):
        authors = [guess]
    numbering = parse_numbering(title)

    return ExtractedIssue(
        url=url,
        canonical_url=meta.canonical_url,
        platform=adapter.name,
        title=title,
        authors=authors,
        published_at=meta.published_at or hints.published_at,
        updated_at=meta.updated_at or hints.updated_at,
        description=meta.description,
        site_name=meta.site_name,
        language=page_language(tree, content_language),
        tags=meta.tags,
        image=meta.image,
        subtitle=meta.subtitle,
        newsletter=meta.newsletter,
        issue_number=numbering.number,
        volume=numbering.volume,
        access=access,
        links=body_links(body.html, unwrap_any),
        body_text=body.text,
        body_markdown=body.markdown,
        body_html=body.html,
        word_count=word_count(body.text),
        content_hash=content_hash(body.text),
        extractor=f"tomtalks-{adapter.name}+trafilatura",
        extractor_version=f"{__version__}+trafilatura-{trafilatura.__version__}",
    )
