"""trafilatura's title, author and site name for a page, without the rest of its metadata pass.

Why: ``bare_extraction(with_metadata=True)`` runs trafilatura's whole metadata pass — dates through
htmldate, categories, tags, licence — which cost about a third of the call (≈8 ms of ≈22 ms a page
on the benchmark pages), and of which we only ever use three fields, as last-resort fallbacks: the
title, the author and the site name (our own metadata chain comes first; dates never come from
guessing). So body extraction runs with ``with_metadata=False`` — which gives the same body — and
this module computes those three fields the way ``trafilatura.metadata.extract_metadata`` does, in
the same order, on the same tree, and trimmed the same way (``Document.clean_and_trim``).

The author is the costly one (a copy of the tree, pruned): it is computed only when asked for.
Tied to trafilatura 2.3 (pinned in pyproject.toml); ``tests/test_extraction.py`` and the
throughput tests compare the result with trafilatura's own.
"""

from __future__ import annotations

from lxml import html as lxml_html
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document


class FallbackMetadata:
    """``title``, ``sitename`` (computed at once) and ``author`` (on first use), as trafilatura gives them."""

    def __init__(self, tree: lxml_html.HtmlElement, url: str | None) -> None:
        self._tree = tree
        metadata = examine_meta(tree)
        if metadata.author and " " not in metadata.author:
            metadata.author = None
        try:
            metadata = extract_meta_json(tree, metadata)
        except Exception:  # noqa: BLE001 - as trafilatura: a broken JSON-LD block only loses its fields
            pass
        if not metadata.title:
            metadata.title = extract_title(tree)
        if not metadata.url:
            metadata.url = extract_url(tree, url)
        if not metadata.sitename:
            metadata.sitename = extract_sitename(tree)
        if metadata.sitename:
            metadata.sitename = metadata.sitename.lstrip("@")
            if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
                metadata.sitename = metadata.sitename.title()
        elif metadata.url and (match := META_URL.match(metadata.url)):
            metadata.sitename = match[1]
        self._declared_author = metadata.author
        self.title = _trimmed(metadata.title)
        self.sitename = _trimmed(metadata.sitename)
        self._author: str | None = None
        self._author_known = False

    @property
    def author(self) -> str | None:
        if not self._author_known:
            self._author = _trimmed(self._declared_author or extract_author(self._tree))
            self._author_known = True
            self._tree = None  # the page tree is not needed any more
        return self._author


def _trimmed(value: str | None) -> str | None:
    """``Document.clean_and_trim`` for one value (length cap, entities, spaces and control characters)."""
    if not isinstance(value, str):
        return value
    document = Document()
    document.title = value
    document.clean_and_trim()
    return document.title
