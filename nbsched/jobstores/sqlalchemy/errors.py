"""Errors of the SQL job store (defined in :mod:`nbsched.exceptions`, re-exported here)."""

from __future__ import annotations

from nbsched.exceptions import (
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    JobStoreError,
    SchemaVersionError,
)

__all__ = [
    "DatabaseFullError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "JobStoreError",
    "SchemaVersionError",
]
