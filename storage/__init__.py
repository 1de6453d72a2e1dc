"""The archive's storage: SQLAlchemy models, engine setup, migrations and queries. Knows nothing of Scrapy."""

from storage.archive import Archive
from storage.db import DEFAULT_DATABASE_URL, DatabaseError, make_engine, resolve_database_url

__all__ = ["Archive", "DEFAULT_DATABASE_URL", "DatabaseError", "make_engine", "resolve_database_url"]
