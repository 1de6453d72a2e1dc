"""Platform metadata: subtitle, issue number and volume, access state; the links of each body.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("subtitle", sa.Text))
        batch.add_column(sa.Column("issue_number", sa.Integer))
        batch.add_column(sa.Column("volume", sa.Integer))
        batch.add_column(sa.Column("access", sa.String(20), nullable=False, server_default="free"))
    op.create_index("ix_issues_access", "issues", ["access"])
    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.UniqueConstraint("issue_id", "position", name="uq_issue_links_position"),
    )
    op.create_index("ix_issue_links_url", "issue_links", ["url"])


def downgrade() -> None:
    op.drop_table("issue_links")
    op.drop_index("ix_issues_access", "issues")
    with op.batch_alter_table("issues") as batch:
        for column in ("access", "volume", "issue_number", "subtitle"):
            batch.drop_column(column)
