"""The run half of the scheduler API: the run history, cancelling runs, retries and run retention.

A mixin of :class:`~nbsched.schedulers.base.BaseScheduler`, split out to keep modules small (as
:mod:`nbsched.schedulers._jobs` is for jobs). Runs are recorded as they go by :mod:`nbsched.schedulers._runs`;
this is what the scheduler does with them: answer ``runs()``, cancel one, retry a failed or lost one, prune old
ones with their output folders, and delete the folders on this machine of runs pruned elsewhere.
"""

from __future__ import annotations

import contextlib
import heapq
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nbsched.datetimes import convert_to_datetime
from nbsched.exceptions import JobLookupError, RunFinishedError, RunLookupError
from nbsched.limits import retry_delay
from nbsched.runs import Run, RunFilter, RunStatus, run_status
from nbsched.schedulers._core import SchedulerCore
from nbsched.schedulers._outputs import FolderSweeper, delete_run_folder, mark_run_folder

if TYPE_CHECKING:
    from pathlib import Path

    from nbsched.events import JobExecutionEvent, SchedulerEvent
    from nbsched.job import Job

__all__ = ["RunsAPI"]


class RunsAPI(SchedulerCore):
    """runs, cancel_run, and the retry and retention bookkeeping behind them (a piece of the scheduler, see
    :mod:`nbsched.schedulers._core`)."""

    _folder_sweeper: FolderSweeper | None = None  # made at the first pruning pass

    def runs(
        self,
        job_id: str | None = None,
        status: str | list[str] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = 100,
        jobstore: str | None = None,
    ) -> list[Run]:
        """The run history, newest first: status, timings, attempt, worker, error and outputs of each run.

        :param job_id: only this job's runs
        :param status: only runs with this status (or one of these)
        :param since: only runs scheduled at or after this instant
        :param until: only runs scheduled before this instant
        :param limit: at most this many (``None``: all)
        :param jobstore: only this job store's runs
        """
        owner = "runs"
        statuses = [status] if isinstance(status, str) else status
        run_filter = RunFilter(
            job_id=job_id,
            status=None if statuses is None else [run_status(item, owner) for item in statuses],
            since=convert_to_datetime(since, self.timezone, owner, "since"),
            until=convert_to_datetime(until, self.timezone, owner, "until"),
            limit=limit,
        )
        self._recorder.flush()
        found: list[Run] = []
        for alias, store in list(self._jobstores.items()):
            if jobstore in (None, alias):
                found.extend(store.get_runs(run_filter))
        found.sort(key=lambda run: run.scheduled_at, reverse=True)
        return found[:limit] if limit is not None else found

    def cancel_run(self, run_id: str, reason: str = "cancelled", jobstore: str | None = None) -> Run:
        """Cancel a scheduled or running run: it is recorded ``cancelled`` at once, stays so, and is stopped
        where it runs. A notebook or cell run's kernel is interrupted, then killed; a run queued for a kernel does
        not start; a function already running in a thread cannot be stopped and runs to its end. A run of
        another process sharing the store is stopped when that scheduler next heartbeats its runs (within
        ``heartbeat_interval`` seconds). A cancelled run is not retried.

        :param run_id: the run's id
        :param reason: recorded as the run's error message
        :param jobstore: the job store holding it (default: look in every one)
        :return: the run as recorded
        :raises RunLookupError: when no run has this id
        :raises RunFinishedError: when it has finished already
        """
        now = self._clock.now()
        self._recorder.flush()  # the store sees this scheduler's latest statuses first
        for alias, store in list(self._jobstores.items()):
            if jobstore not in (None, alias):
                continue
            found = store.get_run(run_id)
            if found is None:
                continue
            run = store.cancel_run(run_id, now, reason)
            if run is None:
                latest = store.get_run(run_id) or found
                raise RunFinishedError(run_id, str(latest.status))
            self._stop_run(run_id, now, reason)
            return run
        raise RunLookupError(run_id)

    def _stop_run(self, run_id: str, at: datetime, reason: str) -> None:
        """Record a cancellation in this scheduler's own bookkeeping and ask the executor to stop the run."""
        found = self._recorder.cancelled(run_id, at, reason)
        if found is None:
            return  # not this scheduler's run
        job, run_time = found
        self._logger.info("Run %s of job %s was cancelled: %s", run_id, job.id, reason)
        try:
            self._lookup_executor(job.executor).cancel_run(job.id, run_time)
        except Exception:
            self._logger.exception("Could not stop run %s of job %s", run_id, job.id)

    def _job_finished(self, event: JobExecutionEvent) -> None:
        """Record an executor's outcome; schedule a retry when the job asks for one."""
        outcome = self._recorder.finished(event)
        if outcome is None:
            return
        run, job = outcome
        if event.jobstore is not None:
            self._after_run(job, run, event.jobstore)

    def _after_run(self, job: Job, run: Run, alias: str) -> None:
        """Retry a failed, timed-out or lost run where the job asks for it; else let a completed job go."""
        if run.status is RunStatus.SUCCEEDED and not job.completed:
            return  # the common case, decided without the checks below
        retry_timeouts = job.task.retries_timeouts()
        retryable = run.status in (RunStatus.FAILED, RunStatus.LOST) or (
            run.status is RunStatus.TIMED_OUT and retry_timeouts
        )
        if retryable and run.attempt <= job.retries and self._cancelled_in_store(run, alias) is None:
            self._schedule_retry(job, run, alias)
        elif job.completed:
            with contextlib.suppress(JobLookupError):  # another scheduler may have removed it
                self.remove_job(job.id, alias)

    def _cancelled_in_store(self, run: Run, alias: str) -> Run | None:
        """``run`` as stored when another process cancelled it there (then it is not retried), else ``None``;
        also ``None`` when the store cannot tell (a cancellation is noticed at a later heartbeat)."""
        store = self._jobstores.get(alias)
        try:
            stored = store.get_run(run.id) if store is not None else None
        except Exception:
            return None
        return stored if stored is not None and stored.status is RunStatus.CANCELLED else None

    def _run_lost(self, run: Run, alias: str) -> None:
        """A run whose worker died was marked lost: retry it where its job asks for retries."""
        store = self._jobstores.get(alias)
        job = store.lookup_job(run.job_id) if store is not None else None
        if job is not None:
            self._after_run(job, run, alias)

    def _schedule_retry(self, job: Job, run: Run, alias: str) -> None:
        delay = retry_delay(job.retry_backoff, run.attempt)  # doubling, capped: never overflows
        due = self._clock.now() + timedelta(seconds=delay)
        self._logger.info("Retrying job %s (attempt %d) in %.1f s", job.id, run.attempt + 1, delay)
        self._recorder.retry(run, alias, job)
        with self._jobstores_lock:
            self._retry_seq += 1
            heapq.heappush(self._retry_queue, (due, self._retry_seq, job, alias, run.scheduled_at))
        self.wakeup()

    def _submit_due_retries(self, now: datetime, events: list[SchedulerEvent]) -> None:
        while self._retry_queue and self._retry_queue[0][0] <= now:
            _, _, job, alias, scheduled_at = heapq.heappop(self._retry_queue)
            if self._cancelled_while_waiting(job, alias, scheduled_at):
                self._logger.info(
                    "Run of job %s at %s was cancelled before its retry: not retried", job.id, scheduled_at
                )
                self._recorder.drop(job.id, scheduled_at)
                continue
            self._submit(job, alias, [scheduled_at], events)

    def _cancelled_while_waiting(self, job: Job, alias: str, scheduled_at: datetime) -> bool:
        """Whether the run about to be retried was cancelled here, or in the store by another process."""
        if self._recorder.is_cancelled(job.id, scheduled_at):
            return True
        run = self._recorder.current(job.id, scheduled_at)
        stored = self._cancelled_in_store(run, alias) if run is not None else None
        if run is None or stored is None:
            return False
        self._recorder.cancelled(run.id, stored.finished_at or self._clock.now(), stored.error_message or "")
        return True

    def _prune_runs(self, now: datetime) -> None:
        """Apply run retention (``keep_runs`` per job, ``keep_runs_for`` seconds) at most once a minute."""
        if self._last_prune is not None and now - self._last_prune < timedelta(seconds=60):
            return
        self._last_prune = now
        older_than = now - timedelta(seconds=self.keep_runs_for) if self.keep_runs_for is not None else None
        for alias, store in list(self._jobstores.items()):
            try:
                pruned = store.prune_runs(self.keep_runs, older_than)
            except Exception as exc:
                self._logger.warning("Could not prune runs of job store %r: %s", alias, exc)
                continue
            if pruned:
                self._logger.debug("Pruned %d run(s) from job store %r", len(pruned), alias)
                _remove_run_folders(pruned)
        self._sweep_run_folders(now)

    def run_folder(self, job_id: str, run_id: str, jobstore: str | None) -> Path:
        """The output folder of a run, ``<data dir>/runs/<job id>/<run id>/`` (created mode 0700), marked with
        its store's ``store_id`` so that whichever scheduler over that store runs on this machine deletes it once
        the run is gone from the store (pruned or deleted, also by another machine). Executors write there.

        :param jobstore: the alias of the job store the run is recorded in
        :raises ValueError: when an id cannot be a folder name
        """
        from nbsched.paths import runs_dir

        folder = runs_dir(job_id, run_id)
        store = self._jobstores.get(jobstore) if jobstore is not None else None
        mark_run_folder(folder, store.store_id if store is not None else None)
        return folder

    def _sweep_run_folders(self, now: datetime) -> None:
        """Delete this data dir's folders of runs gone from their store (see :mod:`nbsched.schedulers._outputs`)."""
        if self._folder_sweeper is None:
            self._folder_sweeper = FolderSweeper()
        if not self._folder_sweeper.due(now):
            return
        from nbsched.paths import data_dir

        try:
            self._recorder.flush()  # the rows of this scheduler's runs are in the store before it is asked
            deleted = self._folder_sweeper.sweep(data_dir(create=False) / "runs", dict(self._jobstores))
        except Exception as exc:
            self._logger.warning("Could not look for output folders of deleted runs: %s", exc)
            return
        if deleted:
            self._logger.debug("Deleted %d output folder(s) of runs no longer stored", len(deleted))


def _remove_run_folders(runs: list[Run]) -> None:
    """Delete the output folders of pruned runs (``<data dir>/runs/<job id>/<run id>/``), files with rows."""
    from nbsched.paths import data_dir

    root = data_dir(create=False) / "runs"
    for run in runs:  # a run that failed before writing anything may still have left its folder
        delete_run_folder(root, root / run.job_id / run.id)
