"""The checks of a job's arguments: which attributes ``add_job``, ``modify_job`` and the faces may set on a
:class:`~nbsched.job.Job`, and what each must be.

:func:`checked_changes` is what :meth:`Job.create <nbsched.job.Job.create>` and ``modify_job`` run before they
change a job: every bad value raises :class:`~nbsched.exceptions.JobArgumentError` naming the field and the value,
and nothing is applied unless all are good.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from nbsched.abc import Task, Trigger
from nbsched.datetimes import convert_to_datetime
from nbsched.exceptions import InvalidArgumentError, JobArgumentError, UnreferenceableError
from nbsched.limits import MAX_RETRIES, check_seconds, id_problem, text_problem
from nbsched.refs import callable_name, check_callable_args, obj_to_ref, ref_to_obj

if TYPE_CHECKING:
    from nbsched.job import Job

__all__ = ["MODIFIABLE", "checked_changes", "shared"]

#: the attributes of a job that ``add_job`` and ``modify_job`` may set
MODIFIABLE = frozenset(
    {
        "func",
        "args",
        "kwargs",
        "name",
        "trigger",
        "executor",
        "misfire_grace_time",
        "coalesce",
        "max_instances",
        "next_run_time",
        "max_runs",
        "retries",
        "retry_backoff",
        "tags",
        "id",
    }
)


# Jobs mostly share a few sets of option names and tags (often none): one object each instead of one per job,
# fewer objects for the garbage collector to walk in a process holding thousands of jobs.
_SHARED_SETS: dict[frozenset[str], frozenset[str]] = {}


def shared(value: frozenset[str]) -> frozenset[str]:
    """The one shared copy of a set of option names or tags equal to ``value`` (``value`` itself once many are
    kept)."""
    if len(_SHARED_SETS) >= 1024:
        return value
    return _SHARED_SETS.setdefault(value, value)


def checked_changes(job: Job, owner: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The attribute values that ``changes`` give ``job``, each checked (``job`` itself is left as it is).

    :param owner: what the arguments were given to (``add_job``, ``modify_job``), named in errors
    :raises JobArgumentError: naming the first bad argument and its value
    """
    unknown = sorted(set(changes) - MODIFIABLE)
    if unknown:
        raise JobArgumentError(owner, unknown[0], changes[unknown[0]], "is not a modifiable attribute of Job")
    new: dict[str, Any] = {}
    if "id" in changes:
        value = changes["id"]
        if job.id and value != job.id:
            raise JobArgumentError(owner, "id", value, "cannot be changed once the job has one")
        if not isinstance(value, str) or not value:
            raise JobArgumentError(owner, "id", value, "must be a non-empty string")
        if not value.strip():
            raise JobArgumentError(owner, "id", value, "must not be only whitespace")
        problem = id_problem(value)
        if problem is not None:
            raise JobArgumentError(owner, "id", value, problem)
        new["id"] = value
    if "func" in changes:
        func, func_ref = _resolve_func(owner, changes["func"])
        new["func"], new["func_ref"] = func, func_ref
        if "name" not in changes and (not job.name or job.func is not None):
            new["name"] = func.describe() if isinstance(func, Task) else callable_name(func)
    if "args" in changes:
        value = changes["args"]
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise JobArgumentError(owner, "args", value, "must be a list or tuple of positional arguments")
        new["args"] = tuple(value)
    if "kwargs" in changes:
        value = changes["kwargs"]
        if not isinstance(value, Mapping):
            raise JobArgumentError(owner, "kwargs", value, "must be a dict of keyword arguments")
        new["kwargs"] = dict(value)
    if "name" in changes:
        value = changes["name"]
        if not isinstance(value, str) or not value:
            raise JobArgumentError(owner, "name", value, "must be a non-empty string")
        _check_text(owner, "name", value)
        new["name"] = value
    if "trigger" in changes:
        if not isinstance(changes["trigger"], Trigger):
            raise JobArgumentError(owner, "trigger", changes["trigger"], "must be a trigger instance")
        new["trigger"] = changes["trigger"]
    if "executor" in changes:
        if not isinstance(changes["executor"], str) or not changes["executor"]:
            raise JobArgumentError(owner, "executor", changes["executor"], "must be an executor alias (str)")
        new["executor"] = changes["executor"]
    if "misfire_grace_time" in changes:
        new["misfire_grace_time"] = _positive_number(owner, "misfire_grace_time", changes["misfire_grace_time"])
    if "coalesce" in changes:
        if not isinstance(changes["coalesce"], bool):
            raise JobArgumentError(owner, "coalesce", changes["coalesce"], "must be True or False")
        new["coalesce"] = changes["coalesce"]
    if "max_instances" in changes:
        new["max_instances"] = _positive_int(owner, "max_instances", changes["max_instances"], optional=False)
    if "max_runs" in changes:
        new["max_runs"] = _positive_int(owner, "max_runs", changes["max_runs"], optional=True)
    if "retries" in changes:
        value = changes["retries"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
            raise JobArgumentError(owner, "retries", value, f"must be a non-negative integer of at most {MAX_RETRIES}")
        new["retries"] = value
    if "retry_backoff" in changes:
        value = changes["retry_backoff"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:  # NaN too
            raise JobArgumentError(owner, "retry_backoff", value, "must be a non-negative number of seconds")
        check_seconds(owner, "retry_backoff", value, JobArgumentError)
        new["retry_backoff"] = float(value)
    if "tags" in changes:
        value = changes["tags"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, Iterable) or not all(isinstance(tag, str) for tag in value):
            raise JobArgumentError(owner, "tags", changes["tags"], "must be a list of strings")
        for tag in value:
            _check_text(owner, "tags", tag)
        new["tags"] = shared(frozenset(value))
    if "next_run_time" in changes:
        trigger = new.get("trigger", job.trigger)
        tz = getattr(trigger, "timezone", None)
        try:
            new["next_run_time"] = convert_to_datetime(changes["next_run_time"], tz, owner, "next_run_time")
        except InvalidArgumentError as exc:
            raise JobArgumentError(owner, "next_run_time", changes["next_run_time"], exc.problem) from None
        new["pause_after_run"] = False  # a new next run time (pause, resume, reschedule) ends a run_now's pause

    target: Callable[..., Any] | None = new.get("func", job.func)
    if target is not None and not isinstance(target, Task) and ("args" in new or "kwargs" in new or "func" in new):
        check_callable_args(target, new.get("args", job.args), new.get("kwargs", job.kwargs), owner)
    job_id = new.get("id", job.id)
    if isinstance(target, Task) and job_id and ("id" in new or "func" in new):
        target.validate(job_id, owner)
    return new


def _resolve_func(owner: str, value: Any) -> tuple[Callable[..., Any], str | None]:
    if isinstance(value, Task):
        return cast(Any, value), None  # a task sits where APScheduler keeps the callable
    if isinstance(value, str):
        try:
            func = ref_to_obj(value)
        except (InvalidArgumentError, LookupError) as exc:
            raise JobArgumentError(owner, "func", value, f"cannot be resolved: {exc}") from None
        if not callable(func):
            raise JobArgumentError(owner, "func", value, "does not name a callable")
        return func, value
    if not callable(value):
        raise JobArgumentError(owner, "func", value, "must be a callable or a 'package.module:function' reference")
    try:
        return value, obj_to_ref(value)
    except UnreferenceableError:
        return value, None  # fine for the memory store; persistent stores refuse it with the reason


def _positive_number(owner: str, field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:  # NaN too
        raise JobArgumentError(owner, field, value, "must be a positive number of seconds or None")
    check_seconds(owner, field, value, JobArgumentError)
    return value


def _check_text(owner: str, field: str, value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise JobArgumentError(owner, field, value, problem)


def _positive_int(owner: str, field: str, value: Any, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise JobArgumentError(owner, field, value, "must be a positive integer" + (" or None" if optional else ""))
    return value
