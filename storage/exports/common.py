"""What the exporters share: safe file names, YAML scalars, absolute links, and atomic file writes."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from storage.queries import QueryError

#: Slugs are cut here: with a date prefix and ``.md`` a name stays far below the 255-byte limit of
#: common file systems, and readable in a file browser.
MAX_SLUG = 80
#: Names Windows refuses for a file or folder whatever the extension.
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


class ExportError(QueryError):
    """An export that cannot be made as asked (bad output path, several books for one file…)."""


def slugify(value: str | None, fallback: str) -> str:
    """A file-name-safe slug: ASCII letters, digits and single hyphens, at most ``MAX_SLUG`` long.

    Why so strict: titles are written by strangers. Only ``[a-z0-9-]`` survive, so no title can
    hold a path separator, ``..``, a drive letter, a control character or a reserved device name;
    accents are folded ("Café" → "cafe") and scripts with no ASCII form give ``fallback``.
    """
    folded = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:MAX_SLUG].rstrip("-")
    if not slug or slug in _WINDOWS_RESERVED:
        return fallback
    return slug


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing any result outside ``folder`` (a second guard after ``slugify``)."""
    root, target = folder.resolve(), (folder / name).resolve()
    if target == root or not target.is_relative_to(root):
        raise ExportError(f"refusing to write {name!r} outside {folder}")
    return target


#: Characters YAML reads as line breaks even inside quotes (they would fold to a space).
_YAML_BREAKS = (0x85, 0x2028, 0x2029)


def _yaml_char(char: str) -> str:
    code = ord(char)
    printable = code == 0x09 or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (
        0xE000 <= code <= 0xFFFD and code != 0xFEFF) or code >= 0x10000
    return char if printable and code not in _YAML_BREAKS else f"\\u{code:04x}"


def yaml_scalar(value: Any) -> str:
    """A YAML 1.1/1.2 scalar for a string, number, boolean or null; lists of those in flow style.

    Strings are always double-quoted with JSON escapes, which YAML reads back unchanged; characters
    YAML would not keep as they are (line separators, C1 controls, the BOM) are escaped too.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_scalar(item) for item in value) + "]"
    quoted = json.dumps(str(value), ensure_ascii=False)
    return "".join(_yaml_char(char) for char in quoted)


def front_matter(fields: dict[str, Any]) -> str:
    """A YAML front matter block (``---`` … ``---``) with the fields in the order given."""
    lines = [f"{key}: {yaml_scalar(value)}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"


_MD_TARGET = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
_MD_REFERENCE = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(>?)(?=\s|$)", re.MULTILINE)


def absolute_url(target: str, base: str) -> str:
    """``target`` resolved against the issue's URL; fragments, ``mailto:`` and absolute URLs unchanged."""
    if target.startswith("#") or urlsplit(target).scheme:
        return target
    return urljoin(base, target)


def absolutize_markdown(markdown: str, base: str) -> str:
    """Make relative link and image targets absolute, so an exported file still reaches its images."""
    markdown = _MD_TARGET.sub(lambda m: m.group(1) + absolute_url(m.group(2), base), markdown)
    return _MD_REFERENCE.sub(lambda m: m.group(1) + absolute_url(m.group(2), base) + m.group(3), markdown)


@contextmanager
def atomic_file(path: Path, *, binary: bool = False, newline: str | None = "\n") -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file renamed into place: no half-written export on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        if binary:
            with partial.open("wb") as handle:
                yield handle
        else:
            with partial.open("w", encoding="utf-8", newline=newline) as handle:
                yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def unique_name(stem: str, suffix: str, taken: set[str], disambiguator: str) -> str:
    """``stem + suffix``, or ``stem-disambiguator + suffix`` (then ``-2``, ``-3``…) when already taken."""
    name = stem + suffix
    candidate, n = f"{stem}-{disambiguator}", 1
    while name.lower() in taken:  # case-insensitive file systems (macOS, Windows) collide on case
        name = candidate + suffix if n == 1 else f"{candidate}-{n}{suffix}"
        n += 1
    taken.add(name.lower())
    return name
