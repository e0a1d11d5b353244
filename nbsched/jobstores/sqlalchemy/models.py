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

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "MAX_MICROS",
    "MIN_MICROS",
    "Base",
    "JobRow",
    "RunRow",
    "SchedulerRow",
    "UTCMicroseconds",
    "from_micros",
    "raw_columns",
    "stored_time",
    "to_micros",
]

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


#: the stored values of the first and the last instant a Python datetime holds (years 1 and 9999)
MIN_MICROS = to_micros(datetime.min.replace(tzinfo=UTC))
MAX_MICROS = to_micros(datetime.max.replace(tzinfo=UTC))


def stored_time(value: Any, column: str) -> datetime | None:
    """The aware UTC datetime of a time column's raw value (see :func:`raw_columns`).

    SQLite keeps whatever another program wrote into an ``INTEGER`` column (``'garbage'`` stays text), so a
    value is checked here, where one row can be reported, rather than in a result processor that fails the
    whole query.

    :raises ValueError: ``column next_run_time holds 'garbage', which is not a time (...)``
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a REAL another program wrote; SQLite compares it equal to the integer
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"column {column} holds {value!r}, which is not a time (integer microseconds since 1970-01-01 UTC)"
        )
    if not MIN_MICROS <= value <= MAX_MICROS:
        raise ValueError(f"column {column} holds {value!r}, which is outside the years 1 to 9999")
    return from_micros(value)


def raw_columns(table: Table) -> list[ColumnElement[Any]]:
    """The columns of ``table`` to select, its time columns as the raw integers (see :func:`stored_time`).

    Each keeps its column's name, and renders as the plain column (``type_coerce`` changes only how SQLAlchemy
    reads the value, not the SQL), so indexes and ``ORDER BY`` work as before.
    """
    return [
        type_coerce(column, BigInteger()).label(column.name) if isinstance(column.type, UTCMicroseconds) else column
        for column in table.c
    ]


class UTCMicroseconds(TypeDecorator[datetime]):
    """An aware datetime stored as integer microseconds since the epoch (UTC); comes back in UTC.

    The store selects these columns with :func:`raw_columns` and converts them row by row; the result
    processor serves other queries (``min()``, tests, other tools).
    """

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
    """One run of a job (see :class:`nbsched.runs.Run`); ``outputs`` is ``{"version": 1, "outputs": {...}}``,
    ``warnings`` ``{"version": 1, "warnings": [...]}`` or ``NULL`` when there are none.

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
    # The SHA-256 (hex) of the notebook or cell source a run ran (revision 0003).
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    # Notes on the run that are not its error: coalesced fire times, outputs not written (revision 0004).
    warnings: Mapped[str | None] = mapped_column(Text)


class SchedulerRow(Base):
    """The sign of life of one scheduler running over the store (see :class:`nbsched.liveness.SchedulerInfo`),
    refreshed on its heartbeat, deleted when it shuts down cleanly (revision 0005)."""

    __tablename__ = "schedulers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCMicroseconds)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCMicroseconds)
    runs_jobs: Mapped[bool] = mapped_column(Boolean)
