"""Shared pieces of the fault tests: a feed of fault pages, one real issue beside them, and readers of
what the crawl recorded (straight from the SQLite file, as a user would look)."""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import html as lxml_html

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site
from tomtalks_scraper.extraction.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, is_safe_url

#: A real issue of the demo newsletter: the page every fault site also serves, to show the crawl goes on.
GOOD = "/issues/homework-is-dead/"
GOOD_TITLE = "Homework is dead, long live learning"


def good_issue() -> Page:
    return build_site("http://unused")[GOOD]


def feed(links: list[str], title: str = "Faults") -> Page:
    """An RSS feed listing ``links`` (absolute URLs) in order."""
    items = "".join(f"<item><title>Item {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'
                .encode(), "application/rss+xml")


def article(title: str, words: str, head: str = "", paragraphs: int = 8) -> str:
    """A plain article page (no platform markers) with enough words to be stored as an issue."""
    body = "".join(f"<p>Paragraph {i} about {words}, written out with enough ordinary words to read as prose.</p>"
                   for i in range(paragraphs))
    return (f"<!DOCTYPE html><html><head>{head}<title>{title}</title>"
            f'<meta property="og:title" content="{title}"></head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def path_of(url: str) -> str:
    """The path (and query) of a URL on the test site; a URL that is not one (``javascript:…``) as it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https"):
        return url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def db_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


@dataclass
class Outcome:
    """What one crawl left: stored issues and rejected pages keyed by path, and the requests the site saw."""

    issues: dict[str, dict] = field(default_factory=dict)
    rejected: dict[str, dict] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


def outcome(database_url: str, site: LocalSite) -> Outcome:
    with sqlite3.connect(db_path(database_url)) as db:
        db.row_factory = sqlite3.Row
        issues = {path_of(row["url"]): dict(row) for row in db.execute("SELECT * FROM issues")}
        rejected = {path_of(row["url"]): dict(row) for row in db.execute("SELECT * FROM rejected_pages")}
    return Outcome(issues, rejected, dict(site.requests))


def everything_stored(database_url: str) -> str:
    """Every text value in the archive, raw pages decompressed: for "this must appear nowhere" checks."""
    chunks = []
    with sqlite3.connect(db_path(database_url)) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                for value in row:
                    if isinstance(value, bytes):
                        chunks.append(gzip.decompress(value).decode("utf-8", "replace") if value[:2] == b"\x1f\x8b"
                                      else value.decode("latin-1"))
                    elif value is not None:
                        chunks.append(str(value))
    return "\n".join(chunks)


def disallowed_markup(body_html: str) -> list[str]:
    """Every tag, attribute or URL in ``body_html`` that the sanitiser's allow-list does not permit."""
    if not body_html.strip():
        return []
    found = []
    root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    for element in root.iter():
        if element is root or not isinstance(element.tag, str):
            continue
        if element.tag not in ALLOWED_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name not in ALLOWED_ATTRIBUTES.get(element.tag, set()) | ({"rel"} if element.tag == "a" else set()):
                found.append(f"{element.tag}@{name}")
            elif name in ("href", "src") and not is_safe_url(value):
                found.append(f"{element.tag}@{name}={value}")
    return found
