"""The request and response shapes of the REST API, defined once.

Each shape is a ``TypedDict``; a field's JSON Schema keywords that its Python type cannot say (a description, a
bound, an enum of texts) ride along as :class:`~nbsched.server.openapi.Schema` in ``Annotated``, and a named type
(``DateTime``, ``TaskIn``) is an ``Annotated`` alias whose ``Schema`` carries its name. The response shapes are
here, the request shapes in :mod:`nbsched.server.request_shapes` (re-exported here). From these:

- ``components/schemas`` of ``openapi.yaml`` is generated (``python -m nbsched.server.openapi``; a test fails
  when the file is out of date);
- ``labextension/src/api.generated.ts`` is generated from ``openapi.yaml`` by ``openapi-typescript``
  (``npm run generate:api``; ``npm run lint`` fails when it is out of date), and ``api.ts`` takes its types
  from there;
- the request parsers of :mod:`nbsched.server.schemas` take the fields they know from here (:func:`fields_of`).

The bounds come from :mod:`nbsched.limits` and :mod:`nbsched.server.limits`, which the scheduler and the
parsers check: the document states the same numbers.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, TypedDict

from nbsched.runs import RunStatus
from nbsched.server.openapi import Schema, fields_of, schema
from nbsched.server.request_shapes import (
    FunctionTaskIn,
    JobCreateIn,
    JobUpdateIn,
    NotebookTaskIn,
    TaskIn,
    TriggerIn,
)

__all__ = [
    "COMPONENTS",
    "OUTPUT_KINDS",
    "BrokenJobOut",
    "CellTaskOut",
    "DateTime",
    "ErrorOut",
    "FunctionTaskIn",
    "FunctionTaskOut",
    "HealthCountsOut",
    "HealthOut",
    "HealthSchedulerOut",
    "HealthStoreOut",
    "JobCreateIn",
    "JobListOut",
    "JobOut",
    "JobRunOut",
    "JobUpdateIn",
    "LastRunOut",
    "NotebookParametersOut",
    "NotebookTaskIn",
    "NotebookTaskOut",
    "OtherTaskOut",
    "OutputKind",
    "ParameterOut",
    "RunListOut",
    "RunOut",
    "RunStatusText",
    "Schema",
    "TaskIn",
    "TaskOut",
    "TriggerIn",
    "fields_of",
    "schema",
]


#: the kinds of output ``GET /runs/{run_id}/output/{kind}`` serves
OUTPUT_KINDS = ("ipynb", "html", "stdout", "stderr", "kernel_log")

DateTime = Annotated[str, schema("DateTime", description="ISO 8601 date and time with offset")]
RunStatusText = Annotated[str, schema("RunStatus", enum=[str(status) for status in RunStatus])]
OutputKind = Annotated[str, schema("OutputKind", enum=list(OUTPUT_KINDS))]

# ------------------------------------------------------------------------------------------ response shapes


class ErrorOut(TypedDict):
    """Body of every error response."""

    message: str
    error: Annotated[str, schema(description="The error's class, e.g. TriggerArgumentError, JobLookupError")]


class HealthSchedulerOut(TypedDict):
    """The scheduler of the server extension."""

    state: Annotated[
        str,
        schema(
            enum=["running", "paused", "stopped"],
            description="``paused``: started without running jobs (``NbschedServer.run_scheduler = False``)",
        ),
    ]
    runs_jobs: bool
    timezone: str | None


class HealthStoreOut(TypedDict):
    """The job store of the server extension."""

    url: Annotated[str | None, schema(description="The database URL, password masked")]


class HealthCountsOut(TypedDict):
    """How many jobs and runs the store holds."""

    jobs: int
    paused_jobs: int
    broken_jobs: int
    active_runs: Annotated[int, schema(description="Runs scheduled or running")]


class HealthOut(TypedDict):
    """Version, scheduler state, store and counts (``ok`` is false, with ``error``, when the store could not be
    opened)."""

    ok: bool
    version: str
    scheduler: HealthSchedulerOut
    store: HealthStoreOut
    counts: HealthCountsOut
    error: str | None


class LastRunOut(TypedDict):
    """The latest run of a job, in a job."""

    id: str
    status: RunStatusText
    scheduled_at: DateTime
    started_at: DateTime | None
    finished_at: DateTime | None
    duration: Annotated[float | None, schema(description="Seconds")]


class NotebookTaskOut(TypedDict):
    """The ``task`` of a notebook job; the values of secret parameters are ``***``."""

    type: typing.Literal["notebook"]
    path: str
    parameters: Annotated[dict[str, Any], schema(description="Secret ones as ``***``")]
    secret_parameters: Annotated[list[str], schema(description="The names the task lists as secret")]
    kernel_name: str | None
    timeout: float | None
    cell_timeout: float | None
    cwd: str | None
    output_formats: list[str]
    snapshot: bool


class FunctionTaskOut(TypedDict):
    """The ``task`` of a function job; the values of secret keyword arguments are ``***``."""

    type: typing.Literal["function"]
    ref: str | None
    args: list[Any]
    kwargs: Annotated[dict[str, Any], schema(description="Secret ones as ``***``")]


class CellTaskOut(TypedDict):
    """The ``task`` of a cell job (scheduled from a kernel with ``%%schedule``)."""

    type: typing.Literal["cell"]
    source: str
    mode: typing.Literal["headless", "kernel"]
    kernel_name: str | None
    timeout: float | None
    cell_timeout: float | None
    cwd: str | None
    output_formats: list[str]


class OtherTaskOut(TypedDict):
    """The ``task`` of a job whose task type is none of the above (a plugin's)."""

    type: Annotated[str, schema(**{"not": {"enum": ["notebook", "function", "cell"]}})]


TaskOut = Annotated[NotebookTaskOut | FunctionTaskOut | CellTaskOut | OtherTaskOut, schema("TaskOut")]


class JobOut(TypedDict):
    """A job; secret parameter values are ``***``, in its task and in its name."""

    id: str
    name: Annotated[str, schema(description="Secret parameter values in it as ``***``")]
    task: TaskOut
    trigger: Annotated[
        dict[str, Any],
        schema(
            description="The trigger's stored state (``type``, ``version`` and its fields)",
            required=["type"],
            properties={"type": {"type": "string"}},
        ),
    ]
    schedule: TriggerIn | None
    trigger_description: Annotated[str, schema(examples=["every weekday at 09:00 (Europe/Paris)"])]
    timezone: str | None
    next_run_time: DateTime | None
    paused: bool
    executor: str
    misfire_grace_time: float | None
    coalesce: bool
    max_instances: int
    max_runs: int | None
    retries: int
    retry_backoff: float
    tags: list[str]
    run_count: int
    last_run: LastRunOut | None


class JobRunOut(JobOut):
    """A job just marked to run now (``POST /jobs/{job_id}/run``), and what was done: the same as every face says."""

    scheduled_at: Annotated[DateTime, schema(description="The run's scheduled time: when it was asked for")]
    message: Annotated[
        str,
        schema(
            examples=[
                "marked report to run now; a scheduler over this store starts it shortly",
                "marked report to run; no scheduler is running over this store: start `nbsched serve`",
            ]
        ),
    ]
    warning: Annotated[
        str | None,
        schema(
            description="Set when no scheduler runs jobs over the store, so nothing will start the run until one does",
            examples=["no scheduler is running over this store: start `nbsched serve`"],
        ),
    ]


class BrokenJobOut(TypedDict):
    """A stored job that cannot be loaded (kept in the store, never deleted)."""

    id: str
    reason: str


class JobListOut(TypedDict):
    """Every job, with its latest run, and the stored jobs that cannot be loaded."""

    jobs: list[JobOut]
    broken: list[BrokenJobOut]


class RunOut(TypedDict):
    """A run."""

    id: str
    job_id: str
    scheduled_at: DateTime
    status: RunStatusText
    attempt: Annotated[int, schema(minimum=1)]
    started_at: DateTime | None
    finished_at: DateTime | None
    duration: Annotated[float | None, schema(description="Seconds")]
    worker: Annotated[str | None, schema(description="host:pid of the process that ran it")]
    heartbeat_at: DateTime | None
    error_type: Annotated[
        str | None,
        schema(
            description="Exception class name of a failed run; ``Cancelled`` for a cancelled one; ``WorkerLost`` "
            "for a lost one, whose message names the worker and its last heartbeat (its ``finished_at``) and which "
            "attempt it was"
        ),
    ]
    error_message: str | None
    traceback: str | None
    progress: Annotated[str | None, schema(examples=["cell 7/23"])]
    cell_index: Annotated[int | None, schema(description="The failing cell of a notebook run")]
    outputs: Annotated[
        list[str], schema(description="The kinds ``GET /runs/{run_id}/output/{kind}`` serves for this run")
    ]
    input_sha256: Annotated[
        str | None,
        schema(description="SHA-256 (hex) of the notebook file or cell source the run ran; null for function runs"),
    ]
    warnings: Annotated[
        list[str],
        schema(
            description="Notes on the run that are not its error: the fire times coalesced into it, an output that "
            "could not be written (then ``outputs`` lists only the outputs that exist)"
        ),
    ]


class RunListOut(TypedDict):
    """One page of runs, newest (scheduled time) first."""

    runs: list[RunOut]
    offset: int
    limit: int
    has_more: Annotated[bool, schema(description="Whether a page follows (at offset + limit)")]


class ParameterOut(TypedDict):
    """One assignment of a notebook's ``parameters`` cell."""

    name: str
    default: Annotated[Any, schema(description="The default as JSON; null when it is not a literal (see ``literal``)")]
    expression: Annotated[str, schema(description="The assigned expression's source text")]
    literal: Annotated[bool, schema(description="Whether ``default`` holds the value (false: evaluate ``expression``)")]
    type: Annotated[
        str | None,
        schema(description="Python type of a literal default (str, int, float, bool, NoneType, list, dict)"),
    ]
    annotation: Annotated[str | None, schema(description="The annotation's source text, when the assignment has one")]


class NotebookParametersOut(TypedDict):
    """Names and defaults of a notebook's ``parameters`` cell (parsed, never run)."""

    path: str
    has_parameters_cell: Annotated[bool, schema(description="Whether the notebook has a cell tagged ``parameters``")]
    parameters: list[ParameterOut]
    kernel_name: Annotated[str | None, schema(description="The notebook's kernelspec name, when it names one")]


#: every shape and named type, in the order ``openapi.yaml`` lists them (the types they use follow each)
COMPONENTS: tuple[Any, ...] = (
    ErrorOut,
    DateTime,
    RunStatusText,
    OutputKind,
    HealthOut,
    TriggerIn,
    TaskIn,
    JobCreateIn,
    JobUpdateIn,
    TaskOut,
    LastRunOut,
    JobOut,
    JobRunOut,
    BrokenJobOut,
    JobListOut,
    RunOut,
    RunListOut,
    ParameterOut,
    NotebookParametersOut,
)
