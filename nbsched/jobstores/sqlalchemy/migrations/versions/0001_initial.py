"""The jobs and runs tables.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Times are integer microseconds since the epoch (UTC); JSON state is text. Table and index names come from the
store (``nbsched_names``), so several stores can share a database under different table names.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    jobs, runs, schema = names["jobs"], names["runs"], names["schema"]
    op.create_table(
        jobs,
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("next_run_time", sa.BigInteger(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("load_error", sa.Text(), nullable=True),
        schema=schema,
    )
    op.create_index(f"ix_{jobs}_next_run_time", jobs, ["next_run_time"], schema=schema)
    op.create_table(
        runs,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(191), nullable=False),
        sa.Column("scheduled_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=True),
        sa.Column("error_type", sa.String(255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("progress", sa.String(255), nullable=True),
        sa.Column("cell_index", sa.Integer(), nullable=True),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.UniqueConstraint("job_id", "scheduled_at", name=f"uq_{runs}_job_id_scheduled_at"),
        schema=schema,
    )


def downgrade() -> None:
    names = context.config.attributes["nbsched_names"]
    op.drop_table(names["runs"], schema=names["schema"])
    op.drop_index(f"ix_{names['jobs']}_next_run_time", names["jobs"], schema=names["schema"])
    op.drop_table(names["jobs"], schema=names["schema"])
