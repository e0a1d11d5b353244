"""PostgreSQL LISTEN/NOTIFY: which writes notify, and how the listener records changes and wakes the scheduler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.jobstores.sqlalchemy.notify import PostgresListener
from nbsched.runs import Run, RunStatus

from .conftest import StubScheduler
from .test_contract import T0, make_job

Opener = Callable[..., SQLAlchemyJobStore]


@pytest.fixture
def listen(pg_url: str) -> Iterator[Callable[[], list[str]]]:
    """A plain psycopg connection LISTENing on the default store's channel; calling it returns the payloads
    received up to an ``end`` marker, which it sends itself (notifications arrive in commit order)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    conn = psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True)
    conn.execute('LISTEN "nbsched_jobs"')

    def received() -> list[str]:
        conn.execute("SELECT pg_notify('nbsched_jobs', 'end')")
        payloads: list[str] = []
        for notification in conn.notifies(timeout=10):
            if notification.payload == "end":
                return payloads
            payloads.append(notification.payload)
        raise AssertionError(f"no end marker within 10 s (received {payloads})")

    try:
        yield received
    finally:
        conn.close()


@pytest.mark.postgres
def test_writes_notify_jobs_and_runs(pg_url: str, open_store: Opener, listen: Callable[[], list[str]]) -> None:
    store = open_store(url=pg_url)
    later = T0 + timedelta(seconds=10)

    store.add_job(make_job("a", T0))
    store.add_jobs([make_job("b", T0), make_job("c", None)])
    job = store.lookup_job("a")
    assert job is not None
    job.next_run_time = later
    store.update_job(job)
    assert listen() == ["jobs", "jobs", "jobs"]

    # A claim moves a next run time later and records scheduled runs: no notification (the runs' start will);
    # a claim that records a skipped run (a missed fire) notifies, since nothing else will.
    job.next_run_time = later + timedelta(seconds=10)
    assert store.claim_jobs([(job, later, [Run(job_id="a", scheduled_at=later)])]) == [True]
    skipped = Run(job_id="b", scheduled_at=T0, status=RunStatus.SKIPPED)
    b = store.lookup_job("b")
    assert b is not None
    b.next_run_time = later
    assert store.claim_jobs([(b, T0, [skipped])]) == [True]
    assert listen() == ["runs"]

    run = Run(job_id="c", scheduled_at=T0, status=RunStatus.RUNNING, heartbeat_at=T0)
    assert store.add_run(run) is True
    assert store.add_run(Run(job_id="c", scheduled_at=T0)) is False  # nothing recorded: no notification
    run.progress = "cell 1/2"
    store.update_runs([run])
    store.heartbeat_runs([run.id], T0 + timedelta(seconds=1))  # not shown anywhere: no notification
    assert store.mark_lost_runs(stale_before=T0, now=T0) == []  # nothing marked: no notification
    assert [lost.id for lost in store.mark_lost_runs(stale_before=later, now=later)] == [run.id]
    assert listen() == ["runs", "runs", "runs"]

    waiting = Run(job_id="d", scheduled_at=T0)
    store.add_run(waiting)
    assert store.cancel_run(waiting.id, later, "stop") is not None
    assert store.cancel_run(waiting.id, later, "stop") is None  # finished: no notification
    assert len(store.prune_runs(keep_last=None, older_than=later)) == 3  # the skipped, lost and cancelled runs
    assert store.prune_runs(keep_last=None, older_than=later) == []  # nothing deleted: no notification
    extra = Run(job_id="e", scheduled_at=T0)
    store.add_run(extra)
    store.delete_runs([run.id, "missing"])  # pruned already: nothing deleted, no notification
    store.delete_runs([extra.id])
    assert listen() == ["runs"] * 5  # added, cancelled, pruned; added, deleted

    store.remove_job("a")
    store.remove_all_jobs()
    assert listen() == ["jobs", "jobs"]


def _wait_listening(store: SQLAlchemyJobStore, scheduler: StubScheduler) -> PostgresListener:
    listener = store._listener
    assert listener is not None and listener.listening.wait(10)
    assert scheduler.woken.wait(10)  # the wake-up after connecting
    return listener


@pytest.mark.postgres
def test_listener_records_each_change_once(pg_url: str, open_store: Opener) -> None:
    scheduler = StubScheduler()
    watcher, writer = open_store(url=pg_url), open_store(url=pg_url)
    assert watcher.changed_since_last_check() is False  # not started: nothing listens
    watcher.start(scheduler, "default")  # type: ignore[arg-type]
    _wait_listening(watcher, scheduler)
    assert watcher.changed_since_last_check() is True  # (re)connected: changes may have been missed
    assert watcher.changed_since_last_check() is False

    scheduler.woken.clear()
    writer.add_job(make_job("a", T0))
    assert scheduler.woken.wait(10)
    assert watcher.changed_since_last_check() is True
    assert watcher.changed_since_last_check() is False

    scheduler.woken.clear()
    writer.add_run(Run(job_id="a", scheduled_at=T0))
    assert scheduler.woken.wait(10)  # run changes wake it too (at most once a second)
    assert watcher.changed_since_last_check() is True
    assert watcher.changed_since_last_check() is False


class _Calls:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> Any:
        self.count += 1


def test_run_changes_wake_at_most_once_per_interval() -> None:
    calls = _Calls()
    listener = PostgresListener(None, "nbsched_jobs", calls, runs_wake_interval=60.0)  # type: ignore[arg-type]
    listener._heard("runs")
    assert (calls.count, listener.take_change(), listener.take_change()) == (1, True, False)
    listener._heard("runs")  # within the interval: recorded, the wake-up waits
    listener._wake_if_due()
    assert (calls.count, listener.take_change()) == (1, True)
    listener._heard("jobs")  # a job change wakes at once (its next run time may be earlier)
    assert calls.count == 2
    listener._heard("runs")
    listener._woken_at -= 61  # the interval is over: the pending run change wakes it
    listener._wake_if_due()
    assert calls.count == 3
    listener._wake_if_due()
    assert calls.count == 3  # once
