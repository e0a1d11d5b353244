"""The in-memory run history (``RunTable``): its indexes by job and by active run stay right as runs change."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from nbsched.jobstores import runtable
from nbsched.jobstores.runtable import RunTable
from nbsched.runs import Run, RunFilter, RunStatus

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
    monkeypatch.setattr(runtable, "PRUNE_JOBS_AT_ONCE", 2)
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


def _finished(job: str, when: datetime, **fields: Any) -> Run:
    return Run(job_id=job, scheduled_at=when, status=RunStatus.SUCCEEDED, finished_at=when, **fields)


def test_a_finished_run_reads_back_exactly_zone_fold_and_all() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    repeated = datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=1)  # the second 02:30 of the night
    table = RunTable()
    plus_two = datetime(2026, 1, 5, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    run = Run(job_id="j", scheduled_at=repeated, heartbeat_at=plus_two, worker="host:1")
    table.add(run)
    run.status, run.attempt, run.started_at = RunStatus.FAILED, 2, datetime(2026, 1, 5, 10, 0, 0, 123456)  # naive
    run.finished_at, run.error_type, run.error_message = T0 + timedelta(microseconds=7), "ValueError", "bad é"
    run.traceback, run.progress, run.cell_index = "Traceback ...", "cell 3/4", 3
    run.outputs, run.input_sha256 = {"ipynb": "/o/x.ipynb", "html": "/o/x.html"}, "ab" * 32
    run.warnings = ["html not written: disk full", "stands for 3 fire times"]
    table.update(run)
    assert isinstance(table._runs[run.id], bytes)  # kept packed
    back = table.get(run.id)
    assert back == run and back is not run
    assert back.scheduled_at.tzinfo is berlin and back.scheduled_at.fold == 1
    assert back.scheduled_at.utcoffset() == timedelta(hours=1)
    assert back.started_at is not None and back.started_at.tzinfo is None
    assert back.finished_at is not None and back.finished_at.tzinfo is UTC
    assert back.heartbeat_at is not None and back.heartbeat_at.utcoffset() == timedelta(hours=2)
    assert type(back.status) is RunStatus
    assert type(back.warnings) is list
    back.outputs["log"] = "x"  # each read is a copy
    back.warnings.append("y")
    assert table.get(run.id) == run
    plain = _finished("k", T0)
    table.add(plain)
    assert table.get(plain.id) == plain and isinstance(table._runs[plain.id], bytes)  # no warnings: []


def test_a_finished_run_holding_other_types_is_kept_as_it_is() -> None:
    class Message(str):
        pass

    table = RunTable()
    run = _finished("j", T0, error_message=Message("not a plain str"))
    table.add(run)
    assert table._runs[run.id] is run
    back = table.get(run.id)
    assert back == run and isinstance(back.error_message, Message)


def test_finished_runs_add_nothing_for_the_garbage_collector_to_track() -> None:
    # A history of Run objects grows the collector's tracked objects by one per fire; packed, by none.
    table = RunTable()
    for minute in range(10):  # the table's own structures exist before counting
        table.add(_finished("warm", T0 + timedelta(minutes=minute)))
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        for minute in range(1000):
            run = Run(job_id="j", scheduled_at=T0 + timedelta(minutes=minute), heartbeat_at=T0)
            table.add(run)
            run.status, run.finished_at, run.outputs = RunStatus.SUCCEEDED, T0, {"stdout": "/o/stdout.txt"}
            table.update(run)
            del run
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert grown < 50, grown
    assert len(table.query(RunFilter(job_id="j", limit=None))) == 1000


def test_a_packed_run_keeps_its_place_in_queries_prune_and_the_unique_key() -> None:
    table = RunTable()
    for minute in range(4):
        table.add(_finished("a", T0 + timedelta(minutes=minute)))
    running = Run(job_id="a", scheduled_at=T0 + timedelta(minutes=9), status=RunStatus.RUNNING)
    table.add(running)
    assert [r.id for r in table.query(RunFilter(status="running", limit=None))] == [running.id]
    newest = table.query(RunFilter(job_id="a", status="succeeded", since=T0 + timedelta(minutes=2), limit=None))
    assert [r.scheduled_at.minute for r in newest] == [3, 2]
    assert not table.add(_finished("a", T0 + timedelta(minutes=1)))
    assert sorted(r.scheduled_at.minute for r in table.prune(keep_last=1, older_than=None)) == [0, 1, 2]
    assert table.heartbeat([running.id, newest[0].id], T0) == [newest[0].id]  # a finished run is gone
    table.delete([newest[0].id])
    assert [r.id for r in table.query(RunFilter(limit=None))] == [running.id]


def test_a_cancelled_run_stays_cancelled_when_its_worker_reports_packed() -> None:
    table = RunTable()
    run = Run(job_id="j", scheduled_at=T0, status=RunStatus.RUNNING, heartbeat_at=T0)
    table.add(run)
    reported = attrs.evolve(run)  # the worker's own copy, as a shared store hands out
    cancelled = table.cancel(run.id, T0 + timedelta(seconds=5), "stopped by hand")
    assert cancelled is not None and run.status is RunStatus.CANCELLED  # in place: the tracker sees it
    reported.status, reported.outputs, reported.traceback = RunStatus.SUCCEEDED, {"ipynb": "/o/x.ipynb"}, "tb"
    reported.warnings = ["html not written: disk full"]
    table.update(reported)
    stored = table.get(run.id)
    assert stored is not None and stored.status is RunStatus.CANCELLED
    assert stored.error_message == "stopped by hand" and stored.outputs == {"ipynb": "/o/x.ipynb"}
    assert stored.traceback == "tb" and isinstance(table._runs[run.id], bytes)
    assert stored.warnings == ["html not written: disk full"]


def test_update_runs_goes_through_an_overridden_update_run() -> None:
    # The default history takes a writer's batch under one lock, unless a store says how to store one run.
    from nbsched.jobstores.memory import MemoryJobStore

    seen: list[str] = []

    class Auditing(MemoryJobStore):
        def update_run(self, run: Run) -> None:
            seen.append(run.id)
            super().update_run(run)

    for store, expected in ((MemoryJobStore(), []), (Auditing(), ["r1", "r2"])):
        runs = [Run(id=f"r{n}", job_id="j", scheduled_at=T0 + timedelta(minutes=n)) for n in (1, 2)]
        for run in runs:
            store.add_run(run)
            run.status = RunStatus.SUCCEEDED
        store.update_runs(runs)
        assert [(r.id, r.status) for r in store.get_runs(RunFilter(limit=None))] == [
            ("r2", RunStatus.SUCCEEDED),
            ("r1", RunStatus.SUCCEEDED),
        ]
        assert seen == expected
