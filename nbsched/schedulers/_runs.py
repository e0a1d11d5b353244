"""The scheduler's run bookkeeping: run rows for claimed fires, their status, heartbeats, lost runs, retention.

Status changes are queued and written in batches by one writer thread (``store.update_runs``), so a run that
starts and finishes within a batch window costs one write. The writer sleeps while nothing is queued and no
run is in progress, apart from a check for lost runs every ``heartbeat_interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.masking import Masker
from nbsched.runs import Run, RunStatus, worker_id
from nbsched.schedulers._catchup import WALK_LIMIT, FirePlan

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.outcome import CancelSignal
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["RunRecorder"]

_OUTCOME = {
    EVENT_JOB_EXECUTED: RunStatus.SUCCEEDED,
    EVENT_JOB_ERROR: RunStatus.FAILED,
    EVENT_JOB_MISSED: RunStatus.SKIPPED,
}
#: seconds between batched writes of run status changes
FLUSH_DELAY = 0.05
#: cancellations of runs this scheduler does not track that are remembered, in case it is about to track them
PENDING_CANCELS = 256
_STARTED = "started"
_CANCELLED = "cancelled"


def coalesced_note(first: datetime, latest: datetime, count: int | None) -> str:
    """The warning of a run that stands for several fire times folded into one (``coalesce=True``)."""
    how_many = f"{count} fire times" if count is not None else f"more than {WALK_LIMIT + 1} fire times"
    return (
        f"coalesced {how_many} from {first.isoformat()} to {latest.isoformat()} into this run of the latest "
        "(coalesce=True)"
    )


class RunRecorder:
    """Tracks this scheduler's runs in progress and writes their status to the job stores.

    The firing path takes no lock here: ``claimed``/``started``/``finished`` run on the scheduler thread and
    on worker threads and only use single dict operations and a deque append, each atomic in CPython. Each
    run is changed by one thread at a time (the claimer, then the worker running it); the writer thread only
    reads runs to write them.

    A run's start and its cancellation race without a lock too: each side decides with one
    ``dict.setdefault`` on the run's id (atomic), so exactly one of "started" and "cancelled before it
    started" wins. A cancellation that loses leaves a request that the start reads after writing ``running``,
    so a run cancelled while it starts always ends ``cancelled``. (A lock here made worker threads queue
    behind one preempted inside it, and then behind each other: a lock convoy that halved firing throughput.)
    """

    def __init__(self, scheduler: BaseScheduler) -> None:
        self._scheduler = scheduler
        self._logger = logging.getLogger("nbsched.runs")
        # (job id, scheduled_at) -> (run, store alias, job): the job is kept so retries work for removed jobs.
        self._active: dict[tuple[str, datetime], tuple[Run, str, Job]] = {}
        self._changes: deque[tuple[Run, str]] = deque()
        # Cancellations of runs not (yet) tracked here: a run can be cancelled in the store between its claim and
        # claimed(). Entered before _active is searched, and searched after claimed() adds to _active, so one of
        # the two always sees the other. Runs of other processes stay here until PENDING_CANCELS newer ones.
        self._pending_cancels: dict[str, tuple[datetime, str]] = {}
        # Guards _pending_cancels against claimed() and cancelled() running at once (not on the worker path).
        self._state_lock = threading.Lock()
        # run id -> _STARTED or _CANCELLED: whichever of start and cancellation came first (see the class doc).
        self._decided: dict[str, str] = {}
        # run id -> (at, reason) of a cancellation; set before it tries to decide, read by a start that won.
        self._cancel_requests: dict[str, tuple[datetime, str]] = {}
        # run id -> the cancel signal of its run context (nbsched.schedulers._context), set by a cancellation.
        self._signals: dict[str, CancelSignal] = {}
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._worker = worker_id()

    # ---------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="nbsched-runs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self.flush()

    # ------------------------------------------------------------------------------------- run changes
    def new_runs(self, job: Job, plan: FirePlan, now: datetime) -> list[Run]:
        """Run rows for a fire about to be claimed: ``scheduled`` ones to run, ``skipped`` ones for the fire
        times missed and one for each span of fire times passed over (it says which)."""
        # A claimed run belongs to this worker from the start: if it dies before the run starts, the run is lost.
        runs = []
        for t in plan.run_times:  # a loop, not a comprehension: one frame less on the firing path
            runs.append(Run(job_id=job.id, scheduled_at=t, worker=self._worker, heartbeat_at=now))
        if plan.coalesced is not None and runs:
            runs[0].warnings.append(coalesced_note(*plan.coalesced))
        if not plan.missed and not plan.skipped:
            return runs
        skipped = [(t, f"missed by {now - t} (misfire_grace_time {job.misfire_grace_time} s)") for t in plan.missed]
        for first, end in plan.skipped:
            reason = (
                f"stands for the fire times from {first.isoformat()} up to {end.isoformat()}, which were skipped: "
                f"catch-up runs or reports at most {WALK_LIMIT} missed fire times one by one (coalesce=False)"
            )
            skipped.append((first, reason))
        for t, reason in skipped:
            runs.append(
                Run(job_id=job.id, scheduled_at=t, status=RunStatus.SKIPPED, finished_at=now, error_message=reason)
            )
        if plan.coalesced is not None and not plan.run_times:  # the latest fire time was missed: it says so
            runs[0].warnings.append(coalesced_note(*plan.coalesced))
        return runs

    def claimed(self, alias: str, runs: list[Run], job: Job) -> None:
        """Track the runs of a won claim until their executor reports back."""
        active = self._active
        for run in runs:
            # A run can be cancelled in the store before it is tracked here: it is tracked all the same, so that
            # its executor finds it cancelled and does not start it.
            if run.status is not RunStatus.SKIPPED:
                active[(run.job_id, run.scheduled_at)] = (run, alias, job)
        if self._pending_cancels:
            with self._state_lock:
                for run in runs:
                    pending = self._pending_cancels.pop(run.id, None)
                    if pending is not None and run.status is RunStatus.SCHEDULED:
                        self._mark_cancelled(run, *pending)

    def current(self, job_id: str, run_time: datetime) -> Run | None:
        """The run this scheduler is tracking for ``job_id``'s fire at ``run_time`` (executors name their
        output folders after its id)."""
        entry = self._active.get((job_id, run_time))
        return entry[0] if entry else None

    def attach(self, run: Run, signal: CancelSignal) -> None:
        """Set ``signal`` when the tracked ``run`` is cancelled (at once if it is already)."""
        self._signals[run.id] = signal
        if run.status is RunStatus.CANCELLED:
            signal.set(run.error_message or "cancelled")

    def started(self, job_id: str, run_time: datetime) -> bool:
        """An executor is about to run ``job_id``'s fire at ``run_time``; ``False`` when the run was cancelled
        meanwhile (the executor then does not run it, and reports it missed)."""
        entry = self._active.get((job_id, run_time))
        if entry is None:
            return True
        run = entry[0]
        # The memory store cancels the very Run object tracked here, before cancelled() is called.
        if self._decided.setdefault(run.id, _STARTED) is not _STARTED or run.status is RunStatus.CANCELLED:
            return False
        now = self._scheduler._clock.now()
        run.status = RunStatus.RUNNING
        run.started_at = run.heartbeat_at = now
        run.worker = self._worker
        request = self._cancel_requests.get(run.id)
        if request is not None:  # cancelled while this start was deciding: it may have written over the cancel
            self._set_cancelled(run, *request)
        self._changed(run, entry[1])
        return True

    def progress(self, job_id: str, run_time: datetime, text: str, outputs: dict[str, str] | None = None) -> None:
        """A running run reports progress (``"cell 7/23"``) and, optionally, where its outputs are."""
        entry = self._active.get((job_id, run_time))
        if entry is None:
            return
        run = entry[0]
        run.progress = text
        if outputs:
            run.outputs = {**run.outputs, **outputs}
        self._changed(run, entry[1])

    def finished(self, event: JobExecutionEvent) -> tuple[Run, Job] | None:
        """Record an executor's outcome event; returns the finished run and its job (``None``: not tracked)."""
        status = _OUTCOME.get(event.code)
        if status is None or event.scheduled_run_time is None:
            return None
        entry = self._active.pop((event.job_id, event.scheduled_run_time), None)
        if entry is None:
            return None
        run, alias, job = entry
        now = self._scheduler._clock.now()
        self._signals.pop(run.id, None)
        request = self._forget(run.id)
        if request is not None and run.status is not RunStatus.CANCELLED:
            self._set_cancelled(run, *request)  # a cancellation in flight as the run ended
        if run.status is RunStatus.CANCELLED:
            # Cancelled while it ran: that stays its status; the outcome adds what the run left behind.
            self._add_outcome(run, event)
            self._changed(run, alias)
            return run, job
        run.status = status
        run.finished_at = now
        if run.started_at is None and status is not RunStatus.SKIPPED:
            run.started_at = now
        self._add_outcome(run, event)
        # The job's secret parameter values never reach the record (nbsched.masking).
        if run.warnings:
            run.warnings = Masker.for_jobs([job]).data(run.warnings)
        if event.exception is not None:
            masker = Masker.for_jobs([job])
            run.status = RunStatus(getattr(event.exception, "run_status", RunStatus.FAILED))
            run.error_type = getattr(event.exception, "ename", None) or type(event.exception).__name__
            run.error_message = masker.text(getattr(event.exception, "evalue", None) or str(event.exception))
            run.traceback = masker.text(event.traceback)
        elif status is RunStatus.SKIPPED:
            run.error_message = "missed its misfire grace time before it could start"
        self._changed(run, alias)
        return run, job

    @staticmethod
    def _add_outcome(run: Run, event: JobExecutionEvent) -> None:
        # Executors of notebook runs report outputs, the failing cell and timeouts on the result/error.
        detail = event.exception if event.exception is not None else event.retval
        if detail is None:
            return
        outputs = getattr(detail, "outputs", None)
        if isinstance(outputs, dict):
            # What the run left, in full: it replaces the paths reported while it ran, one of which may never
            # have been written (the HTML on a full disk); the outcome lists only files that exist.
            run.outputs = dict(outputs)
        warnings = getattr(detail, "warnings", None)
        if isinstance(warnings, list | tuple) and warnings:
            run.warnings = [*run.warnings, *(str(warning) for warning in warnings)]
        cell_index = getattr(detail, "cell_index", None)
        if isinstance(cell_index, int):
            run.cell_index = cell_index
        digest = getattr(detail, "input_sha256", None)
        if isinstance(digest, str):
            run.input_sha256 = digest

    def cancelled(self, run_id: str, at: datetime, reason: str) -> tuple[Job, datetime] | None:
        """A run was cancelled: if this scheduler holds it, record that here (its late outcome will not change it)
        and return its job and fire time, for the executor to stop it; ``None`` when it holds no such run.

        Called once per cancellation: by ``cancel_run`` here, or by the heartbeat that finds a run cancelled by
        another process (later heartbeats find it recorded here already).
        """
        with self._state_lock:
            pending = self._pending_cancels
            pending[run_id] = (at, reason)
            while len(pending) > PENDING_CANCELS:
                del pending[next(iter(pending))]
            for run, _, job in list(self._active.values()):
                if run.id == run_id:
                    del pending[run_id]
                    self._mark_cancelled(run, at, reason)
                    return job, run.scheduled_at
        return None

    def _mark_cancelled(self, run: Run, at: datetime, reason: str) -> None:
        """Record a cancellation of a tracked run: it does not start, or it ends ``cancelled`` if it did."""
        self._cancel_requests[run.id] = (at, reason)
        self._decided.setdefault(run.id, _CANCELLED)
        self._set_cancelled(run, at, reason)
        signal = self._signals.get(run.id)
        if signal is not None:
            signal.set(reason)

    @staticmethod
    def _set_cancelled(run: Run, at: datetime, reason: str) -> None:
        run.status = RunStatus.CANCELLED
        run.finished_at = run.finished_at or at
        run.error_type, run.error_message = "Cancelled", reason

    def is_cancelled(self, job_id: str, run_time: datetime) -> bool:
        """Whether this scheduler's run of ``job_id``'s fire at ``run_time`` was cancelled."""
        entry = self._active.get((job_id, run_time))
        return entry is not None and entry[0].status is RunStatus.CANCELLED

    def drop(self, job_id: str, run_time: datetime) -> None:
        """Stop tracking a run that will not run again (cancelled while it waited for a retry)."""
        entry = self._active.pop((job_id, run_time), None)
        if entry is not None:
            self._signals.pop(entry[0].id, None)
            self._forget(entry[0].id)
            self._changed(entry[0], entry[1])

    def refused(self, job_id: str, run_times: list[datetime], reason: str) -> None:
        """The executor did not take these runs (max_instances reached, submission failed)."""
        now = self._scheduler._clock.now()
        for run_time in run_times:
            entry = self._active.pop((job_id, run_time), None)
            if entry is not None:
                run, alias, _ = entry
                self._signals.pop(run.id, None)
                self._forget(run.id)
                run.status = RunStatus.SKIPPED
                run.finished_at = now
                run.error_message = reason
                self._changed(run, alias)

    def retry(self, run: Run, alias: str, job: Job) -> None:
        """Put a failed or lost run back to ``scheduled`` for its next attempt and track it again.

        One fire keeps one row: the error of the attempt before stays on it (a lost run's message names its
        attempt) until the next attempt's outcome replaces it; its progress ("cell 3/10") is gone.
        """
        run.status = RunStatus.SCHEDULED
        run.attempt += 1
        run.started_at = run.finished_at = None
        run.progress = None
        run.worker = self._worker
        run.heartbeat_at = self._scheduler._clock.now()
        self._forget(run.id)  # the next attempt starts or is cancelled afresh
        self._active[(run.job_id, run.scheduled_at)] = (run, alias, job)
        self._changed(run, alias)

    def _forget(self, run_id: str) -> tuple[datetime, str] | None:
        """Drop a run's start/cancel decision; returns the cancellation requested for it, if any."""
        self._decided.pop(run_id, None)
        return self._cancel_requests.pop(run_id, None)

    def _changed(self, run: Run, alias: str) -> None:
        self._changes.append((run, alias))
        if not self._wake.is_set():
            self._wake.set()

    # ----------------------------------------------------------------------------------------- writing
    def flush(self) -> None:
        """Write every queued change now (the latest state of each changed run, one batch per store)."""
        with self._flush_lock:
            latest: dict[str, tuple[Run, str]] = {}
            changes = self._changes
            while changes:
                run, alias = changes.popleft()
                latest[run.id] = (run, alias)
            by_store: dict[str, list[Run]] = {}
            for run, alias in latest.values():
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
                    changes.extend((run, alias) for run in runs)

    def active_count(self) -> int:
        return len(self._active)

    def _loop(self) -> None:
        scheduler = self._scheduler
        next_check = 0.0
        while not self._stopping:
            self._wake.wait(max(0.0, next_check - time.monotonic()))
            if self._stopping:
                return
            if self._changes:
                # A short batch window: starts and finishes of quick runs merge into one write.
                time.sleep(FLUSH_DELAY)
                self._wake.clear()
                self.flush()
            else:
                self._wake.clear()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + scheduler.heartbeat_interval
                try:
                    self._heartbeat_and_reap()
                except Exception:
                    self._logger.exception("Heartbeat or lost-run check failed")

    def _heartbeat_and_reap(self) -> None:
        scheduler = self._scheduler
        now = scheduler._clock.now()
        beating: dict[str, list[str]] = {}
        for run, alias, _ in list(self._active.values()):
            run.heartbeat_at = now
            beating.setdefault(alias, []).append(run.id)
        for alias, store in list(scheduler._jobstores.items()):
            if alias in beating:
                for run_id in store.heartbeat_runs(beating[alias], now):
                    # Not running any more as far as the store knows: cancelled by another process.
                    stored = store.get_run(run_id)
                    held = next((run for run, _, _ in self._active.values() if run.id == run_id), None)
                    # Once: a run already recorded cancelled here was stopped (or cannot be) already.
                    newly = held is not None and held.status is not RunStatus.CANCELLED
                    if newly and stored is not None and stored.status is RunStatus.CANCELLED:
                        scheduler._stop_run(run_id, stored.finished_at or now, stored.error_message or "cancelled")
            stale_before = now - timedelta(seconds=scheduler.lost_after)
            for run in store.mark_lost_runs(stale_before, now):
                self._logger.warning("Run %s of job %s was lost: %s", run.id, run.job_id, run.error_message)
                scheduler._run_lost(run, alias)
        scheduler.beat_liveness(now)  # this scheduler's row in the stores' schedulers tables (nbsched.liveness)
        scheduler._prune_runs(now)
