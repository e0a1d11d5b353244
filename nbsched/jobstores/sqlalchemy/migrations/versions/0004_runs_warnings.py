"""Record notes on a run that are not its error (coalesced fire times, outputs not written): ``runs.warnings``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.add_column(names["runs"], sa.Column("warnings", sa.Text(), nullable=True), schema=names["schema"])


def downgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    with op.batch_alter_table(names["runs"], schema=names["schema"]) as batch:
        batch.drop_column("warnings")
