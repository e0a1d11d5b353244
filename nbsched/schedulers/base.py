"""All scheduling logic, shared by every scheduler flavour.

:class:`BaseScheduler` has APScheduler 3.11's whole public API. Its :meth:`~BaseScheduler._process_jobs` runs
the due jobs and returns the seconds until the next due time; the flavours (blocking, background, asyncio) only
wait that long, or until :meth:`~BaseScheduler.wakeup`, and call it again.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from threading import TIMEOUT_MAX
from typing import IO, Any

from nbsched.abc import Clock, Executor, JobStore, Trigger
from nbsched.clock import SystemClock
from nbsched.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_ADDED,
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
    PluginLookupError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    SerializationError,
)
from nbsched.job import Job
from nbsched.plugins import load_plugin
from nbsched.refs import maybe_ref
from nbsched.schedulers import _config
from nbsched.schedulers._catchup import plan_fires

__all__ = ["STATE_PAUSED", "STATE_RUNNING", "STATE_STOPPED", "BaseScheduler"]

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2

_JOB_OPTIONS = ("misfire_grace_time", "coalesce", "max_instances")


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"


#: marks an argument that was not given (so that job defaults apply)
undefined: Any = _Undefined()


class BaseScheduler(ABC):
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
        self._pending_jobs: list[tuple[Job, str, bool]] = []
        self._clock: Clock = SystemClock()
        # Processing passes started/finished, so a manual clock's advance() can wait for the pass it caused.
        self._passes_started = 0
        self._passes_done = 0
        self._passes_cond = threading.Condition()
        self.state = STATE_STOPPED
        self.configure(gconfig or {}, **options)

    def __getstate__(self) -> Any:
        raise TypeError(
            "Schedulers cannot be serialized. Ensure that you are not passing a scheduler instance as an argument "
            "to a job, or scheduling an instance method where the instance contains a scheduler as an attribute."
        )

    # ------------------------------------------------------------------------------------------ lifecycle
    def configure(self, gconfig: Mapping[str, Any] | None = None, prefix: str | None = "apscheduler.", **options: Any) -> None:
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
        known = _config.GENERAL_KEYS | {"clock"} | self._extra_options
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigurationError(
                owner, "option", unknown[0], f"is not a known option (known: {', '.join(sorted(known))})"
            )
        logger = maybe_ref(config.get("logger"))
        self._logger: logging.Logger = (
            logging.getLogger(logger) if isinstance(logger, str) else logger or logging.getLogger("nbsched.scheduler")
        )
        self.timezone: tzinfo = _config.timezone(owner, config.get("timezone"))
        self.jobstore_retry_interval = _config.retry_interval(owner, config.get("jobstore_retry_interval", 10))
        self._job_defaults = _config.job_defaults(owner, config.get("job_defaults", {}))
        if "clock" in config:
            self._clock = _config.clock(owner, config["clock"])
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
            for alias, executor in self._executors.items():
                executor.start(self, alias)
        with self._jobstores_lock:
            if "default" not in self._jobstores:
                self.add_jobstore(self._create_default_jobstore(), "default")
            for alias, store in self._jobstores.items():
                store.start(self, alias)
            for job, jobstore_alias, replace_existing in self._pending_jobs:
                self._real_add_job(job, jobstore_alias, replace_existing)
            del self._pending_jobs[:]
        self._clock.add_observer(self._on_clock_jump)
        self.state = STATE_PAUSED if paused else STATE_RUNNING
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
        with self._executors_lock, self._jobstores_lock:
            for executor in self._executors.values():
                executor.shutdown(wait)
            for store in self._jobstores.values():
                store.shutdown()
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

    def resume(self) -> None:
        """Resume job processing."""
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        if self.state == STATE_PAUSED:
            self.state = STATE_RUNNING
            self._logger.info("Resumed scheduler job processing")
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
            instance = _config.create_plugin(type(self).__name__, "executor", alias, _plugin_arg(executor, executor_opts))
            self._executors[alias] = instance
            if self.state != STATE_STOPPED:
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
        """Call ``callback(event)`` for every event whose code is in ``mask``."""
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

    def _dispatch_event(self, event: SchedulerEvent) -> None:
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

    # ------------------------------------------------------------------------------------------------ jobs
    def add_job(
        self,
        func: Any,
        trigger: Trigger | str | None = None,
        args: Any = None,
        kwargs: Any = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: Any = undefined,
        coalesce: Any = undefined,
        max_instances: Any = undefined,
        next_run_time: Any = undefined,
        jobstore: str = "default",
        executor: str = "default",
        replace_existing: bool = False,
        **trigger_args: Any,
    ) -> Job:
        """Add a job and wake the scheduler if it is running.

        ``func`` is a callable or a ``"package.module:function"`` reference. ``trigger`` is a trigger instance or
        an alias (``"date"`` when omitted, ``"cron"``, ``"interval"``, ``"calendarinterval"``, ``"and"``,
        ``"or"``) whose arguments come as extra keyword arguments. Options left ``undefined`` take the
        scheduler's job defaults. ``next_run_time=None`` adds the job paused. With ``replace_existing``, a job
        with the same id is replaced; when its trigger is unchanged its stored next run time is kept, so fires
        missed while nothing ran are still caught up.

        Besides APScheduler's options: ``max_runs`` (remove the job after that many runs) and ``tags``.

        :raises JobArgumentError: naming the bad argument and its value (nothing is added)
        :raises ConflictingIdError: when the id is taken and ``replace_existing`` is false
        """
        options = {
            key: value
            for key, value in (
                ("misfire_grace_time", misfire_grace_time),
                ("coalesce", coalesce),
                ("max_instances", max_instances),
                ("next_run_time", next_run_time),
            )
            if value is not undefined
        }
        for extra in ("max_runs", "tags"):
            if extra in trigger_args:
                options[extra] = trigger_args.pop(extra)
        for field, value in (("jobstore", jobstore), ("executor", executor)):
            if not isinstance(value, str) or not value:
                raise JobArgumentError("add_job", field, value, "must be an alias (a non-empty string)")
        job = Job.create(
            self,
            func,
            self._create_trigger(trigger, trigger_args),
            args=args,
            kwargs=kwargs,
            id=id,
            name=name,
            executor=executor,
            **options,
        )
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                self._pending_jobs.append((job, jobstore, replace_existing))
                self._logger.info("Adding job tentatively -- it will be properly scheduled when the scheduler starts")
            else:
                self._real_add_job(job, jobstore, replace_existing)
        return job

    def scheduled_job(
        self,
        trigger: Trigger | str | None,
        args: Any = None,
        kwargs: Any = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: Any = undefined,
        coalesce: Any = undefined,
        max_instances: Any = undefined,
        next_run_time: Any = undefined,
        jobstore: str = "default",
        executor: str = "default",
        **trigger_args: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator version of :meth:`add_job`; returns the function unchanged."""

        def inner(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add_job(
                func, trigger, args, kwargs, id, name, misfire_grace_time, coalesce, max_instances,
                next_run_time, jobstore, executor, True, **trigger_args,
            )
            return func

        return inner

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change attributes of a job (``func``, ``args``, ``trigger``, ``next_run_time``, ...).

        :raises JobLookupError: if the job was not found
        :raises JobArgumentError: for a bad change (the job is left as it was)
        """
        with self._jobstores_lock:
            job, alias = self._lookup_job(job_id, jobstore)
            job._modify(**changes)
            if alias is not None:
                self._lookup_jobstore(alias).update_job(job)
        self._dispatch_event(JobEvent(EVENT_JOB_MODIFIED, job_id, alias))
        if self.state == STATE_RUNNING:
            self.wakeup()
        return job

    def reschedule_job(
        self, job_id: str, jobstore: str | None = None, trigger: Trigger | str | None = None, **trigger_args: Any
    ) -> Job:
        """Give a job a new trigger and compute its next run time from it."""
        new_trigger = self._create_trigger(trigger, trigger_args)
        next_run_time = new_trigger.get_next_fire_time(None, self._clock.now())
        return self.modify_job(job_id, jobstore, trigger=new_trigger, next_run_time=next_run_time)

    def pause_job(self, job_id: str, jobstore: str | None = None) -> Job:
        """Stop a job from running until :meth:`resume_job`."""
        return self.modify_job(job_id, jobstore, next_run_time=None)

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """Resume a paused job; a job whose trigger will not fire again is removed (returns ``None``)."""
        with self._jobstores_lock:
            job, alias = self._lookup_job(job_id, jobstore)
            next_run_time = job.trigger.get_next_fire_time(None, self._clock.now())
            if next_run_time is None:
                self.remove_job(job_id, alias)
                return None
            return self.modify_job(job_id, alias, next_run_time=next_run_time)

    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]:
        """Every job (of one job store, if given), pending ones first while the scheduler is stopped.

        :param pending: ignored; kept for APScheduler compatibility
        """
        with self._jobstores_lock:
            jobs = [job for job, alias, _ in self._pending_jobs if jobstore in (None, alias)]
            for alias, store in self._jobstores.items():
                if jobstore in (None, alias):
                    jobs.extend(store.get_all_jobs())
            return jobs

    def get_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """The job with that id, or ``None``."""
        try:
            return self._lookup_job(job_id, jobstore)[0]
        except JobLookupError:
            return None

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        """Remove a job, so it will not run any more.

        :raises JobLookupError: if the job was not found
        """
        alias: str | None = None
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                for index, (job, pending_alias, _) in enumerate(self._pending_jobs):
                    if job.id == job_id and jobstore in (None, pending_alias):
                        del self._pending_jobs[index]
                        alias = pending_alias
                        break
            else:
                for store_alias, store in self._jobstores.items():
                    if jobstore in (None, store_alias):
                        try:
                            store.remove_job(job_id)
                        except JobLookupError:
                            continue
                        alias = store_alias
                        break
        if alias is None:
            raise JobLookupError(job_id)
        self._dispatch_event(JobEvent(EVENT_JOB_REMOVED, job_id, alias))
        self._logger.info("Removed job %s", job_id)

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        """Remove every job (of one job store, if given)."""
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                self._pending_jobs = [entry for entry in self._pending_jobs if jobstore not in (None, entry[1])]
            else:
                for alias, store in self._jobstores.items():
                    if jobstore in (None, alias):
                        store.remove_all_jobs()
        self._dispatch_event(SchedulerEvent(EVENT_ALL_JOBS_REMOVED, jobstore))

    def print_jobs(self, jobstore: str | None = None, out: IO[str] | None = None) -> None:
        """Print the jobs, in APScheduler 3's layout, to ``out`` (default ``sys.stdout``)."""
        out = out or sys.stdout
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                print("Pending jobs:", file=out)
                pending = [job for job, alias, _ in self._pending_jobs if jobstore in (None, alias)]
                for job in pending:
                    print(f"    {job}", file=out)
                if not pending:
                    print("    No pending jobs", file=out)
            else:
                for alias, store in sorted(self._jobstores.items()):
                    if jobstore in (None, alias):
                        print(f"Jobstore {alias}:", file=out)
                        jobs = store.get_all_jobs()
                        for job in jobs:
                            print(f"    {job}", file=out)
                        if not jobs:
                            print("    No scheduled jobs", file=out)

    def export_jobs(self, outfile: str | IO[str], jobstore: str | None = None) -> None:
        """Write the jobs as JSON (``{"version": 1, "jobs": [...]}``; no pickle) to a path or text file.

        :raises TransientJobError: for a job whose callable has no textual reference
        :raises SerializationError: for a job whose arguments are not JSON-serialisable
        """
        document = {"version": 1, "jobs": [job.to_dict() for job in self.get_jobs(jobstore)]}
        with _open(outfile, "w") as handle:
            json.dump(document, handle, indent=2)

    def import_jobs(self, infile: str | IO[str], jobstore: str = "default") -> None:
        """Add the jobs of an :meth:`export_jobs` document (replacing jobs with the same ids)."""
        with _open(infile, "r") as handle:
            try:
                document = json.load(handle)
            except json.JSONDecodeError as exc:
                raise SerializationError("import_jobs", "infile", str(infile), f"is not JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
            raise SerializationError("import_jobs", "infile", str(infile), 'has no "jobs" list')
        jobs = [Job.from_dict(state, self) for state in document["jobs"]]
        with self._jobstores_lock:
            for job in jobs:
                job._explicit = frozenset((*_JOB_OPTIONS, "next_run_time"))
                if self.state == STATE_STOPPED:
                    self._pending_jobs.append((job, jobstore, True))
                else:
                    self._real_add_job(job, jobstore, True)

    # ------------------------------------------------------------------------------------------- internals
    def _create_default_executor(self) -> Executor:
        from nbsched.executors.pool import ThreadPoolExecutor

        return ThreadPoolExecutor()

    def _create_default_jobstore(self) -> JobStore:
        from nbsched.jobstores.memory import MemoryJobStore

        return MemoryJobStore()

    def _create_lock(self) -> Any:
        return threading.RLock()

    def _lookup_executor(self, alias: str) -> Executor:
        try:
            return self._executors[alias]
        except KeyError:
            raise PluginLookupError("executor", alias, list(self._executors)) from None

    def _lookup_jobstore(self, alias: str) -> JobStore:
        try:
            return self._jobstores[alias]
        except KeyError:
            raise PluginLookupError("job store", alias, list(self._jobstores)) from None

    def _lookup_job(self, job_id: str, jobstore_alias: str | None) -> tuple[Job, str | None]:
        if self.state == STATE_STOPPED:
            for job, alias, _ in self._pending_jobs:
                if job.id == job_id and jobstore_alias in (None, alias):
                    return job, None
        else:
            for alias, store in self._jobstores.items():
                if jobstore_alias in (None, alias):
                    job = store.lookup_job(job_id)
                    if job is not None:
                        return job, alias
        raise JobLookupError(job_id)

    def _create_trigger(self, trigger: Any, trigger_args: dict[str, Any]) -> Trigger:
        if isinstance(trigger, Trigger):
            if trigger_args:
                name = next(iter(trigger_args))
                raise JobArgumentError("add_job", name, trigger_args[name], "is not an add_job argument")
            return trigger
        if trigger is None:
            trigger = "date"
        if not isinstance(trigger, str):
            raise JobArgumentError("add_job", "trigger", trigger, "must be a trigger instance or a trigger alias")
        try:
            cls = load_plugin("trigger", trigger)
        except PluginLookupError as exc:
            raise JobArgumentError("add_job", "trigger", trigger, f"is unknown: {exc}") from None
        trigger_args.setdefault("timezone", self.timezone)
        try:
            return cls(**trigger_args)  # type: ignore[no-any-return]
        except InvalidArgumentError:
            raise
        except TypeError as exc:
            raise JobArgumentError("add_job", "trigger arguments", trigger_args, f"do not fit {cls.__name__}: {exc}") from None

    def _real_add_job(self, job: Job, jobstore_alias: str, replace_existing: bool) -> None:
        explicit = job._explicit
        defaults = {key: getattr(self._job_defaults, key) for key in _JOB_OPTIONS if key not in explicit}
        if defaults:
            job._modify(**defaults)
        if "next_run_time" not in explicit:
            job.next_run_time = job.trigger.get_next_fire_time(None, self._clock.now())
        store = self._lookup_jobstore(jobstore_alias)
        try:
            store.add_job(job)
        except ConflictingIdError:
            if not replace_existing:
                raise
            existing = store.lookup_job(job.id)
            if existing is not None and "next_run_time" not in explicit and existing.trigger == job.trigger:
                # Same schedule: keep the stored next run time so fires missed while stopped are caught up.
                job.next_run_time = existing.next_run_time
                job.run_count = existing.run_count
            store.update_job(job)
        job._jobstore_alias = jobstore_alias
        job._pending = False
        self._dispatch_event(JobEvent(EVENT_JOB_ADDED, job.id, jobstore_alias))
        self._logger.info('Added job "%s" to job store "%s"', job.name, jobstore_alias)
        if self.state == STATE_RUNNING:
            self.wakeup()

    def _process_jobs(self) -> float | None:
        """Run every due job; return the seconds until the next due time (``None``: nothing scheduled)."""
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
        next_wakeup: datetime | None = None
        events: list[SchedulerEvent] = []
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    due_jobs = store.get_due_jobs(now)
                except Exception as exc:
                    self._logger.warning("Error getting due jobs from job store %r: %s", alias, exc)
                    retry = now + timedelta(seconds=self.jobstore_retry_interval)
                    next_wakeup = retry if next_wakeup is None else min(next_wakeup, retry)
                    continue
                for job in due_jobs:
                    self._fire(job, alias, store, now, events)
                try:
                    store_next = store.get_next_run_time()
                except Exception as exc:
                    self._logger.warning("Error asking job store %r for its next run time: %s", alias, exc)
                    store_next = now + timedelta(seconds=self.jobstore_retry_interval)
                if store_next is not None and (next_wakeup is None or store_next < next_wakeup):
                    next_wakeup = store_next
        for event in events:
            self._dispatch_event(event)
        if self.state == STATE_PAUSED or next_wakeup is None:
            return None
        wait = (next_wakeup - self._clock.now()).total_seconds()
        return min(max(wait, 0.0), TIMEOUT_MAX)

    def _fire(self, job: Job, alias: str, store: JobStore, now: datetime, events: list[SchedulerEvent]) -> None:
        """Claim one due job's fire in its store, then submit it: whoever loses the claim moves on."""
        try:
            executor = self._lookup_executor(job.executor)
        except PluginLookupError:
            self._logger.error('Executor lookup ("%s") failed for job "%s" -- removing it from the job store', job.executor, job)
            self.remove_job(job.id, alias)
            return
        expected = job.next_run_time
        assert expected is not None
        try:
            plan = plan_fires(
                job.trigger, expected, now, coalesce=job.coalesce, misfire_grace_time=job.misfire_grace_time
            )
        except Exception:
            self._logger.exception('Trigger of job "%s" failed; pausing the job', job)
            plan = None
        fired = len(plan.run_times) if plan else 0
        next_run_time = plan.next_run_time if plan else None
        if job.max_runs is not None and job.run_count + fired >= job.max_runs:
            next_run_time = None
        job.next_run_time = next_run_time
        job.run_count += fired
        if not store.claim_job(job, expected):
            job.next_run_time = expected
            job.run_count -= fired
            return  # another scheduler claimed this fire
        if plan is None:
            return  # stored with no next run time: paused until someone fixes or resumes it
        if next_run_time is None:
            # The trigger is done (a date job after its run) or max_runs is reached.
            store.remove_job(job.id)
            events.append(JobEvent(EVENT_JOB_REMOVED, job.id, alias))
        for run_time in plan.missed:
            self._logger.warning('Run time of job "%s" was missed by %s', job, now - run_time)
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
        if plan.skipped:
            self._logger.warning('Job "%s" missed more fire times than are caught up; ran the latest ones', job)
        if not plan.run_times:
            return
        try:
            executor.submit_job(job, plan.run_times)
        except MaxInstancesReachedError:
            self._logger.warning(
                'Execution of job "%s" skipped: maximum number of running instances reached (%d)', job, job.max_instances
            )
            events.append(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, plan.run_times))
        except Exception:
            self._logger.exception('Error submitting job "%s" to executor "%s"', job, job.executor)
        else:
            if self._listener_mask & EVENT_JOB_SUBMITTED:
                events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, plan.run_times))


def _mapping(owner: str, field: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(owner, field, value, "must be a dict of alias -> instance or config")
    return value


def _plugin_arg(value: Any, options: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return {"type": value, **options}
    return value


@contextmanager
def _open(target: str | IO[str], mode: str) -> Iterator[IO[str]]:
    if isinstance(target, str):
        with open(target, mode, encoding="utf-8") as handle:
            yield handle
    else:
        yield target
