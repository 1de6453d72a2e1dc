"""Alembic migrations of the archive's schema (``versions/``), run by ``storage.db.upgrade_schema``.

``HEAD_REVISION`` is the newest revision, so that opening an archive can tell whether it is current
without importing alembic; tests/test_postgres.py checks it against alembic's own head. Bump it with
every new migration.
"""

HEAD_REVISION = "0005"
