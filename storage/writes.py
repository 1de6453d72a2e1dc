"""Writing to the archive: one issue per transaction, upserted by identity; rejections recorded.

The caller (the store pipeline) hands plain values, so this module knows nothing of Scrapy or
of how pages were extracted.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage import works
from storage.models import Issue, IssueLink, IssueRevision, Newsletter, RejectedPage, utc_now_iso

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


def compress_html(raw_html: str) -> bytes:
    """gzip the raw page (mtime 0 so the same page always gives the same bytes)."""
    return gzip.compress(raw_html.encode("utf-8"), compresslevel=6, mtime=0)


def decompress_html(blob: bytes | None) -> str | None:
    return gzip.decompress(blob).decode("utf-8") if blob else None


def get_or_create_newsletter(session: Session, name: str, home_url: str | None, platform: str) -> Newsletter:
    """The newsletter called ``name``; created on first sight, its home URL filled in when learnt."""
    newsletter = session.scalar(select(Newsletter).where(Newsletter.name == name))
    if newsletter is None:
        newsletter = Newsletter(name=name, home_url=home_url, platform=platform, created_at=utc_now_iso())
        session.add(newsletter)
        session.flush()
    else:
        if home_url and not newsletter.home_url:
            newsletter.home_url = home_url
        if platform != "generic" and newsletter.platform == "generic":
            newsletter.platform = platform
    return newsletter


def find_issue(session: Session, url: str, canonical_url: str | None) -> Issue | None:
    """The stored issue for ``url``, also found by a stored URL equal to its canonical URL.

    The same issue reached under two URLs (feed link vs. canonical permalink) stays one row.
    A canonical URL on another host is not trusted for identity: a copy must not overwrite
    the original it points to.
    """
    host = urlsplit(url).hostname
    keys = {url}
    if canonical_url and urlsplit(canonical_url).hostname == host:
        keys.add(canonical_url)
    rows = session.scalars(
        select(Issue).where(or_(Issue.url.in_(keys), Issue.canonical_url.in_(keys))).order_by(Issue.id)
    ).all()
    exact = [row for row in rows if row.url == url]
    same_site = [row for row in rows if urlsplit(row.url).hostname == host]
    return (exact or same_site or [None])[0]


def upsert_issue(
    session: Session,
    *,
    url: str,
    newsletter: str,
    newsletter_url: str | None,
    raw_html: str | None,
    values: dict[str, Any],
    links: list[tuple[str, str]] | None = None,
) -> SaveResult:
    """Insert the issue, or update the stored row in place (never a second row for one issue).

    ``links`` are the body's (url, anchor text) pairs in order; they replace the stored ones.
    A ``paid_preview`` never overwrites a full body already stored: its metadata is taken, its
    shorter body is not.
    """
    unknown = set(values) - set(ISSUE_FIELDS)
    if unknown:
        raise ValueError(f"unknown issue fields: {sorted(unknown)}")
    owner = get_or_create_newsletter(session, newsletter, newsletter_url, values.get("platform", "generic"))
    issue = find_issue(session, url, values.get("canonical_url"))
    now = utc_now_iso()
    created = issue is None
    if issue is None:
        issue = Issue(url=url, newsletter=owner, first_seen_at=now)
        session.add(issue)
    keep_body = (
        not created and values.get("access") == "paid_preview" and issue.access in FULL_ACCESS
        and (issue.word_count or 0) > (values.get("word_count") or 0)
    )
    if keep_body:
        values = {k: v for k, v in values.items() if k not in BODY_FIELDS and k != "access"}
        links = None
    changed = created or ("content_hash" in values and issue.content_hash != values["content_hash"])
    if changed and not created:
        keep_revision(issue, now)
    issue.gone_at = None
    for name, value in values.items():
        setattr(issue, name, value)
    issue.newsletter = owner
    issue.fetched_at = now
    if raw_html is not None:
        issue.raw_html_gz = compress_html(raw_html)
    if links is not None:
        if not created:  # a new issue has no stored links: no query for them, one INSERT with every column
            issue.links.clear()
            session.flush()  # delete the old rows before inserting new ones at the same positions
        issue.links.extend(IssueLink(position=i, url=url, text=text) for i, (url, text) in enumerate(links))
    session.flush()
    # A page stored now is no longer a failure.
    rejected = session.scalar(select(RejectedPage).where(RejectedPage.url == url))
    if rejected is not None:
        session.delete(rejected)
    # Identity, aliases, copy evidence, duplicate grouping (storage/works.py); may fold an alias into its issue.
    return works.after_upsert(session, issue, SaveResult(issue.id, created, changed), url=url, raw_html=raw_html)


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
        session.add(
            RejectedPage(
                url=url, reason=reason, detail=detail, http_status=http_status, newsletter=newsletter,
                attempts=1, first_at=now, last_at=now,
            )
        )
        return
    row.reason, row.detail, row.http_status = reason, detail, http_status
    row.newsletter = newsletter or row.newsletter
    row.attempts += 1
    row.last_at = now
