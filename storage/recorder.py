"""``CrawlRecorder``: everything a crawl writes, each page in one transaction (issue + its crawl state).

``Archive`` is the users' API (reads, exports); this is the crawler's side. Both share the engine
setup and migrations of ``storage.db``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from storage import crawl_state
from storage.crawl_state import FAILED, GONE_STATUSES, REFUSED, REJECTED, STORED, UNCHANGED, UrlState
from storage.db import make_engine, resolve_database_url, session_factory, transaction
from storage.writes import SaveResult, record_rejection, upsert_issue


class CrawlRecorder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, url: str | None = None) -> CrawlRecorder:
        """Open (creating when needed) the archive a crawl writes to."""
        return cls(make_engine(resolve_database_url(url), create=True))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def load_states(self) -> dict[str, UrlState]:
        with self._sessions() as session:
            return crawl_state.load_states(session)

    def save_issue(
        self, *, url: str, newsletter: str, newsletter_url: str | None, raw_html: str | None,
        values: dict[str, Any], links: list[tuple[str, str]] | None, check: dict[str, Any],
    ) -> SaveResult:
        """Store the issue and its crawl state together: a crash leaves both or neither."""
        with transaction(self._sessions) as session:
            result = upsert_issue(session, url=url, newsletter=newsletter, newsletter_url=newsletter_url,
                                  raw_html=raw_html, values=values, links=links)
            crawl_state.record_check(session, url, status=STORED if result.changed else UNCHANGED,
                                     newsletter=newsletter, issue_id=result.issue_id, changed=result.changed,
                                     **check)
            return result

    def record_unchanged(self, url: str, newsletter: str | None, check: dict[str, Any]) -> None:
        """A check that found the page as stored (304, or the same page bytes): only the check time moves."""
        with transaction(self._sessions) as session:
            crawl_state.record_check(session, url, status=UNCHANGED, newsletter=newsletter, **check)

    def record_failure(
        self, *, url: str, reason: str, detail: str | None, http_status: int | None, newsletter: str | None,
    ) -> bool:
        """Record a page not stored. A stored issue answering 404/410 is marked gone (kept). Returns
        True when an issue was marked gone."""
        with transaction(self._sessions) as session:
            if http_status in GONE_STATUSES and crawl_state.mark_gone(session, url, http_status):
                return True
            record_rejection(session, url=url, reason=reason, detail=detail, http_status=http_status,
                             newsletter=newsletter)
            status = REFUSED if reason == "refused" else REJECTED if http_status and http_status < 400 else FAILED
            crawl_state.record_check(session, url, status=status, newsletter=newsletter, http_status=http_status,
                                     error=f"{reason}: {detail}" if detail else reason)
            return False

    def start_run(self, mode: str, log_file: str | None = None) -> int:
        with transaction(self._sessions) as session:
            return crawl_state.start_run(session, mode, log_file)

    def finish_run(self, run_id: int, reason: str) -> None:
        with transaction(self._sessions) as session:
            crawl_state.finish_run(session, run_id, reason)

    def record_run_source(self, run_id: int, source: str, counts: dict[str, Any]) -> None:
        with transaction(self._sessions) as session:
            crawl_state.record_run_source(session, run_id, source, counts)
