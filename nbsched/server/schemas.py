"""Request and response shapes of the REST API, and the checks that turn request JSON into scheduler arguments.

The shapes are defined once, in :mod:`nbsched.server.shapes` (re-exported here): ``openapi.yaml`` and the types
of ``labextension/src/api.ts`` are generated from them, and the fields the checks here know are theirs. Checks
raise :class:`~nbsched.exceptions.InvalidArgumentError` (400) with a message naming the shape, the field and the
value: ``JobCreate: trigger.every '5x' is not a duration (e.g. '5m', '1h30m', '90s')``. Trigger expressions are
checked by the triggers themselves (``CronTrigger: ...``).

Parsing never imports anything a request names: a function task is kept as its reference text until the handler
has checked the caller's ``execute`` permission.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import attrs

from nbsched.abc import Trigger
from nbsched.datetimes import as_timezone, convert_to_datetime
from nbsched.exceptions import InvalidArgumentError
from nbsched.runs import RunStatus, run_status
from nbsched.server.limits import check_text, parse_body
from nbsched.server.schedules import parse_trigger
from nbsched.server.shapes import (
    BrokenJobOut,
    ErrorOut,
    FunctionTaskIn,
    HealthCountsOut,
    HealthOut,
    JobCreateIn,
    JobListOut,
    JobOut,
    JobRunOut,
    JobUpdateIn,
    LastRunOut,
    NotebookTaskIn,
    RunListOut,
    RunOut,
    TaskIn,
    TriggerIn,
    fields_of,
)

__all__ = [
    "BrokenJobOut",
    "ErrorOut",
    "FunctionTask",
    "HealthCountsOut",
    "HealthOut",
    "JobChanges",
    "JobCreateIn",
    "JobListOut",
    "JobOut",
    "JobRunOut",
    "JobSpec",
    "JobUpdateIn",
    "LastRunOut",
    "RunListOut",
    "RunOut",
    "RunQuery",
    "TaskIn",
    "TriggerIn",
    "notebook_path",
    "parse_body",
    "parse_job_changes",
    "parse_job_spec",
    "parse_run_query",
]

#: job options passed to the scheduler as they are (it checks them and names the bad one)
OPTIONS = ("misfire_grace_time", "coalesce", "max_instances", "max_runs", "retries", "retry_backoff", "tags")
_CREATE_FIELDS = frozenset(fields_of(JobCreateIn))
_CREATE_REQUIRED = tuple(name for name, required in fields_of(JobCreateIn).items() if required)
_UPDATE_FIELDS = frozenset(fields_of(JobUpdateIn))
_NOTEBOOK_FIELDS = frozenset(fields_of(NotebookTaskIn))
_FUNCTION_FIELDS = frozenset(fields_of(FunctionTaskIn))
_REF = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
#: query parameters Jupyter itself may add to any request (authentication, activity tracking)
_JUPYTER_QUERY = frozenset({"token", "_xsrf", "no_track_activity"})
#: the largest ``limit`` of ``GET /runs``
MAX_LIMIT = 1000
#: the largest ``offset`` of ``GET /runs`` (a database takes offset + limit as a 64-bit integer)
MAX_OFFSET = 10**12


@attrs.frozen(kw_only=True)
class FunctionTask:
    """A function job's target, kept as text until the caller is known to hold ``execute``."""

    ref: str
    args: list[Any]
    kwargs: dict[str, Any]


@attrs.frozen(kw_only=True)
class JobSpec:
    """A checked ``POST /jobs`` body: ``task`` is a ``Notebook`` or a :class:`FunctionTask`."""

    id: str | None
    name: str | None
    task: Any
    trigger: Trigger
    paused: bool
    options: dict[str, Any]


@attrs.frozen(kw_only=True)
class JobChanges:
    """A checked ``PATCH /jobs/{id}`` body; ``None`` means unchanged."""

    name: str | None
    task: Any
    trigger: Trigger | None
    paused: bool | None
    options: dict[str, Any]


@attrs.frozen(kw_only=True)
class RunQuery:
    """The query of ``GET /runs``."""

    job_id: str | None
    status: list[RunStatus] | None
    since: datetime | None
    until: datetime | None
    limit: int
    offset: int


# ------------------------------------------------------------------------------------------------- parsing


def _known(owner: str, where: str, data: Mapping[str, Any], known: frozenset[str]) -> None:
    for key in data:
        if key not in known:
            listing = ", ".join(sorted(known))
            raise InvalidArgumentError(
                owner, f"{where}field" if where else "field", key, f"is not known (known: {listing})"
            )


def parse_job_spec(
    body: Mapping[str, Any], *, root: Path, default_tz: tzinfo, now: datetime, allow_hidden: bool
) -> JobSpec:
    """Check a ``POST /jobs`` body (``JobCreateIn``).

    :param root: the resolved server root: notebooks must be inside it
    :param default_tz: the zone of the trigger when the body names none
    """
    owner = "JobCreate"
    _known(owner, "", body, _CREATE_FIELDS)
    for required in _CREATE_REQUIRED:
        if required not in body:
            raise InvalidArgumentError(owner, "field", required, "is required")
    job_id = body.get("id")
    if job_id is not None and (not isinstance(job_id, str) or not job_id.strip()):
        raise InvalidArgumentError(owner, "id", job_id, "must be a non-empty string")  # add_job checks the rest
    tz = as_timezone(body["timezone"], owner, "timezone") if body.get("timezone") is not None else default_tz
    assert tz is not None
    return JobSpec(
        id=job_id,
        name=_name(owner, body.get("name")),
        task=_task(owner, body["task"], root, allow_hidden),
        trigger=parse_trigger(owner, body["trigger"], tz, now),
        paused=_bool(owner, "paused", body.get("paused", False)),
        options={key: body[key] for key in OPTIONS if key in body},
    )


def parse_job_changes(
    body: Mapping[str, Any], *, root: Path, current_tz: tzinfo, now: datetime, allow_hidden: bool
) -> JobChanges:
    """Check a ``PATCH /jobs/{id}`` body: any of ``JobCreateIn``'s fields but ``id``.

    :param current_tz: the zone of the job's trigger, used when a new trigger comes without ``timezone``
    """
    owner = "JobUpdate"
    _known(owner, "", body, _UPDATE_FIELDS)
    if "timezone" in body and "trigger" not in body:
        raise InvalidArgumentError(owner, "timezone", body["timezone"], "can only be changed together with trigger")
    tz = as_timezone(body["timezone"], owner, "timezone") if body.get("timezone") is not None else current_tz
    assert tz is not None
    return JobChanges(
        name=_name(owner, body.get("name")),
        task=_task(owner, body["task"], root, allow_hidden) if "task" in body else None,
        trigger=parse_trigger(owner, body["trigger"], tz, now) if "trigger" in body else None,
        paused=_bool(owner, "paused", body["paused"]) if "paused" in body else None,
        options={key: body[key] for key in OPTIONS if key in body},
    )


def _name(owner: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidArgumentError(owner, "name", value, "must be a non-empty string")
    return value


def _bool(owner: str, field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(owner, field, value, "must be true or false")
    return value


def _task(owner: str, value: Any, root: Path, allow_hidden: bool) -> Any:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(owner, "task", value, 'must be an object with a "type" ("notebook" or "function")')
    kind = value.get("type")
    if kind == "function":
        _known(owner, "task.", value, _FUNCTION_FIELDS)
        ref = value.get("ref")
        if not isinstance(ref, str) or not _REF.fullmatch(ref):
            raise InvalidArgumentError(owner, "task.ref", ref, "is not a 'package.module:function' reference")
        args = value.get("args", [])
        if not isinstance(args, list):
            raise InvalidArgumentError(owner, "task.args", args, "must be a list")
        kwargs = value.get("kwargs", {})
        if not isinstance(kwargs, dict):
            raise InvalidArgumentError(owner, "task.kwargs", kwargs, "must be an object")
        return FunctionTask(ref=ref, args=args, kwargs=kwargs)
    if kind == "notebook":
        _known(owner, "task.", value, _NOTEBOOK_FIELDS)
        from nbsched.notebooks import Notebook

        options = {
            key: value[key]
            for key in ("kernel_name", "timeout", "cell_timeout", "output_formats", "secret_parameters")
            if key in value
        }
        if value.get("cwd") is not None:
            options["cwd"] = notebook_path(value["cwd"], root, owner, "task.cwd", allow_hidden, folder=True)
        parameters = value.get("parameters", {})
        if not isinstance(parameters, dict):
            raise InvalidArgumentError(owner, "task.parameters", parameters, "must be an object")
        path = notebook_path(value.get("path"), root, owner, "task.path", allow_hidden)
        return Notebook(path, parameters=parameters, root=str(root), **options)
    raise InvalidArgumentError(owner, "task.type", kind, "must be 'notebook' or 'function'")


def notebook_path(value: Any, root: Path, owner: str, field: str, allow_hidden: bool, folder: bool = False) -> str:
    """A path below the server root, as a relative ``/``-separated path.

    Refused: anything that leaves ``root`` lexically (``..``) or once symbolic links are resolved, absolute paths
    outside it, hidden files and folders unless ``allow_hidden``, and (unless ``folder``) non-``.ipynb`` names.
    """
    what = "a folder" if folder else "a .ipynb file"
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(owner, field, value, f"must be the path of {what} under the server root")
    check_text(owner, field, value)
    try:
        lexical = Path(os.path.normpath(root / value))
        outside = not lexical.is_relative_to(root) or not lexical.resolve().is_relative_to(root)
    except (OSError, ValueError) as exc:  # a name too long for the file system, a loop of links
        raise InvalidArgumentError(owner, field, value, f"is not a usable path ({exc.__class__.__name__})") from None
    if outside:
        raise InvalidArgumentError(owner, field, value, "is outside the server root")
    relative = lexical.relative_to(root)
    if not allow_hidden and any(part.startswith(".") for part in relative.parts):
        raise InvalidArgumentError(owner, field, value, "is hidden (ContentsManager.allow_hidden is off)")
    if not folder and lexical.suffix != ".ipynb":
        raise InvalidArgumentError(owner, field, value, "must name a .ipynb file")
    return relative.as_posix() or "."


def parse_run_query(arguments: Mapping[str, list[str]], default_tz: tzinfo) -> RunQuery:
    """Check the query of ``GET /runs``: ``job_id``, ``status`` (repeated or comma-separated), ``since``,
    ``until`` (ISO; naive ones in the server's zone), ``limit`` (1-1000, default 100), ``offset`` (0 to
    :data:`MAX_OFFSET`, default 0)."""
    owner = "RunQuery"
    known = frozenset({"job_id", "status", "since", "until", "limit", "offset"})
    for key, values in arguments.items():
        if key in _JUPYTER_QUERY:
            continue
        if key not in known:
            raise InvalidArgumentError(owner, "parameter", key, f"is not known (known: {', '.join(sorted(known))})")
        if key != "status" and len(values) > 1:
            raise InvalidArgumentError(owner, key, values, "must be given once")

    def one(key: str) -> str | None:
        values = arguments.get(key)
        return values[0] if values else None

    statuses: list[RunStatus] | None = None
    if arguments.get("status"):
        statuses = []
        for text in ",".join(arguments["status"]).split(","):
            statuses.append(run_status(text.strip(), owner))
    for key in ("job_id", "since", "until"):
        given = one(key)
        if given is not None:
            check_text(owner, key, given)
    return RunQuery(
        job_id=one("job_id"),
        status=statuses,
        since=convert_to_datetime(one("since"), default_tz, owner, "since"),
        until=convert_to_datetime(one("until"), default_tz, owner, "until"),
        limit=_count(owner, "limit", one("limit"), 100, 1, MAX_LIMIT),
        offset=_count(owner, "offset", one("offset"), 0, 0, MAX_OFFSET),
    )


def _count(owner: str, field: str, text: str | None, default: int, low: int, high: int | None) -> int:
    if text is None:
        return default
    try:
        value = int(text) if len(text) <= 20 else None  # int() of thousands of digits is slow, then refused
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidArgumentError(owner, field, text, f"must be a whole number {bounds}")
    return value
