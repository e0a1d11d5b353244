"""All scheduling logic, shared by every scheduler flavour.

:class:`BaseScheduler` has APScheduler 3.11's whole public API, put together from the pieces listed in
:mod:`nbsched.schedulers._core`; this module holds its configuration and lifecycle. Its
:meth:`~BaseScheduler._process_jobs` (:mod:`nbsched.schedulers._loop`) runs the due jobs and returns the seconds
until the next due time; the flavours (blocking, background, asyncio) only wait that long, or until
:meth:`~BaseScheduler.wakeup`, and call it again.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from nbsched.abc import Clock, Executor, JobStore
from nbsched.clock import SystemClock
from nbsched.events import (
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    SchedulerEvent,
)
from nbsched.exceptions import (
    ConfigurationError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    SchedulerNotSerializableError,
)
from nbsched.job import Job
from nbsched.schedulers import _config
from nbsched.schedulers._context import RunContextsAPI
from nbsched.schedulers._core import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from nbsched.schedulers._faces import FacesAPI
from nbsched.schedulers._history import RunsAPI
from nbsched.schedulers._jobfiles import JobFilesAPI
from nbsched.schedulers._jobs import JobsAPI, undefined
from nbsched.schedulers._loop import CLAIM_BATCH, WAITING_RECHECK, FiringLoop
from nbsched.schedulers._parts import PartsAPI
from nbsched.schedulers._runs import RunRecorder
from nbsched.schedulers._storing import JobStoringAPI
from nbsched.schedulers._waiting import WaitingFires

__all__ = [
    "CLAIM_BATCH",
    "STATE_PAUSED",
    "STATE_RUNNING",
    "STATE_STOPPED",
    "WAITING_RECHECK",
    "BaseScheduler",
    "undefined",
]


class BaseScheduler(FiringLoop, PartsAPI, FacesAPI, RunContextsAPI, RunsAPI, JobFilesAPI, JobStoringAPI, JobsAPI, ABC):
    """The scheduler API and its one processing loop, put together from the pieces described in
    :mod:`nbsched.schedulers._core` (this module: configuration and the lifecycle).

    Options (keyword arguments, or ``gconfig`` with ``apscheduler.``/``nbsched.`` prefixed dotted keys):

    :param logger: logger (or its reference) for the scheduler's own messages (default ``nbsched.scheduler``)
    :param timezone: default time zone for triggers (a zone name or tzinfo; default: the local zone)
    :param jobstore_retry_interval: seconds to wait before asking a failing job store again (default 10)
    :param job_defaults: defaults for ``misfire_grace_time`` (``None``), ``coalesce`` (``True``) and
        ``max_instances`` (1)
    :param jobstores: alias -> job store instance, plugin alias or config dict
    :param executors: alias -> executor instance, plugin alias or config dict
    :param clock: where time is read (default :class:`~nbsched.clock.SystemClock`; tests use
        :class:`~nbsched.clock.ManualClock`)
    :param manage_only: only manage jobs (default ``False``): :meth:`start` leaves the scheduler paused for good
        and starts no executor, run recorder, retention or liveness row; jobs are added, changed and removed
        through the stores as usual, executor aliases checked by name (the ``nbsched`` command uses this)

    Unknown options raise :class:`~nbsched.exceptions.ConfigurationError` (APScheduler ignores them).

    :ivar int state: ``STATE_STOPPED``, ``STATE_RUNNING`` or ``STATE_PAUSED``
    """

    #: options a flavour accepts beyond the general ones
    _extra_options: frozenset[str] = frozenset()

    def __init__(self, gconfig: Mapping[str, Any] | None = None, **options: Any) -> None:
        super().__init__()
        self._executors: dict[str, Executor] = {}
        self._executors_lock = self._create_lock()
        self._jobstores: dict[str, JobStore] = {}
        self._jobstores_lock = self._create_lock()
        self._listeners: list[tuple[Callable[[Any], Any], int]] = []
        self._listeners_lock = self._create_lock()
        self._listener_mask = 0
        self._store_listeners: list[Callable[[str], Any]] = []
        self._pending_jobs: list[tuple[Job, str, bool]] = []
        self._clock: Clock = SystemClock()
        # Processing passes started/finished, so a manual clock's advance() can wait for the pass it caused.
        self._passes_started = 0
        self._passes_done = 0
        self._passes_cond = threading.Condition()
        self._count_passes = True
        self._recorder = RunRecorder(self)
        self._starting = False  # start() is storing the pending jobs (executors added now start at once)
        self._retry_queue: list[tuple[datetime, int, Job, str, datetime]] = []
        self._retry_seq = 0
        self._waiting = WaitingFires()
        self._store_retry_at: dict[str, datetime] = {}  # job stores that failed -> when to ask them again
        self._last_prune: datetime | None = None
        self._skipping: set[str] = set()  # jobs whose last fire was skipped (max_instances): noticed once
        self.state = STATE_STOPPED
        self.configure(gconfig or {}, **options)

    def __getstate__(self) -> Any:
        raise SchedulerNotSerializableError()

    # ------------------------------------------------------------------------------------------ lifecycle
    def configure(
        self, gconfig: Mapping[str, Any] | None = None, prefix: str | None = "apscheduler.", **options: Any
    ) -> None:
        """Reconfigure the scheduler (only while it is stopped).

        :param gconfig: a "global" configuration dict whose prefixed, dotted keys are read
        :param prefix: the key prefix to read from ``gconfig`` (``apscheduler.`` and ``nbsched.`` both work)
        :raises SchedulerAlreadyRunningError: if the scheduler is running
        :raises ConfigurationError: for an unknown key or a bad value
        """
        if self.state != STATE_STOPPED:
            raise SchedulerAlreadyRunningError
        config = _config.flatten_gconfig(gconfig or {}, prefix)
        config.update(options)
        self._configure(config)

    def _configure(self, config: dict[str, Any]) -> None:
        owner = type(self).__name__
        known = _config.GENERAL_KEYS | _config.NBSCHED_KEYS | self._extra_options
        unknown = sorted(set(config) - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigurationError(
                owner, "option", unknown[0], f"is not a known option; {hint}(known: {', '.join(sorted(known))})"
            )
        self._logger: logging.Logger = _config.logger(owner, config.get("logger"))
        self.timezone: tzinfo = _config.timezone(owner, config.get("timezone"))
        self.jobstore_retry_interval = _config.retry_interval(owner, config.get("jobstore_retry_interval", 10))
        self._job_defaults = _config.job_defaults(owner, config.get("job_defaults", {}))
        if "clock" in config:
            self._clock = _config.clock(owner, config["clock"])
        self.keep_runs: int | None = _config.number(owner, "keep_runs", config.get("keep_runs", 100), integer=True)
        #: the most notebook/cell runs at once (the notebook executor queues the rest); None: one per core
        self.max_concurrent_runs: int | None = _config.number(
            owner, "max_concurrent_runs", config.get("max_concurrent_runs"), integer=True
        )
        self.keep_runs_for: float | None = _config.number(owner, "keep_runs_for", config.get("keep_runs_for"))
        self.heartbeat_interval = float(
            _config.number(owner, "heartbeat_interval", config.get("heartbeat_interval", 10.0), optional=False)
        )
        self.manage_only = _config.parse_bool(owner, "manage_only", config.get("manage_only", False))
        self.lost_after = float(
            _config.number(owner, "lost_after", config.get("lost_after", 6 * self.heartbeat_interval), optional=False)
        )
        executors = {
            alias: _config.create_plugin(owner, "executor", alias, value)
            for alias, value in _mapping(owner, "executors", config.get("executors", {})).items()
        }
        jobstores = {
            alias: _config.create_plugin(owner, "jobstore", alias, value)
            for alias, value in _mapping(owner, "jobstores", config.get("jobstores", {})).items()
        }
        # Everything was checked: only now replace what was configured before.
        self._executors.clear()
        for alias, executor in executors.items():
            self.add_executor(executor, alias)
        self._jobstores.clear()
        for alias, store in jobstores.items():
            self.add_jobstore(store, alias)

    def start(self, paused: bool = False) -> None:
        """Start the executors and job stores and begin processing scheduled jobs.

        :param paused: if ``True``, don't process jobs until :meth:`resume` is called
        :raises SchedulerAlreadyRunningError: if the scheduler is already running
        """
        if self.state != STATE_STOPPED:
            raise SchedulerAlreadyRunningError
        with self._executors_lock:
            if "default" not in self._executors:
                self.add_executor(self._create_default_executor(), "default")
            if not self.manage_only:
                for alias, executor in self._executors.items():
                    executor.start(self, alias)
        with self._jobstores_lock:
            if "default" not in self._jobstores:
                self.add_jobstore(self._create_default_jobstore(), "default")
            for alias, store in self._jobstores.items():
                store.start(self, alias)
            self._starting = True
            try:
                self._add_pending_jobs()
            except BaseException:
                # Not started after all: stop what was started, so that start() can be called again cleanly.
                for store in self._jobstores.values():
                    with contextlib.suppress(Exception):
                        store.shutdown()
                with self._executors_lock:
                    for executor in self._executors.values() if not self.manage_only else ():
                        with contextlib.suppress(Exception):
                            executor.shutdown(wait=False)
                raise
            finally:
                self._starting = False
        if self.manage_only:
            self.state = STATE_PAUSED  # for good: nothing here runs jobs (resume() refuses)
            self._logger.info("Scheduler started (manage only)")
            self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_STARTED))
            return
        self._recorder.start()
        self._clock.add_observer(self._on_clock_jump)
        # Passes are counted for _on_clock_jump, which only a clock that jumps (overrides add_observer) calls.
        self._count_passes = type(self._clock).add_observer is not Clock.add_observer
        self.state = STATE_PAUSED if paused else STATE_RUNNING
        self._liveness_started()
        self._logger.info("Scheduler started")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_STARTED))
        if not paused:
            self.wakeup()

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Shut down the scheduler, its executors and its job stores.

        Does not interrupt running jobs.

        :param wait: ``True`` to wait until all running jobs have finished
        :raises SchedulerNotRunningError: if the scheduler has not been started yet
        """
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        self.state = STATE_STOPPED
        self._clock.remove_observer(self._on_clock_jump)
        with self._jobstores_lock:
            # A processing pass under way finishes (and submits what it claimed) before executors stop. Fires
            # still waiting for a running instance do not run: their runs are found lost once nothing beats them.
            self._waiting.clear()
        # No lock is held while waiting for running jobs: they report back through the scheduler.
        for executor in list(self._executors.values()) if not self.manage_only else ():
            executor.shutdown(wait)
        self._recorder.stop()
        self._liveness_stopped()
        from nbsched.jobstores.memory import MemoryJobStore

        with self._jobstores_lock:
            for store in self._jobstores.values():
                store.shutdown()
                if isinstance(store, MemoryJobStore):
                    # As APScheduler's: a restarted scheduler starts empty (run history stays readable).
                    store.remove_all_jobs()
        self._logger.info("Scheduler has been shut down")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))

    def pause(self) -> None:
        """Stop processing jobs until :meth:`resume` is called (running jobs go on)."""
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        if self.state == STATE_RUNNING:
            self.state = STATE_PAUSED
            self._logger.info("Paused scheduler job processing")
            self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_PAUSED))
            self.beat_liveness()  # others see at once that it no longer runs jobs

    def resume(self) -> None:
        """Resume job processing."""
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        if self.manage_only:
            raise ConfigurationError(type(self).__name__, "manage_only", True, "means it never processes jobs")
        if self.state == STATE_PAUSED:
            self.state = STATE_RUNNING
            self._logger.info("Resumed scheduler job processing")
            self.beat_liveness()
            self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_RESUMED))
            self.wakeup()

    @property
    def running(self) -> bool:
        """``True`` once the scheduler has been started (``state != STATE_STOPPED``)."""
        return self.state != STATE_STOPPED

    @property
    def clock(self) -> Clock:
        """The clock this scheduler reads time from."""
        return self._clock

    @abstractmethod
    def wakeup(self) -> None:
        """Make the scheduler process jobs now (called when jobs change or the clock jumps)."""

    def _in_scheduler_thread(self) -> bool:
        """Whether the caller is the thread that processes jobs (flavours say)."""
        return False

    def _on_clock_jump(self, timeout: float = 30.0) -> None:
        """A manual clock moved: process due jobs and, unless called from the scheduler's own thread, wait for
        that pass to finish, so ``clock.advance(60)`` returns with the due jobs submitted."""
        with self._passes_cond:
            target = self._passes_started + 1
        self.wakeup()
        if self.state == STATE_RUNNING and not self._in_scheduler_thread():
            with self._passes_cond:
                self._passes_cond.wait_for(lambda: self._passes_done >= target, timeout)

    # ------------------------------------------------------------------------------------------- internals
    def _create_default_executor(self) -> Executor:
        from nbsched.executors.pool import ThreadPoolExecutor

        return ThreadPoolExecutor()

    def _create_default_jobstore(self) -> JobStore:
        from nbsched.jobstores.memory import MemoryJobStore

        return MemoryJobStore()

    def _create_lock(self) -> Any:
        return threading.RLock()


def _mapping(owner: str, field: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(owner, field, value, "must be a dict of alias -> instance or config")
    return value
