"""``CrawlRecorder``: everything a crawl writes; a page's issue and its crawl state in one transaction.

``Archive`` is the users' API (reads, exports); this is the crawler's side. Both share the engine
setup and migrations of ``storage.db``.

Each write is a function of a session (``save_issue``, ``record_unchanged``, ``record_failure``
below), so that it can run alone in its own transaction or with others in one (``run_batch``): the
crawl commits several pages at once, and a page's issue row and crawl state are always written in
the same transaction, whichever way — after a crash, either both are there or neither is, and a
page whose state is missing is fetched again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage import crawl_state
from storage.crawl_state import FAILED, GONE_STATUSES, REFUSED, REJECTED, STORED, UNCHANGED, UrlState
from storage.db import make_engine, resolve_database_url, session_factory, transaction
from storage.writes import SaveResult, record_rejection, upsert_issue

logger = logging.getLogger(__name__)

#: One write of the crawl: runs inside a transaction it does not commit, returns its result.
Write = Callable[[Session], Any]


def save_issue(
    session: Session, *, url: str, newsletter: str, newsletter_url: str | None, raw_html: str | None,
    values: dict[str, Any], links: list[tuple[str, str]] | None, check: dict[str, Any], checks: Any = None,
    raw_html_utf8: bytes | None = None,
) -> SaveResult:
    """Store the issue and its crawl state (in the caller's transaction: both or neither). ``checks``: the
    page-only part of the copy checks, computed by the extraction worker (``storage.page_checks``);
    ``raw_html_utf8``: see ``upsert_issue``."""
    result = upsert_issue(session, url=url, newsletter=newsletter, newsletter_url=newsletter_url,
                          raw_html=raw_html, values=values, links=links, checks=checks, raw_html_utf8=raw_html_utf8)
    crawl_state.record_check(session, url, status=STORED if result.changed else UNCHANGED,
                             newsletter=newsletter, issue_id=result.issue_id, changed=result.changed, **check)
    return result


def record_unchanged(session: Session, *, url: str, newsletter: str | None, check: dict[str, Any]) -> None:
    """A check that found the page as stored (304, or the same page bytes): only the check time moves."""
    crawl_state.record_check(session, url, status=UNCHANGED, newsletter=newsletter, **check)


def record_failure(
    session: Session, *, url: str, reason: str, detail: str | None, http_status: int | None,
    newsletter: str | None,
) -> bool:
    """Record a page not stored. A stored issue answering 404/410 is marked gone (kept). Returns
    True when an issue was marked gone."""
    if http_status in GONE_STATUSES and crawl_state.mark_gone(session, url, http_status):
        return True
    record_rejection(session, url=url, reason=reason, detail=detail, http_status=http_status,
                     newsletter=newsletter)
    status = REFUSED if reason == "refused" else REJECTED if http_status and http_status < 400 else FAILED
    crawl_state.record_check(session, url, status=status, newsletter=newsletter, http_status=http_status,
                             error=f"{reason}: {detail}" if detail else reason)
    return False


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

    def run(self, write: Write) -> Any:
        """One write in its own transaction."""
        with transaction(self._sessions) as session:
            return write(session)

    def run_batch(self, writes: Sequence[Write]) -> list[Any]:
        """Run ``writes`` in one transaction (one commit for all); results in order.

        If the batch fails (one write raises, or the commit does), nothing of it was written: each
        write is then run again in its own transaction, so a bad write costs only itself. In the
        returned list, a write that failed alone has its exception instead of a result.
        """
        try:
            with transaction(self._sessions) as session:
                return [write(session) for write in writes]
        except Exception as error:  # noqa: BLE001 - any failure: fall back to one transaction per write
            if len(writes) == 1:
                return [error]
            logger.warning("A batch of %d writes failed (%s: %s); writing them one by one", len(writes),
                           type(error).__name__, error)
        results: list[Any] = []
        for write in writes:
            try:
                results.append(self.run(write))
            except Exception as error:  # noqa: BLE001 - reported to the item that asked for this write
                results.append(error)
        return results

    def save_issue(
        self, *, url: str, newsletter: str, newsletter_url: str | None, raw_html: str | None,
        values: dict[str, Any], links: list[tuple[str, str]] | None, check: dict[str, Any],
    ) -> SaveResult:
        """Store the issue and its crawl state together: a crash leaves both or neither."""
        return self.run(lambda session: save_issue(
            session, url=url, newsletter=newsletter, newsletter_url=newsletter_url, raw_html=raw_html,
            values=values, links=links, check=check))

    def record_unchanged(self, url: str, newsletter: str | None, check: dict[str, Any]) -> None:
        self.run(lambda session: record_unchanged(session, url=url, newsletter=newsletter, check=check))

    def record_failure(
        self, *, url: str, reason: str, detail: str | None, http_status: int | None, newsletter: str | None,
    ) -> bool:
        return self.run(lambda session: record_failure(session, url=url, reason=reason, detail=detail,
                                                       http_status=http_status, newsletter=newsletter))

    def start_run(self, mode: str, log_file: str | None = None) -> int:
        with transaction(self._sessions) as session:
            return crawl_state.start_run(session, mode, log_file)

    def finish_run(self, run_id: int, reason: str) -> None:
        with transaction(self._sessions) as session:
            crawl_state.finish_run(session, run_id, reason)

    def record_run_source(self, run_id: int, source: str, counts: dict[str, Any]) -> None:
        with transaction(self._sessions) as session:
            crawl_state.record_run_source(session, run_id, source, counts)
