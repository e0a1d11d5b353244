"""Run records: one per fire of a job, whatever ran (function, cell, notebook).

Status moves ``scheduled -> running -> succeeded | failed | timed_out | cancelled | lost | skipped``. A run is
created when a scheduler claims a fire (``scheduled``, unique per ``(job_id, scheduled_at)``), marked
``running`` when its executor starts it and heartbeats while it runs; a run whose heartbeat stops (its worker
died) is marked ``lost`` by whichever scheduler notices.
"""

from __future__ import annotations

import itertools
import marshal
import os
import socket
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from uuid import uuid4

import attrs

from nbsched.exceptions import InvalidArgumentError

__all__ = [
    "ACTIVE",
    "FINISHED",
    "KNOWN_STATUSES",
    "LOST_ERROR_TYPE",
    "Run",
    "RunFilter",
    "RunStatus",
    "mark_run_lost",
    "run_status",
    "worker_id",
]


class RunStatus(StrEnum):
    """Where a run is in its life."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    LOST = "lost"
    SKIPPED = "skipped"


#: jobs whose runs :meth:`RunTable.prune` looks at under one hold of its lock
PRUNE_JOBS_AT_ONCE = 20

#: statuses of a run that a live worker holds (it heartbeats them; when it stops, they are lost)
ACTIVE = frozenset({RunStatus.SCHEDULED, RunStatus.RUNNING})

#: statuses a run never leaves
FINISHED = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELLED, RunStatus.LOST, RunStatus.SKIPPED}
)


_ID_PREFIX = uuid4().hex[:16]
_ID_COUNTER = itertools.count()


def new_run_id() -> str:
    """A unique run id: this process's random 64-bit prefix and a counter (32 hex digits, like a UUID).

    Cheaper than ``uuid4()`` on the firing path, and as unique across processes and machines.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def worker_id() -> str:
    """``host:pid`` of this process, recorded on the runs it executes."""
    return f"{socket.gethostname()}:{os.getpid()}"


@attrs.define(kw_only=True)
class Run:
    """One fire of a job.

    :ivar id: unique id (hex)
    :ivar job_id: the job that fired
    :ivar scheduled_at: the fire time it was scheduled for (UTC); unique together with ``job_id``
    :ivar status: a :class:`RunStatus`
    :ivar attempt: 1 for the first try, 2.. for retries
    :ivar started_at: when it started running
    :ivar finished_at: when it reached a finished status
    :ivar worker: ``host:pid`` of the process running it
    :ivar heartbeat_at: the last sign of life of a running run
    :ivar error_type: exception class name of a failed run
    :ivar error_message: its message
    :ivar traceback: its formatted traceback
    :ivar progress: free text such as ``"cell 7/23"``
    :ivar cell_index: index of the failing cell (notebook runs)
    :ivar outputs: output kind -> path (``{"ipynb": ..., "html": ...}``)
    :ivar input_sha256: SHA-256 of what a notebook or cell run ran (the notebook file's bytes, or the cell's
        source), hex; ``None`` for function runs and runs that never read their input
    :ivar warnings: notes on the run that are not its error: the fire times coalesced into it, an output that
        could not be written (shown by the CLI, REST and the panels)
    """

    id: str = attrs.field(factory=new_run_id)
    job_id: str
    scheduled_at: datetime
    status: RunStatus = RunStatus.SCHEDULED
    attempt: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    heartbeat_at: datetime | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    progress: str | None = None
    cell_index: int | None = None
    outputs: dict[str, str] = attrs.field(factory=dict)
    input_sha256: str | None = None
    warnings: list[str] = attrs.field(factory=list)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (or ``None`` while not both known)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (ISO datetimes), for the CLI's ``--json`` and the REST API."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Run):
            value = getattr(self, field.name)
            out[field.name] = value.isoformat() if isinstance(value, datetime) else value
        out["warnings"] = list(self.warnings)
        out["status"] = str(self.status)
        out["duration"] = self.duration
        return out


#: the ``error_type`` of a run whose worker stopped heartbeating (it died, or lost the store)
LOST_ERROR_TYPE = "WorkerLost"


def mark_run_lost(run: Run, now: datetime) -> None:
    """Record on ``run`` that its worker went silent, as every store marks a lost run (the one definition).

    The run ends at its last sign of life, not when the silence was noticed: its duration is how long it is known
    to have run. The error names the worker, its last heartbeat and the attempt, so that it still reads right
    after the run is retried in the same row as the next attempt.

    :param now: when the silence was noticed
    """
    last = run.heartbeat_at or run.started_at
    run.status = RunStatus.LOST
    run.finished_at = last or now
    run.error_type = LOST_ERROR_TYPE
    who = f"worker {run.worker}" if run.worker else "an unknown worker"
    if last is None:
        seen = "it never sent a heartbeat"
    else:
        since = (now - last).total_seconds()
        seen = f"last heartbeat at {last.astimezone(UTC).isoformat(timespec='seconds')}, noticed {since:.0f} s later"
    run.error_message = f"attempt {run.attempt}: {who} stopped answering; {seen}"


#: the statuses, in the order of a run's life, as error messages list them
KNOWN_STATUSES = ", ".join(str(status) for status in RunStatus)


def run_status(value: Any, owner: str, field: str = "status") -> RunStatus:
    """The :class:`RunStatus` named by ``value`` (one of the status strings, or a status).

    The one place that reads a status given by a person (``scheduler.runs(status=...)``, the REST API's
    ``?status=``, the CLI).

    :param owner: the class or function that was given ``value``, for the message
    :param field: the argument that held it
    :raises InvalidArgumentError: ``<owner>: <field> 'nope' is not a run status (known: scheduled, ...)``
    """
    if isinstance(value, RunStatus):
        return value
    if isinstance(value, str):
        try:
            return RunStatus(value)
        except ValueError:
            pass
    raise InvalidArgumentError(owner, field, value, f"is not a run status (known: {KNOWN_STATUSES})")


def _statuses(value: Any) -> frozenset[RunStatus] | None:
    if value is None:
        return None
    if isinstance(value, str | RunStatus) or not isinstance(value, Iterable):
        value = [value]
    if isinstance(value, Mapping):
        value = list(value)
    return frozenset(run_status(item, "RunFilter") for item in value)


def _check_limit(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidArgumentError("RunFilter", "limit", value, "must be a whole number of at least 0, or None")


def _check_instant(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise InvalidArgumentError("RunFilter", attribute.name, value, "must be a datetime")
    if value.utcoffset() is None:
        raise InvalidArgumentError("RunFilter", attribute.name, value, "is naive; give it a time zone")


@attrs.frozen(kw_only=True)
class RunFilter:
    """Which runs a query returns, newest ``scheduled_at`` first.

    :ivar job_id: only this job's runs
    :ivar status: only runs with one of these statuses
    :ivar since: only runs scheduled at or after this instant
    :ivar until: only runs scheduled before this instant
    :ivar limit: at most this many
    """

    job_id: str | None = None
    status: frozenset[RunStatus] | None = attrs.field(default=None, converter=_statuses)
    since: datetime | None = attrs.field(default=None, validator=_check_instant)
    until: datetime | None = attrs.field(default=None, validator=_check_instant)
    limit: int | None = attrs.field(default=None, validator=_check_limit)

    def matches(self, run: Run) -> bool:
        """Whether ``run`` passes this filter (ignores ``limit``)."""
        return (
            (self.job_id is None or run.job_id == self.job_id)
            and (self.status is None or run.status in self.status)
            and (self.since is None or run.scheduled_at >= self.since)
            and (self.until is None or run.scheduled_at < self.until)
        )


class RunTable:
    """Run records kept in this process's memory: the default run history of any job store.

    Thread-safe. Persistent stores replace it with their ``runs`` table. Runs are indexed by job, so that
    retention and a job's history look at that job's runs only, and the lost-run check looks only at runs that
    were scheduled or running: with a thousand jobs keeping a hundred runs each, neither walks 100,000 runs
    under the lock that the firing path takes to record new runs.

    A finished run is kept packed (:class:`_Packer`): bytes, which Python's cyclic garbage collector does not
    track. A history of Run objects grows the collector's young generation by one object per fire, so the
    collector runs every few hundred fires and walks the history in its older generations; packed, a steady
    stream of fires adds nothing for it to walk (reads unpack a copy, as they copied before).
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        # run id -> the run: the object itself while it may change, packed bytes once finished
        self._runs: dict[str, Run | bytes] = {}
        # job id -> {scheduled_at: run id}: the unique (job_id, scheduled_at) key, and each job's runs
        self._by_job: dict[str, dict[datetime, str]] = {}
        # runs scheduled or running when last seen here (some may have finished since): the lost-run candidates
        self._maybe_active: dict[str, Run] = {}
        self._packer = _Packer()

    def _insert(self, run: Run) -> bool:
        times = self._by_job.setdefault(run.job_id, {})
        if run.scheduled_at in times:
            return False
        times[run.scheduled_at] = run.id
        if run.status in ACTIVE:
            self._runs[run.id] = run  # this process's own object: reads hand out copies
            self._maybe_active[run.id] = run
        else:
            self._keep_finished(run)
        return True

    def _keep_finished(self, run: Run) -> None:
        self._runs[run.id] = self._packer.pack(run) or run  # a run holding values bytes cannot hold stays as is

    def _run(self, stored: Run | bytes) -> Run:
        """The stored run: the object itself, or the unpacked copy of a finished one."""
        return self._packer.unpack(stored) if isinstance(stored, bytes) else stored

    def _copy(self, stored: Run | bytes) -> Run:
        return self._packer.unpack(stored) if isinstance(stored, bytes) else attrs.evolve(stored)

    def _remove(self, run: Run) -> None:
        self._runs.pop(run.id, None)
        self._maybe_active.pop(run.id, None)
        times = self._by_job.get(run.job_id)
        if times is not None and times.get(run.scheduled_at) == run.id:
            del times[run.scheduled_at]
            if not times:
                del self._by_job[run.job_id]

    def add(self, run: Run) -> bool:
        with self._lock:
            return self._insert(run)

    def add_many(self, runs: list[Run]) -> None:
        """Record runs known to be new (their fires were just claimed), under one lock."""
        with self._lock:
            for run in runs:
                self._insert(run)

    def update(self, run: Run) -> None:
        with self._lock:
            self._update(run)

    def update_many(self, runs: Iterable[Run]) -> None:
        """:meth:`update` each of ``runs``, under one hold of the lock (the run writer's batches)."""
        with self._lock:
            for run in runs:
                self._update(run)

    def _update(self, run: Run) -> None:
        found = self._runs.get(run.id)
        if found is None:
            return
        stored = self._run(found)
        if run is not stored:
            if stored.status is not RunStatus.CANCELLED:
                stored = run
            else:  # a cancelled run stays cancelled; what it left behind is still recorded
                stored.outputs, stored.cell_index = run.outputs, run.cell_index
                stored.input_sha256, stored.traceback = run.input_sha256, run.traceback
                stored.warnings = run.warnings
        # The scheduler changes its own run objects in place (a retry makes a failed run scheduled again).
        if stored.status in ACTIVE:
            self._runs[run.id] = self._maybe_active[run.id] = stored
        else:
            self._maybe_active.pop(run.id, None)
            self._keep_finished(stored)

    def cancel(self, run_id: str, at: datetime, reason: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or isinstance(run, bytes) or run.status not in ACTIVE:
                return None
            run.status = RunStatus.CANCELLED  # in place: the scheduler tracking this object sees it cancelled
            run.finished_at = at
            run.error_type, run.error_message = "Cancelled", reason
            self._maybe_active.pop(run_id, None)
            self._keep_finished(run)
            return attrs.evolve(run)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            return self._copy(run) if run is not None else None

    def query(self, run_filter: RunFilter) -> list[Run]:
        # Packed runs are finished: a filter for active statuses leaves them packed.
        finished_too = run_filter.status is None or not run_filter.status.isdisjoint(FINISHED)
        limit = run_filter.limit
        with self._lock:
            if run_filter.job_id is None:
                found = []
                for stored in self._runs.values():
                    run = self._matching(stored, finished_too, run_filter)
                    if run is not None:
                        found.append(run)
                found.sort(key=lambda run: run.scheduled_at, reverse=True)
                return found[:limit] if limit is not None else found
            # One job's runs: newest first by their key, unpacking only until the limit is reached.
            times = self._by_job.get(run_filter.job_id, {})
            found = []
            for scheduled_at in sorted(times, reverse=True):
                if limit is not None and len(found) >= limit:
                    break
                run = self._matching(self._runs[times[scheduled_at]], finished_too, run_filter)
                if run is not None:
                    found.append(run)
            return found

    def _matching(self, stored: Run | bytes, finished_too: bool, run_filter: RunFilter) -> Run | None:
        """A copy of the stored run if it passes the filter."""
        if isinstance(stored, bytes):
            if not finished_too:
                return None
            run = self._packer.unpack(stored)
            return run if run_filter.matches(run) else None
        return attrs.evolve(stored) if run_filter.matches(stored) else None

    def heartbeat(self, run_ids: list[str], at: datetime) -> list[str]:
        gone = []
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if isinstance(run, Run) and run.status in ACTIVE:  # packed runs are finished
                    run.heartbeat_at = at
                else:
                    gone.append(run_id)
        return gone

    def mark_lost(self, stale_before: datetime, now: datetime) -> list[Run]:
        with self._lock:
            lost = []
            for run in list(self._maybe_active.values()):
                if run.status not in ACTIVE:
                    del self._maybe_active[run.id]  # finished since it was recorded
                    continue
                beat = run.heartbeat_at
                if beat is not None and beat < stale_before:
                    mark_run_lost(run, now)
                    del self._maybe_active[run.id]
                    self._keep_finished(run)
                    lost.append(attrs.evolve(run))
            return lost

    def delete(self, run_ids: list[str]) -> None:
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is not None:
                    self._remove(self._run(run))

    def prune(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        """Delete finished runs beyond the newest ``keep_last`` of each job, and those scheduled before
        ``older_than``; return them.

        Works through the jobs a few at a time, letting go of the lock (and of the GIL) in between, so that
        recording new runs never waits for more than a few jobs' worth of pruning.
        """
        if keep_last is None and older_than is None:
            return []
        with self._lock:
            job_ids = list(self._by_job)
        doomed: list[Run] = []
        for start in range(0, len(job_ids), PRUNE_JOBS_AT_ONCE):
            with self._lock:
                pruned = [
                    self._prune_job(job_id, keep_last, older_than)
                    for job_id in job_ids[start : start + PRUNE_JOBS_AT_ONCE]
                ]
            looked = [runs for runs in pruned if runs is not None]
            for runs in looked:
                doomed.extend(runs)
            if looked:
                time.sleep(0)  # let a waiting thread (the scheduler's, about to fire) run
        return doomed

    def _prune_job(self, job_id: str, keep_last: int | None, older_than: datetime | None) -> list[Run] | None:
        """The job's pruned runs (``None``: it has too few runs to look at them)."""
        times = self._by_job.get(job_id)
        if not times or (older_than is None and keep_last is not None and len(times) <= keep_last):
            return None
        runs = self._runs
        # Packed runs are finished; the key gives each one's scheduled time without unpacking it.
        finished = [
            (scheduled_at, run_id)
            for scheduled_at, run_id in times.items()
            if isinstance(stored := runs[run_id], bytes) or stored.status in FINISHED
        ]
        finished.sort(reverse=True)
        doomed = [
            self._run(runs[run_id])
            for index, (scheduled_at, run_id) in enumerate(finished)
            if (keep_last is not None and index >= keep_last) or (older_than is not None and scheduled_at < older_than)
        ]
        for run in doomed:
            self._remove(run)
        return doomed


class _Packer:
    """Packs a finished :class:`Run` into bytes of plain values (``marshal``, in this process only: nothing
    packed is ever read from outside it) and back, exactly: datetimes keep their zone object and ``fold``.

    Time zones are numbered as they are met (a history holds a handful); only the table's lock calls it.
    """

    def __init__(self) -> None:
        self._zones: list[tzinfo | None] = [None]
        self._zone_numbers: dict[tzinfo | None, int] = {None: 0}

    def pack(self, run: Run) -> bytes | None:
        """``run`` packed, or ``None`` when it holds something bytes cannot (a value of another type)."""
        instant = self._instant
        try:
            return marshal.dumps(
                (
                    run.id,
                    run.job_id,
                    instant(run.scheduled_at),
                    run.status._value_,
                    run.attempt,
                    instant(run.started_at),
                    instant(run.finished_at),
                    run.worker,
                    instant(run.heartbeat_at),
                    run.error_type,
                    run.error_message,
                    run.traceback,
                    run.progress,
                    run.cell_index,
                    run.outputs or None,
                    run.input_sha256,
                    tuple(run.warnings) or None,  # a tuple: marshal keeps a list's type, a tuple costs less
                ),
                2,  # no references between values to track: the quickest format
            )
        except (ValueError, TypeError, AttributeError):  # marshal refuses subclasses and objects; or no datetime
            return None

    def unpack(self, data: bytes) -> Run:
        (id_, job_id, scheduled_at, status, attempt, started_at, finished_at, worker, heartbeat_at, error_type,
         error_message, traceback, progress, cell_index, outputs, input_sha256,
         warnings) = marshal.loads(data)  # fmt: skip
        instant = self._datetime
        return Run(
            id=id_,
            job_id=job_id,
            scheduled_at=instant(scheduled_at),
            status=_STATUSES[status],
            attempt=attempt,
            started_at=instant(started_at) if started_at is not None else None,
            finished_at=instant(finished_at) if finished_at is not None else None,
            worker=worker,
            heartbeat_at=instant(heartbeat_at) if heartbeat_at is not None else None,
            error_type=error_type,
            error_message=error_message,
            traceback=traceback,
            progress=progress,
            cell_index=cell_index,
            outputs=outputs or {},
            input_sha256=input_sha256,
            warnings=list(warnings) if warnings else [],
        )

    def _instant(self, value: datetime | None) -> int | tuple[int, int] | None:
        """A UTC datetime as microseconds since the epoch; any other as wall-clock microseconds since year 1
        and zone number * 2 + fold."""
        if value is None:
            return None
        if type(value) is not datetime:
            raise TypeError("not a plain datetime")
        zone = value.tzinfo
        if zone is UTC:  # the clock's own times, and most scheduled times
            return (value - _EPOCH) // _MICROSECOND
        number = self._zone_numbers.get(zone)
        if number is None:
            number = self._zone_numbers[zone] = len(self._zones)
            self._zones.append(zone)
        return (value.replace(tzinfo=None, fold=0) - _YEAR_ONE) // _MICROSECOND, number * 2 + value.fold

    def _datetime(self, value: int | tuple[int, int]) -> datetime:
        if type(value) is int:
            return _EPOCH + timedelta(microseconds=value)
        wall, code = value  # type: ignore[misc]
        return (_YEAR_ONE + timedelta(microseconds=wall)).replace(tzinfo=self._zones[code >> 1], fold=code & 1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUSES = {status.value: status for status in RunStatus}
_YEAR_ONE = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
