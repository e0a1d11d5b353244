"""The job-management half of the scheduler API (add, modify, look up, print, export, import jobs).

A mixin of :class:`~nbsched.schedulers.base.BaseScheduler`, split out to keep modules small: it manages jobs in
the stores; the processing loop that runs them lives in :mod:`nbsched.schedulers.base`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbsched.abc import Trigger
from nbsched.events import (
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    JobEvent,
    SchedulerEvent,
)
from nbsched.exceptions import (
    InvalidArgumentError,
    JobArgumentError,
    JobLookupError,
    PluginLookupError,
    UnknownTriggerError,
)
from nbsched.job import Job, is_task
from nbsched.limits import check_fires
from nbsched.plugins import load_plugin
from nbsched.schedulers._core import STATE_RUNNING, STATE_STOPPED, SchedulerCore

if TYPE_CHECKING:
    pass

__all__ = ["JobsAPI", "undefined"]


_TAKES_TIMEZONE: dict[type, bool] = {}


def _takes_timezone(cls: type) -> bool:
    """Whether a trigger class has a ``timezone`` argument (cached: ``inspect.signature`` is slow)."""
    known = _TAKES_TIMEZONE.get(cls)
    if known is None:
        known = _TAKES_TIMEZONE[cls] = "timezone" in inspect.signature(cls).parameters
    return known


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"

    def __bool__(self) -> bool:  # as APScheduler's
        return False


#: marks an argument that was not given (so that job defaults apply)
undefined: Any = _Undefined()


class JobsAPI(SchedulerCore):
    """add_job, scheduled_job, modify/reschedule/pause/resume/remove, get_jobs (a piece of the scheduler, see
    :mod:`nbsched.schedulers._core`)."""

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

        Besides APScheduler's options: ``max_runs`` (remove the job after that many fires: see
        :class:`~nbsched.job.Job`), ``retries`` and ``retry_backoff`` (seconds before the first retry of a failed
        or lost run, doubling) and ``tags``.

        :raises JobArgumentError: naming the bad argument and its value (nothing is added)
        :raises PluginLookupError: (a ``KeyError``, as APScheduler's) for a job store this scheduler does not
            have; checked here once the scheduler runs, else by :meth:`start`, which also refuses an unknown
            executor. A running scheduler takes a job whose executor is added after it, as APScheduler does (its
            fires until then are skipped runs)
        :raises UnknownTriggerError: (a ``LookupError``, as APScheduler's) for an unknown trigger alias
        :raises TransientJobError: when the job goes to a persistent store and its callable cannot be stored by
            reference (lambda, closure, ``__main__``); before the scheduler starts too
        :raises SerializationError: when the job goes to a persistent store and its arguments or trigger
            cannot be stored as JSON
        :raises ConflictingIdError: when the id is taken and ``replace_existing`` is false
        """
        if not isinstance(replace_existing, bool):
            raise JobArgumentError("add_job", "replace_existing", replace_existing, "must be True or False")
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
        for extra in ("max_runs", "retries", "retry_backoff", "tags"):
            if extra in trigger_args:
                options[extra] = trigger_args.pop(extra)
        if executor == "default" and is_task(func):
            executor = func.default_executor  # notebooks and cells run on the notebook (or kernel) executor
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
        if "next_run_time" not in options:
            check_fires(job.trigger, self._clock.now(), "add_job")  # else it would be stored and never run
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                store = self._jobstores.get(jobstore)
                if store is not None and store.shared:
                    # A persistent store could not keep it: say so now rather than at start().
                    job.to_dict()
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
                func,
                trigger,
                args,
                kwargs,
                id,
                name,
                misfire_grace_time,
                coalesce,
                max_instances,
                next_run_time,
                jobstore,
                executor,
                True,
                **trigger_args,
            )
            return func

        return inner

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change attributes of a job (``func``, ``args``, ``trigger``, ``next_run_time``, ...).

        :raises JobLookupError: if the job was not found
        :raises JobArgumentError: for a bad change (the job is left as it was)
        :raises PluginLookupError: for an executor this running scheduler does not have
        """
        with self._jobstores_lock:
            job, alias = self._lookup_job(job_id, jobstore)
            executor = changes.get("executor")
            if self.state != STATE_STOPPED and isinstance(executor, str) and executor:
                self._check_executor(executor, "modify_job")
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
        new_trigger = self._create_trigger(trigger, trigger_args, "reschedule_job")
        next_run_time = new_trigger.get_next_fire_time(None, self._clock.now())
        return self.modify_job(job_id, jobstore, trigger=new_trigger, next_run_time=next_run_time)

    def pause_job(self, job_id: str, jobstore: str | None = None) -> Job:
        """Stop a job from running until :meth:`resume_job`."""
        return self.modify_job(job_id, jobstore, next_run_time=None)

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """Resume a paused job; a job whose trigger will not fire again is removed (returns ``None``)."""
        with self._jobstores_lock:
            job, alias = self._lookup_job(job_id, jobstore)
            # skip_to: the first fire from now on (a calendar trigger's first fire may lie in the past)
            next_run_time = job.trigger.skip_to(self._clock.now())
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

    def get_broken_jobs(self, jobstore: str | None = None) -> list[tuple[str, str, str]]:
        """Stored jobs that cannot be loaded (their module is gone, their state is newer or corrupt).

        They are kept in their store, never deleted, and run again once they can be loaded.

        :return: ``(job store alias, job id, reason)`` for each
        """
        with self._jobstores_lock:
            return [
                (alias, job_id, reason)
                for alias, store in self._jobstores.items()
                if jobstore in (None, alias)
                for job_id, reason in store.get_broken_jobs()
            ]

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

    # ------------------------------------------------------------------------------------------- internals
    def _lookup_job(self, job_id: str, jobstore_alias: str | None) -> tuple[Job, str | None]:
        if self.state == STATE_STOPPED:
            for job, alias, _ in self._pending_jobs:
                if job.id == job_id and jobstore_alias in (None, alias):
                    return job, None
        else:
            for alias, store in self._jobstores.items():
                if jobstore_alias in (None, alias):
                    found = store.lookup_job(job_id)
                    if found is not None:
                        return found, alias
        raise JobLookupError(job_id)

    def _create_trigger(self, trigger: Any, trigger_args: dict[str, Any], owner: str = "add_job") -> Trigger:
        if isinstance(trigger, Trigger):
            if trigger_args:
                name = next(iter(trigger_args))
                raise JobArgumentError(owner, name, trigger_args[name], f"is not an argument of {owner}")
            return trigger
        if trigger is None:
            trigger = "date"
        if not isinstance(trigger, str):
            raise JobArgumentError(owner, "trigger", trigger, "must be a trigger instance or a trigger alias")
        try:
            cls = load_plugin("trigger", trigger)
        except PluginLookupError as exc:
            raise UnknownTriggerError(owner, "trigger", trigger, f"is unknown: {exc.message}") from None
        if _takes_timezone(cls):  # and/or triggers have no zone of their own
            trigger_args.setdefault("timezone", self.timezone)
        try:
            return cls(**trigger_args)  # type: ignore[no-any-return]
        except InvalidArgumentError:
            raise
        except TypeError as exc:  # a third-party trigger that does not check its arguments itself
            raise JobArgumentError(
                owner, "trigger arguments", trigger_args, f"do not fit {cls.__name__}: {exc}"
            ) from None
