"""The request shapes of the REST API (see :mod:`nbsched.server.shapes`, which lists them with the responses).

The checks of :mod:`nbsched.server.schemas` and :mod:`nbsched.server.schedules` take the fields they know from
these; the bounds are those of :mod:`nbsched.limits` and :mod:`nbsched.server.limits`, which they check.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, NotRequired, TypedDict

from nbsched.limits import MAX_ID_LENGTH, MAX_RETRIES, MAX_SECONDS
from nbsched.server.limits import MAX_LENGTHS
from nbsched.server.openapi import schema

__all__ = ["FunctionTaskIn", "JobCreateIn", "JobUpdateIn", "NotebookTaskIn", "TaskIn", "TriggerIn"]

_SECONDS = int(MAX_SECONDS)  # 100 years, a whole number of seconds


class TriggerIn(TypedDict, total=False):
    """Exactly one of ``cron`` (a crontab line as people type it: 0 and 7 are Sunday, ``@daily`` macros),
    ``every`` (``5m``, ``1h30m``, ``90s``, ``2 days``, ``1 hour, 30 minutes``, ``1w``, ``1.5h``, or a number
    of seconds, as JSON or text) and ``at`` (a future date and time). ``start_date``, ``end_date`` and
    ``jitter`` (seconds) go with ``cron`` and ``every``. The CLI (``--every``, ``--cron``, ``--at``) and the
    magics read these texts the same way. In a job, its trigger as such an object (null for triggers it cannot
    express)."""

    cron: Annotated[str, schema(maxLength=MAX_LENGTHS["trigger.cron"], examples=["0 9 * * 1-5"])]
    every: Annotated[str | float, schema(examples=["5m"])]
    at: Annotated[str, schema(maxLength=MAX_LENGTHS["trigger.at"], examples=["2026-12-01 08:00"])]
    start_date: Annotated[str, schema(maxLength=MAX_LENGTHS["trigger.start_date"])]
    end_date: Annotated[str, schema(maxLength=MAX_LENGTHS["trigger.end_date"])]
    jitter: Annotated[float | None, schema(minimum=0, maximum=_SECONDS)]


class NotebookTaskIn(TypedDict):
    """A notebook task in a request."""

    type: typing.Literal["notebook"]
    path: Annotated[
        str, schema(maxLength=MAX_LENGTHS["task.path"], description="A .ipynb file relative to the server's root")
    ]
    parameters: NotRequired[
        Annotated[dict[str, Any], schema(description="Values for names the notebook's parameters cell assigns")]
    ]
    secret_parameters: NotRequired[
        Annotated[list[str], schema(description="Names among ``parameters`` whose values responses show as ``***``")]
    ]
    kernel_name: NotRequired[Annotated[str | None, schema(maxLength=MAX_LENGTHS["task.kernel_name"])]]
    timeout: NotRequired[Annotated[float | None, schema(description="Seconds for the whole run")]]
    cell_timeout: NotRequired[Annotated[float | None, schema(description="Seconds for each cell")]]
    cwd: NotRequired[
        Annotated[
            str | None,
            schema(
                maxLength=MAX_LENGTHS["task.cwd"],
                description="Working folder relative to the root (default: the notebook's)",
            ),
        ]
    ]
    output_formats: NotRequired[list[typing.Literal["ipynb", "html"]]]


class FunctionTaskIn(TypedDict):
    """A function task in a request (needs the ``execute`` permission)."""

    type: typing.Literal["function"]
    ref: Annotated[str, schema(maxLength=MAX_LENGTHS["task.ref"], examples=["mypkg.tasks:refresh"])]
    args: NotRequired[list[Any]]
    kwargs: NotRequired[dict[str, Any]]


TaskIn = Annotated[
    NotebookTaskIn | FunctionTaskIn,
    schema(
        "TaskIn",
        description="``secret_parameters`` names parameters whose values responses show as ``***`` (names such as "
        "``api_token`` are secret without it; a function's keyword argument is marked by the job's tag "
        "``secret:<name>``). In a ``PATCH``, a secret parameter sent as ``***`` keeps the value the job has.",
    ),
]

_JobName = Annotated[str, schema(minLength=1)]
_Timezone = Annotated[
    str, schema(maxLength=MAX_LENGTHS["timezone"], description="IANA zone of the trigger (default: the server's)")
]
_MisfireGraceTime = Annotated[float | None, schema(exclusiveMinimum=0, maximum=_SECONDS)]
_MaxInstances = Annotated[int, schema(minimum=1)]
_MaxRuns = Annotated[int | None, schema(minimum=1)]
_Retries = Annotated[int, schema(minimum=0, maximum=MAX_RETRIES)]
_RetryBackoff = Annotated[float, schema(minimum=0, maximum=_SECONDS)]


class JobCreateIn(TypedDict):
    """``POST /jobs``: a new job."""

    task: TaskIn
    trigger: TriggerIn
    id: NotRequired[Annotated[str, schema(minLength=1, maxLength=MAX_ID_LENGTH)]]
    name: NotRequired[_JobName]
    timezone: NotRequired[_Timezone]
    paused: NotRequired[bool]
    misfire_grace_time: NotRequired[_MisfireGraceTime]
    coalesce: NotRequired[bool]
    max_instances: NotRequired[_MaxInstances]
    max_runs: NotRequired[_MaxRuns]
    retries: NotRequired[_Retries]
    retry_backoff: NotRequired[_RetryBackoff]
    tags: NotRequired[list[str]]


class JobUpdateIn(TypedDict, total=False):
    """``PATCH /jobs/{job_id}``: any field of ``JobCreateIn`` but ``id``; only the fields given change;
    ``timezone`` only together with ``trigger``; ``paused`` pauses or resumes the job."""

    task: TaskIn
    trigger: TriggerIn
    name: _JobName
    timezone: _Timezone
    paused: bool
    misfire_grace_time: _MisfireGraceTime
    coalesce: bool
    max_instances: _MaxInstances
    max_runs: _MaxRuns
    retries: _Retries
    retry_backoff: _RetryBackoff
    tags: list[str]
