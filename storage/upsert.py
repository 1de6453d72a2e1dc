"""Insert-if-absent by a unique key with ``INSERT … ON CONFLICT DO NOTHING``, safe under concurrent writers.

Several crawl processes may write to one PostgreSQL archive at once. "Look the row up, add it if
missing" then races: both see no row, both insert, one fails on the unique index (and its whole batch
with it). ``INSERT … ON CONFLICT DO NOTHING`` lets the database settle it: the second insert waits for
the first transaction, then inserts nothing, and the row it finds is the winner's. SQLite has the same
clause (one writer at a time, so there it only saves a second lookup's worth of logic).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Insert, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def dialect_insert(session: Session, model: Any) -> Insert | None:
    """The dialect's own ``insert(model)`` (with ``on_conflict_do_*``), or ``None`` on other databases."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        return None
    return insert(model)


def insert_or_get(session: Session, model: type[Row], key: dict[str, Any], values: dict[str, Any]) -> tuple[Row, bool]:
    """The row of ``model`` whose unique ``key`` columns are ``key``: inserted with ``values`` if there
    is none (then ``True``), else the stored one as it is (``False``; ``values`` are not applied).

    The caller updates the returned ORM object as usual. The new row comes back through ``RETURNING``,
    so it costs one statement, as a plain ``INSERT`` would.
    """
    statement = dialect_insert(session, model)
    if statement is None:  # no ON CONFLICT here: the plain way, a unique violation fails the transaction
        row = model(**key, **values)
        session.add(row)
        session.flush()
        return row, True
    statement = statement.values(**key, **values).on_conflict_do_nothing(index_elements=list(key))
    inserted = session.scalars(statement.returning(model)).first()
    if inserted is not None:
        return inserted, True
    return session.scalars(select(model).filter_by(**key)).one(), False
