"""The scheduler API the faces share (nbsched.schedulers._faces): run_now's one meaning, last_runs, liveness and
the manage-only mode, driven by a ManualClock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nbsched.exceptions import ConfigurationError, JobLookupError, PluginLookupError
from nbsched.executors.base import BaseExecutor
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.notebooks import Cell
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------- run_now
def test_run_now_of_a_cron_job_keeps_its_grid(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "cron", minute="30", args=["c"], id="c")
    harness.start()
    harness.advance(10 * 60)  # 09:10
    result = harness.scheduler.run_now("c")
    assert (result.job_id, result.due, result.was_paused) == ("c", T0 + timedelta(minutes=10), False)
    harness.settle()
    assert tasks.CALLS == ["c"]
    assert harness.scheduler.get_job("c").next_run_time == T0 + timedelta(minutes=30)  # type: ignore[union-attr]
    assert [run.scheduled_at for run in harness.scheduler.runs(job_id="c")] == [result.due]


def test_run_now_of_an_interval_job_goes_on_one_interval_after_it(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", minutes=30, args=["i"], id="i")
    harness.start()
    harness.advance(10 * 60)
    harness.scheduler.run_now("i")
    harness.settle()
    assert tasks.CALLS == ["i"]
    assert harness.scheduler.get_job("i").next_run_time == T0 + timedelta(minutes=40)  # type: ignore[union-attr]


def test_run_now_of_a_date_job_runs_it_now_instead_of_later(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "date", run_date=T0 + timedelta(days=1), args=["d"], id="d")
    harness.start()
    harness.scheduler.run_now("d")
    harness.settle()
    assert tasks.CALLS == ["d"]
    assert harness.scheduler.get_job("d") is None
    harness.advance(2 * 86400)
    assert tasks.CALLS == ["d"]


def test_run_now_of_a_paused_job_runs_once_and_it_stays_paused(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", minutes=5, args=["p"], id="p", next_run_time=None)
    harness.start()
    result = harness.scheduler.run_now("p")
    assert result.was_paused
    harness.settle()
    assert tasks.CALLS == ["p"]
    job = harness.scheduler.get_job("p")
    assert job is not None
    assert job.next_run_time is None  # paused again, not resumed
    harness.advance(3630)
    assert tasks.CALLS == ["p"]
    assert len(harness.scheduler.runs(job_id="p")) == 1
    harness.scheduler.resume_job("p")  # and it resumes as any paused job: next on its grid, at 10:05
    assert harness.scheduler.get_job("p").next_run_time == T0 + timedelta(minutes=65)  # type: ignore[union-attr]
    harness.advance(270)
    assert tasks.CALLS == ["p", "p"]
    harness.advance(5 * 60)
    assert tasks.CALLS == ["p", "p", "p"]  # no longer paused after each run


def test_a_paused_job_run_now_twice_before_it_fires_still_stays_paused(harness: Harness) -> None:
    harness.start(paused=True)
    harness.scheduler.add_job(tasks.record, "interval", minutes=5, args=["p"], id="p", next_run_time=None)
    harness.scheduler.run_now("p")
    harness.advance(1)
    assert harness.scheduler.run_now("p").was_paused
    harness.scheduler.resume()
    harness.settle()
    harness.advance(3600)
    assert tasks.CALLS == ["p"]
    assert harness.scheduler.get_job("p").next_run_time is None  # type: ignore[union-attr]


def test_a_paused_date_job_run_now_stays_paused_with_its_date(harness: Harness) -> None:
    later = T0 + timedelta(days=1)
    harness.scheduler.add_job(tasks.record, "date", run_date=later, args=["d"], id="d", next_run_time=None)
    harness.start()
    harness.scheduler.run_now("d")
    harness.settle()
    assert tasks.CALLS == ["d"]
    assert harness.scheduler.get_job("d") is not None  # kept, paused
    harness.scheduler.resume_job("d")
    assert harness.scheduler.get_job("d").next_run_time == later  # type: ignore[union-attr]


def test_resuming_before_the_fire_cancels_the_pause_after_it(harness: Harness) -> None:
    harness.start(paused=True)  # nothing is processed until resumed
    harness.scheduler.add_job(tasks.record, "interval", minutes=5, args=["p"], id="p", next_run_time=None)
    harness.scheduler.run_now("p")
    harness.scheduler.resume_job("p")
    harness.scheduler.resume()
    harness.advance(5 * 60)
    harness.advance(5 * 60)
    assert tasks.CALLS == ["p", "p"]


def test_run_now_of_a_missing_job(harness: Harness) -> None:
    harness.start()
    with pytest.raises(JobLookupError):
        harness.scheduler.run_now("nope")


def test_a_paused_job_run_now_is_claimed_once_by_two_schedulers(tmp_path: Path) -> None:
    """Exactly once: two schedulers over one store, each processing; one run, and the job paused again."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    one, two = (Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)}) for _ in range(2))
    try:
        one.scheduler.add_job("tests.tasks:record", "interval", minutes=5, args=["p"], id="p", next_run_time=None)
        one.start()
        two.start()
        one.scheduler.run_now("p")
        for _ in range(3):
            one.settle()
            two.settle()
        assert tasks.CALLS == ["p"]
        assert len(one.scheduler.runs(job_id="p")) == 1
        assert two.scheduler.get_job("p").next_run_time is None  # type: ignore[union-attr]
    finally:
        one.shutdown()
        two.shutdown()


# --------------------------------------------------------------------------------------------------- last_runs
def test_last_runs(harness: Harness) -> None:
    for name in ("a", "b", "c"):
        harness.scheduler.add_job(tasks.record, "interval", minutes=1, args=[name], id=name)
    harness.start()
    harness.scheduler.pause_job("c")
    harness.advance(60)
    harness.advance(60)
    latest = harness.scheduler.last_runs(["a", "b", "c"])
    assert {job_id: run.scheduled_at for job_id, run in latest.items()} == {
        "a": T0 + timedelta(minutes=2),
        "b": T0 + timedelta(minutes=2),
    }
    assert set(harness.scheduler.last_runs()) == {"a", "b"}
    with pytest.raises(PluginLookupError):
        harness.scheduler.last_runs(jobstore="nope")


# ---------------------------------------------------------------------------------------------------- liveness
def test_a_running_scheduler_is_live_and_its_row_goes_at_shutdown(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    runner = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)})
    watcher = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)}, manage_only=True)
    watcher.start()
    try:
        assert watcher.scheduler.live_schedulers() == []
        runner.start()
        live = watcher.scheduler.live_schedulers()
        assert [row.id for row in live] == [runner.scheduler.scheduler_id]
        assert live[0].runs_jobs
        runner.scheduler.pause()  # paused: it does not run jobs (its row says so at once)
        assert watcher.scheduler.live_schedulers() == []
        runner.scheduler.resume()
        assert len(watcher.scheduler.live_schedulers()) == 1
        runner.shutdown()
        assert watcher.scheduler.live_schedulers() == []
    finally:
        runner.shutdown()
        watcher.shutdown()


def test_a_scheduler_that_stopped_beating_is_not_live(tmp_path: Path) -> None:
    """A scheduler that died (no clean shutdown) drops out once its heartbeat is older than lost_after."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    runner = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)})
    watcher = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)}, manage_only=True)
    runner.start()
    watcher.start()
    try:
        assert len(watcher.scheduler.live_schedulers()) == 1
        watcher.clock.advance(59)
        assert len(watcher.scheduler.live_schedulers()) == 1
        watcher.clock.advance(2)  # lost_after (60 s) since its last heartbeat
        assert watcher.scheduler.live_schedulers() == []
    finally:
        runner.shutdown()
        watcher.shutdown()


def test_run_now_says_whether_a_scheduler_will_start_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    manager = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)}, manage_only=True)
    manager.scheduler.add_job("tests.tasks:record", "interval", minutes=5, id="j")
    manager.start()
    runner = Harness("background", jobstores={"default": SQLAlchemyJobStore(url=url)})
    try:
        alone = manager.scheduler.run_now("j")
        assert not alone.will_start
        assert alone.message("start `nbsched serve` or use --wait") == (
            "marked j to run; no scheduler is running over this store: start `nbsched serve` or use --wait"
        )
        assert alone.warning() == "no scheduler is running over this store: start `nbsched serve`"
        runner.start()
        served = manager.scheduler.run_now("j")
        assert served.will_start
        assert served.warning() is None
        assert served.message() == "marked j to run now; a scheduler over this store starts it shortly"
        manager.scheduler.pause_job("j")
        assert manager.scheduler.run_now("j").message().endswith("shortly (it stays paused)")
    finally:
        runner.shutdown()
        manager.shutdown()


def test_the_memory_store_knows_this_process_only(harness: Harness) -> None:
    harness.scheduler.add_job(tasks.record, "interval", minutes=5, id="j")
    harness.start()
    live = harness.scheduler.live_schedulers()
    assert [row.id for row in live] == [harness.scheduler.scheduler_id]
    harness.advance(3600)  # its own heartbeat row may be old by this clock: it still runs jobs
    assert harness.scheduler.run_now("j").will_start


# ------------------------------------------------------------------------------------------------- manage only
class _CountingExecutor(BaseExecutor):
    starts = 0

    def start(self, scheduler: Any, alias: str) -> None:
        type(self).starts += 1
        super().start(scheduler, alias)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        raise AssertionError("a manage-only scheduler submits nothing")


def test_manage_only_starts_no_thread_executor_or_kernel(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    before = set(threading.enumerate())
    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(
        jobstores={"default": store}, executors={"default": _CountingExecutor()}, manage_only=True
    )
    scheduler.start()
    try:
        scheduler.add_job("tests.tasks:record", "interval", minutes=5, id="f")
        scheduler.add_job(Cell("x = 1"), "interval", minutes=5, id="cell")  # the notebook executor: by name only
        scheduler.add_executor(_CountingExecutor(), "extra")
        scheduler.modify_job("f", name="renamed")
        scheduler.run_now("f")
        assert set(threading.enumerate()) == before  # no scheduler loop, run recorder or kernel thread
        assert _CountingExecutor.starts == 0
        assert scheduler.get_executor("notebook") is None  # not even created
        with pytest.raises(PluginLookupError):
            scheduler.add_job("tests.tasks:record", "interval", minutes=5, executor="typo")
        with pytest.raises(ConfigurationError, match="manage_only"):
            scheduler.resume()
        assert store.live_schedulers(T0) == []  # no liveness row
        assert scheduler.scheduler_id is None
    finally:
        scheduler.shutdown()
    reader = SQLAlchemyJobStore(url=url)
    try:
        assert {job.id for job in reader.get_all_jobs()} == {"f", "cell"}  # written through the store as usual
        assert reader.lookup_job("f").name == "renamed"  # type: ignore[union-attr]
    finally:
        reader.shutdown()
