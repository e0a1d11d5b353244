"""Conversion between :class:`~nbsched.job.Job`/:class:`~nbsched.runs.Run` and rows of the store's tables.

A job row splits :meth:`Job.to_dict` into ``task`` (``{"version", "func", "task", "args", "kwargs"}``: a
function reference or a task spec such as a notebook), ``trigger`` (the
trigger's own versioned state) and ``options`` (the rest, with ``"version"``); ``version`` holds the job state
version. Nothing is pickled.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import RowMapping

from nbsched.job import STATE_VERSION, Job
from nbsched.jobstores.sqlalchemy.models import stored_time
from nbsched.runs import KNOWN_STATUSES, Run, RunStatus

if TYPE_CHECKING:
    from nbsched.abc import SchedulerAPI

__all__ = ["CLAIM_COLUMNS", "claim_values", "dumps", "job_from_row", "job_values", "run_from_row", "run_values"]

#: version of the ``task``, ``outputs`` and ``warnings`` JSON written here
TASK_VERSION = 1
OUTPUTS_VERSION = 1
WARNINGS_VERSION = 1
_TASK_KEYS = ("func", "task", "args", "kwargs")
_OWN_COLUMNS = ("id", "name", "trigger", "version", *_TASK_KEYS)
_RUN_FIELDS = (
    "status",
    "attempt",
    "started_at",
    "finished_at",
    "worker",
    "heartbeat_at",
    "error_type",
    "error_message",
    "traceback",
    "progress",
    "cell_index",
    "input_sha256",
)


#: status text -> status, for reading rows
_STATUSES = {str(status): status for status in RunStatus}

_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # one, rather than one per call


def dumps(value: Any) -> str:
    """Compact JSON text (NaN and infinities refused: :mod:`nbsched.jsonstate` tags them)."""
    return _ENCODER.encode(value)


def job_values(job: Job) -> dict[str, Any]:
    """Column values of a job's row.

    :raises TransientJobError: when the callable has no ``module:qualname`` reference
    :raises SerializationError: when an argument is not JSON-serialisable
    """
    state = job.to_dict()
    task = {"version": TASK_VERSION, **{key: state.get(key) for key in _TASK_KEYS}}
    options = {key: value for key, value in state.items() if key not in _OWN_COLUMNS}
    return {
        "id": job.id,
        "name": state["name"],
        "task": dumps(task),
        "trigger": dumps(state["trigger"]),
        "version": state["version"],
        "load_error": None,
        **_changing_values(job, options),
    }


#: the columns a claim writes: all that firing changes in a job (its next run time, run count, completion)
CLAIM_COLUMNS = ("next_run_time", "paused", "options")


def claim_values(job: Job) -> dict[str, Any]:
    """Values of :data:`CLAIM_COLUMNS` for a job that fired: the same as :func:`job_values` gives for them,
    without serialising its task and trigger again."""
    return _changing_values(job, job.options_state())


def _changing_values(job: Job, options: dict[str, Any]) -> dict[str, Any]:
    # ``options``: Job.options_state(), the part of Job.to_dict() that the row keeps in its options column.
    return {
        "next_run_time": job.next_run_time,
        "paused": job.next_run_time is None,
        "options": dumps({**options, "version": STATE_VERSION}),
    }


def job_from_row(row: RowMapping, scheduler: SchedulerAPI | None, alias: str | None) -> Job:
    """Rebuild the job of a row selected with :func:`~nbsched.jobstores.sqlalchemy.models.raw_columns`, bound
    to ``scheduler`` and the store ``alias``.

    :raises Exception: whatever stops the row from loading (corrupt JSON or column values, a module that is
        gone, state of a newer version); the store reports the row as broken
    """
    stored = stored_time(row["next_run_time"], "next_run_time")
    task = json.loads(row["task"])
    options = json.loads(row["options"])
    if not isinstance(task, dict) or not isinstance(options, dict):
        raise ValueError("task and options must be JSON objects")
    if task.get("version", TASK_VERSION) > TASK_VERSION:
        raise ValueError(f"task state version {task['version']} is newer than this nbsched ({TASK_VERSION})")
    state = {
        **options,
        **{key: task.get(key) for key in _TASK_KEYS},
        "id": row["id"],
        "name": row["name"],
        "trigger": json.loads(row["trigger"]),
        "version": row["version"],
    }
    job = Job.from_dict(state, scheduler)
    if job.next_run_time != stored:
        # The column is the truth (claims compare it); the JSON copy only keeps the time zone for display.
        job.next_run_time = stored
    job._jobstore_alias = alias
    job._pending = False
    return job


def run_values(run: Run) -> dict[str, Any]:
    """Column values of a run's row."""
    values: dict[str, Any] = {field: getattr(run, field) for field in _RUN_FIELDS}
    values["status"] = str(run.status)
    values["id"] = run.id
    values["job_id"] = run.job_id
    values["scheduled_at"] = run.scheduled_at
    values["outputs"] = dumps({"version": OUTPUTS_VERSION, "outputs": dict(run.outputs)})
    # NULL for the usual run with nothing to note: nothing to write or parse on the firing path.
    values["warnings"] = dumps({"version": WARNINGS_VERSION, "warnings": list(run.warnings)}) if run.warnings else None
    return values


def run_from_row(row: RowMapping) -> Run:
    """Rebuild a run from its row, selected with :func:`~nbsched.jobstores.sqlalchemy.models.raw_columns`.

    :raises ValueError: when a column holds what no run has (text in a time column, an unknown status), naming
        the column and the value; the store skips such a row with a warning
    """
    try:
        outputs = json.loads(row["outputs"]).get("outputs", {})
    except (TypeError, ValueError, AttributeError):
        outputs = {}  # an unreadable output list must not hide the run itself
    if not isinstance(outputs, dict):
        outputs = {}
    scheduled_at = stored_time(row["scheduled_at"], "scheduled_at")
    if scheduled_at is None:
        raise ValueError("column scheduled_at holds None, which is not a time")
    status = row["status"]
    if status not in _STATUSES:
        raise ValueError(f"column status holds {status!r}, which is not a run status (known: {KNOWN_STATUSES})")
    return Run(
        id=row["id"],
        job_id=row["job_id"],
        scheduled_at=scheduled_at,
        status=_STATUSES[status],
        attempt=_whole_number(row["attempt"], "attempt"),
        started_at=stored_time(row["started_at"], "started_at"),
        finished_at=stored_time(row["finished_at"], "finished_at"),
        worker=row["worker"],
        heartbeat_at=stored_time(row["heartbeat_at"], "heartbeat_at"),
        error_type=row["error_type"],
        error_message=row["error_message"],
        traceback=row["traceback"],
        progress=row["progress"],
        cell_index=None if row["cell_index"] is None else _whole_number(row["cell_index"], "cell_index"),
        outputs=outputs,
        input_sha256=row["input_sha256"],
        warnings=_warnings(row["warnings"]),
    )


def _warnings(value: Any) -> list[str]:
    """The warnings of a ``warnings`` column value (an unreadable one is kept visible as one warning: a note
    about the run must not hide the run itself)."""
    if value is None:
        return []
    try:
        found = json.loads(value).get("warnings", [])
    except (TypeError, ValueError, AttributeError):
        return [f"(unreadable warnings column: {value!r:.200})"]
    if not isinstance(found, list):
        return [f"(unreadable warnings column: {value!r:.200})"]
    return [item if isinstance(item, str) else str(item) for item in found]


def _whole_number(value: Any, column: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"column {column} holds {value!r}, which is not a whole number")
    return value
