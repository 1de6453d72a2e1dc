"""EPUB export: one book per newsletter, its issues in date order, with a table of contents.

Built with ebooklib, then made reproducible: ebooklib stamps every zip entry with the current time,
writes ``dcterms:modified`` as "now" and draws a random ``uuid4`` identifier. We give it an
identifier derived from the newsletter (``uuid5``), a modification date taken from the issues
themselves, and re-pack the zip with fixed entry dates, so the same archive gives the same bytes.

Images stay where they were published: EPUB readers do not load remote images (and EPUB 3 forbids
them), so each ``<img>`` becomes a link to the image, labelled with its alt text.
"""

from __future__ import annotations

import html
import io
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import html as lxml_html

from storage.exports.common import ExportError, atomic_file, inside, slugify, unique_name
from storage.queries import IssueFilter

if TYPE_CHECKING:
    from storage.archive import Archive

#: Zip entry time for every file in the book: the earliest a zip can hold (1980-01-01 00:00).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
STYLE = b"""body { font-family: serif; line-height: 1.5; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #555; font-size: 0.9em; margin-top: 0; }
blockquote { margin-left: 1em; padding-left: 1em; border-left: 3px solid #ccc; }
"""


def _ebooklib() -> Any:
    try:
        from ebooklib import epub
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ExportError("EPUB export needs ebooklib: pip install 'ebooklib>=0.20'") from error
    return epub


def chapter_html(record: dict[str, Any]) -> str:
    """The issue as an XHTML body: title, a byline with a link to the original, the sanitised body."""
    title = html.escape(record["title"] or "(untitled)")
    byline = " · ".join(html.escape(part) for part in (record["author"], (record["published_at"] or "")[:10]) if part)
    link = f'<a href="{html.escape(record["url"], quote=True)}">original</a>'
    subtitle = f"<p><em>{html.escape(record['subtitle'])}</em></p>" if record["subtitle"] else ""
    return f"<h1>{title}</h1>{subtitle}<p class=\"meta\">{byline + ' · ' if byline else ''}{link}</p>" + _body(
        record["body_html"] or "", record["url"]
    )


def _body(body_html: str, base_url: str) -> str:
    """The stored body with absolute links and its images turned into links."""
    if not body_html.strip():
        return ""
    root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    root.make_links_absolute(base_url, resolve_base_href=False)
    for image in list(root.iter("img")):
        source = image.get("src")
        label = image.get("alt") or "image"
        if source:
            link = lxml_html.Element("a", href=source)
            link.text = f"[{label}]"
            link.tail = image.tail
            image.getparent().replace(image, link)
        else:
            image.drop_tree()
    return lxml_html.tostring(root, encoding="unicode")


def _modified(records: list[dict[str, Any]]) -> datetime:
    """The book's ``dcterms:modified``: its newest issue date (from the archive, never the clock)."""
    dates = [d for r in records for d in (r["published_at"], r["modified_at"]) if d]
    if not dates:
        return datetime(*ZIP_EPOCH, tzinfo=UTC)
    newest = max(dates)
    try:
        return datetime.fromisoformat(newest.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return datetime(*ZIP_EPOCH, tzinfo=UTC)


def build_book(newsletter: dict[str, Any], records: list[dict[str, Any]]) -> bytes:
    """The EPUB (bytes) of one newsletter's issues, in the order given (oldest first)."""
    epub = _ebooklib()
    name = newsletter["name"]
    book = epub.EpubBook()
    identity = newsletter.get("home_url") or f"tomtalks-newsletter:{name}"
    book.set_identifier(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}")
    book.set_title(name)
    languages = Counter(r["language"] for r in records if r["language"])
    book.set_language(languages.most_common(1)[0][0] if languages else "en")
    authors = Counter(a for r in records for a in (r["authors"] or []))
    for author, _count in sorted(authors.items(), key=lambda item: (-item[1], item[0])):
        book.add_author(author)
    dated = sorted(r["published_at"][:10] for r in records if r["published_at"])
    span = f", {dated[0]} to {dated[-1]}" if dated else ""
    book.add_metadata("DC", "description", f"{len(records)} issues of {name}{span}.")
    if dated:
        book.add_metadata("DC", "date", dated[-1])
    if newsletter.get("home_url"):
        book.add_metadata("DC", "source", newsletter["home_url"])
    book.add_metadata("DC", "publisher", name)
    style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css", content=STYLE)
    book.add_item(style)
    chapters = []
    for position, record in enumerate(records, start=1):
        chapter = epub.EpubHtml(
            uid=f"issue{position:05d}", title=record["title"] or "(untitled)",
            file_name=f"issue-{position:05d}.xhtml", lang=record["language"] or None,
        )
        chapter.content = chapter_html(record)
        chapter.add_item(style)
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book, {"mtime": _modified(records), "raise_exceptions": True})
    return repack(buffer.getvalue())


def repack(book: bytes) -> bytes:
    """The same zip with every entry dated ``ZIP_EPOCH`` (``mimetype`` first and stored, as EPUB requires)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED if entry.filename == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry), compresslevel=6)
    return out.getvalue()


def export_epub(archive: Archive, out: Path, where: IssueFilter, tick: Callable[[int], None]) -> list[Path]:
    """One ``.epub`` per newsletter: ``out`` itself when it ends in ``.epub`` (one newsletter), else
    ``out/<newsletter-slug>.epub``."""
    newsletters = {n["name"]: n for n in archive.newsletters(where)}
    single = out.suffix.lower() == ".epub"
    if single and len(newsletters) > 1:
        raise ExportError(
            f"{len(newsletters)} newsletters selected but {out.name} is one book: "
            "choose one with --newsletter, or give a folder to get one book per newsletter"
        )
    if not single:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out} is a file: give a folder, or a .epub file name with --newsletter")
        out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    taken: set[str] = set()
    for name, records in groupby(archive.iter_records(where), key=lambda r: r["newsletter"]):
        issues = list(records)
        data = build_book(newsletters.get(name, {"name": name}), issues)
        path = out if single else inside(out, unique_name(slugify(name, "newsletter"), ".epub", taken, "newsletter"))
        with atomic_file(path, binary=True) as handle:
            handle.write(data)
        written.append(path.resolve())
        tick(len(issues))
    return written
