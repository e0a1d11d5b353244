"""The asyncio executor: coroutine functions run as tasks on the scheduler's loop, others in its thread pool."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from nbsched.exceptions import ConfigurationError
from nbsched.executors.base import BaseExecutor, cancelled_event, execute, missed_event
from nbsched.outcome import RunOutcome
from nbsched.tasks import call_async, job_traceback

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost, RunContext
    from nbsched.job import Job

__all__ = ["AsyncIOExecutor", "run_coroutine_job"]


async def run_coroutine_job(
    job: Job,
    jobstore_alias: str | None,
    run_times: list[datetime],
    logger_name: str,
    now: Any = None,
    on_start: Any = None,
) -> list[JobExecutionEvent]:
    """The coroutine counterpart of :func:`~nbsched.executors.base.run_job` (APScheduler 3's helper, kept for
    executors written against it; this executor runs coroutines under their run contexts)."""
    events: list[JobExecutionEvent] = []
    logger = logging.getLogger(logger_name)
    assert job.func is not None
    for run_time in run_times:
        missed = missed_event(job, jobstore_alias, run_time, now, logger)
        if missed is not None:
            events.append(missed)
            continue
        if on_start is not None and on_start(job.id, run_time) is False:
            events.append(cancelled_event(job, jobstore_alias, run_time, logger))
            continue
        logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        try:
            retval = await job.func(*job.args, **job.kwargs)
        except BaseException:
            exc, tb = sys.exc_info()[1:]
            assert exc is not None
            formatted = job_traceback(logger, job, exc, tb)
            events.append(
                JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time, exception=exc, traceback=formatted)
            )
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=retval))
            logger.info('Job "%s" executed successfully', job)
    return events


async def _run_coroutines(contexts: list[RunContext]) -> None:
    """Run a coroutine function job once per context, on the loop."""
    for context in contexts:
        try:
            if not context.started():
                continue
            job = context.job
            assert job.func is not None
            outcome = await call_async(context, job.func, job.args, job.kwargs)
        except BaseException as exc:  # the machinery failed, not the job (call_async reports the job's errors)
            context.logger.error("Error running job %s", context.job.id, exc_info=exc)
            outcome = RunOutcome.failed(exc)
        context.finished(outcome)


def _execute_all(contexts: list[RunContext]) -> None:
    for context in contexts:
        execute(context)


class AsyncIOExecutor(BaseExecutor):
    """Runs coroutine functions on the scheduler's event loop and plain functions in the loop's executor.

    Needs a scheduler with an event loop (:class:`~nbsched.schedulers.asyncio.AsyncIOScheduler`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: set[asyncio.Future[Any]] = set()

    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        super().start(scheduler, alias)
        loop = getattr(scheduler, "event_loop", None)  # only an AsyncIOScheduler has one
        if loop is None:
            raise ConfigurationError(
                "AsyncIOExecutor", "scheduler", type(scheduler).__name__, "has no event loop (use AsyncIOScheduler)"
            )
        self._eventloop: asyncio.AbstractEventLoop = loop

    def shutdown(self, wait: bool = True) -> None:
        # Like APScheduler: running coroutines are cancelled, waiting is not possible from the loop itself.
        for fut in self._pending:
            fut.cancel()
        self._pending.clear()

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        if inspect.iscoroutinefunction(job.func):
            # The scheduler processes jobs on its loop's thread, so the task can be created directly.
            fut: asyncio.Future[Any] = self._eventloop.create_task(_run_coroutines(contexts))
        else:
            fut = self._eventloop.run_in_executor(None, _execute_all, contexts)

        def done(f: asyncio.Future[Any]) -> None:
            self._pending.discard(f)
            if f.cancelled():  # shut down: a coroutine stopped mid-way ends as cancelled, like APScheduler's
                for context in contexts:
                    context.finished(RunOutcome.cancelled())

        self._pending.add(fut)
        fut.add_done_callback(done)
