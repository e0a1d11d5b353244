"""A failing function job with a secret keyword argument: its run record and every log line (with the
traceback) show ``***`` where the value was, in threads, processes and on an event loop; the job gets the real
value (issue 15, point 1)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from nbsched.events import EVENT_JOB_ERROR
from nbsched.schedulers.asyncio import AsyncIOScheduler
from nbsched.schedulers.background import BackgroundScheduler
from tests.executors.test_executors import Outcomes
from tests.leaky import holding

pytestmark = pytest.mark.realtime

TAGGED = "tagged-5ecret-value"  # marked by the job's tag secret:message
NAMED = "named-5ecret-value"  # secret by its parameter's name (password)


def _add_jobs(s: Any) -> None:
    s.add_job("tests.leaky:fail_with", "date", kwargs={"message": TAGGED}, tags=["secret:message"], id="tagged")
    s.add_job("tests.leaky:login", "date", kwargs={"password": NAMED}, id="named")


def _check(s: Any, caplog: pytest.LogCaptureFixture, captured: str) -> None:
    for job_id in ("tagged", "named"):
        [run] = s.runs(job_id=job_id)
        assert run.error_message == "login with *** refused", job_id
        assert holding(json.dumps(run.to_dict()), TAGGED, NAMED) == [], job_id
    # the job itself got the real value: it printed it (captured here, outside nbsched) and failed with it
    assert f"printing {TAGGED}" in captured and f"printing {NAMED}" in captured
    lines = [logging.Formatter().format(record) for record in caplog.records]
    assert [line for line in lines if holding(line, TAGGED, NAMED)] == []
    failures = [line for line in lines if "raised an exception" in line]
    assert len(failures) == 2, lines
    for line in failures:
        assert "RuntimeError: login with *** refused" in line and "KeyError: '***'" in line, line


def test_thread_pool_job_tracebacks_and_records_are_masked(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    outcomes = Outcomes()
    s = BackgroundScheduler(timezone="UTC")
    s.add_listener(outcomes, EVENT_JOB_ERROR)
    s.start()
    try:
        _add_jobs(s)
        outcomes.wait(2)
        _check(s, caplog, capfd.readouterr().out)
    finally:
        s.shutdown()


@pytest.mark.slow
def test_process_pool_job_tracebacks_and_records_are_masked(capfd: pytest.CaptureFixture[str]) -> None:
    outcomes = Outcomes()
    s = BackgroundScheduler(timezone="UTC", executors={"default": {"type": "processpool", "max_workers": 1}})
    s.add_listener(outcomes, EVENT_JOB_ERROR)
    s.start()
    try:
        _add_jobs(s)
        outcomes.wait(2, timeout=60)
        for job_id in ("tagged", "named"):
            [run] = s.runs(job_id=job_id)
            assert run.error_message == "login with *** refused", job_id
            assert holding(json.dumps(run.to_dict()), TAGGED, NAMED) == [], job_id
    finally:
        s.shutdown()
    out, err = capfd.readouterr()
    assert f"printing {TAGGED}" in out and f"printing {NAMED}" in out  # the jobs got the real values
    # The worker process logs the traceback itself, to its stderr (it has no logging set up): masked there too.
    logged = "\n".join(line for line in err.splitlines() if not line.startswith("stderr "))
    assert logged.count("RuntimeError: login with *** refused") == 2, err
    assert holding(logged, TAGGED, NAMED) == [], err


def test_coroutine_and_asyncio_executor_tracebacks_are_masked(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> None:
        outcomes = Outcomes()
        s = AsyncIOScheduler(timezone="UTC")
        s.add_listener(outcomes, EVENT_JOB_ERROR)
        s.start()
        try:
            _add_jobs(s)
            await asyncio.get_running_loop().run_in_executor(None, outcomes.wait, 2)
            _check(s, caplog, capfd.readouterr().out)
        finally:
            s.shutdown()

    asyncio.run(main())
