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
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from nbsched.exceptions import ConfigurationError, ExecutorNotRunningError
from nbsched.executors.base import BaseExecutor, cancelled_event, missed_event, run_job
from nbsched.job import is_task
from nbsched.masking import SECRET_TAG, Masker, format_exception

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.notebooks.execute import CancelToken
    from nbsched.notebooks.kernels import KernelPool
    from nbsched.schedulers.base import BaseScheduler

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
        #: the cancel tokens of the runs queued or under way, by (job id, run time); guarded by ``_lock``
        self._cancels: dict[tuple[str, datetime], CancelToken] = {}

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self, scheduler: BaseScheduler, alias: str) -> None:
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

    def _warm_up(self, scheduler: BaseScheduler, alias: str) -> None:
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
        task: Any = job.func
        name = task.kernel_for_warming() if is_task(task) and hasattr(task, "kernel_for_warming") else None
        if name and self._kernels is not None:
            self._kernels.prepare(name)

    # --------------------------------------------------------------------------------------------- running
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if self._threads is None:
            raise ExecutorNotRunningError("NotebookExecutor", "is not started")
        self.prepare_job(job)  # a queued run's kernel starts while it waits
        from nbsched.notebooks.execute import CancelToken

        with self._lock:
            for run_time in run_times:
                self._cancels[(job.id, run_time)] = CancelToken()
        self._threads.submit(self._run, job, run_times)

    def cancel_run(self, job_id: str, run_time: datetime) -> bool:
        """Stop a notebook or cell run: a queued one does not start, a running one's kernel is interrupted, then
        killed if the cell has not stopped after the task's ``interrupt_grace``."""
        with self._lock:
            token = self._cancels.get((job_id, run_time))
        if token is None:
            return False
        token.cancel("cancelled")
        return True

    def _run(self, job: Job, run_times: list[datetime]) -> None:
        try:
            self._run_each(job, run_times, self._run_one)
        finally:
            with self._lock:
                for run_time in run_times:
                    self._cancels.pop((job.id, run_time), None)

    def _run_one(self, job: Job, run_time: datetime) -> JobExecutionEvent:
        jobstore = job._jobstore_alias
        now = self._clock_now()
        missed = missed_event(job, jobstore, run_time, now, self._logger)
        if missed is not None:
            return missed
        task: Any = job.func
        if not is_task(task) or not hasattr(task, "run"):
            # A plain function sent here on purpose: run it like the thread pool would.
            return run_job(job, jobstore, [run_time], self._logger.name, now, self._on_start())[0]
        from nbsched.notebooks.execute import NotebookRunError
        from nbsched.paths import runs_dir

        scheduler = self._scheduler
        run = scheduler._recorder.current(job.id, run_time) if scheduler is not None else None
        run_id = run.id if run is not None else uuid4().hex
        on_start = self._on_start()

        def started() -> None:
            if on_start is not None:
                on_start(job.id, run_time)

        def progress(text: str, outputs: dict[str, str]) -> None:
            if scheduler is not None:
                scheduler._recorder.progress(job.id, run_time, text, outputs)

        with self._lock:
            token = self._cancels.get((job.id, run_time))
        if (token is not None and token.reason is not None) or (
            scheduler is not None and scheduler._recorder.is_cancelled(job.id, run_time)
        ):
            return cancelled_event(job, jobstore, run_time, self._logger)
        self._logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        # Parameters marked secret by the job's tags rather than by the task: the run keeps them out of its files.
        tagged = {tag[len(SECRET_TAG) :] for tag in job.tags if tag.startswith(SECRET_TAG)}
        tagged &= set(getattr(task, "parameters", None) or ())  # a Cell has none, and its run() takes no names
        extra = {"secret_parameters": sorted(tagged)} if tagged else {}
        try:
            folder = (
                scheduler.run_folder(job.id, run_id, jobstore) if scheduler is not None else runs_dir(job.id, run_id)
            )
            result = task.run(
                folder,
                pool=self._kernels,
                on_progress=progress,
                on_started=started,
                metadata={"job_id": job.id, "run_id": run_id, "scheduled_at": run_time.isoformat()},
                cancel=token,
                **extra,
            )
        except NotebookRunError as exc:
            # Its message and traceback were scrubbed of the task's secrets by the run; the job's name may hold
            # some too (one an older nbsched gave it).
            masker = Masker.for_jobs([job])
            self._logger.warning("%s", masker.text(f'Job "{job}" failed: {exc}'))
            return JobExecutionEvent(
                EVENT_JOB_ERROR, job.id, jobstore, run_time, exception=exc, traceback=exc.traceback_text or str(exc)
            )
        except Exception as exc:
            masker = Masker.for_jobs([job])
            self._logger.error("%s", format_exception(exc, masker, f'Job "{job}" raised an exception'))
            text = masker.text("".join(traceback.format_exception(exc)))
            return JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore, run_time, exception=exc, traceback=text)
        self._logger.info('Job "%s" executed successfully', job)
        return JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore, run_time, retval=result)
