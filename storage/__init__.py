"""The archive's storage: SQLAlchemy models, engine setup, migrations and queries. Knows nothing of Scrapy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.archive import Archive
    from storage.db import DEFAULT_DATABASE_URL, DatabaseError, make_engine, resolve_database_url

__all__ = ["Archive", "DEFAULT_DATABASE_URL", "DatabaseError", "make_engine", "resolve_database_url"]


def __getattr__(name: str) -> object:
    """``storage.Archive`` on first use: the archive pulls in every query module (~0.4 s), which the crawl
    process (it needs only the engine, the models and the crawl state) never uses. The engine's names
    too: extraction workers import ``storage.page_checks``, which needs no SQLAlchemy (~20 MB a worker)."""
    if name == "Archive":
        from storage.archive import Archive

        return Archive
    if name in __all__:
        from storage import db

        return getattr(db, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
