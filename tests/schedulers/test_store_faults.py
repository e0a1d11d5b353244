"""A scheduler over a store with bad data or bad settings: one clear error or one broken row, never a stopped
scheduler; and store listeners hear of PostgreSQL writes by other processes."""

from __future__ import annotations

import io
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbsched.cli import main
from nbsched.clock import ManualClock
from nbsched.exceptions import InvalidArgumentError
from nbsched.job import Job
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunFilter, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.triggers.interval import IntervalTrigger
from tests import tasks

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KNOWN = "scheduled, running, succeeded, failed, timed_out, cancelled, lost, skipped"


def _scheduler(url: str, clock: ManualClock) -> BackgroundScheduler:
    return BackgroundScheduler(
        timezone="UTC",
        clock=clock,
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": {"type": "debug"}},
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nbsched.db"


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(statement)
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------- run filters
def test_runs_with_an_unknown_status_lists_the_known_ones() -> None:
    scheduler = BackgroundScheduler()
    with pytest.raises(InvalidArgumentError) as info:
        scheduler.runs(status="nope")
    assert str(info.value) == f"runs: status 'nope' is not a run status (known: {KNOWN})"
    with pytest.raises(ValueError, match=r"^RunFilter: status 5 is not a run status \(known: scheduled, "):
        RunFilter(status=["failed", 5])
    assert RunFilter(status=[RunStatus.FAILED, "lost"]).status == {RunStatus.FAILED, RunStatus.LOST}


def test_run_filter_limit_and_instants_are_checked() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        RunFilter(limit=-1)
    assert str(info.value) == "RunFilter: limit -1 must be a whole number of at least 0, or None"
    with pytest.raises(InvalidArgumentError) as info:
        RunFilter(since=datetime(2026, 1, 1))
    assert str(info.value) == "RunFilter: since datetime.datetime(2026, 1, 1, 0, 0) is naive; give it a time zone"
    with pytest.raises(InvalidArgumentError) as info:
        RunFilter(until="2026-01-01")  # type: ignore[arg-type]
    assert str(info.value) == "RunFilter: until '2026-01-01' must be a datetime"


# ---------------------------------------------------------------------------------------------- broken rows
def test_a_corrupt_next_run_time_leaves_the_other_jobs_running(db: Path) -> None:
    clock = ManualClock(T0)
    scheduler = _scheduler(f"sqlite:///{db}", clock)
    scheduler.add_job(tasks.record, "interval", minutes=1, args=["good"], id="good")
    scheduler.add_job(tasks.record, "interval", minutes=1, args=["bad"], id="bad")
    scheduler.start()
    try:
        _sql(db, "UPDATE jobs SET next_run_time = 'garbage' WHERE id = 'bad'")
        clock.advance(60)
        clock.advance(60)
        assert tasks.CALLS == ["good", "good"]
        out = io.StringIO()
        scheduler.print_jobs(out=out)
        assert out.getvalue().splitlines() == [
            "Jobstore default:",
            "    record (trigger: interval[0:01:00], next run at: 2026-03-02 09:03:00 UTC)",
            "    bad (cannot be loaded, kept in the store: ValueError: column next_run_time holds 'garbage', which "
            "is not a time (integer microseconds since 1970-01-01 UTC))",
        ]
        assert scheduler.get_job("bad") is None
        assert [job.id for job in scheduler.get_jobs()] == ["good"]
    finally:
        scheduler.shutdown()


def test_unreadable_runs_are_left_out_of_the_history(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SQLAlchemyJobStore(url=f"sqlite:///{db}")
    for minute in range(3):
        store.add_run(Run(id=f"r{minute}", job_id="j", scheduled_at=T0 + timedelta(minutes=minute)))
    store.shutdown()
    _sql(db, "UPDATE runs SET status = 'weird' WHERE id = 'r1'")
    scheduler = _scheduler(f"sqlite:///{db}", ManualClock(T0))
    scheduler.start(paused=True)
    try:
        assert [run.id for run in scheduler.runs()] == ["r2", "r0"]
    finally:
        scheduler.shutdown()
    assert [record.getMessage() for record in caplog.records] == [
        f"run 'r1' of job 'j' in {db} cannot be read and is skipped (kept in the store): column status holds "
        f"'weird', which is not a run status (known: {KNOWN})"
    ]


# ------------------------------------------------------------------------------------------------------ CLI
@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("NBSCHED_HOME", str(path))
    monkeypatch.delenv("NBSCHED_DB_URL", raising=False)
    return path


@pytest.mark.parametrize(
    ("db_option", "message"),
    [
        ("nosuch://x", "database nosuch://x cannot be opened: SQLAlchemy has no dialect 'nosuch' (use sqlite or "
         "postgresql)"),
        ("://bad", "database ://bad is not a database URL (Could not parse SQLAlchemy URL from given URL string); "
         "give dialect://..., such as sqlite:////path/to/jobs.db or postgresql+psycopg://user@host/dbname"),
    ],
)  # fmt: skip
def test_cli_store_that_cannot_be_opened_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], db_option: str, message: str
) -> None:
    assert main(["--db", db_option, "list"]) == 5
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"nbsched: error: JobStoreError: {message}\n")


def test_cli_sqlite_file_that_cannot_be_created(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "a-file" / "x.db"
    assert main(["list", "--db", str(path)]) == 2  # an input error: no store is made in a folder that is not one
    assert capsys.readouterr().err == f"nbsched: error: --db '{path}': {path.parent} is not a folder\n"


def test_cli_runs_with_a_corrupt_row(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = home / "nbsched.db"
    store = SQLAlchemyJobStore(url=f"sqlite:///{db}")
    for minute in range(2):
        store.add_run(Run(id=f"r{minute}", job_id="j", scheduled_at=T0 + timedelta(minutes=minute)))
    store.shutdown()
    _sql(db, "UPDATE runs SET scheduled_at = 'notatime' WHERE id = 'r1'")
    assert main(["runs"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == ["r0   j    2026-03-02 09:00:00 UTC  scheduled         -"]
    assert err == (
        f"nbsched: warning: run 'r1' of job 'j' in {db} cannot be read and is skipped (kept in the store): column "
        "scheduled_at holds 'notatime', which is not a time (integer microseconds since 1970-01-01 UTC)\n"
    )


# --------------------------------------------------------------------------------- PostgreSQL store listeners
@pytest.mark.postgres
def test_store_listener_hears_postgres_writes_of_another_store(postgres_url: str) -> None:
    from tests.postgres import reset_database

    reset_database(postgres_url)
    heard = threading.Event()
    scheduler = _scheduler(postgres_url, ManualClock(T0))  # it wakes for NOTIFY, never on a timer
    scheduler.add_store_listener(lambda alias: heard.set() if alias == "default" else None)
    writer = SQLAlchemyJobStore(url=postgres_url)
    scheduler.start()
    try:
        assert heard.wait(10)  # the listener's connection: changes may have been missed before it
        heard.clear()
        later = T0 + timedelta(days=1)  # never due: this scheduler writes nothing itself
        writer.add_job(_job("elsewhere", later))
        assert heard.wait(10)
        heard.clear()
        run = Run(job_id="elsewhere", scheduled_at=T0)
        writer.add_run(run)
        assert heard.wait(10)
        heard.clear()
        run.status = RunStatus.SUCCEEDED
        writer.update_run(run)
        assert heard.wait(10)
    finally:
        scheduler.shutdown()
        writer.shutdown()


def _job(job_id: str, next_run_time: datetime) -> Job:
    job = Job.create(None, tasks.record, IntervalTrigger(hours=1, start_date=next_run_time), id=job_id)
    job.next_run_time = next_run_time
    return job
