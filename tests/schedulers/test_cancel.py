"""Cancelling runs: recorded at once, final (a late outcome does not undo it), never retried."""

from __future__ import annotations

import logging
import threading
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
