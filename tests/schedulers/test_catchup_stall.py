"""No missed fire is dropped after a store stall (issue 15, point 2).

A claim stuck behind a lock hands its run over late; the fires missed meanwhile are caught up by the next pass
while that run still counts as the job's running instance. They were due before it started, so they wait for
it and run one after another (``coalesce=False``), instead of being recorded ``skipped: max_instances``.
A fire that comes due while the job is already running is still refused, as APScheduler does.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nbsched.clock import ManualClock
from nbsched.job import Job
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class StallingStore(MemoryJobStore):
    """A memory store whose next claim waits ``stall`` seconds (of the manual clock) for a lock first."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock
        self.stall = 0.0

    def claim_jobs(self, claims: Sequence[tuple[Job, datetime | None, list[Run]]]) -> list[bool]:
        if self.stall:
            stall, self.stall = self.stall, 0.0
            self.clock.advance(stall)  # time passes while the claim waits for the lock
        return super().claim_jobs(claims)


def _wait(gate: Any) -> None:
    gate.wait(10)


def _harness() -> tuple[Harness, StallingStore]:
    h = Harness("background", executors={"default": {"type": "threadpool", "max_workers": 8}})
    store = StallingStore(h.clock)
    h.scheduler.add_jobstore(store, "stalling")
    return h, store


def _finished_runs(h: Harness, count: int) -> list[Run]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = h.scheduler.runs(limit=None)
        if len(runs) >= count and all(run.status not in (RunStatus.SCHEDULED, RunStatus.RUNNING) for run in runs):
            return runs
        time.sleep(0.02)
    return h.scheduler.runs(limit=None)


def test_fires_missed_behind_a_stuck_claim_all_run() -> None:
    h, store = _harness()
    gate = threading.Event()
    try:
        for name in ("a", "b", "c"):
            h.scheduler.add_job(
                _wait, "interval", seconds=1, args=[gate], id=name, jobstore="stalling",
                coalesce=False, misfire_grace_time=None,
            )  # fmt: skip
        h.start()
        store.stall = 30
        h.advance(1)  # the claim of the fires at T0+1 waits 30 s for the lock: their runs start at T0+31
        h.settle()  # the next pass catches up T0+2..T0+31 while those runs are still going
        waiting = h.scheduler.runs(status="skipped", limit=None)
        assert waiting == []
        gate.set()
        runs = _finished_runs(h, 3 * 31)
    finally:
        gate.set()
        h.shutdown()
    for name in ("a", "b", "c"):
        mine = sorted((run for run in runs if run.job_id == name), key=lambda run: run.scheduled_at)
        assert [run.scheduled_at for run in mine] == [T0 + timedelta(seconds=s) for s in range(1, 32)]
        assert {run.status for run in mine} == {RunStatus.SUCCEEDED}, [(r.status, r.error_message) for r in mine]


def test_a_fire_due_while_the_job_runs_is_still_refused_after_a_catch_up() -> None:
    h, store = _harness()
    gate = threading.Event()
    try:
        h.scheduler.add_job(
            _wait, "interval", seconds=1, args=[gate], id="a", jobstore="stalling",
            coalesce=False, misfire_grace_time=None,
        )  # fmt: skip
        h.start()
        store.stall = 5
        h.advance(1)
        h.settle()  # T0+2..T0+6 wait for the run of T0+1
        h.advance(1)  # T0+7 comes due while the job is running: refused, as APScheduler does
        skipped = h.scheduler.runs(status="skipped", limit=None)
        gate.set()
        runs = _finished_runs(h, 7)
    finally:
        gate.set()
        h.shutdown()
    assert [(run.scheduled_at, run.error_message) for run in skipped] == [
        (T0 + timedelta(seconds=7), "max_instances (1) reached: the previous run had not ended")
    ]
    succeeded = sorted(run.scheduled_at for run in runs if run.status is RunStatus.SUCCEEDED)
    assert succeeded == [T0 + timedelta(seconds=s) for s in range(1, 7)]


def test_a_coalesced_catch_up_run_says_which_fire_times_it_stands_for(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, coalesce=True, id="c")
    harness.start(paused=True)
    harness.advance(95)  # nine fire times pass while paused
    harness.scheduler.resume()
    harness.settle()
    harness.advance(5)  # the next fire, on time
    first, second = sorted(harness.scheduler.runs(job_id="c"), key=lambda run: run.scheduled_at)
    assert (first.scheduled_at, first.status) == (T0 + timedelta(seconds=90), RunStatus.SUCCEEDED)
    assert first.warnings == [
        f"coalesced 9 fire times from {T0 + timedelta(seconds=10):%Y-%m-%dT%H:%M:%S+00:00} to "
        f"{T0 + timedelta(seconds=90):%Y-%m-%dT%H:%M:%S+00:00} into this run of the latest (coalesce=True)"
    ]
    assert (second.scheduled_at, second.warnings) == (T0 + timedelta(seconds=100), [])


def test_a_coalesced_fire_missed_its_grace_time_says_which_fire_times_it_stands_for(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", seconds=10, coalesce=True, misfire_grace_time=1, id="c")
    harness.start(paused=True)
    harness.advance(35)
    harness.scheduler.resume()
    harness.settle()
    (run,) = harness.scheduler.runs(job_id="c")
    assert (run.scheduled_at, run.status) == (T0 + timedelta(seconds=30), RunStatus.SKIPPED)
    assert run.warnings[0].startswith("coalesced 3 fire times from 2026-01-05T09:00:10+00:00 to ")


@pytest.mark.slow
@pytest.mark.realtime
def test_fires_missed_while_another_connection_holds_the_sqlite_file_all_run(tmp_path: Path) -> None:
    # The case, shortened: another connection holds BEGIN EXCLUSIVE on the store's file for 4 s while
    # jobs are due every second; the claim waits on the busy timeout and hands its runs over late.
    url = f"sqlite:///{tmp_path / 'nbsched.db'}"
    scheduler = BackgroundScheduler(
        timezone="UTC",
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": {"type": "threadpool", "max_workers": 8}},
        job_defaults={"coalesce": False, "misfire_grace_time": None},
    )
    for name in ("a", "b"):
        # Each run takes a moment, as real work does: the late run is still going when the catch-up comes.
        scheduler.add_job(tasks.sleep, "interval", seconds=1, args=[0.05], id=name)
    scheduler.start()
    try:
        time.sleep(1.5)
        holder = sqlite3.connect(tmp_path / "nbsched.db", timeout=30, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        time.sleep(4)
        holder.execute("COMMIT")
        holder.close()
        time.sleep(2.5)
    finally:
        scheduler.shutdown()
    runs = scheduler.runs(limit=None)
    assert not [run for run in runs if run.status is RunStatus.SKIPPED], [
        (run.job_id, run.scheduled_at, run.error_message) for run in runs if run.status is RunStatus.SKIPPED
    ]
    for name in ("a", "b"):
        times = sorted(run.scheduled_at for run in runs if run.job_id == name)
        assert [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)] == [1.0] * (
            len(times) - 1
        )
        assert len(times) >= 7
    late = [run for run in runs if run.started_at and (run.started_at - run.scheduled_at).total_seconds() > 2]
    assert late  # the stall happened: runs were handed over seconds late
    assert {run.status for run in runs} <= {RunStatus.SUCCEEDED, RunStatus.SCHEDULED, RunStatus.RUNNING}


class FullStore(MemoryJobStore):
    """A memory store that fails like a full SQLite disk while ``full`` (and asks to be polled every second, as
    the SQLite store does)."""

    change_check_interval = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.full = False
        self.attempts = 0

    def get_due_jobs(self, now: datetime) -> list[Job]:
        if self.full:
            self.attempts += 1
            raise RuntimeError("(sqlite3.OperationalError) database or disk is full")
        return super().get_due_jobs(now)


def test_a_failing_store_is_retried_when_its_warning_says(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness("background", jobstore_retry_interval=10)
    store = FullStore()
    h.scheduler.add_jobstore(store, "full")
    h.scheduler.add_job(tasks.record, "interval", seconds=1, id="tick", jobstore="full")
    try:
        h.start()
        store.full = True
        with caplog.at_level("WARNING", logger="nbsched.scheduler"):
            h.advance(1)
            assert h.scheduler._process_jobs() == 10.0  # the pass waits for the retry, not for the 1 s check
            for _ in range(9):  # passes go on each second (the clock moves, other stores are polled)
                h.advance(1)
            assert store.attempts == 1
            h.advance(1)  # 10 s after the failure: tried again
            assert store.attempts == 2
            store.full = False
            for _ in range(10):
                h.advance(1)
        warnings = [r.getMessage() for r in caplog.records if "failed (will retry in 10 s)" in r.getMessage()]
        assert len(warnings) == 2
        assert tasks.CALLS  # it works again once the store does
    finally:
        h.shutdown()
