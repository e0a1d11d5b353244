"""Bad input over REST is a 400, 404 or 413 naming the field, never a 500: on SQLite and on PostgreSQL.

One table of bad inputs is sent to every endpoint it applies to (create, change, run now, runs listing, notebook
parameters); each answer must be a client error whose JSON ``message`` names the field, and nothing may be stored.
The table runs inside one server per store (a server per case would make the PostgreSQL run slow).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from tests.postgres import reset_database
from tests.server.conftest import server_config

LONG = "x" * 5000
DEEP = 100_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, nbsched_home: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{nbsched_home / 'nbsched.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


@pytest.fixture
def jp_server_config(store_url: str) -> Config:
    return server_config(run_scheduler=False, db_url=store_url)


def job(**extra: Any) -> dict[str, Any]:
    """A valid notebook job, with ``extra`` fields replaced."""
    return {
        "id": "new",
        "task": {"type": "notebook", "path": "report.ipynb", "parameters": {"region": "US"}},
        "trigger": {"cron": "0 9 * * 1-5"},
        "timezone": "UTC",
        **extra,
    }


def task(**parameters: Any) -> dict[str, Any]:
    return {"type": "notebook", "path": "report.ipynb", "parameters": parameters}


def raw(body: dict[str, Any], field: str, literal: str) -> str:
    """``body`` as JSON text with the value of top-level ``field`` replaced by ``literal`` (``NaN``, ...)."""
    text = json.dumps({**body, field: "@@"})
    return text.replace('"@@"', literal)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


#: (what, body (JSON data, or text sent as it is), a text the message must contain). Sent as a create (POST
#: /jobs) and, without the id, as a change (PATCH /jobs/good).
BODIES: list[tuple[str, Any, str]] = [
    ("long path", job(task={"type": "notebook", "path": LONG + ".ipynb"}), "task.path"),
    ("long cwd", job(task={"type": "notebook", "path": "report.ipynb", "cwd": LONG}), "task.cwd"),
    ("long timezone", job(timezone=LONG), "timezone"),
    ("long cron", job(trigger={"cron": LONG}), "trigger.cron"),
    ("long every", job(trigger={"every": LONG}), "trigger.every"),
    ("long start_date", job(trigger={"cron": "@daily", "start_date": LONG}), "trigger.start_date"),
    ("long kernel", job(task={"type": "notebook", "path": "report.ipynb", "kernel_name": LONG}), "kernel_name"),
    ("NaN grace", raw(job(), "misfire_grace_time", "NaN"), "misfire_grace_time"),
    ("Infinity backoff", raw(job(), "retry_backoff", "Infinity"), "retry_backoff"),
    ("-Infinity retries", raw(job(), "retries", "-Infinity"), "retries"),
    ("NaN jitter", json.dumps(job(trigger={"cron": "@daily", "jitter": "@@"})).replace('"@@"', "NaN"), "jitter"),
    ("Infinity every", json.dumps(job(trigger={"every": "@@"})).replace('"@@"', "Infinity"), "trigger.every"),
    ("NaN parameter", json.dumps(job(task=task(region="@@"))).replace('"@@"', "NaN"), "task.parameters"),
    ("deep body", raw(job(), "tags", nested(DEEP)), "body"),
    ("deep parameter", json.dumps(job(task=task(region="@@"))).replace('"@@"', nested(900)), "task.parameters"),
    ("surrogate id", job(id="\ud800"), "id"),
    ("surrogate name", job(name="a\ud800b"), "name"),
    ("surrogate parameter", job(task=task(region="\udfff")), "task.parameters"),
    ("surrogate parameter name", job(task=task(**{"\ud800": "US"})), "task.parameters"),
    ("surrogate tag", job(tags=["\ud800"]), "tags"),
    ("surrogate timezone", job(timezone="\ud800"), "timezone"),
    ("NUL id", job(id="a\x00b"), "id"),
    ("NUL name", job(name="a\x00b"), "name"),
    ("NUL parameter", job(task=task(region="a\x00b")), "task.parameters"),
    ("NUL tag", job(tags=["a\x00b"]), "tags"),
    ("NUL cron", job(trigger={"cron": "@daily\x00"}), "trigger.cron"),
    ("huge max_instances", job(max_instances=2**70), "max_instances"),
    ("huge max_runs", job(max_runs=2**64), "max_runs"),
    ("huge retries", job(retries=10**30), "retries"),
    ("huge parameter", job(task=task(region=2**100)), "task.parameters"),
    ("huge jitter", job(trigger={"cron": "@daily", "jitter": 10**30}), "jitter"),
    ("huge grace", job(misfire_grace_time=1e300), "misfire_grace_time"),
    ("huge backoff", job(retry_backoff=1e300), "retry_backoff"),
    ("too many retries", job(retries=2000), "retries"),
    ("huge every", job(trigger={"every": 1e300}), "trigger.every"),
    ("never fires", job(trigger={"cron": "0 0 30 2 *"}), "trigger"),
    ("long id", job(id=LONG), "id"),
    ("dot id", job(id=".."), "id"),
    ("control id", job(id="a\nb"), "id"),
]
PATCH_ONLY_BAD = {"long id", "dot id", "control id", "surrogate id", "NUL id"}  # PATCH refuses "id" as a field


def strip_id(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if key != "id"}
    return body.replace('"id": "new", ', "")


async def expect_refused(api, what: str, method: str, parts: tuple[str, ...], field: str, **kwargs: Any) -> str | None:
    """``None`` when the answer is a 400/404/413 whose message names ``field``, else what went wrong."""
    body = kwargs.get("body")
    if body is not None and not isinstance(body, str | bytes):
        kwargs["body"] = json.dumps(body)  # lone surrogates are sent as JSON escapes, as a browser would
    try:
        status, reply = await api(method, *parts, **kwargs)
    except AssertionError as exc:  # an undocumented status or body (openapi_check)
        return f"{what}: {method} {'/'.join(parts)}: {exc}"
    if status not in (400, 404, 413) or not isinstance(reply, dict) or field not in reply.get("message", ""):
        return f"{what}: {method} {'/'.join(parts)}: {status} {reply!r:.300}"
    return None


async def test_bad_job_bodies_are_refused_naming_the_field(api, notebook):
    assert (await api("POST", "jobs", body=job(id="good")))[0] == 201
    problems = []
    for what, body, field in BODIES:
        problems.append(await expect_refused(api, what, "POST", ("jobs",), field, body=body))
        if (await api("GET", "jobs", "new"))[0] == 200:
            await api("DELETE", "jobs", "new")
        if what not in PATCH_ONLY_BAD:
            problems.append(await expect_refused(api, what, "PATCH", ("jobs", "good"), field, body=strip_id(body)))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)
    _, listing = await api("GET", "jobs")
    assert [stored["id"] for stored in listing["jobs"]] == ["good"]  # nothing else was stored
    assert listing["jobs"][0]["task"]["parameters"] == {"region": "US"}  # and nothing changed


async def test_a_body_over_the_size_limit_is_413(api, notebook):
    from nbsched.server.limits import MAX_BODY_BYTES

    body = job(task=task(region="x" * MAX_BODY_BYTES))
    status, reply = await api("POST", "jobs", body=body)
    assert status == 413
    assert reply == {
        "message": f"JobCreate: the request body is larger than the limit of {MAX_BODY_BYTES} bytes",
        "error": "PayloadTooLarge",
    }
    status, reply = await api("PATCH", "jobs", "whatever", body=body)
    assert status == 413


@pytest.mark.parametrize("bad_id", ["a\x00b", LONG, "a%00b"])
async def test_bad_ids_in_urls_are_404(api, bad_id):
    problems = []
    for method, suffix in [
        ("GET", ()),
        ("DELETE", ()),
        ("POST", ("run",)),
        ("POST", ("pause",)),
        ("POST", ("resume",)),
    ]:
        problems.append(await expect_refused(api, bad_id[:10], method, ("jobs", bad_id, *suffix), "No job"))
    problems.append(await expect_refused(api, bad_id[:10], "PATCH", ("jobs", bad_id), "No job", body={"name": "n"}))
    for method, suffix in [("GET", ()), ("DELETE", ()), ("POST", ("cancel",)), ("GET", ("output", "html"))]:
        problems.append(await expect_refused(api, bad_id[:10], method, ("runs", bad_id, *suffix), "No run"))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": str(2**64)}, "offset"),
        ({"offset": str(2**63 - 1)}, "offset"),
        ({"offset": "9" * 5000}, "offset"),
        ({"limit": str(2**64)}, "limit"),
        ({"offset": "NaN"}, "offset"),
        ({"job_id": "a\x00b"}, "job_id"),
        ({"since": LONG}, "since"),
        ({"until": "\x00"}, "until"),
        ({"status": "\x00"}, "status"),
    ],
)
async def test_bad_runs_queries_are_400(api, params, field):
    assert await expect_refused(api, field, "GET", ("runs",), field, params=params) is None


@pytest.mark.parametrize("path", [LONG + ".ipynb", "a\x00b.ipynb", "a/" * 3000 + "b.ipynb"])
async def test_bad_notebook_parameters_paths_are_refused(api, path):
    assert (
        await expect_refused(api, path[:10], "GET", ("notebooks", "parameters"), "path", params={"path": path}) is None
    )


@pytest.mark.parametrize(
    "url",
    [
        "nbsched/api/jobs/%ED%A0%80",  # the UTF-8-style bytes of a lone surrogate: not UTF-8
        "nbsched/api/jobs/%FF/run",
        "nbsched/api/runs/%ED%A0%80",
        "nbsched/api/runs?job_id=%ED%A0%80",  # read with U+FFFD for the bad bytes: no such job, an empty page
        "nbsched/api/notebooks/parameters?path=%ED%A0%80.ipynb",
    ],
)
async def test_urls_that_are_not_utf8_are_client_errors(http_server_client, jp_auth_header, jp_base_url, url):
    # Sent as they are: jp_fetch would escape the "%" itself.
    response = await http_server_client.fetch(
        f"{jp_base_url}{url}",
        method="POST" if url.endswith("/run") else "GET",
        headers=jp_auth_header,
        raise_error=False,
        **({"body": b""} if url.endswith("/run") else {}),
    )
    assert response.code in ((200,) if "job_id" in url else (400, 404)), response.body
