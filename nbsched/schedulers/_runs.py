"""The scheduler's run bookkeeping: run rows for claimed fires, their status, heartbeats, lost runs, retention.

Status changes are queued and written in batches by one writer thread (``store.update_runs``), so a run that
starts and finishes within a batch window costs one write. The writer sleeps while nothing is queued and no
run is in progress, apart from a check for lost runs every ``heartbeat_interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.runs import Run, RunStatus, worker_id

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["RunRecorder"]

_OUTCOME = {
    EVENT_JOB_EXECUTED: RunStatus.SUCCEEDED,
    EVENT_JOB_ERROR: RunStatus.FAILED,
    EVENT_JOB_MISSED: RunStatus.SKIPPED,
}
#: seconds between batched writes of run status changes
FLUSH_DELAY = 0.05


class RunRecorder:
    """Tracks this scheduler's runs in progress and writes their status to the job stores."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self._scheduler = scheduler
        self._logger = logging.getLogger("nbsched.runs")
        self._cond = threading.Condition()
        # (job id, scheduled_at) -> (run, store alias, job): the job is kept so retries work for removed jobs.
        self._active: dict[tuple[str, datetime], tuple[Run, str, Job]] = {}
        self._dirty: dict[str, tuple[Run, str]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._worker = worker_id()

    # ---------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="nbsched-runs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self.flush()

    # ------------------------------------------------------------------------------------- run changes
    def new_runs(self, job: Job, run_times: list[datetime], missed: list[datetime], now: datetime) -> list[Run]:
        """Run rows for a fire about to be claimed: ``scheduled`` ones to run, ``skipped`` ones missed."""
        # A claimed run belongs to this worker from the start: if it dies before the run starts, the run is lost.
        runs = [Run(job_id=job.id, scheduled_at=t, worker=self._worker, heartbeat_at=now) for t in run_times]
        for t in missed:
            runs.append(
                Run(
                    job_id=job.id,
                    scheduled_at=t,
                    status=RunStatus.SKIPPED,
                    finished_at=now,
                    error_message=f"missed by {now - t} (misfire_grace_time {job.misfire_grace_time} s)",
                )
            )
        return runs

    def claimed(self, alias: str, runs: list[Run], job: Job) -> None:
        """Track the runs of a won claim until their executor reports back."""
        with self._cond:
            for run in runs:
                if run.status is RunStatus.SCHEDULED:
                    self._active[(run.job_id, run.scheduled_at)] = (run, alias, job)

    def started(self, job_id: str, run_time: datetime) -> None:
        """An executor began running ``job_id``'s fire at ``run_time``."""
        now = self._scheduler._clock.now()
        with self._cond:
            entry = self._active.get((job_id, run_time))
            if entry is None:
                return
            run = entry[0]
            run.status = RunStatus.RUNNING
            run.started_at = run.heartbeat_at = now
            run.worker = self._worker
            self._mark(run, entry[1])

    def current(self, job_id: str, run_time: datetime) -> Run | None:
        """The run this scheduler is tracking for ``job_id``'s fire at ``run_time`` (executors name their
        output folders after its id)."""
        with self._cond:
            entry = self._active.get((job_id, run_time))
            return entry[0] if entry else None

    def progress(self, job_id: str, run_time: datetime, text: str, outputs: dict[str, str] | None = None) -> None:
        """A running run reports progress (``"cell 7/23"``) and, optionally, where its outputs are."""
        with self._cond:
            entry = self._active.get((job_id, run_time))
            if entry is None:
                return
            run = entry[0]
            run.progress = text
            if outputs:
                run.outputs = {**run.outputs, **outputs}
            self._mark(run, entry[1])

    def finished(self, event: JobExecutionEvent) -> tuple[Run, Job] | None:
        """Record an executor's outcome event; returns the finished run and its job (``None``: not tracked)."""
        status = _OUTCOME.get(event.code)
        if status is None or event.scheduled_run_time is None:
            return None
        now = self._scheduler._clock.now()
        with self._cond:
            entry = self._active.pop((event.job_id, event.scheduled_run_time), None)
            if entry is None:
                return None
            run, alias, job = entry
            run.status = status
            run.finished_at = now
            if run.started_at is None and status is not RunStatus.SKIPPED:
                run.started_at = now
            # Executors of notebook runs report outputs, the failing cell and timeouts on the result/error.
            detail = event.exception if event.exception is not None else event.retval
            outputs = getattr(detail, "outputs", None)
            if isinstance(outputs, dict):
                run.outputs = {**run.outputs, **outputs}
            cell_index = getattr(detail, "cell_index", None)
            if isinstance(cell_index, int):
                run.cell_index = cell_index
            if event.exception is not None:
                run.status = RunStatus(getattr(event.exception, "run_status", RunStatus.FAILED))
                run.error_type = getattr(event.exception, "ename", None) or type(event.exception).__name__
                run.error_message = getattr(event.exception, "evalue", None) or str(event.exception)
                run.traceback = event.traceback
            elif status is RunStatus.SKIPPED:
                run.error_message = "missed its misfire grace time before it could start"
            self._mark(run, alias)
            return run, job

    def refused(self, job_id: str, run_times: list[datetime], reason: str) -> None:
        """The executor did not take these runs (max_instances reached, submission failed)."""
        now = self._scheduler._clock.now()
        with self._cond:
            for run_time in run_times:
                entry = self._active.pop((job_id, run_time), None)
                if entry is not None:
                    run, alias, _ = entry
                    run.status = RunStatus.SKIPPED
                    run.finished_at = now
                    run.error_message = reason
                    self._mark(run, alias)

    def retry(self, run: Run, alias: str, job: Job) -> None:
        """Put a failed or lost run back to ``scheduled`` for its next attempt and track it again."""
        with self._cond:
            run.status = RunStatus.SCHEDULED
            run.attempt += 1
            run.started_at = run.finished_at = None
            run.worker = self._worker
            run.heartbeat_at = self._scheduler._clock.now()
            self._active[(run.job_id, run.scheduled_at)] = (run, alias, job)
            self._mark(run, alias)

    def _mark(self, run: Run, alias: str) -> None:
        # Called with the condition held.
        first = not self._dirty
        self._dirty[run.id] = (run, alias)
        if first:
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------------- writing
    def flush(self) -> None:
        """Write every queued change now."""
        with self._cond:
            batch = self._dirty
            self._dirty = {}
        by_store: dict[str, list[Run]] = {}
        for run, alias in batch.values():
            by_store.setdefault(alias, []).append(run)
        for alias, runs in by_store.items():
            store = self._scheduler._jobstores.get(alias)
            if store is None:
                continue
            try:
                store.update_runs(runs)
            except Exception as exc:
                self._logger.warning(
                    "Could not record %d run(s) in job store %r (will retry): %s", len(runs), alias, exc
                )
                with self._cond:
                    for run in runs:
                        self._dirty.setdefault(run.id, (run, alias))

    def active_count(self) -> int:
        with self._cond:
            return len(self._active)

    def _loop(self) -> None:
        scheduler = self._scheduler
        next_check = 0.0
        import time

        while True:
            with self._cond:
                if self._stopping:
                    return
                interval = scheduler.heartbeat_interval
                timeout = max(0.0, next_check - time.monotonic())
                if not self._dirty:
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                has_dirty = bool(self._dirty)
            if has_dirty:
                # Give a short batch window so that starts and finishes of quick runs merge into one write.
                with self._cond:
                    self._cond.wait(FLUSH_DELAY)
                self.flush()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + interval
                try:
                    self._heartbeat_and_reap()
                except Exception:
                    self._logger.exception("Heartbeat or lost-run check failed")

    def _heartbeat_and_reap(self) -> None:
        scheduler = self._scheduler
        now = scheduler._clock.now()
        with self._cond:
            running: dict[str, list[str]] = {}
            for run, alias, _ in self._active.values():
                run.heartbeat_at = now
                running.setdefault(alias, []).append(run.id)
        for alias, store in list(scheduler._jobstores.items()):
            if alias in running:
                store.heartbeat_runs(running[alias], now)
            stale_before = now - timedelta(seconds=scheduler.lost_after)
            for run in store.mark_lost_runs(stale_before, now):
                self._logger.warning(
                    "Run %s of job %s was lost (worker %s stopped answering)", run.id, run.job_id, run.worker
                )
                scheduler._run_lost(run, alias)
        scheduler._prune_runs(now)
