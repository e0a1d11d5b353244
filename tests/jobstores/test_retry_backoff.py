"""The SQL store's retries of deadlocks, serialisation failures and locked SQLite writes back off, with jitter.

Counted, never timed: the back-off's ``sleep`` and ``random`` are injected.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from nbsched.exceptions import DatabaseLockedError, JobStoreError
from nbsched.jobstores.sqlalchemy.database import Database
from nbsched.jobstores.sqlalchemy.retry import Backoff


class _PgError(Exception):
    """What psycopg raises for a deadlock (SQLSTATE 40P01) or a serialisation failure (40001)."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


class Recorder:
    """A back-off's sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def database(tmp_path: Path, randoms: list[float], **options: Any) -> tuple[Database, Recorder]:
    sleep = Recorder()
    numbers = itertools.cycle(randoms)
    backoff = Backoff(first=0.02, cap=0.2, sleep=sleep, random=lambda: next(numbers))
    return Database(f"sqlite:///{tmp_path / 'x.db'}", None, backoff=backoff, **options), sleep


def failing(errors: list[BaseException], calls: list[int]) -> Any:
    """Work that raises the given errors one per attempt, then returns ``"done"``."""

    def work(conn: Any) -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return work


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlocks_and_serialisation_failures_back_off_with_growing_jittered_delays(
    tmp_path: Path, sqlstate: str
) -> None:
    db, sleep = database(tmp_path, [0.9, 0.1, 0.6])
    calls: list[int] = []
    errors: list[BaseException] = [OperationalError("UPDATE jobs", {}, _PgError(sqlstate)) for _ in range(3)]
    try:
        assert db.write(failing(errors, calls)) == "done"
    finally:
        db.dispose()
    assert len(calls) == 4 and len(sleep.delays) == 3  # one wait before each retry, none before the first try
    # Retry n waits between half and all of 0.02 * 2**(n-1): the ceilings double, the jitter picks within.
    assert sleep.delays == pytest.approx([0.02 * (0.5 + 0.45), 0.04 * (0.5 + 0.05), 0.08 * (0.5 + 0.3)])
    assert sleep.delays[0] < sleep.delays[1] < sleep.delays[2]


def test_the_retries_are_bounded_and_the_delays_capped(tmp_path: Path) -> None:
    db, sleep = database(tmp_path, [0.99])
    calls: list[int] = []
    errors: list[BaseException] = [OperationalError("UPDATE jobs", {}, _PgError("40P01")) for _ in range(20)]
    try:
        with pytest.raises(JobStoreError, match="SQLSTATE 40P01"):
            db.write(failing(errors, calls))
    finally:
        db.dispose()
    assert len(calls) == 6 and len(sleep.delays) == 5  # five retries, then the error
    assert max(sleep.delays) <= 0.2 and sleep.delays[-1] == pytest.approx(0.2 * (0.5 + 0.495))


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    db, sleep = database(tmp_path, [0.5])
    calls: list[int] = []
    try:
        with pytest.raises(JobStoreError):
            db.write(failing([OperationalError("UPDATE jobs", {}, _PgError("23505"))], calls))
    finally:
        db.dispose()
    assert len(calls) == 1 and sleep.delays == []


def test_a_locked_sqlite_write_backs_off_before_each_retry(tmp_path: Path) -> None:
    db, sleep = database(tmp_path, [0.0], lock_retries=2)
    calls: list[int] = []
    errors: list[BaseException] = [sqlite3.OperationalError("database is locked") for _ in range(5)]
    try:
        with pytest.raises(DatabaseLockedError, match="gave up after 3 attempts"):
            db.write(failing(errors, calls))
    finally:
        db.dispose()
    assert len(calls) == 3 and sleep.delays == pytest.approx([0.01, 0.02])


def test_jitter_spreads_the_waits_of_schedulers_that_lost_the_same_race() -> None:
    first = Backoff(first=0.02, cap=1.0, random=lambda: 0.1)
    second = Backoff(first=0.02, cap=1.0, random=lambda: 0.8)
    for retry in range(1, 6):
        ceiling = min(1.0, 0.02 * 2 ** (retry - 1))
        assert ceiling / 2 <= first.delay(retry) < second.delay(retry) <= ceiling
    assert Backoff(cap=1.0, random=lambda: 0.999).delay(1000) <= 1.0  # capped, however many retries


@pytest.mark.postgres
def test_a_real_deadlock_on_postgresql_is_retried_and_both_writes_commit(postgres_url: str) -> None:
    db = Database(postgres_url, None, backoff=Backoff(first=0.01, cap=0.05))
    try:
        db.write(lambda conn: conn.execute(text("DROP TABLE IF EXISTS nbsched_deadlock")))
        db.write(lambda conn: conn.execute(text("CREATE TABLE nbsched_deadlock (id int primary key, n int)")))
        db.write(lambda conn: conn.execute(text("INSERT INTO nbsched_deadlock VALUES (1, 0), (2, 0)")))
        both_locked_one = threading.Barrier(2, timeout=30)
        tries = {"a": 0, "b": 0}

        def crosswise(name: str, first: int, second: int) -> Any:
            def work(conn: Any) -> None:
                tries[name] += 1
                conn.execute(text("UPDATE nbsched_deadlock SET n = n + 1 WHERE id = :id"), {"id": first})
                if tries[name] == 1:
                    both_locked_one.wait()  # each holds one row and asks for the other's: a deadlock
                conn.execute(text("UPDATE nbsched_deadlock SET n = n + 1 WHERE id = :id"), {"id": second})

            return work

        failures: list[BaseException] = []

        def run(name: str, first: int, second: int) -> None:
            try:
                db.write(crosswise(name, first, second))
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=run, args=args) for args in (("a", 1, 2), ("b", 2, 1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        assert sorted(tries.values()) == [1, 2]  # PostgreSQL aborted one of them, which was tried again
        counts = db.read(lambda conn: conn.execute(text("SELECT n FROM nbsched_deadlock ORDER BY id")).all())
        assert [row[0] for row in counts] == [2, 2]
    finally:
        db.write(lambda conn: conn.execute(text("DROP TABLE IF EXISTS nbsched_deadlock")))
        db.dispose()
