"""Engine setup: which database, SQLite pragmas, and schema migrations applied on open.

SQLite is the embedded default; any SQLAlchemy URL works. On SQLite we turn on WAL (readers never
block the crawl's writer), foreign keys, and a busy timeout so short write overlaps wait instead of
failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.migrations import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DATABASE_URL = "sqlite:///data/newsletters.db"
ENV_VAR = "TOMTALKS_DATABASE_URL"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock held while migrating (any constant of our own: "tomtalks" as digits).
MIGRATION_LOCK_KEY = 7_870_977_001


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says which one and what to do."""


def resolve_database_url(explicit: str | None = None, setting: str | None = None) -> str:
    """The database to use: ``explicit`` (``--db``) → Scrapy setting ``DATABASE_URL`` →
    ``$TOMTALKS_DATABASE_URL`` → ``sqlite:///data/newsletters.db``.

    A plain file path is accepted wherever a URL is and means a SQLite file.
    """
    chosen = explicit or setting or os.environ.get(ENV_VAR) or DEFAULT_DATABASE_URL
    return chosen if "://" in chosen else f"sqlite:///{chosen}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (``None`` for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 (DB-API objects are untyped)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _use_wal(cursor) -> None:  # noqa: ANN001 (a DB-API cursor)
    """Put the database in WAL mode, waiting for other processes doing the same.

    WAL is a property of the file: once set it stays, so the usual open only reads it. The first
    opens of a new file race: switching to WAL needs the file to itself, and SQLite answers "database
    is locked" at once, without its busy timeout, when two connections both hold a read lock and want
    to write (it cannot let both wait for the other). Two crawl workers started together on a new
    archive hit this; so we retry, up to the busy timeout, as the busy handler would have.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _without_nul(_conn, _cursor, statement, parameters, _context, _executemany):  # noqa: ANN001, ANN202
    """PostgreSQL text cannot hold NUL characters (SQLite's can): a page whose title or body has one
    would fail to store. They carry nothing readable, so they are dropped from every string sent."""
    return statement, _clean(parameters)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(item) for item in value)
    return value


def make_engine(url: str, *, create: bool = True, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema at the latest migration.

    ``create=False`` is for readers (the CLI): a SQLite file that does not exist is an error
    instead of a new empty archive.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseError(f"{url!r} is not a database URL or SQLite file path ({error})") from error
    path = sqlite_path(url)
    if path is not None:
        if not path.exists() and not create:
            raise DatabaseError(
                f"no database at {path}: crawl something first (scrapy crawl newsletter -a url=URL, "
                "or tomtalks demo), or name another with --db"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000} if path else {})
    except (SQLAlchemyError, ImportError) as error:
        raise DatabaseError(f"cannot open database {url!r}: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    if migrate:
        try:
            upgrade_schema(engine)
        except SQLAlchemyError as error:
            raise DatabaseError(f"cannot prepare database {url!r}: {error}") from error
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


_UP_TO_DATE: set[str] = set()


def stored_revision(connection: Connection) -> str | None:
    """The revision in ``alembic_version`` (``None`` for a database never migrated), by plain SQL.

    This is every open's check, so it must not import alembic (~60 ms of imports for the CLI and each
    crawl process): alembic is loaded only when a migration has to run.
    """
    try:
        with connection.begin_nested() if connection.in_transaction() else connection.begin():
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:  # no such table: a new database
        return None


def upgrade_schema(engine: Engine) -> None:
    """Apply the migrations the database has not seen yet (checked once per database and process).

    The check compares ``alembic_version`` with ``storage.migrations.HEAD_REVISION`` (a test keeps that
    constant equal to the head of the migration scripts).
    """
    key = engine.url.render_as_string(hide_password=False)
    if key in _UP_TO_DATE and key not in ("sqlite://", "sqlite:///:memory:"):
        return
    with engine.connect() as connection:
        if stored_revision(connection) == HEAD_REVISION:
            _UP_TO_DATE.add(key)
            return
    from alembic import command

    config = alembic_config(engine)
    with engine.connect() as connection, _one_transaction(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    _UP_TO_DATE.add(key)


@contextmanager
def _one_transaction(connection: Connection) -> Iterator[None]:
    """Run the block as one transaction, DDL included: committed at the end, rolled back if it raises.

    SQLite can roll back ``CREATE TABLE``, but Python's sqlite3 module only opens a transaction before
    an INSERT/UPDATE/DELETE, so each DDL statement of a migration used to commit on its own, and a
    crash mid-migration left tables without their ``alembic_version`` row: every later open then
    failed on "table already exists". Here the driver's implicit transactions are off and the block
    starts with ``BEGIN IMMEDIATE`` (which also makes a second process wait for the first to finish
    migrating, then find the schema current). On PostgreSQL an advisory lock does the same.
    """
    driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if driver is None:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Workers started together on a new database: one migrates, the others wait here, then
                # find the schema current (PostgreSQL's DDL is transactional, the lock is the transaction's).
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            yield
        return
    previous = driver.isolation_level
    driver.isolation_level = None
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    finally:
        driver.isolation_level = previous


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session
