"""configure() in APScheduler's three forms, and one clear error for every bad argument."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nbsched.clock import ManualClock
from nbsched.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    JobArgumentError,
    NbschedError,
    PluginLookupError,
    SchedulerAlreadyRunningError,
)
from nbsched.executors.debug import DebugExecutor
from nbsched.executors.pool import ThreadPoolExecutor
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.schedulers.asyncio import AsyncIOScheduler
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.triggers.interval import IntervalTrigger
from tests import tasks

LOGGER = logging.getLogger("tests.nbsched.scheduler")


def _shape(scheduler: BackgroundScheduler) -> dict[str, Any]:
    return {
        "timezone": str(scheduler.timezone),
        "defaults": scheduler._job_defaults,
        "executors": {alias: type(ex).__name__ for alias, ex in scheduler._executors.items()},
        "max_workers": {alias: getattr(ex, "_max_workers", None) for alias, ex in scheduler._executors.items()},
        "jobstores": {alias: type(st).__name__ for alias, st in scheduler._jobstores.items()},
    }


def test_the_three_config_forms_configure_the_same_scheduler() -> None:
    # Form 1: instances.
    first = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(20), "inline": DebugExecutor()},
        job_defaults={"coalesce": False, "max_instances": 3},
        timezone=ZoneInfo("Europe/Berlin"),
    )
    # Form 2: dicts with plugin aliases and class references (APScheduler's own references work).
    second = BackgroundScheduler(
        jobstores={"default": {"type": "memory"}},
        executors={
            "default": {"class": "apscheduler.executors.pool:ThreadPoolExecutor", "max_workers": 20},
            "inline": {"type": "debug"},
        },
        job_defaults={"coalesce": False, "max_instances": 3},
        timezone="Europe/Berlin",
    )
    # Form 3: a flat global config with prefixed, dotted keys and text values.
    third = BackgroundScheduler(
        {
            "apscheduler.jobstores.default": {"type": "memory"},
            "apscheduler.executors.default": {
                "class": "nbsched.executors.pool:ThreadPoolExecutor",
                "max_workers": "20",
            },
            "apscheduler.executors.inline.type": "debug",
            "apscheduler.job_defaults.coalesce": "false",
            "apscheduler.job_defaults.max_instances": "3",
            "apscheduler.timezone": "Europe/Berlin",
            "unrelated.app.setting": 1,  # a global config holds other things too
        }
    )
    assert _shape(first) == _shape(second) == _shape(third)
    assert _shape(first)["max_workers"]["default"] == 20


def test_nbsched_prefix_works_in_global_config() -> None:
    scheduler = BackgroundScheduler({"nbsched.timezone": "Asia/Tokyo"})
    assert str(scheduler.timezone) == "Asia/Tokyo"


def test_string_alias_config_for_stores_and_executors() -> None:
    scheduler = BackgroundScheduler(jobstores={"default": "memory"}, executors={"default": "debug"})
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    assert isinstance(scheduler._executors["default"], DebugExecutor)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"timzone": "UTC"},
            "BackgroundScheduler: option 'timzone' is not a known option; did you mean 'timezone'? (known: clock, "
            "daemon, executors, heartbeat_interval, job_defaults, jobstore_retry_interval, jobstores, keep_runs, "
            "keep_runs_for, logger, lost_after, manage_only, max_concurrent_runs, timezone)",
        ),
        ({"timezone": "Mars/Olympus"}, "BackgroundScheduler: timezone 'Mars/Olympus' is not a known time zone name"),
        ({"job_defaults": {"coalese": True}}, "BackgroundScheduler: job_defaults 'coalese' is not a job default"),
        (
            {"job_defaults": {"max_instances": 0}},
            "BackgroundScheduler: job_defaults.max_instances 0 must be a positive integer",
        ),
        ({"job_defaults": {"coalesce": "perhaps"}}, "BackgroundScheduler: job_defaults.coalesce 'perhaps' must be"),
        (
            {"executors": {"default": {"type": "rocket"}}},
            "BackgroundScheduler: executors['default'].type 'rocket' is unknown",
        ),
        (
            {"executors": {"default": {"max_workers": 3}}},
            "BackgroundScheduler: executors['default'] {'max_workers': 3} needs a \"type\" (plugin alias) or a \"class\"",
        ),
        ({"executors": {"default": {"type": "threadpool", "max_workers": -1}}}, "ThreadPoolExecutor: max_workers -1"),
        (
            {"executors": {"default": {"type": "threadpool", "workers": 2}}},
            "BackgroundScheduler: executors['default'] {'workers': 2} are not valid options for ThreadPoolExecutor",
        ),
        ({"jobstores": {"default": 42}}, "BackgroundScheduler: jobstores['default'] 42 must be a job store instance"),
        ({"jobstore_retry_interval": "soon"}, "BackgroundScheduler: jobstore_retry_interval 'soon' must be a positive"),
        ({"daemon": "maybe"}, "BackgroundScheduler: daemon 'maybe' must be true or false"),
        ({"clock": "fake"}, "BackgroundScheduler: clock 'fake' must be a nbsched.clock.Clock"),
        ({"logger": "x.y"}, "BackgroundScheduler: logger 'x.y' is not a 'package.module:name' reference"),
        (
            {"logger": "nbsched_no_such_module:log"},
            "BackgroundScheduler: logger 'nbsched_no_such_module:log' cannot be imported: Error resolving reference",
        ),
        (
            {"logger": 5},
            "BackgroundScheduler: logger 5 must be a logging.Logger or a 'package.module:name' reference to one",
        ),
        ({"logger": "os:sep"}, f"BackgroundScheduler: logger 'os:sep' names str {os.sep!r}, not a logging.Logger"),
    ],
)
def test_bad_config_is_one_clear_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        BackgroundScheduler(**config)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, ValueError)


def test_logger_option_takes_a_logger_or_a_reference_to_one() -> None:
    assert BackgroundScheduler(logger=LOGGER)._logger is LOGGER
    assert BackgroundScheduler(logger=f"{__name__}:LOGGER")._logger is LOGGER
    assert BackgroundScheduler()._logger is logging.getLogger("nbsched.scheduler")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "AsyncIOScheduler: event_loop 5 must be an asyncio event loop or a 'package.module:name' reference to one"),
        ("asyncio.loop", "AsyncIOScheduler: event_loop 'asyncio.loop' is not a 'package.module:name' reference"),
        (
            f"{__name__}:LOGGER",
            f"AsyncIOScheduler: event_loop '{__name__}:LOGGER' names Logger {LOGGER!r}, not an asyncio event loop",
        ),
    ],
)
def test_bad_event_loop_is_refused(value: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncIOScheduler(event_loop=value)
    assert str(info.value) == message


def test_event_loop_option_takes_a_loop() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert AsyncIOScheduler(event_loop=loop)._eventloop is loop
    finally:
        loop.close()


def test_bad_configure_leaves_previous_configuration_in_place() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": {"type": "debug"}})
    with pytest.raises(ConfigurationError):
        scheduler.configure(executors={"default": {"type": "nope"}})
    assert isinstance(scheduler._executors["default"], DebugExecutor)


def test_configure_while_running_is_refused() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        with pytest.raises(SchedulerAlreadyRunningError, match="Scheduler is already running"):
            scheduler.configure(timezone="UTC")
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"func": 42}, "add_job: func 42 must be a callable or a 'package.module:function' reference"),
        ({"func": "tests.tasks:nope"}, "add_job: func 'tests.tasks:nope' cannot be resolved"),
        ({"func": "no_colon"}, "add_job: func 'no_colon' cannot be resolved"),
        ({"trigger": "sometimes"}, "add_job: trigger 'sometimes' is unknown"),
        ({"trigger": 5}, "add_job: trigger 5 must be a trigger instance or a trigger alias"),
        ({"args": "ab"}, "add_job: args 'ab' must be a list or tuple of positional arguments"),
        ({"kwargs": [1]}, "add_job: kwargs [1] must be a dict of keyword arguments"),
        (
            {"args": [1, 2, 3]},
            "add_job: args/kwargs ((1, 2, 3), {}) do not fit add(a, b): too many positional arguments",
        ),
        ({"id": ""}, "add_job: id '' must be a non-empty string"),
        ({"id": " \t"}, "add_job: id ' \\t' must not be only whitespace"),
        ({"replace_existing": "yes"}, "add_job: replace_existing 'yes' must be True or False"),
        ({"replace_existing": 1}, "add_job: replace_existing 1 must be True or False"),
        ({"name": 3}, "add_job: name 3 must be a non-empty string"),
        ({"misfire_grace_time": -1}, "add_job: misfire_grace_time -1 must be a positive number of seconds or None"),
        ({"coalesce": "yes"}, "add_job: coalesce 'yes' must be True or False"),
        ({"max_instances": 0}, "add_job: max_instances 0 must be a positive integer"),
        ({"max_runs": 1.5}, "add_job: max_runs 1.5 must be a positive integer or None"),
        ({"next_run_time": "tomorrow"}, "add_job: next_run_time 'tomorrow' is not a date/time"),
        ({"jobstore": ""}, "add_job: jobstore '' must be an alias (a non-empty string)"),
        ({"executor": None}, "add_job: executor None must be an alias (a non-empty string)"),
        ({"seconds": -5}, "IntervalTrigger: seconds -5"),
        (
            {"secnds": 5},
            "IntervalTrigger: secnds 5 is not an argument of IntervalTrigger; did you mean 'seconds'? (known: weeks,",
        ),
        ({"timezone": "Nowhere/City"}, "IntervalTrigger: timezone 'Nowhere/City' is not a known time zone name"),
        ({"jitter": -1}, "IntervalTrigger: jitter -1"),
    ],
)
def test_bad_add_job_argument_is_one_clear_error_and_nothing_is_lost(kwargs: dict[str, Any], message: str) -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock())
    scheduler.start(paused=True)
    try:
        scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], id="keep")
        call: dict[str, Any] = {"func": tasks.add, "trigger": "interval", "args": [1, 2], "seconds": 5}
        call.update(kwargs)
        with pytest.raises(NbschedError) as info:
            scheduler.add_job(**call)
        assert str(info.value).startswith(message), str(info.value)
        assert isinstance(info.value, ValueError | TypeError)
        assert [job.id for job in scheduler.get_jobs()] == ["keep"]
    finally:
        scheduler.shutdown()


def test_unknown_jobstore_is_a_lookup_error_naming_it() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock(), executors={"default": {"type": "debug"}})
    scheduler.start(paused=True)
    try:
        scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], id="keep")
        with pytest.raises(PluginLookupError) as info:
            scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], jobstore="nope")
        assert str(info.value) == "add_job: jobstore 'nope' is not a job store of this scheduler (known: default)"
        assert isinstance(info.value, KeyError)  # APScheduler raises KeyError for an unknown job store
        assert [job.id for job in scheduler.get_jobs()] == ["keep"]
    finally:
        scheduler.shutdown()


def test_a_running_scheduler_takes_a_job_whose_executor_comes_later_and_skips_its_fires_until_then(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As APScheduler (tests/schedulers/test_apscheduler_parity.py); a fire before the executor exists is a
    # skipped run naming it, and the job is kept (APScheduler removes it).
    clock = ManualClock("2026-01-05 09:00")
    scheduler = BackgroundScheduler(timezone="UTC", clock=clock, executors={"default": {"type": "debug"}})
    scheduler.start()
    try:
        scheduler.add_job(tasks.record, "interval", seconds=5, args=["ran"], id="j", executor="later")
        assert 'names executor "later", which this scheduler does not have yet' in caplog.text
        clock.advance(5)
        skipped = [run for run in scheduler.runs(job_id="j") if run.status == "skipped"]
        assert [run.error_message for run in skipped] == ['No executor by the name "later" was found (known: default)']
        assert scheduler.get_job("j") is not None
        scheduler.add_executor("debug", "later")
        tasks.CALLS.clear()
        clock.advance(5)
        assert tasks.CALLS == ["ran"]
    finally:
        scheduler.shutdown()


def test_executor_created_on_first_use_is_accepted() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock(), executors={"default": {"type": "debug"}})
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], executor="notebook")
        assert job.executor == "notebook"
        assert "notebook" not in scheduler._executors  # created when a job first needs it, not before
    finally:
        scheduler.shutdown()


def test_modify_job_refuses_an_unknown_executor() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock(), executors={"default": {"type": "debug"}})
    scheduler.start(paused=True)
    try:
        scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], id="j")
        with pytest.raises(PluginLookupError) as info:
            scheduler.modify_job("j", executor="nope")
        assert str(info.value) == (
            "modify_job: executor 'nope' is not an executor of this scheduler (known: default, kernel, notebook)"
        )
        assert scheduler.get_job("j").executor == "default"
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"trigger": "sometimes"}, "reschedule_job: trigger 'sometimes' is unknown"),
        ({"trigger": 5}, "reschedule_job: trigger 5 must be a trigger instance or a trigger alias"),
        ({"trigger": IntervalTrigger(seconds=5), "seconds": 3}, "reschedule_job: seconds 3 is not an argument of"),
    ],
)
def test_reschedule_job_errors_name_reschedule_job(call: dict[str, Any], message: str) -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock())
    scheduler.start(paused=True)
    try:
        scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], id="j")
        with pytest.raises(JobArgumentError) as info:
            scheduler.reschedule_job("j", **call)
        assert str(info.value).startswith(message), str(info.value)
        assert str(scheduler.get_job("j").trigger) == "interval[0:00:05]"
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((print, "x"), "add_listener: mask 'x' must be an int (EVENT_* codes ORed together, e.g. EVENT_JOB_ERROR)"),
        ((print, None), "add_listener: mask None must be an int (EVENT_* codes ORed together, e.g. EVENT_JOB_ERROR)"),
        ((5,), "add_listener: callback 5 must be callable"),
    ],
)
def test_bad_listener_is_refused_before_it_is_added(args: tuple[Any, ...], message: str) -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock())
    with pytest.raises(InvalidArgumentError) as info:
        scheduler.add_listener(*args)
    assert str(info.value) == message
    assert scheduler._listeners == []
    scheduler.start(paused=True)
    scheduler.pause()  # events still dispatch: nothing broken was kept
    scheduler.resume()
    scheduler.shutdown()


def test_bad_modify_leaves_the_job_unchanged() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        scheduler.add_job(tasks.add, "interval", seconds=5, args=[1, 2], id="j", max_instances=2)
        with pytest.raises(JobArgumentError, match="modify_job: max_instances 'x' must be a positive integer"):
            scheduler.modify_job("j", args=[3, 4], max_instances="x")
        job = scheduler.get_job("j")
        assert job.args == (1, 2) and job.max_instances == 2
        with pytest.raises(JobArgumentError, match="modify_job: colour 'red' is not a modifiable attribute of Job"):
            scheduler.modify_job("j", colour="red")
    finally:
        scheduler.shutdown()


def test_naive_next_run_time_is_read_in_the_trigger_zone() -> None:
    scheduler = BackgroundScheduler(timezone="Europe/Paris")
    job = scheduler.add_job(tasks.record, "interval", hours=1, next_run_time="2026-07-01 08:00")
    assert job.next_run_time == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
