"""Jobs added before start() that a store cannot keep, or that name what does not exist: refused with one clear
error, and nothing else pending is lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nbsched.clock import ManualClock
from nbsched.exceptions import ConflictingIdError, PluginLookupError, TransientJobError
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks

LAMBDA_REFUSED = (
    "Job (lam) cannot be added to this job store because a reference to the callable could not be determined. "
    "it is a lambda; define it with `def` at the top level of an importable module"
)
MAIN_REFUSED = (
    "Job (main) cannot be added to this job store because a reference to the callable could not be determined. "
    "it is defined in __main__ (a script or a notebook), which another process cannot import; move it to an "
    "importable module, or schedule the cell's source with nbsched.Cell"
)


def _scheduler(**config: object) -> BackgroundScheduler:
    return BackgroundScheduler(
        timezone="UTC", clock=ManualClock("2026-01-05 09:00"), executors={"default": {"type": "debug"}}, **config
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


def _stored_ids(url: str) -> list[str]:
    """The job ids in the database, read by a store of its own (what the next process would find)."""
    store = SQLAlchemyJobStore(url=url)
    try:
        return sorted(job.id for job in store.get_all_jobs())
    finally:
        store.shutdown()


def _ids(scheduler: BackgroundScheduler) -> list[str]:
    return sorted(job.id for job in scheduler.get_jobs())


def test_job_a_persistent_store_cannot_keep_is_refused_at_add_job_before_start(db_url: str) -> None:
    scheduler = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    scheduler.add_job(tasks.record, "interval", seconds=5, id="good1")
    with pytest.raises(TransientJobError) as info:
        scheduler.add_job(lambda: None, "interval", seconds=5, id="lam")
    assert str(info.value) == LAMBDA_REFUSED
    scheduler.add_job(tasks.record, "interval", seconds=5, id="good2")
    scheduler.start(paused=True)
    try:
        assert _ids(scheduler) == ["good1", "good2"]
    finally:
        scheduler.shutdown()
    assert _stored_ids(db_url) == ["good1", "good2"]


def test_start_refusing_a_pending_job_keeps_every_pending_job(db_url: str) -> None:
    scheduler = _scheduler()
    for job_id, func in (("good1", tasks.record), ("lam", lambda: None), ("good2", tasks.record)):
        scheduler.add_job(func, "interval", seconds=5, id=job_id, jobstore="sql")
    # The store is added after the jobs, so add_job could not check them: start() does.
    scheduler.add_jobstore(SQLAlchemyJobStore(url=db_url), "sql")
    with pytest.raises(TransientJobError) as info:
        scheduler.start(paused=True)
    assert str(info.value) == LAMBDA_REFUSED
    assert not scheduler.running
    assert _ids(scheduler) == ["good1", "good2", "lam"]
    assert all(job.pending for job in scheduler.get_jobs())
    assert _stored_ids(db_url) == []  # one transaction: nothing half-stored
    scheduler.remove_job("lam")
    scheduler.start(paused=True)
    try:
        assert _ids(scheduler) == ["good1", "good2"]
    finally:
        scheduler.shutdown()
    assert _stored_ids(db_url) == ["good1", "good2"]


def test_jobs_leave_the_pending_list_only_once_their_store_committed(db_url: str) -> None:
    scheduler = _scheduler(jobstores={"default": MemoryJobStore()})
    scheduler.add_job(tasks.record, "interval", seconds=5, id="in-memory")
    scheduler.add_job(tasks.record, "interval", seconds=5, id="good", jobstore="sql")
    scheduler.add_job(lambda: None, "interval", seconds=5, id="lam", jobstore="sql")
    scheduler.add_jobstore(SQLAlchemyJobStore(url=db_url), "sql")
    with pytest.raises(TransientJobError):
        scheduler.start(paused=True)
    # The memory store took its job; the SQL store's batch was refused, so both of its jobs are still pending.
    assert [job.id for job in scheduler._jobstores["default"].get_all_jobs()] == ["in-memory"]
    assert [job.id for job in scheduler.get_jobs() if job.pending] == ["good", "lam"]
    scheduler.remove_job("lam")
    scheduler.start(paused=True)  # the job already stored is not added again (no ConflictingIdError)
    try:
        assert _ids(scheduler) == ["good", "in-memory"]
    finally:
        scheduler.shutdown()


def test_a_taken_id_stops_start_but_the_other_jobs_are_stored(db_url: str) -> None:
    first = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    first.add_job(tasks.record, "interval", seconds=5, id="taken", args=["stored"])
    first.start(paused=True)
    first.shutdown()
    scheduler = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    scheduler.add_job(tasks.record, "interval", seconds=5, id="taken", args=["again"])
    scheduler.add_job(tasks.record, "interval", seconds=5, id="new")
    with pytest.raises(ConflictingIdError, match=r"^'Job identifier \(taken\) conflicts with an existing job'$"):
        scheduler.start(paused=True)
    assert _stored_ids(db_url) == ["new", "taken"]
    assert [job.args for job in scheduler.get_jobs() if job.pending] == [("again",)]  # not lost: still pending
    scheduler.remove_job("taken")  # the pending one: the stored one is kept
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("taken").args == ("stored",)
    finally:
        scheduler.shutdown()


def test_a_taken_id_re_added_with_replace_existing_before_start_replaces_the_stored_job(db_url: str) -> None:
    first = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    first.add_job(tasks.record, "interval", seconds=5, id="taken", args=["stored"])
    first.start(paused=True)
    first.shutdown()
    scheduler = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    scheduler.add_job(tasks.record, "interval", seconds=5, id="taken", args=["again"])
    scheduler.add_job(tasks.record, "interval", seconds=5, id="taken", args=["last"], replace_existing=True)
    scheduler.start(paused=True)  # the first re-add is superseded by the second: no conflict
    try:
        assert [(job.id, job.args) for job in scheduler.get_jobs()] == [("taken", ("last",))]
    finally:
        scheduler.shutdown()


def test_unknown_executor_of_a_pending_job_is_refused_at_start_and_nothing_is_lost() -> None:
    scheduler = _scheduler()
    scheduler.add_job(tasks.record, "interval", seconds=5, id="good1")
    scheduler.add_job(tasks.record, "interval", seconds=5, id="bad", executor="nope")
    scheduler.add_job(tasks.record, "interval", seconds=5, id="good2")
    with pytest.raises(PluginLookupError) as info:
        scheduler.start(paused=True)
    assert str(info.value) == (
        "Job 'bad': executor 'nope' is not an executor of this scheduler (known: default, kernel, notebook)"
    )
    assert isinstance(info.value, KeyError)
    assert [job.id for job in scheduler.get_jobs()] == ["good1", "bad", "good2"]
    assert all(job.pending for job in scheduler.get_jobs())
    scheduler.remove_job("bad")
    scheduler.start(paused=True)
    try:
        assert _ids(scheduler) == ["good1", "good2"]
    finally:
        scheduler.shutdown()


def test_unknown_jobstore_of_a_pending_job_is_refused_at_start() -> None:
    scheduler = _scheduler()
    scheduler.add_job(tasks.record, "interval", seconds=5, id="j", jobstore="nope")
    with pytest.raises(PluginLookupError) as info:
        scheduler.start(paused=True)
    assert str(info.value) == "Job 'j': jobstore 'nope' is not a job store of this scheduler (known: default)"
    assert [job.id for job in scheduler.get_jobs()] == ["j"]


@pytest.fixture
def main_func(monkeypatch: pytest.MonkeyPatch) -> str:
    """A function reachable as ``__main__:main_func`` (what a script's own function is)."""
    monkeypatch.setattr(sys.modules["__main__"], "main_func", tasks.record, raising=False)
    return "__main__:main_func"


def test_main_module_reference_is_refused_by_a_persistent_store(db_url: str, main_func: str) -> None:
    scheduler = _scheduler(jobstores={"default": SQLAlchemyJobStore(url=db_url)})
    with pytest.raises(TransientJobError) as info:
        scheduler.add_job(main_func, "interval", seconds=5, id="main")  # before start
    assert str(info.value) == MAIN_REFUSED
    scheduler.start(paused=True)
    try:
        with pytest.raises(TransientJobError) as info:
            scheduler.add_job(main_func, "interval", seconds=5, id="main")  # running
        assert str(info.value) == MAIN_REFUSED
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()
    assert _stored_ids(db_url) == []


def test_main_module_reference_works_with_the_memory_store(main_func: str) -> None:
    scheduler = _scheduler()
    job = scheduler.add_job(main_func, "interval", seconds=5, id="main")  # as in APScheduler
    assert job.func is tasks.record and job.func_ref == main_func
    scheduler.start(paused=True)
    try:
        assert _ids(scheduler) == ["main"]
    finally:
        scheduler.shutdown()


def test_a_start_that_fails_stops_what_it_started(db_url: str) -> None:
    from nbsched.executors.debug import DebugExecutor

    calls: list[str] = []

    class Watched(DebugExecutor):
        def start(self, scheduler: object, alias: str) -> None:
            calls.append("start")
            super().start(scheduler, alias)

        def shutdown(self, wait: bool = True) -> None:
            calls.append("shutdown")
            super().shutdown(wait)

    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock("2026-01-05 09:00"))
    scheduler.add_executor(Watched(), "default")
    scheduler.add_job(lambda: None, "interval", seconds=5, id="lam", jobstore="sql")
    scheduler.add_jobstore(SQLAlchemyJobStore(url=db_url), "sql")
    with pytest.raises(TransientJobError):
        scheduler.start(paused=True)
    assert calls == ["start", "shutdown"]
    scheduler.remove_job("lam")
    scheduler.start(paused=True)
    scheduler.shutdown()
    assert calls == ["start", "shutdown", "start", "shutdown"]
