"""The tables of the SQL job store, as SQLAlchemy 2 typed ORM classes.

Time columns hold **integer microseconds since the Unix epoch (UTC)** (:class:`UTCMicroseconds`). An integer
compares exactly, sorts correctly, is indexed cheaply and means the same on SQLite and PostgreSQL, which the
exactly-once claim needs: ``UPDATE jobs ... WHERE next_run_time = :due`` must match the value that was read,
bit for bit. Floats (APScheduler 3) round; text timestamps depend on how they were formatted. Python datetimes
carry microseconds, so nothing is lost.

JSON state is kept in ``Text`` columns and parsed by the store row by row, rather than with ``sa.JSON``: one
corrupt row must be reported as broken, not make every query that touches it fail.

The store itself uses the ``Table`` objects (``JobRow.__table__``), copied under the configured names when the
table name or schema is not the default. The schema is created and changed only by the Alembic migrations in
``migrations/``; keep these classes and the migrations in step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "JobRow", "RunRow", "UTCMicroseconds", "from_micros", "to_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Integer microseconds since the epoch for an aware datetime (exact: no float on the way).

    :raises ValueError: for a naive datetime
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"to_micros: datetime {value!r} is naive; the store keeps aware UTC instants only")
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC datetime of integer microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=value)


class UTCMicroseconds(TypeDecorator[datetime]):
    """An aware datetime stored as integer microseconds since the epoch (UTC); comes back in UTC."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))


class Base(DeclarativeBase):
    """Declarative base of the job store's tables."""


class JobRow(Base):
    """One job. ``task``, ``trigger`` and ``options`` are JSON objects, each with a ``"version"`` key.

    ``version`` is the version of the job state (:data:`nbsched.job.STATE_VERSION`) that wrote the row;
    ``load_error`` is the last reason the row could not be loaded (``None``: it loads).
    """

    __tablename__ = "jobs"

    # 191 = the longest indexed VARCHAR MySQL's InnoDB takes in utf8mb4 (as APScheduler 3).
    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(Text)
    next_run_time: Mapped[datetime | None] = mapped_column(UTCMicroseconds, index=True)
    paused: Mapped[bool] = mapped_column(Boolean)
    options: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    load_error: Mapped[str | None] = mapped_column(Text)


class RunRow(Base):
    """One run of a job (see :class:`nbsched.runs.Run`); ``outputs`` is ``{"version": 1, "outputs": {...}}``.

    Runs are not tied to ``jobs`` by a foreign key: the history of a removed job stays readable.
    """

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_at", name="uq_runs_job_id_scheduled_at"),
        Index("ix_runs_scheduled_at", "scheduled_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Lookups by job use the unique (job_id, scheduled_at) index, whose first column is job_id.
    job_id: Mapped[str] = mapped_column(String(191))
    scheduled_at: Mapped[datetime] = mapped_column(UTCMicroseconds)
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCMicroseconds)
    finished_at: Mapped[datetime | None] = mapped_column(UTCMicroseconds)
    worker: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCMicroseconds)
    error_type: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(String(255))
    cell_index: Mapped[int | None] = mapped_column(Integer)
    outputs: Mapped[str] = mapped_column(Text)
