"""The extension points of nbsched, each an abstract class whose docstring is its contract.

Plugins register under the entry-point groups ``nbsched.triggers``, ``nbsched.executors``,
``nbsched.jobstores`` and ``nbsched.tasks``; the alias is the entry point's name (``add_job(f, "interval",
seconds=2)``). Optional hooks are concrete no-ops or generic defaults that a subclass may override.

Between the scheduler and an executor, each run is a :class:`RunContext`; what a job runs is a :class:`Task`
(a notebook, a cell, a function reference, or a third-party kind).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from nbsched.exceptions import ConflictingIdError, JobLookupError
from nbsched.outcome import CancelSignal, OutcomeStatus, RunOutcome

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Self

    from nbsched.events import SchedulerEvent
    from nbsched.job import Job
    from nbsched.jobstores.runtable import RunTable
    from nbsched.liveness import SchedulerInfo
    from nbsched.masking import Masker
    from nbsched.runs import Run, RunFilter

__all__ = [
    "CancelSignal",
    "Clock",
    "Executor",
    "ExecutorHost",
    "JobStore",
    "OutcomeStatus",
    "RunContext",
    "RunOutcome",
    "SchedulerAPI",
    "Task",
    "TaskSummary",
    "Trigger",
]


class Clock(ABC):
    """Where a scheduler reads the time and learns how long to wait.

    - :meth:`now` returns an aware datetime; successive calls never go backwards.
    - :meth:`wait_timeout` turns a wait measured on this clock into a real-time timeout for
      ``threading.Event.wait``/``asyncio.wait_for``; ``None`` means "until woken".
    - A clock that jumps (a manual clock) calls every observer after each jump, so waiters wake and re-read it.
    """

    @abstractmethod
    def now(self) -> datetime:
        """The current instant, timezone-aware."""

    def wait_timeout(self, seconds: float | None) -> float | None:
        """Real seconds to wait for ``seconds`` of this clock's time (``None``: until woken)."""
        return seconds

    def add_observer(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` whenever the clock jumps. The real clock never jumps: no-op."""

    def remove_observer(self, callback: Callable[[], Any]) -> None:
        """Stop calling ``callback``. No-op where :meth:`add_observer` is one."""


class SchedulerAPI(Protocol):
    """What the data layer (a :class:`~nbsched.job.Job`, a :class:`JobStore`) may ask of the scheduler it is
    bound to: the public methods behind ``job.modify()``, ``job.pause()`` and the like, and :meth:`wakeup` for a
    store that learns of changes made elsewhere; nothing else.

    Every nbsched scheduler (and APScheduler 3's, whose methods have the same names) satisfies it; the data
    modules type against this protocol so that they never import :mod:`nbsched.schedulers`.
    """

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change attributes of a job; see the scheduler's method."""
        ...

    def reschedule_job(
        self, job_id: str, jobstore: str | None = None, trigger: Trigger | str | None = None, **trigger_args: Any
    ) -> Job:
        """Give a job a new trigger; see the scheduler's method."""
        ...

    def pause_job(self, job_id: str, jobstore: str | None = None) -> Job:
        """Stop a job from running until it is resumed."""
        ...

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """Resume a paused job (``None``: it will not fire again and was removed)."""
        ...

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        """Remove a job."""
        ...

    def wakeup(self) -> None:
        """Look at the job stores again now (a store calls it when another process changed them)."""
        ...


class ExecutorHost(SchedulerAPI, Protocol):
    """What an :class:`Executor` may ask of the scheduler that starts it: the run contexts of the runs it is given,
    and the jobs (to get ready for them ahead of their runs, as the notebook executor starts kernels); nothing else.
    Every nbsched scheduler satisfies it."""

    def run_contexts(
        self, job: Job, run_times: list[datetime], on_finished: Callable[[RunContext], Any] | None = None
    ) -> list[RunContext]:
        """One :class:`RunContext` per run of ``job`` for ``run_times`` (as given to ``submit_job``).

        :param on_finished: called with each context once its run has ended (before its event is dispatched)
        """
        ...

    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]:
        """Every job (of one store), earliest next run first."""
        ...


class Trigger(ABC):
    """Decides when a job fires.

    Contract:

    - :meth:`get_next_fire_time` is pure: it never reads the clock and depends only on its arguments and the
      trigger's own fields (``jitter`` adds random delay, as in APScheduler 3). It returns an aware datetime
      strictly after ``previous_fire_time`` (when given), or ``None`` when the trigger will never fire again.
    - Searches are bounded: when no fire time can be found within the trigger's search horizon it returns
      ``None`` or raises :class:`~nbsched.exceptions.TriggerSearchError`, never loops forever.
    - Invalid arguments raise :class:`~nbsched.exceptions.TriggerArgumentError` from the constructor, naming
      the class, the field and the value.
    - :meth:`to_dict` returns JSON-safe state with ``"type"`` (the plugin alias) and ``"version"``;
      ``cls.from_dict(trigger.to_dict())`` equals the trigger. Only persistent job stores (and
      ``export_jobs``) need them: a trigger written for APScheduler, with only :meth:`get_next_fire_time`,
      works with the memory store, and a persistent store refuses it with
      :class:`~nbsched.exceptions.SerializationError`.
    - ``str(trigger)`` is APScheduler 3's form (``cron[hour='9']``); ``repr`` shows only the fields that were
      set; :meth:`describe` is for people (``every weekday at 09:00 (Europe/Berlin)``).
    """

    #: the plugin alias under ``nbsched.triggers`` and the ``"type"`` in :meth:`to_dict`
    alias: ClassVar[str] = ""

    @abstractmethod
    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The next fire time after ``previous_fire_time``, or the first one at/after ``now`` when that is None.

        :param previous_fire_time: the previous fire time, or ``None`` when the job has not fired yet
        :param now: the current instant (aware)
        """

    def skip_to(self, now: datetime) -> datetime | None:
        """The first fire time at or after ``now``, as if every earlier one had been used.

        Used to catch up after a long stop without walking every missed fire time (cost independent of how
        many were missed). The default asks :meth:`get_next_fire_time` with no previous fire time, which is
        right for triggers whose fire times lie on a fixed grid (cron, interval). Others override it.
        """
        return self.get_next_fire_time(None, now)

    def describe(self) -> str:
        """A short text for people: ``every 5 minutes``, ``at 09:00 on weekdays (Europe/Berlin)``."""
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state with ``"type"`` and ``"version"`` keys.

        Not abstract, so that triggers written for APScheduler 3 (which has no such method) can be created and
        used with the memory store. The default refuses.

        :raises SerializationError: naming the trigger class, when it does not override this
        """
        from nbsched.exceptions import SerializationError

        cls = type(self)
        raise SerializationError(
            cls.__name__,
            "trigger",
            f"{cls.__module__}:{cls.__qualname__}",
            "has no to_dict(), so it cannot be stored in a persistent job store; give it to_dict() and"
            " from_dict() (see nbsched.abc.Trigger) or use the memory store",
        )

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_dict` output.

        :raises SerializationError: for state of an unknown (newer) version; by default (a trigger that does
            not override it), always
        """
        from nbsched.exceptions import SerializationError

        raise SerializationError(
            cls.__name__,
            "trigger",
            f"{cls.__module__}:{cls.__qualname__}",
            "has no from_dict(), so it cannot be loaded from a job store; give it to_dict() and from_dict()"
            " (see nbsched.abc.Trigger)",
        )

    def _apply_jitter(self, next_fire_time: datetime | None, jitter: float | None, now: datetime) -> datetime | None:
        """APScheduler 3's helper for custom triggers: ``next_fire_time`` delayed by a random 0..``jitter``
        seconds (``now`` is unused, as in APScheduler)."""
        from nbsched.triggers.base import apply_jitter

        return apply_jitter(next_fire_time, jitter)


class JobStore(ABC):
    """Keeps jobs and hands the scheduler the due ones.

    Contract:

    - Jobs come back from every method as :class:`~nbsched.job.Job` objects bound to the store's scheduler,
      ordered by ``next_run_time`` ascending with paused jobs (``next_run_time is None``) last.
    - :meth:`add_job` raises :class:`~nbsched.exceptions.ConflictingIdError` for an existing id;
      :meth:`update_job` and :meth:`remove_job` raise :class:`~nbsched.exceptions.JobLookupError` for a
      missing one.
    - :meth:`claim_job` is the exactly-once primitive: it stores ``job`` only if the stored job's
      ``next_run_time`` still equals ``expected_next_run_time`` and says whether it did. A store shared by
      several schedulers must make this one atomic conditional write.
    - A stored job that cannot be loaded is kept and reported (logged, listed), never deleted.
    """

    _scheduler: SchedulerAPI | None = None
    _alias: str | None = None
    #: whether several schedulers (processes, machines) may share this store
    shared: bool = False

    def start(self, scheduler: SchedulerAPI, alias: str) -> None:
        """Called by the scheduler when it starts or when the store is added to a running scheduler."""
        self._scheduler = scheduler
        self._alias = alias

    def shutdown(self) -> None:
        """Free resources. Called when the scheduler shuts down or the store is removed."""

    @abstractmethod
    def lookup_job(self, job_id: str) -> Job | None:
        """The job with this id, or ``None``."""

    @abstractmethod
    def get_due_jobs(self, now: datetime) -> list[Job]:
        """Jobs whose ``next_run_time`` is at or before ``now``, earliest first."""

    @abstractmethod
    def get_next_run_time(self) -> datetime | None:
        """The earliest ``next_run_time`` of any job, or ``None``."""

    @abstractmethod
    def get_all_jobs(self) -> list[Job]:
        """Every job, earliest first, paused ones last."""

    @abstractmethod
    def add_job(self, job: Job) -> None:
        """Store a new job."""

    def add_jobs(self, jobs: list[Job]) -> list[str]:
        """Store several new jobs at once (one transaction in a persistent store); a job whose id is taken
        is left out, and its id returned, so the caller can decide (replace it, or raise).

        :return: the ids that were already stored
        """
        conflicts: list[str] = []
        for job in jobs:
            try:
                self.add_job(job)
            except ConflictingIdError:
                conflicts.append(job.id)
        return conflicts

    @abstractmethod
    def update_job(self, job: Job) -> None:
        """Replace the stored job with the same id."""

    @abstractmethod
    def remove_job(self, job_id: str) -> None:
        """Delete the job with this id."""

    @abstractmethod
    def remove_all_jobs(self) -> None:
        """Delete every job."""

    def claim_job(self, job: Job, expected_next_run_time: datetime | None) -> bool:
        """Store ``job`` iff the stored copy's ``next_run_time`` is still ``expected_next_run_time``.

        The default is correct for a store used by one scheduler (reads then writes under the scheduler's
        lock); shared stores override it with one conditional write.
        """
        current = self.lookup_job(job.id)
        if current is None or current.next_run_time != expected_next_run_time:
            return False
        try:
            self.update_job(job)
        except JobLookupError:
            return False
        return True

    def claim_jobs(self, claims: list[tuple[Job, datetime | None, list[Run]]]) -> list[bool]:
        """Claim several fires at once: for each ``(job, expected_next_run_time, runs)`` do :meth:`claim_job`
        and, when it succeeds, :meth:`add_run` for each run. One transaction in a persistent store.

        :return: for each claim, whether this caller won it
        """
        results = []
        for job, expected, runs in claims:
            won = self.claim_job(job, expected)
            if won:
                for run in runs:
                    self.add_run(run)
            results.append(won)
        return results

    def get_broken_jobs(self) -> list[tuple[str, str]]:
        """``(job id, reason)`` of stored jobs that cannot be loaded (kept, never deleted). None in memory."""
        return []

    def changed_since_last_check(self) -> bool:
        """Whether another process changed the stored jobs or runs since the last call (cheap; shared stores).

        The scheduler asks this at a bounded interval while it sleeps, so jobs added elsewhere are noticed
        without a tight polling loop. A store only this process writes never changes behind its back.
        """
        return False

    #: seconds between :meth:`changed_since_last_check` calls while idle (``None``: never ask)
    change_check_interval: float | None = None

    # ----------------------------------------------------------------------------------------- run history
    # Every store has a run history. The default keeps it in this process's memory (enough for the memory
    # store and for third-party stores written against APScheduler); persistent stores override all of these.
    _run_table: RunTable | None = None

    @property
    def _runs(self) -> RunTable:
        if self._run_table is None:
            from nbsched.jobstores.runtable import RunTable

            self._run_table = RunTable()
        return self._run_table

    def add_run(self, run: Run) -> bool:
        """Record a new run; ``False`` (and nothing stored) when ``(job_id, scheduled_at)`` is recorded already."""
        return self._runs.add(run)

    def update_run(self, run: Run) -> None:
        """Store the run's current state (matched by ``id``); a run stored as ``cancelled`` is left as it is."""
        self._runs.update(run)

    def update_runs(self, runs: list[Run]) -> None:
        """Store several runs' current state (one transaction in a persistent store)."""
        if type(self).update_run is JobStore.update_run:  # the default history: the batch under one lock
            self._runs.update_many(runs)
            return
        for run in runs:
            self.update_run(run)

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or ``None``."""
        return self._runs.get(run_id)

    def get_runs(self, run_filter: RunFilter) -> list[Run]:
        """Runs matching the filter, newest ``scheduled_at`` first."""
        return self._runs.query(run_filter)

    def heartbeat_runs(self, run_ids: list[str], at: datetime) -> list[str]:
        """Record that these scheduled or running runs are alive at ``at``.

        :return: the ids among them that are no longer scheduled or running here (cancelled by someone, or
            gone): their worker stops them
        """
        return self._runs.heartbeat(run_ids, at)

    def cancel_run(self, run_id: str, at: datetime, reason: str) -> Run | None:
        """Mark a scheduled or running run ``cancelled`` (finished at ``at``, error ``Cancelled: reason``).

        A cancelled run stays cancelled: later updates of it (its worker recording the outcome) leave it so.
        Shared stores make this one conditional write.

        :return: the run as cancelled, or ``None`` when there is no such run or it has finished
        """
        return self._runs.cancel(run_id, at, reason)

    def mark_lost_runs(self, stale_before: datetime, now: datetime) -> list[Run]:
        """Mark ``lost`` every ``scheduled`` or ``running`` run whose last heartbeat is before ``stale_before``
        (its worker died, before or while running it); return them. Each is marked by
        :func:`nbsched.runs.mark_run_lost`: finished at its last heartbeat, error ``WorkerLost`` naming the
        worker and that heartbeat.

        Shared stores make this a conditional update so that two schedulers never both take the same run.
        """
        return self._runs.mark_lost(stale_before, now)

    def delete_runs(self, run_ids: list[str]) -> None:
        """Delete these runs."""
        self._runs.delete(run_ids)

    def prune_runs(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        """Delete finished runs beyond the newest ``keep_last`` per job or scheduled before ``older_than``.

        :return: the deleted runs (so their output files can be removed too)
        """
        return self._runs.prune(keep_last, older_than)

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Those of ``run_ids`` the store still holds (in any status). Callers pass bounded batches; a persistent
        store answers each with one query, so a scheduler can tell which run-output folders on its disk belong
        to runs that are gone (pruned or deleted by another process)."""
        return {run_id for run_id in run_ids if self.get_run(run_id) is not None}

    def last_runs(self, job_ids: Collection[str] | None = None) -> dict[str, Run]:
        """The latest run (newest ``scheduled_at``) of each of ``job_ids`` that has one (``None``: of every job
        with runs), by job id. A persistent store answers with ONE query, however many jobs: the faces list
        jobs with their last run through this."""
        from nbsched.runs import RunFilter

        latest: dict[str, Run] = {}
        if job_ids is not None:  # the default history is in memory and indexed by job: one lookup each
            for job_id in dict.fromkeys(job_ids):
                found = self.get_runs(RunFilter(job_id=job_id, limit=1))
                if found:
                    latest[job_id] = found[0]
            return latest
        for run in self.get_runs(RunFilter()):  # newest first: the first of each job is its latest
            latest.setdefault(run.job_id, run)
        return latest

    # ------------------------------------------------------------------------------------ scheduler liveness
    # Schedulers running jobs over a store say so here (see nbsched.liveness). The default keeps the rows in this
    # process's memory: right for the memory store, which only this process's schedulers can use.
    _scheduler_rows: dict[str, SchedulerInfo] | None = None

    def record_scheduler(self, info: SchedulerInfo) -> None:
        """Insert or replace the liveness row of scheduler ``info.id`` (its start and each heartbeat).

        A persistent store may also delete rows of schedulers not heard of for a long time (a day or more)."""
        if self._scheduler_rows is None:
            self._scheduler_rows = {}
        self._scheduler_rows[info.id] = info

    def remove_scheduler(self, scheduler_id: str) -> None:
        """Delete the liveness row of this scheduler (its clean shutdown); no error when there is none."""
        if self._scheduler_rows is not None:
            self._scheduler_rows.pop(scheduler_id, None)

    def live_schedulers(self, alive_since: datetime) -> list[SchedulerInfo]:
        """The schedulers whose latest heartbeat is at or after ``alive_since``, oldest start first (one query).

        Who runs jobs over this store now: those with ``runs_jobs``. A scheduler that died without shutting down
        stops beating and drops out once ``alive_since`` passes its last heartbeat."""
        rows = list((self._scheduler_rows or {}).values())
        return sorted((row for row in rows if row.heartbeat_at >= alive_since), key=lambda row: row.started_at)

    @property
    def store_id(self) -> str | None:
        """A name of the database this store keeps its jobs and runs in, the same in every process that opens it
        (no secret in it); ``None`` for a store only this process sees (the default, as the memory store's).

        Run-output folders are marked with it, so that a scheduler deletes the folders of its own store's runs
        only, never those of another store that writes to the same data dir."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class Executor(ABC):
    """Runs due jobs.

    Contract:

    - :meth:`submit_job` is the scheduler's entry (as in APScheduler 3). It returns quickly (it hands the work to
      a pool, loop or cluster) or raises :class:`~nbsched.exceptions.MaxInstancesReachedError` when
      ``job.max_instances`` runs of the job are already under way.
    - For each run it takes, an executor asks the scheduler for the run's :class:`RunContext`
      (``scheduler.run_contexts(job, run_times)``, public) and reports the run's life through it alone: call
      :meth:`RunContext.started` just before the run starts (``False``: do not run it; the context has recorded
      why), then :meth:`RunContext.finished` exactly once with its :class:`RunOutcome`. A failing job never raises
      out of the executor. The context dispatches APScheduler's ``EVENT_JOB_EXECUTED``/``ERROR``/``MISSED``.
    - What to run is ``job.task`` (a :class:`Task`): ``job.task.run(context)`` runs it in this process and
      returns its outcome. An executor that runs work elsewhere (processes, a cluster) keeps the context in this
      process and relays: started at submission, finished when the remote result arrives.
    - :meth:`cancel_run` is optional: a cancellation also sets the run's :attr:`RunContext.cancelled`, which an
      executor may watch instead.

    :class:`nbsched.executors.base.BaseExecutor` adds ``max_instances`` bookkeeping: subclass it and implement
    ``submit_runs(job, contexts)``. Executors written for APScheduler 3 (``_do_submit_job`` reporting through
    ``_run_job_success``) keep working unchanged.
    """

    @abstractmethod
    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        """Called when the scheduler starts or when the executor is added to a running scheduler.

        :param scheduler: the scheduler: what an executor may ask of it is :class:`ExecutorHost`
        """

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait`` return only when running jobs have finished."""

    @abstractmethod
    def submit_job(self, job: Job, run_times: list[datetime]) -> None:
        """Run ``job`` for ``run_times`` (one entry when coalesced)."""

    def cancel_run(self, job_id: str, run_time: datetime) -> bool:
        """Stop the run of ``job_id``'s fire at ``run_time``, queued or under way, if this executor can.

        Optional. The scheduler has recorded the run ``cancelled`` already and set its context's
        :attr:`~RunContext.cancelled`; the run still ends with its one outcome, which no longer changes that
        status. The default cannot stop anything: a function already running in a thread runs to its end.

        :return: whether the run will stop early
        """
        return False


class RunContext(ABC):
    """One run of one job, as its executor sees it: the executor's only line to the scheduler.

    The scheduler makes one per run (``scheduler.run_contexts(job, run_times)``); the executor keeps it in the
    process that holds the scheduler and calls, in this order:

    1. :meth:`started` just before the run starts. ``False`` means it must not run: it was cancelled first, or
       it is later than ``job.misfire_grace_time``. The context has then recorded that and dispatched
       ``EVENT_JOB_MISSED`` itself; the executor drops the run (calling :meth:`finished` is allowed, and
       ignored).
    2. :meth:`progress` while it runs (any thread), as often as it likes.
    3. :meth:`finished` exactly once, with the :class:`RunOutcome`. It records the run's end (status, times from
       the scheduler's clock, error, outputs), dispatches APScheduler's event of the outcome to listeners and
       lets the executor's ``max_instances`` count go. A second call is ignored (logged).

    A cancellation (``scheduler.cancel_run``, also from another process sharing the store) sets
    :attr:`cancelled`; an executor that can stop the run does so and finishes it with whatever outcome the run
    had (its record stays ``cancelled``). Every method is safe to call from any thread.
    """

    @property
    @abstractmethod
    def job(self) -> Job:
        """The job this run belongs to (its state when it was submitted)."""

    @property
    @abstractmethod
    def run_time(self) -> datetime:
        """The fire time this run is for (aware; the run record's ``scheduled_at``)."""

    @property
    @abstractmethod
    def run_id(self) -> str:
        """The run record's id (output folders are named after it)."""

    @property
    @abstractmethod
    def jobstore(self) -> str | None:
        """The alias of the job store the job and its run record live in."""

    @property
    @abstractmethod
    def cancelled(self) -> CancelSignal:
        """Set (with its reason) when the run is cancelled; ``wait()`` on it to watch."""

    @abstractmethod
    def now(self) -> datetime:
        """The scheduler's current time (its clock: a manual clock in tests)."""

    @abstractmethod
    def started(self) -> bool:
        """The run is about to start: record it ``running``. ``False``: do not run it (see the class doc)."""

    @abstractmethod
    def progress(self, text: str, outputs: Mapping[str, str] | None = None) -> None:
        """Record progress of the running run (``"cell 7/23"``) and, optionally, its output files so far
        (name -> path)."""

    @abstractmethod
    def finished(self, outcome: RunOutcome) -> None:
        """Record the run's end and dispatch its event (exactly once; see the class doc)."""

    @abstractmethod
    def dispatch(self, event: SchedulerEvent) -> None:
        """Dispatch ``event`` to the scheduler's listeners. An outcome event of this run (``EVENT_JOB_EXECUTED``,
        ``ERROR`` or ``MISSED`` for this job and :attr:`run_time`) is this run's end, as :meth:`finished` with
        the outcome it carries (for executors that build APScheduler events themselves)."""

    @abstractmethod
    def output_folder(self) -> Path:
        """The run's own folder for files it leaves (created, owner-only), deleted with the run record."""

    # ------------------------------------------------------------------------------- helpers (concrete)
    @property
    def logger(self) -> logging.Logger:
        """The logger of the job's executor (``nbsched.executors.<alias>``)."""
        return logging.getLogger(f"nbsched.executors.{self.job.executor}")

    @property
    def masker(self) -> Masker:
        """Scrubs the job's secret parameter values from text and data (see :mod:`nbsched.masking`)."""
        from nbsched.masking import Masker

        return Masker.for_jobs([self.job])

    def grace_left(self) -> float | None:
        """Seconds left, by the scheduler's clock, before the run is too late to start (``misfire_grace_time``);
        ``None``: it may start however late. A worker elsewhere checks it against its own clock."""
        grace = self.job.misfire_grace_time
        if grace is None:
            return None
        return (timedelta(seconds=grace) - (self.now() - self.run_time)).total_seconds()

    def metadata(self) -> dict[str, str]:
        """What identifies the run in files it writes: ``job_id``, ``run_id`` and ``scheduled_at``."""
        return {"job_id": self.job.id, "run_id": self.run_id, "scheduled_at": self.run_time.isoformat()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} job={self.job.id!r} run_time={self.run_time.isoformat()}>"


@attrs.frozen(kw_only=True)
class TaskSummary:
    """What the faces (CLI, REST, panel) show of a task, without knowing its kind.

    :ivar kind: the task kind (``"notebook"``, ``"cell"``, ``"function"``, a third-party alias)
    :ivar target: what it runs: a notebook's path, a function's ``module:qualname``, a cell's first line
    :ivar parameters: its named inputs (a notebook's parameters, a function's keyword arguments)
    :ivar secret_parameters: the names among them its definition declares secret (names that say so, such as
        ``password``, and ``secret:`` tags are secret too: :func:`nbsched.masking.secret_names`)
    """

    kind: str
    target: str
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    secret_parameters: tuple[str, ...] = ()


class Task(ABC):
    """What a job runs: a notebook, a cell, a function reference, or a kind of a third party.

    Contract:

    - :attr:`task_type` is the kind's alias under the ``nbsched.tasks`` entry-point group; :meth:`to_dict`
      returns JSON-safe state with ``"type"`` (that alias) and ``"version"``, and ``cls.from_dict(state)``
      rebuilds an equal task (refusing a newer version with :class:`~nbsched.exceptions.SerializationError`).
      A job stores its task as that state, never pickled; the store finds the class by ``"type"``.
    - Checks of the task's own fields happen when it is created (raise
      :class:`~nbsched.exceptions.JobArgumentError` naming the field and value), never when it is loaded from a
      store (the machine may differ; the run says what is wrong). :meth:`validate` checks it against the job it is
      added to.
    - :meth:`describe` is the default job name (secret values as ``***``); :meth:`summary` is what faces show.
    - :meth:`run` runs it once, in this process, under ``context``, and returns the outcome. It never raises for
      the job's own failure: it returns :meth:`RunOutcome.failed` (traceback scrubbed with ``context.masker``).
      The executor has called ``context.started()`` already and calls ``context.finished(outcome)`` after.
    - :attr:`default_executor` names the executor alias jobs of this kind use unless ``add_job`` names one.
    - Calling a task (``task()``) runs it now, outside any scheduler (optional).
    """

    #: the alias under the ``nbsched.tasks`` entry points and the ``"type"`` in :meth:`to_dict`
    task_type: ClassVar[str] = ""

    @property
    def default_executor(self) -> str:
        """The executor alias jobs of this kind run on unless ``add_job`` names one (default ``"default"``)."""
        return "default"

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state with ``"type"`` and ``"version"`` keys."""

    @classmethod
    @abstractmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild a task from :meth:`to_dict` output.

        :raises SerializationError: for state of another type or a newer version
        """

    @abstractmethod
    def describe(self) -> str:
        """A short text for people, the default job name: ``report.ipynb(region='EU', api_token=***)``."""

    @abstractmethod
    def summary(self) -> TaskSummary:
        """Kind, target, parameters and declared secret parameter names, for the faces."""

    @abstractmethod
    def run(self, context: RunContext, **resources: Any) -> RunOutcome:
        """Run once under ``context`` and return how it ended (see the class doc).

        :param resources: what the executor owns and offers (the notebook executor: ``pool``, its warm kernels);
            a task ignores what it does not know
        """

    def validate(self, job_id: str, owner: str = "add_job") -> None:
        """Check the task against the job it is added to (``job_id``), raising
        :class:`~nbsched.exceptions.JobArgumentError` naming the field.

        The default checks that the job id can name the run's output folder (:meth:`RunContext.output_folder`).
        """
        from nbsched.exceptions import JobArgumentError
        from nbsched.paths import folder_name_problem

        problem = folder_name_problem(job_id)
        if problem:
            raise JobArgumentError(
                owner,
                "id",
                job_id,
                f"{problem}: {self.task_type or 'task'} runs keep their outputs in a folder named so",
            )

    def kernel_for_warming(self) -> str | None:
        """The kernel name its runs will use, for an executor that starts one ahead (``None``: none)."""
        return None

    def retries_timeouts(self) -> bool:
        """Whether a timed-out run is retried like a failed one (when the job has ``retries``); default no."""
        return False
