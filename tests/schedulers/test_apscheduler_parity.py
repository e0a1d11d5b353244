"""The scheduler API behaves as APScheduler 3.11's: each test does the same thing to APScheduler itself and to
nbsched, side by side, and compares what came out (issue 16, point 3).

Where nbsched differs on purpose, the README's migration table has the row and the test says which.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apscheduler.jobstores.memory
import apscheduler.jobstores.sqlalchemy
import apscheduler.util
import pytest
from apscheduler.schedulers.background import BackgroundScheduler as TheirScheduler

import nbsched.jobstores.memory
import nbsched.jobstores.sqlalchemy
import nbsched.refs
from nbsched.schedulers.background import BackgroundScheduler as OurScheduler
from tests import tasks
from tests.classmethods import Child

SCHEDULERS = {"apscheduler": TheirScheduler, "nbsched": OurScheduler}


def _outcome(action: Callable[[], Any]) -> tuple[str, Any]:
    """What ``action`` did, comparable across the two libraries: ``("ok", result)`` or the error's builtin
    ancestry (``KeyError``, ``LookupError``, ...), its text and ``repr(str(error))``."""
    try:
        return "ok", action()
    except Exception as exc:
        builtins = tuple(
            name
            for name, kind in (
                ("KeyError", KeyError),
                ("LookupError", LookupError),
                ("ValueError", ValueError),
                ("TypeError", TypeError),
                ("RuntimeError", RuntimeError),
            )
            if isinstance(exc, kind)
        )
        return "error", (builtins, str(exc))


def _both(action: Callable[[Any], Any]) -> dict[str, tuple[str, Any]]:
    return {name: _outcome(lambda cls=cls: action(cls)) for name, cls in SCHEDULERS.items()}


def test_a_restarted_scheduler_with_a_memory_store_starts_empty() -> None:
    def restart(cls: Any) -> tuple[list[str], list[str]]:
        scheduler = cls(timezone="UTC")
        scheduler.add_job(tasks.record, "interval", seconds=5, id="x")
        scheduler.start(paused=True)
        scheduler.shutdown()
        after_shutdown = [job.id for job in scheduler.get_jobs()]
        scheduler.start(paused=True)
        try:
            return after_shutdown, [job.id for job in scheduler.get_jobs()]
        finally:
            scheduler.shutdown()

    outcomes = _both(restart)
    assert outcomes["nbsched"] == outcomes["apscheduler"] == ("ok", ([], []))


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda cls: cls(timezone="UTC").add_job(tasks.record, "nope"), id="add_job-trigger"),
        pytest.param(
            lambda cls: cls(timezone="UTC").add_job(tasks.record, "interval", seconds=1).reschedule("nope"),
            id="reschedule-trigger",
        ),
        pytest.param(lambda cls: cls(timezone="UTC", executors={"default": {"type": "nope"}}), id="config-executor"),
        pytest.param(lambda cls: cls(timezone="UTC", jobstores={"default": {"type": "nope"}}), id="config-jobstore"),
        pytest.param(lambda cls: cls(timezone="UTC").add_executor("nope", "x"), id="add_executor"),
        pytest.param(lambda cls: cls(timezone="UTC").add_jobstore("nope", "x"), id="add_jobstore"),
    ],
)
def test_an_unknown_plugin_alias_is_a_lookup_error(action: Callable[[Any], Any]) -> None:
    outcomes = _both(action)
    their_kind, (their_builtins, _) = outcomes["apscheduler"]
    our_kind, (our_builtins, our_text) = outcomes["nbsched"]
    assert their_kind == our_kind == "error"
    assert "LookupError" in their_builtins
    assert set(their_builtins) <= set(our_builtins), our_text
    assert "nope" in our_text


def test_add_job_naming_an_executor_added_afterwards_on_a_running_scheduler_runs_on_it() -> None:
    def later_executor(cls: Any) -> tuple[str, list[str]]:
        ran = threading.Event()
        calls: list[str] = []

        def listener(event: Any) -> None:
            calls.append(type(event).__name__)
            ran.set()

        scheduler = cls(timezone="UTC")
        scheduler.start(paused=True)
        try:
            scheduler.add_listener(listener, 4096)  # EVENT_JOB_EXECUTED
            scheduler.add_job(
                tasks.record, "interval", hours=1, id="j", executor="later", next_run_time=datetime.now(UTC)
            )
            scheduler.add_executor("threadpool", "later")
            scheduler.resume()
            assert ran.wait(10)
            return scheduler.get_job("j").executor, calls
        finally:
            scheduler.shutdown()

    outcomes = _both(later_executor)
    assert outcomes["nbsched"] == outcomes["apscheduler"] == ("ok", ("later", ["JobExecutionEvent"]))


def test_export_jobs_before_start_is_refused_as_apscheduler_refuses_it() -> None:
    def export_before_start(cls: Any) -> str:
        scheduler = cls(timezone="UTC")
        scheduler.add_job(tasks.record, "interval", seconds=1, id="j")
        out = io.StringIO()
        scheduler.export_jobs(out)
        return out.getvalue()

    outcomes = _both(export_before_start)
    assert outcomes["nbsched"] == outcomes["apscheduler"]
    assert outcomes["nbsched"][0] == "error"


def test_lookup_and_conflict_errors_read_as_apschedulers() -> None:
    def remove_missing(cls: Any) -> None:
        scheduler = cls(timezone="UTC")
        scheduler.start(paused=True)
        try:
            scheduler.remove_job("nope")
        finally:
            scheduler.shutdown()

    def add_twice(cls: Any) -> None:
        scheduler = cls(timezone="UTC")
        scheduler.start(paused=True)
        try:
            scheduler.add_job(tasks.record, "interval", seconds=1, id="x")
            scheduler.add_job(tasks.record, "interval", seconds=1, id="x")
        finally:
            scheduler.shutdown()

    for action in (remove_missing, add_twice):
        outcomes = _both(action)
        assert outcomes["nbsched"] == outcomes["apscheduler"]
        assert outcomes["nbsched"][1][0] == ("KeyError", "LookupError")


def test_obj_to_ref_of_an_inherited_classmethod_names_the_subclass() -> None:
    ours = nbsched.refs.obj_to_ref(Child.create)
    assert ours == apscheduler.util.obj_to_ref(Child.create) == "tests.classmethods:Child.create"
    assert nbsched.refs.ref_to_obj(ours)() == apscheduler.util.ref_to_obj(ours)() == "Child"


def test_an_inherited_classmethod_can_be_stored(tmp_path: Path) -> None:
    store = nbsched.jobstores.sqlalchemy.SQLAlchemyJobStore(f"sqlite:///{tmp_path}/jobs.db")
    scheduler = OurScheduler(timezone="UTC", jobstores={"default": store})
    scheduler.add_job(Child.create, "interval", hours=1, id="c")
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("c").func_ref == "tests.classmethods:Child.create"
        assert scheduler.get_job("c").func() == "Child"
    finally:
        scheduler.shutdown()


def test_repr_of_the_memory_store_is_apschedulers() -> None:
    assert repr(nbsched.jobstores.memory.MemoryJobStore()) == repr(apscheduler.jobstores.memory.MemoryJobStore())


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/jobs.db", "sqlite:///:memory:"])
def test_repr_of_the_sqlalchemy_store_is_apschedulers(url: str, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    theirs = apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore(url)
    ours = nbsched.jobstores.sqlalchemy.SQLAlchemyJobStore(url)
    try:
        assert repr(ours) == repr(theirs)
    finally:
        ours.shutdown()


@pytest.mark.postgres
def test_repr_of_the_sqlalchemy_store_on_postgresql_is_apschedulers_and_hides_the_password(postgres_url: str) -> None:
    from sqlalchemy.engine import make_url

    # The test server trusts local connections: the password is not checked, only shown (or not).
    url = make_url(postgres_url).set(password="s3cret").render_as_string(hide_password=False)
    theirs = apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore(url)
    ours = nbsched.jobstores.sqlalchemy.SQLAlchemyJobStore(url)
    try:
        assert repr(ours) == repr(theirs)
        assert "s3cret" not in repr(ours) and "***" in repr(ours)
    finally:
        ours.shutdown()
