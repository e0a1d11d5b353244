"""Run history kept by the scheduler (memory store), driven by a ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
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


def _by_status(runs: list) -> dict[RunStatus, list[datetime]]:
    found: dict[RunStatus, list[datetime]] = {}
    for run in sorted(runs, key=lambda run: run.scheduled_at):
        found.setdefault(run.status, []).append(run.scheduled_at)
    return found


def test_without_coalesce_every_fire_within_the_grace_time_runs(harness: Harness) -> None:
    # Fires at T0 ... T0+150 s, found at T0+150.5 s with a 100 s grace time: the 51 oldest are too late, the 100
    # newest run.
    harness.scheduler.add_job(
        tasks.record, "interval", seconds=1, coalesce=False, misfire_grace_time=100, id="g", start_date=T0
    )
    harness.start(paused=True)
    harness.advance(150.5)
    harness.scheduler.resume()
    harness.settle()
    runs = _by_status(harness.scheduler.runs(job_id="g", limit=None))
    second = timedelta(seconds=1)
    assert runs[RunStatus.SKIPPED] == [T0 + i * second for i in range(51)]
    assert runs[RunStatus.SUCCEEDED] == [T0 + i * second for i in range(51, 151)]
    assert len(tasks.CALLS) == 100
    assert harness.scheduler.get_job("g").next_run_time == T0 + 151 * second


def test_fires_passed_over_in_a_long_catch_up_are_recorded_not_lost(harness: Harness) -> None:
    # Fires at T0 ... T0+1000 s, found at T0+1000.5 s with a 500 s grace time. Too late: T0 ... T0+500 s (100 reported
    # one by one, one skipped run standing for the other 401). In time: T0+501 ... T0+1000 s (100 run, one skipped
    # run stands for the 399 passed over, and the latest runs).
    harness.scheduler.add_job(
        tasks.record, "interval", seconds=1, coalesce=False, misfire_grace_time=500, id="g", start_date=T0
    )
    harness.start(paused=True)
    harness.advance(1000.5)
    harness.scheduler.resume()
    harness.settle()
    second = timedelta(seconds=1)
    all_runs = harness.scheduler.runs(job_id="g", limit=None)
    runs = _by_status(all_runs)
    assert runs[RunStatus.SUCCEEDED] == [T0 + i * second for i in range(501, 601)] + [T0 + 1000 * second]
    assert runs[RunStatus.SKIPPED] == [T0 + i * second for i in range(101)] + [T0 + 601 * second]
    spans = {run.scheduled_at: run.error_message for run in all_runs if "stands for" in (run.error_message or "")}
    assert spans == {
        T0 + 100 * second: "stands for the fire times from 2026-01-05T09:01:40+00:00 up to 2026-01-05T09:08:21+00:00, "
        "which were skipped: catch-up runs or reports at most 100 missed fire times one by one (coalesce=False)",
        T0 + 601 * second: "stands for the fire times from 2026-01-05T09:10:01+00:00 up to 2026-01-05T09:16:40+00:00, "
        "which were skipped: catch-up runs or reports at most 100 missed fire times one by one (coalesce=False)",
    }
    assert len(tasks.CALLS) == 101
    assert harness.scheduler.get_job("g").next_run_time == T0 + 1001 * second


def test_coalesced_catch_up_runs_the_latest_fire_within_the_grace_time(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, misfire_grace_time=30, id="c", start_date=T0)
    harness.start(paused=True)
    harness.advance(1005)
    harness.scheduler.resume()
    harness.settle()
    runs = harness.scheduler.runs(job_id="c")
    assert [(r.status, r.scheduled_at) for r in runs] == [(RunStatus.SUCCEEDED, T0 + timedelta(seconds=1000))]


def _cancel_in_the_claim_window(harness: Harness) -> None:
    # The store holds a claimed run before the scheduler tracks it; a cancellation landing in that window
    # (cancel_run from another thread, which reads the store) must still keep it from running.
    scheduler = harness.scheduler
    tasks.CALLS.clear()
    scheduler.add_job(tasks.record, "date", run_date=T0 + timedelta(seconds=10), args=["once"], id="once")
    harness.start()
    store = scheduler._jobstores["default"]
    claim_jobs = store.claim_jobs
    cancelled: list[str] = []

    def claim_then_cancel(batch: list) -> list[bool]:
        won = claim_jobs(batch)
        for _, _, runs in batch:
            for run in runs:
                if run.status is RunStatus.SCHEDULED:
                    scheduler.cancel_run(run.id, reason="changed my mind")
                    cancelled.append(run.id)
        return won

    store.claim_jobs = claim_then_cancel  # type: ignore[method-assign]
    harness.advance(10)
    scheduler._recorder.flush()
    [run] = scheduler.runs(job_id="once")
    assert [run.id] == cancelled
    assert tasks.CALLS == []
    assert (run.status, run.started_at, run.error_message) == (RunStatus.CANCELLED, None, "changed my mind")


def test_a_run_cancelled_between_its_claim_and_its_start_does_not_run(harness: Harness) -> None:
    _cancel_in_the_claim_window(harness)  # the memory store: its runs are the very objects the scheduler tracks


def test_a_run_cancelled_in_a_sql_store_between_its_claim_and_its_start_does_not_run(tmp_path: Path) -> None:
    h = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'runs.db'}")})
    try:
        _cancel_in_the_claim_window(h)
    finally:
        h.shutdown()


def test_a_lost_run_retried_on_the_memory_store_is_recorded_through_its_retry(harness: Harness) -> None:
    # A lost run comes back from the memory store's history as a copy; its retry must reach the history, or the
    # history would keep saying "lost" while the run is retried and succeeds.
    from nbsched.runs import Run

    harness.scheduler.add_job(tasks.record, "interval", hours=1, retries=1, retry_backoff=10, id="j")
    harness.start()
    store = harness.scheduler._jobstores["default"]
    store.add_run(Run(job_id="j", scheduled_at=T0, heartbeat_at=T0))  # a run whose worker went away
    (lost,) = store.mark_lost_runs(T0 + timedelta(seconds=1), harness.clock.now())
    harness.scheduler._run_lost(lost, "default")
    (waiting,) = harness.scheduler.runs(job_id="j")
    assert (waiting.status, waiting.attempt) == (RunStatus.SCHEDULED, 2)
    harness.advance(10)
    (run,) = harness.scheduler.runs(job_id="j")
    assert (run.status, run.attempt, run.scheduled_at) == (RunStatus.SUCCEEDED, 2, T0)
    assert tasks.CALLS == [None]
