"""A third-party executor written from ``nbsched.abc`` alone reports its runs through their RunContext: the run
history shows their start, progress, end, cancellation and failure with the scheduler's (manual) clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nbsched.abc import Executor, RunContext, RunOutcome
from nbsched.clock import ManualClock
from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler

WAIT = 30  # seconds: a bound for threads to get somewhere, never a timing assertion

# The executor of each scheduler a test runs (the scheduler keeps it privately).
_EXECUTORS: dict[int, ThreadPerRunExecutor] = {}
# Gates the test's job function blocks on, by name, and the runs that reached them.
_GATES: dict[str, threading.Event] = {}
_REACHED: dict[str, threading.Event] = {}


def blocking_step(name: str) -> str:
    """The job: say it is under way, wait for the test to let it go."""
    _REACHED[name].set()
    assert _GATES[name].wait(WAIT)
    return f"done {name}"


def failing_step() -> None:
    raise ValueError("boom at step 2")


class ThreadPerRunExecutor(Executor):
    """What a third party writes: one thread per run, everything reported through the run's context."""

    def __init__(self) -> None:
        self.contexts: dict[str, RunContext] = {}
        self._threads: list[threading.Thread] = []

    def start(self, scheduler: Any, alias: str) -> None:
        self._scheduler = scheduler

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            for thread in self._threads:
                thread.join(WAIT)

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        for context in self._scheduler.run_contexts(job, run_times):
            self.contexts[context.run_id] = context
            thread = threading.Thread(target=self._run, args=(context,), daemon=True)
            self._threads.append(thread)
            thread.start()

    @staticmethod
    def _run(context: RunContext) -> None:
        if not context.started():
            return
        context.progress("step 1 of 2")
        try:
            outcome = context.job.task.run(context)
        except BaseException as exc:  # the task reports the job's own errors; this is for its machinery
            outcome = RunOutcome.failed(exc)
        context.finished(outcome)


@pytest.fixture(params=["memory", "sqlite"])
def scheduler(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackgroundScheduler]:
    jobstore: Any = {"type": "memory"}
    if request.param == "sqlite":
        jobstore = {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 'jobs.db'}"}
    executor = ThreadPerRunExecutor()
    s = BackgroundScheduler(
        timezone="UTC",
        clock=ManualClock("2026-03-02 09:00"),
        jobstores={"default": jobstore},
        executors={"default": executor},
    )
    _EXECUTORS[id(s)] = executor
    s.start()
    try:
        yield s
    finally:
        for gate in _GATES.values():
            gate.set()
        s.shutdown()


class Outcomes:
    def __init__(self) -> None:
        self.events: list[JobExecutionEvent] = []
        self.arrived = threading.Semaphore(0)

    def __call__(self, event: JobExecutionEvent) -> None:
        self.events.append(event)
        self.arrived.release()

    def wait(self, count: int) -> list[JobExecutionEvent]:
        for _ in range(count):
            assert self.arrived.acquire(timeout=WAIT), self.events
        return self.events


def _start_blocking_job(s: BackgroundScheduler, name: str) -> tuple[ManualClock, datetime]:
    _GATES[name], _REACHED[name] = threading.Event(), threading.Event()
    clock = s.clock
    assert isinstance(clock, ManualClock)
    fire = clock.now() + timedelta(minutes=1)
    s.add_job(blocking_step, "date", run_date=fire, args=[name], id=name)
    clock.advance(60)
    assert _REACHED[name].wait(WAIT)
    return clock, fire


def test_a_run_goes_scheduled_running_succeeded_with_the_clock_and_progress(scheduler: BackgroundScheduler) -> None:
    outcomes = Outcomes()
    scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    clock, fire = _start_blocking_job(scheduler, "ok")

    [running] = scheduler.runs(job_id="ok")
    assert (running.status, running.scheduled_at, running.started_at, running.finished_at) == (
        RunStatus.RUNNING,
        fire,
        fire,
        None,
    )
    assert running.progress == "step 1 of 2"

    clock.advance(5)
    _GATES["ok"].set()
    [event] = outcomes.wait(1)
    [done] = scheduler.runs(job_id="ok")
    assert (done.status, done.started_at, done.finished_at) == (RunStatus.SUCCEEDED, fire, fire + timedelta(seconds=5))
    assert (done.id, done.error_type) == (running.id, None)
    # The context dispatched APScheduler's own event of the outcome.
    assert (event.code, event.job_id, event.jobstore, event.scheduled_run_time, event.retval) == (
        EVENT_JOB_EXECUTED,
        "ok",
        "default",
        fire,
        "done ok",
    )


def test_cancel_run_sets_the_context_cancelled_and_the_run_ends_cancelled(scheduler: BackgroundScheduler) -> None:
    outcomes = Outcomes()
    scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    _start_blocking_job(scheduler, "stop")
    [run] = scheduler.runs(job_id="stop")
    executor = _EXECUTORS[id(scheduler)]
    context = executor.contexts[run.id]
    assert not context.cancelled.is_set()

    scheduler.cancel_run(run.id, reason="not needed today")
    assert context.cancelled.wait(WAIT) and context.cancelled.reason == "not needed today"
    _GATES["stop"].set()  # this executor cannot stop a function: it runs to its end
    outcomes.wait(1)
    [after] = scheduler.runs(job_id="stop")
    assert (after.status, after.error_type, after.error_message) == (
        RunStatus.CANCELLED,
        "Cancelled",
        "not needed today",
    )


def test_a_failing_task_ends_failed_with_its_error(scheduler: BackgroundScheduler) -> None:
    outcomes = Outcomes()
    scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    clock = scheduler.clock
    assert isinstance(clock, ManualClock)
    fire = clock.now() + timedelta(minutes=1)
    scheduler.add_job(failing_step, "date", run_date=fire, id="bad")
    clock.advance(60)
    [event] = outcomes.wait(1)
    [run] = scheduler.runs(job_id="bad")
    assert (run.status, run.error_type, run.error_message, run.started_at, run.finished_at) == (
        RunStatus.FAILED,
        "ValueError",
        "boom at step 2",
        fire,
        fire,
    )
    assert "failing_step" in (run.traceback or "")
    assert event.code == EVENT_JOB_ERROR and isinstance(event.exception, ValueError)


def test_a_run_cancelled_before_it_starts_is_not_started(scheduler: BackgroundScheduler) -> None:
    # The context's started() says no; the run is not run and stays cancelled, with EVENT_JOB_MISSED (as before).
    outcomes = Outcomes()
    scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    clock = scheduler.clock
    assert isinstance(clock, ManualClock)
    held = threading.Event()
    original = ThreadPerRunExecutor._run

    def late_start(context: RunContext) -> None:
        assert held.wait(WAIT)
        original(context)

    executor = _EXECUTORS[id(scheduler)]
    executor._run = late_start  # type: ignore[method-assign]
    _GATES["never"], _REACHED["never"] = threading.Event(), threading.Event()
    scheduler.add_job(blocking_step, "date", run_date=clock.now() + timedelta(minutes=1), args=["never"], id="never")
    clock.advance(60)
    [run] = scheduler.runs(job_id="never")
    scheduler.cancel_run(run.id)
    held.set()
    [event] = outcomes.wait(1)
    assert event.code == EVENT_JOB_MISSED and not _REACHED["never"].is_set()
    [after] = scheduler.runs(job_id="never")
    assert (after.status, after.started_at) == (RunStatus.CANCELLED, None)


def add(x: int, y: int) -> int:
    return x + y


def test_an_apscheduler_style_executor_still_reports_through_events(tmp_path: Path) -> None:
    # Written for APScheduler 3: _do_submit_job, run_job and _run_job_success, reading job._jobstore_alias as
    # APScheduler's own executors do. Its events are its runs' ends: recorded, dispatched unchanged, and the
    # max_instances count released (the next fire runs).
    from nbsched.executors.base import BaseExecutor, run_job

    class OldStyleExecutor(BaseExecutor):
        def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
            def work() -> None:
                self._run_job_success(job.id, run_job(job, job._jobstore_alias, run_times, self._logger.name))

            threading.Thread(target=work, daemon=True).start()

    clock = ManualClock("2026-03-02 09:00")
    s = BackgroundScheduler(
        timezone="UTC",
        clock=clock,
        jobstores={"default": {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 'jobs.db'}"}},
        executors={"default": OldStyleExecutor()},
    )
    outcomes = Outcomes()
    s.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    s.start()
    try:
        s.add_job(add, "interval", minutes=1, args=[2, 3], id="sum")
        clock.advance(60)
        outcomes.wait(1)
        clock.advance(60)
        events = outcomes.wait(1)
        runs = s.runs(job_id="sum")
    finally:
        s.shutdown()
    first = datetime.fromisoformat("2026-03-02 09:01+00:00")
    assert [(e.code, e.job_id, e.jobstore, e.scheduled_run_time, e.retval) for e in events] == [
        (EVENT_JOB_EXECUTED, "sum", "default", first, 5),
        (EVENT_JOB_EXECUTED, "sum", "default", first + timedelta(minutes=1), 5),
    ]
    assert [(run.status, run.finished_at) for run in runs] == [
        (RunStatus.SUCCEEDED, first + timedelta(minutes=1)),
        (RunStatus.SUCCEEDED, first),
    ]


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (RunOutcome.succeeded(42), EVENT_JOB_EXECUTED),
        (RunOutcome.failed(ValueError("no"), "tb text"), EVENT_JOB_ERROR),
        (RunOutcome.missed(), EVENT_JOB_MISSED),
        (RunOutcome.cancelled(), EVENT_JOB_MISSED),
    ],
)
def test_an_outcome_is_the_event_apscheduler_dispatches(outcome: RunOutcome, code: int) -> None:
    at = datetime.fromisoformat("2026-03-02 09:01+00:00")
    event = outcome.event("job", "default", at)
    assert (event.code, event.job_id, event.jobstore, event.scheduled_run_time) == (code, "job", "default", at)
    assert (event.retval, event.exception, event.traceback) == (outcome.retval, outcome.exception, outcome.traceback)
    back = RunOutcome.from_event(event)
    assert back.event("job", "default", at) == event


def test_a_cancel_signal_is_set_once_with_its_first_reason_and_calls_back_once() -> None:
    from nbsched.abc import CancelSignal

    signal = CancelSignal()
    heard: list[str] = []
    signal.add_callback(heard.append)
    assert not signal.is_set() and not signal.wait(0)
    waiter_saw: list[bool] = []
    waiter = threading.Thread(target=lambda: waiter_saw.append(signal.wait(WAIT)))
    waiter.start()
    signal.set("first")
    signal.set("second")
    waiter.join(WAIT)
    signal.add_callback(heard.append)  # already set: called at once
    assert (signal.is_set(), signal.reason, heard, waiter_saw) == (True, "first", ["first", "first"], [True])
