"""The ``schedulers`` table of the SQL job store: each running scheduler's sign of life (see
:mod:`nbsched.liveness`). Each method is one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from nbsched.jobstores.sqlalchemy.database import Database
from nbsched.jobstores.sqlalchemy.models import raw_columns, stored_time
from nbsched.liveness import SchedulerInfo

__all__ = ["FORGET_AFTER", "SchedulerTable"]

#: rows of schedulers not heard of for this long (they died without shutting down) are deleted by the next write
FORGET_AFTER = timedelta(days=1)


class SchedulerTable:
    """The liveness rows of the schedulers over one store (the liveness methods of
    :class:`~nbsched.abc.JobStore`)."""

    def __init__(self, db: Database, table: Table) -> None:
        self._db = db
        self._t = table
        self._columns = raw_columns(table)

    def record(self, info: SchedulerInfo) -> None:
        """Insert or replace the row of ``info.id``, and delete rows not heard of for :data:`FORGET_AFTER`."""
        t = self._t
        values = {
            "id": info.id,
            "host": info.host[:255],
            "pid": info.pid,
            "started_at": info.started_at,
            "heartbeat_at": info.heartbeat_at,
            "runs_jobs": info.runs_jobs,
        }

        def work(conn: Connection) -> None:
            # Delete and insert in one transaction: the same statements on SQLite and PostgreSQL.
            conn.execute(delete(t).where((t.c.id == info.id) | (t.c.heartbeat_at < info.heartbeat_at - FORGET_AFTER)))
            conn.execute(insert(t).values(values))

        self._db.write(work)

    def remove(self, scheduler_id: str) -> None:
        """Delete the row of this scheduler (none: nothing happens)."""
        t = self._t
        self._db.write(lambda conn: conn.execute(delete(t).where(t.c.id == scheduler_id)))

    def live(self, alive_since: datetime) -> list[SchedulerInfo]:
        """The rows whose heartbeat is at or after ``alive_since``, oldest start first (one query)."""
        t = self._t
        query = select(*self._columns).where(t.c.heartbeat_at >= alive_since).order_by(t.c.started_at, t.c.id)
        rows = self._db.read(lambda conn: list(conn.execute(query).all()))
        found: list[SchedulerInfo] = []
        for row in rows:
            found.append(_info(row._mapping))
        return found


def _info(row: Any) -> SchedulerInfo:
    started = stored_time(row["started_at"], "started_at")
    beat = stored_time(row["heartbeat_at"], "heartbeat_at")
    assert started is not None  # NOT NULL columns
    assert beat is not None
    return SchedulerInfo(
        id=row["id"],
        host=row["host"],
        pid=int(row["pid"]),
        started_at=started,
        heartbeat_at=beat,
        runs_jobs=bool(row["runs_jobs"]),
    )
