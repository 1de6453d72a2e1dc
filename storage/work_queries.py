"""Reading the archive's works and copies: the groups ``tomtalks duplicates`` lists, what ``show`` adds
about a copy, and issues found by one of their aliases. Plain dictionaries, as in ``storage.queries``.

The writing side (identity, fingerprints, grouping, the primary copy) is ``storage.works``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Issue, IssueAlias, IssueCopy, Newsletter, Work, WorkMember


def issue_by_alias(session: Session, url: str) -> Issue | None:
    """The issue one of whose aliases is ``url`` (normalised as aliases are), if any."""
    from tomtalks_scraper.extraction.identity import alias_url

    issue_id = session.scalar(select(IssueAlias.issue_id).where(IssueAlias.url.in_({url, alias_url(url)})).limit(1))
    return session.get(Issue, issue_id) if issue_id is not None else None


def _evidence(row: Any) -> dict[str, Any]:
    reasons = row.reasons
    if isinstance(reasons, str):
        reasons = json.loads(reasons)
    return {"is_farm": bool(row.is_farm), "score": row.score, "reasons": reasons or [],
            "likely_original_url": row.likely_original_url, "claimed_author": row.claimed_author,
            "claimed_published_at": row.claimed_published_at}


def copy_details(session: Session, issue_id: int, copy_of: int | None) -> dict[str, Any]:
    """What ``show`` adds about copies: the primary this issue is a copy of, its content-farm evidence,
    its aliases."""
    primary = None
    if copy_of is not None:
        row = session.execute(select(Issue.id, Issue.url, Issue.title, Issue.platform)
                              .where(Issue.id == copy_of)).first()
        primary = dict(row._mapping) if row else None
    evidence = session.execute(select(IssueCopy).where(IssueCopy.issue_id == issue_id)).scalar()
    aliases = list(session.scalars(select(IssueAlias.url).where(IssueAlias.issue_id == issue_id)
                                   .order_by(IssueAlias.id)))
    return {"copy_of": primary, "copy": _evidence(evidence) if evidence is not None else None, "aliases": aliases}


def duplicate_groups(session: Session, *, with_unmatched_copies: bool = True) -> list[dict[str, Any]]:
    """Every work (primary first, then its copies) with each member's similarity, reason and
    content-farm evidence; then, one group each, farm copies whose original is not in the archive
    (``work`` is ``None``, ``original_url`` their likely original)."""
    columns = (Issue.id, Issue.url, Issue.title, Issue.platform, Issue.published_at, Issue.author,
               Newsletter.name.label("newsletter"))
    rows = session.execute(
        select(WorkMember.work_id, WorkMember.matched_issue_id, WorkMember.similarity, WorkMember.containment,
               WorkMember.reason, Work.primary_issue_id, *columns)
        .join(Work, Work.id == WorkMember.work_id).join(Issue, Issue.id == WorkMember.issue_id)
        .join(Newsletter, Newsletter.id == Issue.newsletter_id).order_by(WorkMember.work_id, Issue.id)
    ).all()
    evidence = {row.issue_id: _evidence(row) for row in session.scalars(select(IssueCopy))}
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(row.work_id, {"work": row.work_id, "primary": row.primary_issue_id,
                                                "original_url": None, "members": []})
        group["members"].append({
            "id": row.id, "url": row.url, "title": row.title, "platform": row.platform,
            "newsletter": row.newsletter, "author": row.author, "published_at": row.published_at,
            "role": "primary" if row.id == row.primary_issue_id else "copy",
            "matched": row.matched_issue_id, "similarity": row.similarity, "containment": row.containment,
            "reason": row.reason, "copy": evidence.get(row.id),
        })
    out = []
    for group in groups.values():
        group["members"].sort(key=lambda m: (m["role"] != "primary", m["id"]))
        out.append(group)
    if with_unmatched_copies:
        grouped = {m["id"] for g in out for m in g["members"]}
        farms = [i for i, e in evidence.items() if e["is_farm"] and i not in grouped]
        for row in session.execute(select(*columns).join(Newsletter, Newsletter.id == Issue.newsletter_id)
                                   .where(Issue.id.in_(farms)).order_by(Issue.id)):
            out.append({"work": None, "primary": None, "original_url": evidence[row.id]["likely_original_url"],
                        "members": [{**dict(row._mapping), "role": "copy", "matched": None, "similarity": None,
                                     "containment": None, "reason": "content_farm", "copy": evidence[row.id]}]})
    return out
