"""Scheduling semantics, driven by a ManualClock, against every scheduler flavour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nbsched.events import (
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
)
from nbsched.triggers.interval import IntervalTrigger
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def collect(h: Harness, mask: int) -> list[Any]:
    events: list[Any] = []
    h.scheduler.add_listener(events.append, mask)
    return events


def test_interval_job_fires_once_per_interval(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", minutes=1, args=["tick"], id="tick")
    harness.start()
    assert tasks.CALLS == []
    for _ in range(3):
        harness.advance(60)
    assert tasks.CALLS == ["tick"] * 3
    job = harness.scheduler.get_job("tick")
    assert job is not None and job.next_run_time == T0 + timedelta(minutes=4)


def test_date_job_runs_once_and_is_removed(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_REMOVED | EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.record, "date", run_date=T0 + timedelta(seconds=30), args=[1], id="once")
    harness.start()
    harness.advance(29)
    assert tasks.CALLS == []
    harness.advance(1)
    assert tasks.CALLS == [1]
    assert harness.scheduler.get_job("once") is None
    assert sorted(e.code for e in events) == sorted([EVENT_JOB_REMOVED, EVENT_JOB_EXECUTED])


def test_next_run_time_none_adds_paused_and_resume_schedules(harness: Harness) -> None:
    harness.start()
    job = harness.scheduler.add_job(tasks.record, "interval", seconds=10, next_run_time=None, id="p")
    harness.advance(100)
    assert tasks.CALLS == []
    assert job.next_run_time is None
    assert "paused" in str(harness.scheduler.get_job("p"))
    harness.scheduler.resume_job("p")
    harness.advance(10)
    assert tasks.CALLS == [None]


def test_pause_job_stops_it(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, id="j")
    harness.start()
    harness.advance(10)
    harness.scheduler.pause_job("j")
    harness.advance(100)
    assert tasks.CALLS == [None]


def test_coalesce_runs_once_after_a_gap(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, coalesce=True, id="c")
    harness.start(paused=True)
    harness.advance(95)  # nine fire times pass while paused
    harness.scheduler.resume()
    harness.settle()
    assert tasks.CALLS == [None]
    assert events[0].scheduled_run_time == T0 + timedelta(seconds=90)
    assert harness.scheduler.get_job("c").next_run_time == T0 + timedelta(seconds=100)


def test_without_coalesce_every_missed_fire_runs(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, coalesce=False, id="c")
    harness.start(paused=True)
    harness.advance(95)
    harness.scheduler.resume()
    harness.settle()
    assert len(tasks.CALLS) == 9
    assert [e.scheduled_run_time for e in events] == [T0 + timedelta(seconds=10 * i) for i in range(1, 10)]


def test_misfire_grace_time_reports_late_runs_as_missed(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_MISSED | EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.record, "interval", seconds=60, misfire_grace_time=5, id="g")
    harness.start(paused=True)
    harness.advance(70)  # the 09:01 fire is 10 s late
    harness.scheduler.resume()
    harness.settle()
    assert tasks.CALLS == []
    assert [(e.code, e.scheduled_run_time) for e in events] == [(EVENT_JOB_MISSED, T0 + timedelta(seconds=60))]
    harness.advance(50)  # 09:02 on time
    assert tasks.CALLS == [None]


def test_default_misfire_grace_runs_late_jobs(harness: Harness) -> None:
    # nbsched's deliberate difference: misfire_grace_time defaults to None (run late rather than skip).
    harness.scheduler.add_job(tasks.record, "interval", hours=1, id="late")
    harness.start(paused=True)
    harness.advance(3600 * 5 + 1800)
    harness.scheduler.resume()
    harness.settle()
    assert tasks.CALLS == [None]


def test_catch_up_is_bounded(harness: Harness) -> None:
    calls = 0

    class CountingTrigger(IntervalTrigger):
        def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
            nonlocal calls
            calls += 1
            return super().get_next_fire_time(previous, now)

    trigger = CountingTrigger(seconds=1, start_date=T0, timezone="UTC")
    harness.scheduler.add_job(tasks.record, trigger, id="dense")
    harness.start(paused=True)
    harness.advance(1_000_000)  # a million per-second fires missed
    calls = 0
    harness.scheduler.resume()
    harness.settle()
    assert tasks.CALLS == [None]
    assert calls < 300, calls  # a walk of at most 100 plus a logarithmic search, not a million
    assert harness.scheduler.get_job("dense").next_run_time == T0 + timedelta(seconds=1_000_001)


def test_catch_up_without_coalesce_is_bounded_too(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=1, coalesce=False, id="dense")
    harness.start(paused=True)
    harness.advance(1_000_000)
    harness.scheduler.resume()
    harness.settle()
    assert 100 <= len(tasks.CALLS) <= 101
    assert harness.scheduler.get_job("dense").next_run_time == T0 + timedelta(seconds=1_000_001)


def test_many_due_jobs_start_batch_by_batch(harness: Harness) -> None:
    # 250 jobs due at once: the first ones start once their batch is claimed, before the later batches are even
    # planned (planning advances a job's next run time), so thousands due together do not delay the first.
    from nbsched.schedulers.base import CLAIM_BATCH

    planned_when_first_ran: list[int] = []

    def note_planned() -> None:
        if not planned_when_first_ran:
            jobs = harness.scheduler.get_jobs()
            planned_when_first_ran.append(sum(job.next_run_time > T0 + timedelta(seconds=60) for job in jobs))

    for index in range(250):  # the memory store keeps local functions
        harness.scheduler.add_job(
            note_planned, "interval", minutes=1, start_date=T0 + timedelta(minutes=1), id=f"j{index}"
        )
    harness.start()
    harness.advance(60)
    assert planned_when_first_ran == [CLAIM_BATCH]
    assert all(job.next_run_time == T0 + timedelta(minutes=2) for job in harness.scheduler.get_jobs())


def test_failing_job_reports_error_and_scheduler_goes_on(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.fail, "interval", seconds=10, args=["kaput"], id="bad")
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, args=["ok"], id="good")
    harness.start()
    harness.advance(10)
    harness.advance(10)
    errors = [e for e in events if e.code == EVENT_JOB_ERROR]
    assert len(errors) == 2
    assert isinstance(errors[0].exception, RuntimeError)
    assert "kaput" in str(errors[0].exception)
    assert "def fail" not in errors[0].traceback and "tasks.py" in errors[0].traceback
    assert tasks.CALLS == ["ok", "ok"]


def test_max_runs_removes_the_job(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=1, max_runs=3, id="three")
    harness.start()
    for _ in range(5):
        harness.advance(1)
    assert len(tasks.CALLS) == 3
    assert harness.scheduler.get_job("three") is None


def test_jitter_delays_within_bounds(harness: Harness) -> None:
    job = harness.scheduler.add_job(tasks.record, "interval", minutes=10, jitter=30, id="j")
    harness.start()
    first = job.next_run_time
    assert T0 + timedelta(minutes=10) <= first <= T0 + timedelta(minutes=10, seconds=30)


def test_events_for_add_submit_execute(harness: Harness) -> None:
    events = collect(harness, EVENT_JOB_ADDED | EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.add, "interval", seconds=5, args=[2, 3], id="sum")
    harness.start()
    harness.advance(5)
    # The inline executor finishes the job before the pass dispatches its collected events (as APScheduler).
    by_code = {e.code: e for e in events}
    assert [e.code for e in events] == [EVENT_JOB_ADDED, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED]
    assert by_code[EVENT_JOB_EXECUTED].retval == 5
    assert by_code[EVENT_JOB_SUBMITTED].scheduled_run_times == [T0 + timedelta(seconds=5)]


def test_listener_mask_filters_and_failing_listener_is_harmless(harness: Harness) -> None:
    seen: list[int] = []

    def broken(event: Any) -> None:
        raise RuntimeError("listener bug")

    harness.scheduler.add_listener(broken)
    harness.scheduler.add_listener(lambda e: seen.append(e.code), EVENT_JOB_EXECUTED)
    harness.scheduler.add_job(tasks.record, "interval", seconds=5)
    harness.start()
    harness.advance(5)
    assert seen == [EVENT_JOB_EXECUTED]
    harness.scheduler.remove_listener(broken)


def test_max_instances_refuses_overlapping_runs() -> None:
    # Needs a real pool: the first run must still be going when the second fire is due.
    import threading

    started = threading.Event()
    release = threading.Event()

    h = Harness("background", executors={"default": {"type": "threadpool", "max_workers": 4}})
    try:
        events = collect(h, EVENT_JOB_MAX_INSTANCES)

        h.scheduler.add_job(_block, "interval", seconds=1, args=[started, release], max_instances=1, id="slow")
        h.start()
        h.advance(1)
        assert started.wait(5)
        h.advance(1)
        assert [e.code for e in events] == [EVENT_JOB_MAX_INSTANCES]
        release.set()
    finally:
        release.set()
        h.shutdown()


def _block(started: Any, release: Any) -> None:
    started.set()
    release.wait(10)


def test_modify_and_reschedule(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, args=["a"], id="m")
    harness.start()
    harness.scheduler.modify_job("m", args=["b"], name="renamed")
    harness.advance(10)
    assert tasks.CALLS == ["b"]
    harness.scheduler.reschedule_job("m", trigger="interval", seconds=100)
    assert harness.scheduler.get_job("m").next_run_time == T0 + timedelta(seconds=110)
    assert harness.scheduler.get_job("m").name == "renamed"


def test_replace_existing_keeps_next_run_time_when_trigger_unchanged(harness: Harness) -> None:
    trigger = IntervalTrigger(hours=1, start_date=T0, timezone="UTC")
    harness.scheduler.add_job(tasks.record, trigger, id="r")
    harness.start(paused=True)
    harness.advance(3 * 3600 + 60)  # three fires missed while "down"
    harness.scheduler.add_job(
        tasks.record, IntervalTrigger(hours=1, start_date=T0, timezone="UTC"), id="r", replace_existing=True
    )
    assert harness.scheduler.get_job("r").next_run_time == T0  # the stored one, not recomputed from now
    harness.scheduler.resume()
    harness.settle()
    assert tasks.CALLS == [None]  # caught up once (coalesced)
    # A changed trigger takes its own next run time.
    harness.scheduler.add_job(tasks.record, "interval", hours=2, id="r", replace_existing=True)
    assert harness.scheduler.get_job("r").next_run_time == harness.clock.now() + timedelta(hours=2)
