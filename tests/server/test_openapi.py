"""openapi.yaml against the code: a valid OpenAPI 3.1 document; every route documented with the methods it
serves and every documented path served; the schemas generated from ``shapes.py`` and up to date; and one
pass over every endpoint whose responses (like every response of these tests) validate against the document."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from datetime import UTC, datetime

import pytest
from openapi_spec_validator import validate

from nbsched.exceptions import InvalidArgumentError
from nbsched.limits import MAX_ID_LENGTH, MAX_RETRIES, MAX_SECONDS
from nbsched.runs import Run, RunStatus
from nbsched.server import openapi, openapi_path, schedules, schemas, shapes
from nbsched.server.handlers import default_handlers
from nbsched.server.limits import MAX_LENGTHS
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


def test_the_schemas_are_generated_from_the_shapes():
    """``components/schemas`` is what ``python -m nbsched.server.openapi`` makes of ``shapes.py`` today."""
    current = openapi_path().read_text(encoding="utf-8")
    assert openapi.render(current) == current, "openapi.yaml is out of date: run python -m nbsched.server.openapi"
    assert spec()["components"]["schemas"] == openapi.json_schemas()
    assert openapi.main(["--check"]) == 0


def test_every_reference_names_a_schema():
    """The hand-written paths refer to the generated schemas by the shapes' names."""
    text = openapi_path().read_text(encoding="utf-8")
    names = set(re.findall(r"#/components/schemas/(\w+)", text))
    assert "JobOut" in names
    assert names <= set(spec()["components"]["schemas"])


def test_the_command_checks_the_shipped_document():
    result = subprocess.run(
        [sys.executable, "-m", "nbsched.server.openapi", "--check"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_check_fails_on_a_hand_edited_schema(tmp_path):
    edited = tmp_path / "openapi.yaml"
    text = openapi_path().read_text(encoding="utf-8")
    assert "        reason: {type: string}\n" in text
    edited.write_text(text.replace("        reason: {type: string}\n", "        reason: {type: integer}\n", 1))
    assert openapi.main(["--check", str(edited)]) == 1
    assert openapi.main([str(edited)]) == 0
    assert edited.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("shape", [shape for shape in shapes.COMPONENTS if typing.is_typeddict(shape)])
def test_each_shape_is_its_documented_schema(shape):
    documented = spec()["components"]["schemas"][shape.__name__]
    fields = shapes.fields_of(shape)
    assert list(documented["properties"]) == list(fields)
    assert documented.get("required", []) == [name for name, required in fields.items() if required]
    assert documented["additionalProperties"] is False


def _known(message: str) -> list[str]:
    return message.split("(known: ", 1)[1].rstrip(")").split(", ")


@pytest.mark.parametrize(
    ("body", "schema"),
    [
        ({"task": {"type": "function", "ref": "a:b"}, "trigger": {"at": "2099-01-01"}, "x": 1}, "JobCreateIn"),
        ({"task": {"type": "function", "ref": "a:b", "x": 1}, "trigger": {"at": "2099-01-01"}}, "FunctionTaskIn"),
        ({"task": {"type": "notebook", "path": "a.ipynb", "x": 1}, "trigger": {"at": "2099-01-01"}}, "NotebookTaskIn"),
    ],
)
def test_the_request_checks_know_the_documented_fields(tmp_path, body, schema):
    """The fields a request check accepts are the documented ones (both come from ``shapes.py``)."""
    with pytest.raises(InvalidArgumentError, match="'x' is not known") as caught:
        schemas.parse_job_spec(body, root=tmp_path, default_tz=UTC, now=datetime.now(UTC), allow_hidden=False)
    assert _known(str(caught.value)) == sorted(spec()["components"]["schemas"][schema]["properties"])


def test_the_update_and_trigger_checks_know_the_documented_fields(tmp_path):
    now = datetime.now(UTC)
    with pytest.raises(InvalidArgumentError, match="'x' is not known") as caught:
        schemas.parse_job_changes({"x": 1}, root=tmp_path, current_tz=UTC, now=now, allow_hidden=False)
    assert _known(str(caught.value)) == sorted(spec()["components"]["schemas"]["JobUpdateIn"]["properties"])
    with pytest.raises(InvalidArgumentError, match="'x' is not known") as caught:
        schedules.parse_trigger("JobCreate", {"cron": "@daily", "x": 1}, UTC, now)
    documented = set(spec()["components"]["schemas"]["TriggerIn"]["properties"])
    assert set(_known(str(caught.value))) | {"every", "at"} == documented


def test_the_run_query_check_knows_the_documented_parameters():
    with pytest.raises(InvalidArgumentError, match="'x' is not known") as caught:
        schemas.parse_run_query({"x": ["1"]}, UTC)
    documented = [parameter["name"] for parameter in spec()["paths"]["/nbsched/api/runs"]["get"]["parameters"]]
    assert _known(str(caught.value)) == sorted(documented)


def test_the_generator_refuses_a_type_it_cannot_describe():
    class Odd(typing.TypedDict):
        when: datetime

    with pytest.raises(TypeError, match=re.escape("Odd.when: no JSON Schema for <class 'datetime.datetime'>")):
        openapi.json_schemas((Odd,))


def test_the_documented_bounds_are_the_checked_ones():
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in spec()["paths"]["/nbsched/api/runs"]["get"]["parameters"]
    }
    assert parameters["limit"]["maximum"] == schemas.MAX_LIMIT
    assert parameters["offset"]["maximum"] == schemas.MAX_OFFSET
    job = spec()["components"]["schemas"]["JobCreateIn"]["properties"]
    assert job["id"]["maxLength"] == MAX_ID_LENGTH
    assert job["retries"]["maximum"] == MAX_RETRIES
    assert job["retry_backoff"]["maximum"] == MAX_SECONDS
    assert job["timezone"]["maxLength"] == MAX_LENGTHS["timezone"]


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
