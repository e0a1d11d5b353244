"""Cancelling notebook runs: a running one's kernel is interrupted (then killed), a queued one never starts,
and a cancellation recorded by another store user (the REST API in another process) reaches the scheduler that
runs it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from nbsched.executors.notebook import NotebookExecutor
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.notebooks import Notebook
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests.notebooks.test_executor import scheduler, soon

pytestmark = pytest.mark.realtime


def _wait_for(scheduler: BackgroundScheduler, job_id: str, status: RunStatus, timeout: float = 60) -> Run:
    deadline = time.monotonic() + timeout
    while True:
        runs = scheduler.runs(job_id=job_id)
        if runs and runs[0].status is status:
            return runs[0]
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)


def _sql_scheduler(url: str, **options: Any) -> BackgroundScheduler:
    return BackgroundScheduler(
        timezone="UTC",
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"notebook": NotebookExecutor(max_concurrent_runs=1)},
        **options,
    )


def _wait_to_end(s: BackgroundScheduler) -> None:
    deadline = time.monotonic() + 20
    while s._recorder.active_count() and time.monotonic() < deadline:
        time.sleep(0.05)


def _wait_for_progress(scheduler: BackgroundScheduler, job_id: str, text: str, timeout: float = 60) -> Run:
    deadline = time.monotonic() + timeout
    while True:
        runs = scheduler.runs(job_id=job_id)
        if runs and runs[0].progress and text in runs[0].progress:
            return runs[0]
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)


@pytest.mark.parametrize("ignore_interrupt", [False, True])
def test_a_running_notebook_is_stopped(root: Path, ignore_interrupt: bool) -> None:
    s, outcomes = scheduler(NotebookExecutor(max_concurrent_runs=1))
    s.start()
    try:
        task = Notebook(
            "sleep.ipynb", parameters={"seconds": 60, "ignore_interrupt": ignore_interrupt}, interrupt_grace=1
        )
        s.add_job(task, "date", run_date=soon(0.1), id="sleepy")
        run = _wait_for_progress(s, "sleepy", "cell 3/")  # in the sleeping cell
        time.sleep(0.5)
        cancelled_at = time.monotonic()
        s.cancel_run(run.id, reason="no longer needed")
        [event] = outcomes.wait(1)
        took = time.monotonic() - cancelled_at
    finally:
        s.shutdown()
    assert took < 10, took  # not the 60 s the cell would sleep
    [after] = s.runs(job_id="sleepy")
    assert (after.status, after.error_type, after.error_message) == (
        RunStatus.CANCELLED,
        "Cancelled",
        "no longer needed",
    )
    stopped = "interrupted, then killed after 1 s" if ignore_interrupt else "interrupted"
    assert event.exception.evalue == f"cancelled (in cell 3); {stopped}"
    assert Path(after.outputs["ipynb"]).is_file()  # its output so far is kept


def test_a_queued_run_never_starts(root: Path) -> None:
    s, outcomes = scheduler(NotebookExecutor(max_concurrent_runs=1))
    s.start()
    marker = root / "queued-ran.txt"
    try:
        s.add_job(Notebook("sleep.ipynb", parameters={"seconds": 60}), "date", run_date=soon(0.1), id="first")
        first = _wait_for(s, "first", RunStatus.RUNNING)
        s.add_job(Notebook("stamp.ipynb", parameters={"marker": str(marker)}), "date", run_date=soon(0.1), id="q")
        queued = _wait_for(s, "q", RunStatus.SCHEDULED)
        time.sleep(0.3)  # claimed and submitted: waiting for the one worker
        s.cancel_run(queued.id)
        s.cancel_run(first.id)
        outcomes.wait(2)
    finally:
        s.shutdown()
    assert not marker.exists()
    assert {r.job_id: r.status for r in s.runs()} == {"first": RunStatus.CANCELLED, "q": RunStatus.CANCELLED}


def test_a_cancellation_from_another_store_user_stops_the_run(root: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    s = _sql_scheduler(url, heartbeat_interval=0.3)
    other = SQLAlchemyJobStore(url=url)  # what the REST API of another process writes through
    s.start()
    try:
        s.add_job(Notebook("sleep.ipynb", parameters={"seconds": 60}, root=root), "date", run_date=soon(0.1), id="x")
        run = _wait_for_progress(s, "x", "cell 3/")
        cancelled = other.cancel_run(run.id, run.started_at or run.scheduled_at, "cancelled elsewhere")
        assert cancelled is not None and cancelled.status is RunStatus.CANCELLED
        _wait_to_end(s)
        assert s._recorder.active_count() == 0  # the run ended long before its 60 s
    finally:
        s.shutdown()
        other.shutdown()
    [after] = s.runs(job_id="x")
    assert (after.status, after.error_message) == (RunStatus.CANCELLED, "cancelled elsewhere")


def test_a_cancelled_run_keeps_what_it_left_behind_in_the_sql_store(root: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    s = _sql_scheduler(url)
    s.start()
    try:
        s.add_job(Notebook("sleep.ipynb", parameters={"seconds": 60}, root=root), "date", run_date=soon(0.1), id="x")
        run = _wait_for_progress(s, "x", "cell 3/")
        s.cancel_run(run.id)
        _wait_to_end(s)
    finally:
        s.shutdown()
    [after] = s.runs(job_id="x")
    assert after.status is RunStatus.CANCELLED
    assert after.input_sha256 == hashlib.sha256((root / "sleep.ipynb").read_bytes()).hexdigest()
    assert after.cell_index == 2 and Path(after.outputs["ipynb"]).is_file()


def test_shutting_down_without_waiting_drops_the_queued_runs(root: Path) -> None:
    executor = NotebookExecutor(max_concurrent_runs=1)
    s, _ = scheduler(executor)
    s.start()
    marker = root / "queued-ran.txt"
    try:
        s.add_job(
            Notebook("sleep.ipynb", parameters={"seconds": 60}, interrupt_grace=1), "date", run_date=soon(0.1), id="a"
        )
        _wait_for(s, "a", RunStatus.RUNNING)
        s.add_job(Notebook("stamp.ipynb", parameters={"marker": str(marker)}), "date", run_date=soon(0.1), id="b")
        _wait_for(s, "b", RunStatus.SCHEDULED)
        time.sleep(0.3)
        running = s.runs(job_id="a")[0]
        s.cancel_run(running.id)  # the running one ends; the queued one must not start after it
        s.shutdown(wait=False)
        time.sleep(3)
    finally:
        if s.running:
            s.shutdown(wait=False)
    assert not marker.exists()
