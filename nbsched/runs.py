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
from datetime import UTC, datetime
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
