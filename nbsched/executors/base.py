"""Shared executor machinery: ``max_instances`` bookkeeping and running one run under its context.

APScheduler 3's names are kept (``BaseExecutor``, ``run_job``, ``MaxInstancesReachedError``,
``_do_submit_job``, ``_run_job_success``) so custom executors written against it keep working.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nbsched.abc import Executor, RunContext, Task
from nbsched.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from nbsched.exceptions import ExecutorNotRunningError, MaxInstancesReachedError
from nbsched.outcome import RunOutcome
from nbsched.tasks import call, job_traceback, log_job_exception

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost
    from nbsched.job import Job

__all__ = ["BaseExecutor", "MaxInstancesReachedError", "execute", "log_job_exception", "run_job", "run_task"]


class BaseExecutor(Executor):
    """Counts running instances per job (``max_instances``) and hands runs over with their contexts.

    Subclasses implement :meth:`submit_runs`, which gets each run's :class:`~nbsched.abc.RunContext` and reports
    through it alone (:func:`execute` does the usual start-run-finish for one). The instance counted for a
    submission is released when the last of its runs has finished.

    Executors written for APScheduler 3 implement :meth:`_do_submit_job` instead and report with
    :meth:`_run_job_success` / :meth:`_run_job_error`: that keeps working (their events are their runs' ends).
    """

    _scheduler: ExecutorHost | None = None
    _lock: threading.Lock
    _logger: logging.Logger

    def __init__(self) -> None:
        # Running instances per job id, changed only under _lock by the threads that submit runs.
        self._instances: dict[str, int] = {}
        # Job ids of runs that ended, appended by the threads that ran them (deque appends are atomic, so they
        # take no lock) and counted off by the next submission. Workers that took the lock here would queue
        # behind a submitter preempted while holding it, and then behind each other (a lock convoy).
        self._ended: deque[str] = deque()
        self._lock = threading.Lock()
        self._logger = logging.getLogger("nbsched.executors.default")
        # The contexts of runs handed to an APScheduler-style _do_submit_job, until its events report their ends.
        self._legacy: dict[tuple[str, datetime], RunContext] = {}

    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        self._scheduler = scheduler
        self._logger = logging.getLogger(f"nbsched.executors.{alias}")

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to release in the base class."""

    def submit_job(self, job: Job, run_times: list[datetime]) -> None:
        with self._lock:
            instances = self._instances
            ended = self._ended
            while ended:  # only submitters take from it, under the lock
                job_id = ended.popleft()
                left = instances.get(job_id, 0) - 1
                if left > 0:
                    instances[job_id] = left
                else:
                    instances.pop(job_id, None)
            running = instances.get(job.id, 0)
            if running >= job.max_instances:
                raise MaxInstancesReachedError(job)
            instances[job.id] = running + 1
        legacy = type(self)._do_submit_job is not BaseExecutor._do_submit_job
        try:
            if legacy:
                self._legacy_contexts(job, run_times)
            self._do_submit_job(job, run_times)
        except BaseException:
            if legacy:
                for run_time in run_times:
                    self._legacy.pop((job.id, run_time), None)
            self._release(job.id)
            raise

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        """Start running ``job`` for ``run_times``; the instance is already counted (not under the lock).

        The default hands the runs' contexts to :meth:`submit_runs`. APScheduler 3 executors override this.
        """
        self.submit_runs(job, self.run_contexts(job, run_times))

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        """Start ``job``'s runs, one per context, reporting each through its context (see
        :class:`~nbsched.abc.RunContext`); return quickly. Executors that do not override
        :meth:`_do_submit_job` implement this."""
        raise NotImplementedError(f"{type(self).__name__} implements neither submit_runs nor _do_submit_job")

    def run_contexts(self, job: Job, run_times: list[datetime]) -> list[RunContext]:
        """The contexts of ``job``'s runs for ``run_times`` from the scheduler; the last one to finish releases
        the instance this submission counted.

        :raises ExecutorNotRunningError: when the executor was not started by a scheduler
        """
        scheduler = self._scheduler
        if scheduler is None:
            raise ExecutorNotRunningError(type(self).__name__, "is not started")
        if len(run_times) == 1:  # the common case: no countdown, and no closure made per run
            return scheduler.run_contexts(job, run_times, self._context_ended)
        job_id = job.id
        left = [len(run_times)]
        lock = threading.Lock()

        def counted(context: RunContext) -> None:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                self._ended.append(job_id)

        return scheduler.run_contexts(job, run_times, counted)

    def _context_ended(self, context: RunContext) -> None:
        self._ended.append(context.job.id)

    def _release(self, job_id: str) -> None:
        """A run of ``job_id`` ended: it no longer counts towards ``max_instances`` (from the next submission)."""
        self._ended.append(job_id)

    # --------------------------------------------------------------------- APScheduler 3's reporting path
    def _legacy_contexts(self, job: Job, run_times: list[datetime]) -> None:
        """Keep the contexts of runs an APScheduler-style ``_do_submit_job`` reports on with events."""
        if self._scheduler is None:
            return
        for context in self._scheduler.run_contexts(job, run_times):
            self._legacy[(job.id, context.run_time)] = context

    def _run_job_success(self, job_id: str, events: list[JobExecutionEvent]) -> None:
        """Called when a run ended (successfully or with the job's own error inside ``events``)."""
        self._release(job_id)
        if self._scheduler is None:
            return
        for event in events:
            context = self._legacy.pop((job_id, event.scheduled_run_time), None) if event.scheduled_run_time else None
            if context is None:  # not a run of its own: dispatched through any context of the job
                context = next((c for (j, _), c in list(self._legacy.items()) if j == job_id), None)
            if context is not None:
                context.dispatch(event)  # an outcome of its run is that run's end: recorded, then dispatched
            else:
                self._logger.warning("Event %r of job %s belongs to no run submitted here; dropped", event, job_id)

    def _run_job_error(self, job_id: str, exc: BaseException, tb: Any = None) -> None:
        """Called when running the job failed outside the job itself (pool broken, not picklable...)."""
        self._release(job_id)
        self._logger.error("Error running job %s", job_id, exc_info=(type(exc), exc, tb or exc.__traceback__))


def run_task(context: RunContext, **resources: Any) -> RunOutcome:
    """Run the context's job once in this thread: ``job.task.run(context, **resources)`` (a function job is called
    directly, without making its :class:`~nbsched.tasks.FunctionTask`)."""
    job = context.job
    func = job.func
    if isinstance(func, Task):
        return func.run(context, **resources)
    assert func is not None
    return call(context, func, job.args, job.kwargs)


def execute(context: RunContext, run: Callable[[RunContext], RunOutcome] = run_task) -> None:
    """One run in this thread: :meth:`~nbsched.abc.RunContext.started`, then ``run(context)`` (default:
    :func:`run_task`), then :meth:`~nbsched.abc.RunContext.finished` with its outcome. An error outside the job
    itself (the task's own machinery) is the run's failure, never raised."""
    try:
        if not context.started():
            return
        outcome = run(context)
    except BaseException as exc:
        context.logger.error("Error running job %s", context.job.id, exc_info=exc)
        outcome = RunOutcome.failed(exc, "".join(traceback.format_exception(exc)))
    context.finished(outcome)


@functools.lru_cache(maxsize=64)
def _logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def cancelled_event(
    job: Job, jobstore_alias: str | None, run_time: datetime, logger: logging.Logger
) -> JobExecutionEvent:
    """The event of a run cancelled before it started: ``EVENT_JOB_MISSED`` (it did not run; its run record says
    ``cancelled``)."""
    logger.info('Run of job "%s" scheduled at %s was cancelled before it started', job, run_time)
    return JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time)


def missed_event(
    job: Job, jobstore_alias: str | None, run_time: datetime, now: Callable[[], datetime] | None, logger: logging.Logger
) -> JobExecutionEvent | None:
    """The ``EVENT_JOB_MISSED`` of a run time later than the job's ``misfire_grace_time`` (logged), or ``None``."""
    if job.misfire_grace_time is None or now is None:
        return None
    late = now() - run_time
    if late <= timedelta(seconds=job.misfire_grace_time):
        return None
    logger.warning('Run time of job "%s" was missed by %s', job, late)
    return JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time)


def run_job(
    job: Job,
    jobstore_alias: str | None,
    run_times: list[datetime],
    logger_name: str,
    now: Callable[[], datetime] | None = None,
    on_start: Callable[[str, datetime], Any] | None = None,
) -> list[JobExecutionEvent]:
    """Run ``job`` once per entry of ``run_times`` and return one event per entry.

    A run time later than ``job.misfire_grace_time`` (measured with ``now``) is reported as missed. The
    job's own exceptions (``BaseException`` included, as in APScheduler) are caught and reported.
    ``on_start(job_id, run_time)`` is called just before each run starts (the scheduler's run records); when it
    returns ``False`` the run was cancelled: it does not run and is reported missed.
    """
    events: list[JobExecutionEvent] = []
    logger = _logger(logger_name)
    grace = job.misfire_grace_time
    func = job.func
    assert func is not None
    for run_time in run_times:
        if grace is not None and now is not None:
            missed = missed_event(job, jobstore_alias, run_time, now, logger)
            if missed is not None:
                events.append(missed)
                continue
        if logger.isEnabledFor(logging.INFO):
            logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        if on_start is not None and on_start(job.id, run_time) is False:
            events.append(cancelled_event(job, jobstore_alias, run_time, logger))
            continue
        try:
            retval = func(*job.args, **job.kwargs)
        except BaseException:
            exc, tb = sys.exc_info()[1:]
            assert exc is not None
            formatted = job_traceback(logger, job, exc, tb)
            events.append(
                JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time, exception=exc, traceback=formatted)
            )
            traceback.clear_frames(tb)
            del tb
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=retval))
            if logger.isEnabledFor(logging.INFO):
                logger.info('Job "%s" executed successfully', job)
    return events
