"""The notebook executor: runs ``Notebook`` and headless ``Cell`` jobs, at most ``max_concurrent_runs`` at once.

Each run executes in a worker thread of its own, with nbclient on an event loop of its own (see
:mod:`nbsched.notebooks.execute`), and writes everything to its run folder ``<data dir>/runs/<job id>/<run id>/``
(the folder run retention deletes with the run). Runs beyond ``max_concurrent_runs`` wait in a queue. A
:class:`~nbsched.notebooks.kernels.KernelPool` keeps a fresh kernel ready for every kernel name in use, so a due
run does not wait for a kernel to start; no kernel ever serves two runs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading
from typing import TYPE_CHECKING, Any

from nbsched.exceptions import ConfigurationError, ExecutorNotRunningError
from nbsched.executors.base import BaseExecutor, execute, run_task

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost, RunContext
    from nbsched.job import Job
    from nbsched.notebooks.kernels import KernelPool
    from nbsched.outcome import RunOutcome

__all__ = ["NotebookExecutor"]


def _positive(owner: str, field: str, value: Any, *, integer: bool, optional: bool) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if integer else float(value)
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigurationError(owner, field, value, f"must be {kind}" + (" or None" if optional else ""))
    return value


class NotebookExecutor(BaseExecutor):
    """Runs notebook and headless cell jobs with warm kernels.

    :param max_concurrent_runs: the most runs at once, the rest queue (default: the scheduler's
        ``max_concurrent_runs`` option, else the number of CPUs)
    :param warm_kernels: keep a fresh kernel ready per kernel name in use
    :param idle_timeout: seconds a kernel name goes unused before its ready kernel is shut down
    """

    def __init__(
        self, max_concurrent_runs: int | None = None, warm_kernels: bool = True, idle_timeout: float = 600.0
    ) -> None:
        super().__init__()
        owner = "NotebookExecutor"
        self._max_concurrent = _positive(owner, "max_concurrent_runs", max_concurrent_runs, integer=True, optional=True)
        if not isinstance(warm_kernels, bool):
            raise ConfigurationError(owner, "warm_kernels", warm_kernels, "must be True or False")
        self._warm = warm_kernels
        self._idle_timeout = float(_positive(owner, "idle_timeout", idle_timeout, integer=False, optional=False))
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._kernels: KernelPool | None = None
        self.max_concurrent_runs = 0

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        super().start(scheduler, alias)
        # Imported here, in one thread: first imports of jupyter_client racing in two threads can fail.
        import jupyter_client  # noqa: F401
        import nbclient  # noqa: F401

        from nbsched.notebooks.kernels import KernelPool
        from nbsched.paths import data_dir

        self.max_concurrent_runs = (
            self._max_concurrent or getattr(scheduler, "max_concurrent_runs", None) or os.cpu_count() or 1
        )
        self._threads = concurrent.futures.ThreadPoolExecutor(
            self.max_concurrent_runs, thread_name_prefix="nbsched-notebook"
        )
        self._kernels = KernelPool(data_dir() / "kernels", warm=self._warm, idle_timeout=self._idle_timeout)
        threading.Thread(target=self._warm_up, args=(scheduler, alias), name="nbsched-warm-up", daemon=True).start()

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking runs; with ``wait``, return when the queued and running ones have finished. Without it,
        runs still queued are dropped (they never start: their records stay as they are, for whoever stops the
        process to record them cancelled, or for another scheduler to find them lost) and running ones go on."""
        if self._threads is not None:
            # The pool's worker threads are not daemons: a queued run would keep the process alive.
            self._threads.shutdown(wait, cancel_futures=not wait)
        if self._kernels is not None:
            self._kernels.shutdown(wait)

    @property
    def kernels(self) -> KernelPool | None:
        """The warm kernel pool (``None`` until started)."""
        return self._kernels

    def _warm_up(self, scheduler: ExecutorHost, alias: str) -> None:
        # Off the scheduler's thread: import nbclient/nbconvert, and start kernels for the jobs already stored.
        try:
            for job in scheduler.get_jobs():
                if job.executor == alias:
                    self.prepare_job(job)
            from nbsched.notebooks.outputs import warm_up

            warm_up()
        except Exception as exc:
            self._logger.debug("Warm-up failed: %s", exc)

    def prepare_job(self, job: Job) -> None:
        """Start a kernel for ``job``'s kernel name ahead of its first run (called for jobs it will run)."""
        name = job.task.kernel_for_warming()
        if name and self._kernels is not None:
            self._kernels.prepare(name)

    # --------------------------------------------------------------------------------------------- running
    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        if self._threads is None:
            raise ExecutorNotRunningError("NotebookExecutor", "is not started")
        self.prepare_job(job)  # a queued run's kernel starts while it waits
        self._threads.submit(self._run, contexts)

    def _run(self, contexts: list[RunContext]) -> None:
        for context in contexts:
            # A run cancelled while it was queued does not start: started() says so and records it.
            execute(context, self._run_one)

    def _run_one(self, context: RunContext) -> RunOutcome:
        # Every task kind runs here (a plain function sent on purpose runs as the thread pool would); a notebook
        # or a cell gets the warm kernels.
        return run_task(context, pool=self._kernels)
