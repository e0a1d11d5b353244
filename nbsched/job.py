"""The :class:`Job`: what to run, when, and how.

Jobs are created by the scheduler's ``add_job``/``scheduled_job`` and come back from ``get_job``/``get_jobs``.
The attributes and methods of APScheduler 3's ``Job`` are all here (``modify``, ``reschedule``, ``pause``,
``resume``, ``remove``, ``pending``, ``next_run_time``); :meth:`Job.to_dict` is the versioned, pickle-free
JSON state that stores and ``export_jobs`` keep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from nbsched import jsonstate
from nbsched.abc import Task, Trigger
from nbsched.datetimes import datetime_repr
from nbsched.exceptions import SerializationError, TransientJobError
from nbsched.jobargs import checked_changes, shared
from nbsched.refs import ref_problem, ref_to_obj, reference_problem
from nbsched.runs import new_run_id

if TYPE_CHECKING:
    from nbsched.abc import SchedulerAPI

__all__ = ["Job"]

#: version of the JSON state written by :meth:`Job.to_dict`
STATE_VERSION = 1


@attrs.define(kw_only=True, eq=False, repr=False)
class Job:
    """A scheduled job.

    :ivar id: the unique identifier of this job
    :ivar name: the description of this job
    :ivar func: the callable to execute
    :ivar func_ref: its ``module:qualname`` reference, or ``None`` when it has none (memory store only)
    :ivar tuple args: positional arguments to the callable
    :ivar dict kwargs: keyword arguments to the callable
    :ivar trigger: the trigger object that controls the schedule of this job
    :ivar executor: the name of the executor that will run this job
    :ivar misfire_grace_time: seconds after the designated run time that the job is still allowed to run
        (``None``: no matter how late)
    :ivar coalesce: whether to run only once when several run times are due at once
    :ivar max_instances: the maximum number of concurrently executing instances allowed for this job
    :ivar next_run_time: the next scheduled run time of this job (``None``: paused)
    :ivar max_runs: remove the job after this many fires were handed to its executor (``None``: no limit); a
        fire skipped because ``max_instances`` runs were still going counts, one missed past its grace time not
    :ivar retries: how many times a failed or lost run is tried again
    :ivar retry_backoff: seconds before the first retry, doubling for each further one
    :ivar run_count: how many times the job has been fired
    :ivar tags: free-form labels
    :ivar pause_after_run: set by ``run_now`` on a paused job: the fire it made due runs once, and the claim of
        that fire pauses the job again (any other change of ``next_run_time`` clears it)
    """

    id: str
    func: Callable[..., Any] | None
    func_ref: str | None
    trigger: Trigger
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = attrs.field(factory=dict)
    name: str = ""
    executor: str = "default"
    misfire_grace_time: float | None = None
    coalesce: bool = True
    max_instances: int = 1
    next_run_time: datetime | None = None
    max_runs: int | None = None
    retries: int = 0
    retry_backoff: float = 0.0
    run_count: int = 0
    tags: frozenset[str] = frozenset()
    #: the trigger will not fire again, but the job is kept until its last runs are done (retries)
    completed: bool = False
    pause_after_run: bool = False
    _scheduler: SchedulerAPI | None = attrs.field(default=None, alias="scheduler")
    _jobstore_alias: str | None = attrs.field(default=None, alias="jobstore_alias")
    _pending: bool = attrs.field(default=True, alias="pending")
    #: options given explicitly to add_job (the scheduler's job defaults do not override them)
    _explicit: frozenset[str] = attrs.field(factory=frozenset, alias="explicit")

    # ----------------------------------------------------------------------------------------------- creation
    @classmethod
    def create(
        cls,
        scheduler: Any,
        func: Any,
        trigger: Trigger,
        *,
        args: Any = None,
        kwargs: Any = None,
        id: Any = None,
        name: Any = None,
        owner: str = "add_job",
        **options: Any,
    ) -> Job:
        """Build a job from ``add_job``-style arguments, checking every one of them.

        :raises JobArgumentError: naming the first bad argument and its value
        """
        job = cls(id="", func=None, func_ref=None, trigger=trigger, scheduler=scheduler)
        changes: dict[str, Any] = {
            "id": new_run_id() if id is None else id,
            "func": func,
            "args": () if args is None else args,
            "kwargs": {} if kwargs is None else kwargs,
            "trigger": trigger,
        }
        if name is not None:
            changes["name"] = name
        changes.update(options)
        job._modify(owner=owner, **changes)
        job._explicit = shared(frozenset(options))
        return job

    # ------------------------------------------------------------------------------------------ contracts
    @property
    def task(self) -> Task:
        """What the job runs, as a :class:`~nbsched.abc.Task`: ``func`` itself for a notebook, a cell or another
        task kind; for a function, a :class:`~nbsched.tasks.FunctionTask` of ``func``, ``func_ref``, ``args`` and
        ``kwargs`` (made on each access; ``func`` and friends stay as APScheduler has them)."""
        func = self.func
        if isinstance(func, Task):
            return func
        from nbsched.tasks import FunctionTask

        assert func is not None
        return FunctionTask(func=func, func_ref=self.func_ref, args=self.args, kwargs=self.kwargs)

    @property
    def jobstore(self) -> str | None:
        """The alias of the job store holding this job (``None`` until it is added to one)."""
        return self._jobstore_alias

    # ----------------------------------------------------------------------------------- APScheduler 3 API
    @property
    def pending(self) -> bool:
        """``True`` until the job has been added to a job store (the scheduler has not started yet)."""
        return self._pending

    def modify(self, **changes: Any) -> Job:
        """Change attributes of this job and save it in its job store.

        :return: this job
        """
        assert self._scheduler is not None
        self._scheduler.modify_job(self.id, self._jobstore_alias, **changes)
        return self

    def reschedule(self, trigger: Any, **trigger_args: Any) -> Job:
        """Give this job a new trigger (an instance or an alias with its arguments)."""
        assert self._scheduler is not None
        self._scheduler.reschedule_job(self.id, self._jobstore_alias, trigger, **trigger_args)
        return self

    def pause(self) -> Job:
        """Stop this job from running until :meth:`resume` is called."""
        assert self._scheduler is not None
        self._scheduler.pause_job(self.id, self._jobstore_alias)
        return self

    def resume(self) -> Job:
        """Resume a paused job (or remove it when its trigger will not fire again)."""
        assert self._scheduler is not None
        self._scheduler.resume_job(self.id, self._jobstore_alias)
        return self

    def remove(self) -> None:
        """Remove this job from its job store."""
        assert self._scheduler is not None
        self._scheduler.remove_job(self.id, self._jobstore_alias)

    def _get_run_times(self, now: datetime) -> list[datetime]:
        """Every run time due by ``now`` (APScheduler 3's helper; bounded to 1,000 entries here)."""
        run_times: list[datetime] = []
        next_run_time = self.next_run_time
        while next_run_time is not None and next_run_time <= now and len(run_times) < 1000:
            run_times.append(next_run_time)
            next_run_time = self.trigger.get_next_fire_time(next_run_time, now)
        return run_times

    # ------------------------------------------------------------------------------------------ validation
    def _modify(self, owner: str = "modify_job", **changes: Any) -> None:
        """Check and apply ``changes``; nothing is applied when one of them is bad."""
        for key, value in checked_changes(self, owner, changes).items():
            setattr(self, key, value)

    # ---------------------------------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """The job's versioned JSON state (no pickle).

        :raises TransientJobError: when the callable has no ``module:qualname`` reference that another process
            can load (a lambda, a closure, anything of ``__main__``, a ``"__main__:f"`` string)
        :raises SerializationError: when an argument, or the trigger, cannot be stored as JSON
        """
        task = self.func.to_dict() if isinstance(self.func, Task) else None
        if task is None:
            # A "__main__:f" string resolves in this process only, as a __main__ function does: same refusal.
            problem = reference_problem(self.func) if self.func_ref is None else ref_problem(self.func_ref)
            if self.func_ref is None or problem is not None:
                raise TransientJobError(self.id, problem or "")
        owner = f"Job {self.id!r}"
        return {
            "version": STATE_VERSION,
            "id": self.id,
            "name": self.name,
            "func": self.func_ref,
            "task": task,
            "args": jsonstate.encode(list(self.args), owner, "args"),
            "kwargs": jsonstate.encode(self.kwargs, owner, "kwargs"),
            "trigger": self.trigger.to_dict(),
            **self.options_state(),
        }

    def options_state(self) -> dict[str, Any]:
        """The part of :meth:`to_dict` besides what to run and when (identity, task, trigger): the options, and
        the next run time, run count and completion that firing changes. JSON-safe."""
        return {
            "executor": self.executor,
            "misfire_grace_time": self.misfire_grace_time,
            "coalesce": self.coalesce,
            "max_instances": self.max_instances,
            "next_run_time": self.next_run_time.isoformat() if self.next_run_time else None,
            "max_runs": self.max_runs,
            "retries": self.retries,
            "retry_backoff": self.retry_backoff,
            "run_count": self.run_count,
            "completed": self.completed,
            "tags": sorted(self.tags),
            **({"pause_after_run": True} if self.pause_after_run else {}),  # only when set: exports unchanged
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any], scheduler: Any = None) -> Job:
        """Rebuild a job from :meth:`to_dict` output.

        :raises SerializationError: for state of a newer version or that does not parse
        :raises LookupError: when the callable's module or attribute no longer exists
        """
        from nbsched.triggers.base import trigger_from_dict

        version = state.get("version")
        if not isinstance(version, int) or version > STATE_VERSION:
            raise SerializationError(
                "Job", "version", version, f"is not supported (this nbsched reads up to {STATE_VERSION})"
            )
        func_ref = state.get("func")
        if state.get("task") is not None:
            func = task_from_dict(state["task"])
        elif isinstance(func_ref, str):
            func = ref_to_obj(func_ref)
        else:
            raise SerializationError("Job", "func", func_ref, "is neither a reference nor a task")
        next_run_time = state.get("next_run_time")
        return cls(
            id=state["id"],
            name=state["name"],
            func=cast(Any, func),  # a task sits where APScheduler keeps the callable
            func_ref=func_ref,
            args=tuple(jsonstate.decode(state.get("args", []))),
            kwargs=jsonstate.decode(state.get("kwargs", {})),
            trigger=trigger_from_dict(state["trigger"]),
            executor=state.get("executor", "default"),
            misfire_grace_time=state.get("misfire_grace_time"),
            coalesce=state.get("coalesce", True),
            max_instances=state.get("max_instances", 1),
            next_run_time=datetime.fromisoformat(next_run_time) if next_run_time else None,
            max_runs=state.get("max_runs"),
            retries=state.get("retries", 0),
            retry_backoff=state.get("retry_backoff", 0.0),
            run_count=state.get("run_count", 0),
            completed=state.get("completed", False),
            pause_after_run=state.get("pause_after_run", False),
            tags=shared(frozenset(state.get("tags", ()))),
            scheduler=scheduler,
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickling a job (to send it to another process) uses its JSON state, never the scheduler."""
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        job = Job.from_dict(state)
        for field in attrs.fields(Job):
            object.__setattr__(self, field.name, getattr(job, field.name))
        self._pending = False

    # ---------------------------------------------------------------------------------------------- text
    def __str__(self) -> str:
        if self._pending and "next_run_time" not in self._explicit:
            status = "pending"  # no next run time computed yet (APScheduler shows the same)
        elif self.next_run_time is not None:
            status = "next run at: " + datetime_repr(self.next_run_time)
        elif self.completed:
            status = "completed, last runs still retrying"
        else:
            status = "paused"
        return f"{self.name} (trigger: {self.trigger}, {status})"

    def __repr__(self) -> str:
        return f"<Job (id={self.id} name={self.name})>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Job):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)


def is_task(obj: Any) -> bool:
    """Whether ``obj`` is a task stored as its own JSON state (a :class:`~nbsched.abc.Task`: ``Notebook``,
    ``Cell``, a third-party kind) rather than a function stored by reference."""
    return isinstance(obj, Task)


def task_from_dict(state: Mapping[str, Any]) -> Task:
    """Rebuild a task from its ``to_dict()`` state, by its ``"type"`` (an alias under ``nbsched.tasks``).

    :raises SerializationError: when the state has no type, or the class registered for it is not a Task
    """
    from nbsched.plugins import load_plugin

    if not isinstance(state, Mapping) or "type" not in state:
        raise SerializationError("Job", "task", state, "has no 'type' key")
    cls = load_plugin("task", state["type"])
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise SerializationError(
            "Job", "task", state["type"], "is registered to a class that is not a nbsched.abc.Task"
        )
    return cls.from_dict(dict(state))
