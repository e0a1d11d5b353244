"""Alembic environment of the SQL job store: run programmatically by :func:`~..schema.migrate`, never by hand.

The store passes the connection (already inside its write transaction) and the table names in
``config.attributes``; there is no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context

config = context.config

if context.is_offline_mode():  # pragma: no cover - the store always migrates a live connection
    raise RuntimeError("nbsched's migrations run on a live connection only (no offline SQL generation)")

names = config.attributes["nbsched_names"]
context.configure(
    connection=config.attributes["connection"],
    version_table=names["version"],
    version_table_schema=names["schema"],
)
# The store's transaction is already open, so this joins it: every migration commits or rolls back together.
with context.begin_transaction():
    context.run_migrations()
