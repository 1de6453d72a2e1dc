"""Reading an issue's history (its revisions) and the crawl runs, for ``history``, ``diff`` and ``sources``."""

from __future__ import annotations

import difflib
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, CrawlRunSource, CrawlState, Issue, Newsletter, RejectedPage
from storage.queries import QueryError

_TOKENS = re.compile(r"\S+|\s+")


def find_issue_id(session: Session, key: str | int) -> int:
    if isinstance(key, int) or str(key).isdigit():
        issue = session.get(Issue, int(key))
    else:
        issue = session.scalars(select(Issue).where((Issue.url == key) | (Issue.canonical_url == key))).first()
    if issue is None:
        raise QueryError(f"no issue {key!r} in this archive (try `tomtalks list` or `tomtalks search`)")
    return issue.id


def issue_history(session: Session, key: str | int) -> dict[str, Any]:
    """The issue's versions, oldest first: each stored revision, then the current body (the last)."""
    issue = session.get(Issue, find_issue_id(session, key))
    versions = [
        {"revision": r.revision, "title": r.title, "word_count": r.word_count, "content_hash": r.content_hash,
         "fetched_at": r.fetched_at, "replaced_at": r.replaced_at, "current": False}
        for r in issue.revisions
    ]
    versions.append({"revision": len(issue.revisions) + 1, "title": issue.title, "word_count": issue.word_count,
                     "content_hash": issue.content_hash, "fetched_at": issue.fetched_at, "replaced_at": None,
                     "current": True})
    return {"id": issue.id, "url": issue.url, "title": issue.title, "gone_at": issue.gone_at, "versions": versions}


def version_text(session: Session, issue_id: int, revision: int) -> str:
    issue = session.get(Issue, issue_id)
    if revision == len(issue.revisions) + 1:
        return issue.body_text
    for stored in issue.revisions:
        if stored.revision == revision:
            return stored.body_text
    raise QueryError(f"issue {issue_id} has no revision {revision} (see `tomtalks history {issue_id}`)")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) pieces: op is "=", "-" or "+"; words and the whitespace between them are the units."""
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("=", "".join(before[a1:a2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("-", "".join(before[a1:a2])))
        if op in ("insert", "replace"):
            pieces.append(("+", "".join(after[b1:b2])))
    return pieces


def issue_diff(session: Session, key: str | int, revision: int | None) -> dict[str, Any]:
    """Word-level diff from ``revision`` (default: the one before the current) to the current body."""
    history = issue_history(session, key)
    current = history["versions"][-1]["revision"]
    old = revision if revision is not None else current - 1
    if old < 1 or old >= current:
        raise QueryError(f"issue {history['id']} has revisions 1 to {current - 1}" if current > 1 else
                         f"issue {history['id']} has never changed: there is nothing to diff")
    pieces = word_diff(version_text(session, history["id"], old), version_text(session, history["id"], current))
    return {"id": history["id"], "url": history["url"], "from_revision": old, "to_revision": current,
            "diff": [{"op": op, "text": text} for op, text in pieces]}


def source_overview(session: Session) -> dict[str, dict[str, Any]]:
    """Per newsletter name: issues stored, gone, known URLs, rejected pages by reason, the last run's figures."""
    overview: dict[str, dict[str, Any]] = {}
    counts = select(Newsletter.name, func.count(Issue.id), func.count(Issue.gone_at)).outerjoin(Issue)
    for name, stored, gone in session.execute(counts.group_by(Newsletter.id)):
        overview[name] = {"stored": stored, "gone": gone, "missing": {}, "last_run": None}
    for name, reason, count in session.execute(
        select(RejectedPage.newsletter, RejectedPage.reason, func.count()).group_by(RejectedPage.newsletter,
                                                                                   RejectedPage.reason)
    ):
        overview.setdefault(name, {"stored": 0, "gone": 0, "missing": {}, "last_run": None})["missing"][reason] = count
    latest = (
        select(CrawlRunSource, CrawlRun.started_at, CrawlRun.finished_at)
        .join(CrawlRun)
        .order_by(CrawlRun.id.desc())
    )
    for row, started, finished in session.execute(latest):
        entry = overview.setdefault(row.newsletter or row.source,
                                    {"stored": 0, "gone": 0, "missing": {}, "last_run": None})
        if entry["last_run"] is None:
            entry["last_run"] = {"started_at": started, "finished_at": finished, "listed": row.listed,
                                 "new": row.new, "changed": row.changed, "unchanged": row.unchanged,
                                 "skipped": row.skipped, "failed": row.failed, "finish_reason": row.finish_reason}
    for name, known in session.execute(select(CrawlState.newsletter, func.count()).group_by(CrawlState.newsletter)):
        if name in overview:
            overview[name]["known_urls"] = known
    return overview


def run_sources(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The per-source figures a run recorded."""
    rows = session.scalars(select(CrawlRunSource).where(CrawlRunSource.run_id == run_id).order_by(CrawlRunSource.id))
    return [{"newsletter": r.newsletter, "source": r.source, "listed": r.listed, "new": r.new, "changed": r.changed,
             "unchanged": r.unchanged, "skipped": r.skipped, "failed": r.failed, "finish_reason": r.finish_reason}
            for r in rows]


def failures(session: Session, newsletter: str | None = None) -> list[dict[str, Any]]:
    """Pages not stored, most recent first: url, reason, HTTP status, attempts, first and last time."""
    query = select(RejectedPage).order_by(RejectedPage.last_at.desc(), RejectedPage.id.desc())
    if newsletter:
        query = query.where(func.lower(RejectedPage.newsletter) == newsletter.lower())
    return [{"url": r.url, "newsletter": r.newsletter, "reason": r.reason, "http_status": r.http_status,
             "attempts": r.attempts, "first_at": r.first_at, "last_at": r.last_at, "detail": r.detail}
            for r in session.scalars(query)]
