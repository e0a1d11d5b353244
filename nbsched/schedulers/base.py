"""All scheduling logic, shared by every scheduler flavour.

:class:`BaseScheduler` has APScheduler 3.11's whole public API. Its :meth:`~BaseScheduler._process_jobs` runs
the due jobs and returns the seconds until the next due time; the flavours (blocking, background, asyncio) only
wait that long, or until :meth:`~BaseScheduler.wakeup`, and call it again.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from threading import TIMEOUT_MAX
from typing import Any

import attrs

from nbsched.abc import Clock, Executor, JobStore
from nbsched.clock import SystemClock
from nbsched.events import (
    EVENT_ALL,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from nbsched.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    MaxInstancesReachedError,
    PluginLookupError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    SchedulerNotSerializableError,
)
from nbsched.job import Job
from nbsched.runs import Run
from nbsched.schedulers import _config
from nbsched.schedulers._catchup import FirePlan, plan_fires
from nbsched.schedulers._context import RunContextsAPI
from nbsched.schedulers._faces import FacesAPI
from nbsched.schedulers._history import RunsAPI
from nbsched.schedulers._jobs import JobsAPI, undefined
from nbsched.schedulers._runs import RunRecorder
from nbsched.schedulers._waiting import WaitingFires

__all__ = ["STATE_PAUSED", "STATE_RUNNING", "STATE_STOPPED", "BaseScheduler", "undefined"]

_RUN_OUTCOMES = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
#: due fires claimed per store transaction
CLAIM_BATCH = 100
#: seconds between looks at fires waiting for their job's running instance (they are also submitted as soon as a
#: run of that job reports its end; this catches an executor that failed without reporting one)
WAITING_RECHECK = 1.0
# A due job planned for a claim: the job (already advanced), its expected next run time, the fires it runs,
# its plan (None: the trigger failed) and the run records to claim with it.
_Planned = tuple[Job, datetime, int, FirePlan | None, list[Run]]

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2

_JOB_OPTIONS = ("misfire_grace_time", "coalesce", "max_instances")


class BaseScheduler(FacesAPI, RunContextsAPI, RunsAPI, JobsAPI, ABC):
    """The scheduler API and its one processing loop.

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

    # ------------------------------------------------------------------------------- executors, job stores
    def add_executor(self, executor: Executor | str, alias: str = "default", **executor_opts: Any) -> None:
        """Add an executor, given as an instance or a plugin alias with its options.

        :raises ValueError: if there is already an executor by that alias
        """
        with self._executors_lock:
            if alias in self._executors:
                raise ConfigurationError(type(self).__name__, "executor alias", alias, "is already in use")
            instance = _config.create_plugin(
                type(self).__name__, "executor", alias, _plugin_arg(executor, executor_opts)
            )
            self._executors[alias] = instance
            if (self.state != STATE_STOPPED or self._starting) and not self.manage_only:
                instance.start(self, alias)
        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_ADDED, alias))

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        """Remove the executor by that alias (shutting it down by default)."""
        with self._executors_lock:
            executor = self._lookup_executor(alias)
            del self._executors[alias]
        if shutdown:
            executor.shutdown()
        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_REMOVED, alias))

    def add_jobstore(self, jobstore: JobStore | str, alias: str = "default", **jobstore_opts: Any) -> None:
        """Add a job store, given as an instance or a plugin alias with its options.

        :raises ValueError: if there is already a job store by that alias
        """
        with self._jobstores_lock:
            if alias in self._jobstores:
                raise ConfigurationError(type(self).__name__, "job store alias", alias, "is already in use")
            store = _config.create_plugin(type(self).__name__, "jobstore", alias, _plugin_arg(jobstore, jobstore_opts))
            self._jobstores[alias] = store
            if self.state != STATE_STOPPED:
                store.start(self, alias)
        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_ADDED, alias))
        if self.state != STATE_STOPPED:
            self.wakeup()

    def remove_jobstore(self, alias: str, shutdown: bool = True) -> None:
        """Remove the job store by that alias (shutting it down by default)."""
        with self._jobstores_lock:
            store = self._lookup_jobstore(alias)
            del self._jobstores[alias]
        if shutdown:
            store.shutdown()
        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_REMOVED, alias))

    # ------------------------------------------------------------------------------------------- listeners
    def add_listener(self, callback: Callable[[Any], Any], mask: int = EVENT_ALL) -> None:
        """Call ``callback(event)`` for every event whose code is in ``mask``.

        :param callback: any callable that takes one argument (the event)
        :param mask: the ``EVENT_*`` codes to listen to, ORed together
        :raises InvalidArgumentError: for a callback that is not callable or a mask that is not an int (nothing
            is added)
        """
        # Checked before adding: a bad listener kept in the list would break every later event.
        if not callable(callback):
            raise InvalidArgumentError("add_listener", "callback", callback, "must be callable")
        if isinstance(mask, bool) or not isinstance(mask, int):
            raise InvalidArgumentError(
                "add_listener", "mask", mask, "must be an int (EVENT_* codes ORed together, e.g. EVENT_JOB_ERROR)"
            )
        with self._listeners_lock:
            self._listeners.append((callback, mask))
            self._listener_mask |= mask

    def remove_listener(self, callback: Callable[[Any], Any]) -> None:
        """Remove a previously added listener (every registration of it)."""
        with self._listeners_lock:
            self._listeners = [(cb, mask) for cb, mask in self._listeners if cb != callback]
            self._listener_mask = 0
            for _, mask in self._listeners:
                self._listener_mask |= mask

    def add_store_listener(self, callback: Callable[[str], Any]) -> None:
        """Call ``callback(alias)`` from the scheduler's thread when a processing pass finds that job store
        ``alias`` was written since the previous pass (jobs or runs, by any process or connection: see
        :meth:`~nbsched.abc.JobStore.changed_since_last_check`; SQLite stores are asked about once a second).
        Views of a shared store (the widget panel) refresh on it instead of polling."""
        with self._listeners_lock:
            self._store_listeners.append(callback)

    def remove_store_listener(self, callback: Callable[[str], Any]) -> None:
        """Remove a callback added with :meth:`add_store_listener` (every registration of it)."""
        with self._listeners_lock:
            self._store_listeners = [cb for cb in self._store_listeners if cb != callback]

    def _dispatch_event(self, event: SchedulerEvent) -> None:
        if event.code & _RUN_OUTCOMES and isinstance(event, JobExecutionEvent):
            self._job_finished(event)
            waiting = self._waiting.jobs
            if waiting and event.job_id in waiting:
                self.wakeup()  # a run of the job ended: its missed fires waiting for it go now
        if not event.code & self._listener_mask:
            return
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for callback, mask in listeners:
            if event.code & mask:
                try:
                    callback(event)
                except BaseException:
                    self._logger.exception("Error notifying listener")

    # ------------------------------------------------------------------------------------------- internals
    def _create_default_executor(self) -> Executor:
        from nbsched.executors.pool import ThreadPoolExecutor

        return ThreadPoolExecutor()

    def _create_default_jobstore(self) -> JobStore:
        from nbsched.jobstores.memory import MemoryJobStore

        return MemoryJobStore()

    def _create_lock(self) -> Any:
        return threading.RLock()

    #: executors created on first use when a job needs them (notebook and cell tasks)
    _AUTO_EXECUTORS = frozenset({"notebook", "kernel"})

    def _lookup_executor(self, alias: str) -> Executor:
        try:
            return self._executors[alias]
        except KeyError:
            if alias not in self._AUTO_EXECUTORS:
                raise PluginLookupError("executor", alias, list(self._executors)) from None
        with self._executors_lock:
            if alias not in self._executors:
                self.add_executor(alias, alias)
            return self._executors[alias]

    def _lookup_jobstore(self, alias: str) -> JobStore:
        try:
            return self._jobstores[alias]
        except KeyError:
            raise PluginLookupError("job store", alias, list(self._jobstores)) from None

    def _process_jobs(self) -> float | None:
        """Run every due job; return the seconds until the next due time (``None``: nothing scheduled)."""
        if not self._count_passes:  # nobody waits for a pass to end (the clock never jumps)
            return self._process_due_jobs()
        with self._passes_cond:
            self._passes_started += 1
        try:
            return self._process_due_jobs()
        finally:
            with self._passes_cond:
                self._passes_done += 1
                self._passes_cond.notify_all()

    def _process_due_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        now = self._clock.now()
        wakeups: list[datetime] = []
        events: list[SchedulerEvent] = []
        changed: list[str] = []
        with self._jobstores_lock:
            if self._retry_queue:
                self._submit_due_retries(now, events)
                if self._retry_queue:
                    wakeups.append(self._retry_queue[0][0])
            if self._waiting.jobs:
                for job, alias, run_times in self._waiting.take():
                    self._submit(job, alias, run_times, events)
                if self._waiting.jobs:
                    wakeups.append(now + timedelta(seconds=WAITING_RECHECK))
            for alias, store in self._jobstores.items():
                retry_at = self._store_retry_at.get(alias)
                if retry_at is not None:
                    if now < retry_at:  # it failed: left alone until the time its warning gave
                        wakeups.append(retry_at)
                        continue
                    del self._store_retry_at[alias]
                try:
                    due_jobs = store.get_due_jobs(now)
                    self._fire_due_jobs(due_jobs, alias, store, now, events)
                    store_next = store.get_next_run_time()
                except Exception as exc:
                    self._logger.warning(
                        "Job store %r failed (will retry in %g s): %s", alias, self.jobstore_retry_interval, exc
                    )
                    retry_at = self._store_retry_at[alias] = now + timedelta(seconds=self.jobstore_retry_interval)
                    wakeups.append(retry_at)
                    continue  # not polled for changes meanwhile either (that made it retry every second)
                if store_next is not None:
                    wakeups.append(store_next)
                if store.change_check_interval is not None:
                    # Jobs added by other processes are noticed at this bounded interval while idle.
                    wakeups.append(now + timedelta(seconds=store.change_check_interval))
                # Every store is asked, not only those polled at an interval: a PostgreSQL store hears of
                # changes by LISTEN/NOTIFY and wakes the scheduler itself; others answer False.
                if self._store_listeners:
                    try:
                        store_changed = store.changed_since_last_check()
                    except Exception as exc:  # a failing check must not stop the pass: listeners re-read
                        self._logger.warning("Job store %r cannot tell whether it changed: %s", alias, exc)
                        store_changed = True
                    if store_changed:
                        changed.append(alias)
        for event in events:
            self._dispatch_event(event)
        for alias in changed:
            for callback in tuple(self._store_listeners):
                try:
                    callback(alias)
                except Exception:
                    self._logger.exception("Error notifying store listener")
        if self.state != STATE_RUNNING or not wakeups:
            return None
        # In UTC: datetimes sharing a zone compare and subtract by wall clock, wrong in a repeated DST hour.
        earliest = wakeups[0].astimezone(UTC) if len(wakeups) == 1 else min(w.astimezone(UTC) for w in wakeups)
        wait = (earliest - self._clock.now()).total_seconds()
        return min(max(wait, 0.0), TIMEOUT_MAX)

    def _fire_due_jobs(
        self, due_jobs: list[Job], alias: str, store: JobStore, now: datetime, events: list[SchedulerEvent]
    ) -> None:
        """Plan, claim and submit the due jobs batch by batch: each batch is one claim (one transaction in a
        persistent store) and its jobs start as soon as it is claimed, while the next batch is planned; with
        thousands due at once the first ones start after one batch's work, not after all of it."""
        # Sharing schedulers see the same due jobs: each starts at a random batch so they do not all race for
        # the same rows (and lose to whichever came first), and they take turns instead of one of them taking
        # every due job in one long transaction.
        if store.shared and len(due_jobs) > CLAIM_BATCH:
            offset = random.randrange(len(due_jobs) // CLAIM_BATCH + 1) * CLAIM_BATCH
            due_jobs = due_jobs[offset:] + due_jobs[:offset]
        for start in range(0, len(due_jobs), CLAIM_BATCH):
            prepared = []
            for job in due_jobs[start : start + CLAIM_BATCH]:  # loops, not comprehensions: fewer frames
                prepared.append(self._plan_job(job, now))
            self._claim_and_submit(prepared, alias, store, now, events)

    def _plan_job(self, job: Job, now: datetime) -> _Planned:
        """Advance a due job to its next run time and plan its fires and run records (undone if not claimed)."""
        expected = job.next_run_time
        assert expected is not None
        try:
            plan: FirePlan | None = plan_fires(
                job.trigger, expected, now, coalesce=job.coalesce, misfire_grace_time=job.misfire_grace_time
            )
        except Exception:
            self._logger.exception('Trigger of job "%s" failed; pausing the job', job)
            plan = None
        if plan is not None and job.max_runs is not None and job.run_count + len(plan.run_times) > job.max_runs:
            # A catch-up without coalescing would run more than the job has left: the first ones run.
            plan = attrs.evolve(plan, run_times=plan.run_times[: max(job.max_runs - job.run_count, 0)])
        fired = len(plan.run_times) if plan else 0
        next_run_time = plan.next_run_time if plan else None
        stays_paused = False
        if job.max_runs is not None and job.run_count + fired >= job.max_runs:
            next_run_time = None
        elif job.pause_after_run and plan is not None:
            next_run_time, stays_paused = None, True  # run_now of a paused job: paused again by this claim
        job.next_run_time = next_run_time
        job.run_count += fired
        # A finished schedule whose runs may still be retried stays stored until they are done.
        job.completed = next_run_time is None and fired > 0 and job.retries > 0 and not stays_paused
        runs = self._recorder.new_runs(job, plan, now) if plan else []
        return job, expected, fired, plan, runs

    def _claim_and_submit(
        self,
        prepared: list[_Planned],
        alias: str,
        store: JobStore,
        now: datetime,
        events: list[SchedulerEvent],
    ) -> None:
        claims: list[tuple[Job, datetime | None, list[Run]]] = []
        for job, expected, _, _, runs in prepared:
            claims.append((job, expected, runs))
        try:
            won = store.claim_jobs(claims)
        except Exception:
            for job, expected, fired, _, _ in prepared:
                job.next_run_time, job.run_count = expected, job.run_count - fired
            raise
        # Read after the claim, which may have waited long for a lock: fires due by now were missed meanwhile.
        handed_over = self._clock.now()
        for (job, expected, fired, plan, runs), claimed in zip(prepared, won, strict=True):
            if not claimed:
                job.next_run_time, job.run_count = expected, job.run_count - fired
                continue  # another scheduler claimed this fire
            if plan is None:
                continue  # stored with no next run time: paused until someone fixes or resumes it
            self._recorder.claimed(alias, runs, job)
            if job.next_run_time is None and not job.completed and not _stays_paused(job):
                # The trigger is done (a date job after its run) or max_runs is reached.
                store.remove_job(job.id)
                events.append(JobEvent(EVENT_JOB_REMOVED, job.id, alias))
            for run_time in plan.missed:
                self._logger.warning('Run time of job "%s" was missed by %s', job, now - run_time)
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
            for first, end in plan.skipped:
                # One event (and one skipped run) stands for the whole span, which may hold millions of fires.
                self._logger.warning(
                    'Job "%s" missed more fire times than are caught up one by one: skipped those from %s to %s',
                    job,
                    first,
                    end,
                )
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, first))
            if plan.run_times:
                self._submit(job, alias, plan.run_times, events, handed_over)

    def _submit(
        self,
        job: Job,
        alias: str,
        run_times: list[datetime],
        events: list[SchedulerEvent],
        at: datetime | None = None,
    ) -> None:
        """Hand ``run_times`` of ``job`` to its executor (``at``: the current time, if the caller read it)."""
        try:
            executor = self._executors.get(job.executor)
            if executor is None:
                executor = self._lookup_executor(job.executor)
            executor.submit_job(job, run_times)
        except MaxInstancesReachedError:
            wait, run_times = self._waiting.split(job.id, run_times)
            if wait:
                self._logger.info(
                    'Job "%s": %d missed fire time(s) wait for its running instance (max_instances %d)',
                    job,
                    len(wait),
                    job.max_instances,
                )
                self._waiting.add(job, alias, wait)
            if not run_times:
                return
            # One notice per stretch of skipped fires, not one per fire: a kernel-mode job waiting for a long cell
            # would print one a second into that cell. Each skipped fire is a skipped run in the history.
            first = job.id not in self._skipping
            self._skipping.add(job.id)
            self._logger.log(
                logging.WARNING if first else logging.DEBUG,
                'Execution of job "%s" skipped: maximum number of running instances reached (%d)%s',
                job,
                job.max_instances,
                "; until it runs again, further skipped fires are only recorded in its run history" if first else "",
            )
            reason = f"max_instances ({job.max_instances}) reached: the previous run had not ended"
            self._recorder.refused(job.id, run_times, reason)
            events.append(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, run_times))
        except PluginLookupError as exc:  # a job added before its executor (as APScheduler allows): kept
            self._logger.warning('Execution of job "%s" skipped: %s', job, exc.message)
            self._recorder.refused(job.id, run_times, exc.message)
        except Exception as exc:
            self._logger.exception('Error submitting job "%s" to executor "%s"', job, job.executor)
            self._recorder.refused(job.id, run_times, f"could not be submitted: {exc}")
        else:
            self._waiting.handed_over(job.id, at if at is not None else self._clock.now())
            if self._skipping:
                self._skipping.discard(job.id)
            if self._listener_mask & EVENT_JOB_SUBMITTED:
                events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times))


def _stays_paused(job: Job) -> bool:
    """Whether a claimed job with no next run time was paused again after a run_now (else it is done)."""
    return job.pause_after_run and (job.max_runs is None or job.run_count < job.max_runs)


def _mapping(owner: str, field: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(owner, field, value, "must be a dict of alias -> instance or config")
    return value


def _plugin_arg(value: Any, options: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return {"type": value, **options}
    return value
