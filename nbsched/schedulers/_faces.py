"""The part of the scheduler API the faces (CLI, REST, magics, panel, JupyterLab) share: run a job now, the last
run of many jobs, who runs jobs over a store, and the aliases a face may look at.

A mixin of :class:`~nbsched.schedulers.base.BaseScheduler` (as :mod:`nbsched.schedulers._jobs` and
:mod:`nbsched.schedulers._history` are). Every face calls these methods with the same meaning, so a job run now
from the command line, a REST client, a notebook or JupyterLab behaves, and is reported, the same way.

Liveness: a scheduler that runs jobs (not ``manage_only``) writes a :class:`~nbsched.liveness.SchedulerInfo` row to
each of its job stores when it starts, again on every heartbeat (``heartbeat_interval``, by the run recorder's
thread) and deletes it when it shuts down cleanly.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nbsched.liveness import RunNow, SchedulerInfo
from nbsched.schedulers._core import STATE_RUNNING, SchedulerCore

if TYPE_CHECKING:
    from nbsched.abc import Executor
    from nbsched.runs import Run

__all__ = ["FacesAPI"]


class FacesAPI(SchedulerCore):
    """run_now, last_runs, live_schedulers, jobstore_aliases, get_executor, and the liveness rows behind them (a
    piece of the scheduler, see :mod:`nbsched.schedulers._core`)."""

    #: this scheduler's id in the stores' ``schedulers`` tables (new at each start; ``None`` while none is written)
    scheduler_id: str | None = None
    _started_at: datetime | None = None

    # ---------------------------------------------------------------------------------------------- run now
    def run_now(self, job_id: str, jobstore: str | None = None) -> RunNow:
        """Run a job once, now, through the store: the one meaning of "run now" in every face.

        - An active job's next run time becomes now. A scheduler over the store claims that fire (exactly once,
          as any fire) and runs it; then the job's trigger goes on as before: a cron job keeps its grid, an
          interval job's next run is one interval after this run, a one-off date job runs now instead of later.
        - A paused job runs once now and stays paused: its next run time becomes now and the claim of that fire
          pauses it again, in the same conditional write (:attr:`~nbsched.job.Job.pause_after_run`). Pausing,
          resuming or rescheduling it before then cancels the run.

        Nothing runs in the caller: a scheduler running jobs over the store does it. The result says whether one
        is alive (:attr:`~nbsched.liveness.RunNow.live`) and gives the sentence to show
        (:meth:`~nbsched.liveness.RunNow.message`).

        :param jobstore: the job's store alias (``None``: look in every store)
        :return: the run's due time (its ``scheduled_at``), whether the job was paused, and who will run it
        :raises JobLookupError: when there is no such job
        """
        from nbsched.events import EVENT_JOB_MODIFIED, JobEvent

        with self._jobstores_lock:
            job, alias = self._lookup_job(job_id, jobstore)
            due = self._clock.now().astimezone(UTC)
            # (also when an earlier run_now of the paused job is still due: it stays paused after this one)
            was_paused = job.next_run_time is None or job.pause_after_run
            job.next_run_time = due
            job.pause_after_run = was_paused
            if alias is not None:  # (None: a job added before start(); stored with this due time at start)
                self._lookup_jobstore(alias).update_job(job)
        self._dispatch_event(JobEvent(EVENT_JOB_MODIFIED, job.id, alias))
        if self.state == STATE_RUNNING:
            self.wakeup()
        live = tuple(self.live_schedulers(alias)) if alias is not None else ()
        return RunNow(job_id=job.id, due=due, was_paused=was_paused, live=live)

    # -------------------------------------------------------------------------------------------- last runs
    def last_runs(self, job_ids: Collection[str] | None = None, jobstore: str | None = None) -> dict[str, Run]:
        """The latest run (newest ``scheduled_at``) of each job, by job id: one query per job store.

        :param job_ids: only these jobs (``None``: every job that has runs)
        :param jobstore: only this job store's runs (``None``: every store's; the newest wins for an id in two)
        :raises PluginLookupError: for an unknown job store alias
        """
        ids = None if job_ids is None else list(job_ids)
        stores = [self._lookup_jobstore(jobstore)] if jobstore is not None else list(self._jobstores.values())
        latest: dict[str, Run] = {}
        for store in stores:
            for job_id, run in store.last_runs(ids).items():
                known = latest.get(job_id)
                if known is None or run.scheduled_at > known.scheduled_at:
                    latest[job_id] = run
        return latest

    # ------------------------------------------------------------------------------------------------ liveness
    def live_schedulers(self, jobstore: str | None = None) -> list[SchedulerInfo]:
        """The schedulers running jobs over a job store now (this one included, when it does), oldest first.

        A scheduler counts while its latest heartbeat is at most ``lost_after`` seconds old (this scheduler's
        setting: keep it several times every sharing process's ``heartbeat_interval``, as for lost runs) and it
        processes jobs (not paused, not ``manage_only``). Over the memory store only this process's schedulers
        can count.

        :param jobstore: the store's alias (``None``: ``"default"``)
        :raises PluginLookupError: for an unknown job store alias
        """
        store = self._lookup_jobstore(jobstore or "default")
        now = self._clock.now()
        rows = [row for row in store.live_schedulers(now - timedelta(seconds=self.lost_after)) if row.runs_jobs]
        own = self._liveness_info(now)
        if own is not None and own.runs_jobs and all(row.id != own.id for row in rows):
            rows.insert(0, own)  # this scheduler runs jobs, whatever its last written heartbeat says
        return rows

    def _liveness_info(self, now: datetime) -> SchedulerInfo | None:
        if self.scheduler_id is None or self._started_at is None:
            return None
        return SchedulerInfo(
            id=self.scheduler_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self._started_at,
            heartbeat_at=now.astimezone(UTC),
            runs_jobs=self.state == STATE_RUNNING,
        )

    def _liveness_started(self) -> None:
        """Called by ``start()``: write this scheduler's first liveness row (not when it only manages jobs)."""
        if self.manage_only:
            return
        self.scheduler_id = uuid.uuid4().hex
        self._started_at = self._clock.now().astimezone(UTC)
        self.beat_liveness()

    def beat_liveness(self, now: datetime | None = None) -> None:
        """Write this scheduler's liveness row to each of its job stores (the run recorder calls it every
        ``heartbeat_interval``; nothing when the scheduler only manages jobs). A store that fails is logged."""
        info = self._liveness_info(now if now is not None else self._clock.now())
        if info is None:
            return
        for alias, store in list(self._jobstores.items()):
            try:
                store.record_scheduler(info)
            except Exception as exc:  # liveness is advice: a failing store must not stop the heartbeat
                self._logger.warning("Could not record this scheduler's heartbeat in job store %r: %s", alias, exc)

    def _liveness_stopped(self) -> None:
        """Called by ``shutdown()`` before the stores close: delete this scheduler's liveness rows."""
        scheduler_id, self.scheduler_id = self.scheduler_id, None
        if scheduler_id is None:
            return
        for alias, store in list(self._jobstores.items()):
            try:
                store.remove_scheduler(scheduler_id)
            except Exception as exc:
                self._logger.warning("Could not remove this scheduler's liveness row from job store %r: %s", alias, exc)

    # ---------------------------------------------------------------------------------------- what faces see
    def jobstore_aliases(self) -> list[str]:
        """The aliases of this scheduler's job stores, in the order they were added."""
        with self._jobstores_lock:
            return list(self._jobstores)

    def get_executor(self, alias: str) -> Executor | None:
        """The executor by that alias, or ``None`` (unlike job lookups, created on first use ones are not
        created here)."""
        return self._executors.get(alias)
