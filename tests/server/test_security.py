"""Authentication and authorization: every endpoint refuses callers without a valid token; the ``execute``
permission guards function jobs and running jobs on demand; the store's files are the owner's only."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from traitlets.config import Config

from nbsched.server.handlers import default_handlers
from tests.server.conftest import server_config

METHODS = ("get", "post", "patch", "delete")


def endpoints() -> list[tuple[str, str]]:
    """(method, URL path below the base URL) of every handler method, with sample ids."""
    out = []
    for _, handler in default_handlers:
        path = handler.openapi_path.format(job_id="some-job", run_id="some-run", kind="html").lstrip("/")
        out.extend((method.upper(), path) for method in METHODS if method in vars(handler))
    return out


ENDPOINTS = endpoints()


def test_the_endpoint_list_is_complete():
    assert len(ENDPOINTS) == 15
    assert ("POST", "nbsched/api/jobs/some-job/run") in ENDPOINTS


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
@pytest.mark.parametrize("token", ["none", "wrong"])
async def test_requests_without_a_valid_token_are_refused(jp_fetch, jp_serverapp, tmp_path, method, path, token):
    marker = tmp_path / "marker.txt"
    body: Any = None
    if method in ("POST", "PATCH"):
        # The most dangerous request each could be: a function job that would write the marker.
        body = json.dumps(
            {
                "id": "some-job",
                "task": {"type": "function", "ref": "tests.server.jobs:write_marker", "args": [str(marker)]},
                "trigger": {"every": "1s"},
            }
        )
    headers = {"Authorization": "" if token == "none" else "token not-the-token"}
    response = await jp_fetch(
        path, method=method, body=body, headers=headers, raise_error=False, allow_nonstandard_methods=True
    )
    assert response.code in (401, 403)
    assert set(json.loads(response.body)) == {"message", "error"}  # refused ("Forbidden", or the XSRF check)
    assert not marker.exists()
    scheduler = jp_serverapp.web_app.settings["nbsched_service"].scheduler
    assert scheduler.get_jobs() == []


async def test_the_token_as_query_parameter_is_accepted(jp_fetch, jp_serverapp):
    token = jp_serverapp.identity_provider.token
    response = await jp_fetch("nbsched", "api", "health", headers={"Authorization": ""}, params={"token": token})
    assert response.code == 200


# ------------------------------------------------------------------------------------------- authorization


class DenyExecute(Authorizer):
    """Allows reading and writing, refuses ``execute`` (like a deployment that does not let users run code)."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action != "execute"


class ReadOnly(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action == "read"


@pytest.fixture
def jp_server_config(nbsched_home: Path, request: pytest.FixtureRequest) -> Config:
    config = server_config(run_scheduler=False)
    config.ServerApp.authorizer_class = getattr(request, "param", DenyExecute)
    return config


FUNCTION_JOB = {"id": "f", "task": {"type": "function", "ref": "tests.tasks:record"}, "trigger": {"every": "1h"}}
NOTEBOOK_JOB = {"id": "n", "task": {"type": "notebook", "path": "report.ipynb"}, "trigger": {"every": "1h"}}


async def test_without_execute_function_jobs_are_refused_but_notebook_jobs_allowed(api, notebook):
    status, reply = await api("POST", "jobs", body=FUNCTION_JOB)
    assert (status, reply) == (
        403,
        {
            "message": "User is not authorized to execute on resource: nbsched (function jobs run arbitrary code).",
            "error": "Forbidden",
        },
    )
    status, job = await api("POST", "jobs", body=NOTEBOOK_JOB)
    assert (status, job["id"]) == (201, "n")
    status, reply = await api("PATCH", "jobs", "n", body={"task": {"type": "function", "ref": "tests.tasks:record"}})
    assert status == 403
    status, job = await api("PATCH", "jobs", "n", body={"name": "renamed"})
    assert (status, job["name"]) == (200, "renamed")
    status, reply = await api("POST", "jobs", "n", "run")
    assert (status, reply) == (
        403,
        {"message": "User is not authorized to execute on resource: nbsched.", "error": "HTTPError"},
    )
    status, listing = await api("GET", "jobs")
    assert [job["id"] for job in listing["jobs"]] == ["n"]


async def test_function_refs_are_not_imported_before_execute_is_checked(api):
    import sys

    body = {**FUNCTION_JOB, "task": {"type": "function", "ref": "tests.server.never_imported:func"}}
    status, _ = await api("POST", "jobs", body=body)
    assert status == 403
    assert "tests.server.never_imported" not in sys.modules


@pytest.mark.parametrize("jp_server_config", [ReadOnly], indirect=True)
async def test_read_only_users_can_read_but_not_change(api, notebook):
    assert (await api("GET", "jobs"))[0] == 200
    assert (await api("GET", "health"))[0] == 200
    status, reply = await api("POST", "jobs", body=NOTEBOOK_JOB)
    assert (status, reply) == (
        403,
        {"message": "User is not authorized to write on resource: nbsched.", "error": "HTTPError"},
    )
    assert (await api("DELETE", "jobs", "n"))[0] == 403


# ------------------------------------------------------------------------------------------------ the store


async def test_store_files_are_owner_only(api, nbsched_home):
    assert (await api("GET", "health"))[0] == 200
    assert stat.S_IMODE(nbsched_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((nbsched_home / "nbsched.db").stat().st_mode) == 0o600


def test_store_url_hides_the_password():
    from types import SimpleNamespace

    from sqlalchemy import make_url

    from nbsched.server.app import NbschedService

    service = NbschedService(Path("/"), allow_hidden=False, runs_jobs=False)
    service.store = SimpleNamespace(
        engine=SimpleNamespace(url=make_url("postgresql+psycopg://user:hunter2@db/nbsched"))
    )  # type: ignore[assignment]
    assert service.store_url == "postgresql+psycopg://user:***@db/nbsched"


@pytest.fixture
def broken_store(monkeypatch: pytest.MonkeyPatch) -> None:
    import nbsched.server.app as app

    def fail(self: Any, db_url: str | None) -> None:
        raise RuntimeError("connection to db refused")

    monkeypatch.setattr(app.NbschedService, "start", fail)


async def test_a_store_that_cannot_be_opened_is_reported_not_fatal(broken_store, api):
    status, health = await api("GET", "health")
    assert status == 200
    assert health["ok"] is False
    assert health["error"] == "the job store or the scheduler could not be started: connection to db refused"
    assert health["scheduler"]["state"] == "stopped"
    status, reply = await api("GET", "jobs")
    assert (status, reply) == (
        503,
        {
            "message": "nbsched is not available: the job store or the scheduler could not be started: connection to db refused",
            "error": "ServiceUnavailable",
        },
    )
