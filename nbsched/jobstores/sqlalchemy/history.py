"""The run history half of the SQL job store: the ``runs`` table behind the JobStore run methods.

Every method is one statement or one transaction. The two that several schedulers may race on are single
conditional statements with ``RETURNING``, so a row is taken by exactly one of them: :meth:`mark_lost_runs`
(``UPDATE ... WHERE status IN ('scheduled', 'running') AND heartbeat_at < :stale``) and :meth:`prune_runs`
(``DELETE ... RETURNING``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from nbsched.jobstores.sqlalchemy.database import Database, PreparedStatement
from nbsched.jobstores.sqlalchemy.rows import run_from_row, run_values
from nbsched.runs import ACTIVE, FINISHED, Run, RunFilter, RunStatus

__all__ = ["RunHistory", "insert_ignoring"]

_FINISHED = sorted(str(status) for status in FINISHED)
_ACTIVE = sorted(str(status) for status in ACTIVE)


def insert_ignoring(table: Table, dialect: str, *columns: str) -> Insert:
    """``INSERT ... ON CONFLICT (columns) DO NOTHING`` for SQLite and PostgreSQL."""
    # preserve_rowcount: SQLAlchemy reports the row count of INSERTs only when asked; callers read it.
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(columns))
        return pg_stmt.execution_options(preserve_rowcount=True)
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(columns))
        return lite_stmt.execution_options(preserve_rowcount=True)
    raise NotImplementedError(f"SQLAlchemyJobStore supports SQLite and PostgreSQL, not {dialect}")


class RunHistory:
    """Run records in the ``runs`` table (the run methods of :class:`~nbsched.abc.JobStore`)."""

    def __init__(self, db: Database, runs: Table) -> None:
        self._db = db
        self._t = runs
        dialect = db.engine.dialect
        insert = insert_ignoring(runs, db.dialect, "job_id", "scheduled_at")
        self._insert = PreparedStatement(insert, dialect, [column.name for column in runs.c])
        fields = [column.name for column in runs.c if column.name not in ("id", "job_id", "scheduled_at")]
        by_id = update(runs).where(runs.c.id == bindparam("b_id"))
        self._update = PreparedStatement(by_id.values({name: bindparam(f"b_{name}") for name in fields}), dialect)
        self._fields = fields

    def insert(self, conn: Connection | Any, runs: list[Run]) -> int:
        """Insert runs in ``conn``'s transaction (a SQLAlchemy or a driver connection: see
        :meth:`Database.write_prepared`), skipping those whose ``(job_id, scheduled_at)`` exists."""
        if not runs:
            return 0
        if len(runs) == 1:
            return int(self._insert.execute(conn, run_values(runs[0])).rowcount)
        self._insert.execute_many(conn, (run_values(run) for run in runs))
        return len(runs)  # executemany gives no per-row count; callers of many do not need it

    def add_run(self, run: Run) -> bool:
        """Record a new run; ``False`` when ``(job_id, scheduled_at)`` is recorded already."""
        return self._db.write_prepared(lambda conn: self.insert(conn, [run])) == 1

    def update_runs(self, runs: list[Run]) -> None:
        """Store the runs' current state in one transaction (unknown ids are ignored)."""
        if not runs:
            return
        params: list[dict[str, Any]] = []
        for run in runs:
            values = run_values(run)
            params.append({"b_id": run.id, **{f"b_{name}": values[name] for name in self._fields}})
        self._db.write_prepared(lambda conn: self._update.execute_many(conn, params))

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or ``None``."""
        row = self._db.read(lambda conn: conn.execute(select(self._t).where(self._t.c.id == run_id)).first())
        return run_from_row(row._mapping) if row is not None else None

    def get_runs(self, run_filter: RunFilter) -> list[Run]:
        """Runs matching the filter, newest ``scheduled_at`` first."""
        t = self._t
        query = select(t).order_by(t.c.scheduled_at.desc(), t.c.id)
        if run_filter.job_id is not None:
            query = query.where(t.c.job_id == run_filter.job_id)
        if run_filter.status is not None:
            query = query.where(t.c.status.in_(sorted(str(status) for status in run_filter.status)))
        if run_filter.since is not None:
            query = query.where(t.c.scheduled_at >= run_filter.since)
        if run_filter.until is not None:
            query = query.where(t.c.scheduled_at < run_filter.until)
        if run_filter.limit is not None:
            query = query.limit(run_filter.limit)
        rows = self._db.read(lambda conn: conn.execute(query).all())
        return [run_from_row(row._mapping) for row in rows]

    def heartbeat_runs(self, run_ids: list[str], at: datetime) -> None:
        """Record that these scheduled or running runs are alive at ``at`` (finished runs are left alone)."""
        if not run_ids:
            return
        t = self._t
        stmt = update(t).where(t.c.id.in_(run_ids), t.c.status.in_(_ACTIVE)).values(heartbeat_at=at)
        self._db.write(lambda conn: conn.execute(stmt))

    def mark_lost_runs(self, stale_before: datetime, now: datetime) -> list[Run]:
        """Mark ``lost`` the scheduled or running runs whose last heartbeat is before ``stale_before``.

        One conditional ``UPDATE ... RETURNING``: when two schedulers notice the same dead run, one gets it.
        A run that never heartbeat is left alone (as the in-memory reference does).

        :return: the runs marked
        """
        t = self._t
        stmt = (
            update(t)
            .where(t.c.status.in_(_ACTIVE), t.c.heartbeat_at < stale_before)
            .values(status=str(RunStatus.LOST), finished_at=now)
            .returning(*t.c)
        )
        rows = self._db.write(lambda conn: conn.execute(stmt).all())
        return [run_from_row(row._mapping) for row in rows]

    def delete_runs(self, run_ids: list[str]) -> None:
        """Delete these runs."""
        if run_ids:
            self._db.write(lambda conn: conn.execute(delete(self._t).where(self._t.c.id.in_(run_ids))))

    def prune_runs(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        """Delete finished runs beyond the newest ``keep_last`` per job or scheduled before ``older_than``.

        :return: the deleted runs, each reported by exactly one caller when several prune at once
        """
        if keep_last is None and older_than is None:
            return []
        t = self._t
        rank = func.row_number().over(partition_by=t.c.job_id, order_by=t.c.scheduled_at.desc()).label("rank")
        ranked = select(t.c.id, t.c.scheduled_at, rank).where(t.c.status.in_(_FINISHED)).subquery()
        doomed = []
        if keep_last is not None:
            doomed.append(ranked.c.rank > keep_last)
        if older_than is not None:
            doomed.append(ranked.c.scheduled_at < older_than)
        stmt = (
            delete(t)
            .where(t.c.id.in_(select(ranked.c.id).where(or_(*doomed))), t.c.status.in_(_FINISHED))
            .returning(*t.c)
        )
        rows = self._db.write(lambda conn: conn.execute(stmt).all())
        found = [run_from_row(row._mapping) for row in rows]
        found.sort(key=lambda run: run.scheduled_at, reverse=True)
        return found
