"""The in-memory run history (``RunTable``): its indexes by job and by active run stay right as runs change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nbsched import runs as runs_module
from nbsched.runs import Run, RunFilter, RunStatus, RunTable

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_failed_run_retried_in_place_is_found_lost_again() -> None:
    # The scheduler changes its own run objects in place, then hands them to update(): a run that finished
    # and was made scheduled again (a retry) must be a lost-run candidate again.
    table = RunTable()
    run = Run(job_id="j", scheduled_at=T0, heartbeat_at=T0)
    assert table.add(run)
    run.status, run.finished_at = RunStatus.FAILED, T0
    table.update(run)
    assert table.mark_lost(T0 + timedelta(hours=1), T0 + timedelta(hours=1)) == []
    run.status, run.finished_at, run.heartbeat_at = RunStatus.SCHEDULED, None, T0 + timedelta(minutes=1)
    table.update(run)
    lost = table.mark_lost(T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    assert [(r.id, r.status) for r in lost] == [(run.id, RunStatus.LOST)]
    assert table.mark_lost(T0 + timedelta(hours=2), T0 + timedelta(hours=2)) == []  # lost once


def test_a_run_replaced_by_a_copy_is_the_one_marked_lost() -> None:
    table = RunTable()
    run = Run(job_id="j", scheduled_at=T0, heartbeat_at=T0)
    table.add(run)
    copy = Run(id=run.id, job_id="j", scheduled_at=T0, status=RunStatus.RUNNING, heartbeat_at=T0)
    table.update(copy)
    table.mark_lost(T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    stored = table.get(run.id)
    assert stored is not None and stored.status is RunStatus.LOST


def test_prune_keeps_the_newest_finished_runs_of_each_job_and_the_key_stays_unique() -> None:
    table = RunTable()
    for job in ("a", "b"):
        for minute in range(5):
            table.add(Run(job_id=job, scheduled_at=T0 + timedelta(minutes=minute), status=RunStatus.SUCCEEDED))
    running = Run(job_id="a", scheduled_at=T0 - timedelta(minutes=1), status=RunStatus.RUNNING)
    table.add(running)
    doomed = table.prune(keep_last=2, older_than=None)
    assert sorted((r.job_id, r.scheduled_at.minute) for r in doomed) == [(job, m) for job in "ab" for m in (0, 1, 2)]
    left = table.query(RunFilter(job_id="a", limit=None))
    assert [r.scheduled_at.minute for r in left] == [4, 3, 59]  # the running one is never pruned
    # A pruned fire can be recorded again; one still recorded cannot.
    assert table.add(Run(job_id="a", scheduled_at=T0))
    assert not table.add(Run(job_id="a", scheduled_at=T0 + timedelta(minutes=4)))
    assert table.prune(keep_last=None, older_than=T0 + timedelta(minutes=4)) != []
    assert [r.scheduled_at.minute for r in table.query(RunFilter(limit=None)) if r.job_id == "b"] == [4]


def test_prune_lets_go_of_the_lock_between_a_few_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Recording new runs (the firing path) takes the same lock: a prune of many jobs must not hold it throughout.
    monkeypatch.setattr(runs_module, "PRUNE_JOBS_AT_ONCE", 2)
    table = RunTable()
    for job in range(6):
        for minute in range(3):
            table.add(Run(job_id=f"j{job}", scheduled_at=T0 + timedelta(minutes=minute), status=RunStatus.SUCCEEDED))

    class CountingLock:
        def __init__(self) -> None:
            self.lock, self.holds = threading.Lock(), 0

        def __enter__(self) -> Any:
            self.lock.acquire()
            self.holds += 1

        def __exit__(self, *_: Any) -> None:
            self.lock.release()

    counting = CountingLock()
    table._lock = counting  # type: ignore[assignment]
    assert len(table.prune(keep_last=1, older_than=None)) == 12
    assert counting.holds == 1 + 3  # the job list, then three holds of two jobs each
