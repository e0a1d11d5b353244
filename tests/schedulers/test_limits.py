"""Values that would make a job unrunnable are refused when it is added (nbsched.limits), and retries never
overflow the backoff arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nbsched.exceptions import InvalidArgumentError, JobArgumentError, TriggerArgumentError
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CENTURY = 100 * 365.25 * 86400


def test_a_hundred_retries_with_backoff_run_to_the_end() -> None:
    # Doubling from 1 s, the wait before attempt 40 is 2**38 s (8,700 years): it used to overflow the date
    # arithmetic in the worker thread (OverflowError), leaving the run stuck. The wait is capped at 100 years.
    h = Harness("background", start="2026-01-05 09:00")
    try:
        h.scheduler.add_job(
            tasks.fail, "date", run_date=T0 + timedelta(seconds=1), retries=100, retry_backoff=1, id="f"
        )
        h.start()
        h.advance(1)
        for attempt in range(1, 101):
            (run,) = h.scheduler.runs(job_id="f")
            assert (run.status, run.attempt) == (RunStatus.SCHEDULED, attempt + 1), attempt
            h.advance(min(2.0 ** (attempt - 1), CENTURY))
        (run,) = h.scheduler.runs(job_id="f")
        assert (run.status, run.attempt) == (RunStatus.FAILED, 101)
    finally:
        h.shutdown()


def test_retry_delay_is_capped_at_any_attempt() -> None:
    from nbsched.limits import MAX_SECONDS, retry_delay

    assert MAX_SECONDS == CENTURY
    assert [retry_delay(30, attempt) for attempt in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(0.0, 1025) == 0.0  # 0.0 * 2 ** 1024 raised OverflowError
    assert retry_delay(30, 1025) == retry_delay(30, 10**9) == CENTURY


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": 101}, "add_job: retries 101 must be a non-negative integer of at most 100"),
        ({"retries": 2000}, "add_job: retries 2000 must be a non-negative integer of at most 100"),
        (
            {"retry_backoff": 1e300},
            "add_job: retry_backoff 1e+300 is larger than the limit of 3155760000 seconds (100 years)",
        ),
        (
            {"retry_backoff": float("inf")},
            "add_job: retry_backoff inf is larger than the limit of 3155760000 seconds (100 years)",
        ),
        ({"retry_backoff": float("nan")}, "add_job: retry_backoff nan must be a non-negative number of seconds"),
        (
            {"misfire_grace_time": 1e300},
            "add_job: misfire_grace_time 1e+300 is larger than the limit of 3155760000 seconds (100 years)",
        ),
        (
            {"misfire_grace_time": float("inf")},
            "add_job: misfire_grace_time inf is larger than the limit of 3155760000 seconds (100 years)",
        ),
        (
            {"misfire_grace_time": float("nan")},
            "add_job: misfire_grace_time nan must be a positive number of seconds or None",
        ),
        (
            {"jitter": 1e300},
            "CronTrigger: jitter 1e+300 is larger than the limit of 3155760000 seconds (100 years)",
        ),
        ({"jitter": float("nan")}, "CronTrigger: jitter nan must be a non-negative number of seconds"),
        (
            {"id": "x" * 129},
            "add_job: id 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... is longer than 128 characters",
        ),
        ({"id": "a\nb"}, "add_job: id 'a\\nb' contains a control character"),
        ({"id": "a\x00b"}, "add_job: id 'a\\x00b' contains a NUL character"),
        ({"id": "\ud800"}, "add_job: id '\\ud800' contains a lone surrogate (a character UTF-8 cannot encode)"),
        ({"name": "a\x00b"}, "add_job: name 'a\\x00b' contains a NUL character"),
        ({"tags": ["\udfff"]}, "add_job: tags '\\udfff' contains a lone surrogate (a character UTF-8 cannot encode)"),
    ],
)
def test_unrunnable_options_are_refused_at_add(options, message) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises((JobArgumentError, TriggerArgumentError)) as caught:
        scheduler.add_job(tasks.record, "cron", hour=9, **options)
    assert str(caught.value) == message
    assert scheduler.get_jobs() == []


@pytest.mark.parametrize(
    "job_id",
    ["..", ".", "a/b", "a\\b", "é" * 128],  # 128 two-byte characters: 256 bytes, one more than a folder name takes
)
def test_task_job_ids_must_be_folder_names(tmp_path, job_id) -> None:
    from nbsched.notebooks import Cell

    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises(JobArgumentError) as caught:
        scheduler.add_job(Cell("print(1)", root=str(tmp_path)), "interval", hours=1, id=job_id)
    assert caught.value.field == "id"
    assert "notebook and cell runs keep their outputs in a folder named so" in str(caught.value)


def test_a_trigger_that_never_fires_is_refused_at_add() -> None:
    from nbsched.clock import ManualClock
    from nbsched.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock("2026-01-05 09:00"))
    with pytest.raises(JobArgumentError) as caught:
        scheduler.add_job(tasks.record, CronTrigger.from_posix("0 0 30 2 *", timezone="UTC"), id="feb30")
    assert str(caught.value) == (
        "add_job: trigger <CronTrigger (posix='0 0 30 2 *', timezone='UTC')> "
        "will never fire (no fire time after 2026-01-05 09:00:00+00:00)"
    )
    with pytest.raises(JobArgumentError):
        scheduler.add_job(tasks.record, "cron", hour=1, end_date="2025-01-01", id="ended")
    scheduler.add_job(tasks.record, CronTrigger.from_posix("0 0 30 2 *"), id="paused", next_run_time=None)
    assert [job.id for job in scheduler.get_jobs()] == ["paused"]  # added paused on purpose: allowed


def test_a_jittered_fire_time_near_the_end_of_time_does_not_overflow() -> None:
    from nbsched.triggers.base import apply_jitter

    late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert late <= apply_jitter(late, CENTURY) <= datetime.max.replace(tzinfo=UTC)


def _notebook(tmp_path):
    import nbformat

    cell = nbformat.v4.new_code_cell('region = "EU"\nquery = ""\n' + "".join(f"p{i} = 0\n" for i in range(10)))
    cell.metadata["tags"] = ["parameters"]
    path = tmp_path / "report.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    return path


def test_notebook_parameters_a_notebook_cannot_hold_are_refused(tmp_path) -> None:
    from nbsched.notebooks import Notebook

    path = _notebook(tmp_path)
    with pytest.raises(JobArgumentError) as caught:
        Notebook(str(path), parameters={"region": ["ok", "\ud800"]}, root=str(tmp_path))
    assert str(caught.value) == (
        "Notebook: parameters['region'] ['ok', '\\ud800'] cannot be passed: contains a lone surrogate "
        "(a character UTF-8 cannot encode)"
    )
    with pytest.raises(InvalidArgumentError) as caught:
        Notebook(str(path), parameters={"region": {"a", "b"}}, root=str(tmp_path))
    assert caught.value.field == "parameters['region']"


def test_a_notebook_jobs_default_name_does_not_embed_long_values(tmp_path) -> None:
    from nbsched.notebooks import Notebook

    scheduler = BackgroundScheduler(timezone="UTC")
    path, root = str(_notebook(tmp_path)), str(tmp_path)
    task = Notebook(path, parameters={"region": "EU", "query": "select " + "x, " * 10_000}, root=root)
    job = scheduler.add_job(task, "interval", hours=1)
    shown = job.name.removeprefix("report.ipynb(region='EU', query=").removesuffix(")")
    assert shown.startswith("'select x, x, ") and shown.endswith("…") and len(shown) == 40
    many = Notebook(path, parameters={f"p{i}": "v" * 39 for i in range(10)}, root=root)
    assert len(many.describe()) == 200 and many.describe().endswith("…")


@pytest.mark.parametrize("grace", [float("inf"), float("nan"), 1e300])
def test_a_job_default_grace_time_has_the_same_limit(grace) -> None:
    from nbsched.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        BackgroundScheduler(timezone="UTC", job_defaults={"misfire_grace_time": grace})
    assert caught.value.field == "job_defaults.misfire_grace_time"


@pytest.mark.parametrize("field", ["timeout", "cell_timeout", "startup_timeout"])
def test_notebook_timeouts_have_the_same_limit(tmp_path, field) -> None:
    from nbsched.notebooks import Notebook

    with pytest.raises(JobArgumentError) as caught:
        Notebook(str(_notebook(tmp_path)), root=str(tmp_path), **{field: 1e300})
    assert str(caught.value) == f"Notebook: {field} 1e+300 is larger than the limit of 3155760000 seconds (100 years)"
