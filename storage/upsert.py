"""Insert-if-absent by a unique key with ``INSERT … ON CONFLICT DO NOTHING``, safe under concurrent writers.

Several crawl processes may write to one PostgreSQL archive at once. "Look the row up, add it if
missing" then races: both see no row, both insert, one fails on the unique index (and its whole batch
with it). ``INSERT … ON CONFLICT DO NOTHING`` lets the database settle it: the second insert waits for
the first transaction, then inserts nothing, and the row it finds is the winner's. SQLite has the same
clause (one writer at a time, so there it only saves a second lookup's worth of logic).

Why a Core statement and not an ORM ``insert(model)``: the crawl runs this for every page it stores
(issue, crawl state). An ORM-enabled ``INSERT … RETURNING model`` coerces every value through the ORM
and builds the object from the returned row: on a page's issue (30 columns, the body three times)
that was a third of the store's CPU. Here the statement is built once per table and key, the values
are plain execution parameters, only the primary key comes back, and the ORM object is made from the
values just written (column defaults applied here, as the INSERT would), attached as if loaded.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Insert, Table, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

Row = TypeVar("Row")

#: Built ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING pk`` statements, by (dialect, table, key columns).
_STATEMENTS: dict[tuple[str, Table, tuple[str, ...]], Any] = {}


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


def _insert_statement(session: Session, table: Table, key: tuple[str, ...]) -> Any:
    """``INSERT INTO table … ON CONFLICT (key) DO NOTHING RETURNING <primary key>``, or None (no ON CONFLICT)."""
    cache_key = (session.get_bind().dialect.name, table, key)
    if cache_key not in _STATEMENTS:
        statement = dialect_insert(session, table)
        _STATEMENTS[cache_key] = None if statement is None else (
            statement.on_conflict_do_nothing(index_elements=list(key)).returning(*table.primary_key.columns))
    return _STATEMENTS[cache_key]


def with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every other column of ``table`` (bar an autoincrement key) at its Python-side
    default, as an INSERT without them would store; no default means NULL."""
    row = dict(values)
    for column in table.columns:
        if column.key in row or (column.primary_key and column.autoincrement):
            continue
        default = column.default
        if default is None:
            row[column.key] = None
        elif default.is_callable:
            row[column.key] = default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
        elif default.is_scalar:
            row[column.key] = default.arg
        else:  # a SQL expression or sequence: not known here
            raise ValueError(f"{table.name}.{column.key}: a default computed by the database is not supported")
    return row


def insert_or_get(session: Session, model: type[Row], key: dict[str, Any], values: dict[str, Any]) -> tuple[Row, bool]:
    """The row of ``model`` whose unique ``key`` columns are ``key``: inserted with ``values`` if there
    is none (then ``True``), else the stored one as it is (``False``; ``values`` are not applied).

    The caller updates the returned ORM object as usual (it is in the session, as if loaded).
    """
    mapper = inspect(model)
    table = mapper.local_table
    statement = _insert_statement(session, table, tuple(key))
    if statement is None:  # no ON CONFLICT here: the plain way, a unique violation fails the transaction
        row = model(**key, **values)
        session.add(row)
        session.flush()
        return row, True
    fields = with_defaults(table, {**key, **values})
    inserted = session.execute(statement, fields).first()
    if inserted is not None:
        row = model(**fields, **inserted._asdict())
        make_transient_to_detached(row)  # its attributes are the stored values, with no change pending
        session.add(row)
        return row, True
    return session.scalars(select(model).filter_by(**key)).one(), False
