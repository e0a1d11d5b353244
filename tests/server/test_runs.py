"""Runs over REST: listing with filters and paging, one run, cancel, delete, output files; and the server's
own scheduler running a job whose run then shows up."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from nbsched.runs import Run, RunStatus
from tests.server.conftest import server_config

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["nbsched_service"]


def add_runs(jp_serverapp: Any) -> list[Run]:
    """Nine runs of two jobs, an hour apart, in various statuses."""
    store = service(jp_serverapp).store
    statuses = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SUCCEEDED, RunStatus.RUNNING, RunStatus.SCHEDULED]
    runs = []
    for index in range(9):
        run = Run(
            job_id="a" if index % 2 == 0 else "b",
            scheduled_at=T0 + timedelta(hours=index),
            status=statuses[index % len(statuses)],
        )
        if run.status not in (RunStatus.SCHEDULED,):
            run.started_at = run.scheduled_at + timedelta(seconds=1)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            run.finished_at = run.scheduled_at + timedelta(seconds=31)
        if run.status is RunStatus.FAILED:
            run.error_type, run.error_message, run.traceback = "ValueError", "bad data", "Traceback ..."
            run.warnings = ["html not written: disk full"]
        assert store.add_run(run)
        store.update_run(run)
        runs.append(run)
    return runs


def add_outputs(jp_serverapp: Any, run: Run, home: Path, **files: str) -> Run:
    folder = home / "runs" / run.job_id / run.id
    folder.mkdir(parents=True)
    for kind, text in files.items():
        name = {"ipynb": "report.ipynb", "html": "report.html", "stdout": "stdout.txt"}[kind]
        (folder / name).write_text(text, encoding="utf-8")
        run.outputs[kind] = str(folder / name)
    service(jp_serverapp).store.update_run(run)
    return run


async def test_list_runs_newest_first_with_filters_and_paging(api, jp_serverapp):
    runs = add_runs(jp_serverapp)
    newest_first = [run.id for run in reversed(runs)]
    status, page = await api("GET", "runs")
    assert status == 200
    assert [run["id"] for run in page["runs"]] == newest_first
    assert (page["offset"], page["limit"], page["has_more"]) == (0, 100, False)

    status, page = await api("GET", "runs", params={"limit": 4, "offset": 0})
    assert [run["id"] for run in page["runs"]] == newest_first[:4] and page["has_more"] is True
    status, page = await api("GET", "runs", params={"limit": 4, "offset": 4})
    assert [run["id"] for run in page["runs"]] == newest_first[4:8] and page["has_more"] is True
    status, page = await api("GET", "runs", params={"limit": 4, "offset": 8})
    assert [run["id"] for run in page["runs"]] == newest_first[8:] and page["has_more"] is False

    status, page = await api("GET", "runs", params={"job_id": "b"})
    assert [run["id"] for run in page["runs"]] == [run.id for run in reversed(runs) if run.job_id == "b"]
    status, page = await api("GET", "runs", params={"status": "failed,running"})
    assert {run["status"] for run in page["runs"]} == {"failed", "running"}
    assert len(page["runs"]) == 4
    since, until = (T0 + timedelta(hours=2)).isoformat(), (T0 + timedelta(hours=5)).isoformat()
    status, page = await api("GET", "runs", params={"since": since, "until": until})
    assert [run["id"] for run in page["runs"]] == [runs[4].id, runs[3].id, runs[2].id]


async def test_status_filter_may_repeat(api, jp_serverapp):
    add_runs(jp_serverapp)
    status, page = await api("GET", "runs", params=[("status", "failed"), ("status", "scheduled")])
    assert status == 200
    assert {run["status"] for run in page["runs"]} == {"failed", "scheduled"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"status": "exploded"},
            "RunQuery: status 'exploded' is not a run status (known: scheduled, running, succeeded, failed, timed_out, cancelled, lost, skipped)",
        ),
        ({"limit": "0"}, "RunQuery: limit '0' must be a whole number from 1 to 1000"),
        ({"limit": "many"}, "RunQuery: limit 'many' must be a whole number from 1 to 1000"),
        ({"offset": "-1"}, "RunQuery: offset '-1' must be a whole number from 0 to 1000000000000"),
        ({"since": "yesterday"}, "RunQuery: since 'yesterday' is not a date/time (expected e.g. '2026-12-01 08:00')"),
        (
            {"sort": "asc"},
            "RunQuery: parameter 'sort' is not known (known: job_id, limit, offset, since, status, until)",
        ),
    ],
)
async def test_bad_run_queries_are_400(api, params, message):
    status, reply = await api("GET", "runs", params=params)
    assert (status, reply) == (400, {"message": message, "error": "InvalidArgumentError"})


async def test_get_run(api, jp_serverapp):
    runs = add_runs(jp_serverapp)
    failed = runs[1]
    status, body = await api("GET", "runs", failed.id)
    assert status == 200
    assert body == {
        "id": failed.id,
        "job_id": "b",
        "scheduled_at": failed.scheduled_at.isoformat(),
        "status": "failed",
        "attempt": 1,
        "started_at": (failed.scheduled_at + timedelta(seconds=1)).isoformat(),
        "finished_at": (failed.scheduled_at + timedelta(seconds=31)).isoformat(),
        "duration": 30.0,
        "worker": None,
        "heartbeat_at": None,
        "error_type": "ValueError",
        "error_message": "bad data",
        "traceback": "Traceback ...",
        "progress": None,
        "cell_index": None,
        "outputs": [],
        "input_sha256": None,
        "warnings": ["html not written: disk full"],
    }


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ("runs", "nope")),
        ("DELETE", ("runs", "nope")),
        ("POST", ("runs", "nope", "cancel")),
        ("GET", ("runs", "nope", "output", "html")),
    ],
)
async def test_unknown_run_is_404(api, method, parts):
    status, reply = await api(method, *parts)
    assert (status, reply) == (404, {"message": "No run by the id of nope was found", "error": "RunLookupError"})


async def test_cancel_marks_active_runs_and_refuses_finished_ones(api, jp_serverapp):
    runs = add_runs(jp_serverapp)
    running, scheduled, succeeded = runs[3], runs[4], runs[0]
    for run in (running, scheduled):
        status, body = await api("POST", "runs", run.id, "cancel")
        assert status == 200
        assert body["status"] == "cancelled"
        assert body["error_type"] == "Cancelled"
        assert body["error_message"] == "cancelled through the REST API"
        assert datetime.fromisoformat(body["finished_at"]) <= datetime.now(UTC)
        assert service(jp_serverapp).store.get_run(run.id).status is RunStatus.CANCELLED
    status, body = await api("POST", "runs", succeeded.id, "cancel")
    assert (status, body) == (
        409,
        {"message": f"Run {succeeded.id} has already finished (succeeded)", "error": "RunFinishedError"},
    )


async def test_delete_removes_finished_run_and_its_folder(api, jp_serverapp, nbsched_home):
    runs = add_runs(jp_serverapp)
    done = add_outputs(jp_serverapp, runs[0], nbsched_home, html="<p>hi</p>")
    folder = nbsched_home / "runs" / done.job_id / done.id
    status, body = await api("DELETE", "runs", done.id)
    assert (status, body) == (204, None)
    assert not folder.exists()
    assert (await api("GET", "runs", done.id))[0] == 404
    running = runs[3]
    status, body = await api("DELETE", "runs", running.id)
    assert (status, body) == (
        409,
        {"message": f"Run {running.id} is running: cancel it before deleting it", "error": "Conflict"},
    )


async def test_output_files_are_streamed_with_their_content_type(jp_fetch, jp_serverapp, nbsched_home):
    run = add_runs(jp_serverapp)[0]
    notebook = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    big = "x" * 200_000  # several chunks
    add_outputs(
        jp_serverapp, run, nbsched_home, ipynb=notebook, html=f"<html><body>{big}</body></html>", stdout="hello\n"
    )

    response = await jp_fetch("nbsched", "api", "runs", run.id, "output", "ipynb")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/x-ipynb+json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="report.ipynb"'
    assert response.body.decode() == notebook

    response = await jp_fetch("nbsched", "api", "runs", run.id, "output", "html")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Disposition" not in response.headers
    assert response.headers["Content-Security-Policy"].startswith("sandbox allow-scripts")
    assert response.body.decode() == f"<html><body>{big}</body></html>"

    response = await jp_fetch("nbsched", "api", "runs", run.id, "output", "html", params={"download": "1"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="report.html"'
    response = await jp_fetch("nbsched", "api", "runs", run.id, "output", "stdout")
    assert (response.headers["Content-Type"], response.body) == ("text/plain; charset=utf-8", b"hello\n")


async def test_missing_outputs_are_404(api, jp_fetch, jp_serverapp, nbsched_home):
    run = add_outputs(jp_serverapp, add_runs(jp_serverapp)[0], nbsched_home, html="<p/>")
    status, reply = await api("GET", "runs", run.id, "output", "ipynb")
    assert (status, reply) == (404, {"message": f"Run {run.id} has no ipynb output", "error": "OutputLookupError"})
    Path(run.outputs["html"]).unlink()
    status, reply = await api("GET", "runs", run.id, "output", "html")
    assert (status, reply) == (
        404,
        {"message": f"The html output of run {run.id} is not there (yet)", "error": "OutputLookupError"},
    )
    status, reply = await api("GET", "runs", run.id, "output", "bogus")
    assert (status, reply) == (
        404,
        {
            "message": "RunOutput: kind 'bogus' is not an output kind (known: ipynb, html, stdout, stderr, kernel_log)",
            "error": "OutputLookupError",
        },
    )


@pytest.mark.parametrize("where", ["absolute", "traversal", "symlink"])
async def test_outputs_outside_the_runs_folder_are_refused(api, jp_serverapp, nbsched_home, tmp_path, where):
    secret = tmp_path / "secret.html"
    secret.write_text("<p>secret</p>", encoding="utf-8")
    run = add_runs(jp_serverapp)[0]
    folder = nbsched_home / "runs" / run.job_id / run.id
    folder.mkdir(parents=True)
    if where == "absolute":
        run.outputs["html"] = str(secret)
    elif where == "traversal":
        run.outputs["html"] = str(folder / ".." / ".." / ".." / ".." / "secret.html")
        assert Path(os.path.normpath(run.outputs["html"])) == secret
    else:
        (folder / "report.html").symlink_to(secret)
        run.outputs["html"] = str(folder / "report.html")
    service(jp_serverapp).store.update_run(run)
    status, reply = await api("GET", "runs", run.id, "output", "html")
    assert (status, reply) == (
        403,
        {"message": f"The html output of run {run.id} is outside the runs folder; refused", "error": "Forbidden"},
    )


# ------------------------------------------------------------------------------------- the server runs jobs


@pytest.fixture
def jp_server_config(nbsched_home: Path) -> Config:
    return server_config(run_scheduler=True)


async def test_server_scheduler_runs_a_function_job_and_records_the_run(api, tmp_path):
    marker = tmp_path / "marker.txt"
    status, health = await api("GET", "health")
    assert health["scheduler"] == {**health["scheduler"], "state": "running", "runs_jobs": True}
    status, job = await api(
        "POST",
        "jobs",
        body={
            "id": "marker",
            "task": {"type": "function", "ref": "tests.server.jobs:write_marker", "args": [str(marker)]},
            "trigger": {"every": "1h"},
        },
    )
    assert status == 201
    assert not marker.exists()
    status, job = await api("POST", "jobs", "marker", "run")
    assert status == 200
    deadline = asyncio.get_running_loop().time() + 15
    runs: list[dict[str, Any]] = []
    while asyncio.get_running_loop().time() < deadline:
        status, page = await api("GET", "runs", params={"job_id": "marker"})
        runs = page["runs"]
        if runs and runs[0]["status"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    assert marker.read_text(encoding="utf-8") == "ran"
    assert [run["status"] for run in runs] == ["succeeded"]
    assert runs[0]["worker"].endswith(f":{os.getpid()}")  # this process: the server's own scheduler
    status, job = await api("GET", "jobs", "marker")
    assert job["run_count"] == 1
    assert job["last_run"]["id"] == runs[0]["id"] and job["last_run"]["status"] == "succeeded"
    next_run = datetime.fromisoformat(job["next_run_time"])
    assert timedelta(minutes=59) < next_run - datetime.now(UTC) <= timedelta(hours=1)
