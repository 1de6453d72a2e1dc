"""Markdown export: one ``.md`` file per issue, under one folder per newsletter, with YAML front matter.

The layout (``OUT/<newsletter-slug>/<YYYY-MM-DD>-<title-slug>.md``) is what static-site generators,
Obsidian and plain ``grep`` expect. Names come from ``slugify`` only, and every path is checked to
stay inside ``OUT``: a title like ``../../etc/passwd`` cannot write anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.exports.common import (
    ExportError,
    absolutize_markdown,
    atomic_file,
    front_matter,
    inside,
    slugify,
    unique_name,
)
from storage.queries import IssueFilter

if TYPE_CHECKING:
    from storage.archive import Archive


def issue_front_matter(record: dict[str, Any]) -> dict[str, Any]:
    """The front matter fields, always all present (``null`` when unknown) so every file has one shape."""
    return {
        "title": record["title"],
        "subtitle": record["subtitle"],
        "authors": list(record["authors"] or []),
        "date": record["published_at"],
        "url": record["url"],
        "newsletter": record["newsletter"],
        "issue_number": record["issue_number"],
        "tags": list(record["tags"] or []),
        "access": record["access"],
        "description": record["description"],
        "image": record["image_url"],
        "language": record["language"],
        "word_count": record["word_count"],
        "id": record["id"],
    }


def render_issue(record: dict[str, Any]) -> str:
    """One issue as a Markdown document: front matter, then the body with absolute link and image URLs."""
    body = absolutize_markdown(record["body_markdown"] or "", record["url"]).strip()
    return front_matter(issue_front_matter(record)) + "\n" + body + "\n"


def export_markdown(archive: Archive, out: Path, where: IssueFilter, tick: Callable[[int], None]) -> list[Path]:
    """Write every selected issue under ``out`` (created if needed); returns the files written."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file: Markdown export writes a folder (one file per issue)")
    out.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}
    folder_names: set[str] = set()
    names: dict[str, set[str]] = {}
    written: list[Path] = []
    for record in archive.iter_records(where):
        newsletter = record["newsletter"]
        if newsletter not in folders:
            folder_name = unique_name(slugify(newsletter, "newsletter"), "", folder_names, "newsletter")
            folders[newsletter] = inside(out, folder_name)
            folders[newsletter].mkdir(exist_ok=True)
            names[newsletter] = set()
        folder = folders[newsletter]
        date = slugify((record["published_at"] or "")[:10], "undated")
        stem = f"{date}-{slugify(record['title'], 'issue')}"
        name = unique_name(stem, ".md", names[newsletter], str(record["id"]))
        path = inside(folder, name)
        with atomic_file(path) as handle:
            handle.write(render_issue(record))
        written.append(path)
        tick(1)
    return written
