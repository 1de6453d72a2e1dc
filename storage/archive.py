"""``Archive``: the Python API over one archive database. The CLI is a thin layer on it.

    >>> from storage import Archive
    >>> from storage.queries import IssueFilter
    >>> archive = Archive.open("data/newsletters.db")
    >>> [hit["title"] for hit in archive.search('"small models" OR quantiz*', IssueFilter(since="2024-01-01"))]
    >>> archive.export("jsonl", "issues.jsonl", IssueFilter(newsletter="TomTalks", limit=None))

Reads return plain dictionaries typed in ``storage.queries`` (``IssueSummary``, ``SearchHit``,
``IssueDetail``, ``NewsletterStats``), the same shapes ``tomtalks … --json`` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from storage import queries, work_queries, works
from storage.db import make_engine, resolve_database_url, session_factory, transaction
from storage.queries import IssueDetail, IssueFilter, IssueSummary, NewsletterStats, SearchHit, Sort
from storage.writes import SaveResult, record_rejection, upsert_issue


class Archive:
    """One archive database: read queries, exports, and the writes the crawl pipeline makes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> Archive:
        """Open the archive at ``url`` (URL or SQLite path; default resolution as in the docs).

        ``create=False`` refuses to make a new empty SQLite file: readers asking for an archive
        that does not exist get a clear ``DatabaseError``.
        """
        return cls(make_engine(resolve_database_url(url), create=create))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # Reads -------------------------------------------------------------------------------------

    def list(self, where: IssueFilter | None = None) -> list[IssueSummary]:
        """Issues matching ``where``, newest first (default: the 50 newest)."""
        with self._sessions() as session:
            return queries.list_issues(session, where or IssueFilter())

    def get(self, key: str | int, *, with_raw_html: bool = False) -> IssueDetail:
        """One issue by id or URL, with every column and its links; raises ``QueryError`` if absent."""
        with self._sessions() as session:
            return queries.get_issue(session, key, with_raw_html=with_raw_html)

    def search(self, query: str, where: IssueFilter | None = None, *, sort: Sort = "relevance") -> list[SearchHit]:
        """Full-text search (FTS5 syntax), best match first or (``sort="date"``) newest first.

        Raises ``QueryError`` with a readable message when FTS5 cannot parse ``query``.
        """
        with self._sessions() as session:
            return queries.search_issues(session, query, where or IssueFilter(), sort)

    def stats(self) -> list[NewsletterStats]:
        """Per newsletter: issues, words, first and last date, last crawl, rejected pages."""
        with self._sessions() as session:
            return queries.newsletter_stats(session)

    def count(self, where: IssueFilter | None = None) -> int:
        """How many issues ``where`` selects (all issues by default)."""
        with self._sessions() as session:
            return queries.count_issues(session, where or IssueFilter(limit=None))

    def newsletters(self, where: IssueFilter | None = None) -> list[dict[str, Any]]:
        """The newsletters having issues that ``where`` selects (name, home_url, platform), by name."""
        with self._sessions() as session:
            return queries.newsletters_info(session, where or IssueFilter(limit=None))

    def iter_records(self, where: IssueFilter | None = None) -> Iterator[dict[str, Any]]:
        """Every selected issue as a full record (no raw page), by newsletter then oldest first.

        A generator: the session stays open while it is consumed, one batch of rows in memory.
        """
        with self._sessions() as session:
            yield from queries.iter_export_records(session, where or IssueFilter(limit=None))

    def export(
        self, format: str, out: str | Path, where: IssueFilter | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Path]:
        """Export the selected issues (``markdown``, ``jsonl``, ``csv``, ``epub``) to ``out``.

        ``out`` is a folder for Markdown, a file for the others (``-`` is standard output for
        ``jsonl`` and ``csv``; a folder for EPUB when several newsletters are exported).
        ``progress`` is called with the number of issues written since the last call. Returns
        the files written. The same archive always gives byte-identical files.
        """
        from storage.exports import export  # the exporters import ebooklib lazily; keep reads light

        return export(self, format, out, where or IssueFilter(limit=None), progress)

    # Copies and duplicates (storage/works.py) --------------------------------------------------

    def duplicates(self) -> list[dict[str, Any]]:
        """Works of near-duplicate issues (primary first, with similarity and reasons), then farm copies
        whose original is not in the archive. Issues not indexed yet are not in it: see ``index_duplicates``."""
        with self._sessions() as session:
            return work_queries.duplicate_groups(session)

    def index_duplicates(self, *, rebuild: bool = False, progress: Callable[[int, int], None] | None = None) -> int:
        """Fingerprint and group the issues stored before duplicates were tracked (all with ``rebuild``),
        200 per transaction; returns how many were indexed. ``progress(done, total)`` after each batch."""
        with transaction(self._sessions) as session:
            if rebuild:
                works.forget_all(session)
            ids = works.unindexed_ids(session)
        for start in range(0, len(ids), 200):
            with transaction(self._sessions) as session:
                for issue_id in ids[start:start + 200]:
                    works.index_existing(session, issue_id)
            if progress:
                progress(min(start + 200, len(ids)), len(ids))
        return len(ids)

    def prefer_platforms(self, platforms: list[str]) -> None:
        """Prefer these platforms, in this order, for the primary copy of every work (kept in the archive,
        so crawls use it too); an empty list goes back to the default order."""
        with transaction(self._sessions) as session:
            works.set_preferred_platforms(session, [p.lower() for p in platforms])

    # Writes (one transaction each) -------------------------------------------------------------

    def save_issue(
        self, *, url: str, newsletter: str, newsletter_url: str | None, raw_html: str | None,
        values: dict[str, Any], links: list[tuple[str, str]] | None = None,
    ) -> SaveResult:
        with transaction(self._sessions) as session:
            return upsert_issue(
                session, url=url, newsletter=newsletter, newsletter_url=newsletter_url, raw_html=raw_html,
                values=values, links=links,
            )

    def record_rejection(
        self, *, url: str, reason: str, detail: str | None = None, http_status: int | None = None,
        newsletter: str | None = None,
    ) -> None:
        with transaction(self._sessions) as session:
            record_rejection(
                session, url=url, reason=reason, detail=detail, http_status=http_status, newsletter=newsletter
            )
