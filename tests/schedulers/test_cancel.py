"""Cancelling runs: recorded at once, final (a late outcome does not undo it), never retried."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbsched.events import EVENT_JOB_MISSED
from nbsched.exceptions import RunFinishedError, RunLookupError
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler

pytestmark = pytest.mark.realtime

release = threading.Event()
started = threading.Event()


def blocked() -> str:
    started.set()
    release.wait(30)
    return "finished anyway"


def failing_after_release() -> None:
    started.set()
    release.wait(30)
    raise ConnectionError("would be retried")


@pytest.fixture(autouse=True)
def _reset() -> None:
    release.clear()
    started.clear()


def _running_scheduler(func: object, **job: object) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start()
    scheduler.add_job(func, "date", run_date=datetime.now(UTC) + timedelta(seconds=0.05), id="j", **job)
    assert started.wait(10)
    return scheduler


def _settled(scheduler: BackgroundScheduler, run_id: str) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while scheduler.runs(job_id="j")[0].finished_at is None and datetime.now(UTC) < deadline:
        threading.Event().wait(0.02)


def test_a_cancelled_function_run_stays_cancelled_when_it_ends() -> None:
    scheduler = _running_scheduler(blocked)
    try:
        [run] = scheduler.runs(job_id="j")
        assert run.status is RunStatus.RUNNING
        cancelled = scheduler.cancel_run(run.id, reason="stop it")
        assert (cancelled.status, cancelled.error_type, cancelled.error_message) == (
            RunStatus.CANCELLED,
            "Cancelled",
            "stop it",
        )
        release.set()  # a function in a thread cannot be stopped: it runs to its end...
        scheduler.shutdown(wait=True)
        [after] = scheduler.runs(job_id="j")
    finally:
        release.set()
        if scheduler.running:
            scheduler.shutdown()
    assert (after.status, after.error_message) == (RunStatus.CANCELLED, "stop it")  # ...and does not undo it


def test_a_cancelled_run_is_not_retried() -> None:
    scheduler = _running_scheduler(failing_after_release, retries=3, retry_backoff=0)
    try:
        [run] = scheduler.runs(job_id="j")
        scheduler.cancel_run(run.id)
        release.set()
        scheduler.shutdown(wait=True)
        runs = scheduler.runs(job_id="j")
    finally:
        release.set()
        if scheduler.running:
            scheduler.shutdown()
    assert [(r.status, r.attempt) for r in runs] == [(RunStatus.CANCELLED, 1)]


def test_cancelling_a_finished_or_unknown_run_is_refused() -> None:
    scheduler = _running_scheduler(blocked)
    try:
        release.set()
        [run] = scheduler.runs(job_id="j")
        _settled(scheduler, run.id)
        with pytest.raises(RunFinishedError, match=rf"^Run {run.id} has already finished \(succeeded\)$"):
            scheduler.cancel_run(run.id)
        with pytest.raises(RunLookupError, match=r"^No run by the id of nope was found$"):
            scheduler.cancel_run("nope")
    finally:
        scheduler.shutdown()
    assert scheduler.runs(job_id="j")[0].status is RunStatus.SUCCEEDED


attempts: list[int] = []


def failing_fast() -> None:
    attempts.append(1)
    started.set()
    raise ConnectionError("try again later")


def test_a_run_cancelled_while_it_waits_for_a_retry_is_not_retried() -> None:
    attempts.clear()
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start()
    try:
        scheduler.add_job(
            failing_fast,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=0.05),
            id="j",
            retries=3,
            retry_backoff=0.5,
        )
        assert started.wait(10)
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while scheduler.runs(job_id="j")[0].status is not RunStatus.SCHEDULED and datetime.now(UTC) < deadline:
            threading.Event().wait(0.01)  # failed once, now waiting for its retry
        [run] = scheduler.runs(job_id="j")
        assert (run.status, run.attempt) == (RunStatus.SCHEDULED, 2)
        scheduler.cancel_run(run.id)
        threading.Event().wait(1.5)  # well past the retry's due time
    finally:
        scheduler.shutdown()
    assert len(attempts) == 1
    assert [(r.status, r.attempt) for r in scheduler.runs(job_id="j")] == [(RunStatus.CANCELLED, 2)]


def test_a_run_cancelled_while_queued_in_the_pool_never_runs() -> None:
    ran: list[str] = []
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": {"type": "threadpool", "max_workers": 1}})
    missed: list[object] = []
    scheduler.add_listener(missed.append, EVENT_JOB_MISSED)
    scheduler.start()
    try:
        soon = datetime.now(UTC) + timedelta(seconds=0.05)
        scheduler.add_job(blocked, "date", run_date=soon, id="first")
        scheduler.add_job(ran.append, "date", run_date=soon, args=["second"], id="second")
        assert started.wait(10)
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not scheduler.runs(job_id="second") and datetime.now(UTC) < deadline:
            threading.Event().wait(0.01)
        [queued] = scheduler.runs(job_id="second")
        assert queued.status is RunStatus.SCHEDULED  # claimed and waiting for the one worker
        scheduler.cancel_run(queued.id)
        release.set()
        scheduler.shutdown(wait=True)
    finally:
        release.set()
        if scheduler.running:
            scheduler.shutdown()
    assert ran == []
    [after] = scheduler.runs(job_id="second")
    assert (after.status, after.started_at) == (RunStatus.CANCELLED, None)
    assert [event.job_id for event in missed] == ["second"]  # it ended, as every run does, with one event


def test_a_catch_up_without_coalescing_runs_no_more_than_max_runs() -> None:
    from nbsched.clock import ManualClock
    from tests import tasks

    clock = ManualClock("2026-01-05 09:00")
    scheduler = BackgroundScheduler(timezone="UTC", clock=clock, executors={"default": {"type": "debug"}})
    tasks.CALLS.clear()
    scheduler.add_job(tasks.record, "interval", minutes=1, coalesce=False, max_runs=3, id="m")
    scheduler.start(paused=True)
    try:
        clock.advance(3600)
        scheduler.resume()
        scheduler._on_clock_jump()
        assert len(tasks.CALLS) == 3
        assert scheduler.get_job("m") is None  # its runs are done
    finally:
        scheduler.shutdown()


def slow_failure() -> None:
    attempts.append(1)
    started.set()
    release.wait(30)
    raise ConnectionError("would be retried")


def test_a_run_cancelled_by_another_store_user_is_not_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    attempts.clear()
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    scheduler = BackgroundScheduler(
        timezone="UTC", jobstores={"default": SQLAlchemyJobStore(url=url)}, heartbeat_interval=0.2
    )
    other = SQLAlchemyJobStore(url=url)  # another process's view of the same store (the REST API, say)
    scheduler.start()
    caplog.set_level(logging.INFO, logger="nbsched.scheduler")
    try:
        soon = datetime.now(UTC) + timedelta(seconds=0.05)
        scheduler.add_job(slow_failure, "date", run_date=soon, id="j", retries=3, retry_backoff=0)
        assert started.wait(10)
        [run] = scheduler.runs(job_id="j")
        assert other.cancel_run(run.id, datetime.now(UTC), "cancelled elsewhere") is not None
        threading.Event().wait(1.0)  # several heartbeats: the cancellation is noticed once
        release.set()
        threading.Event().wait(0.5)
    finally:
        release.set()
        scheduler.shutdown()
        other.shutdown()
    assert len(attempts) == 1
    assert [(r.status, r.error_message) for r in scheduler.runs(job_id="j")] == [
        (RunStatus.CANCELLED, "cancelled elsewhere")
    ]
    noticed = [record for record in caplog.records if "was cancelled: cancelled elsewhere" in record.getMessage()]
    assert len(noticed) == 1


class _CancelOnStart:
    """A manual clock that, the first time a run's start reads it, runs ``hook`` first: a cancellation landing
    between the start's decision and its write of ``running`` (the narrowest window of that race)."""

    def __init__(self) -> None:
        from nbsched.clock import ManualClock
        from nbsched.schedulers._runs import RunRecorder

        self.clock = ManualClock("2026-01-05 09:00")
        self.hook: Callable[[], object] | None = None
        self._start_code = RunRecorder.started.__code__
        inner_now = self.clock.now

        def now() -> datetime:
            hook = self.hook
            if hook is not None and sys._getframe(1).f_code is self._start_code:
                self.hook = None
                hook()
            return inner_now()

        self.clock.now = now  # type: ignore[method-assign]


seen_while_running: list[RunStatus] = []
under_test: list[BackgroundScheduler] = []


def record_own_status() -> None:
    seen_while_running.append(under_test[0].runs(job_id="j")[0].status)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_cancellation_that_lands_while_a_run_starts_is_kept(store: str, tmp_path: Path) -> None:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    timing = _CancelOnStart()
    jobstore: object = "memory" if store == "memory" else SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 's.db'}")
    scheduler = BackgroundScheduler(
        timezone="UTC", clock=timing.clock, jobstores={"default": jobstore}, executors={"default": {"type": "debug"}}
    )
    under_test[:] = [scheduler]
    seen_while_running.clear()
    scheduler.add_job(record_own_status, "date", run_date=timing.clock.now(), id="j")

    def cancel() -> None:
        [run] = scheduler.runs(job_id="j")
        scheduler.cancel_run(run.id, reason="stopped as it started")

    timing.hook = cancel
    scheduler.start()
    try:
        scheduler.wakeup()
        scheduler._on_clock_jump()
    finally:
        scheduler.shutdown()
    assert timing.hook is None  # the cancellation did land inside the start
    # The start had decided, so the function ran (one in a thread cannot be stopped), already cancelled...
    assert seen_while_running == [RunStatus.CANCELLED]
    [after] = scheduler.runs(job_id="j")
    assert (after.status, after.error_message) == (RunStatus.CANCELLED, "stopped as it started")  # ...and after


def counted(runs: list[int]) -> None:
    runs.append(1)


def test_runs_cancelled_while_worker_threads_start_them_end_cancelled_and_no_cancel_is_lost() -> None:
    """Real threads: 8 workers start 400 runs while another thread cancels each as soon as it is listed.

    Every run whose cancellation was accepted ends ``cancelled``; every other one ran and ``succeeded``."""
    ran: list[int] = []
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": {"type": "threadpool", "max_workers": 8}})
    scheduler.start(paused=True)
    now = datetime.now(UTC)
    for n in range(400):
        scheduler.add_job(counted, "date", run_date=now, args=[ran], id=f"j{n}")
    accepted: set[str] = set()
    refused: set[str] = set()
    stop = threading.Event()

    def cancel_all() -> None:
        while not stop.is_set():
            for run in scheduler.runs(status=["scheduled", "running"], limit=None):
                if run.id in accepted or run.id in refused:
                    continue
                try:
                    scheduler.cancel_run(run.id)
                except RunFinishedError:
                    refused.add(run.id)
                else:
                    accepted.add(run.id)

    canceller = threading.Thread(target=cancel_all)
    canceller.start()
    try:
        scheduler.resume()
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while len(scheduler.runs(status=["succeeded", "cancelled"], limit=None)) < 400 and datetime.now(UTC) < deadline:
            threading.Event().wait(0.02)
    finally:
        stop.set()
        canceller.join()
        scheduler.shutdown(wait=True)
    runs = scheduler.runs(limit=None)
    assert len(runs) == 400
    status = {run.id: run.status for run in runs}
    assert accepted, "the canceller should have reached some runs before they ended"
    assert {status[run_id] for run_id in accepted} == {RunStatus.CANCELLED}
    succeeded = [run_id for run_id, s in status.items() if s is RunStatus.SUCCEEDED]
    assert set(succeeded) | accepted == set(status)
    assert len(ran) >= len(succeeded)  # every succeeded run ran; cancelled ones may have been running
