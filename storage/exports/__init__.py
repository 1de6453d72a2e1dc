"""Exports of the archive: Markdown files, JSON Lines, CSV and EPUB books.

Every exporter reads ``Archive.iter_records`` (full records in a stable order: newsletter, then
oldest first, then id) and writes nothing that depends on when or where it runs — no timestamps,
no random identifiers, no file-system order — so the same archive always gives byte-identical
files, and a diff between two exports shows exactly what changed in the archive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from storage.exports.common import ExportError
from storage.queries import IssueFilter

if TYPE_CHECKING:
    from storage.archive import Archive

FORMATS = ("markdown", "jsonl", "csv", "epub")
Progress = Callable[[int], None]

__all__ = ["FORMATS", "ExportError", "export"]


def export(archive: Archive, format: str, out: str | Path, where: IssueFilter,
           progress: Progress | None = None) -> list[Path]:
    """Write the issues ``where`` selects from ``archive`` in ``format`` to ``out``; the files written."""
    tick = progress or (lambda _n: None)
    if format == "markdown":
        from storage.exports.markdown import export_markdown

        return export_markdown(archive, Path(out), where, tick)
    if format in ("jsonl", "csv"):
        from storage.exports.records import export_records

        return export_records(archive, format, str(out), where, tick)
    if format == "epub":
        from storage.exports.epub import export_epub

        return export_epub(archive, Path(out), where, tick)
    raise ExportError(f"unknown export format {format!r}: use one of {', '.join(FORMATS)}")
