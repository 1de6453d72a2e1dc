"""What every ``tomtalks`` command shares: the ``--db`` and ``--json`` options, output, and errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tomtalks_scraper.extraction.dates import to_utc_iso


class CliError(Exception):
    """An error to show as one line (``tomtalks: error: …``) with a non-zero exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def console() -> Console:
    """Rich output on stdout; plain (no colour codes) and wide when piped, so scripts see whole values."""
    return Console(soft_wrap=False, highlight=False, width=None if sys.stdout.isatty() else 200)


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH_OR_URL",
        help="archive database: a SQLite file path or SQLAlchemy URL "
             "(default: $TOMTALKS_DATABASE_URL, else data/newsletters.db)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_filter_options(parser: argparse.ArgumentParser, default_limit: int) -> None:
    parser.add_argument("--newsletter", help="only issues of this newsletter (name, case-insensitive)")
    parser.add_argument("--since", type=iso_date, help="only issues published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--until", type=iso_date, help="only issues published on or before DATE (YYYY-MM-DD)")
    parser.add_argument("--limit", type=positive_int, default=default_limit,
                        help=f"at most N issues (default {default_limit})")


def iso_date(value: str) -> str:
    """An argparse type: a date or date-time, normalised to the stored ISO 8601 form."""
    normalised = to_utc_iso(value)
    if normalised is None:
        raise argparse.ArgumentTypeError(f"bad date {value!r}: use YYYY-MM-DD (or a full ISO 8601 time)")
    return normalised


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> Table:
    """A rich table; plain values are escaped (a "[" in a title is text), ``Text`` cells kept as styled."""
    result = Table(*columns, title=escape(title) if title else None, show_lines=False)
    for row in rows:
        result.add_row(*(v if isinstance(v, Text) else escape("" if v is None else str(v)) for v in row))
    return result


def short_date(value: str | None) -> str:
    return (value or "")[:10] or "—"
