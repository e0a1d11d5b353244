"""Index runs by scheduled_at: run listings across jobs (newest first) and pruning by age use it.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.create_index(f"ix_{names['runs']}_scheduled_at", names["runs"], ["scheduled_at"], schema=names["schema"])


def downgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.drop_index(f"ix_{names['runs']}_scheduled_at", names["runs"], schema=names["schema"])
