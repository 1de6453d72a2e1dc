"""Reading the archive: listing, one issue, full-text search, per-newsletter statistics.

Every function returns plain dictionaries (JSON-ready) so the CLI, tests and users' scripts
consume the same shapes. Search uses SQLite FTS5 with bm25 ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, column, func, literal_column, select, table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.models import Issue, Newsletter, RejectedPage
from storage.writes import decompress_html

SUMMARY_COLUMNS = (
    "id", "url", "title", "author", "published_at", "word_count", "platform", "access", "issue_number", "fetched_at",
)
DETAIL_COLUMNS = SUMMARY_COLUMNS + (
    "subtitle", "volume",
    "canonical_url", "authors", "modified_at", "description", "tags", "image_url", "language", "content_hash",
    "extractor", "extractor_version", "first_seen_at", "http_status", "body_text", "body_markdown", "body_html",
)
SNIPPET_OPEN, SNIPPET_CLOSE = "**", "**"
_FTS = table("issues_fts", column("rowid"))


class QueryError(ValueError):
    """A query the archive cannot run (bad search syntax, unknown issue); the message says why."""


@dataclass(frozen=True)
class IssueFilter:
    """Filters shared by list and search. Dates compare as ISO 8601 text (``2024-06-01``)."""

    newsletter: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int | None = 50

    def apply(self, query: Select) -> Select:
        if self.newsletter:
            query = query.where(func.lower(Newsletter.name) == self.newsletter.lower())
        if self.since:
            query = query.where(Issue.published_at >= self.since)
        if self.until:
            # An ``until`` day includes that whole day: "2024-06-12T14:00:00Z" <= "2024-06-12\uffff".
            query = query.where(Issue.published_at <= self.until + "\uffff")
        if self.limit:
            query = query.limit(self.limit)
        return query


def _row(issue: Issue, columns: tuple[str, ...]) -> dict[str, Any]:
    data = {name: getattr(issue, name) for name in columns}
    data["newsletter"] = issue.newsletter.name
    return data


def list_issues(session: Session, where: IssueFilter) -> list[dict[str, Any]]:
    """Issues, newest first (undated ones last, by fetch time)."""
    query = (
        select(Issue)
        .join(Newsletter)
        .order_by(Issue.published_at.desc().nulls_last(), Issue.fetched_at.desc(), Issue.id.desc())
    )
    return [_row(issue, SUMMARY_COLUMNS) for issue in session.scalars(where.apply(query))]


def get_issue(session: Session, key: str | int, with_raw_html: bool = False) -> dict[str, Any]:
    """One issue by id or URL (its stored or canonical URL)."""
    if isinstance(key, int) or str(key).isdigit():
        issue = session.get(Issue, int(key))
    else:
        issue = session.scalars(
            select(Issue).where((Issue.url == key) | (Issue.canonical_url == key)).order_by(Issue.id)
        ).first()
    if issue is None:
        raise QueryError(f"no issue {key!r} in this archive (try `tomtalks list` or `tomtalks search`)")
    data = _row(issue, DETAIL_COLUMNS)
    data["links"] = [{"position": link.position, "url": link.url, "text": link.text} for link in issue.links]
    if with_raw_html:
        data["raw_html"] = decompress_html(issue.raw_html_gz)
    return data


def search_issues(session: Session, query: str, where: IssueFilter) -> list[dict[str, Any]]:
    """Full-text search (FTS5 syntax: words, "phrases", prefix*, AND/OR/NOT), best match first."""
    if not query.strip():
        raise QueryError("the search query is empty")
    statement = (
        select(
            Issue,
            literal_column("bm25(issues_fts, 10.0, 5.0, 1.0)").label("rank"),
            literal_column(f"snippet(issues_fts, 2, '{SNIPPET_OPEN}', '{SNIPPET_CLOSE}', ' … ', 16)").label(
                "snippet"
            ),
        )
        .join(Newsletter)
        .join(_FTS, _FTS.c.rowid == Issue.id)
        .where(literal_column("issues_fts").op("MATCH")(bindparam("query")))
        .order_by(literal_column("rank"))
    )
    try:
        rows = session.execute(where.apply(statement), {"query": query}).all()
    except OperationalError as error:
        message = str(error.orig) if error.orig else str(error)
        raise QueryError(
            f"cannot search for {query!r}: {message}. Quote phrases and words with punctuation, "
            'e.g. "machine-learning"'
        ) from error
    results = []
    for issue, rank, snippet in rows:
        data = _row(issue, SUMMARY_COLUMNS)
        data["rank"] = round(float(rank), 4)
        data["snippet"] = snippet
        results.append(data)
    return results


def newsletter_stats(session: Session) -> list[dict[str, Any]]:
    """Per newsletter: issues, words, first and last issue date, last crawl, pages rejected."""
    rejected = dict(
        session.execute(select(RejectedPage.newsletter, func.count()).group_by(RejectedPage.newsletter)).all()
    )
    query = (
        select(
            Newsletter.name,
            Newsletter.platform,
            Newsletter.home_url,
            func.count(Issue.id),
            func.coalesce(func.sum(Issue.word_count), 0),
            func.min(Issue.published_at),
            func.max(Issue.published_at),
            func.max(Issue.fetched_at),
        )
        .outerjoin(Issue)
        .group_by(Newsletter.id)
        .order_by(Newsletter.name)
    )
    return [
        {
            "newsletter": name, "platform": platform, "home_url": home_url, "issues": count, "words": words,
            "first_published": first, "last_published": last, "last_crawl": crawled,
            "rejected": rejected.get(name, 0),
        }
        for name, platform, home_url, count, words, first, last, crawled in session.execute(query)
    ]
