"""Job and run responses: what the REST API shows of a :class:`~nbsched.job.Job` and a :class:`~nbsched.runs.Run`
(the shapes are ``JobOut`` and ``RunOut`` in :mod:`nbsched.server.schemas`).

Secret parameters (see :mod:`nbsched.masking`) never leave the server: their values are ``***`` in a job's
``task.parameters`` and ``task.kwargs``, and are replaced by ``***`` in its name and in a run's error, traceback
and progress.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from nbsched.datetimes import timezone_name
from nbsched.job import Job, is_task
from nbsched.masking import Masker, mask_parameters, secret_names
from nbsched.runs import Run
from nbsched.server.schedules import schedule_of
from nbsched.server.shapes import (
    CellTaskOut,
    FunctionTaskOut,
    JobOut,
    LastRunOut,
    NotebookTaskOut,
    OtherTaskOut,
    RunOut,
    TaskOut,
)

__all__ = ["job_out", "plain", "run_out", "task_out"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def plain(value: Any) -> Any:
    """A value as plain JSON: dates as ISO text, tuples as lists, non-finite floats as text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def task_out(job: Job) -> TaskOut:
    """The ``task`` of a job response, secret parameter values as ``***``."""
    func = job.func
    secrets = secret_names(job)
    if is_task(func):
        state = func.to_dict()  # type: ignore[union-attr]  # is_task: a task spec
        kind = state.get("type")
        if kind == "notebook":
            notebook: NotebookTaskOut = {
                "type": "notebook",
                "path": state.get("path"),
                "parameters": mask_parameters(plain(func.parameters), secrets),  # type: ignore[union-attr]
                "secret_parameters": list(state.get("secret_parameters", [])),
                "kernel_name": state.get("kernel_name"),
                "timeout": state.get("timeout"),
                "cell_timeout": state.get("cell_timeout"),
                "cwd": state.get("cwd"),
                "output_formats": state.get("output_formats"),
                "snapshot": state.get("snapshot"),
            }
            return notebook
        if kind == "cell":
            cell: CellTaskOut = {
                "type": "cell",
                "source": state.get("source"),
                "mode": state.get("mode"),
                "kernel_name": state.get("kernel_name"),
                "timeout": state.get("timeout"),
                "cell_timeout": state.get("cell_timeout"),
                "cwd": state.get("cwd"),
                "output_formats": state.get("output_formats"),
            }
            return cell
        other: OtherTaskOut = {"type": str(kind)}
        return other
    kwargs = mask_parameters(plain(job.kwargs), secrets)
    function: FunctionTaskOut = {
        "type": "function",
        "ref": job.func_ref,
        "args": plain(list(job.args)),
        "kwargs": kwargs,
    }
    return function


def job_out(job: Job, last_run: Run | None) -> JobOut:
    """A job response (secret parameters masked)."""
    masker = Masker.for_jobs([job])
    zone = getattr(job.trigger, "timezone", None)
    last: LastRunOut | None = None
    if last_run is not None:
        last = {
            "id": last_run.id,
            "status": str(last_run.status),
            "scheduled_at": last_run.scheduled_at.isoformat(),
            "started_at": _iso(last_run.started_at),
            "finished_at": _iso(last_run.finished_at),
            "duration": last_run.duration,
        }
    return {
        "id": job.id,
        "name": masker.text(job.name) or "",
        "task": task_out(job),
        "trigger": job.trigger.to_dict(),
        "schedule": schedule_of(job.trigger),
        "trigger_description": job.trigger.describe(),
        "timezone": timezone_name(zone) if isinstance(zone, tzinfo) else None,
        "next_run_time": _iso(job.next_run_time),
        "paused": job.next_run_time is None and not job.completed,
        "executor": job.executor,
        "misfire_grace_time": job.misfire_grace_time,
        "coalesce": job.coalesce,
        "max_instances": job.max_instances,
        "max_runs": job.max_runs,
        "retries": job.retries,
        "retry_backoff": job.retry_backoff,
        "tags": sorted(job.tags),
        "run_count": job.run_count,
        "last_run": last,
    }


def run_out(run: Run, masker: Masker | None = None) -> RunOut:
    """A run response (output file paths stay on the server: only their kinds are listed).

    :param masker: scrubs the secret values of the run's job from its error, traceback and progress (see
        :meth:`~nbsched.masking.Masker.for_jobs`)
    """
    masker = masker if masker is not None else Masker()
    return {
        "id": run.id,
        "job_id": run.job_id,
        "scheduled_at": run.scheduled_at.isoformat(),
        "status": str(run.status),
        "attempt": run.attempt,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration": run.duration,
        "worker": run.worker,
        "heartbeat_at": _iso(run.heartbeat_at),
        "error_type": run.error_type,
        "error_message": masker.text(run.error_message),
        "traceback": masker.text(run.traceback),
        "progress": masker.text(run.progress),
        "cell_index": run.cell_index,
        "outputs": sorted(run.outputs),
        "input_sha256": run.input_sha256,
        "warnings": masker.data(list(run.warnings)),
    }
