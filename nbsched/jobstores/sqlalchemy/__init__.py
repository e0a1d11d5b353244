"""The SQL job store (APScheduler 3's ``apscheduler.jobstores.sqlalchemy`` path): SQLite or PostgreSQL."""

from __future__ import annotations

from nbsched.jobstores.sqlalchemy.errors import (
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    JobStoreError,
    SchemaVersionError,
)
from nbsched.jobstores.sqlalchemy.store import SQLAlchemyJobStore

__all__ = [
    "DatabaseFullError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "JobStoreError",
    "SQLAlchemyJobStore",
    "SchemaVersionError",
]
