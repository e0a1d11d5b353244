"""Record the content hash of what each notebook or cell run ran: ``runs.input_sha256``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.add_column(names["runs"], sa.Column("input_sha256", sa.String(64), nullable=True), schema=names["schema"])


def downgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    with op.batch_alter_table(names["runs"], schema=names["schema"]) as batch:
        batch.drop_column("input_sha256")
