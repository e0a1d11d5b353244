"""Run-output folders are deleted by the process that can reach them.

Several machines may share one store; each writes its runs' outputs to its own data dir. When one of them prunes
runs (retention) or deletes one (REST), the folders on the other machines are found and deleted there: every
scheduler sweeps its own ``<data dir>/runs/`` for folders of its store whose runs are gone. Two schedulers over
one SQLite file with different data dirs stand for two machines; ``$NBSCHED_HOME`` is switched between their
passes, as each machine has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import nbsched.schedulers._outputs as outputs
from nbsched.abc import JobStore
from nbsched.clock import ManualClock
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.background import BackgroundScheduler

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SWEEP = timedelta(minutes=11)  # longer than the sweep interval


def _scheduler(store: JobStore, **options: Any) -> BackgroundScheduler:
    # Not started: the tests make its pruning passes (a started one makes them as it heartbeats its runs).
    return BackgroundScheduler(jobstores={"default": store}, clock=ManualClock(T0), timezone="UTC", **options)


def _run(job_id: str, minutes: int, status: RunStatus = RunStatus.SUCCEEDED) -> Run:
    at = T0 - timedelta(minutes=minutes)
    finished = at if status is not RunStatus.RUNNING else None
    return Run(job_id=job_id, scheduled_at=at, status=status, started_at=at, finished_at=finished)


@pytest.fixture
def machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("NBSCHED_DB_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    homes = {name: tmp_path / name for name in ("a", "b")}

    def on(name: str) -> Path:
        monkeypatch.setenv("NBSCHED_HOME", str(homes[name]))
        return homes[name] / "runs"

    on("a")
    a = _scheduler(SQLAlchemyJobStore(), keep_runs=1)
    on("b")
    b = _scheduler(SQLAlchemyJobStore())  # no retention of its own: machine A prunes
    try:
        yield {"a": a, "b": b, "on": on, "homes": homes}
    finally:
        for scheduler in (a, b):
            for store in scheduler._jobstores.values():
                store.shutdown()


def test_runs_pruned_on_one_machine_lose_their_folders_on_another(machines: dict[str, Any], tmp_path: Path) -> None:
    a, b, on = machines["a"], machines["b"], machines["on"]
    store = b._lookup_jobstore("default")
    old, older, newest = _run("j", 3), _run("j", 2), _run("j", 1)
    running = _run("j", 0, RunStatus.RUNNING)
    for run in (old, older, newest, running):
        assert store.add_run(run)
    runs_b = on("b")
    for run in (old, older, newest, running):  # machine B ran them: their outputs are on its disk
        (b.run_folder("j", run.id, "default") / "output.ipynb").write_text("{}")
    (runs_b / "j" / "not-a-run-of-a-store").mkdir()  # a folder nbsched did not mark: left alone
    other = _scheduler(SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'other.db'}"))
    foreign = other.run_folder("j", "run-of-another-store", "default")  # same data dir, another store

    b._prune_runs(T0 + SWEEP)  # nothing is gone yet: nothing is deleted
    on("a")
    a._prune_runs(T0 + SWEEP)  # keep_runs=1: the two older finished runs go; A has no folders of them
    assert sorted(run.id for run in a.runs(job_id="j")) == sorted([newest.id, running.id])

    on("b")
    b._prune_runs(T0 + 2 * SWEEP)
    # Seen gone once: kept until the next sweep, so a run whose row is still on its way is never deleted.
    assert (runs_b / "j" / old.id).is_dir()
    b._prune_runs(T0 + 3 * SWEEP)
    left = sorted(path.name for path in (runs_b / "j").iterdir())
    assert left == sorted([newest.id, running.id, "not-a-run-of-a-store", "run-of-another-store"])
    assert foreign.is_dir()
    assert (runs_b / "j" / newest.id / "output.ipynb").read_text() == "{}"


def test_a_run_that_comes_back_is_not_deleted(machines: dict[str, Any]) -> None:
    # A folder whose row is not in the store yet at one sweep, and is at the next (a run being recorded), stays.
    b, on = machines["b"], machines["on"]
    runs_b = on("b")
    late = _run("j", 1)
    b.run_folder("j", late.id, "default")
    b._prune_runs(T0 + SWEEP)
    b._lookup_jobstore("default").add_run(late)
    b._prune_runs(T0 + 2 * SWEEP)
    b._prune_runs(T0 + 3 * SWEEP)
    assert (runs_b / "j" / late.id).is_dir()


def test_the_store_is_asked_in_batches(machines: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    b, on = machines["b"], machines["on"]
    runs_b = on("b")
    store = b._lookup_jobstore("default")
    kept = [_run("j", minutes) for minutes in range(1, 4)]
    for run in kept:
        store.add_run(run)
        b.run_folder("j", run.id, "default")
    gone = [b.run_folder(job, f"gone-{job}-{n}", "default") for job in ("j", "k") for n in range(3)]
    asked: list[int] = []
    original = type(store).existing_run_ids

    def counting(self: JobStore, run_ids: Any) -> set[str]:
        asked.append(len(run_ids))
        return original(self, run_ids)

    monkeypatch.setattr(type(store), "existing_run_ids", counting)
    monkeypatch.setattr(outputs, "BATCH", 2)
    b._prune_runs(T0 + SWEEP)
    b._prune_runs(T0 + 2 * SWEEP)
    assert asked and max(asked) <= 2, asked
    assert sum(asked) == 2 * (len(kept) + len(gone)), asked  # each folder asked about once per sweep
    assert not any(folder.exists() for folder in gone)
    assert sorted(path.name for path in (runs_b / "j").iterdir()) == sorted(run.id for run in kept)
    assert not (runs_b / "k").exists()  # a job folder left empty goes too


def test_a_memory_store_marks_nothing_and_sweeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A memory store is this process's alone: its pruned runs' folders are deleted with them, as before, and its
    # scheduler never deletes folders of runs it does not know (they may be another scheduler's in this data dir).
    monkeypatch.setenv("NBSCHED_HOME", str(tmp_path))
    scheduler = _scheduler(MemoryJobStore())
    folder = scheduler.run_folder("j", "r1", "default")
    assert not (folder / outputs.MARKER).exists()
    scheduler._prune_runs(T0 + SWEEP)
    scheduler._prune_runs(T0 + 2 * SWEEP)
    assert folder.is_dir()
