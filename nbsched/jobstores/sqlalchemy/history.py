"""The run history half of the SQL job store: the ``runs`` table behind the JobStore run methods.

Every method is one statement or one transaction. The two that several schedulers may race on are single
conditional statements with ``RETURNING``, so a row is taken by exactly one of them: :meth:`mark_lost_runs`
(``UPDATE ... WHERE status IN ('scheduled', 'running') AND heartbeat_at < :stale``) and :meth:`prune_runs`
(``DELETE ... RETURNING``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from nbsched.jobstores.sqlalchemy.database import Database, PreparedStatement
from nbsched.jobstores.sqlalchemy.models import raw_columns
from nbsched.jobstores.sqlalchemy.notify import Notifier
from nbsched.jobstores.sqlalchemy.rows import run_from_row, run_values
from nbsched.runs import ACTIVE, FINISHED, LOST_ERROR_TYPE, Run, RunFilter, RunStatus, mark_run_lost

__all__ = ["RunHistory", "insert_ignoring"]

logger = logging.getLogger("nbsched.jobstores.sqlalchemy")

_FINISHED = sorted(str(status) for status in FINISHED)
_ACTIVE = sorted(str(status) for status in ACTIVE)
_CANCELLED = str(RunStatus.CANCELLED)
#: run ids per ``IN (...)`` of :meth:`RunHistory.existing_run_ids` (well under SQLite's 32766 bound parameters)
ID_BATCH = 500


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
    """Run records in the ``runs`` table (the run methods of :class:`~nbsched.abc.JobStore`).

    A row that cannot be read (another program wrote text into a time column, or a status no nbsched knows) is
    skipped, with one warning per row and reason, and kept: one bad row never fails a query.

    :param notifier: sends the ``NOTIFY`` of run changes (PostgreSQL), which the widget panel listens for
    """

    def __init__(self, db: Database, runs: Table, notifier: Notifier) -> None:
        self._db = db
        self._t = runs
        self._notifier = notifier
        self._notifies = self._notifier.enabled
        self._columns = raw_columns(runs)
        self._reported: set[tuple[str, str]] = set()  # (run id, reason) warned about, under _reported_lock
        self._reported_lock = threading.Lock()
        dialect = db.engine.dialect
        insert = insert_ignoring(runs, db.dialect, "job_id", "scheduled_at")
        self._insert = PreparedStatement(insert, dialect, [column.name for column in runs.c])
        fields = [column.name for column in runs.c if column.name not in ("id", "job_id", "scheduled_at")]
        # A cancelled run stays cancelled: its worker's late outcome does not undo the cancellation.
        by_id = update(runs).where(runs.c.id == bindparam("b_id"), runs.c.status != bindparam("b_final"))
        self._update = PreparedStatement(by_id.values({name: bindparam(f"b_{name}") for name in fields}), dialect)
        self._fields = fields
        # What a cancelled run left behind (its outputs, the cell it stopped in, what it ran) still reaches its row.
        self._outcome_fields = ["outputs", "cell_index", "input_sha256", "traceback", "warnings"]
        leftovers = update(runs).where(runs.c.id == bindparam("b_id"), runs.c.status == bindparam("b_final"))
        self._update_cancelled = PreparedStatement(
            leftovers.values({name: bindparam(f"b_{name}") for name in self._outcome_fields}), dialect
        )

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
        if not self._notifies:
            return self._db.write_prepared(lambda conn: self.insert(conn, [run])) == 1

        def work(conn: Any) -> int:
            added = self.insert(conn, [run])
            if added:
                self._notifier.runs(conn)
            return added

        return self._db.write_prepared(work) == 1

    def update_runs(self, runs: list[Run]) -> None:
        """Store the runs' current state in one transaction (unknown ids are ignored)."""
        if not runs:
            return
        params: list[dict[str, Any]] = []
        cancelled: list[dict[str, Any]] = []
        for run in runs:
            values = run_values(run)
            fields = self._outcome_fields if run.status is RunStatus.CANCELLED else self._fields
            (cancelled if run.status is RunStatus.CANCELLED else params).append(
                {"b_id": run.id, "b_final": _CANCELLED, **{f"b_{name}": values[name] for name in fields}}
            )

        def work(conn: Any) -> None:
            self._update.execute_many(conn, params)
            self._update_cancelled.execute_many(conn, cancelled)
            if self._notifies:
                self._notifier.runs(conn)  # one per batch: the recorder writes status changes in batches

        self._db.write_prepared(work)

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or ``None`` (also when its row cannot be read: a warning says why)."""
        query = select(*self._columns).where(self._t.c.id == run_id)
        row = self._db.read(lambda conn: conn.execute(query).first())
        found = self._readable([row] if row is not None else [])
        return found[0] if found else None

    def get_runs(self, run_filter: RunFilter) -> list[Run]:
        """Runs matching the filter, newest ``scheduled_at`` first (rows that cannot be read are skipped)."""
        t = self._t
        query = select(*self._columns).order_by(t.c.scheduled_at.desc(), t.c.id)
        if run_filter.job_id is not None:
            query = query.where(t.c.job_id == run_filter.job_id)
        if run_filter.status is not None:
            query = query.where(t.c.status.in_(sorted(str(status) for status in run_filter.status)))
        if run_filter.since is not None:
            query = query.where(t.c.scheduled_at >= run_filter.since)
        if run_filter.until is not None:
            query = query.where(t.c.scheduled_at < run_filter.until)
        limit = run_filter.limit
        if limit is None:
            return self._readable(self._rows(query))
        # Rows skipped as unreadable must not shorten the page: read on past them (text in scheduled_at sorts
        # first, newest first, so a "latest run" query would otherwise come back empty). Without such rows
        # this is one query.
        found: list[Run] = []
        offset = 0
        while (wanted := limit - len(found)) > 0:
            page = query.limit(wanted)
            rows = self._rows(page.offset(offset) if offset else page)
            found.extend(self._readable(rows))
            if len(rows) < wanted:
                break  # no more rows
            offset += len(rows)
        return found

    def last_runs(self, job_ids: Collection[str] | None) -> dict[str, Run]:
        """The latest run of each job (of ``job_ids``, or of all), by job id: ONE query, a window function
        numbering each job's runs newest first (``row_number() OVER (PARTITION BY job_id ...)``) over the unique
        ``(job_id, scheduled_at)`` index. More ids than :data:`ID_BATCH` are filtered here instead of by a long
        ``IN (...)``. A latest row that cannot be read leaves its job out (a warning says why)."""
        ids = None if job_ids is None else list(dict.fromkeys(job_ids))
        if ids is not None and not ids:
            return {}
        t = self._t
        order = (t.c.scheduled_at.desc(), t.c.id)
        rank = func.row_number().over(partition_by=t.c.job_id, order_by=order).label("nbsched_rank")
        ranked = select(*self._columns, rank)
        if ids is not None and len(ids) <= ID_BATCH:
            ranked = ranked.where(t.c.job_id.in_(ids))
        sub = ranked.subquery()
        query = select(*(sub.c[column.name] for column in t.c)).where(sub.c.nbsched_rank == 1)
        runs = self._readable(self._rows(query))
        wanted = None if ids is None else set(ids)
        return {run.job_id: run for run in runs if wanted is None or run.job_id in wanted}

    def _rows(self, query: Any) -> list[Row[Any]]:
        rows: list[Row[Any]] = self._db.read(lambda conn: list(conn.execute(query).all()))
        return rows

    def _readable(self, rows: Iterable[Row[Any]]) -> list[Run]:
        """The runs of ``rows``; a row that cannot be read is skipped with a warning (once per row and reason)."""
        runs: list[Run] = []
        for row in rows:
            mapping = row._mapping
            try:
                runs.append(run_from_row(mapping))
            except Exception as exc:  # one unreadable row must not hide the others
                reason = str(exc)
                key = (str(mapping["id"]), reason)
                with self._reported_lock:
                    first = key not in self._reported
                    self._reported.add(key)
                if first:
                    logger.warning(
                        "run %r of job %r in %s cannot be read and is skipped (kept in the store): %s",
                        mapping["id"],
                        mapping["job_id"],
                        self._db.display,
                        reason,
                    )
        return runs

    def heartbeat_runs(self, run_ids: list[str], at: datetime) -> list[str]:
        """Record that these scheduled or running runs are alive at ``at`` (finished runs are left alone).

        :return: the ids among them that are not scheduled or running any more (cancelled, or gone)
        """
        if not run_ids:
            return []
        t = self._t
        stmt = update(t).where(t.c.id.in_(run_ids), t.c.status.in_(_ACTIVE)).values(heartbeat_at=at).returning(t.c.id)
        alive = set(self._db.write(lambda conn: conn.execute(stmt).scalars().all()))
        return [run_id for run_id in run_ids if run_id not in alive]

    def cancel_run(self, run_id: str, at: datetime, reason: str) -> Run | None:
        """Mark the run ``cancelled`` if it is scheduled or running: one conditional ``UPDATE ... RETURNING``."""
        t = self._t
        stmt = (
            update(t)
            .where(t.c.id == run_id, t.c.status.in_(_ACTIVE))
            .values(status=str(RunStatus.CANCELLED), finished_at=at, error_type="Cancelled", error_message=reason)
            .returning(*self._columns)
        )
        rows = self._db.write(lambda conn: self._changing(conn, stmt))
        found = self._readable(rows)
        return found[0] if found else None

    def mark_lost_runs(self, stale_before: datetime, now: datetime) -> list[Run]:
        """Mark ``lost`` the scheduled or running runs whose last heartbeat is before ``stale_before``.

        One conditional ``UPDATE ... RETURNING``: when two schedulers notice the same dead run, one gets it.
        A run that never heartbeat is left alone (as the in-memory reference does). In the same transaction,
        the message :func:`~nbsched.runs.mark_run_lost` writes (worker, last heartbeat) is added to each.

        :return: the runs marked
        """
        t = self._t
        stmt = (
            update(t)
            .where(t.c.status.in_(_ACTIVE), t.c.heartbeat_at < stale_before)
            # As mark_run_lost does, in SQL: so that a row that cannot be read is marked the same.
            .values(status=str(RunStatus.LOST), finished_at=t.c.heartbeat_at, error_type=LOST_ERROR_TYPE)
            .returning(*self._columns)
        )
        messages = update(t).where(t.c.id == bindparam("b_id")).values(error_message=bindparam("b_message"))

        def work(conn: Connection) -> list[Run]:
            runs = self._readable(self._changing(conn, stmt))  # (a row marked but unreadable is skipped, warned)
            for run in runs:
                mark_run_lost(run, now)
            if runs:
                conn.execute(messages, [{"b_id": run.id, "b_message": run.error_message} for run in runs])
            return runs

        return self._db.write(work)

    def delete_runs(self, run_ids: list[str]) -> None:
        """Delete these runs."""
        if not run_ids:
            return
        stmt = delete(self._t).where(self._t.c.id.in_(run_ids))

        def work(conn: Connection) -> None:
            if conn.execute(stmt).rowcount:
                self._notifier.runs(conn)

        self._db.write(work)

    def _changing(self, conn: Connection, stmt: Any) -> list[Row[Any]]:
        """Run a ``... RETURNING`` statement in ``conn``'s transaction; notify when it changed any row."""
        rows = list(conn.execute(stmt).all())
        if rows:
            self._notifier.runs(conn)
        return rows

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Those of ``run_ids`` that have a row, one query per :data:`ID_BATCH` of them."""
        ids = list(dict.fromkeys(run_ids))
        found: set[str] = set()
        for start in range(0, len(ids), ID_BATCH):
            query = select(self._t.c.id).where(self._t.c.id.in_(ids[start : start + ID_BATCH]))
            found.update(self._db.read(partial(_scalars, query)))
        return found

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
            .returning(*self._columns)
        )
        rows = self._db.write(lambda conn: self._changing(conn, stmt))
        found = self._readable(rows)
        found.sort(key=lambda run: run.scheduled_at, reverse=True)
        return found


def _scalars(query: Any, conn: Connection) -> list[Any]:
    return list(conn.execute(query).scalars())
