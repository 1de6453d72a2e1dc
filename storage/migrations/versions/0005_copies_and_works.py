"""Copies and duplicates: issue identity keys and URL aliases, text fingerprints with an LSH index,
works (one text published several times) with a primary copy, content-farm evidence, archive settings.

Existing issues get no fingerprint here (it takes ~2 ms an issue, too long for an automatic upgrade
of a large archive): `tomtalks duplicates` indexes the issues that have none, once, the first time it
runs; issues stored from now on are indexed as they are stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

#: CRC-32 values (paragraph hashes, LSH band keys) go up to 2**32: a 64-bit column on PostgreSQL, where
#: INTEGER is 32 bits; SQLite's INTEGER is already 64 bits (kept as it was, so its DDL is unchanged).
HASH32 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _create_table(name: str, *columns: object, **options: object) -> None:
    """Each step is skipped when already done: SQLite commits DDL statement by statement, so a crawl killed
    in the middle of this upgrade leaves some of it, and the next open runs it again."""
    if name not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(name, *columns, **options)


def _create_index(name: str, table: str, columns: list[str]) -> None:
    if name not in {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(table)}:
        op.create_index(name, table, columns)


def upgrade() -> None:
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("issues")}
    # Plain ADD COLUMN, never a batch rebuild of `issues`: a rebuilt table loses the FTS triggers.
    if "identity_key" not in existing:
        op.add_column("issues", sa.Column("identity_key", sa.Text))
    if "copy_of" not in existing and op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE issues ADD COLUMN copy_of INTEGER REFERENCES issues (id) ON DELETE SET NULL")
    elif "copy_of" not in existing:
        op.add_column("issues", sa.Column("copy_of", sa.Integer))
        op.create_foreign_key("fk_issues_copy_of", "issues", "issues", ["copy_of"], ["id"], ondelete="SET NULL")
    _create_index("ix_issues_identity_key", "issues", ["identity_key"])
    _create_index("ix_issues_copy_of", "issues", ["copy_of"])
    _create_table(
        "works",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("primary_issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    _create_table(
        "work_members",
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("work_id", sa.Integer, sa.ForeignKey("works.id", ondelete="CASCADE"), nullable=False),
        sa.Column("matched_issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="SET NULL")),
        sa.Column("similarity", sa.Float),
        sa.Column("containment", sa.Float),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("joined_at", sa.String(32), nullable=False),
    )
    _create_index("ix_work_members_work_id", "work_members", ["work_id"])
    _create_table(
        "issue_aliases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("first_seen_at", sa.String(32), nullable=False),
        sa.Column("last_seen_at", sa.String(32), nullable=False),
    )
    _create_index("ix_issue_aliases_issue_id", "issue_aliases", ["issue_id"])
    _create_table(
        "issue_fingerprints",
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("newsletter_id", sa.Integer, nullable=False),
        sa.Column("shingles", sa.Integer, nullable=False),
        sa.Column("signature", sa.LargeBinary),
        sa.Column("line_hashes", sa.LargeBinary, nullable=False),
        sa.Column("computed_at", sa.String(32), nullable=False),
    )
    _create_table(
        "fingerprint_bands",
        sa.Column("band_key", HASH32, nullable=False),
        sa.Column("issue_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("band_key", "issue_id"),
        sqlite_with_rowid=False,
    )
    _create_table(
        "issue_lines",
        sa.Column("line_hash", HASH32, nullable=False),
        sa.Column("newsletter_id", sa.Integer, nullable=False),
        sa.Column("issue_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("line_hash", "newsletter_id", "issue_id"),
        sqlite_with_rowid=False,
    )
    _create_table(
        "issue_copies",
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("is_farm", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("likely_original_url", sa.Text),
        sa.Column("claimed_author", sa.Text),
        sa.Column("claimed_published_at", sa.String(32)),
        sa.Column("checked_at", sa.String(32), nullable=False),
    )
    _create_table(
        "archive_settings",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("value", sa.JSON),
    )


def downgrade() -> None:
    op.drop_table("archive_settings")
    op.drop_table("issue_copies")
    op.drop_table("issue_lines")
    op.drop_table("fingerprint_bands")
    op.drop_table("issue_fingerprints")
    op.drop_table("issue_aliases")
    op.drop_table("work_members")
    op.drop_table("works")
    op.drop_index("ix_issues_copy_of", "issues")
    op.drop_index("ix_issues_identity_key", "issues")
    if op.get_bind().dialect.name == "sqlite":  # SQLite ≥ 3.35 drops plain columns in place (triggers kept)
        op.execute("ALTER TABLE issues DROP COLUMN copy_of")
        op.execute("ALTER TABLE issues DROP COLUMN identity_key")
    else:
        op.drop_constraint("fk_issues_copy_of", "issues", type_="foreignkey")
        op.drop_column("issues", "copy_of")
        op.drop_column("issues", "identity_key")
