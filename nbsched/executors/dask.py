"""The Dask executor: runs notebook, headless cell and function jobs on a ``dask.distributed`` cluster.

Install the ``dask`` extra (``pip install nbsched[dask]``). Functions travel by their ``module:qualname``
reference (workers must be able to import them); other jobs (notebooks, cells, any task kind) travel as their
JSON state and their task runs on the worker under a :class:`~nbsched.executors.remote.DetachedRunContext`.
A notebook run writes its outputs to the run folder named in this process
(``<data dir>/runs/<job id>/<run id>/``), so workers on other machines need that folder on a shared file system;
the paths are recorded either way. Kernels are started on the worker for each run (warm kernels are the
notebook executor's).
"""

from __future__ import annotations

import time
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nbsched.abc import Task
from nbsched.exceptions import ExecutorNotRunningError, PluginLoadError
from nbsched.executors.base import BaseExecutor
from nbsched.executors.remote import DetachedRunContext
from nbsched.outcome import RunOutcome
from nbsched.refs import ref_to_obj

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost, RunContext
    from nbsched.job import Job

__all__ = ["DaskExecutor"]


def _run_remote(
    target: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runs: list[tuple[datetime, float | None, str, str | None]],
    job: Job | None,
) -> list[RunOutcome]:
    """Worker side: run the job's task under a detached context (``job`` given) or call the function ``target``,
    once per run ``(fire time, wall-clock deadline to start or None, run id, output folder)``."""
    if isinstance(target, str):
        target = ref_to_obj(target)
    outcomes: list[RunOutcome] = []
    for run_time, deadline, run_id, folder in runs:
        if deadline is not None and time.time() > deadline:
            outcomes.append(RunOutcome.missed())
            continue
        try:
            if job is not None and folder is not None:
                context = DetachedRunContext(job, run_time, run_id, job.jobstore, folder)
                outcomes.append(job.task.run(context))
                continue
            retval = target(*args, **kwargs)
        except BaseException as exc:
            text = getattr(exc, "traceback_text", "") or "".join(traceback.format_exception(exc))
            outcomes.append(RunOutcome.failed(exc, text))
        else:
            outcomes.append(RunOutcome.succeeded(retval))
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

    def start(self, scheduler: ExecutorHost, alias: str) -> None:
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

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        if self._client is None:
            raise ExecutorNotRunningError("DaskExecutor", "is not started")
        # The cluster cannot report a run's start: the runs start at submission (those cancelled or too late by now
        # end here); the worker checks the grace time again against its clock when it gets to them.
        contexts = [context for context in contexts if context.started()]
        if not contexts:
            return
        is_task = isinstance(job.func, Task)
        runs: list[tuple[datetime, float | None, str, str | None]] = []
        for context in contexts:
            left = context.grace_left()
            folder = str(context.output_folder()) if is_task else None
            runs.append((context.run_time, None if left is None else time.time() + left, context.run_id, folder))
        target = None if is_task else (job.func_ref or job.func)
        future = self._client.submit(
            _run_remote, target, job.args, job.kwargs, runs, job if is_task else None, pure=False
        )

        def done(fut: Any) -> None:
            try:
                outcomes = fut.result()
            except BaseException as exc:
                self._logger.error("Job %s could not run on the Dask cluster: %r", job.id, exc)
                text = "".join(traceback.format_exception(exc))
                outcomes = [RunOutcome.failed(exc, text) for _ in contexts]
            for context, outcome in zip(contexts, outcomes, strict=True):
                context.finished(outcome)

        future.add_done_callback(done)
