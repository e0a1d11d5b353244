"""Schedulers' signs of life: the ``schedulers`` table (who runs jobs over this store now).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

One row per running scheduler (id, host, pid, started_at, heartbeat_at, runs_jobs), written on its heartbeat
and deleted on its clean shutdown; times are integer microseconds since the epoch (UTC), as elsewhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.create_table(
        names["schedulers"],
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.Column("runs_jobs", sa.Boolean(), nullable=False),
        schema=names["schema"],
    )


def downgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.drop_table(names["schedulers"], schema=names["schema"])
