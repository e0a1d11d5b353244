"""Scheduler events: the 17 ``EVENT_*`` codes at APScheduler 3's values, and the event classes.

Listeners registered with ``add_listener(callback, mask)`` receive an event whose ``code`` is in ``mask``.
Event classes take their arguments positionally, as APScheduler 3's do, so existing listeners keep working.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "EVENT_ALL",
    "EVENT_ALL_JOBS_REMOVED",
    "EVENT_EXECUTOR_ADDED",
    "EVENT_EXECUTOR_REMOVED",
    "EVENT_JOBSTORE_ADDED",
    "EVENT_JOBSTORE_REMOVED",
    "EVENT_JOB_ADDED",
    "EVENT_JOB_ERROR",
    "EVENT_JOB_EXECUTED",
    "EVENT_JOB_MAX_INSTANCES",
    "EVENT_JOB_MISSED",
    "EVENT_JOB_MODIFIED",
    "EVENT_JOB_REMOVED",
    "EVENT_JOB_SUBMITTED",
    "EVENT_SCHEDULER_PAUSED",
    "EVENT_SCHEDULER_RESUMED",
    "EVENT_SCHEDULER_SHUTDOWN",
    "EVENT_SCHEDULER_START",
    "EVENT_SCHEDULER_STARTED",
    "JobEvent",
    "JobExecutionEvent",
    "JobSubmissionEvent",
    "SchedulerEvent",
]

EVENT_SCHEDULER_STARTED = EVENT_SCHEDULER_START = 2**0
EVENT_SCHEDULER_SHUTDOWN = 2**1
EVENT_SCHEDULER_PAUSED = 2**2
EVENT_SCHEDULER_RESUMED = 2**3
EVENT_EXECUTOR_ADDED = 2**4
EVENT_EXECUTOR_REMOVED = 2**5
EVENT_JOBSTORE_ADDED = 2**6
EVENT_JOBSTORE_REMOVED = 2**7
EVENT_ALL_JOBS_REMOVED = 2**8
EVENT_JOB_ADDED = 2**9
EVENT_JOB_REMOVED = 2**10
EVENT_JOB_MODIFIED = 2**11
EVENT_JOB_EXECUTED = 2**12
EVENT_JOB_ERROR = 2**13
EVENT_JOB_MISSED = 2**14
EVENT_JOB_SUBMITTED = 2**15
EVENT_JOB_MAX_INSTANCES = 2**16
EVENT_ALL = (
    EVENT_SCHEDULER_STARTED
    | EVENT_SCHEDULER_SHUTDOWN
    | EVENT_SCHEDULER_PAUSED
    | EVENT_SCHEDULER_RESUMED
    | EVENT_EXECUTOR_ADDED
    | EVENT_EXECUTOR_REMOVED
    | EVENT_JOBSTORE_ADDED
    | EVENT_JOBSTORE_REMOVED
    | EVENT_ALL_JOBS_REMOVED
    | EVENT_JOB_ADDED
    | EVENT_JOB_REMOVED
    | EVENT_JOB_MODIFIED
    | EVENT_JOB_EXECUTED
    | EVENT_JOB_ERROR
    | EVENT_JOB_MISSED
    | EVENT_JOB_SUBMITTED
    | EVENT_JOB_MAX_INSTANCES
)


# Events are frozen attrs classes; positional arguments keep APScheduler 3's call signatures.
@attrs.frozen(repr=False)
class SchedulerEvent:
    """An event that concerns the scheduler itself.

    :param code: the ``EVENT_*`` code
    :param alias: alias of the job store or executor that was added or removed (if applicable)
    """

    code: int
    alias: str | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (code={self.code})>"


@attrs.frozen(repr=False)
class JobEvent(SchedulerEvent):
    """An event that concerns a job.

    :param job_id: id of the job
    :param jobstore: alias of the job store the job is in
    """

    code: int
    job_id: str = ""
    jobstore: str | None = None
    alias: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen(repr=False)
class JobSubmissionEvent(JobEvent):
    """A job was submitted to its executor (or refused because of ``max_instances``).

    :param scheduled_run_times: the times the job was scheduled to run at
    """

    code: int
    job_id: str = ""
    jobstore: str | None = None
    scheduled_run_times: list[datetime] = attrs.field(factory=list)


@attrs.frozen(repr=False)
class JobExecutionEvent(JobEvent):
    """A job ran (``EVENT_JOB_EXECUTED``), raised (``EVENT_JOB_ERROR``) or missed its run (``EVENT_JOB_MISSED``).

    :param scheduled_run_time: the time the job was scheduled to run at
    :param retval: the return value of the job, when it succeeded
    :param exception: the exception it raised, when it failed
    :param traceback: the formatted traceback, when it failed
    """

    code: int
    job_id: str = ""
    jobstore: str | None = None
    scheduled_run_time: datetime | None = None
    retval: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
