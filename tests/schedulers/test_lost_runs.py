"""Runs whose worker died: how they read in the history, and their retry, on the memory and SQLite stores.

A dead worker is a run row that stops heartbeating: it was claimed and started by another process, which is
gone. The scheduler under test finds it at its lost-run check, driven by a ManualClock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the harness clock's start
DEAD = "gone-host:4242"


@pytest.fixture(params=["memory", "sqlite"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    config = {}
    if request.param == "sqlite":
        config["jobstores"] = {"default": SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'runs.db'}")}
    h = Harness("background", **config)
    yield h
    h.shutdown()


def _dead_workers_run(harness: Harness, job_id: str, last_beat: datetime) -> Run:
    """A run another process started at T0 and heartbeat until ``last_beat``, then died."""
    run = Run(job_id=job_id, scheduled_at=T0, status=RunStatus.RUNNING, started_at=T0, worker=DEAD, progress="cell 3/9")
    run.heartbeat_at = last_beat
    harness.scheduler._jobstores["default"].add_run(run)
    return run


def _check_for_lost_runs(harness: Harness) -> None:
    """The scheduler's lost-run check, as its run writer does every ``heartbeat_interval`` seconds."""
    harness.scheduler._recorder._heartbeat_and_reap()


def test_a_lost_run_says_which_worker_went_silent_and_ends_at_its_last_heartbeat(harness: Harness) -> None:
    assert harness.scheduler.lost_after == 60  # the default: 6 heartbeats of 10 s
    harness.scheduler.add_job(tasks.record, "interval", hours=1, id="j")
    harness.start()
    last_beat = T0 + timedelta(seconds=40)
    _dead_workers_run(harness, "j", last_beat)
    harness.clock.advance(99)  # 59 s of silence: not lost yet
    _check_for_lost_runs(harness)
    assert harness.scheduler.runs(job_id="j")[0].status is RunStatus.RUNNING
    harness.clock.advance(2)  # 61 s
    _check_for_lost_runs(harness)
    (run,) = harness.scheduler.runs(job_id="j")
    assert run.status is RunStatus.LOST
    assert (run.started_at, run.finished_at, run.duration) == (T0, last_beat, 40.0)
    assert run.error_type == "WorkerLost"
    assert run.error_message == (
        f"attempt 1: worker {DEAD} stopped answering; last heartbeat at 2026-01-05T09:00:40+00:00, noticed 61 s later"
    )
    assert run.worker == DEAD
    assert run.attempt == 1


def test_a_lost_run_is_retried_as_the_next_attempt_of_the_same_fire(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", hours=1, retries=1, retry_backoff=10, id="j")
    harness.start()
    dead = _dead_workers_run(harness, "j", T0 + timedelta(seconds=40))
    harness.clock.advance(101)
    _check_for_lost_runs(harness)

    (waiting,) = harness.scheduler.runs(job_id="j")  # one fire, one row: the lost attempt is retried in it
    assert (waiting.id, waiting.scheduled_at, waiting.status, waiting.attempt) == (
        dead.id,
        T0,
        RunStatus.SCHEDULED,
        2,
    )
    assert waiting.worker != DEAD  # this scheduler holds the retry
    assert (waiting.started_at, waiting.finished_at, waiting.progress) == (None, None, None)  # nothing of attempt 1's
    assert waiting.error_type == "WorkerLost"  # what became of attempt 1 stays readable
    assert (waiting.error_message or "").startswith(f"attempt 1: worker {DEAD} stopped answering")

    harness.advance(10)
    (run,) = harness.scheduler.runs(job_id="j")
    assert (run.id, run.scheduled_at, run.status, run.attempt) == (dead.id, T0, RunStatus.SUCCEEDED, 2)
    assert run.started_at == run.finished_at == T0 + timedelta(seconds=111)
    assert (run.error_type, (run.error_message or "")[:10]) == ("WorkerLost", "attempt 1:")
    assert tasks.CALLS == [None]
