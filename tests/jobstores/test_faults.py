"""What the SQL store does with bad input and bad data: corrupt column values, bad settings, threads sharing the
one connection of an in-memory database."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from nbsched.exceptions import ConfigurationError, JobStoreError
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.jobstores.sqlalchemy.database import Database
from nbsched.runs import Run, RunFilter, RunStatus
from tests.postgres import reset_database

from .conftest import Backend
from .test_contract import T0, ids, make_job

Opener = Callable[..., SQLAlchemyJobStore]

KNOWN = "scheduled, running, succeeded, failed, timed_out, cancelled, lost, skipped"
NOT_A_TIME = "which is not a time (integer microseconds since 1970-01-01 UTC)"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A SQLite file or the test PostgreSQL database, to corrupt rows in."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_database(url)
    backend = Backend(request.param, url)
    try:
        yield backend
    finally:
        backend.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


# ---------------------------------------------------------------------------------------- corrupt job rows
@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    """A SQLite file (SQLite keeps text written into an INTEGER column; a PostgreSQL BIGINT cannot hold it)."""
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        yield backend
    finally:
        backend.close()


def test_text_in_next_run_time_breaks_only_its_row(sqlite_backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    sql = sqlite_backend
    writer = sql.store()
    writer.add_job(make_job("good", T0))
    writer.add_job(make_job("bad", T0 - timedelta(seconds=1)))
    sql.execute("UPDATE jobs SET next_run_time = 'garbage' WHERE id = 'bad'")
    reason = f"ValueError: column next_run_time holds 'garbage', {NOT_A_TIME}"

    with caplog.at_level(logging.WARNING):
        store = sql.store()  # a process that never lists every job still finds it broken
        assert store.get_broken_jobs() == [("bad", reason)]
        assert ids(store.get_all_jobs()) == ["good"]
        assert store.lookup_job("bad") is None
        assert store.lookup_job("good") is not None
        assert ids(store.get_due_jobs(T0 + timedelta(days=1))) == ["good"]
        assert store.get_next_run_time() == T0
    assert _warnings(caplog) == [
        f"job 'bad' in {sql.url.removeprefix('sqlite:///')} cannot be loaded and is skipped (kept in the store): {reason}"
    ]
    good = store.lookup_job("good")
    assert good is not None
    good.next_run_time = T0 + timedelta(seconds=10)
    assert store.claim_job(good, T0) is True
    # kept and marked, never deleted
    assert sql.execute("SELECT id, next_run_time, load_error FROM jobs WHERE id = 'bad'") == [
        ("bad", "garbage", reason)
    ]
    store.remove_job("good")
    assert store.get_next_run_time() is None  # min() of the column is the text now: not a next run time


@pytest.mark.parametrize("value", [2**62, -(2**62)], ids=["after-9999", "before-year-1"])
def test_next_run_time_out_of_range_breaks_only_its_row(sql: Backend, value: int) -> None:
    store = sql.store()
    store.add_job(make_job("good", T0))
    store.add_job(make_job("bad", T0 - timedelta(seconds=1)))
    sql.execute(f"UPDATE jobs SET next_run_time = {value} WHERE id = 'bad'")

    assert ids(store.get_due_jobs(T0)) == ["good"]
    assert store.get_next_run_time() == T0
    assert ids(store.get_all_jobs()) == ["good"]
    assert store.get_broken_jobs() == [
        ("bad", f"ValueError: column next_run_time holds {value}, which is outside the years 1 to 9999")
    ]


# ---------------------------------------------------------------------------------------- corrupt run rows
def test_unreadable_run_rows_are_skipped_with_one_warning(sql: Backend, caplog: pytest.LogCaptureFixture) -> None:
    store = sql.store()
    for minute in range(4):
        store.add_run(Run(id=f"r{minute}", job_id="a", scheduled_at=T0 + timedelta(minutes=minute)))
    sql.execute("UPDATE runs SET status = 'weird' WHERE id = 'r3'")
    if sql.name == "sqlite":
        sql.execute("UPDATE runs SET scheduled_at = 'notatime' WHERE id = 'r2'")
        why, where = f"holds 'notatime', {NOT_A_TIME}", sql.url.removeprefix("sqlite:///")
    else:  # a BIGINT holds no text: a value out of range instead
        sql.execute(f"UPDATE runs SET scheduled_at = {2**62} WHERE id = 'r2'")
        why, where = f"holds {2**62}, which is outside the years 1 to 9999", sql.url

    with caplog.at_level(logging.WARNING):
        assert [run.id for run in store.get_runs(RunFilter())] == ["r1", "r0"]
        assert [run.id for run in store.get_runs(RunFilter(job_id="a"))] == ["r1", "r0"]
        # the two unreadable rows sort first (newest first) and do not shorten the page
        assert [run.id for run in store.get_runs(RunFilter(limit=1))] == ["r1"]
        assert store.get_run("r3") is None
        assert store.get_run("r0") is not None
    skipped = "cannot be read and is skipped (kept in the store)"
    assert sorted(_warnings(caplog)) == [
        f"run 'r2' of job 'a' in {where} {skipped}: column scheduled_at {why}",
        f"run 'r3' of job 'a' in {where} {skipped}: column status holds 'weird', which is not a run status "
        f"(known: {KNOWN})",
    ]
    assert sql.execute("SELECT count(*) FROM runs") == [(4,)]


def test_an_unreadable_warnings_column_keeps_its_run_readable(sql: Backend) -> None:
    store = sql.store()
    store.add_run(Run(id="w", job_id="a", scheduled_at=T0, warnings=["kept"]))
    assert store.get_run("w").warnings == ["kept"]  # type: ignore[union-attr]
    sql.execute("UPDATE runs SET warnings = 'not json' WHERE id = 'w'")
    assert store.get_run("w").warnings == ["(unreadable warnings column: 'not json')"]  # type: ignore[union-attr]


def test_mark_lost_runs_with_an_unreadable_row(sql: Backend, caplog: pytest.LogCaptureFixture) -> None:
    store = sql.store()
    for run_id in ("dead", "also-dead"):
        store.add_run(Run(id=run_id, job_id=run_id, scheduled_at=T0, status=RunStatus.RUNNING, heartbeat_at=T0))
    bad = "'x'" if sql.name == "sqlite" else str(2**62)
    sql.execute(f"UPDATE runs SET started_at = {bad} WHERE id = 'dead'")
    with caplog.at_level(logging.WARNING):
        lost = store.mark_lost_runs(stale_before=T0 + timedelta(minutes=5), now=T0 + timedelta(minutes=6))
    assert [run.id for run in lost] == ["also-dead"]  # the pass goes on; the unreadable one is reported
    assert len(_warnings(caplog)) == 1
    assert "run 'dead' of job 'dead' in " in _warnings(caplog)[0]
    assert sql.execute("SELECT id, status FROM runs ORDER BY id") == [("also-dead", "lost"), ("dead", "lost")]


# ------------------------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": 5}, "SQLAlchemyJobStore: url 5 must be a database URL (a string or a sqlalchemy URL)"),
        ({"engine": 5}, "SQLAlchemyJobStore: engine 5 must be a sqlalchemy Engine (or a reference to one)"),
        (
            {"engine": "nbsched.nosuch:engine"},
            "SQLAlchemyJobStore: engine 'nbsched.nosuch:engine' cannot be resolved (Error resolving reference "
            "nbsched.nosuch:engine: could not import module (No module named 'nbsched.nosuch'))",
        ),
        (
            {"url": "sqlite://", "engine_options": "x"},
            "SQLAlchemyJobStore: engine_options 'x' must be a dict of sqlalchemy.create_engine() arguments",
        ),
        (
            {"url": "sqlite://", "engine_options": {"connect_args": 3}},
            "SQLAlchemyJobStore: engine_options {'connect_args': 3} must hold connect_args as a dict of driver "
            "arguments",
        ),
        ({"url": "sqlite://", "tablename": 5}, "SQLAlchemyJobStore: tablename 5 must be a non-empty string"),
        ({"url": "sqlite://", "tablename": ""}, "SQLAlchemyJobStore: tablename '' must be a non-empty string"),
        (
            {"url": "sqlite://", "tableschema": 5},
            "SQLAlchemyJobStore: tableschema 5 must be a non-empty string or None",
        ),
        (
            {"url": "sqlite://", "metadata": 5},
            "SQLAlchemyJobStore: metadata 5 must be a sqlalchemy MetaData (or a reference to one)",
        ),
    ],
)
def test_settings_of_the_wrong_type(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SQLAlchemyJobStore(**options)
    assert str(info.value) == message


def test_engine_option_create_engine_refuses() -> None:
    with pytest.raises(ConfigurationError) as info:
        SQLAlchemyJobStore(url="sqlite://", engine_options={"bogus": 1})
    assert str(info.value).startswith(
        "SQLAlchemyJobStore: engine_options {'bogus': 1} are refused by create_engine(): "
        "Invalid argument(s) 'bogus' sent to create_engine()"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "nosuch://x",
            "database nosuch://x cannot be opened: SQLAlchemy has no dialect 'nosuch' (use sqlite or postgresql)",
        ),
        (
            "postgresql+nosuchdriver://host/db",
            "database postgresql+nosuchdriver://host/db cannot be opened: SQLAlchemy has no dialect "
            "'postgresql+nosuchdriver' (use sqlite or postgresql)",
        ),
        (
            "://bad",
            "database ://bad is not a database URL (Could not parse SQLAlchemy URL from given URL string); give "
            "dialect://..., such as sqlite:////path/to/jobs.db or postgresql+psycopg://user@host/dbname",
        ),
        (
            "postgresql+psycopg://me:secret@host:port/db",
            "database postgresql+psycopg://me:***@host:port/db is not a database URL (invalid literal for int() "
            "with base 10: 'port'); give dialect://..., such as sqlite:////path/to/jobs.db or "
            "postgresql+psycopg://user@host/dbname",
        ),
    ],
)
def test_urls_that_cannot_be_used(url: str, message: str) -> None:
    with pytest.raises(JobStoreError) as info:
        SQLAlchemyJobStore(url=url)
    assert str(info.value) == message


def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "a-file" / "jobs.db"
    with pytest.raises(JobStoreError) as info:
        SQLAlchemyJobStore(url=f"sqlite:///{path}")
    assert str(info.value) == f"database {path} cannot be created (File exists); check the path and its permissions"


def test_database_lock_retries_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=re.escape("Database: lock_retries -1 must be a whole number")):
        Database(f"sqlite:///{tmp_path / 'x.db'}", None, lock_retries=-1)


@pytest.mark.postgres
def test_postgres_table_name_too_long(pg_url: str, open_store: Opener) -> None:
    name = "t" * 36
    with pytest.raises(ConfigurationError) as info:
        open_store(url=pg_url, tablename=name)
    assert str(info.value) == (
        f"SQLAlchemyJobStore: tablename '{name}' is too long for PostgreSQL, whose names have at most 63 bytes "
        f"('uq_{name}_runs_job_id_scheduled_at')"
    )
    store = open_store(url=pg_url, tablename="t" * 35)  # the longest that fits
    store.add_job(make_job("a", T0))
    assert ids(store.get_all_jobs()) == ["a"]


# ---------------------------------------------------------------------------------- in-memory SQLite, threads
def test_in_memory_store_serialises_its_one_connection(open_store: Opener) -> None:
    """The scheduler thread and the run recorder share an in-memory database's single connection."""
    store = open_store(url="sqlite://")
    for index in range(20):
        store.add_job(make_job(f"j{index}", T0))
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def recorder(worker: int) -> None:
        start.wait()
        try:
            for second in range(150):
                run = Run(job_id=f"w{worker}", scheduled_at=T0 + timedelta(seconds=second))
                assert store.add_run(run)
                run.status = RunStatus.RUNNING
                store.update_runs([run])
        except BaseException as exc:
            errors.append(exc)

    def scheduler_passes() -> None:
        start.wait()
        try:
            for _ in range(150):
                assert len(store.get_due_jobs(T0)) == 20
                assert store.get_next_run_time() == T0
                store.get_runs(RunFilter(limit=5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=recorder, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=scheduler_passes) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    runs = store.get_runs(RunFilter())
    assert len(runs) == 300
    assert {run.status for run in runs} == {RunStatus.RUNNING}
