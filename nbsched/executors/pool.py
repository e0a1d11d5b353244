"""Thread and process pool executors (APScheduler 3's ``ThreadPoolExecutor`` and ``ProcessPoolExecutor``)."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import multiprocessing
import queue
import threading
import traceback
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nbsched.clock import SystemClock
from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.exceptions import ConfigurationError, ExecutorNotRunningError
from nbsched.executors.base import BaseExecutor, run_job
from nbsched.masking import Masker, format_exception
from nbsched.refs import ref_to_obj

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["ProcessPoolExecutor", "ThreadPoolExecutor"]


def _workers(owner: str, value: Any) -> int:
    # Config files give numbers as text ("apscheduler.executors.default.max_workers": "20").
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(owner, "max_workers", value, "must be a positive integer")
    return value


class ThreadPoolExecutor(BaseExecutor):
    """Runs jobs in a pool of threads, started as they are needed up to ``max_workers``.

    The pool is a plain queue of ``(job, run_times)`` items that worker threads take from; a worker runs the
    job and reports its events itself. No future is created per run: firing many due jobs at once spends its
    time in the jobs, not in bookkeeping.

    :param max_workers: the maximum number of spawned threads
    :param pool_kwargs: ``thread_name_prefix``, ``initializer`` and ``initargs``, as
        :class:`concurrent.futures.ThreadPoolExecutor` takes them
    """

    def __init__(self, max_workers: int = 10, pool_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._max_workers = _workers("ThreadPoolExecutor", max_workers)
        options = dict(pool_kwargs or {})
        self._name_prefix = options.pop("thread_name_prefix", "nbsched-worker")
        self._initializer = options.pop("initializer", None)
        self._initargs = tuple(options.pop("initargs", ()))
        if options:
            raise ConfigurationError("ThreadPoolExecutor", "pool_kwargs", options, "has unknown keys")
        self._queue: queue.SimpleQueue[tuple[Job, list[datetime]] | None] = queue.SimpleQueue()
        # One token per idle worker; deque append/pop are atomic, so no lock is taken per run.
        self._idle: deque[None] = deque()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._closed = False

    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        super().start(scheduler, alias)
        self._closed = False

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if self._closed:
            raise ExecutorNotRunningError(type(self).__name__, "was shut down")
        self._queue.put((job, run_times))
        try:
            self._idle.pop()
        except IndexError:
            self._add_worker()

    def _add_worker(self) -> None:
        with self._threads_lock:
            if len(self._threads) >= self._max_workers:
                return
            thread = threading.Thread(target=self._work, name=f"{self._name_prefix}_{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer(*self._initargs)
        now, on_start, name = self._clock_now(), self._on_start(), self._logger.name
        get, idle = self._queue.get, self._idle
        while True:
            item = get()
            if item is None:
                return
            job, run_times = item
            try:
                events = run_job(job, job._jobstore_alias, run_times, name, now, on_start)
            except BaseException as exc:
                self._run_job_error(job.id, exc)
            else:
                self._run_job_success(job.id, events)
            del item, job, run_times
            idle.append(None)

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        with self._threads_lock:
            threads = list(self._threads)
            self._threads.clear()
        for _ in threads:
            self._queue.put(None)  # each worker takes one and stops after the work queued before it
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()


def _run_in_process(
    func: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    run_times: list[datetime],
    grace: float | None,
    logger_name: str,
    masker: Masker | None = None,
) -> list[tuple[int, datetime, Any, BaseException | None, str | None]]:
    """Worker-process side of :class:`ProcessPoolExecutor`: outcomes as plain tuples.

    :param masker: the job's secret parameter values (``None``: it has none), scrubbed from the traceback this
        process logs and returns
    """
    logger = logging.getLogger(logger_name)
    if isinstance(func, str):
        func = ref_to_obj(func)
    outcomes: list[tuple[int, datetime, Any, BaseException | None, str | None]] = []
    for run_time in run_times:
        if grace is not None and datetime.now(UTC) - run_time > timedelta(seconds=grace):
            outcomes.append((EVENT_JOB_MISSED, run_time, None, None, None))
            continue
        try:
            retval = func(*args, **kwargs)
        except BaseException as exc:
            name = getattr(func, "__qualname__", func)
            formatted = "".join(traceback.format_tb(exc.__traceback__))
            if masker:
                logger.error("%s", format_exception(exc, masker, f"Job {name} raised an exception"))
                formatted = masker.text(formatted) or ""
            else:
                logger.exception("Job %s raised an exception", name)
            outcomes.append((EVENT_JOB_ERROR, run_time, None, exc, formatted))
        else:
            outcomes.append((EVENT_JOB_EXECUTED, run_time, retval, None, None))
    return outcomes


class ProcessPoolExecutor(BaseExecutor):
    """Runs jobs in a pool of worker processes.

    The callable travels by its ``module:qualname`` reference when it has one, so functions defined in
    importable modules work whatever the start method. A pool broken by a crashed worker is replaced.

    :param max_workers: the maximum number of worker processes
    :param pool_kwargs: extra arguments for :class:`concurrent.futures.ProcessPoolExecutor`
    """

    def __init__(self, max_workers: int = 10, pool_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._max_workers = _workers("ProcessPoolExecutor", max_workers)
        # Forking a process that runs scheduler threads can copy held locks; spawned workers start clean.
        self._pool_kwargs = {"mp_context": multiprocessing.get_context("spawn"), **(pool_kwargs or {})}
        self._pool = concurrent.futures.ProcessPoolExecutor(self._max_workers, **self._pool_kwargs)

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        clock = self._scheduler._clock if self._scheduler is not None else None
        # Worker processes read the wall clock; with a manual clock the scheduler's own check is the only one.
        grace = job.misfire_grace_time if isinstance(clock, SystemClock) else None
        func = job.func_ref or job.func
        jobstore = job._jobstore_alias
        run_times = self._start_or_drop(job, run_times)  # the worker process cannot report its start
        if not run_times:
            self._release(job.id)
            return
        masker = Masker.for_jobs([job]) or None  # travels to the worker only when the job has secrets
        call = functools.partial(
            _run_in_process, func, job.args, job.kwargs, run_times, grace, self._logger.name, masker
        )
        try:
            future = self._pool.submit(call)
        except BrokenProcessPool:
            self._logger.warning("Process pool is broken; replacing it and retrying")
            self._pool = concurrent.futures.ProcessPoolExecutor(self._max_workers, **self._pool_kwargs)
            future = self._pool.submit(call)

        def done(fut: concurrent.futures.Future[Any]) -> None:
            exc = fut.exception()
            if exc is not None:
                # The worker died or the call could not cross the process boundary: report it per run time.
                text = "".join(traceback.format_exception(exc))
                reason = repr(exc)
                if masker:
                    text, reason = masker.text(text) or "", masker.text(reason) or ""
                events = [
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore, run_time, exception=exc, traceback=text)
                    for run_time in run_times
                ]
                self._logger.error("Job %s could not run in a worker process: %s", job.id, reason)
            else:
                events = [
                    JobExecutionEvent(code, job.id, jobstore, run_time, retval=retval, exception=error, traceback=tb)
                    for code, run_time, retval, error, tb in fut.result()
                ]
            self._run_job_success(job.id, events)

        future.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)
