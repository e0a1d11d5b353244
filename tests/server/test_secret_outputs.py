"""The server runs jobs with secret parameters: no REST response, no output file served, no file of the run and
no line of the server's log holds a secret value; ``***`` stands where it was (issue 15, point 1)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from tests.leaky import files_holding, holding, leaky_notebook
from tests.server.conftest import server_config

pytestmark = pytest.mark.realtime

TOKEN = "hunter2-rest-token"  # secret by its name
REGION = "Atlantis-rest-77"  # listed in secret_parameters
PASSWORD = "s3cret-rest-pass"  # a function's keyword argument, secret by its name
TAGGED = "tagged-rest-value"  # a function's keyword argument marked by the tag secret:message


@pytest.fixture
def jp_server_config(nbsched_home: Path) -> Config:
    return server_config(run_scheduler=True)


async def _wait_finished(api: Any, job_id: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 90
    while asyncio.get_running_loop().time() < deadline:
        _, page = await api("GET", "runs", params={"job_id": job_id})
        if page["runs"] and page["runs"][0]["finished_at"]:
            return page["runs"][0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"the run of {job_id} did not finish")


async def test_no_response_output_file_or_log_line_holds_a_secret(
    api: Any, jp_fetch: Any, jp_root_dir: Path, nbsched_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secrets = (TOKEN, REGION, PASSWORD, TAGGED)
    leaky_notebook(jp_root_dir)
    seen = tmp_path / "seen.txt"
    notebook = {
        "id": "leaky",
        "task": {
            "type": "notebook",
            "path": "leaky.ipynb",
            "parameters": {"api_token": TOKEN, "region": REGION, "seen": str(seen)},
            "secret_parameters": ["region"],
        },
        "trigger": {"every": "1h"},
    }
    named = {"id": "named", "task": {"type": "function", "ref": "tests.leaky:login", "kwargs": {"password": PASSWORD}}}
    tagged = {
        "id": "tagged",
        "task": {"type": "function", "ref": "tests.leaky:fail_with", "kwargs": {"message": TAGGED}},
        "tags": ["secret:message"],
    }
    responses: list[Any] = []
    for body in (notebook, {**named, "trigger": {"every": "1h"}}, {**tagged, "trigger": {"every": "1h"}}):
        status, job = await api("POST", "jobs", body=body)
        assert status == 201, job
        responses.append(job)
        status, reply = await api("POST", "jobs", body["id"], "run")
        assert status == 200, reply
        responses.append(reply)
    runs = {job_id: await _wait_finished(api, job_id) for job_id in ("leaky", "named", "tagged")}
    assert seen.read_text() == f"{TOKEN}|{REGION}"  # the kernel got the real values

    assert runs["leaky"]["error_message"] == "cannot log in with *** for ***"
    assert runs["named"]["error_message"] == runs["tagged"]["error_message"] == "login with *** refused"
    for path in (("jobs",), ("runs",), ("health",)):
        responses.append((await api("GET", *path))[1])
    for job_id, run in runs.items():
        responses.append((await api("GET", "jobs", job_id))[1])
        responses.append((await api("GET", "runs", run["id"]))[1])
    run = runs["leaky"]
    assert set(run["outputs"]) >= {"ipynb", "html", "stdout", "stderr", "kernel_log"}
    outputs = {}
    for kind in run["outputs"]:
        response = await jp_fetch("nbsched", "api", "runs", run["id"], "output", kind)
        assert response.code == 200
        outputs[kind] = response.body.decode()
    assert outputs["stdout"] == "using *** in ***\n"
    assert "cannot log in with *** for ***" in outputs["html"]
    assert [holding(response, *secrets) for response in [*responses, *outputs.values()]] == [[]] * (
        len(responses) + len(outputs)
    )

    assert files_holding(nbsched_home / "runs", *secrets) == {}
    lines = [logging.Formatter().format(record) for record in caplog.records]
    assert [line for line in lines if holding(line, *secrets)] == []
    assert any("failed: ValueError in cell 4: cannot log in with *** for ***" in line for line in lines), lines
    assert sum("RuntimeError: login with *** refused" in line for line in lines) == 2, lines
