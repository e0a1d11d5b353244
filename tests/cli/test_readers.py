"""``list``, ``runs`` and ``logs`` read the store and exit: they answer while another process holds the write
lock, and start no scheduler, heartbeat or lost-run machinery (a run whose worker looks dead stays as it is)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from tests.cli.conftest import Cli, run_cli, store_run

READERS = [["list", "--json"], ["runs", "--json"], ["logs", "stale", "--json"]]


def _stale_running_run(home: Path) -> Run:
    """A ``running`` run whose worker stopped heartbeating an hour ago: lost-run detection would mark it lost."""
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    run = Run(
        job_id="stale",
        scheduled_at=long_ago,
        status=RunStatus.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        worker="elsewhere:1",
    )
    return store_run(home, run)


def _status(home: Path, run_id: str) -> str:
    with sqlite3.connect(home / "nbsched.db") as conn:
        row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return str(row[0])


@contextmanager
def _writer_holding_the_lock(home: Path, how: str) -> Iterator[None]:
    """Another connection in the middle of a write transaction (``BEGIN EXCLUSIVE`` or a long ``IMMEDIATE``)."""
    conn = sqlite3.connect(home / "nbsched.db", isolation_level=None)
    try:
        conn.execute(f"BEGIN {how}")
        conn.execute("UPDATE jobs SET name = name || ' (being renamed)'")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _check(argv: list[str], out: str, run: Run) -> None:
    document = json.loads(out)
    if argv[0] == "list":
        assert [job["id"] for job in document["jobs"]] == ["stale"]
        assert document["jobs"][0]["name"] == "record"  # the writer's uncommitted rename is not seen
    elif argv[0] == "runs":
        assert [(r["id"], r["status"]) for r in document["runs"]] == [(run.id, "running")]
    else:
        assert (document["run"]["id"], document["run"]["status"]) == (run.id, "running")


@pytest.fixture
def stale(cli: Cli, home: Path) -> Run:
    assert cli("add", "tests.tasks:record", "--every", "1h", "--id", "stale", "--name", "record").code == 0
    return _stale_running_run(home)


@pytest.mark.parametrize("how", ["EXCLUSIVE", "IMMEDIATE"])
def test_readers_start_no_scheduler_and_answer_during_a_write(
    cli: Cli, home: Path, stale: Run, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbsched.schedulers._runs import RunRecorder
    from nbsched.schedulers.base import BaseScheduler

    started: list[str] = []

    def refuse(name: str) -> object:
        def start(*args: object, **kwargs: object) -> None:
            started.append(name)
            raise AssertionError(f"a read-only command started {name}")

        return start

    monkeypatch.setattr(BaseScheduler, "start", refuse("a scheduler"))
    monkeypatch.setattr(RunRecorder, "start", refuse("the run recorder (heartbeats, lost runs)"))
    monkeypatch.setattr(SQLAlchemyJobStore, "mark_lost_runs", refuse("lost-run detection"))
    with _writer_holding_the_lock(home, how):
        for argv in READERS:
            result = cli(*argv)
            assert (result.code, result.err) == (0, ""), argv
            _check(argv, result.out, stale)
    assert started == []
    assert _status(home, stale.id) == "running"


@pytest.mark.slow
@pytest.mark.realtime
def test_reader_processes_answer_during_a_write_and_exit(home: Path, stale: Run) -> None:
    # The timeout only trips on a hang: a reader that waited on the lock would wait out SQLite's busy timeout
    # (30 s) three times over.
    with _writer_holding_the_lock(home, "EXCLUSIVE"):
        for argv in READERS:
            result = run_cli(home, *argv, timeout=60)
            assert (result.returncode, result.stderr) == (0, ""), argv
            _check(argv, result.stdout, stale)
    assert _status(home, stale.id) == "running"
