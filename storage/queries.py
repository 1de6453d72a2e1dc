"""Reading the archive: listing, one issue, full-text search, per-newsletter statistics, export rows.

Every function returns plain dictionaries (JSON-ready, typed below as ``TypedDict``) so the CLI,
tests and users' scripts consume the same shapes. Queries select the columns they return, never
whole rows: an issue row carries three renderings of the body and the gzipped page, and loading
them to print a listing is what makes a large archive slow.

Search uses SQLite FTS5: bm25 ranking weighted towards the title, ``snippet()`` for highlighted
extracts. See ``search_issues`` for how it stays fast on common words. On PostgreSQL it uses the
database's own full-text search (``storage.search_pg``), with the same result shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from sqlalchemy import ColumnElement, Select, bindparam, column, func, literal_column, select, table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage import work_queries
from storage.models import Issue, IssueLink, Newsletter, RejectedPage
from storage.writes import decompress_html

SUMMARY_COLUMNS = (
    "id", "url", "title", "author", "published_at", "word_count", "platform", "access", "issue_number", "fetched_at",
)
DETAIL_COLUMNS = SUMMARY_COLUMNS + (
    "subtitle", "volume",
    "canonical_url", "authors", "modified_at", "description", "tags", "image_url", "language", "content_hash",
    "extractor", "extractor_version", "first_seen_at", "http_status", "body_text", "body_markdown", "body_html",
)
#: What an export record holds: every column but the raw page, plus the newsletter's name.
EXPORT_COLUMNS = (
    "id", "url", "canonical_url", "title", "subtitle", "author", "authors", "published_at", "modified_at",
    "description", "tags", "image_url", "language", "access", "issue_number", "volume", "word_count",
    "platform", "content_hash", "http_status", "extractor", "extractor_version", "fetched_at", "first_seen_at",
    "body_text", "body_markdown", "body_html",
)
SNIPPET_OPEN, SNIPPET_CLOSE = "**", "**"
SNIPPET_TOKENS = 16
#: bm25 weights for (title, author, body_text): a match in the title weighs most.
BM25_WEIGHTS = "10.0, 5.0, 1.0"
Sort = Literal["relevance", "date"]
_FTS = table("issues_fts", column("rowid"), column("rank"))
SORTS: tuple[Sort, ...] = ("relevance", "date")


class QueryError(ValueError):
    """A query the archive cannot run (bad search syntax, unknown issue); the message says why."""


class IssueSummary(TypedDict):
    """One line of ``list`` (and the start of every other shape)."""

    id: int
    url: str
    title: str | None
    author: str | None
    published_at: str | None
    word_count: int
    platform: str
    access: str
    issue_number: int | None
    fetched_at: str
    newsletter: str


class SearchHit(IssueSummary):
    """A search result: the summary, its bm25 score (lower is better; ``None`` when sorted by date)
    and a highlighted extract."""

    rank: float | None
    snippet: str


class IssueDetail(IssueSummary, total=False):
    """One issue as ``show`` prints it: every column, its links, and the raw page on request."""

    subtitle: str | None
    volume: int | None
    canonical_url: str | None
    authors: list[str]
    modified_at: str | None
    description: str | None
    tags: list[str]
    image_url: str | None
    language: str | None
    content_hash: str
    extractor: str
    extractor_version: str
    first_seen_at: str
    http_status: int | None
    body_text: str
    body_markdown: str
    body_html: str
    links: list[dict[str, Any]]
    raw_html: str | None
    copy_of: dict[str, Any] | None  # the primary copy when this issue is a copy of it (storage/works.py)
    copy: dict[str, Any] | None  # content-farm evidence: is_farm, score, reasons, likely_original_url, claims
    aliases: list[str]


class NewsletterStats(TypedDict):
    newsletter: str
    platform: str
    home_url: str | None
    issues: int
    words: int
    first_published: str | None
    last_published: str | None
    last_crawl: str | None
    rejected: int


@dataclass(frozen=True)
class IssueFilter:
    """Filters shared by list, search and export. Dates compare as ISO 8601 text (``2024-06-01``).

    ``newsletter`` is a name, case-insensitive; ``author`` matches words of the author line, case
    and accents ignored, the last word as a beginning ("tom popo" finds "Tom Popomaronis"; on
    databases without FTS5, a case-insensitive substring); ``access`` is an exact state (``free``,
    ``paid_preview``, ``paid_full``, ``login_wall``, ``refused``); ``limit=None`` means all.
    ``with_copies=False`` leaves out issues that are copies of another issue of the archive
    (``issues.copy_of``, storage/works.py), as ``tomtalks list`` and ``search`` do by default.
    """

    newsletter: str | None = None
    since: str | None = None
    until: str | None = None
    author: str | None = None
    access: str | None = None
    limit: int | None = 50
    with_copies: bool = True

    def conditions(self, *, fts: bool = False) -> list[ColumnElement[bool]]:
        """The WHERE clauses on ``issues``, written so SQLite's planner picks the right index.

        The newsletter is matched by ``=`` to a scalar subquery (no join; with an index on
        ``(newsletter_id, published_at)`` the rows come out already newest first). With ``fts``
        (SQLite), ``author`` is looked up in the FTS index's author column instead of scanning
        every row with ``LIKE``; the ``+`` before ``issues.id`` stops SQLite from driving the
        query from that id list, so a newest-first walk of an index can still stop at the limit.
        """
        clauses: list[ColumnElement[bool]] = []
        if self.newsletter:
            ids = select(Newsletter.id).where(func.lower(Newsletter.name) == self.newsletter.lower())
            clauses.append(Issue.newsletter_id == ids.scalar_subquery())
        if self.since:
            clauses.append(Issue.published_at >= self.since)
        if self.until:
            # An ``until`` day includes that whole day: "2024-06-12T14:00:00Z" <= "2024-06-12\uffff".
            clauses.append(Issue.published_at <= self.until + "\uffff")
        if self.author:
            phrase = author_phrase(self.author) if fts else None
            if phrase:
                by_author = select(_FTS.c.rowid).where(
                    literal_column("issues_fts").op("MATCH")(bindparam("author_match", phrase))
                )
                clauses.append(literal_column("+issues.id").in_(by_author))
            else:
                clauses.append(Issue.author.icontains(self.author, autoescape=True))
        if self.access:
            clauses.append(Issue.access == self.access)
        if not self.with_copies:
            clauses.append(Issue.copy_of.is_(None))
        return clauses

    def apply(self, query: Select, *, fts: bool = False) -> Select:
        query = query.where(*self.conditions(fts=fts))
        return query.limit(self.limit) if self.limit else query


def author_phrase(text_: str) -> str | None:
    """An FTS5 query for the author column: the words of ``text_`` in order, the last one a prefix.

    ``"tom popo"`` → ``author : "tom popo"*``: matches "Tom Popomaronis", case and accents
    ignored. Only letters and digits are kept, so the phrase cannot carry FTS5 syntax.
    """
    words = re.findall(r"[^\W_]+", text_)
    return f'author : "{" ".join(words)}"*' if words else None


def _fts(session: Session) -> bool:
    """Whether the archive has the FTS5 index (SQLite archives; other databases do not)."""
    return session.get_bind().dialect.name == "sqlite"


def _summary_select() -> Select:
    return select(*(getattr(Issue, name) for name in SUMMARY_COLUMNS), Newsletter.name.label("newsletter")).join(
        Newsletter, Newsletter.id == Issue.newsletter_id
    )


NEWEST_FIRST = (Issue.published_at.desc().nulls_last(), Issue.fetched_at.desc(), Issue.id.desc())


def list_issues(session: Session, where: IssueFilter) -> list[IssueSummary]:
    """Issues, newest first (undated ones last, by fetch time)."""
    query = where.apply(_summary_select().order_by(*NEWEST_FIRST), fts=_fts(session))
    return [dict(row._mapping) for row in session.execute(query)]  # type: ignore[misc]


def get_issue(session: Session, key: str | int, with_raw_html: bool = False) -> IssueDetail:
    """One issue by id or URL (its stored or canonical URL)."""
    if isinstance(key, int) or str(key).isdigit():
        issue = session.get(Issue, int(key))
    else:
        issue = session.scalars(
            select(Issue).where((Issue.url == key) | (Issue.canonical_url == key)).order_by(Issue.id)
        ).first() or work_queries.issue_by_alias(session, str(key))
    if issue is None:
        raise QueryError(f"no issue {key!r} in this archive (try `tomtalks list` or `tomtalks search`)")
    data: dict[str, Any] = {name: getattr(issue, name) for name in DETAIL_COLUMNS}
    data["newsletter"] = issue.newsletter.name
    data["links"] = [{"position": link.position, "url": link.url, "text": link.text} for link in issue.links]
    data.update(work_queries.copy_details(session, issue.id, issue.copy_of))  # copy_of, copy, aliases
    if with_raw_html:
        data["raw_html"] = decompress_html(issue.raw_html_gz)
    return data  # type: ignore[return-value]


def _search_error(query: str, error: OperationalError) -> QueryError:
    message = str(error.orig) if error.orig else str(error)
    return QueryError(
        f"cannot search for {query!r}: {message}. Quote phrases and words with punctuation, "
        'e.g. "machine-learning"; operators are AND, OR, NOT in capitals'
    )


def search_issues(
    session: Session, query: str, where: IssueFilter, sort: Sort = "relevance"
) -> list[SearchHit]:
    """Full-text search (FTS5 syntax: words, "phrases", prefix*, AND/OR/NOT, NEAR), best match first.

    ``sort="date"`` orders the matches newest first instead. Both make snippets for the page of
    results only. A relevance search costs in proportion to the number of matching issues (bm25
    scores each one, ~1–2 µs); a date search does not score and stops at the limit. See
    ``_by_relevance`` and ``_by_date``, and docs/benchmarks.md for the figures.
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not query.strip():
        raise QueryError("the search query is empty")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from storage import search_pg

        return search_pg.search(session, query, where, sort)
    if dialect != "sqlite":
        raise QueryError(f"full-text search needs SQLite or PostgreSQL; this archive is on {dialect}")
    try:
        return _by_relevance(session, query, where) if sort == "relevance" else _by_date(session, query, where)
    except OperationalError as error:
        raise _search_error(query, error) from error


def _match() -> list[ColumnElement[bool]]:
    """``issues_fts MATCH :query``, ranked by bm25 with our column weights (FTS5's ``rank`` column)."""
    return [
        literal_column("issues_fts").op("MATCH")(bindparam("query")),
        _FTS.c.rank.op("MATCH")(literal_column(f"'bm25({BM25_WEIGHTS})'")),
    ]


def _snippet_columns() -> list[Any]:
    def snippet(column_index: int, label: str) -> Any:
        return literal_column(
            f"snippet(issues_fts, {column_index}, '{SNIPPET_OPEN}', '{SNIPPET_CLOSE}', ' … ', {SNIPPET_TOKENS})"
        ).label(label)

    return [snippet(2, "body_snippet"), snippet(-1, "best_snippet")]


def _hit(row: Any) -> SearchHit:
    """A result row → ``SearchHit``: the body's snippet, or the best column's when the body has no match."""
    data = dict(row._mapping)
    body, best = data.pop("body_snippet"), data.pop("best_snippet")
    data["snippet"] = body if SNIPPET_OPEN in (body or "") else (best or body or "")
    data["rank"] = None if data["rank"] is None else round(float(data["rank"]), 4)
    return data  # type: ignore[return-value]


def _by_relevance(session: Session, query: str, where: IssueFilter) -> list[SearchHit]:
    """One query: FTS5 sorts by ``rank`` itself (``ORDER BY rank`` is consumed by the virtual table), so
    rows come out best first, the join and filters apply as they stream, and the ``LIMIT`` stops the
    loop: snippets are made for the rows returned only."""
    statement = (
        _summary_select()
        .add_columns(_FTS.c.rank, *_snippet_columns())
        .join(_FTS, _FTS.c.rowid == Issue.id)
        .where(*_match(), *where.conditions(fts=True))
        .order_by(_FTS.c.rank)
    )
    if where.limit:
        statement = statement.limit(where.limit)
    return [_hit(row) for row in session.execute(statement, {"query": query})]


def _by_date(session: Session, query: str, where: IssueFilter) -> list[SearchHit]:
    """Two queries, and no bm25 (``rank`` is ``None``): scoring even one row makes FTS5 read every
    match of every term to weigh them, the whole cost of a relevance search.

    First the page of ids: issues walked newest first through the ``published_at`` index, each
    kept if its id is in the set of matches (which FTS5 lists cheaply), stopping at the limit. Then
    the snippets of those few, in one pass: the rowid range lets FTS5 skip what lies outside it.
    """
    matching = select(_FTS.c.rowid).where(literal_column("issues_fts").op("MATCH")(bindparam("query")))
    page = select(Issue.id).where(literal_column("+issues.id").in_(matching), *where.conditions(fts=True))
    page = page.order_by(*NEWEST_FIRST)
    if where.limit:
        page = page.limit(where.limit)
    ids = list(session.scalars(page, {"query": query}))
    if not ids:
        return []
    statement = (
        _summary_select()
        .add_columns(literal_column("NULL").label("rank"), *_snippet_columns())
        .join(_FTS, _FTS.c.rowid == Issue.id)
        .where(
            literal_column("issues_fts").op("MATCH")(bindparam("query")),
            _FTS.c.rowid.between(min(ids), max(ids)),
            # "+" keeps SQLite from handing the id list to FTS5 as one lookup per id (each would
            # re-expand a prefix query); the range is the index constraint, the list a filter.
            literal_column("+issues_fts.rowid").in_(ids),
        )
    )
    hits = {row.id: _hit(row) for row in session.execute(statement, {"query": query})}
    return [hits[issue_id] for issue_id in ids if issue_id in hits]


def newsletter_stats(session: Session) -> list[NewsletterStats]:
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


# Exports -------------------------------------------------------------------------------------------

#: Export order: by newsletter, then oldest first (undated issues last), then id — stable run to run.
EXPORT_ORDER = (Newsletter.name, Issue.published_at.asc().nulls_last(), Issue.id)


def count_issues(session: Session, where: IssueFilter) -> int:
    """How many issues ``where`` selects (its limit included)."""
    inner = where.apply(select(Issue.id), fts=_fts(session)).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def newsletters_info(session: Session, where: IssueFilter) -> list[dict[str, Any]]:
    """The newsletters that have issues ``where`` selects: name, home URL, platform, in name order."""
    ids = select(Issue.newsletter_id).where(*where.conditions(fts=_fts(session))).distinct().scalar_subquery()
    query = select(Newsletter.name, Newsletter.home_url, Newsletter.platform).where(Newsletter.id.in_(ids))
    return [dict(row._mapping) for row in session.execute(query.order_by(Newsletter.name))]


def iter_export_records(session: Session, where: IssueFilter, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every selected issue as a full record (all columns but the raw page, plus its links), in export order.

    Streams in batches so exporting 100,000 issues holds one batch in memory, not the archive.
    """
    query = where.apply(
        select(*(getattr(Issue, name) for name in EXPORT_COLUMNS), Newsletter.name.label("newsletter"))
        .join(Newsletter, Newsletter.id == Issue.newsletter_id)
        .order_by(*EXPORT_ORDER),
        fts=_fts(session),
    )
    result = session.execute(query.execution_options(yield_per=batch))
    for rows in result.partitions():
        records = [dict(row._mapping) for row in rows]
        links = _links_of(session, [record["id"] for record in records])
        for record in records:
            record["links"] = links.get(record["id"], [])
            yield record


def _links_of(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    query = (
        select(IssueLink.issue_id, IssueLink.url, IssueLink.text)
        .where(IssueLink.issue_id.in_(ids))
        .order_by(IssueLink.issue_id, IssueLink.position)
    )
    for issue_id, url, anchor in session.execute(query):
        found.setdefault(issue_id, []).append({"url": url, "text": anchor})
    return found
