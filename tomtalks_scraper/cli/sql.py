"""``tomtalks sql "SELECT …"``: any read-only SQL on the archive, as a table, JSON or CSV.

Why not through ``Archive``: opening an archive applies migrations, a write; ad-hoc SQL must be
unable to change anything, so this command opens the SQLite file itself with a ``mode=ro`` URI and
``PRAGMA query_only`` (two independent locks), and an authorizer refuses ``ATTACH`` (which could
otherwise open, and create, another, writable database file).
"""

from __future__ import annotations

import argparse
import base64
import csv
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storage.db import resolve_database_url, sqlite_path
from tomtalks_scraper.cli.common import CliError, add_db_option, console, print_json, table

#: Cells longer than this are cut in the table view (``--json`` and ``--csv`` keep everything).
TABLE_CELL_CHARS = 120


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sql", help="run a read-only SQL query on the archive",
        description="Run one SQL statement on the archive, read-only (writes are refused). "
                    "Tables: newsletters, issues, issue_links, rejected_pages, issues_fts (see docs/schema.md).",
    )
    parser.add_argument("query", metavar="SQL", help='e.g. "SELECT title, published_at FROM issues LIMIT 5"')
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list of objects")
    output.add_argument("--csv", action="store_true", help="print CSV with a header row")
    add_db_option(parser)
    parser.set_defaults(run=run_sql, needs_archive=False)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """The SQLite file at ``path``, opened so that no statement can change it."""
    if not path.is_file():
        raise CliError(f"no database at {path}: crawl something first, or name another with --db")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error as error:
        raise CliError(f"cannot open {path} read-only: {error}") from error
    connection.set_authorizer(_authorize)
    return connection


def _authorize(action: int, name: str | None, value: str | None, *_rest: Any) -> int:
    """Refuse ``ATTACH``/``DETACH`` and turning ``query_only`` off; allow everything else."""
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (name or "").lower() == "query_only" and value is not None:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def run_query(connection: sqlite3.Connection, query: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Column names and a row iterator; SQLite errors become one readable ``CliError``."""
    try:
        cursor = connection.execute(query)
    except sqlite3.ProgrammingError as error:  # "You can only execute one statement at a time."
        raise CliError(f"SQL error: {error}") from error
    except sqlite3.Error as error:
        message = str(error)
        if "not authorized" in message:
            raise CliError("the archive is read-only here: ATTACH, DETACH and PRAGMA query_only are refused") from error
        if any(sign in message for sign in ("readonly", "query_only", "authorization denied")):
            raise CliError(f"the archive is opened read-only, this statement would change it ({message})") from error
        raise CliError(f"SQL error: {message}") from error
    columns = [d[0] for d in cursor.description or []]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from cursor
        except sqlite3.Error as error:
            raise CliError(f"SQL error: {error}") from error

    return columns, rows()


def _json_value(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _table_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = str(value).replace("\n", " ")
    return text if len(text) <= TABLE_CELL_CHARS else text[: TABLE_CELL_CHARS - 1] + "…"


def run_sql(args: argparse.Namespace, _archive: object) -> int:
    path = sqlite_path(resolve_database_url(args.db))
    if path is None:
        raise CliError("tomtalks sql works on SQLite archives; use your database's own client for others")
    connection = connect_read_only(path)
    try:
        columns, rows = run_query(connection, args.query)
        if args.json:
            print_json([{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows])
        elif args.csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if v is None else _json_value(v) for v in row])
        else:
            body = [[_table_value(v) for v in row] for row in rows]
            console().print(table(columns, body, title=f"{len(body)} row(s)"))
    finally:
        connection.close()
    return 0
