"""Read RSS 2.0, RSS 1.0 (RDF) and Atom feeds into issue links with what the feed says about them.

Parsed with lxml in a locked-down mode: no entity expansion, no network, no DTD loading, so a
hostile feed (billion laughs, external entities) expands nothing and reads no local file. The
DOCTYPE is dropped first (``xml_safety``), so such a feed's real entries are still read; a feed so
broken that nothing can be read from it is a ``FeedError``, never an empty success.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from tomtalks_scraper.discovery.xml_safety import strict_error, without_doctype
from tomtalks_scraper.extraction.dates import to_utc_iso
from tomtalks_scraper.extraction.metadata import clean_text
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.urls import join_url

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"
RSS1 = "http://purl.org/rss/1.0/"


class FeedError(ValueError):
    """The document is not a feed we can read; the message says why."""


@dataclass
class FeedEntry:
    url: str
    hints: DiscoveryHints


@dataclass
class Feed:
    title: str | None = None
    home_url: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    next_url: str | None = None  # Atom / RFC 5005 paging: the next (older) page of the feed


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True,
        remove_comments=True, remove_pis=True,
    )


def looks_like_feed(head: bytes) -> bool:
    """Cheap sniff of a document's first bytes."""
    start = head[:2048].lower()
    return b"<rss" in start or b"<feed" in start or b"<rdf:rdf" in start


def _text(element: etree._Element | None) -> str | None:
    return clean_text("".join(element.itertext())) if element is not None else None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    """The first child with one of ``names`` as local name; an RSS element without a namespace (or in
    RSS 1.0's) wins over a namespaced namesake such as WordPress's ``<atom:link rel="self">``."""
    fallback = None
    for child in element:
        if _local(child) in names:
            if etree.QName(child).namespace in (None, RSS1):
                return child
            fallback = fallback if fallback is not None else child
    return fallback


def parse_feed(body: bytes, base_url: str) -> Feed:
    """Entries of an RSS or Atom document, links made absolute against ``base_url``."""
    body = without_doctype(body)
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise FeedError(f"not well-formed XML: {error}") from error
    if root is None:
        raise FeedError("empty document")
    kind = _local(root)
    if kind == "feed":
        feed = _parse_atom(root, base_url)
    elif kind in ("rss", "rdf"):
        feed = _parse_rss(root, base_url)
    else:
        raise FeedError(f"root element <{kind}> is neither RSS nor Atom")
    if not feed.entries and (error := strict_error(body)):
        raise FeedError(f"not well-formed XML, no entry could be read: {error}")
    return feed


def _parse_rss(root: etree._Element, base_url: str) -> Feed:
    channel = _child(root, "channel")
    feed = Feed(title=_text(_child(channel, "title")) if channel is not None else None)
    if channel is not None and (link := _text(_child(channel, "link"))):
        feed.home_url = join_url(base_url, link)
    items = [e for e in root.iter() if _local(e) == "item"]
    for item in items:
        link = _text(_child(item, "link"))
        guid = _child(item, "guid")
        if not link and guid is not None and guid.get("isPermaLink", "true").lower() == "true":
            link = _text(guid)
        if not link:
            continue
        author = _text(_child(item, "creator")) or _text(_child(item, "author"))
        feed.entries.append(
            FeedEntry(
                url=join_url(base_url, link),
                hints=DiscoveryHints(
                    title=_text(_child(item, "title")),
                    author=author,
                    published_at=to_utc_iso(_text(_child(item, "pubdate", "date"))),
                    updated_at=to_utc_iso(_text(_child(item, "updated", "modified"))),
                    source="feed",
                ),
            )
        )
    return feed


def _atom_link(element: etree._Element, rel: str) -> str | None:
    for link in element:
        if _local(link) == "link" and link.get("rel", "alternate") == rel and link.get("href"):
            return link.get("href")
    return None


def _parse_atom(root: etree._Element, base_url: str) -> Feed:
    feed = Feed(title=_text(_child(root, "title")))
    if home := _atom_link(root, "alternate"):
        feed.home_url = join_url(base_url, home)
    if following := _atom_link(root, "next"):
        feed.next_url = join_url(base_url, following)
    for entry in root:
        if _local(entry) != "entry":
            continue
        link = _atom_link(entry, "alternate")
        if not link:
            continue
        author = _child(entry, "author")
        feed.entries.append(
            FeedEntry(
                url=join_url(base_url, link),
                hints=DiscoveryHints(
                    title=_text(_child(entry, "title")),
                    author=_text(_child(author, "name")) if author is not None else None,
                    published_at=to_utc_iso(_text(_child(entry, "published", "issued"))),
                    updated_at=to_utc_iso(_text(_child(entry, "updated", "modified"))),
                    source="feed",
                ),
            )
        )
    return feed
