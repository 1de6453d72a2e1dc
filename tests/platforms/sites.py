"""What the platform modules' local-site crawls check alike: the archive holds exactly the listed issues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage import Archive
from storage.queries import IssueFilter


def stored_rows(archive: Archive) -> dict[str, dict[str, Any]]:
    """Every issue of ``archive`` (no page limit), by URL."""
    return {row["url"]: row for row in archive.list(IssueFilter(limit=None))}


def assert_stored(archive: Archive, expected: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The archive holds exactly the URLs of ``expected`` (stored == listed), each row with the columns given
    for its URL; returns the rows by URL for further checks."""
    rows = stored_rows(archive)
    assert sorted(rows) == sorted(expected)
    for url, columns in expected.items():
        assert {key: rows[url][key] for key in columns} == dict(columns), url
    return rows
