"""Incremental crawling: per-URL crawl state, issue revisions, crawl-run records, issues marked gone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("gone_at", sa.String(32)))
    op.create_table(
        "issue_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_markdown", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.String(32), nullable=False),
        sa.Column("replaced_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("issue_id", "revision", name="uq_issue_revisions_number"),
    )
    op.create_index("ix_issue_revisions_issue_id", "issue_revisions", ["issue_id"])
    op.create_table(
        "crawl_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("newsletter", sa.String(300)),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("page_hash", sa.String(64)),
        sa.Column("listed_date", sa.String(32)),
        sa.Column("published_at", sa.String(32)),
        sa.Column("first_seen_at", sa.String(32), nullable=False),
        sa.Column("last_checked_at", sa.String(32), nullable=False),
        sa.Column("last_changed_at", sa.String(32)),
        sa.Column("failure_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_crawl_state_newsletter", "crawl_state", ["newsletter"])
    op.create_index("ix_crawl_state_issue_id", "crawl_state", ["issue_id"])
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("finish_reason", sa.String(80)),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("log_file", sa.Text),
    )
    op.create_table(
        "crawl_run_sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("newsletter", sa.String(300)),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("listed", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("finish_reason", sa.String(80)),
        sa.UniqueConstraint("run_id", "source", name="uq_crawl_run_sources_source"),
    )
    op.create_index("ix_crawl_run_sources_run_id", "crawl_run_sources", ["run_id"])


def downgrade() -> None:
    op.drop_table("crawl_run_sources")
    op.drop_table("crawl_runs")
    op.drop_table("crawl_state")
    op.drop_table("issue_revisions")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("gone_at")
