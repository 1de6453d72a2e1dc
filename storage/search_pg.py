"""Full-text search on PostgreSQL: the ``issues.search_vector`` column (migration 0001) and its GIN index.

Same contract and result shape as the SQLite FTS5 path in ``storage.queries``:

- the query is read by ``websearch_to_tsquery`` (words, "quoted phrases", ``or``, ``-word``): it never
  fails on syntax, where FTS5 refuses some input. FTS5's capitalised ``AND``/``OR``/``NOT`` are read as
  their websearch equivalents (``websearch_text``), so the same query means the same on both; FTS5's
  ``prefix*``, ``NEAR()`` and ``column:`` have no equivalent (the words are searched as plain words);
- relevance is ``ts_rank`` over the title (weight A), author (B) and body (D), weighed 10 : 5 : 1 as
  the bm25 weights of the SQLite path, and reported negated, so that as there a lower ``rank`` is a
  better match;
- snippets come from ``ts_headline`` with the same ``**`` markers, made for the returned page only
  (``ts_headline`` re-parses the text, the costly part of a search).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, case, func, literal_column, select
from sqlalchemy.orm import Session

from storage.models import Issue

if TYPE_CHECKING:
    from storage.queries import IssueFilter, SearchHit, Sort

#: The text search configuration of the ``search_vector`` column (migration 0001): English stemming.
CONFIG = "english"
#: ts_rank weights for {D, C, B, A} = {body, -, author, title}: the 1 : 5 : 10 of the SQLite bm25 weights.
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
SEARCH_VECTOR = literal_column("issues.search_vector")


def websearch_text(query: str) -> str:
    """FTS5's operators outside quotes in websearch syntax: ``a AND b`` → ``a b``, ``a OR b`` → ``a or b``,
    ``a NOT b`` → ``a -b``. Only the capitalised forms are operators, as in FTS5."""
    parts = query.split('"')
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        text = re.sub(r"\bNOT\s+", "-", parts[i])
        text = re.sub(r"\bAND\b", " ", text)
        parts[i] = re.sub(r"\bOR\b", "or", text)
    return '"'.join(parts)


def _headline_options() -> str:
    from storage.queries import SNIPPET_CLOSE, SNIPPET_OPEN, SNIPPET_TOKENS

    return (f'StartSel="{SNIPPET_OPEN}", StopSel="{SNIPPET_CLOSE}", MaxWords={SNIPPET_TOKENS}, '
            f'MinWords={SNIPPET_TOKENS // 2}, MaxFragments=1, FragmentDelimiter=" … "')


def _tsquery() -> Any:
    return func.websearch_to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), bindparam("query"))


def _matches() -> Any:
    return SEARCH_VECTOR.op("@@")(_tsquery())


def _rank() -> Any:
    return func.ts_rank(literal_column(f"'{RANK_WEIGHTS}'::float4[]"), SEARCH_VECTOR, _tsquery())


def _with_snippets(ids: Select, rank: Any) -> Select:
    """The page of issues ``ids`` selects, as search hits: summary, ``rank`` and the two snippets."""
    from storage.queries import SNIPPET_OPEN, _summary_select

    page = ids.subquery("page")
    options = bindparam("headline_options", _headline_options())

    def headline(text: Any) -> Any:
        return func.ts_headline(literal_column(f"'{CONFIG}'::regconfig"), text, _tsquery(), options)

    title = headline(func.coalesce(Issue.title, ""))
    return (
        _summary_select()
        .add_columns(
            rank.label("rank"),
            headline(Issue.body_text).label("body_snippet"),
            # FTS5's "best column" when the body has no match: the title's extract if it matches, else the author's.
            case((func.strpos(title, SNIPPET_OPEN) > 0, title), else_=headline(func.coalesce(Issue.author, "")))
            .label("best_snippet"),
        )
        .join(page, page.c.id == Issue.id)
    )


def search(session: Session, query: str, where: IssueFilter, sort: Sort) -> list[SearchHit]:
    """``storage.queries.search_issues`` on PostgreSQL: the best matches (or the newest) first."""
    from storage.queries import NEWEST_FIRST, _hit

    params = {"query": websearch_text(query)}
    if sort == "relevance":
        ids = select(Issue.id, _rank().label("score")).where(_matches(), *where.conditions())
        ids = ids.order_by(literal_column("score").desc(), Issue.id)
        if where.limit:
            ids = ids.limit(where.limit)
        statement = _with_snippets(ids, -literal_column("page.score"))
        statement = statement.order_by(literal_column("page.score").desc(), Issue.id)
        return [_hit(row) for row in session.execute(statement, params)]
    ids = select(Issue.id).where(_matches(), *where.conditions()).order_by(*NEWEST_FIRST)
    if where.limit:
        ids = ids.limit(where.limit)
    order = list(session.scalars(ids, params))
    if not order:
        return []
    statement = _with_snippets(select(Issue.id).where(Issue.id.in_(order)), literal_column("NULL"))
    hits = {row.id: _hit(row) for row in session.execute(statement, params)}
    return [hits[issue_id] for issue_id in order if issue_id in hits]
