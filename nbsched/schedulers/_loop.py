"""The processing loop: find the due jobs in every store, plan their fires, claim them (exactly once, batch by
batch) and hand them to their executors; return how long to sleep until the next due time.

A piece of :class:`~nbsched.schedulers.base.BaseScheduler` (see :mod:`nbsched.schedulers._core`); the flavours
(blocking, background, asyncio) call :meth:`FiringLoop._process_jobs` and wait as long as it says.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from threading import TIMEOUT_MAX
from typing import Any

import attrs

from nbsched.abc import JobStore
from nbsched.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from nbsched.exceptions import MaxInstancesReachedError, PluginLookupError
from nbsched.job import Job
from nbsched.runs import Run
from nbsched.schedulers._catchup import FirePlan, plan_fires
from nbsched.schedulers._core import STATE_RUNNING, SchedulerCore

__all__ = ["CLAIM_BATCH", "WAITING_RECHECK", "FiringLoop"]

#: due fires claimed per store transaction
CLAIM_BATCH = 100
#: seconds between looks at fires waiting for their job's running instance (they are also submitted as soon as a
#: run of that job reports its end; this catches an executor that failed without reporting one)
WAITING_RECHECK = 1.0
# A due job planned for a claim: the job (already advanced), its expected next run time, the fires it runs,
# its plan (None: the trigger failed) and the run records to claim with it.
_Planned = tuple[Job, datetime, int, FirePlan | None, list[Run]]


class FiringLoop(SchedulerCore):
    """One processing pass over the stores (:meth:`_process_jobs`) and the claim and submission of due fires."""

    _passes_started: int
    _passes_done: int
    _passes_cond: threading.Condition
    _count_passes: bool
    _store_retry_at: dict[str, datetime]
    _skipping: set[str]
    _store_listeners: list[Callable[[str], Any]]

    def _process_jobs(self) -> float | None:
        """Run every due job; return the seconds until the next due time (``None``: nothing scheduled)."""
        if not self._count_passes:  # nobody waits for a pass to end (the clock never jumps)
            return self._process_due_jobs()
        with self._passes_cond:
            self._passes_started += 1
        try:
            return self._process_due_jobs()
        finally:
            with self._passes_cond:
                self._passes_done += 1
                self._passes_cond.notify_all()

    def _process_due_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        now = self._clock.now()
        wakeups: list[datetime] = []
        events: list[SchedulerEvent] = []
        changed: list[str] = []
        with self._jobstores_lock:
            if self._retry_queue:
                self._submit_due_retries(now, events)
                if self._retry_queue:
                    wakeups.append(self._retry_queue[0][0])
            if self._waiting.jobs:
                for job, alias, run_times in self._waiting.take():
                    self._submit(job, alias, run_times, events)
                if self._waiting.jobs:
                    wakeups.append(now + timedelta(seconds=WAITING_RECHECK))
            for alias, store in self._jobstores.items():
                retry_at = self._store_retry_at.get(alias)
                if retry_at is not None:
                    if now < retry_at:  # it failed: left alone until the time its warning gave
                        wakeups.append(retry_at)
                        continue
                    del self._store_retry_at[alias]
                try:
                    due_jobs = store.get_due_jobs(now)
                    self._fire_due_jobs(due_jobs, alias, store, now, events)
                    store_next = store.get_next_run_time()
                except Exception as exc:
                    self._logger.warning(
                        "Job store %r failed (will retry in %g s): %s", alias, self.jobstore_retry_interval, exc
                    )
                    retry_at = self._store_retry_at[alias] = now + timedelta(seconds=self.jobstore_retry_interval)
                    wakeups.append(retry_at)
                    continue  # not polled for changes meanwhile either (that made it retry every second)
                if store_next is not None:
                    wakeups.append(store_next)
                if store.change_check_interval is not None:
                    # Jobs added by other processes are noticed at this bounded interval while idle.
                    wakeups.append(now + timedelta(seconds=store.change_check_interval))
                # Every store is asked, not only those polled at an interval: a PostgreSQL store hears of
                # changes by LISTEN/NOTIFY and wakes the scheduler itself; others answer False.
                if self._store_listeners:
                    try:
                        store_changed = store.changed_since_last_check()
                    except Exception as exc:  # a failing check must not stop the pass: listeners re-read
                        self._logger.warning("Job store %r cannot tell whether it changed: %s", alias, exc)
                        store_changed = True
                    if store_changed:
                        changed.append(alias)
        for event in events:
            self._dispatch_event(event)
        for alias in changed:
            for callback in tuple(self._store_listeners):
                try:
                    callback(alias)
                except Exception:
                    self._logger.exception("Error notifying store listener")
        if self.state != STATE_RUNNING or not wakeups:
            return None
        # In UTC: datetimes sharing a zone compare and subtract by wall clock, wrong in a repeated DST hour.
        earliest = wakeups[0].astimezone(UTC) if len(wakeups) == 1 else min(w.astimezone(UTC) for w in wakeups)
        wait = (earliest - self._clock.now()).total_seconds()
        return min(max(wait, 0.0), TIMEOUT_MAX)

    def _fire_due_jobs(
        self, due_jobs: list[Job], alias: str, store: JobStore, now: datetime, events: list[SchedulerEvent]
    ) -> None:
        """Plan, claim and submit the due jobs batch by batch: each batch is one claim (one transaction in a
        persistent store) and its jobs start as soon as it is claimed, while the next batch is planned; with
        thousands due at once the first ones start after one batch's work, not after all of it."""
        # Sharing schedulers see the same due jobs: each starts at a random batch so they do not all race for
        # the same rows (and lose to whichever came first), and they take turns instead of one of them taking
        # every due job in one long transaction.
        if store.shared and len(due_jobs) > CLAIM_BATCH:
            offset = random.randrange(len(due_jobs) // CLAIM_BATCH + 1) * CLAIM_BATCH
            due_jobs = due_jobs[offset:] + due_jobs[:offset]
        for start in range(0, len(due_jobs), CLAIM_BATCH):
            prepared = []
            for job in due_jobs[start : start + CLAIM_BATCH]:  # loops, not comprehensions: fewer frames
                prepared.append(self._plan_job(job, now))
            self._claim_and_submit(prepared, alias, store, now, events)

    def _plan_job(self, job: Job, now: datetime) -> _Planned:
        """Advance a due job to its next run time and plan its fires and run records (undone if not claimed)."""
        expected = job.next_run_time
        assert expected is not None
        try:
            plan: FirePlan | None = plan_fires(
                job.trigger, expected, now, coalesce=job.coalesce, misfire_grace_time=job.misfire_grace_time
            )
        except Exception:
            self._logger.exception('Trigger of job "%s" failed; pausing the job', job)
            plan = None
        if plan is not None and job.max_runs is not None and job.run_count + len(plan.run_times) > job.max_runs:
            # A catch-up without coalescing would run more than the job has left: the first ones run.
            plan = attrs.evolve(plan, run_times=plan.run_times[: max(job.max_runs - job.run_count, 0)])
        fired = len(plan.run_times) if plan else 0
        next_run_time = plan.next_run_time if plan else None
        stays_paused = False
        if job.max_runs is not None and job.run_count + fired >= job.max_runs:
            next_run_time = None
        elif job.pause_after_run and plan is not None:
            next_run_time, stays_paused = None, True  # run_now of a paused job: paused again by this claim
        job.next_run_time = next_run_time
        job.run_count += fired
        # A finished schedule whose runs may still be retried stays stored until they are done.
        job.completed = next_run_time is None and fired > 0 and job.retries > 0 and not stays_paused
        runs = self._recorder.new_runs(job, plan, now) if plan else []
        return job, expected, fired, plan, runs

    def _claim_and_submit(
        self,
        prepared: list[_Planned],
        alias: str,
        store: JobStore,
        now: datetime,
        events: list[SchedulerEvent],
    ) -> None:
        claims: list[tuple[Job, datetime | None, list[Run]]] = []
        for job, expected, _, _, runs in prepared:
            claims.append((job, expected, runs))
        try:
            won = store.claim_jobs(claims)
        except Exception:
            for job, expected, fired, _, _ in prepared:
                job.next_run_time, job.run_count = expected, job.run_count - fired
            raise
        # Read after the claim, which may have waited long for a lock: fires due by now were missed meanwhile.
        handed_over = self._clock.now()
        for (job, expected, fired, plan, runs), claimed in zip(prepared, won, strict=True):
            if not claimed:
                job.next_run_time, job.run_count = expected, job.run_count - fired
                continue  # another scheduler claimed this fire
            if plan is None:
                continue  # stored with no next run time: paused until someone fixes or resumes it
            self._recorder.claimed(alias, runs, job)
            if job.next_run_time is None and not job.completed and not _stays_paused(job):
                # The trigger is done (a date job after its run) or max_runs is reached.
                store.remove_job(job.id)
                events.append(JobEvent(EVENT_JOB_REMOVED, job.id, alias))
            for run_time in plan.missed:
                self._logger.warning('Run time of job "%s" was missed by %s', job, now - run_time)
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
            for first, end in plan.skipped:
                # One event (and one skipped run) stands for the whole span, which may hold millions of fires.
                self._logger.warning(
                    'Job "%s" missed more fire times than are caught up one by one: skipped those from %s to %s',
                    job,
                    first,
                    end,
                )
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, first))
            if plan.run_times:
                self._submit(job, alias, plan.run_times, events, handed_over)

    def _submit(
        self,
        job: Job,
        alias: str,
        run_times: list[datetime],
        events: list[SchedulerEvent],
        at: datetime | None = None,
    ) -> None:
        """Hand ``run_times`` of ``job`` to its executor (``at``: the current time, if the caller read it)."""
        try:
            executor = self._executors.get(job.executor)
            if executor is None:
                executor = self._lookup_executor(job.executor)
            executor.submit_job(job, run_times)
        except MaxInstancesReachedError:
            wait, run_times = self._waiting.split(job.id, run_times)
            if wait:
                self._logger.info(
                    'Job "%s": %d missed fire time(s) wait for its running instance (max_instances %d)',
                    job,
                    len(wait),
                    job.max_instances,
                )
                self._waiting.add(job, alias, wait)
            if not run_times:
                return
            # One notice per stretch of skipped fires, not one per fire: a kernel-mode job waiting for a long cell
            # would print one a second into that cell. Each skipped fire is a skipped run in the history.
            first = job.id not in self._skipping
            self._skipping.add(job.id)
            self._logger.log(
                logging.WARNING if first else logging.DEBUG,
                'Execution of job "%s" skipped: maximum number of running instances reached (%d)%s',
                job,
                job.max_instances,
                "; until it runs again, further skipped fires are only recorded in its run history" if first else "",
            )
            reason = f"max_instances ({job.max_instances}) reached: the previous run had not ended"
            self._recorder.refused(job.id, run_times, reason)
            events.append(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, run_times))
        except PluginLookupError as exc:  # a job added before its executor (as APScheduler allows): kept
            self._logger.warning('Execution of job "%s" skipped: %s', job, exc.message)
            self._recorder.refused(job.id, run_times, exc.message)
        except Exception as exc:
            self._logger.exception('Error submitting job "%s" to executor "%s"', job, job.executor)
            self._recorder.refused(job.id, run_times, f"could not be submitted: {exc}")
        else:
            self._waiting.handed_over(job.id, at if at is not None else self._clock.now())
            if self._skipping:
                self._skipping.discard(job.id)
            if self._listener_mask & EVENT_JOB_SUBMITTED:
                events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times))


def _stays_paused(job: Job) -> bool:
    """Whether a claimed job with no next run time was paused again after a run_now (else it is done)."""
    return job.pause_after_run and (job.max_runs is None or job.run_count < job.max_runs)
