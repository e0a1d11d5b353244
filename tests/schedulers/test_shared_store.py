"""Several scheduler processes on one store: every fire runs exactly once; a killed worker's runs are lost and
retried. Real processes, a real SQLite file, a real PostgreSQL server."""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbsched.events import EVENT_JOB_EXECUTED
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import RunFilter, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests.schedulers.shared_store_worker import run_scheduler

pytestmark = [pytest.mark.realtime, pytest.mark.slow]

JOBS = 200
SCHEDULERS = 4
SECONDS = 8.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    from tests.postgres import reset_database

    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


def _add_jobs(url: str, log_dir: Path, first_fire: datetime) -> None:
    scheduler = BackgroundScheduler(timezone="UTC", jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start(paused=True)
    for index in range(JOBS):
        scheduler.add_job(
            "tests.tasks:log_execution",
            "interval",
            seconds=1,
            start_date=first_fire,
            args=[f"job-{index}", str(log_dir)],
            id=f"job-{index}",
            coalesce=False,  # a late scheduler must still run every fire, not merge them
        )
    scheduler.shutdown()


def test_every_fire_runs_exactly_once_across_four_processes(store_url: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    first_fire = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    _add_jobs(store_url, log_dir, first_fire)

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=run_scheduler, args=(store_url, SECONDS)) for _ in range(SCHEDULERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(SECONDS + 60)
        assert proc.exitcode == 0
    stopped = first_fire + timedelta(seconds=SECONDS - 3)  # the schedulers ran at least until about here

    executions = collections.Counter()
    workers = set()
    for log in log_dir.glob("*.log"):
        lines = log.read_text().split()
        executions.update(lines)
        if lines:
            workers.add(log.name)
    assert len(workers) >= 2, "the work should be shared between processes"

    store = SQLAlchemyJobStore(url=store_url)
    try:
        runs = store.get_runs(RunFilter())
    finally:
        store.shutdown()
    by_job: dict[str, list[datetime]] = collections.defaultdict(list)
    for run in runs:
        assert run.status is RunStatus.SUCCEEDED, run
        by_job[run.job_id].append(run.scheduled_at)
    assert len(by_job) == JOBS
    for job_id, times in by_job.items():
        times.sort()
        assert len(times) == len(set(times)), f"{job_id}: a fire recorded twice"
        expected = [first_fire + timedelta(seconds=k) for k in range(len(times))]
        assert times == expected, f"{job_id}: a fire is missing"
        assert times[-1] >= stopped - timedelta(seconds=2), f"{job_id}: fires stopped early"
        assert executions[job_id] == len(times), f"{job_id}: ran {executions[job_id]} times for {len(times)} fires"


def _wait_until_recorded_running(url: str, job_ids: list[str]) -> None:
    store = SQLAlchemyJobStore(url=url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            statuses = {run.job_id: run.status for run in store.get_runs(RunFilter(job_id=None))}
            if all(statuses.get(job_id) is RunStatus.RUNNING for job_id in job_ids):
                return
            time.sleep(0.05)
        raise AssertionError(f"not recorded running: {statuses}")
    finally:
        store.shutdown()


def test_a_killed_schedulers_run_is_marked_lost_and_retried(store_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    once_marker = tmp_path / "once-started"
    scheduler = BackgroundScheduler(timezone="UTC", jobstores={"default": SQLAlchemyJobStore(url=store_url)})
    scheduler.start(paused=True)
    run_date = datetime.now(UTC) + timedelta(seconds=1)
    scheduler.add_job(
        "tests.tasks:touch_then_sleep", "date", run_date=run_date, args=[str(marker), 30], id="long", retries=1
    )
    scheduler.add_job("tests.tasks:touch_then_sleep", "date", run_date=run_date, args=[str(once_marker), 30], id="once")
    scheduler.shutdown()

    options = {"heartbeat_interval": 0.3, "lost_after": 1.5}
    ctx = multiprocessing.get_context("spawn")
    victim = ctx.Process(target=run_scheduler, args=(store_url, 60, options))
    victim.start()
    deadline = time.monotonic() + 30
    while not (marker.exists() and once_marker.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists() and once_marker.exists(), "the jobs never started"
    _wait_until_recorded_running(store_url, ["long", "once"])  # its start is written in its next batch
    killed_at_utc = datetime.now(UTC)
    os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
    victim.join(10)
    marker.unlink()

    killed_at = time.monotonic()
    survivor = ctx.Process(target=run_scheduler, args=(store_url, 8, options))
    survivor.start()
    while not marker.exists() and time.monotonic() < killed_at + 30:
        time.sleep(0.05)
    found_after = time.monotonic() - killed_at
    assert marker.exists(), "the lost run was not retried"
    assert found_after < 15, found_after

    store = SQLAlchemyJobStore(url=store_url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the survivor records the retry within its next batch write
            (run,) = store.get_runs(RunFilter(job_id="long"))
            if run.status is RunStatus.RUNNING:
                break
            time.sleep(0.05)
        (once,) = store.get_runs(RunFilter(job_id="once"))
    finally:
        store.shutdown()
        survivor.terminate()
        survivor.join(20)
    assert (run.status, run.attempt) == (RunStatus.RUNNING, 2)
    assert run.worker and run.worker.endswith(f":{survivor.pid}")
    victim_worker = f"{run.worker.rsplit(':', 1)[0]}:{victim.pid}"
    # The retry keeps what became of attempt 1; the run without retries reads lost, ended at its last heartbeat.
    assert run.error_type == "WorkerLost"
    assert (run.error_message or "").startswith(f"attempt 1: worker {victim_worker} stopped answering; last heartbeat")
    assert (once.status, once.attempt, once.worker, once.error_type) == (
        RunStatus.LOST,
        1,
        victim_worker,
        "WorkerLost",
    )
    assert once.started_at is not None and once.finished_at is not None and once.heartbeat_at is not None
    assert once.started_at <= once.finished_at == once.heartbeat_at <= killed_at_utc
    last_beat = once.heartbeat_at.isoformat(timespec="seconds")
    assert (once.error_message or "").startswith(
        f"attempt 1: worker {victim_worker} stopped answering; last heartbeat at {last_beat}, noticed "
    )


def test_a_sleeping_scheduler_notices_jobs_added_by_another_process(store_url: str, tmp_path: Path) -> None:
    import threading

    fired = threading.Event()
    scheduler = BackgroundScheduler(timezone="UTC", jobstores={"default": SQLAlchemyJobStore(url=store_url)})
    scheduler.add_listener(lambda event: fired.set(), mask=EVENT_JOB_EXECUTED)
    scheduler.start()  # nothing scheduled: it sleeps
    try:
        time.sleep(0.5)
        # Another store object has its own connections, as another process would.
        other = BackgroundScheduler(timezone="UTC", jobstores={"default": SQLAlchemyJobStore(url=store_url)})
        other.start(paused=True)
        other.add_job("tests.tasks:add", "date", args=[1, 2], id="from-elsewhere")
        added = time.monotonic()
        other.shutdown()
        assert fired.wait(10), "the sleeping scheduler never ran the job added elsewhere"
        noticed_after = time.monotonic() - added
        assert noticed_after < 5, noticed_after  # SQLite: a cheap change check every second; PostgreSQL: NOTIFY
    finally:
        scheduler.shutdown()
