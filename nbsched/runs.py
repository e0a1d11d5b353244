"""Run records: one per fire of a job, whatever ran (function, cell, notebook).

Status moves ``scheduled -> running -> succeeded | failed | timed_out | cancelled | lost | skipped``. A run is
created when a scheduler claims a fire (``scheduled``, unique per ``(job_id, scheduled_at)``), marked
``running`` when its executor starts it and heartbeats while it runs; a run whose heartbeat stops (its worker
died) is marked ``lost`` by whichever scheduler notices.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

import attrs

from nbsched.exceptions import InvalidArgumentError

__all__ = ["ACTIVE", "FINISHED", "KNOWN_STATUSES", "Run", "RunFilter", "RunStatus", "run_status", "worker_id"]


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
        out["status"] = str(self.status)
        out["duration"] = self.duration
        return out


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

    Thread-safe. Persistent stores replace it with their ``runs`` table.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._runs: dict[str, Run] = {}
        self._keys: dict[tuple[str, datetime], str] = {}

    def add(self, run: Run) -> bool:
        key = (run.job_id, run.scheduled_at)
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = run.id
            self._runs[run.id] = run  # this process's own object: reads hand out copies
            return True

    def add_many(self, runs: list[Run]) -> None:
        """Record runs known to be new (their fires were just claimed), under one lock."""
        with self._lock:
            for run in runs:
                key = (run.job_id, run.scheduled_at)
                if key not in self._keys:
                    self._keys[key] = run.id
                    self._runs[run.id] = run

    def update(self, run: Run) -> None:
        with self._lock:
            stored = self._runs.get(run.id)
            if stored is None or run is stored:
                return
            if stored.status is not RunStatus.CANCELLED:
                self._runs[run.id] = run
            else:  # a cancelled run stays cancelled; what it left behind is still recorded
                stored.outputs, stored.cell_index = run.outputs, run.cell_index
                stored.input_sha256, stored.traceback = run.input_sha256, run.traceback

    def cancel(self, run_id: str, at: datetime, reason: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.status not in ACTIVE:
                return None
            run.status = RunStatus.CANCELLED
            run.finished_at = at
            run.error_type, run.error_message = "Cancelled", reason
            return attrs.evolve(run)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            return attrs.evolve(run) if run else None

    def query(self, run_filter: RunFilter) -> list[Run]:
        with self._lock:
            found = [attrs.evolve(run) for run in self._runs.values() if run_filter.matches(run)]
        found.sort(key=lambda run: run.scheduled_at, reverse=True)
        return found[: run_filter.limit] if run_filter.limit is not None else found

    def heartbeat(self, run_ids: list[str], at: datetime) -> list[str]:
        gone = []
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is not None and run.status in ACTIVE:
                    run.heartbeat_at = at
                else:
                    gone.append(run_id)
        return gone

    def mark_lost(self, stale_before: datetime, now: datetime) -> list[Run]:
        with self._lock:
            lost = []
            for run in self._runs.values():
                beat = run.heartbeat_at
                if run.status in ACTIVE and beat is not None and beat < stale_before:
                    run.status = RunStatus.LOST
                    run.finished_at = now
                    lost.append(attrs.evolve(run))
            return lost

    def delete(self, run_ids: list[str]) -> None:
        with self._lock:
            for run_id in run_ids:
                run = self._runs.pop(run_id, None)
                if run is not None:
                    self._keys.pop((run.job_id, run.scheduled_at), None)

    def prune(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        with self._lock:
            by_job: dict[str, list[Run]] = {}
            for run in self._runs.values():
                if run.status in FINISHED:
                    by_job.setdefault(run.job_id, []).append(run)
            doomed: list[Run] = []
            for runs in by_job.values():
                runs.sort(key=lambda run: run.scheduled_at, reverse=True)
                for index, run in enumerate(runs):
                    too_many = keep_last is not None and index >= keep_last
                    too_old = older_than is not None and run.scheduled_at < older_than
                    if too_many or too_old:
                        doomed.append(run)
            for run in doomed:
                del self._runs[run.id]
                self._keys.pop((run.job_id, run.scheduled_at), None)
            return doomed
