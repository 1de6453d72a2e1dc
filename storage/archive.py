"""``Archive``: the Python API over one archive database. The CLI is a thin layer on it.

    >>> from storage import Archive
    >>> archive = Archive.open("data/newsletters.db")
    >>> [issue["title"] for issue in archive.search("quantization")]
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from storage import queries
from storage.db import make_engine, resolve_database_url, session_factory, transaction
from storage.queries import IssueFilter
from storage.writes import SaveResult, record_rejection, upsert_issue


class Archive:
    """One archive database: read queries and the writes the crawl pipeline makes."""

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

    def list(self, where: IssueFilter | None = None) -> list[dict[str, Any]]:
        with self._sessions() as session:
            return queries.list_issues(session, where or IssueFilter())

    def get(self, key: str | int, *, with_raw_html: bool = False) -> dict[str, Any]:
        with self._sessions() as session:
            return queries.get_issue(session, key, with_raw_html=with_raw_html)

    def search(self, query: str, where: IssueFilter | None = None) -> list[dict[str, Any]]:
        with self._sessions() as session:
            return queries.search_issues(session, query, where or IssueFilter())

    def stats(self) -> list[dict[str, Any]]:
        with self._sessions() as session:
            return queries.newsletter_stats(session)

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
