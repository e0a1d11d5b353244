"""nbsched: schedule Python functions, cells and notebooks from Jupyter.

An APScheduler 3 compatible scheduler (replace ``apscheduler`` with ``nbsched`` in the imports) with a
pickle-free persistent store, exactly-once firing across processes, run history and notebook jobs.
"""

from __future__ import annotations

import importlib.metadata as _metadata
import typing as _typing

from nbsched.clock import ManualClock, SystemClock
from nbsched.default import default_scheduler
from nbsched.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_START,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from nbsched.exceptions import (
    ConfigurationError,
    ConflictingIdError,
    InvalidArgumentError,
    JobArgumentError,
    JobLookupError,
    MaxInstancesReachedError,
    NbschedError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    SerializationError,
    TransientJobError,
    TriggerArgumentError,
    UnreferenceableError,
)
from nbsched.job import Job
from nbsched.notebooks import Cell, Notebook
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.asyncio import AsyncIOScheduler
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.schedulers.blocking import BlockingScheduler
from nbsched.triggers import (
    AndTrigger,
    CalendarIntervalTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
)

if _typing.TYPE_CHECKING:
    from nbsched.schedulers.base import BaseScheduler
    from nbsched.widgets.view import JobsPanel

try:
    __version__ = _metadata.version("nbsched")
except _metadata.PackageNotFoundError:  # a source checkout that was not installed
    __version__ = "0+unknown"

#: the version, as APScheduler's ``apscheduler.version`` (same as ``__version__``)
version = __version__
#: the release numbers (and any pre/dev part as text), as APScheduler's ``version_info``: ``(1, 2, 0)``
version_info: tuple[int | str, ...] = tuple(
    int(part) if part.isdigit() else part for part in __version__.split("+")[0].split(".")
)

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
    "AndTrigger",
    "AsyncIOScheduler",
    "BackgroundScheduler",
    "BlockingScheduler",
    "CalendarIntervalTrigger",
    "Cell",
    "ConfigurationError",
    "ConflictingIdError",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "InvalidArgumentError",
    "Job",
    "JobArgumentError",
    "JobEvent",
    "JobExecutionEvent",
    "JobLookupError",
    "JobSubmissionEvent",
    "ManualClock",
    "MaxInstancesReachedError",
    "NbschedError",
    "Notebook",
    "OrTrigger",
    "Run",
    "RunStatus",
    "SchedulerAlreadyRunningError",
    "SchedulerEvent",
    "SchedulerNotRunningError",
    "SerializationError",
    "SystemClock",
    "TransientJobError",
    "TriggerArgumentError",
    "UnreferenceableError",
    "__version__",
    "default_scheduler",
    "load_ipython_extension",
    "panel",
    "unload_ipython_extension",
    "version",
    "version_info",
]


def load_ipython_extension(shell: object) -> None:
    """``%load_ext nbsched``: start this kernel's scheduler and register the magics (see :mod:`nbsched.magics`)."""
    from nbsched.magics import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: object) -> None:
    """``%unload_ext nbsched``: this kernel's kernel-mode jobs end (see :mod:`nbsched.magics`)."""
    from nbsched.magics import unload_ipython_extension as unload

    unload(shell)


def panel(scheduler: BaseScheduler | None = None, **options: _typing.Any) -> JobsPanel:
    """The jobs panel (ipywidgets) of this kernel's scheduler: see :func:`nbsched.widgets.panel`."""
    from nbsched.widgets import panel as make_panel

    return make_panel(scheduler, **options)
