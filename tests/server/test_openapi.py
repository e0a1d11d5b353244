"""openapi.yaml against the code: a valid OpenAPI 3.1 document; every route documented with the methods it
serves and every documented path served; the response shapes of ``schemas.py`` the documented ones; and one
pass over every endpoint whose responses (like every response of these tests) validate against the document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from openapi_spec_validator import validate

from nbsched.runs import Run, RunStatus
from nbsched.server import parameters, schemas
from nbsched.server.handlers import default_handlers
from tests.server import openapi_check
from tests.server.openapi_check import spec

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def test_the_document_is_valid_openapi_3_1():
    document = spec()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_with_the_methods_it_serves():
    for pattern, handler in default_handlers:
        path = handler.openapi_path
        assert path in spec()["paths"], f"{handler.__name__} ({path}) is not documented"
        served = {method for method in HTTP_METHODS if method in vars(handler)}
        documented = {method for method in spec()["paths"][path] if method in HTTP_METHODS}
        assert served == documented, f"{path}: serves {sorted(served)}, documents {sorted(documented)}"
        # The route's pattern serves the documented template (sample values for its parameters).
        sample = re.sub(r"\{[a-z_]+\}", "x-1", path.replace("{kind}", "html"))
        assert re.fullmatch(pattern, sample), f"{pattern} does not serve {path}"


def test_every_documented_path_is_served():
    served = {handler.openapi_path for _, handler in default_handlers}
    assert set(spec()["paths"]) == served


@pytest.mark.parametrize(
    ("shape", "schema"),
    [
        (schemas.ErrorOut, "Error"),
        (schemas.JobOut, "Job"),
        (schemas.LastRunOut, "LastRun"),
        (schemas.JobListOut, "JobList"),
        (schemas.BrokenJobOut, "BrokenJob"),
        (schemas.RunOut, "Run"),
        (schemas.RunListOut, "RunList"),
        (schemas.HealthOut, "Health"),
        (parameters.ParameterOut, "Parameter"),
        (parameters.NotebookParametersOut, "NotebookParameters"),
    ],
)
def test_response_shapes_match_the_documented_schemas(shape, schema):
    documented = spec()["components"]["schemas"][schema]
    keys = shape.__required_keys__ | shape.__optional_keys__
    assert keys == set(documented["properties"])
    assert set(shape.__required_keys__) == set(documented["required"])


def test_the_output_kinds_are_the_documented_ones():
    from nbsched.server.handlers import OUTPUT_KINDS

    assert list(OUTPUT_KINDS) == spec()["components"]["schemas"]["OutputKind"]["enum"]
    assert [str(status) for status in RunStatus] == spec()["components"]["schemas"]["RunStatus"]["enum"]


async def test_every_documented_success_response_is_served_and_valid(api, jp_serverapp, notebook, nbsched_home):
    openapi_check.SEEN.clear()
    future = "2099-01-01 08:00"
    assert (await api("GET", "health"))[0] == 200
    assert (
        await api(
            "POST",
            "jobs",
            body={"id": "nb", "task": {"type": "notebook", "path": "report.ipynb"}, "trigger": {"cron": "@daily"}},
        )
    )[0] == 201
    body = {
        "id": "fn",
        "task": {"type": "function", "ref": "tests.tasks:record", "kwargs": {"value": 1}},
        "trigger": {"at": future},
    }
    assert (await api("POST", "jobs", body=body))[0] == 201
    assert (await api("GET", "jobs"))[0] == 200
    assert (await api("GET", "jobs", "nb"))[0] == 200
    assert (await api("PATCH", "jobs", "nb", body={"trigger": {"every": "2h"}}))[0] == 200
    assert (await api("POST", "jobs", "nb", "pause"))[0] == 200
    assert (await api("POST", "jobs", "nb", "resume"))[0] == 200
    assert (await api("POST", "jobs", "fn", "run"))[0] == 200

    store = jp_serverapp.web_app.settings["nbsched_service"].store
    done = Run(job_id="nb", scheduled_at=datetime(2026, 1, 5, 9, tzinfo=UTC), status=RunStatus.SUCCEEDED)
    active = Run(job_id="nb", scheduled_at=datetime(2026, 1, 6, 9, tzinfo=UTC), status=RunStatus.RUNNING)
    folder = nbsched_home / "runs" / "nb" / done.id
    folder.mkdir(parents=True)
    (folder / "report.ipynb").write_text(notebook.read_text(encoding="utf-8"), encoding="utf-8")
    done.outputs = {"ipynb": str(folder / "report.ipynb")}
    for run in (done, active):
        store.add_run(run)
        store.update_run(run)
    assert (await api("GET", "runs", params={"job_id": "nb"}))[0] == 200
    assert (await api("GET", "runs", done.id))[0] == 200
    assert (await api("GET", "runs", done.id, "output", "ipynb"))[0] == 200
    assert (await api("POST", "runs", active.id, "cancel"))[0] == 200
    assert (await api("DELETE", "runs", done.id))[0] == 204
    assert (await api("GET", "notebooks", "parameters", params={"path": "report.ipynb"}))[0] == 200
    assert (await api("DELETE", "jobs", "nb"))[0] == 204

    documented = {
        (method.upper(), path, int(status))
        for path, operations in spec()["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
        for status in operation["responses"]
        if status.startswith("2")
    }
    assert documented - openapi_check.SEEN == set()
