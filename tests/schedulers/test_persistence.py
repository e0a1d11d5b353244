"""Jobs survive restarts on the SQLite store, and fires missed while nothing ran are caught up (ManualClock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nbsched.clock import ManualClock
from nbsched.exceptions import SerializationError, TransientJobError
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _scheduler(url: str, clock: ManualClock, **options: Any) -> BackgroundScheduler:
    return BackgroundScheduler(
        timezone="UTC",
        clock=clock,
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": {"type": "debug"}},
        **options,
    )


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nbsched.db'}"


def test_jobs_survive_a_restart_and_missed_fires_are_caught_up(url: str) -> None:
    clock = ManualClock(T0)
    first = _scheduler(url, clock)
    first.add_job(tasks.record, "interval", minutes=1, args=["coalesced"], id="coalesced")
    first.add_job(tasks.record, "interval", minutes=1, args=["each"], id="each", coalesce=False)
    first.add_job(tasks.record, "interval", minutes=1, args=["grace"], id="grace", misfire_grace_time=30)
    first.start()
    clock.advance(60)
    assert sorted(tasks.CALLS) == ["coalesced", "each", "grace"]
    first.shutdown()
    tasks.CALLS.clear()

    clock.advance(10 * 60 + 45)  # nothing runs for ten minutes; the latest fire is 45 s late on restart

    second = _scheduler(url, clock)
    second.start()
    clock.advance(0)  # returns once the scheduler has processed what is due now
    try:
        assert tasks.CALLS.count("coalesced") == 1  # missed fires run once
        assert tasks.CALLS.count("each") == 10  # ...or each, without coalescing
        assert tasks.CALLS.count("grace") == 0  # ...or are recorded as skipped past their grace time
        grace_runs = second.runs(job_id="grace", limit=2)
        assert [(r.status, r.scheduled_at) for r in grace_runs] == [
            (RunStatus.SKIPPED, T0 + timedelta(minutes=11)),
            (RunStatus.SUCCEEDED, T0 + timedelta(minutes=1)),
        ]
        assert second.get_job("coalesced").next_run_time == T0 + timedelta(minutes=12)
        assert len(second.runs(job_id="each")) == 11
    finally:
        second.shutdown()


def test_replace_existing_at_start_up_keeps_the_stored_next_run_time(url: str) -> None:
    clock = ManualClock(T0)
    first = _scheduler(url, clock)
    first.add_job(tasks.record, "interval", hours=1, id="hourly", replace_existing=True)
    first.start()
    first.shutdown()
    clock.advance(5 * 3600 + 60)

    # A program that adds its jobs at every start-up (as APScheduler users do) still catches up.
    second = _scheduler(url, clock)
    second.add_job(tasks.record, "interval", hours=1, id="hourly", replace_existing=True)
    second.start()
    clock.advance(0)
    try:
        assert tasks.CALLS == [None]
        assert second.get_job("hourly").next_run_time == T0 + timedelta(hours=6)
    finally:
        second.shutdown()


def test_unstorable_jobs_are_refused_with_the_fix(url: str) -> None:
    scheduler = _scheduler(url, ManualClock(T0))
    scheduler.start(paused=True)
    try:
        with pytest.raises(TransientJobError, match="lambda; define it with `def` at the top level"):
            scheduler.add_job(lambda: None, "interval", seconds=1)

        def inner() -> None:
            pass

        with pytest.raises(TransientJobError, match="closure"):
            scheduler.add_job(inner, "interval", seconds=1)
        with pytest.raises(SerializationError, match=r"args\[0\] <object object at .*> is a object"):
            scheduler.add_job(tasks.record, "interval", seconds=1, args=[object()])
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()


def test_default_store_alias_and_owner_only_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBSCHED_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NBSCHED_DB_URL", raising=False)
    scheduler = BackgroundScheduler(timezone="UTC", jobstores={"default": "sqlalchemy"})
    scheduler.add_job(tasks.add, "interval", seconds=30, args=[1, 2], id="persisted")
    scheduler.start(paused=True)
    scheduler.shutdown()
    db = tmp_path / "home" / "nbsched.db"
    assert db.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
    again = BackgroundScheduler(timezone="UTC", jobstores={"default": "sqlalchemy"})
    again.start(paused=True)
    try:
        assert [job.id for job in again.get_jobs()] == ["persisted"]
        assert again.get_job("persisted").args == (1, 2)
    finally:
        again.shutdown()


def test_a_row_that_cannot_be_loaded_is_kept_and_reported(url: str) -> None:
    import io

    from sqlalchemy import create_engine, text

    clock = ManualClock(T0)
    first = _scheduler(url, clock)
    first.add_job(tasks.record, "interval", minutes=1, id="fine")
    first.add_job(tasks.add, "interval", minutes=1, args=[1, 2], id="moved")
    first.start(paused=True)
    first.shutdown()
    engine = create_engine(url)
    with engine.begin() as conn:  # the function's module was refactored away since
        task = conn.execute(text("SELECT task FROM jobs WHERE id = 'moved'")).scalar_one()
        conn.execute(
            text("UPDATE jobs SET task = :task WHERE id = 'moved'"),
            {"task": task.replace("tests.tasks:add", "tests.gone:add")},
        )
    engine.dispose()

    second = _scheduler(url, clock)
    second.start()
    try:
        clock.advance(60)
        assert tasks.CALLS == [None]  # the loadable job runs, the other waits
        out = io.StringIO()
        second.print_jobs(out=out)
        assert "moved (cannot be loaded, kept in the store:" in out.getvalue()
        assert "tests.gone" in out.getvalue()
        assert [(alias, job_id) for alias, job_id, _ in second.get_broken_jobs()] == [("default", "moved")]
        assert [job.id for job in second.get_jobs()] == ["fine"]
    finally:
        second.shutdown()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs WHERE id = 'moved'")).scalar_one() == 1
    engine.dispose()


def test_etc_utc_and_utc_are_the_same_schedule(url: str) -> None:
    # A machine whose local zone is Etc/UTC: the stored trigger must still equal the re-added one.
    clock = ManualClock(T0)
    first = _scheduler(url, clock)
    first.add_job(tasks.record, "interval", hours=1, id="h", timezone="Etc/UTC")
    first.start(paused=True)
    first.shutdown()
    clock.advance(3 * 3600 + 5)
    second = _scheduler(url, clock)
    second.add_job(tasks.record, "interval", hours=1, id="h", timezone="Etc/UTC", replace_existing=True)
    second.start(paused=True)
    try:
        assert second.get_job("h").next_run_time == T0 + timedelta(hours=1)  # kept: missed fires are caught up
    finally:
        second.shutdown()
