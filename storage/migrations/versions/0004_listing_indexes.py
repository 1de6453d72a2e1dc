"""Indexes for filtered listing: per newsletter and per access state, already in date order.

Without them `list --newsletter/--access` read every matching row through single-column indexes and
sorted (295 ms p95 on 100,000 issues; 10 ms with them — bench/query.py). The author index makes
Datasette's author facet cheap.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_issues_newsletter_published", "issues", ["newsletter_id", "published_at"])
    op.create_index("ix_issues_access_published", "issues", ["access", "published_at"])
    op.create_index("ix_issues_author", "issues", ["author"])
    op.drop_index("ix_issues_newsletter_id", "issues")
    op.drop_index("ix_issues_access", "issues")


def downgrade() -> None:
    op.create_index("ix_issues_access", "issues", ["access"])
    op.create_index("ix_issues_newsletter_id", "issues", ["newsletter_id"])
    op.drop_index("ix_issues_author", "issues")
    op.drop_index("ix_issues_access_published", "issues")
    op.drop_index("ix_issues_newsletter_published", "issues")
