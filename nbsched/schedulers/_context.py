"""The scheduler's side of :class:`nbsched.abc.RunContext`: one object per run that an executor reports through.

A context turns the executor's calls into the scheduler's bookkeeping: ``started``/``progress`` go to the run
recorder (:mod:`nbsched.schedulers._runs`), ``finished`` dispatches APScheduler's outcome event, which the
scheduler records (``_dispatch_event`` -> ``_job_finished``) before listeners see it, exactly as events of
executors written for APScheduler are. The recorder holds each context of a tracked run, so a cancellation sets
its :attr:`~nbsched.abc.RunContext.cancelled`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from nbsched.abc import RunContext
from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.outcome import CancelSignal, RunOutcome
from nbsched.schedulers._core import SchedulerCore

if TYPE_CHECKING:
    from pathlib import Path

    from nbsched.events import SchedulerEvent
    from nbsched.job import Job

__all__ = ["RunContextsAPI", "SchedulerRunContext"]

_OUTCOMES = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
#: called once when a context's run ends, before its event is dispatched (an executor's max_instances count)
OnFinished = Callable[[RunContext], Any]


@functools.lru_cache(maxsize=64)
def _executor_logger(alias: str) -> logging.Logger:
    # logging.getLogger takes the logging module's lock: once per alias, not once per run.
    return logging.getLogger(f"nbsched.executors.{alias}")


class SchedulerRunContext(RunContext):
    """A run of a job of this scheduler (see :class:`nbsched.abc.RunContext` for the contract)."""

    __slots__ = ("_cancelled", "_end_token", "_job", "_jobstore", "_on_finished", "_run_id", "_run_time", "_scheduler")

    def __init__(
        self,
        scheduler: RunContextsAPI,
        job: Job,
        run_time: datetime,
        run_id: str,
        jobstore: str | None,
        on_finished: OnFinished | None,
    ) -> None:
        self._scheduler = scheduler
        self._job = job
        self._run_time = run_time
        self._run_id = run_id
        self._jobstore = jobstore
        self._on_finished = on_finished
        self._cancelled = CancelSignal()
        # Emptied by whichever call ends the run first (a started() that refuses, or finished()): list.pop is
        # atomic, and cheaper to make per run than a lock.
        self._end_token = [True]

    @property
    def job(self) -> Job:
        return self._job

    @property
    def run_time(self) -> datetime:
        return self._run_time

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def jobstore(self) -> str | None:
        return self._jobstore

    @property
    def cancelled(self) -> CancelSignal:
        return self._cancelled

    @property
    def logger(self) -> logging.Logger:
        return _executor_logger(self._job.executor)

    def now(self) -> datetime:
        return self._scheduler._clock.now()

    def started(self) -> bool:
        job, run_time = self._job, self._run_time
        grace = job.misfire_grace_time
        if grace is not None:
            late = self.now() - run_time
            if late > timedelta(seconds=grace):
                self.logger.warning('Run time of job "%s" was missed by %s', job, late)
                self.finished(RunOutcome.missed())
                return False
        if self._scheduler._recorder.started(job.id, run_time) is False:
            self.logger.info('Run of job "%s" scheduled at %s was cancelled before it started', job, run_time)
            self.finished(RunOutcome.cancelled())
            return False
        return True

    def progress(self, text: str, outputs: Mapping[str, str] | None = None) -> None:
        self._scheduler._recorder.progress(self._job.id, self._run_time, text, dict(outputs) if outputs else None)

    def finished(self, outcome: RunOutcome) -> None:
        self._end(outcome.event(self._job.id, self._jobstore, self._run_time))

    def dispatch(self, event: SchedulerEvent) -> None:
        if (
            event.code & _OUTCOMES
            and isinstance(event, JobExecutionEvent)
            and event.job_id == self._job.id
            and event.scheduled_run_time == self._run_time
        ):
            self._end(event)
        else:
            self._scheduler._dispatch_event(event)

    def _end(self, event: JobExecutionEvent) -> None:
        try:
            self._end_token.pop()
        except IndexError:
            logging.getLogger("nbsched.runs").warning(
                "Run %s of job %s reported its end more than once; ignored", self._run_id, self._job.id
            )
            return
        if self._on_finished is not None:
            self._on_finished(self)  # before listeners: a fire waiting for max_instances may go at once
        self._scheduler._dispatch_event(event)

    def output_folder(self) -> Path:
        return self._scheduler.run_folder(self._job.id, self._run_id, self._jobstore)


class RunContextsAPI(SchedulerCore):
    """The public method executors get their run contexts from (a piece of the scheduler, see
    :mod:`nbsched.schedulers._core`)."""

    def run_contexts(
        self, job: Job, run_times: list[datetime], on_finished: OnFinished | None = None
    ) -> list[RunContext]:
        """The :class:`~nbsched.abc.RunContext` of each of ``job``'s runs for ``run_times`` (as given to an
        executor's ``submit_job``): the executor reports each run's start, progress and end through it.

        :param on_finished: called with each context once its run has ended (before its event is dispatched)
        """
        recorder = self._recorder
        jobstore = job.jobstore
        contexts: list[RunContext] = []
        for run_time in run_times:  # on the firing path: one lookup and one object per run
            run = recorder.current(job.id, run_time)
            if run is None:
                contexts.append(SchedulerRunContext(self, job, run_time, uuid4().hex, jobstore, on_finished))
                continue
            context = SchedulerRunContext(self, job, run_time, run.id, jobstore, on_finished)
            recorder.attach(run, context._cancelled)
            contexts.append(context)
        return contexts
