"""The one internal interface the scheduler's pieces share.

:class:`~nbsched.schedulers.base.BaseScheduler` is put together from mixins, each a concept of its own module: the
job half of the API (:mod:`._jobs`), storing jobs (:mod:`._storing`), jobs to and from files (:mod:`._jobfiles`),
the run half (:mod:`._history`), what the faces share (:mod:`._faces`), the run contexts executors report through
(:mod:`._context`), the executors, stores and listeners it holds (:mod:`._parts`) and the processing loop
(:mod:`._loop`). Every one of them derives from :class:`SchedulerCore`, which declares the state they share and, as
abstract methods, what one piece provides to the others; nothing else crosses between them. A piece that needs more
adds it here first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging
    import threading
    from datetime import datetime, tzinfo
    from pathlib import Path

    from nbsched.abc import Clock, Executor, JobStore
    from nbsched.events import JobExecutionEvent, SchedulerEvent
    from nbsched.job import Job
    from nbsched.schedulers._config import JobDefaults
    from nbsched.schedulers._runs import RunRecorder
    from nbsched.schedulers._waiting import WaitingFires

__all__ = ["JOB_OPTIONS", "STATE_PAUSED", "STATE_RUNNING", "STATE_STOPPED", "SchedulerCore"]

#: the job options that take the scheduler's ``job_defaults`` unless given
JOB_OPTIONS = ("misfire_grace_time", "coalesce", "max_instances")

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2


class SchedulerCore(ABC):
    """The state and the internal methods the scheduler's pieces share (set up by ``BaseScheduler.__init__`` and
    its configuration)."""

    # ------------------------------------------------------------------------------------ configuration
    state: int
    timezone: tzinfo
    keep_runs: int | None
    keep_runs_for: float | None
    lost_after: float
    jobstore_retry_interval: float
    #: started only to manage jobs: no executor, run recorder, retention or liveness row
    manage_only: bool = False
    _clock: Clock
    _logger: logging.Logger
    _job_defaults: JobDefaults

    # --------------------------------------------------------------------------- executors, stores, listeners
    _executors: dict[str, Executor]
    _executors_lock: Any
    _jobstores: dict[str, JobStore]
    _jobstores_lock: threading.RLock
    #: executors created on first use when a job needs them (notebook and cell tasks)
    _AUTO_EXECUTORS: frozenset[str] = frozenset({"notebook", "kernel"})
    _listener_mask: int
    _starting: bool

    # -------------------------------------------------------------------------------------------- runs
    _recorder: RunRecorder
    _pending_jobs: list[tuple[Job, str, bool]]
    _retry_queue: list[tuple[datetime, int, Job, str, datetime]]
    _retry_seq: int
    _last_prune: datetime | None
    _waiting: WaitingFires

    # ------------------------------------------------------------------------- provided by one piece, used by others
    @abstractmethod
    def wakeup(self) -> None:
        """Make the scheduler process jobs now (the flavours: blocking, background, asyncio)."""

    @abstractmethod
    def _dispatch_event(self, event: SchedulerEvent) -> None:
        """Record a run's outcome event and notify the listeners (:mod:`._parts`)."""

    @abstractmethod
    def _lookup_jobstore(self, alias: str) -> JobStore:
        """The job store by that alias (:mod:`._parts`).

        :raises PluginLookupError: when there is none
        """

    @abstractmethod
    def _lookup_executor(self, alias: str) -> Executor:
        """The executor by that alias, made on first use for the automatic ones (:mod:`._parts`).

        :raises PluginLookupError: when there is none
        """

    @abstractmethod
    def _lookup_job(self, job_id: str, jobstore_alias: str | None) -> tuple[Job, str | None]:
        """The job and its store's alias (:mod:`._jobs`).

        :raises JobLookupError: when there is none
        """

    @abstractmethod
    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        """Remove a job (:mod:`._jobs`)."""

    @abstractmethod
    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]:
        """Every job (:mod:`._jobs`)."""

    @abstractmethod
    def _real_add_job(self, job: Job, jobstore_alias: str, replace_existing: bool, owner: str = "add_job") -> None:
        """Store a job in a started scheduler (:mod:`._jobs`)."""

    @abstractmethod
    def _add_pending_jobs(self) -> None:
        """Store the jobs added before the scheduler started (:mod:`._jobs`)."""

    @abstractmethod
    def _check_executor(self, alias: str, owner: str) -> None:
        """Refuse an executor alias that is neither configured nor made on first use (:mod:`._storing`)."""

    @abstractmethod
    def _submit(
        self,
        job: Job,
        alias: str,
        run_times: list[datetime],
        events: list[SchedulerEvent],
        at: datetime | None = None,
    ) -> None:
        """Hand fires of a job to its executor (:mod:`._loop`)."""

    @abstractmethod
    def _job_finished(self, event: JobExecutionEvent) -> None:
        """Record a run's outcome, retry or prune after it (:mod:`._history`)."""

    @abstractmethod
    def _submit_due_retries(self, now: datetime, events: list[SchedulerEvent]) -> None:
        """Submit the retries that are due (:mod:`._history`)."""

    @abstractmethod
    def run_folder(self, job_id: str, run_id: str, jobstore: str | None) -> Path:
        """The folder of a run's outputs (:mod:`._history`)."""
