"""Cancelling runs: recorded at once, final (a late outcome does not undo it), never retried."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

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
