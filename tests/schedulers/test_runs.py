"""Run history kept by the scheduler (memory store), driven by a ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nbsched.runs import RunStatus
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_every_fire_leaves_a_run_with_status_and_timings(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.add, "interval", seconds=10, args=[1, 2], id="ok")
    harness.scheduler.add_job(tasks.fail, "interval", seconds=10, args=["bad input"], id="ko")
    harness.start()
    harness.advance(10)
    harness.advance(10)
    ok = harness.scheduler.runs(job_id="ok")
    assert [(r.status, r.scheduled_at) for r in ok] == [
        (RunStatus.SUCCEEDED, T0 + timedelta(seconds=20)),
        (RunStatus.SUCCEEDED, T0 + timedelta(seconds=10)),
    ]
    assert ok[0].started_at == ok[0].finished_at == T0 + timedelta(seconds=20)
    assert ok[0].worker and ok[0].attempt == 1
    ko = harness.scheduler.runs(job_id="ko", limit=1)
    assert len(ko) == 1
    assert ko[0].status is RunStatus.FAILED
    assert (ko[0].error_type, ko[0].error_message) == ("RuntimeError", "bad input")
    assert "raise RuntimeError(message)" in (ko[0].traceback or "")
    assert {r.job_id for r in harness.scheduler.runs(status="failed")} == {"ko"}


def test_missed_fires_are_recorded_as_skipped(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", minutes=1, misfire_grace_time=5, id="g")
    harness.start(paused=True)
    harness.advance(70)
    harness.scheduler.resume()
    harness.settle()
    runs = harness.scheduler.runs(job_id="g")
    assert [(r.status, r.scheduled_at) for r in runs] == [(RunStatus.SKIPPED, T0 + timedelta(minutes=1))]
    assert "missed by 0:00:10" in (runs[0].error_message or "")


def test_failed_run_is_retried_with_backoff(harness: Harness) -> None:
    attempts: list[datetime] = []

    def flaky() -> str:
        attempts.append(harness.clock.now())
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return "done"

    harness.scheduler.add_job(flaky, "date", run_date=T0 + timedelta(seconds=1), retries=3, retry_backoff=10, id="f")
    harness.start()
    harness.advance(1)
    harness.advance(10)  # first retry after 10 s
    harness.advance(19)
    assert len(attempts) == 2  # second retry waits 20 s
    harness.advance(1)
    assert len(attempts) == 3
    (run,) = harness.scheduler.runs(job_id="f")
    assert (run.status, run.attempt) == (RunStatus.SUCCEEDED, 3)
    assert run.scheduled_at == T0 + timedelta(seconds=1)


def test_retention_keeps_the_newest_runs_per_job() -> None:
    h = Harness("background", keep_runs=3)
    try:
        h.scheduler.add_job(tasks.record, "interval", seconds=1, id="r")
        h.start()
        for _ in range(10):
            h.advance(1)
        h.scheduler._last_prune = None
        h.scheduler._recorder.flush()
        h.scheduler._prune_runs(h.clock.now())
        runs = h.scheduler.runs(job_id="r")
        assert [r.scheduled_at for r in runs] == [T0 + timedelta(seconds=s) for s in (10, 9, 8)]
    finally:
        h.shutdown()
