"""The archive's storage: SQLAlchemy models, engine setup, migrations and queries. Knows nothing of Scrapy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.db import DEFAULT_DATABASE_URL, DatabaseError, make_engine, resolve_database_url

if TYPE_CHECKING:
    from storage.archive import Archive

__all__ = ["Archive", "DEFAULT_DATABASE_URL", "DatabaseError", "make_engine", "resolve_database_url"]


def __getattr__(name: str) -> object:
    """``storage.Archive`` on first use: the archive pulls in every query module (~0.4 s), which the crawl
    process (it needs only the engine, the models and the crawl state) never uses."""
    if name == "Archive":
        from storage.archive import Archive

        return Archive
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
