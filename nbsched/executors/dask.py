"""The Dask executor: runs notebook, headless cell and function jobs on a ``dask.distributed`` cluster.

Install the ``dask`` extra (``pip install nbsched[dask]``). Functions travel by their ``module:qualname``
reference (workers must be able to import them), notebook and cell specs as themselves. A notebook run writes
its outputs to the run folder named in this process (``<data dir>/runs/<job id>/<run id>/``), so workers on
other machines need that folder on a shared file system; the paths are recorded either way. Kernels are
started on the worker for each run (warm kernels are the notebook executor's).
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from nbsched.clock import SystemClock
from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.exceptions import ExecutorNotRunningError, PluginLoadError
from nbsched.executors.base import BaseExecutor
from nbsched.job import is_task
from nbsched.refs import ref_to_obj

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["DaskExecutor"]

Outcome = tuple[int, datetime, Any, BaseException | None, str | None]


def _run_remote(
    target: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runs: list[tuple[datetime, str | None, dict[str, Any]]],
    grace: float | None,
) -> list[Outcome]:
    """Worker side: run a task spec or a function once per run time; outcomes as plain tuples."""
    from pathlib import Path

    if isinstance(target, str):
        target = ref_to_obj(target)
    outcomes: list[Outcome] = []
    for run_time, folder, metadata in runs:
        if grace is not None and datetime.now(UTC) - run_time > timedelta(seconds=grace):
            outcomes.append((EVENT_JOB_MISSED, run_time, None, None, None))
            continue
        try:
            if folder is not None:
                Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
                retval = target.run(Path(folder), metadata=metadata)
            else:
                retval = target(*args, **kwargs)
        except BaseException as exc:
            text = getattr(exc, "traceback_text", "") or "".join(traceback.format_exception(exc))
            outcomes.append((EVENT_JOB_ERROR, run_time, None, exc, text))
        else:
            outcomes.append((EVENT_JOB_EXECUTED, run_time, retval, None, None))
    return outcomes


class DaskExecutor(BaseExecutor):
    """Sends jobs to a Dask cluster.

    :param address: the scheduler address (``tcp://host:8786``); ``None`` starts a local cluster
    :param client_kwargs: more arguments for :class:`distributed.Client`
    """

    def __init__(self, address: str | None = None, **client_kwargs: Any) -> None:
        super().__init__()
        self._address = address
        self._client_kwargs = client_kwargs
        self._client: Any = None

    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            from distributed import Client
        except ImportError as exc:  # the optional extra is missing: say which to install, not a bare traceback
            problem = f"{exc}; install the dask extra: pip install 'nbsched[dask]'"
            raise PluginLoadError("executor", alias, "nbsched.executors.dask:DaskExecutor", problem) from exc

        self._client = Client(self._address, **self._client_kwargs)

    def shutdown(self, wait: bool = True) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if self._client is None:
            raise ExecutorNotRunningError("DaskExecutor", "is not started")
        from nbsched.paths import runs_dir

        scheduler = self._scheduler
        clock = scheduler._clock if scheduler is not None else None
        # Workers read the wall clock; with a manual clock the scheduler's own check is the only one.
        grace = job.misfire_grace_time if isinstance(clock, SystemClock) else None
        task = job.func
        alias = job._jobstore_alias
        runs: list[tuple[datetime, str | None, dict[str, Any]]] = []
        for run_time in run_times:
            if is_task(task) and hasattr(task, "run"):
                run = scheduler._recorder.current(job.id, run_time) if scheduler is not None else None
                run_id = run.id if run is not None else uuid4().hex
                made = runs_dir(job.id, run_id) if scheduler is None else scheduler.run_folder(job.id, run_id, alias)
                folder: str | None = str(made)
                metadata = {"job_id": job.id, "run_id": run_id, "scheduled_at": run_time.isoformat()}
            else:
                folder, metadata = None, {}
            runs.append((run_time, folder, metadata))
        target = task if is_task(task) else (job.func_ref or task)
        kept = self._start_or_drop(job, run_times)  # the worker cannot report its start: count from submission
        if not kept:
            self._release(job.id)
            return
        runs = [entry for entry in runs if entry[0] in kept]
        run_times = kept
        jobstore = job._jobstore_alias
        future = self._client.submit(_run_remote, target, job.args, job.kwargs, runs, grace, pure=False)

        def done(fut: Any) -> None:
            try:
                outcomes = fut.result()
            except BaseException as exc:
                self._logger.error("Job %s could not run on the Dask cluster: %r", job.id, exc)
                tb = "".join(traceback.format_exception(exc))
                events = [
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore, t, exception=exc, traceback=tb)
                    for t in run_times
                ]
            else:
                events = [
                    JobExecutionEvent(code, job.id, jobstore, t, retval=retval, exception=error, traceback=tb)
                    for code, t, retval, error, tb in outcomes
                ]
            self._run_job_success(job.id, events)

        future.add_done_callback(done)
