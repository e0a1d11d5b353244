"""Stopping a scheduler process with a grace period: what ``nbsched serve`` does on SIGTERM and the Jupyter server
extension does when the server stops.

1. :func:`wait_for_runs`: stop taking new fires (pause) and wait up to ``grace`` seconds for the runs this process
   (``host:pid``) holds to finish;
2. shut the scheduler down without waiting (``scheduler.shutdown(wait=False)``);
3. :func:`cancel_unfinished`: record every run this process still holds as ``cancelled``, with the reason;
4. :func:`stop_kernels`: kill the kernels of notebook and cell runs, so their threads end.

:func:`stop_with_grace` does the four in order. Notebook and cell runs still queued never start (the notebook
executor drops them when shut down without waiting); running ones end when their kernels are killed. A function
already running in a thread cannot be stopped: its thread goes on (nbsched's pool threads are daemons, so it does
not keep the process alive) and its outcome is not recorded over the cancellation.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from nbsched.runs import ACTIVE, Run, RunFilter, worker_id

__all__ = ["POLL_INTERVAL", "cancel_unfinished", "stop_kernels", "stop_with_grace", "wait_for_runs"]

logger = logging.getLogger("nbsched.shutdown")

#: seconds between two looks at the runs still going during the grace period
POLL_INTERVAL = 0.2


def _my_active_runs(scheduler: Any) -> int:
    me = worker_id()
    # Runs waiting for a retry are not waited for: the paused scheduler would never start them.
    retrying = {(job.id, run_time) for _, _, job, _, run_time in getattr(scheduler, "_retry_queue", [])}
    return sum(
        1
        for run in scheduler.runs(status=sorted(ACTIVE), limit=None)
        if run.worker == me and (run.job_id, run.scheduled_at) not in retrying
    )


def _count(scheduler: Any, log: logging.Logger) -> int:
    try:
        return _my_active_runs(scheduler)
    except Exception as exc:  # the store is unavailable: nothing to wait for that could be recorded
        log.warning("cannot read the runs in progress: %s", exc)
        return 0


def wait_for_runs(
    scheduler: Any, grace: float, force: threading.Event | None = None, log: logging.Logger = logger
) -> int:
    """Pause ``scheduler`` and wait up to ``grace`` seconds for the runs of this process to finish.

    :param grace: seconds to wait at most (0: do not wait)
    :param force: when set, the wait ends at once (a second signal)
    :param log: where the wait and its outcome are logged
    :return: how many runs were still going when the wait ended
    """
    try:
        scheduler.pause()
    except Exception as exc:  # not started yet, or stopped meanwhile: the shutdown that follows copes
        log.debug("pause failed: %s", exc)
    deadline = time.monotonic() + grace
    active = _count(scheduler, log)
    if active and grace > 0:
        hint = " (signal again to stop now)" if force is not None else ""
        log.info("waiting up to %g s for %d running run(s) to finish%s", grace, active, hint)
    while active and time.monotonic() < deadline and not (force is not None and force.is_set()):
        if force is not None:
            force.wait(POLL_INTERVAL)
        else:
            time.sleep(POLL_INTERVAL)
        active = _count(scheduler, log)
    if active:
        log.warning("%d run(s) still running after the grace period: cancelling them", active)
    return active


def cancel_unfinished(store: Any, reason: str, now: datetime | None = None) -> list[Run]:
    """Mark ``cancelled`` every run this process (``host:pid``) holds that has not finished.

    :param store: the job store holding the runs (a :class:`~nbsched.jobstores.sqlalchemy.SQLAlchemyJobStore`)
    :param reason: recorded as each run's error message
    :param now: the time recorded as the end of the runs (default: now, UTC)
    :return: the runs cancelled
    """
    me = worker_id()
    when = now or datetime.now(UTC)
    cancelled = []
    for run in store.get_runs(RunFilter(status=ACTIVE)):
        if run.worker == me:
            done = store.cancel_run(run.id, when, reason)  # conditional: a run that just finished keeps its status
            if done is not None:
                cancelled.append(done)
    return cancelled


def stop_kernels() -> None:
    """Kill the kernels of this process's notebook and cell runs, so their threads end (only if any were used)."""
    kernels = sys.modules.get("nbsched.notebooks.kernelstop")  # not imported: no kernel was ever started
    if kernels is not None:
        kernels.kill_all()


def stop_with_grace(
    scheduler: Any,
    url: str,
    grace: float,
    reason: str,
    *,
    force: threading.Event | None = None,
    log: logging.Logger = logger,
) -> list[Run]:
    """Stop ``scheduler`` as the module docstring says: wait, shut down, cancel what is left, stop its kernels.

    :param url: the database URL of the scheduler's store (the cancellations are written through a store of
        their own: the scheduler's is shut down with it)
    :param grace: seconds the runs in progress get to finish
    :param reason: recorded on each cancelled run
    :param force: when set, the wait ends at once
    :param log: where the stop is logged
    :return: the runs cancelled
    """
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    wait_for_runs(scheduler, grace, force, log)
    with contextlib.suppress(Exception):  # stopped meanwhile
        scheduler.shutdown(wait=False)
    store = SQLAlchemyJobStore(url=url)
    try:
        cancelled = cancel_unfinished(store, reason, scheduler.clock.now())
    finally:
        store.shutdown()
    for run in cancelled:
        log.warning("run %s of %s was cancelled: %s", run.id, run.job_id, reason)
    if cancelled:
        stop_kernels()
    return cancelled
