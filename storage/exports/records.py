"""JSON Lines and CSV exports: one record per issue, every column (but the raw page) plus the body.

JSON Lines keeps types (lists stay lists, links are nested objects); CSV is for spreadsheets, so
list columns (``authors``, ``tags``, ``links``) are JSON text in their cell and nothing is lost.
``-`` writes to standard output, which lets ``tomtalks export --format jsonl --out - | jq …`` work.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from storage.exports.common import ExportError, atomic_file
from storage.queries import EXPORT_COLUMNS, IssueFilter

if TYPE_CHECKING:
    from storage.archive import Archive

#: Field order of every record: identity first, then metadata, bodies, links.
FIELDS = ("id", "newsletter", *(c for c in EXPORT_COLUMNS if c != "id"), "links")
_LIST_FIELDS = ("authors", "tags", "links")


def record_for_export(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its fields in ``FIELDS`` order (lists as lists)."""
    return {name: record[name] for name in FIELDS}


def csv_row(record: dict[str, Any]) -> list[Any]:
    """One CSV row: lists as compact JSON text, ``None`` as an empty cell."""
    row = []
    for name in FIELDS:
        value = record[name]
        if name in _LIST_FIELDS:
            value = json.dumps(value or [], ensure_ascii=False, separators=(",", ":"))
        row.append("" if value is None else value)
    return row


@contextmanager
def _output(out: str, newline: str | None) -> Iterator[IO[str]]:
    if out == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(out)
    if path.is_dir():
        raise ExportError(f"{path} is a folder: give a file name for this format, e.g. {path / 'issues'}")
    with atomic_file(path, newline=newline) as handle:
        yield handle


def export_records(archive: Archive, format: str, out: str, where: IssueFilter,
                   tick: Callable[[int], None]) -> list[Path]:
    """Write ``jsonl`` or ``csv`` to the file ``out`` (or standard output for ``-``)."""
    records = archive.iter_records(where)
    # csv needs newline="" (it writes its own \r\n line ends, as RFC 4180 says); JSON Lines uses \n.
    with _output(out, "" if format == "csv" else "\n") as handle:
        if format == "csv":
            writer = csv.writer(handle)
            writer.writerow(FIELDS)
            for record in records:
                writer.writerow(csv_row(record))
                tick(1)
        else:
            for record in records:
                handle.write(json.dumps(record_for_export(record), ensure_ascii=False) + "\n")
                tick(1)
    return [] if out == "-" else [Path(out).resolve()]
