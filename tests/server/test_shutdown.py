"""The server stops without waiting for long runs: ``NbschedServer.shutdown_grace``, then cancelled."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from nbsched.server.app import DEFAULT_SHUTDOWN_GRACE, NbschedServer
from tests.server.conftest import server_config

pytestmark = pytest.mark.realtime


@pytest.fixture
def jp_server_config(nbsched_home: Path) -> Config:
    return server_config(run_scheduler=True, shutdown_grace=0.5)


def test_the_trait_is_documented() -> None:
    trait = NbschedServer.class_traits()["shutdown_grace"]
    assert trait.default_value == DEFAULT_SHUTDOWN_GRACE
    assert "nbsched serve --grace" in trait.help and trait.metadata.get("config") is True


async def _wait_for_status(api: Any, job_id: str, status: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, page = await api("GET", "runs", params={"job_id": job_id})
        if page["runs"] and page["runs"][0]["status"] == status:
            return dict(page["runs"][0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status} run of {job_id}")


async def test_stopping_waits_shutdown_grace_then_cancels_the_runs_left(api, jp_serverapp, nbsched_home):
    service = jp_serverapp.web_app.settings["nbsched_service"]
    assert service.shutdown_grace == 0.5
    body = {
        "id": "slow",
        "task": {"type": "function", "ref": "tests.tasks:sleep", "args": [4]},
        "trigger": {"every": "1h"},
    }
    assert (await api("POST", "jobs", body=body))[0] == 201
    assert (await api("POST", "jobs", "slow", "run"))[0] == 200
    run = await _wait_for_status(api, "slow", "running")

    started = time.monotonic()
    cancelled = await asyncio.get_running_loop().run_in_executor(None, service.stop)
    took = time.monotonic() - started
    assert 0.5 <= took < 3, took  # the grace period, not the 4 s of the run
    assert [r.id for r in cancelled] == [run["id"]]

    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    await asyncio.sleep(4.5)  # the abandoned thread ends meanwhile: its outcome does not replace the cancellation
    store = SQLAlchemyJobStore(url=f"sqlite:///{nbsched_home / 'nbsched.db'}")
    try:
        recorded = store.get_run(run["id"])
    finally:
        store.shutdown()
    assert recorded is not None
    assert (recorded.status, recorded.error_message) == (
        "cancelled",
        "the Jupyter server stopped before the run finished (shutdown_grace 0.5 s)",
    )
