"""The SQL job store: jobs and their run history in SQLite (default) or PostgreSQL, shared by many schedulers.

Exactly once: a due fire is taken by one conditional ``UPDATE jobs SET ... WHERE id = :id AND next_run_time =
:due`` (whoever updates the row won it) and recorded as a ``runs`` row unique per ``(job_id, scheduled_at)``;
:meth:`SQLAlchemyJobStore.claim_jobs` does all claims of a scheduler pass and their run rows in one transaction.

A row that cannot be loaded (its module is gone, corrupt JSON, state written by a newer nbsched) is kept: it is
logged once, skipped when jobs are handed out, marked in ``load_error`` and listed by :meth:`get_broken_jobs`.
Each process decides for itself (an environment that has the module runs the job), and rows are tried again
every :attr:`~SQLAlchemyJobStore.broken_recheck_interval` seconds, so a job works again once its module is back.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    MetaData,
    Row,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import URL

from nbsched.abc import JobStore
from nbsched.exceptions import ConfigurationError, ConflictingIdError, JobLookupError
from nbsched.job import Job
from nbsched.jobstores.sqlalchemy.database import Database, PreparedStatement
from nbsched.jobstores.sqlalchemy.errors import JobStoreError
from nbsched.jobstores.sqlalchemy.history import RunHistory, insert_ignoring
from nbsched.jobstores.sqlalchemy.liveness import SchedulerTable
from nbsched.jobstores.sqlalchemy.models import MAX_MICROS, MIN_MICROS, raw_columns
from nbsched.jobstores.sqlalchemy.notify import DataVersionWatcher, Notifier, PostgresListener
from nbsched.jobstores.sqlalchemy.rows import CLAIM_COLUMNS, claim_values, job_from_row, job_values
from nbsched.jobstores.sqlalchemy.schema import TableNames, migrate, scheduler_table, tables
from nbsched.liveness import SchedulerInfo
from nbsched.refs import maybe_ref
from nbsched.runs import Run, RunFilter, RunStatus

if TYPE_CHECKING:
    from nbsched.abc import SchedulerAPI

__all__ = ["SQLAlchemyJobStore"]

logger = logging.getLogger("nbsched.jobstores.sqlalchemy")

#: PostgreSQL's longest name in bytes (``NAMEDATALEN - 1``): tables, and the ``LISTEN``/``NOTIFY`` channel
_PG_MAX_NAME = 63


def _resolve(owner: str, field: str, value: Any) -> Any:
    """``value``, or the object it names when it is a ``module:name`` reference (APScheduler 3 allows both)."""
    try:
        return maybe_ref(value)
    except (LookupError, ValueError) as exc:
        raise ConfigurationError(owner, field, value, f"cannot be resolved ({exc})") from None


class SQLAlchemyJobStore(JobStore):
    """Stores jobs and runs in a database through SQLAlchemy; the tables are created and migrated on open.

    Plugin alias: ``sqlalchemy``. The arguments are APScheduler 3's.

    :param url: database URL; with neither ``url`` nor ``engine``, the default store
        (:func:`nbsched.paths.default_db_url`: ``$NBSCHED_DB_URL`` or ``<data dir>/nbsched.db``)
    :param engine: an :class:`~sqlalchemy.engine.Engine` (or a reference to one) to use instead of ``url``;
        the caller keeps it (it is not disposed of at shutdown)
    :param tablename: name of the jobs table; the runs and version tables are named after it
        (``runs``/``schema_version`` next to the default ``jobs``, else ``<tablename>_runs`` and
        ``<tablename>_schema_version``)
    :param metadata: a :class:`~sqlalchemy.schema.MetaData` (or a reference to one) to put the tables in
    :param pickle_protocol: accepted for compatibility and ignored: nothing is pickled, jobs are stored as
        versioned JSON
    :param tableschema: the (existing) database schema holding the tables
    :param engine_options: keyword arguments to :func:`~sqlalchemy.create_engine` (ignored with ``engine``);
        for SQLite, ``connect_args={"timeout": seconds}`` sets the busy timeout (default 30)
    :raises ConfigurationError: for an argument of the wrong type, an ``engine_options`` key
        :func:`~sqlalchemy.create_engine` refuses, or a ``tablename`` too long for PostgreSQL
    :raises SchemaVersionError: when the database was migrated by a newer nbsched
    :raises JobStoreError: when the database cannot be opened or written (the URL cannot be read, its dialect
        or driver is not installed, its SQLite file cannot be created, it is not SQLite or PostgreSQL)
    """

    #: seconds between attempts to load rows that could not be loaded
    broken_recheck_interval: float = 60.0
    #: several schedulers (processes, machines) share the database
    shared = True
    #: whether a row that cannot be loaded is marked in its ``load_error`` column (a best-effort write, for other
    #: tools); a reader that must never wait on another process's write lock (``nbsched list``) turns it off
    record_load_errors: bool = True

    def __init__(
        self,
        url: str | URL | None = None,
        engine: Engine | str | None = None,
        tablename: str = "jobs",
        metadata: MetaData | str | None = None,
        pickle_protocol: int | None = None,
        tableschema: str | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        del pickle_protocol  # nothing is pickled
        owner = "SQLAlchemyJobStore"
        if not isinstance(tablename, str) or not tablename:
            raise ConfigurationError(owner, "tablename", tablename, "must be a non-empty string")
        if tableschema is not None and (not isinstance(tableschema, str) or not tableschema):
            raise ConfigurationError(owner, "tableschema", tableschema, "must be a non-empty string or None")
        resolved_engine = _resolve(owner, "engine", engine)
        metadata = _resolve(owner, "metadata", metadata)
        if metadata is not None and not isinstance(metadata, MetaData):
            problem = "must be a sqlalchemy MetaData (or a reference to one)"
            raise ConfigurationError(owner, "metadata", metadata, problem)
        if resolved_engine is None and url is None:
            from nbsched.paths import default_db_url

            url = default_db_url()
        self._db = Database(url, resolved_engine, engine_options, owner=owner)  # checks these three
        self._names = TableNames.for_table(tablename, tableschema)
        longest = self._names.identifiers()[0]
        if self._db.dialect == "postgresql" and len(longest.encode()) > _PG_MAX_NAME:
            # SQLAlchemy would refuse to create it (and PostgreSQL would cut it short); found here, in one line.
            self._db.dispose()
            problem = f"is too long for PostgreSQL, whose names have at most {_PG_MAX_NAME} bytes ({longest!r})"
            raise ConfigurationError(owner, "tablename", tablename, problem)
        metadata = metadata if metadata is not None else MetaData()
        self._jobs, runs = tables(self._names, metadata)
        self._schedulers = SchedulerTable(self._db, scheduler_table(self._names, metadata))
        self._channel = f"nbsched_{tablename}"
        self._notifier = Notifier(self._db.dialect, self._channel)
        self._history = RunHistory(self._db, runs, self._notifier)
        where = f"{self._db.engine.url.render_as_string(hide_password=True)}#{runs.fullname}"
        self._store_id = hashlib.sha256(where.encode()).hexdigest()[:32]
        self._broken: dict[str, str] = {}  # guarded by _broken_lock (the scheduler and callers share the store)
        self._broken_lock = threading.Lock()
        self._reported: set[tuple[str, str]] = set()
        self._broken_checked = time.monotonic()
        self._watcher: DataVersionWatcher | None = None
        self._listener: PostgresListener | None = None
        self.change_check_interval = 1.0 if self._db.dialect == "sqlite" else None
        try:
            migrate(self._db, self._names)
        except BaseException:
            self._db.dispose()
            raise

        t = self._jobs
        self._order = (t.c.next_run_time.asc().nulls_last(), t.c.id)
        dialect = self._db.engine.dialect
        columns = [column.name for column in t.c]
        self._insert_job = PreparedStatement(insert_ignoring(t, self._db.dialect, "id"), dialect, columns)
        # A claim writes only what firing changes (claim_values): a change another process made meanwhile to the
        # job's task, trigger or name is kept, and the job is not serialised again in full for every fire.
        claimed = list(CLAIM_COLUMNS)
        claim = update(t).where(t.c.id == bindparam("b_id"), t.c.next_run_time == bindparam("b_expected"))
        self._claim = PreparedStatement(claim, dialect, claimed)
        claim_paused = update(t).where(t.c.id == bindparam("b_id"), t.c.next_run_time.is_(None))
        self._claim_paused = PreparedStatement(claim_paused, dialect, claimed)
        # The queries of every scheduler pass, built once (building a select costs more than running it here);
        # while some rows are broken, the queries that skip them are built per call instead. Rows are selected
        # with their raw time values, converted row by row in _load, so a corrupt value breaks only its row.
        self._columns = raw_columns(t)
        self._by_id_query = select(*self._columns).where(t.c.id == bindparam("b_id"))
        self._due_query = select(*self._columns).where(t.c.next_run_time <= bindparam("b_now")).order_by(*self._order)
        # Only values that are times: SQLite keeps text another program wrote into the INTEGER column, and min()
        # would return it once no integer is left (text sorts after numbers, so `<= :now` never selects it).
        raw_next = type_coerce(t.c.next_run_time, BigInteger())  # (constants in the SQL: nothing to bind)
        self._valid_time = raw_next.between(literal_column(str(MIN_MICROS)), literal_column(str(MAX_MICROS)))
        self._next_time_query = select(func.min(t.c.next_run_time)).where(self._valid_time)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (APScheduler 3 attribute)."""
        return self._db.engine

    # ---------------------------------------------------------------------------------------------- life
    def start(self, scheduler: SchedulerAPI, alias: str) -> None:
        """Bind to the scheduler; start watching for changes other processes make."""
        super().start(scheduler, alias)
        self._recheck_broken()
        if self._db.dialect == "sqlite" and self._db.file is not None and self._watcher is None:
            self._watcher = DataVersionWatcher(self._db.engine)
            self._watcher.reset()
        elif (
            self._db.dialect == "postgresql" and self._db.engine.dialect.driver == "psycopg" and self._listener is None
        ):
            self._listener = PostgresListener(self._db.engine, self._channel, scheduler.wakeup)
            self._listener.start()

    def shutdown(self) -> None:
        """Stop watching for changes and close the connections (the engine too, when the store made it)."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._db.dispose()

    def changed_since_last_check(self) -> bool:
        """Whether the jobs or runs were written (by anyone) since the last call.

        SQLite: any connection committed to the file (``PRAGMA data_version``). PostgreSQL (psycopg): a
        ``NOTIFY`` of a write, or a reconnection of the listener, arrived. ``False`` before :meth:`start`.
        """
        if self._listener is not None:
            return self._listener.take_change()
        if self._watcher is None:
            return False
        try:
            return self._watcher.changed()
        except Exception as exc:  # a failing check must not stop the scheduler: report a change, it re-reads
            logger.warning("cannot check %s for changes: %s", self._db.display, exc)
            return True

    # ------------------------------------------------------------------------------------------ reading
    def lookup_job(self, job_id: str) -> Job | None:
        """The job with this id, or ``None`` (also when its row cannot be loaded: see :meth:`get_broken_jobs`)."""
        rows = self._db.read(lambda conn: conn.execute(self._by_id_query, {"b_id": job_id}).all())
        jobs = self._load(rows)
        return jobs[0] if jobs else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        """Loadable jobs whose next run time is at or before ``now``, earliest first."""
        if self._broken_ids() and time.monotonic() - self._broken_checked > self.broken_recheck_interval:
            self._recheck_broken()
        query, params = self._due_query, {"b_now": now}
        if self._broken_ids():
            query = self._ordered(select(*self._columns).where(self._jobs.c.next_run_time <= bindparam("b_now")))
        return self._load(self._db.read(lambda conn: conn.execute(query, params).all()))

    def get_next_run_time(self) -> datetime | None:
        """The earliest next run time of any loadable job (a next run time that is no time is not one)."""
        query = self._next_time_query
        broken = self._broken_ids()
        if broken:
            query = query.where(self._jobs.c.id.not_in(broken))
        value: datetime | None = self._db.read(lambda conn: conn.execute(query).scalar())
        return value

    def get_all_jobs(self) -> list[Job]:
        """Every loadable job, earliest first, paused ones last."""
        query = self._ordered(select(*self._columns))
        return self._load(self._db.read(lambda conn: conn.execute(query).all()))

    def get_broken_jobs(self) -> list[tuple[str, str]]:
        """``(job id, reason)`` of every stored job that cannot be loaded here (rows are tried again first)."""
        self._recheck_broken()
        with self._broken_lock:
            return sorted(self._broken.items())

    def _broken_ids(self) -> list[str]:
        with self._broken_lock:
            return list(self._broken)

    def _forget_broken(self, job_ids: Iterable[str]) -> None:
        with self._broken_lock:
            for job_id in job_ids:
                self._broken.pop(job_id, None)

    def _ordered(self, query: Any) -> Any:
        t = self._jobs
        broken = self._broken_ids()
        if broken:
            query = query.where(t.c.id.not_in(broken))
        return query.order_by(*self._order)

    # ------------------------------------------------------------------------------------------ writing
    def add_job(self, job: Job) -> None:
        """Store a new job.

        :raises ConflictingIdError: when a job with this id is stored (loadable or not)
        :raises TransientJobError: when the callable cannot be stored by reference (lambda, closure, __main__)
        :raises SerializationError: when an argument is not JSON
        """
        values = job_values(job)

        def work(conn: Any) -> None:
            if self._insert_job.execute(conn, values).rowcount != 1:
                raise ConflictingIdError(job.id)
            self._notify(conn)

        self._db.write_prepared(work)

    def add_jobs(self, jobs: list[Job]) -> list[str]:
        """Store several new jobs in one transaction; ids already stored are left alone and returned.

        :raises TransientJobError: when a callable cannot be stored by reference (nothing is stored)
        :raises SerializationError: when an argument is not JSON (nothing is stored)
        """
        if not jobs:
            return []
        rows = [job_values(job) for job in jobs]
        ids = [values["id"] for values in rows]
        t = self._jobs

        def work(conn: Connection) -> list[str]:
            taken: set[str] = set()
            for start in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[start : start + 500]
                taken.update(conn.execute(select(t.c.id).where(t.c.id.in_(chunk))).scalars())
            fresh = [values for values in rows if values["id"] not in taken]
            if fresh:
                self._insert_job.execute_many(conn, fresh)  # ON CONFLICT DO NOTHING for races
                self._notify(conn)
            return [job_id for job_id in ids if job_id in taken]

        return self._db.write(work)

    def update_job(self, job: Job) -> None:
        """Replace the stored job with the same id (a broken row is replaced too, which mends it).

        :raises JobLookupError: when no job has this id
        """
        values = job_values(job)
        stmt = update(self._jobs).where(self._jobs.c.id == job.id).values(values)

        def work(conn: Connection) -> None:
            if conn.execute(stmt).rowcount != 1:
                raise JobLookupError(job.id)
            self._notify(conn)

        self._db.write(work)
        self._forget_broken([job.id])

    def remove_job(self, job_id: str) -> None:
        """Delete the job with this id (its run history stays).

        :raises JobLookupError: when no job has this id
        """

        def work(conn: Connection) -> None:
            if conn.execute(delete(self._jobs).where(self._jobs.c.id == job_id)).rowcount != 1:
                raise JobLookupError(job_id)
            self._notify(conn)

        self._db.write(work)
        self._forget_broken([job_id])

    def remove_all_jobs(self) -> None:
        """Delete every job, broken ones included (an explicit request; the run history stays)."""

        def work(conn: Connection) -> None:
            conn.execute(delete(self._jobs))
            self._notify(conn)

        self._db.write(work)
        self._forget_broken(self._broken_ids())

    def claim_job(self, job: Job, expected_next_run_time: datetime | None) -> bool:
        """Store ``job`` iff the stored ``next_run_time`` still equals ``expected_next_run_time`` (one
        conditional ``UPDATE``); ``True`` when this caller won."""
        return self.claim_jobs([(job, expected_next_run_time, [])])[0]

    def claim_jobs(self, claims: Sequence[tuple[Job, datetime | None, list[Run]]]) -> list[bool]:
        """Claim several fires in one transaction and record the runs of those won.

        A run whose ``(job_id, scheduled_at)`` is recorded already is skipped; the claim still counts. Rows are
        updated in id order, so concurrent claimers on PostgreSQL lock them in the same order (no deadlock).
        No ``NOTIFY`` for the claim itself: it only moves a job's next run time later, which sleeping schedulers
        find when they wake for the earlier one, and the ``scheduled`` runs it records notify when they start.
        Runs recorded finished (``skipped``: missed fire times) have no later write, so those notify here.

        :return: for each claim, whether this caller won it
        """
        prepared = [(claim_values(job), expected, runs) for job, expected, runs in claims]
        order = sorted(range(len(claims)), key=lambda index: claims[index][0].id)

        def work(conn: Any) -> list[bool]:
            won = [False] * len(prepared)
            new_runs: list[Run] = []
            for index in order:
                values, expected, runs = prepared[index]
                params = {**values, "b_id": claims[index][0].id}
                if expected is None:
                    result = self._claim_paused.execute(conn, params)
                else:
                    result = self._claim.execute(conn, {**params, "b_expected": expected})
                if result.rowcount == 1:
                    won[index] = True
                    new_runs.extend(runs)
            self._history.insert(conn, new_runs)
            if self._notifier.enabled and any(run.status is not RunStatus.SCHEDULED for run in new_runs):
                self._notifier.runs(conn)
            return won

        results = self._db.write_prepared(work)
        self._forget_broken(job.id for (job, _, _), ok in zip(claims, results, strict=True) if ok)
        return results

    def _notify(self, conn: Connection | Any) -> None:
        # Delivered at commit, to every listening scheduler (see notify.py); nothing on SQLite.
        self._notifier.jobs(conn)

    # ------------------------------------------------------------------------------------- broken rows
    def _load(self, rows: Iterable[Row[Any]]) -> list[Job]:
        jobs: list[Job] = []
        marks: dict[str, str | None] = {}
        for row in rows:
            mapping = row._mapping
            job_id = mapping["id"]
            try:
                job = job_from_row(mapping, self._scheduler, self._alias)
            except Exception as exc:  # any failure to rebuild a row makes it broken, never fatal
                reason = f"{type(exc).__name__}: {exc}"
                with self._broken_lock:
                    self._broken[job_id] = reason
                    first = (job_id, reason) not in self._reported
                    self._reported.add((job_id, reason))
                if first:
                    logger.warning(
                        "job %r in %s cannot be loaded and is skipped (kept in the store): %s",
                        job_id,
                        self._db.display,
                        reason,
                    )
                if mapping["load_error"] != reason:
                    marks[job_id] = reason
                continue
            with self._broken_lock:
                mended = self._broken.pop(job_id, None) is not None
            if mended:
                logger.info("job %r in %s loads again", job_id, self._db.display)
            if mapping["load_error"] is not None:
                marks[job_id] = None
            jobs.append(job)
        if marks and self.record_load_errors:
            self._mark(marks)
        return jobs

    def _mark(self, marks: dict[str, str | None]) -> None:
        """Record load errors in the ``load_error`` column, for other tools (best effort)."""
        stmt = update(self._jobs).where(self._jobs.c.id == bindparam("b_id")).values(load_error=bindparam("b_error"))
        params = [{"b_id": job_id, "b_error": reason} for job_id, reason in marks.items()]
        try:
            self._db.write(lambda conn: conn.execute(stmt, params))
        except JobStoreError as exc:  # a read-only database still hands out the loadable jobs
            logger.debug("cannot record load errors in %s: %s", self._db.display, exc)

    def _recheck_broken(self) -> None:
        """Try every row that failed to load (here or in another process) again."""
        self._broken_checked = time.monotonic()
        t = self._jobs
        ids = self._broken_ids()
        # Also rows whose next run time is no time (another program wrote it): no pass ever selects them as
        # due, so they would go unreported until someone listed every job.
        bad_time = t.c.next_run_time.is_not(None) & ~self._valid_time
        query = select(*self._columns).where(t.c.load_error.is_not(None) | t.c.id.in_(ids) | bad_time)
        rows = self._db.read(lambda conn: conn.execute(query).all())
        present = {row._mapping["id"] for row in rows}
        self._forget_broken(job_id for job_id in ids if job_id not in present)  # removed meanwhile
        self._load(rows)

    # ------------------------------------------------------------------------------------- run history
    def add_run(self, run: Run) -> bool:
        """Record a new run; ``False`` (nothing stored) when ``(job_id, scheduled_at)`` is recorded already."""
        return self._history.add_run(run)

    def update_run(self, run: Run) -> None:
        """Store the run's current state (matched by ``id``); a cancelled run stays cancelled."""
        self._history.update_runs([run])

    def update_runs(self, runs: list[Run]) -> None:
        """Store several runs' current state in one transaction."""
        self._history.update_runs(runs)

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or ``None``."""
        return self._history.get_run(run_id)

    def get_runs(self, run_filter: RunFilter) -> list[Run]:
        """Runs matching the filter, newest ``scheduled_at`` first."""
        return self._history.get_runs(run_filter)

    def heartbeat_runs(self, run_ids: list[str], at: datetime) -> list[str]:
        """Record that these running runs are alive at ``at``; the ids of those no longer running are returned."""
        return self._history.heartbeat_runs(run_ids, at)

    def cancel_run(self, run_id: str, at: datetime, reason: str) -> Run | None:
        """Mark a scheduled or running run ``cancelled`` (one conditional write); ``None`` when it has finished."""
        return self._history.cancel_run(run_id, at, reason)

    def mark_lost_runs(self, stale_before: datetime, now: datetime) -> list[Run]:
        """Mark ``lost`` every running run whose last heartbeat is before ``stale_before`` (conditionally)."""
        return self._history.mark_lost_runs(stale_before, now)

    def delete_runs(self, run_ids: list[str]) -> None:
        """Delete these runs."""
        self._history.delete_runs(run_ids)

    def prune_runs(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        """Delete finished runs beyond the newest ``keep_last`` per job or scheduled before ``older_than``."""
        return self._history.prune_runs(keep_last, older_than)

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Those of ``run_ids`` the store holds, a query per 500 of them."""
        return self._history.existing_run_ids(run_ids)

    def last_runs(self, job_ids: Collection[str] | None = None) -> dict[str, Run]:
        """The latest run of each job, by job id, in one query (see :meth:`RunHistory.last_runs`)."""
        return self._history.last_runs(job_ids)

    def record_scheduler(self, info: SchedulerInfo) -> None:
        """Insert or replace scheduler ``info.id``'s row in the ``schedulers`` table (one transaction)."""
        self._schedulers.record(info)

    def remove_scheduler(self, scheduler_id: str) -> None:
        """Delete this scheduler's row from the ``schedulers`` table."""
        self._schedulers.remove(scheduler_id)

    def live_schedulers(self, alive_since: datetime) -> list[SchedulerInfo]:
        """The schedulers (of any process or machine) that beat at or after ``alive_since`` (one query)."""
        return self._schedulers.live(alive_since)

    @property
    def store_id(self) -> str:
        """A hash of the database URL (password left out) and the runs table's name."""
        return self._store_id

    def __repr__(self) -> str:
        # APScheduler's repr: the engine's URL, its password masked by SQLAlchemy
        return f"<{type(self).__name__} (url={self._db.engine.url})>"
