"""Crawl state between runs: what each URL looked like when last checked, and the record of each run.

A cron run reads the state of every known URL once at start (``load_states``), decides from it
what to skip or re-check conditionally, and writes one row per URL it touched (``record_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import CrawlRun, CrawlRunSource, CrawlState, Issue, utc_now_iso
from storage.upsert import insert_or_get

#: Statuses a URL can have after a check.
STORED, UNCHANGED, GONE, FAILED, REFUSED, REJECTED = "stored", "unchanged", "gone", "failed", "refused", "rejected"
GONE_STATUSES = (404, 410)


@dataclass(frozen=True)
class UrlState:
    """A read-only snapshot of a URL's state, handed to the spider."""

    url: str
    status: str
    etag: str | None
    last_modified: str | None
    page_hash: str | None
    listed_date: str | None
    published_at: str | None
    last_checked_at: str
    issue_id: int | None

    @property
    def stored(self) -> bool:
        return self.issue_id is not None and self.status in (STORED, UNCHANGED)


def load_states(session: Session) -> dict[str, UrlState]:
    """Every URL's state, keyed by URL (a few hundred bytes each: fine for hundreds of thousands)."""
    rows = session.execute(select(
        CrawlState.url, CrawlState.status, CrawlState.etag, CrawlState.last_modified, CrawlState.page_hash,
        CrawlState.listed_date, CrawlState.published_at, CrawlState.last_checked_at, CrawlState.issue_id,
    ))
    return {row.url: UrlState(*row) for row in rows}


def record_check(
    session: Session,
    url: str,
    *,
    status: str,
    newsletter: str | None = None,
    http_status: int | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    page_hash: str | None = None,
    listed_date: str | None = None,
    published_at: str | None = None,
    issue_id: int | None = None,
    changed: bool = False,
    error: str | None = None,
) -> None:
    """Write what one check of ``url`` found. Validators and hashes are kept when a check brings none
    (a 304 or a failure must not forget the ETag the next run needs).

    One ``INSERT … ON CONFLICT (url) DO UPDATE`` (the crawl writes this for every page: a lookup, an
    insert and an ORM update cost three times more); the update's rules are ``_upsert_statement``'s.
    Two crawls checking one new URL at once make one row, as the database settles it.
    """
    now = utc_now_iso()
    failure = status in (FAILED, REFUSED, REJECTED)
    row = {
        "url": url, "newsletter": newsletter or None, "issue_id": issue_id, "status": status,
        "http_status": http_status, "etag": etag, "last_modified": last_modified, "page_hash": page_hash,
        "listed_date": listed_date, "published_at": published_at, "first_seen_at": now, "last_checked_at": now,
        "last_changed_at": now if changed else None, "failure_count": 1 if failure else 0,
        "last_error": error if failure else None,
    }
    statement = _upsert_statement(session, "failure" if failure else "gone" if status == GONE else "ok", changed)
    if statement is None:
        _record_check_orm(session, row, failure=failure, gone=status == GONE, changed=changed)
    else:
        session.execute(statement, row)


#: Built upsert statements, by (dialect, kind of status, changed).
_STATEMENTS: dict[tuple[str, str, bool], Any] = {}
#: Kept from the stored row when the check brings none.
_KEPT_UNLESS_GIVEN = ("newsletter", "etag", "last_modified", "page_hash", "listed_date", "published_at", "issue_id")


def _upsert_statement(session: Session, kind: str, changed: bool) -> Any:
    """``INSERT … ON CONFLICT (url) DO UPDATE`` for a check of ``kind`` ("failure", "gone", "ok"); None
    where the database has no such clause. On a stored row: status, check time and HTTP status replaced;
    validators, hashes, dates, newsletter and issue kept unless given; the change time moved if ``changed``;
    a failure counts one more and keeps its error, a success clears both, "gone" leaves them."""
    name = session.get_bind().dialect.name
    key = (name, kind, changed)
    if key not in _STATEMENTS:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            return None
        table = CrawlState.__table__
        statement = insert(table)
        new = statement.excluded
        update_set: dict[str, Any] = {"status": new.status, "last_checked_at": new.last_checked_at,
                                      "http_status": new.http_status}
        update_set |= {column: func.coalesce(new[column], table.c[column]) for column in _KEPT_UNLESS_GIVEN}
        if changed:
            update_set["last_changed_at"] = new.last_changed_at
        if kind == "failure":
            update_set |= {"failure_count": func.coalesce(table.c.failure_count, 0) + 1, "last_error": new.last_error}
        elif kind == "ok":
            update_set |= {"failure_count": 0, "last_error": None}
        _STATEMENTS[key] = statement.on_conflict_do_update(index_elements=["url"], set_=update_set)
    return _STATEMENTS[key]


def _record_check_orm(session: Session, row: dict[str, Any], *, failure: bool, gone: bool, changed: bool) -> None:
    """``record_check`` on a database without ``ON CONFLICT``: the same rules through the ORM."""
    state = session.scalar(select(CrawlState).where(CrawlState.url == row["url"]))
    if state is None:
        session.add(CrawlState(**row))
        return
    state.status, state.last_checked_at, state.http_status = row["status"], row["last_checked_at"], row["http_status"]
    for name in _KEPT_UNLESS_GIVEN:
        if row[name] is not None:
            setattr(state, name, row[name])
    if changed:
        state.last_changed_at = row["last_changed_at"]
    if failure:
        state.failure_count = (state.failure_count or 0) + 1
        state.last_error = row["last_error"]
    elif not gone:
        state.failure_count = 0
        state.last_error = None


def mark_gone(session: Session, url: str, http_status: int) -> bool:
    """Mark the stored issue at ``url`` as gone (never deleted). True when there was one."""
    now = utc_now_iso()
    result = session.execute(
        update(Issue).where(Issue.url == url, Issue.gone_at.is_(None)).values(gone_at=now)
    )
    record_check(session, url, status=GONE, http_status=http_status, error=f"HTTP {http_status}")
    return bool(result.rowcount)


def start_run(session: Session, mode: str, log_file: str | None) -> int:
    run = CrawlRun(started_at=utc_now_iso(), mode=mode, log_file=log_file)
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, reason: str) -> None:
    run = session.get(CrawlRun, run_id)
    if run is not None:
        run.finished_at = utc_now_iso()
        run.finish_reason = reason


def record_run_source(session: Session, run_id: int, source: str, counts: dict[str, Any]) -> None:
    """Per-source figures of a run (created or replaced)."""
    row = session.scalar(
        select(CrawlRunSource).where(CrawlRunSource.run_id == run_id, CrawlRunSource.source == source)
    )
    if row is None:
        row, _ = insert_or_get(session, CrawlRunSource, {"run_id": run_id, "source": source}, {
            name: counts.get(name, 0) for name in ("listed", "new", "changed", "unchanged", "skipped", "failed")})
    for name in ("newsletter", "listed", "new", "changed", "unchanged", "skipped", "failed", "finish_reason"):
        if name in counts:
            setattr(row, name, counts[name])
