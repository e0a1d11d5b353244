"""Shared executor machinery: ``max_instances`` bookkeeping, running a job, reporting its outcome.

APScheduler 3's names are kept (``BaseExecutor``, ``run_job``, ``MaxInstancesReachedError``) so custom
executors written against it keep working.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import traceback
from abc import abstractmethod
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nbsched.abc import Executor
from nbsched.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from nbsched.exceptions import MaxInstancesReachedError
from nbsched.masking import Masker, format_exception

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["BaseExecutor", "MaxInstancesReachedError", "log_job_exception", "run_job"]


class BaseExecutor(Executor):
    """Counts running instances per job and turns outcomes into events.

    Subclasses implement :meth:`_do_submit_job` and report back through :meth:`_run_job_success` /
    :meth:`_run_job_error`.
    """

    _scheduler: BaseScheduler | None = None
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

    def start(self, scheduler: BaseScheduler, alias: str) -> None:
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
        try:
            self._do_submit_job(job, run_times)
        except BaseException:
            self._release(job.id)
            raise

    @abstractmethod
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        """Start running ``job`` for ``run_times``; the instance is already counted (not under the lock)."""

    def _clock_now(self) -> Callable[[], datetime] | None:
        return self._scheduler._clock.now if self._scheduler is not None else None

    def _on_start(self) -> Callable[[str, datetime], Any] | None:
        return self._scheduler._recorder.started if self._scheduler is not None else None

    def _start_or_drop(self, job: Job, run_times: list[datetime]) -> list[datetime]:
        """For executors that cannot report the start of each run (worker processes, a cluster): record the runs
        as started at submission, and report the ones cancelled meanwhile as missed; the rest are returned."""
        on_start = self._on_start()
        if on_start is None:
            return run_times
        kept: list[datetime] = []
        for run_time in run_times:
            if on_start(job.id, run_time) is not False:
                kept.append(run_time)
            elif self._scheduler is not None:
                self._scheduler._dispatch_event(cancelled_event(job, job._jobstore_alias, run_time, self._logger))
        return kept

    def _release(self, job_id: str) -> None:
        """A run of ``job_id`` ended: it no longer counts towards ``max_instances`` (from the next submission)."""
        self._ended.append(job_id)

    def _run_job_success(self, job_id: str, events: list[JobExecutionEvent]) -> None:
        """Called when a run ended (successfully or with the job's own error inside ``events``)."""
        self._release(job_id)
        if self._scheduler is not None:
            for event in events:
                self._scheduler._dispatch_event(event)

    def _run_each(
        self, job: Job, run_times: list[datetime], run_one: Callable[[Job, datetime], JobExecutionEvent]
    ) -> None:
        """Run ``job`` once per run time with ``run_one`` (which reports the job's own errors in its event) and
        report the events, or the failure that stopped it, as the other executors do."""
        try:
            events = [run_one(job, run_time) for run_time in run_times]
        except BaseException as exc:
            self._run_job_error(job.id, exc)
        else:
            self._run_job_success(job.id, events)

    def _run_job_error(self, job_id: str, exc: BaseException, tb: Any = None) -> None:
        """Called when running the job failed outside the job itself (pool broken, not picklable...)."""
        self._release(job_id)
        self._logger.error("Error running job %s", job_id, exc_info=(type(exc), exc, tb or exc.__traceback__))


@functools.lru_cache(maxsize=64)
def _logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def log_job_exception(logger: logging.Logger, job: Job, exc: BaseException) -> Masker:
    """Log that ``job`` raised ``exc``, with the traceback, as APScheduler does; when the job has secret parameters
    (see :mod:`nbsched.masking`) the traceback is formatted here and logged scrubbed of their values.

    :return: the job's masker, for scrubbing what else is recorded about the failure
    """
    masker = Masker.for_jobs([job])
    if masker:
        logger.error("%s", format_exception(exc, masker, f'Job "{job}" raised an exception'))
    else:
        logger.error('Job "%s" raised an exception', job, exc_info=exc)
    return masker


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
            masker = log_job_exception(logger, job, exc)
            formatted = "".join(traceback.format_tb(tb))
            if masker:
                formatted = masker.text(formatted) or ""
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
