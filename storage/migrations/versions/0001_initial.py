"""Initial schema: newsletters, issues, rejected pages, and the full-text index over issues.

SQLite: an FTS5 table kept in sync by triggers. PostgreSQL: a generated ``tsvector`` column with a GIN
index (storage/search_pg.py). Other databases get no full-text index.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The FTS index mirrors issues (external content) and is kept in sync by triggers, so every
# writer — our pipeline, sqlite3, a Datasette plugin — keeps search right without extra code.
FTS_SQL = [
    """CREATE VIRTUAL TABLE issues_fts USING fts5(
        title, author, body_text,
        content='issues', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
        INSERT INTO issues_fts(rowid, title, author, body_text)
        VALUES (new.id, new.title, new.author, new.body_text);
    END""",
    """CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues BEGIN
        INSERT INTO issues_fts(issues_fts, rowid, title, author, body_text)
        VALUES ('delete', old.id, old.title, old.author, old.body_text);
    END""",
    """CREATE TRIGGER issues_fts_update AFTER UPDATE OF title, author, body_text ON issues BEGIN
        INSERT INTO issues_fts(issues_fts, rowid, title, author, body_text)
        VALUES ('delete', old.id, old.title, old.author, old.body_text);
        INSERT INTO issues_fts(rowid, title, author, body_text)
        VALUES (new.id, new.title, new.author, new.body_text);
    END""",
]

# PostgreSQL: the same three columns, weighted A (title), B (author), D (body) so that ts_rank can weigh
# them as bm25 does on SQLite; English stemming like FTS5's porter tokenizer. A generated column needs
# no trigger and is always in sync, whoever writes the row.
POSTGRES_FTS_SQL = [
    """ALTER TABLE issues ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(author, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(body_text, '')), 'D')
    ) STORED""",
    "CREATE INDEX ix_issues_search_vector ON issues USING GIN (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "newsletters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("home_url", sa.Text),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "newsletter_id", sa.Integer, sa.ForeignKey("newsletters.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("canonical_url", sa.Text),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("published_at", sa.String(32)),
        sa.Column("modified_at", sa.String(32)),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("image_url", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_markdown", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("raw_html_gz", sa.LargeBinary),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("extractor", sa.String(80), nullable=False),
        sa.Column("extractor_version", sa.String(80), nullable=False),
        sa.Column("fetched_at", sa.String(32), nullable=False),
        sa.Column("first_seen_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_issues_newsletter_id", "issues", ["newsletter_id"])
    op.create_index("ix_issues_canonical_url", "issues", ["canonical_url"])
    op.create_index("ix_issues_published_at", "issues", ["published_at"])
    op.create_index("ix_issues_content_hash", "issues", ["content_hash"])
    op.create_table(
        "rejected_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("newsletter", sa.String(300)),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_at", sa.String(32), nullable=False),
        sa.Column("last_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("url", name="uq_rejected_pages_url"),
    )
    op.create_index("ix_rejected_pages_reason", "rejected_pages", ["reason"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": FTS_SQL, "postgresql": POSTGRES_FTS_SQL}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS issues_fts")
    op.drop_table("rejected_pages")
    op.drop_table("issues")
    op.drop_table("newsletters")
