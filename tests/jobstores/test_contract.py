"""The JobStore contract (nbsched.abc.JobStore), one suite run against every store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nbsched.abc import JobStore
from nbsched.exceptions import ConflictingIdError, JobLookupError
from nbsched.job import Job
from nbsched.runs import Run, RunFilter, RunStatus
from nbsched.triggers.date import DateTrigger
from nbsched.triggers.interval import IntervalTrigger

from . import tasks
from .conftest import Backend

T0 = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)  # microseconds on purpose: claims compare exactly


def make_job(job_id: str, next_run_time: datetime | None, **options: Any) -> Job:
    trigger = options.pop("trigger", None) or IntervalTrigger(seconds=10, start_date=T0)
    func = options.pop("func", tasks.noop)
    job = Job.create(None, func, trigger, id=job_id, **options)
    job.next_run_time = next_run_time
    return job


def ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


# ------------------------------------------------------------------------------------------------------- jobs
def test_add_and_lookup(store: JobStore, backend: Backend) -> None:
    job = make_job("a", T0, func=tasks.add, args=[1, 2], kwargs={}, name="adder", tags=["x"])
    store.add_job(job)
    found = store.lookup_job("a")
    assert found is not None
    assert (found.id, found.name, found.func, found.args, found.next_run_time) == ("a", "adder", tasks.add, (1, 2), T0)
    assert found.tags == frozenset({"x"})
    assert found.trigger == job.trigger
    assert store.lookup_job("missing") is None
    if backend.persistent:
        assert found is not job
        assert found._scheduler is backend.scheduler
        assert found._jobstore_alias == "default"
        assert not found.pending


def test_add_conflicting_id(store: JobStore) -> None:
    store.add_job(make_job("a", T0))
    with pytest.raises(ConflictingIdError, match=r"Job identifier \(a\) conflicts with an existing job"):
        store.add_job(make_job("a", T0 + timedelta(seconds=1)))
    assert store.lookup_job("a").next_run_time == T0  # type: ignore[union-attr]


def test_add_jobs_in_one_batch_returns_the_taken_ids(store: JobStore) -> None:
    store.add_job(make_job("taken", T0))
    conflicts = store.add_jobs([make_job("x", T0), make_job("taken", T0 + timedelta(seconds=5)), make_job("y", None)])
    assert conflicts == ["taken"]
    assert ids(store.get_all_jobs()) == ["taken", "x", "y"]
    assert store.lookup_job("taken").next_run_time == T0  # type: ignore[union-attr]  # left alone
    assert store.add_jobs([]) == []


def test_ordering_earliest_first_paused_last(store: JobStore) -> None:
    store.add_job(make_job("paused", None))
    store.add_job(make_job("late", T0 + timedelta(hours=1)))
    store.add_job(make_job("early", T0 - timedelta(hours=1)))
    store.add_job(make_job("now", T0))
    assert ids(store.get_all_jobs()) == ["early", "now", "late", "paused"]
    assert ids(store.get_due_jobs(T0)) == ["early", "now"]
    assert ids(store.get_due_jobs(T0 - timedelta(hours=2))) == []
    assert store.get_next_run_time() == T0 - timedelta(hours=1)


def test_next_run_time_empty_and_all_paused(store: JobStore) -> None:
    assert store.get_next_run_time() is None
    assert store.get_all_jobs() == []
    store.add_job(make_job("p", None))
    assert store.get_next_run_time() is None
    assert store.get_due_jobs(T0 + timedelta(days=9999)) == []


def test_update_job(store: JobStore) -> None:
    store.add_job(make_job("a", T0))
    store.add_job(make_job("b", T0 + timedelta(seconds=5)))
    job = store.lookup_job("a")
    assert job is not None
    job.next_run_time = T0 + timedelta(seconds=10)
    job._modify(args=[], name="renamed", trigger=DateTrigger(T0 + timedelta(seconds=10)))
    store.update_job(job)
    again = store.lookup_job("a")
    assert again is not None
    assert (again.name, again.next_run_time) == ("renamed", T0 + timedelta(seconds=10))
    assert isinstance(again.trigger, DateTrigger)
    assert ids(store.get_all_jobs()) == ["b", "a"]


def test_update_missing_job(store: JobStore) -> None:
    with pytest.raises(JobLookupError, match="No job by the id of nope was found"):
        store.update_job(make_job("nope", T0))


def test_remove_job(store: JobStore) -> None:
    store.add_job(make_job("a", T0))
    store.add_job(make_job("b", T0))
    store.remove_job("a")
    assert ids(store.get_all_jobs()) == ["b"]
    with pytest.raises(JobLookupError):
        store.remove_job("a")


def test_remove_all_jobs(store: JobStore) -> None:
    for index in range(3):
        store.add_job(make_job(f"j{index}", T0))
    store.remove_all_jobs()
    assert store.get_all_jobs() == []
    assert store.get_next_run_time() is None


def test_job_state_round_trip(store: JobStore) -> None:
    job = make_job(
        "full", T0, func=tasks.add, args=[{"when": T0}, (1, 2)], kwargs={}, misfire_grace_time=30, coalesce=False,
        max_instances=3, max_runs=7, executor="other",
    )  # fmt: skip
    store.add_job(job)
    found = store.lookup_job("full")
    assert found is not None
    assert found.args == ({"when": T0}, (1, 2))
    assert (found.misfire_grace_time, found.coalesce, found.max_instances, found.max_runs, found.executor) == (
        30, False, 3, 7, "other",
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------------- claims
def test_claim_wins_once(backend: Backend, store: JobStore) -> None:
    store.add_job(make_job("a", T0))
    other = backend.store() if backend.persistent else store  # a second scheduler over the same database
    mine, theirs = store.lookup_job("a"), other.lookup_job("a")
    assert mine is not None and theirs is not None
    mine.next_run_time = T0 + timedelta(seconds=10)
    assert store.claim_job(mine, T0) is True
    theirs.next_run_time = T0 + timedelta(seconds=10)
    assert other.claim_job(theirs, T0) is False
    assert store.lookup_job("a").next_run_time == T0 + timedelta(seconds=10)  # type: ignore[union-attr]
    assert store.claim_job(make_job("missing", T0), T0) is False


def test_claim_paused_job(store: JobStore) -> None:
    store.add_job(make_job("p", None))
    job = store.lookup_job("p")
    assert job is not None
    job.next_run_time = T0
    assert store.claim_job(job, None) is True
    assert store.lookup_job("p").next_run_time == T0  # type: ignore[union-attr]


def test_claim_jobs_records_runs(backend: Backend, store: JobStore) -> None:
    store.add_job(make_job("a", T0))
    store.add_job(make_job("b", T0))
    store.add_run(Run(job_id="b", scheduled_at=T0))  # recorded already: the claim counts, the run does not
    claims = []
    for job_id in ("b", "a", "gone"):
        job = store.lookup_job(job_id) or make_job(job_id, T0)
        job.next_run_time = T0 + timedelta(seconds=10)
        claims.append((job, T0, [Run(job_id=job_id, scheduled_at=T0)]))
    assert store.claim_jobs(claims) == [True, True, False]
    assert [run.job_id for run in store.get_runs(RunFilter())] in (["a", "b"], ["b", "a"])
    assert len(store.get_runs(RunFilter(job_id="b"))) == 1
    assert store.get_runs(RunFilter(job_id="gone")) == []

    # Another scheduler that read the jobs before the claim loses every fire and records no run.
    stale = [
        (make_job(job_id, T0 + timedelta(seconds=10)), T0, [Run(job_id=job_id, scheduled_at=T0)]) for job_id in "ab"
    ]
    other = backend.store() if backend.persistent else store
    assert other.claim_jobs(stale) == [False, False]
    assert len(store.get_runs(RunFilter())) == 2


# -------------------------------------------------------------------------------------------------------- runs
def _run(job_id: str, minutes: int, status: RunStatus = RunStatus.SUCCEEDED, **fields: Any) -> Run:
    return Run(job_id=job_id, scheduled_at=T0 + timedelta(minutes=minutes), status=status, **fields)


def test_add_get_update_run(store: JobStore) -> None:
    run = _run("a", 0, RunStatus.SCHEDULED)
    assert store.add_run(run) is True
    assert store.add_run(Run(job_id="a", scheduled_at=T0)) is False  # unique (job_id, scheduled_at)
    run.status = RunStatus.FAILED
    run.started_at, run.finished_at = T0, T0 + timedelta(seconds=1, microseconds=5)
    run.error_type, run.error_message, run.traceback = "ValueError", "bad", "Traceback ..."
    run.progress, run.cell_index, run.outputs, run.worker = "cell 2/3", 1, {"html": "/x/out.html"}, "host:1"
    run.warnings = ["ipynb not written: [Errno 28] No space left on device", "é"]
    store.update_run(run)
    found = store.get_run(run.id)
    assert found is not None
    assert found.to_dict() == run.to_dict()
    assert store.get_run("missing") is None
    assert store.get_run(_added(store, _run("a", 9)).id).warnings == []  # type: ignore[union-attr]


def _added(store: JobStore, run: Run) -> Run:
    store.add_run(run)
    return run


def test_update_runs_batch(store: JobStore) -> None:
    runs = [_run("a", minute, RunStatus.SCHEDULED) for minute in range(3)]
    for run in runs:
        store.add_run(run)
    for run in runs:
        run.status = RunStatus.RUNNING
    store.update_runs(runs)
    assert {run.status for run in store.get_runs(RunFilter())} == {RunStatus.RUNNING}


def test_run_queries(store: JobStore) -> None:
    store.add_run(_run("a", 1))
    store.add_run(_run("a", 3, RunStatus.FAILED))
    store.add_run(_run("b", 2))
    store.add_run(_run("a", 5, RunStatus.RUNNING))

    def minutes(run_filter: RunFilter) -> list[tuple[str, int]]:
        return [(run.job_id, int((run.scheduled_at - T0).total_seconds() // 60)) for run in store.get_runs(run_filter)]

    assert minutes(RunFilter()) == [("a", 5), ("a", 3), ("b", 2), ("a", 1)]
    assert minutes(RunFilter(job_id="a", limit=2)) == [("a", 5), ("a", 3)]
    assert minutes(RunFilter(status=["succeeded", "failed"])) == [("a", 3), ("b", 2), ("a", 1)]
    assert minutes(RunFilter(status="running")) == [("a", 5)]
    assert minutes(RunFilter(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=5))) == [("a", 3), ("b", 2)]
    assert minutes(RunFilter(job_id="zzz")) == []


def test_heartbeat_and_mark_lost(backend: Backend, store: JobStore) -> None:
    alive = _run("a", 0, RunStatus.RUNNING, started_at=T0, heartbeat_at=T0)
    last_beat = T0 + timedelta(seconds=30)
    dead = _run("a", 1, RunStatus.RUNNING, started_at=T0, heartbeat_at=last_beat, worker="gone:41")
    dead_waiting = _run("b", 0, RunStatus.SCHEDULED, heartbeat_at=T0)  # its worker died before starting it
    never_beat = _run("b", 1, RunStatus.RUNNING, started_at=T0)
    waiting = _run("c", 0, RunStatus.SCHEDULED, heartbeat_at=T0)
    done = _run("d", 0, RunStatus.SUCCEEDED, started_at=T0, heartbeat_at=T0)
    for run in (alive, dead, dead_waiting, never_beat, waiting, done):
        store.add_run(run)
    store.heartbeat_runs([alive.id, waiting.id, done.id], T0 + timedelta(minutes=10))
    assert store.get_run(alive.id).heartbeat_at == T0 + timedelta(minutes=10)  # type: ignore[union-attr]
    assert store.get_run(done.id).heartbeat_at == T0  # type: ignore[union-attr]  # finished: not touched

    now = T0 + timedelta(minutes=11)
    lost = store.mark_lost_runs(stale_before=T0 + timedelta(minutes=5), now=now)
    assert sorted(run.id for run in lost) == sorted([dead.id, dead_waiting.id])
    # A lost run ends at its last sign of life, not when it was noticed, and says which worker went silent when.
    assert {(run.id, run.status, run.finished_at, run.error_type) for run in lost} == {
        (dead.id, RunStatus.LOST, last_beat, "WorkerLost"),
        (dead_waiting.id, RunStatus.LOST, T0, "WorkerLost"),
    }
    assert store.get_run(dead.id) == next(run for run in lost if run.id == dead.id)  # as stored
    message = store.get_run(dead.id).error_message  # type: ignore[union-attr]
    assert message == (
        "attempt 1: worker gone:41 stopped answering; last heartbeat at 2030-01-01T12:00:30+00:00, noticed 630 s later"
    )
    assert "an unknown worker" in (store.get_run(dead_waiting.id).error_message or "")  # type: ignore[union-attr]
    assert store.get_run(alive.id).status is RunStatus.RUNNING  # type: ignore[union-attr]
    assert store.get_run(waiting.id).status is RunStatus.SCHEDULED  # type: ignore[union-attr]
    assert store.get_run(never_beat.id).status is RunStatus.RUNNING  # type: ignore[union-attr]
    # Conditional: whoever asks next (this or another scheduler) gets nothing.
    other = backend.store() if backend.persistent else store
    assert other.mark_lost_runs(stale_before=T0 + timedelta(minutes=5), now=now) == []


def test_delete_runs(store: JobStore) -> None:
    runs = [_run("a", minute) for minute in range(3)]
    for run in runs:
        store.add_run(run)
    store.delete_runs([runs[0].id, runs[2].id, "missing"])
    assert [run.id for run in store.get_runs(RunFilter())] == [runs[1].id]
    assert store.add_run(_run("a", 0)) is True  # the slot is free again


def test_prune_keep_last(store: JobStore) -> None:
    for minute in range(5):
        store.add_run(_run("a", minute))
    store.add_run(_run("a", 9, RunStatus.RUNNING))  # unfinished runs are never pruned
    store.add_run(_run("b", 0, RunStatus.FAILED))
    deleted = store.prune_runs(keep_last=2, older_than=None)
    assert sorted((run.job_id, run.scheduled_at.minute) for run in deleted) == [("a", 0), ("a", 1), ("a", 2)]
    left = store.get_runs(RunFilter())
    assert [(run.job_id, run.scheduled_at.minute) for run in left] == [("a", 9), ("a", 4), ("a", 3), ("b", 0)]
    assert store.prune_runs(keep_last=2, older_than=None) == []


def test_prune_older_than(store: JobStore) -> None:
    for minute in range(4):
        store.add_run(_run("a", minute))
    store.add_run(_run("b", 0, RunStatus.SCHEDULED))
    deleted = store.prune_runs(keep_last=None, older_than=T0 + timedelta(minutes=2))
    assert sorted(run.scheduled_at.minute for run in deleted) == [0, 1]
    assert all(isinstance(run, Run) and run.status is RunStatus.SUCCEEDED for run in deleted)
    assert len(store.get_runs(RunFilter())) == 3
    assert store.prune_runs(keep_last=None, older_than=None) == []
    deleted = store.prune_runs(keep_last=1, older_than=T0 + timedelta(minutes=3))
    assert [run.scheduled_at.minute for run in deleted] == [2]


# ------------------------------------------------------------------------------------------------- broken rows
def test_broken_jobs_reported_and_kept(backend: Backend, store: JobStore) -> None:
    assert store.get_broken_jobs() == []
    if not backend.persistent:
        return  # the memory store holds objects: nothing to fail to load
    store.add_job(make_job("good", T0))
    store.add_job(make_job("gone", T0 - timedelta(seconds=1)))
    store.add_job(make_job("newer", T0 - timedelta(seconds=2)))
    store.add_job(make_job("garbled", T0 - timedelta(seconds=3)))
    gone_task = '{"version":1,"func":"nbsched_no_such_module:f","args":[],"kwargs":{}}'
    backend.execute("UPDATE jobs SET task = :task WHERE id = 'gone'", task=gone_task)
    backend.execute("UPDATE jobs SET version = 99 WHERE id = 'newer'")
    backend.execute("UPDATE jobs SET options = '{not json' WHERE id = 'garbled'")

    assert ids(store.get_due_jobs(T0)) == ["good"]
    assert ids(store.get_all_jobs()) == ["good"]
    assert store.get_next_run_time() == T0
    assert store.lookup_job("gone") is None
    broken = dict(store.get_broken_jobs())
    assert sorted(broken) == ["garbled", "gone", "newer"]
    assert "nbsched_no_such_module" in broken["gone"]
    assert "version 99 is not supported" in broken["newer"]
    assert broken["garbled"].startswith("JSONDecodeError")
    # kept, marked for other tools, and never deleted by the store
    rows = backend.execute("SELECT id, load_error FROM jobs WHERE load_error IS NOT NULL ORDER BY id")
    assert [row[0] for row in rows] == ["garbled", "gone", "newer"]
    # an explicit removal still works
    store.remove_job("garbled")
    assert sorted(dict(store.get_broken_jobs())) == ["gone", "newer"]
