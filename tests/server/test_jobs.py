"""Jobs over REST: the happy paths, and 400/404/409 with their exact messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from nbsched.datetimes import local_timezone, timezone_name
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.liveness import SchedulerInfo


def notebook_job(**extra: Any) -> dict[str, Any]:
    return {
        "id": "daily-report",
        "task": {"type": "notebook", "path": "report.ipynb", "parameters": {"region": "US"}, "timeout": 600},
        "trigger": {"cron": "0 9 * * 1-5"},
        "timezone": "Europe/Paris",
        **extra,
    }


async def test_health_reports_version_scheduler_store_and_counts(api, notebook):
    import nbsched

    await api("POST", "jobs", body=notebook_job())
    await api("POST", "jobs", body=notebook_job(id="paused-one", paused=True))
    status, body = await api("GET", "health")
    assert status == 200
    assert body["ok"] is True
    assert body["version"] == nbsched.__version__
    zone = timezone_name(local_timezone())
    assert body["scheduler"] == {"state": "paused", "runs_jobs": False, "timezone": zone}  # run_scheduler=False
    assert body["store"]["url"].endswith("nbsched-home/nbsched.db")
    assert body["counts"] == {"jobs": 2, "paused_jobs": 1, "broken_jobs": 0, "active_runs": 0}


async def test_create_notebook_job_then_get_and_list(api, notebook):
    status, job = await api("POST", "jobs", body=notebook_job(tags=["reports"]))
    assert status == 201
    assert job["id"] == "daily-report"
    assert job["name"] == "report.ipynb(region='US')"
    assert job["task"] == {
        "type": "notebook",
        "path": "report.ipynb",
        "parameters": {"region": "US"},
        "secret_parameters": [],
        "kernel_name": None,
        "timeout": 600.0,
        "cell_timeout": None,
        "cwd": None,
        "output_formats": ["ipynb", "html"],
        "snapshot": False,
    }
    assert job["schedule"] == {"cron": "0 9 * * 1-5"}
    assert job["trigger_description"] == "every weekday at 09:00 (Europe/Paris)"
    assert job["timezone"] == "Europe/Paris"
    assert job["paused"] is False
    assert job["executor"] == "notebook"
    assert job["tags"] == ["reports"]
    assert job["run_count"] == 0 and job["last_run"] is None
    next_run = datetime.fromisoformat(job["next_run_time"])
    assert next_run > datetime.now(UTC)
    assert (next_run.hour, next_run.minute, next_run.weekday() < 5) == (9, 0, True)

    status, same = await api("GET", "jobs", "daily-report")
    assert (status, same) == (200, job)
    status, listing = await api("GET", "jobs")
    assert status == 200
    assert listing == {"jobs": [job], "broken": []}


async def test_create_function_job_with_every_and_at(api):
    status, job = await api(
        "POST",
        "jobs",
        body={
            "task": {"type": "function", "ref": "tests.tasks:add", "args": [1, 2]},
            "trigger": {"every": "1h30m"},
            "name": "adder",
        },
    )
    assert status == 201
    assert job["task"] == {"type": "function", "ref": "tests.tasks:add", "args": [1, 2], "kwargs": {}}
    assert job["schedule"] == {"every": "1h30m"}
    assert job["trigger_description"] == "every 1 hour 30 minutes"
    assert job["executor"] == "default"
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0, tzinfo=None)
    status, once = await api(
        "POST",
        "jobs",
        body={
            "task": {"type": "function", "ref": "tests.tasks:record"},
            "trigger": {"at": when.isoformat(sep=" ")},
            "timezone": "UTC",
        },
    )
    assert status == 201
    assert once["next_run_time"] == when.replace(tzinfo=UTC).isoformat()
    assert once["schedule"] == {"at": when.replace(tzinfo=UTC).isoformat()}


async def test_location_header_names_the_new_job(jp_fetch, notebook):
    response = await jp_fetch("nbsched", "api", "jobs", method="POST", body=json.dumps(notebook_job()))
    assert response.code == 201
    assert response.headers["Location"].endswith("/nbsched/api/jobs/daily-report")


async def test_patch_changes_name_trigger_parameters_and_options(api, notebook):
    await api("POST", "jobs", body=notebook_job())
    status, job = await api(
        "PATCH",
        "jobs",
        "daily-report",
        body={
            "name": "Weekly report",
            "trigger": {"cron": "@weekly"},
            "timezone": "UTC",
            "task": {"type": "notebook", "path": "report.ipynb", "parameters": {"limit": 5}},
            "retries": 2,
        },
    )
    assert status == 200
    assert job["name"] == "Weekly report"
    assert job["schedule"] == {"cron": "@weekly"}
    assert job["timezone"] == "UTC"
    assert job["task"]["parameters"] == {"limit": 5}
    assert job["retries"] == 2
    next_run = datetime.fromisoformat(job["next_run_time"])
    assert (next_run.weekday(), next_run.hour, next_run.minute) == (6, 0, 0)  # Sunday midnight


async def test_patch_paused_pauses_and_resumes(api, notebook):
    await api("POST", "jobs", body=notebook_job())
    status, job = await api("PATCH", "jobs", "daily-report", body={"paused": True})
    assert (status, job["paused"], job["next_run_time"]) == (200, True, None)
    status, job = await api("PATCH", "jobs", "daily-report", body={"paused": False})
    assert (status, job["paused"]) == (200, False)
    assert job["next_run_time"] is not None


async def test_pause_resume_and_delete(api, notebook):
    await api("POST", "jobs", body=notebook_job())
    status, job = await api("POST", "jobs", "daily-report", "pause")
    assert (status, job["paused"], job["next_run_time"]) == (200, True, None)
    status, job = await api("POST", "jobs", "daily-report", "resume")
    assert (status, job["paused"]) == (200, False)
    assert datetime.fromisoformat(job["next_run_time"]) > datetime.now(UTC)
    status, body = await api("DELETE", "jobs", "daily-report")
    assert (status, body) == (204, None)
    status, body = await api("GET", "jobs", "daily-report")
    assert (status, body) == (404, {"message": "No job by the id of daily-report was found", "error": "JobLookupError"})


NO_SCHEDULER = "no scheduler is running over this store: start `nbsched serve`"


async def test_run_now_sets_next_run_time_to_now(api, notebook):
    await api("POST", "jobs", body=notebook_job())
    before = datetime.now(UTC)
    status, job = await api("POST", "jobs", "daily-report", "run")
    assert status == 200
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(job["next_run_time"]) <= datetime.now(UTC)
    assert job["scheduled_at"] == job["next_run_time"]
    # run_scheduler=False and nothing else runs jobs over the store: said so, instead of promising a start
    assert (job["warning"], job["message"]) == (NO_SCHEDULER, f"marked daily-report to run; {NO_SCHEDULER}")


async def test_run_now_of_a_paused_job_runs_it_once(api, notebook):
    """No 409 any more: a paused job runs once and stays paused (the scheduler's run_now, as every face)."""
    await api("POST", "jobs", body=notebook_job(paused=True))
    status, job = await api("POST", "jobs", "daily-report", "run")
    assert status == 200
    assert (job["paused"], job["warning"]) == (False, NO_SCHEDULER)  # due now; paused again once it is claimed
    assert datetime.fromisoformat(job["next_run_time"]) <= datetime.now(UTC)


async def test_run_now_with_a_scheduler_running_over_the_store(api, notebook, nbsched_home):
    await api("POST", "jobs", body=notebook_job(paused=True))
    # Another process's scheduler running jobs over the store: its liveness row, as it writes it on each heartbeat.
    store = SQLAlchemyJobStore(url=f"sqlite:///{nbsched_home / 'nbsched.db'}")
    now = datetime.now(UTC)
    row = SchedulerInfo(id="other", host="elsewhere", pid=1, started_at=now, heartbeat_at=now, runs_jobs=True)
    try:
        store.record_scheduler(attrs.evolve(row, runs_jobs=False))  # started paused: it does not count
        status, job = await api("POST", "jobs", "daily-report", "run")
        assert (status, job["warning"]) == (200, NO_SCHEDULER)
        store.record_scheduler(row)
        status, job = await api("POST", "jobs", "daily-report", "run")
        assert (status, job["warning"]) == (200, None)
        assert job["message"] == (
            "marked daily-report to run now; a scheduler over this store starts it shortly (it stays paused)"
        )
    finally:
        store.shutdown()


async def test_resume_of_a_finished_one_off_is_a_conflict(api, jp_serverapp):
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await api(
        "POST",
        "jobs",
        body={
            "id": "once",
            "task": {"type": "function", "ref": "tests.tasks:record"},
            "trigger": {"at": when},
            "paused": True,
        },
    )
    service = jp_serverapp.web_app.settings["nbsched_service"]
    trigger = service.scheduler.get_job("once").trigger
    trigger.run_date = datetime.now(UTC) - timedelta(days=1)  # its date passed while it was paused
    service.scheduler.modify_job("once", trigger=trigger)
    status, body = await api("POST", "jobs", "once", "resume")
    assert (status, body) == (
        409,
        {"message": "Job once cannot be resumed: its trigger will not fire again", "error": "Conflict"},
    )
    status, job = await api("GET", "jobs", "once")
    assert (status, job["paused"]) == (200, True)  # nothing changed


# --------------------------------------------------------------------------------------------------- 400


@pytest.mark.parametrize(
    ("body", "message", "error"),
    [
        ({"trigger": {"cron": "61 * * * *"}}, "CronTrigger: minute '61' is out of range 0-59", "TriggerArgumentError"),
        (
            {"trigger": {"cron": "* * *"}},
            "CronTrigger: expression '* * *' has 3 fields, expected 5",
            "TriggerArgumentError",
        ),
        (
            {"trigger": {"every": "5x"}},
            "JobCreate: trigger.every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')",
            "InvalidArgumentError",
        ),
        (
            {"trigger": {"every": "soon"}},
            "JobCreate: trigger.every 'soon' is not a duration (e.g. '5m', '1h30m', '90s')",
            "InvalidArgumentError",
        ),
        ({"trigger": {"every": 0}}, "JobCreate: trigger.every 0 must be longer than zero", "InvalidArgumentError"),
        (
            {"trigger": {"at": "tomorrow"}},
            "JobCreate: trigger.at 'tomorrow' is not a date/time (expected e.g. '2026-12-01 08:00')",
            "InvalidArgumentError",
        ),
        ({"trigger": {"at": "2001-01-01 08:00"}, "timezone": "UTC"}, None, "InvalidArgumentError"),
        (
            {"trigger": {"cron": "@daily", "every": "5m"}},
            "JobCreate: trigger {'cron': '@daily', 'every': '5m'} must have exactly one of 'cron', 'every' and 'at'",
            "InvalidArgumentError",
        ),
        (
            {"trigger": {"cron": "@daily", "colour": "red"}},
            "JobCreate: trigger.field 'colour' is not known (known: cron, end_date, jitter, start_date)",
            "InvalidArgumentError",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "JobCreate: timezone 'Mars/Olympus' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')",
            "InvalidArgumentError",
        ),
        (
            {"colour": "red"},
            "JobCreate: field 'colour' is not known (known: coalesce, id, max_instances, max_runs, misfire_grace_time, name, paused, retries, retry_backoff, tags, task, timezone, trigger)",
            "InvalidArgumentError",
        ),
        (
            {"task": {"type": "shell", "cmd": "rm -rf /"}},
            "JobCreate: task.type 'shell' must be 'notebook' or 'function'",
            "InvalidArgumentError",
        ),
        (
            {"task": {"type": "notebook", "path": "report.ipynb", "parameters": {"regoin": "EU"}}},
            "Notebook: parameter 'regoin' is not assigned in the parameters cell of report.ipynb (known: flags, limit, region, start, threshold)",
            "JobArgumentError",
        ),
        (
            {"task": {"type": "notebook", "path": "report.ipynb", "timeout": -1}},
            "Notebook: timeout -1 must be a positive number of seconds or None",
            "JobArgumentError",
        ),
        ({"task": {"type": "notebook", "path": "missing.ipynb"}}, None, "JobArgumentError"),
        (
            {"task": {"type": "function", "ref": "not a ref"}},
            "JobCreate: task.ref 'not a ref' is not a 'package.module:function' reference",
            "InvalidArgumentError",
        ),
        ({"task": {"type": "function", "ref": "tests.tasks:nothing_here"}}, None, "JobArgumentError"),
        ({"task": {"type": "function", "ref": "tests.tasks:add", "args": [1]}}, None, "JobArgumentError"),
        ({"retries": -1}, "add_job: retries -1 must be a non-negative integer of at most 100", "JobArgumentError"),
        ({"paused": "yes"}, "JobCreate: paused 'yes' must be true or false", "InvalidArgumentError"),
        ({"id": ""}, "JobCreate: id '' must be a non-empty string", "InvalidArgumentError"),
        ({"id": "x" * 129}, None, "JobArgumentError"),
    ],
)
async def test_create_refuses_bad_input_with_the_message(api, notebook, body, message, error):
    request = {**notebook_job(), **body}
    status, reply = await api("POST", "jobs", body=request)
    assert status == 400, reply
    assert reply["error"] == error
    if message is not None:
        assert reply["message"] == message
    status, listing = await api("GET", "jobs")
    assert listing["jobs"] == []  # nothing was added


async def test_create_messages_for_unresolvable_refs_and_past_dates(api):
    status, reply = await api(
        "POST",
        "jobs",
        body={"task": {"type": "function", "ref": "tests.tasks:nothing_here"}, "trigger": {"every": "5m"}},
    )
    assert status == 400
    assert reply["message"].startswith("add_job: func 'tests.tasks:nothing_here' cannot be resolved: ")
    status, reply = await api(
        "POST",
        "jobs",
        body={
            "task": {"type": "function", "ref": "tests.tasks:record"},
            "trigger": {"at": "2001-01-01 08:00"},
            "timezone": "UTC",
        },
    )
    assert status == 400
    assert reply["message"].startswith("JobCreate: trigger.at '2001-01-01 08:00' is in the past (now is ")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "{bad json",
            "JobCreate: body '{bad json' is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        ("[1, 2]", "JobCreate: body [1, 2] must be a JSON object"),
        ("", "JobCreate: body None must be a JSON object"),
    ],
)
async def test_bad_json_is_400(api, raw, message):
    status, reply = await api("POST", "jobs", body=raw.encode() or b"")
    assert (status, reply) == (400, {"message": message, "error": "InvalidArgumentError"})


async def test_patch_refuses_unknown_fields_and_lone_timezone(api, notebook):
    await api("POST", "jobs", body=notebook_job())
    status, reply = await api("PATCH", "jobs", "daily-report", body={"id": "other"})
    assert status == 400
    assert reply["message"] == (
        "JobUpdate: field 'id' is not known (known: coalesce, max_instances, max_runs, misfire_grace_time, name, "
        "paused, retries, retry_backoff, tags, task, timezone, trigger)"
    )
    status, reply = await api("PATCH", "jobs", "daily-report", body={"timezone": "UTC"})
    assert (status, reply["message"]) == (400, "JobUpdate: timezone 'UTC' can only be changed together with trigger")
    status, reply = await api("PATCH", "jobs", "daily-report", body={"trigger": {"every": "-5m"}})
    assert (status, reply["message"]) == (
        400,
        "JobUpdate: trigger.every '-5m' must be longer than zero",
    )


# --------------------------------------------------------------------------------------------- 404 / 409


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ("jobs", "nope")),
        ("PATCH", ("jobs", "nope")),
        ("DELETE", ("jobs", "nope")),
        ("POST", ("jobs", "nope", "pause")),
        ("POST", ("jobs", "nope", "resume")),
        ("POST", ("jobs", "nope", "run")),
    ],
)
async def test_unknown_job_is_404(api, method, parts):
    status, reply = await api(method, *parts, body={"name": "x"} if method == "PATCH" else None)
    assert (status, reply) == (404, {"message": "No job by the id of nope was found", "error": "JobLookupError"})


async def test_duplicate_id_is_409(api, notebook):
    assert (await api("POST", "jobs", body=notebook_job()))[0] == 201
    status, reply = await api("POST", "jobs", body=notebook_job())
    assert (status, reply) == (
        409,
        {"message": "Job identifier (daily-report) conflicts with an existing job", "error": "ConflictingIdError"},
    )


async def test_job_ids_with_slashes_are_addressable(api, http_server_client, jp_auth_header, jp_base_url, notebook):
    response = await http_server_client.fetch(
        f"{jp_base_url}nbsched/api/jobs",
        method="POST",
        headers=jp_auth_header,
        # A function job: a notebook job's id names its output folder, so it cannot hold a "/".
        body=json.dumps(
            {"id": "team/report", "task": {"type": "function", "ref": "tests.tasks:record"}, "trigger": {"every": "1h"}}
        ),
    )
    assert response.code == 201
    assert response.headers["Location"] == f"{jp_base_url}nbsched/api/jobs/team%2Freport"
    # jp_fetch would escape the "%" itself: send the percent-encoded id as it is.
    response = await http_server_client.fetch(f"{jp_base_url}nbsched/api/jobs/team%2Freport", headers=jp_auth_header)
    assert response.code == 200
    assert json.loads(response.body)["id"] == "team/report"


async def test_unexpected_errors_are_a_logged_500_with_a_generic_message(api, jp_serverapp, caplog):
    scheduler = jp_serverapp.web_app.settings["nbsched_service"].scheduler

    def broken(*args, **kwargs):
        raise RuntimeError("password=hunter2 at /srv/secret")

    scheduler.get_jobs = broken
    status, reply = await api("GET", "jobs")
    assert (status, reply) == (
        500,
        {
            "message": "nbsched: internal server error (the details are in the Jupyter server log)",
            "error": "InternalServerError",
        },
    )
    logged = [record for record in caplog.records if record.exc_info and "hunter2" in str(record.exc_info[1])]
    assert logged, "the 500 was not logged with its traceback"


# ------------------------------------------------------------------------------------------------ secrets

SECRET = "hunter2rest"


async def test_secret_parameters_never_leave_the_server(api, jp_serverapp, notebook):
    from nbsched.notebooks import Notebook

    scheduler = jp_serverapp.web_app.settings["nbsched_service"].scheduler
    # A notebook job with a marked secret, created over REST; one created elsewhere (a kernel, the CLI) with a
    # name that holds the secret; a function job whose keyword argument is marked by a tag.
    status, created = await api(
        "POST",
        "jobs",
        body=notebook_job(
            task={
                "type": "notebook",
                "path": "report.ipynb",
                "parameters": {"region": SECRET, "limit": 5},
                "secret_parameters": ["region"],
            }
        ),
    )
    assert status == 201, created
    scheduler.add_job(
        Notebook(
            "report.ipynb", parameters={"region": SECRET}, secret_parameters=["region"], root=str(notebook.parent)
        ),
        "interval",
        hours=1,
        id="named",
        name=f"report with region={SECRET}",
    )
    scheduler.add_job(
        "tests.tasks:fail", "interval", hours=1, id="fn", kwargs={"message": SECRET}, tags=["secret:message"]
    )
    assert created["name"] == "report.ipynb(region=***, limit=5)"
    assert created["task"]["parameters"] == {"region": "***", "limit": 5}
    assert created["task"]["secret_parameters"] == ["region"]
    status, listing = await api("GET", "jobs")
    assert status == 200
    assert SECRET not in json.dumps(listing), json.dumps(listing, indent=1)
    jobs = {job["id"]: job for job in listing["jobs"]}
    assert jobs["named"]["name"] == "report with region=***"
    assert jobs["fn"]["task"]["kwargs"] == {"message": "***"}
    for job_id in ("daily-report", "named", "fn"):
        status, job = await api("GET", "jobs", job_id)
        assert (status, job) == (200, jobs[job_id])
    # The value itself is kept, and runs get it.
    assert scheduler.get_job("daily-report").func.parameters == {"region": SECRET, "limit": 5}


async def test_patch_with_a_masked_secret_keeps_the_stored_value(api, jp_serverapp, notebook):
    scheduler = jp_serverapp.web_app.settings["nbsched_service"].scheduler
    task = {
        "type": "notebook",
        "path": "report.ipynb",
        "parameters": {"region": SECRET},
        "secret_parameters": ["region"],
    }
    await api("POST", "jobs", body=notebook_job(task=task))
    status, job = await api("GET", "jobs", "daily-report")
    sent = {key: job["task"][key] for key in ("type", "path", "parameters", "secret_parameters")}
    status, changed = await api("PATCH", "jobs", "daily-report", body={"task": {**sent, "timeout": 60}})
    assert status == 200, changed
    assert changed["task"]["parameters"] == {"region": "***"} and changed["task"]["timeout"] == 60
    assert scheduler.get_job("daily-report").func.parameters == {"region": SECRET}
    masked = {
        "type": "notebook",
        "path": "report.ipynb",
        "parameters": {"region": "EU", "limit": "***"},
        "secret_parameters": ["limit"],
    }
    status, reply = await api("PATCH", "jobs", "daily-report", body={"task": masked})
    assert (status, reply["message"]) == (
        400,
        "JobUpdate: task.parameters['limit'] '***' is a masked secret and the job has no value for it: send the value",
    )


async def test_a_secret_parameter_must_be_a_parameter(api, notebook):
    task = {"type": "notebook", "path": "report.ipynb", "parameters": {"limit": 5}, "secret_parameters": ["region"]}
    status, reply = await api("POST", "jobs", body=notebook_job(task=task))
    assert (status, reply) == (
        400,
        {
            "message": "Notebook: secret_parameters 'region' is not one of the parameters given (given: limit)",
            "error": "JobArgumentError",
        },
    )


async def test_runs_are_masked_with_their_jobs_secrets(api, jp_serverapp):
    from nbsched.runs import Run, RunStatus

    service = jp_serverapp.web_app.settings["nbsched_service"]
    service.scheduler.add_job("tests.server.jobs:login", "interval", hours=1, id="fn", kwargs={"password": SECRET})
    now = datetime.now(UTC)
    run = Run(job_id="fn", scheduled_at=now, status=RunStatus.FAILED, started_at=now, finished_at=now)
    run.error_type, run.error_message = "RuntimeError", f"login with {SECRET} refused"
    run.traceback = f"Traceback ...\nRuntimeError: login with {SECRET} refused\n"
    service.store.add_run(run)
    service.store.update_run(run)
    status, page = await api("GET", "runs")
    assert status == 200 and SECRET not in json.dumps(page)
    assert page["runs"][0]["error_message"] == "login with *** refused"
    status, one = await api("GET", "runs", run.id)
    assert (status, one) == (200, page["runs"][0])
    assert one["traceback"] == "Traceback ...\nRuntimeError: login with *** refused\n"


async def test_job_list_reads_the_last_runs_in_one_query(api, notebook, jp_serverapp):
    from sqlalchemy import event

    from nbsched.runs import Run

    service = jp_serverapp.web_app.settings["nbsched_service"]
    for index in range(4):
        await api("POST", "jobs", body=notebook_job(id=f"report-{index}"))
        service.store.add_run(Run(job_id=f"report-{index}", scheduled_at=datetime.now(UTC)))
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(service.store.engine, "before_cursor_execute", listener)
    try:
        status, body = await api("GET", "jobs")
    finally:
        event.remove(service.store.engine, "before_cursor_execute", listener)
    assert status == 200
    assert [job["last_run"]["status"] for job in body["jobs"]] == ["scheduled"] * 4
    assert len([s for s in statements if "FROM runs" in s]) == 1, statements
