"""Thread and process pool executors (APScheduler 3's ``ThreadPoolExecutor`` and ``ProcessPoolExecutor``)."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import multiprocessing
import queue
import threading
import time
import traceback
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nbsched.exceptions import ConfigurationError, ExecutorNotRunningError
from nbsched.executors.base import BaseExecutor, execute
from nbsched.masking import Masker, format_exception
from nbsched.outcome import OutcomeStatus, RunOutcome
from nbsched.refs import ref_to_obj

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost, RunContext
    from nbsched.job import Job

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

    The pool is a plain queue of run contexts (one submission's) that worker threads take from; a worker runs
    each and reports its end through the context itself. No future is created per run: firing many due jobs at
    once spends its time in the jobs, not in bookkeeping.

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
        self._queue: queue.SimpleQueue[list[RunContext] | None] = queue.SimpleQueue()
        # One token per idle worker; deque append/pop are atomic, so no lock is taken per run.
        self._idle: deque[None] = deque()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._closed = False

    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        super().start(scheduler, alias)
        self._closed = False

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        if self._closed:
            raise ExecutorNotRunningError(type(self).__name__, "was shut down")
        self._queue.put(contexts)
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
        get, idle = self._queue.get, self._idle
        while True:
            contexts = get()
            if contexts is None:
                return
            _execute_all(contexts)
            del contexts  # the finished runs' jobs are not kept alive by an idle worker
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


def _execute_all(contexts: list[RunContext]) -> None:
    for context in contexts:
        execute(context)


def _run_in_process(
    func: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runs: list[tuple[datetime, float | None]],
    logger_name: str,
    masker: Masker | None = None,
) -> list[tuple[OutcomeStatus, Any, BaseException | None, str | None]]:
    """Worker-process side of :class:`ProcessPoolExecutor`: one outcome per run, as plain tuples.

    :param runs: each run's fire time and the wall-clock time (``time.time()``) after which it is too late to
        start (``None``: never)
    :param masker: the job's secret parameter values (``None``: it has none), scrubbed from the traceback this
        process logs and returns
    """
    logger = logging.getLogger(logger_name)
    if isinstance(func, str):
        func = ref_to_obj(func)
    outcomes: list[tuple[OutcomeStatus, Any, BaseException | None, str | None]] = []
    for _run_time, deadline in runs:
        if deadline is not None and time.time() > deadline:
            outcomes.append((OutcomeStatus.MISSED, None, None, None))
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
            outcomes.append((OutcomeStatus.FAILED, None, exc, formatted))
        else:
            outcomes.append((OutcomeStatus.SUCCEEDED, retval, None, None))
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

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        func = job.func_ref or job.func
        # The worker process cannot report its start: the runs start at submission (those cancelled or too late
        # by now end here). It checks the grace time again, against the wall clock, when it gets to them.
        contexts = [context for context in contexts if context.started()]
        if not contexts:
            return
        runs = []
        for context in contexts:
            left = context.grace_left()
            runs.append((context.run_time, None if left is None else time.time() + left))
        masker = contexts[0].masker or None  # travels to the worker only when the job has secrets
        call = functools.partial(_run_in_process, func, job.args, job.kwargs, runs, self._logger.name, masker)
        try:
            future = self._pool.submit(call)
        except BrokenProcessPool:
            self._logger.warning("Process pool is broken; replacing it and retrying")
            self._pool = concurrent.futures.ProcessPoolExecutor(self._max_workers, **self._pool_kwargs)
            future = self._pool.submit(call)

        def done(fut: concurrent.futures.Future[Any]) -> None:
            exc = fut.exception()
            if exc is not None:
                # The worker died or the call could not cross the process boundary: each run failed so.
                text = "".join(traceback.format_exception(exc))
                reason = repr(exc)
                if masker:
                    text, reason = masker.text(text) or "", masker.text(reason) or ""
                self._logger.error("Job %s could not run in a worker process: %s", job.id, reason)
                outcomes = [RunOutcome.failed(exc, text) for _ in contexts]
            else:
                outcomes = [
                    RunOutcome(status=status, retval=retval, exception=error, traceback=tb)
                    for status, retval, error, tb in fut.result()
                ]
            for context, outcome in zip(contexts, outcomes, strict=True):
                context.finished(outcome)

        future.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)
