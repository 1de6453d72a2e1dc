"""Writing to the archive: one issue per transaction, upserted by identity; rejections recorded.

The caller (the store pipeline) hands plain values, so this module knows nothing of Scrapy or
of how pages were extracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storage import works
from storage.models import Issue, IssueLink, IssueRevision, Newsletter, RejectedPage, utc_now_iso
from storage.upsert import insert_or_get

try:  # ISA-L's gzip: the same format, a fifth of zlib's CPU time (installed where python-isal has wheels)
    from isal import igzip as gzip

    _GZIP_LEVEL = 2
except ImportError:  # a platform without a wheel: the standard library writes the same format, slower
    import gzip  # type: ignore[no-redef]

    _GZIP_LEVEL = 3

ISSUE_FIELDS = (
    "canonical_url", "platform", "title", "author", "authors", "published_at", "modified_at", "description",
    "tags", "image_url", "language", "body_text", "body_markdown", "body_html", "word_count", "content_hash",
    "http_status", "extractor", "extractor_version", "subtitle", "issue_number", "volume", "access",
)
#: Fields that come from the body: a paywalled preview must not replace a fuller body already stored.
BODY_FIELDS = ("body_text", "body_markdown", "body_html", "word_count", "content_hash")
FULL_ACCESS = ("free", "paid_full")


@dataclass(frozen=True)
class SaveResult:
    issue_id: int
    created: bool
    changed: bool  # the body's content hash differs from what was stored


def compress_html(raw_html: str | bytes) -> bytes:
    """gzip the raw page (mtime 0 so the same page always gives the same bytes), readable by any gzip.
    ``bytes`` must be the page text's UTF-8 (a crawl has them for most pages: the response body).

    It was the store's largest step: on the benchmark pages (155 KB) zlib at level 3 took 1.24 ms a
    page, a tenth of the crawl process's CPU. ISA-L at its level 2 takes 0.25 ms, for output 3 % larger
    (23.3 % of the page instead of 22.6 %; ``bench/throughput.py`` figures in docs/benchmarks.md).
    """
    data = raw_html.encode("utf-8") if isinstance(raw_html, str) else raw_html
    return gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0)


def decompress_html(blob: bytes | None) -> str | None:
    return gzip.decompress(blob).decode("utf-8") if blob else None


#: ``Session.info`` key: the newsletters this session has looked up, by name (a crawl's batch stores many
#: pages of one newsletter: one query for them all).
_NEWSLETTERS = "tomtalks.newsletters"


def get_or_create_newsletter(session: Session, name: str, home_url: str | None, platform: str) -> Newsletter:
    """The newsletter called ``name``; created on first sight, its home URL filled in when learnt."""
    known: dict[str, Newsletter] = session.info.setdefault(_NEWSLETTERS, {})
    newsletter = known.get(name)
    if newsletter is None:
        newsletter = session.scalar(select(Newsletter).where(Newsletter.name == name))
    if newsletter is None:
        newsletter, created = insert_or_get(session, Newsletter, {"name": name},
                                            {"home_url": home_url, "platform": platform, "created_at": utc_now_iso()})
        if created:
            known[name] = newsletter
            return newsletter
    known[name] = newsletter
    if home_url and not newsletter.home_url:
        newsletter.home_url = home_url
    if platform != "generic" and newsletter.platform == "generic":
        newsletter.platform = platform
    return newsletter


def _identifies(url: str | None, host: str | None, listing_urls: tuple[str | None, ...]) -> bool:
    """Whether ``url`` (a page's canonical, or its own URL) can stand for one issue on ``host``.

    Not a URL on another host (a copy must not overwrite the original it points to), nor a site's
    home page or the newsletter's listing: some sites declare that as every page's canonical, and
    trusting it would fold the whole archive into one row.
    """
    if not url:
        return False
    parts = urlsplit(url)
    if parts.hostname != host or parts.path in ("", "/"):
        return False
    return _bare(url) not in {_bare(listing) for listing in listing_urls if listing}


def _bare(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path.rstrip('/')}?{parts.query}"


def find_issue(
    session: Session, url: str, canonical_url: str | None, listing_urls: tuple[str | None, ...] = ()
) -> Issue | None:
    """The stored issue for ``url``, also found by a stored URL equal to its canonical URL.

    The same issue reached under two URLs (feed link vs. canonical permalink) stays one row. A
    canonical URL is trusted for identity only when ``_identifies`` says so: same host, not the home
    page, not one of ``listing_urls`` (the newsletter's). The row is locked (``FOR UPDATE`` on
    PostgreSQL; SQLite has one writer anyway), so concurrent writers of one issue take turns.
    """
    host = urlsplit(url).hostname
    keys = {url}
    if _identifies(canonical_url, host, listing_urls):
        keys.add(canonical_url)
    # Ids and URLs first (a Core statement: most pages are new, and then no row is loaded at all). Core
    # statements do not autoflush: rows added in this session are written first, as an ORM query would.
    session.flush()
    # A row whose canonical is this URL is this issue, unless this URL is a home page or listing.
    statement = _FIND_BY_URL_OR_CANONICAL if _identifies(url, host, listing_urls) else _FIND_BY_URL
    rows = session.execute(statement, {"keys": sorted(keys)}).all()
    exact = [row for row in rows if row.url == url]
    same_site = [row for row in rows if urlsplit(row.url).hostname == host]
    found = (exact or same_site or [None])[0]
    return None if found is None else session.get(Issue, found.id)


def _find_statement(*columns: str) -> Any:
    """The stored rows (id, url) whose ``columns`` hold one of the ``keys``, locked, oldest first."""
    table = Issue.__table__
    keys = bindparam("keys", expanding=True)
    return (select(table.c.id, table.c.url).where(or_(*(table.c[column].in_(keys) for column in columns)))
            .order_by(table.c.id).with_for_update())


_FIND_BY_URL = _find_statement("url")
_FIND_BY_URL_OR_CANONICAL = _find_statement("url", "canonical_url")


def upsert_issue(
    session: Session,
    *,
    url: str,
    newsletter: str,
    newsletter_url: str | None,
    raw_html: str | None,
    values: dict[str, Any],
    links: list[tuple[str, str]] | None = None,
    checks: Any = None,
    raw_html_utf8: bytes | None = None,
) -> SaveResult:
    """Insert the issue, or update the stored row in place (never a second row for one issue).

    ``checks``: the page-only part of the copy checks, computed beforehand (``storage.page_checks``).
    ``raw_html_utf8``: ``raw_html``'s exact UTF-8, when the caller has it (a crawl: the response body),
    compressed as it is instead of encoding the text again.

    ``links`` are the body's (url, anchor text) pairs in order; they replace the stored ones.
    A ``paid_preview`` never overwrites a full body already stored: its metadata is taken, its
    shorter body is not.
    """
    unknown = set(values) - set(ISSUE_FIELDS)
    if unknown:
        raise ValueError(f"unknown issue fields: {sorted(unknown)}")
    owner = get_or_create_newsletter(session, newsletter, newsletter_url, values.get("platform", "generic"))
    issue = find_issue(session, url, values.get("canonical_url"), (newsletter_url, owner.home_url))
    now = utc_now_iso()
    raw_html_gz = None if raw_html is None else compress_html(raw_html if raw_html_utf8 is None else raw_html_utf8)
    created = False
    if issue is None:
        issue, created = _insert_issue(session, url, owner, values, now, raw_html_gz)
    if created:  # the INSERT wrote every value: nothing to compare, set or flush; the links go in with Core
        set_committed_value(issue, "newsletter", owner)
        if links:
            _insert_links(session, issue, links)
        changed = True
    else:
        changed = _update_issue(session, issue, owner, values, now, raw_html_gz, links)
    # A page stored now is no longer a failure. Looked up with a Core statement (rarely is there one).
    rejected = session.execute(_REJECTED_ID, {"url": url}).scalar()
    if rejected is not None:
        session.delete(session.get(RejectedPage, rejected))
    # Identity, aliases, copy evidence, duplicate grouping (storage/works.py); may fold an alias into its issue.
    return works.after_upsert(session, issue, SaveResult(issue.id, created, changed), url=url, raw_html=raw_html,
                              checks=checks)


def _update_issue(session: Session, issue: Issue, owner: Newsletter, values: dict[str, Any], now: str,
                  raw_html_gz: bytes | None, links: list[tuple[str, str]] | None) -> bool:
    """Write a new fetch of a stored issue over it (its body kept in a revision when it changed); whether
    the body changed."""
    keep_body = (
        values.get("access") == "paid_preview" and issue.access in FULL_ACCESS
        and (issue.word_count or 0) > (values.get("word_count") or 0)
    )
    if keep_body:
        values = {k: v for k, v in values.items() if k not in BODY_FIELDS and k != "access"}
        links = None
    changed = "content_hash" in values and issue.content_hash != values["content_hash"]
    if changed:
        keep_revision(issue, now)
    issue.gone_at = None
    for name, value in values.items():
        setattr(issue, name, value)
    issue.newsletter = owner
    issue.fetched_at = now
    if raw_html_gz is not None:
        issue.raw_html_gz = raw_html_gz
    if links is not None:
        issue.links.clear()
        session.flush()  # delete the old rows before inserting new ones at the same positions
        issue.links.extend(IssueLink(position=i, url=url, text=text) for i, (url, text) in enumerate(links))
    session.flush()
    return changed


def _insert_links(session: Session, issue: Issue, links: list[tuple[str, str]]) -> None:
    """A new issue's links: one INSERT for all (``RETURNING`` their ids), the ORM objects made from the
    values written and attached as if loaded, so ``issue.links`` reads them without a query."""
    rows = [{"issue_id": issue.id, "position": i, "url": url, "text": text} for i, (url, text) in enumerate(links)]
    objects = []
    for row, link_id in zip(rows, session.execute(_INSERT_LINKS, rows).scalars().all(), strict=True):
        link = IssueLink(id=link_id, **row)
        make_transient_to_detached(link)
        session.add(link)
        objects.append(link)
    set_committed_value(issue, "links", objects)


_INSERT_LINKS = insert(IssueLink.__table__).returning(IssueLink.__table__.c.id, sort_by_parameter_order=True)
_REJECTED_ID = select(RejectedPage.__table__.c.id).where(RejectedPage.__table__.c.url == bindparam("url"))


def _insert_issue(
    session: Session, url: str, owner: Newsletter, values: dict[str, Any], now: str, raw_html_gz: bytes | None
) -> tuple[Issue, bool]:
    """A new row for ``url`` (``ON CONFLICT (url) DO NOTHING``): ``(issue, True)``; or, when another writer
    stored ``url`` meanwhile, its row, locked, and ``False``: then this write updates it as a re-crawl."""
    fields = {**values, "newsletter_id": owner.id, "first_seen_at": now, "fetched_at": now}
    if raw_html_gz is not None:
        fields["raw_html_gz"] = raw_html_gz
    issue, created = insert_or_get(session, Issue, {"url": url}, fields)
    if created:  # nothing stored under it yet: no query to load them
        set_committed_value(issue, "links", [])
        set_committed_value(issue, "revisions", [])
    else:
        session.refresh(issue, with_for_update=True)
    return issue, created


def keep_revision(issue: Issue, now: str) -> None:
    """Keep the issue's current body as its next revision, before a changed body replaces it."""
    issue.revisions.append(IssueRevision(
        revision=len(issue.revisions) + 1, title=issue.title, body_text=issue.body_text,
        body_markdown=issue.body_markdown, body_html=issue.body_html, word_count=issue.word_count,
        content_hash=issue.content_hash, fetched_at=issue.fetched_at, replaced_at=now,
    ))


def record_rejection(
    session: Session,
    *,
    url: str,
    reason: str,
    detail: str | None = None,
    http_status: int | None = None,
    newsletter: str | None = None,
) -> None:
    """Record (or count one more attempt of) a page that was not stored, with the reason."""
    now = utc_now_iso()
    row = session.scalar(select(RejectedPage).where(RejectedPage.url == url))
    if row is None:
        row, created = insert_or_get(session, RejectedPage, {"url": url}, {
            "reason": reason, "detail": detail, "http_status": http_status, "newsletter": newsletter,
            "attempts": 1, "first_at": now, "last_at": now,
        })
        if created:
            return
    row.reason, row.detail, row.http_status = reason, detail, http_status
    row.newsletter = newsletter or row.newsletter
    row.attempts += 1
    row.last_at = now
