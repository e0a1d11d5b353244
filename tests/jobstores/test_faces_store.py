"""The store side of the faces' API, on every store (memory, SQLite, PostgreSQL): the latest run of many jobs in
one query, and the liveness rows of the schedulers over a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from nbsched.abc import JobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.liveness import SchedulerInfo
from nbsched.runs import Run, RunFilter, RunStatus

from .conftest import Backend

T0 = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _run(job_id: str, minutes: int, status: RunStatus = RunStatus.SUCCEEDED) -> Run:
    return Run(job_id=job_id, scheduled_at=T0 + timedelta(minutes=minutes), status=status)


def _minutes(runs: dict[str, Run]) -> dict[str, int]:
    return {job_id: int((run.scheduled_at - T0).total_seconds() // 60) for job_id, run in runs.items()}


def test_last_runs(store: JobStore) -> None:
    for job_id, minutes in (("a", 1), ("a", 5), ("a", 3), ("b", 2), ("c", 7), ("c", 4)):
        store.add_run(_run(job_id, minutes))
    assert _minutes(store.last_runs()) == {"a": 5, "b": 2, "c": 7}
    assert _minutes(store.last_runs(["a", "c", "nope"])) == {"a": 5, "c": 7}
    assert store.last_runs([]) == {}
    latest = store.last_runs(["b"])["b"]
    assert latest.to_dict() == store.get_runs(RunFilter(job_id="b"))[0].to_dict()


def _count_statements(store: SQLAlchemyJobStore) -> list[str]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    return statements


@pytest.mark.parametrize("jobs", [3, 600])  # 600: more ids than one IN (...) takes
def test_last_runs_is_one_query(backend: Backend, jobs: int) -> None:
    if backend.name == "memory":
        pytest.skip("no SQL")
    store = backend.store()
    assert isinstance(store, SQLAlchemyJobStore)
    job_ids = [f"job{index}" for index in range(jobs)]
    for index, job_id in enumerate(job_ids):
        for minutes in range(3):
            store.add_run(_run(job_id, minutes + index))
    statements = _count_statements(store)
    found = store.last_runs(job_ids)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 1, statements
    assert _minutes(found) == {job_id: index + 2 for index, job_id in enumerate(job_ids)}
    statements.clear()
    assert len(store.last_runs()) == jobs
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]) == 1


def _info(scheduler_id: str, beat: datetime, runs_jobs: bool = True) -> SchedulerInfo:
    return SchedulerInfo(id=scheduler_id, host="host-a", pid=42, started_at=T0, heartbeat_at=beat, runs_jobs=runs_jobs)


def test_liveness_rows(store: JobStore) -> None:
    assert store.live_schedulers(T0) == []
    store.record_scheduler(_info("a", T0))
    store.record_scheduler(_info("b", T0 + timedelta(seconds=5), runs_jobs=False))
    assert [row.id for row in store.live_schedulers(T0)] == ["a", "b"]
    store.record_scheduler(_info("a", T0 + timedelta(seconds=20)))  # a heartbeat replaces the row
    live = store.live_schedulers(T0 + timedelta(seconds=10))
    assert live == [_info("a", T0 + timedelta(seconds=20))]
    store.remove_scheduler("a")
    store.remove_scheduler("a")  # no error when gone
    assert [row.id for row in store.live_schedulers(T0)] == ["b"]


def test_liveness_rows_are_shared(backend: Backend) -> None:
    """Another process's scheduler (another store object over the same database) sees the row."""
    if backend.name == "memory":
        pytest.skip("the memory store is this process's only")
    one, two = backend.store(), backend.store()
    one.record_scheduler(_info("a", T0))
    assert [row.id for row in two.live_schedulers(T0)] == ["a"]


def test_rows_of_schedulers_long_dead_are_forgotten(backend: Backend) -> None:
    if backend.name == "memory":
        pytest.skip("the memory store forgets nothing a scheduler of this process did not remove")
    store = backend.store()
    store.record_scheduler(_info("dead", T0))
    store.record_scheduler(_info("alive", T0 + timedelta(days=2)))
    assert [row.id for row in store.live_schedulers(T0 - timedelta(days=1))] == ["alive"]
