"""Executors with real threads, processes and event loops (short intervals, generous bounds)."""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from typing import Any

import pytest

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from nbsched.schedulers.asyncio import AsyncIOScheduler
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks

pytestmark = pytest.mark.realtime


class Outcomes:
    """Collects execution events and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 20.0) -> list[Any]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


def _run(executor: dict[str, Any], jobs: list[dict[str, Any]], count: int) -> list[Any]:
    outcomes = Outcomes()
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": executor})
    scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    for job in jobs:
        scheduler.add_job(**job)
    scheduler.start()
    try:
        return outcomes.wait(count)
    finally:
        scheduler.shutdown()


def test_thread_pool_runs_jobs_in_worker_threads() -> None:
    main = threading.get_ident()
    events = _run(
        {"type": "threadpool", "max_workers": 2},
        [{"func": threading.get_ident, "trigger": "interval", "seconds": 0.05, "id": "t"}],
        3,
    )
    assert all(e.code == EVENT_JOB_EXECUTED and e.retval != main for e in events[:3])


def test_process_pool_runs_jobs_in_other_processes_and_reports_errors() -> None:
    events = _run(
        {"type": "processpool", "max_workers": 2},
        [
            {"func": tasks.pid, "trigger": "date", "id": "pid"},
            {"func": tasks.fail, "trigger": "date", "args": ["in a child"], "id": "fail"},
        ],
        2,
    )
    by_job = {e.job_id: e for e in events}
    assert by_job["pid"].code == EVENT_JOB_EXECUTED and by_job["pid"].retval != os.getpid()
    assert by_job["fail"].code == EVENT_JOB_ERROR
    assert isinstance(by_job["fail"].exception, RuntimeError) and "in a child" in str(by_job["fail"].exception)
    assert "tasks.py" in by_job["fail"].traceback


def test_process_pool_reports_a_function_that_cannot_cross_processes() -> None:
    events = _run(
        {"type": "processpool", "max_workers": 1},
        [{"func": lambda: 1, "trigger": "date", "id": "lam"}],
        1,
    )
    assert events[0].code == EVENT_JOB_ERROR  # a lambda cannot be sent to a worker process


def test_thread_pool_keeps_scheduling_after_a_job_raises_base_exception() -> None:
    def exit_job() -> None:
        raise SystemExit(3)

    events = _run(
        {"type": "threadpool"},
        [{"func": exit_job, "trigger": "interval", "seconds": 0.05, "id": "exit"}],
        3,
    )
    assert [e.code for e in events[:3]] == [EVENT_JOB_ERROR] * 3


def test_asyncio_scheduler_runs_coroutines_and_plain_functions() -> None:
    async def main() -> list[Any]:
        outcomes = Outcomes()
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_job(tasks.async_add, "date", args=[2, 3], id="coro")
        scheduler.add_job(tasks.async_fail, "date", id="coro-fail")
        scheduler.add_job(tasks.add, "date", args=[4, 5], id="plain")
        scheduler.start()
        deadline = time.monotonic() + 10
        while len(outcomes.events) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        scheduler.shutdown()
        return outcomes.events

    events = asyncio.run(main())
    by_job = {e.job_id: e for e in events}
    assert by_job["coro"].retval == 5
    assert by_job["plain"].retval == 9
    assert by_job["coro-fail"].code == EVENT_JOB_ERROR and isinstance(by_job["coro-fail"].exception, ValueError)


def test_interval_job_fires_in_real_time_at_the_right_pace() -> None:
    stamps: list[float] = []
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: stamps.append(time.monotonic()), "interval", seconds=0.1)
    scheduler.start()
    time.sleep(1.05)
    scheduler.shutdown()
    # Generous bounds: ten fires are due; a loaded machine may run a few late (coalesced), never many early.
    assert 5 <= len(stamps) <= 11, stamps
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) < 1.0, gaps


def test_shutdown_wait_lets_running_jobs_finish() -> None:
    done = threading.Event()

    def slow() -> None:
        time.sleep(0.3)
        done.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    started = threading.Event()
    scheduler.add_job(lambda: (started.set(), slow()), "date")
    scheduler.start()
    assert started.wait(5)
    scheduler.shutdown(wait=True)
    assert done.is_set()
