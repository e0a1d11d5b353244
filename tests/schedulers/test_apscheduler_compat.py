"""Drop-in compatibility with APScheduler 3.11, checked against APScheduler itself where possible."""

from __future__ import annotations

import importlib
import inspect
import io
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apscheduler.events
import apscheduler.schedulers.base
import apscheduler.triggers.base
import pytest

import nbsched.events
import nbsched.triggers.base
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.schedulers.base import BaseScheduler
from tests import tasks
from tests.harness import Harness

ROOT = Path(__file__).resolve().parents[2]

# Module paths an APScheduler 3 program imports, with the names it takes from them.
MODULE_NAMES = {
    "schedulers": ["SchedulerAlreadyRunningError", "SchedulerNotRunningError"],
    "schedulers.base": ["BaseScheduler", "STATE_STOPPED", "STATE_RUNNING", "STATE_PAUSED"],
    "schedulers.blocking": ["BlockingScheduler"],
    "schedulers.background": ["BackgroundScheduler"],
    "schedulers.asyncio": ["AsyncIOScheduler"],
    "triggers.base": ["BaseTrigger"],
    "triggers.cron": ["CronTrigger"],
    "triggers.date": ["DateTrigger"],
    "triggers.interval": ["IntervalTrigger"],
    "triggers.calendarinterval": ["CalendarIntervalTrigger"],
    "triggers.combining": ["AndTrigger", "OrTrigger"],
    "jobstores.base": ["BaseJobStore", "JobLookupError", "ConflictingIdError"],
    "jobstores.memory": ["MemoryJobStore"],
    "executors.base": ["BaseExecutor", "MaxInstancesReachedError", "run_job"],
    "executors.pool": ["ThreadPoolExecutor", "ProcessPoolExecutor"],
    "executors.asyncio": ["AsyncIOExecutor"],
    "executors.debug": ["DebugExecutor"],
    "events": ["JobExecutionEvent", "JobSubmissionEvent", "JobEvent", "SchedulerEvent", "EVENT_ALL"],
    "job": ["Job"],
    "util": ["undefined", "obj_to_ref", "ref_to_obj", "datetime_repr", "astimezone"],
}


@pytest.mark.parametrize("module", sorted(MODULE_NAMES))
def test_apscheduler_module_paths_resolve(module: str) -> None:
    ours = importlib.import_module(f"nbsched.{module}")
    theirs = importlib.import_module(f"apscheduler.{module}")
    for name in MODULE_NAMES[module]:
        assert hasattr(theirs, name), f"apscheduler.{module}.{name} (test list is wrong)"
        assert hasattr(ours, name), f"nbsched.{module} lacks {name}"


def test_event_codes_have_apschedulers_values() -> None:
    theirs = {name: value for name, value in vars(apscheduler.events).items() if name.startswith("EVENT_")}
    assert len(theirs) == 19  # 17 codes, EVENT_SCHEDULER_START alias, EVENT_ALL
    for name, value in theirs.items():
        assert getattr(nbsched.events, name) == value, name


# Deliberate differences (README migration table): parameters whose defaults differ.
CHANGED_DEFAULTS = {("configure", "prefix")}


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_apscheduler_scheduler_method_exists_with_the_same_parameters() -> None:
    theirs = _public_methods(apscheduler.schedulers.base.BaseScheduler)
    ours = _public_methods(BaseScheduler)
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    for name, their_sig in theirs.items():
        our_params = ours[name].parameters
        for pname, their_param in their_sig.parameters.items():
            assert pname in our_params, f"{name}() lacks parameter {pname}"
            ours_p = our_params[pname]
            assert ours_p.kind == their_param.kind, f"{name}({pname}) kind"
            if (name, pname) in CHANGED_DEFAULTS or their_param.default is inspect.Parameter.empty:
                continue
            their_default = their_param.default
            if repr(their_default) == "<undefined>" or isinstance(their_default, dict):
                continue  # APScheduler's sentinel / mutable default {} stand for "not given" as ours do
            assert ours_p.default == their_default, f"{name}({pname}) default"
        assert list(our_params)[: len(their_sig.parameters)] == list(their_sig.parameters), name


def _scheduler_pair() -> tuple[BackgroundScheduler, object]:
    from apscheduler.schedulers.background import BackgroundScheduler as TheirScheduler

    return BackgroundScheduler(timezone="UTC"), TheirScheduler(timezone="UTC")


def _add_same_jobs(scheduler: object) -> None:
    when = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    scheduler.add_job(tasks.add, "interval", seconds=2, args=[1, 2], id="a", next_run_time=when)  # type: ignore[attr-defined]
    scheduler.add_job(tasks.record, "cron", hour=9, minute="*/15", id="b", name="cron job", next_run_time=when)  # type: ignore[attr-defined]
    scheduler.add_job(tasks.record, "date", run_date=when, id="c")  # type: ignore[attr-defined]
    scheduler.add_job(tasks.record, "interval", hours=1, id="d", next_run_time=None)  # type: ignore[attr-defined]


def test_print_jobs_matches_apscheduler_text_before_and_after_start() -> None:
    ours, theirs = _scheduler_pair()
    for scheduler in (ours, theirs):
        _add_same_jobs(scheduler)
    outputs = []
    for scheduler in (ours, theirs):
        buffer = io.StringIO()
        scheduler.print_jobs(out=buffer)  # type: ignore[attr-defined]
        scheduler.start(paused=True)  # type: ignore[attr-defined]
        scheduler.print_jobs(out=buffer)  # type: ignore[attr-defined]
        scheduler.shutdown()  # type: ignore[attr-defined]
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    assert "Jobstore default:" in outputs[0] and "paused" in outputs[0]


def test_the_issue_example_prints_the_job_list_every_two_seconds(tmp_path: Path) -> None:
    # An APScheduler program with only its import renamed.
    program = textwrap.dedent(
        """
        from nbsched.schedulers.blocking import BlockingScheduler
        scheduler = BlockingScheduler(daemon=True)
        scheduler.add_job(lambda: scheduler.print_jobs(), 'interval', seconds=2)
        scheduler.start()
        """
    )
    script = tmp_path / "example.py"
    script.write_text(program)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-u", str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        out, _ = proc.communicate(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    assert out.count("Jobstore default:") == 2, out
    assert "<lambda> (trigger: interval[0:00:02], next run at:" in out


def test_scheduled_job_decorator_replaces_and_returns_function() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")

    @scheduler.scheduled_job("interval", minutes=5, id="deco")
    def job() -> None:
        pass

    scheduler.scheduled_job("interval", minutes=7, id="deco")(job)
    assert callable(job)
    jobs = scheduler.get_jobs()
    scheduler.start(paused=True)
    assert [j.id for j in scheduler.get_jobs()] == ["deco"]
    assert str(scheduler.get_job("deco").trigger) == "interval[0:07:00]"
    scheduler.shutdown()
    assert len(jobs) == 2  # both pending until start; the second replaced the first


def test_string_references_and_job_api() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": {"type": "debug"}})
    job = scheduler.add_job("tests.tasks:add", "interval", seconds=1, args=[1, 2], id="ref")
    assert job.func is tasks.add and job.func_ref == "tests.tasks:add" and job.name == "add"
    assert job.pending
    scheduler.start(paused=True)
    assert not job.pending
    job.modify(max_instances=3)
    assert scheduler.get_job("ref").max_instances == 3
    job.pause()
    assert scheduler.get_job("ref").next_run_time is None
    job.resume()
    assert scheduler.get_job("ref").next_run_time is not None
    job.reschedule("cron", minute=5)
    assert str(scheduler.get_job("ref").trigger) == "cron[minute='5']"
    job.remove()
    assert scheduler.get_jobs() == []
    scheduler.shutdown()


def test_remove_all_jobs_and_lookup_errors() -> None:
    from nbsched.jobstores.base import JobLookupError

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(tasks.record, "interval", seconds=1, id="x")
    scheduler.start(paused=True)
    with pytest.raises(JobLookupError, match="No job by the id of nope was found"):
        scheduler.remove_job("nope")
    with pytest.raises(KeyError):  # APScheduler programs catch KeyError
        scheduler.modify_job("nope", max_instances=2)
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []
    scheduler.shutdown()


def test_conflicting_id_is_refused_and_nothing_is_lost() -> None:
    from nbsched.jobstores.base import ConflictingIdError

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    scheduler.add_job(tasks.record, "interval", seconds=1, id="x", args=["first"])
    with pytest.raises(ConflictingIdError, match=r"Job identifier \(x\) conflicts with an existing job"):
        scheduler.add_job(tasks.record, "interval", seconds=1, id="x", args=["second"])
    assert scheduler.get_job("x").args == ("first",)
    scheduler.shutdown()


def test_export_and_import_jobs_round_trip_as_json(tmp_path: Path) -> None:
    source = BackgroundScheduler(timezone="UTC")
    source.add_job(tasks.add, "interval", minutes=5, args=[1, 2], id="i")
    source.add_job(tasks.record, "cron", hour=9, kwargs={"value": datetime(2026, 1, 1, tzinfo=UTC)}, id="c")
    source.start(paused=True)
    path = tmp_path / "jobs.json"
    source.export_jobs(str(path))
    source.shutdown()
    text = path.read_text()
    assert '"version": 1' in text and "pickle" not in text
    target = BackgroundScheduler(timezone="UTC")
    target.import_jobs(str(path))
    target.start(paused=True)
    jobs = {job.id: job for job in target.get_jobs()}
    assert jobs["i"].args == (1, 2) and jobs["i"].func is tasks.add
    assert jobs["c"].kwargs == {"value": datetime(2026, 1, 1, tzinfo=UTC)}
    assert str(jobs["c"].trigger) == "cron[hour='9']"
    target.shutdown()


def test_export_refuses_lambdas_with_the_reason(tmp_path: Path) -> None:
    from nbsched.exceptions import TransientJobError

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", seconds=1, id="lam")
    scheduler.start(paused=True)  # export needs a started scheduler, as in APScheduler
    try:
        with pytest.raises(TransientJobError, match="lambda"):
            scheduler.export_jobs(str(tmp_path / "x.json"))
    finally:
        scheduler.shutdown()


def test_plugin_aliases_resolve_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    import nbsched.plugins as plugins

    point = EntryPoint(name="every10", value="tests.plugin_trigger:EveryTenSeconds", group="nbsched.triggers")
    monkeypatch.setattr(plugins, "_entry_points", lambda kind: {"every10": point} if kind == "trigger" else {})
    plugins.load_plugin.cache_clear()
    try:
        scheduler = BackgroundScheduler(timezone="UTC")
        job = scheduler.add_job(tasks.record, "every10")
        assert type(job.trigger).__name__ == "EveryTenSeconds"
    finally:
        plugins.load_plugin.cache_clear()


# A custom trigger as APScheduler's documentation writes one: only get_next_fire_time, no to_dict/from_dict.
class TheirEveryTwoMinutes(apscheduler.triggers.base.BaseTrigger):
    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        return (previous_fire_time or now) + timedelta(minutes=2)


class EveryTwoMinutes(nbsched.triggers.base.BaseTrigger):  # the same class, its import renamed
    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        return self._apply_jitter((previous_fire_time or now) + timedelta(minutes=2), None, now)


def test_custom_trigger_written_for_apscheduler_runs_on_the_memory_store() -> None:
    from apscheduler.schedulers.background import BackgroundScheduler as TheirScheduler

    theirs = TheirScheduler(timezone="UTC")
    theirs.add_job(tasks.record, TheirEveryTwoMinutes(), id="custom")  # APScheduler accepts it
    harness = Harness("background")
    try:
        harness.scheduler.add_job(tasks.record, EveryTwoMinutes(), args=["fired"], id="custom")
        harness.start()
        assert harness.scheduler.get_job("custom").next_run_time == datetime(2026, 1, 5, 9, 2, tzinfo=UTC)
        harness.advance(120)
        harness.advance(120)
        assert tasks.CALLS == ["fired", "fired"]
        assert harness.scheduler.get_job("custom").next_run_time == datetime(2026, 1, 5, 9, 6, tzinfo=UTC)
    finally:
        harness.shutdown()


def test_persistent_store_refuses_a_trigger_without_to_dict_naming_it(tmp_path: Path) -> None:
    from nbsched.exceptions import SerializationError
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    message = (
        f"EveryTwoMinutes: trigger '{__name__}:EveryTwoMinutes' has no to_dict(), so it cannot be stored in a "
        "persistent job store; give it to_dict() and from_dict() (see nbsched.abc.Trigger) or use the memory store"
    )
    scheduler = BackgroundScheduler(timezone="UTC", jobstores={"sql": SQLAlchemyJobStore(f"sqlite:///{tmp_path}/j.db")})
    with pytest.raises(SerializationError) as info:
        scheduler.add_job(tasks.record, EveryTwoMinutes(), jobstore="sql")
    assert str(info.value) == message
    scheduler.start(paused=True)
    try:
        with pytest.raises(SerializationError) as info:
            scheduler.add_job(tasks.record, EveryTwoMinutes(), jobstore="sql")
        assert str(info.value) == message
        scheduler.add_job(tasks.record, EveryTwoMinutes(), id="in-memory")  # the default store: fine
        assert [job.id for job in scheduler.get_jobs()] == ["in-memory"]
    finally:
        scheduler.shutdown()
