"""Scheduler configuration: APScheduler 3's three forms, checked strictly.

1. keyword arguments with instances: ``BackgroundScheduler(jobstores={"default": MemoryJobStore()})``;
2. nested dicts with ``"type"`` (plugin alias) or ``"class"`` (reference): ``executors={"default": {"type":
   "threadpool", "max_workers": 20}}``; a bare alias string also works: ``jobstores={"default": "sqlalchemy"}``;
3. a flat "global config" dict with dotted, prefixed keys: ``{"apscheduler.timezone": "UTC",
   "apscheduler.executors.default.max_workers": "20"}`` (``nbsched.`` prefixes work too).

Unlike APScheduler, an unknown key is an error that names it, not silently ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import attrs

from nbsched.abc import Clock, Executor, JobStore
from nbsched.datetimes import as_timezone, local_timezone
from nbsched.exceptions import ConfigurationError, InvalidArgumentError, PluginLookupError, UnknownPluginError
from nbsched.limits import check_seconds
from nbsched.plugins import load_plugin
from nbsched.refs import ref_to_obj

__all__ = [
    "JobDefaults",
    "create_plugin",
    "event_loop",
    "flatten_gconfig",
    "job_defaults",
    "logger",
    "parse_bool",
    "reference",
]

GENERAL_KEYS = frozenset({"logger", "timezone", "jobstore_retry_interval", "job_defaults", "jobstores", "executors"})
#: nbsched's own options (besides APScheduler's)
NBSCHED_KEYS = frozenset(
    {"clock", "keep_runs", "keep_runs_for", "heartbeat_interval", "lost_after", "max_concurrent_runs", "manage_only"}
)
JOB_DEFAULT_KEYS = frozenset({"misfire_grace_time", "coalesce", "max_instances"})
PREFIXES = ("apscheduler.", "nbsched.")


@attrs.frozen(kw_only=True)
class JobDefaults:
    """Defaults for jobs that do not set these options (nbsched's defaults differ on ``misfire_grace_time``)."""

    misfire_grace_time: float | None = None
    coalesce: bool = True
    max_instances: int = 1


def flatten_gconfig(gconfig: Mapping[str, Any], prefix: str | None) -> dict[str, Any]:
    """Turn ``{"apscheduler.a.b": 1}`` into ``{"a": {"b": 1}}``, keeping only keys with the prefix."""
    if not isinstance(gconfig, Mapping):
        raise ConfigurationError("configure", "gconfig", gconfig, "must be a dict")
    if prefix in PREFIXES:
        prefixes: tuple[str, ...] = PREFIXES  # "apscheduler." and "nbsched." name the same options
    elif prefix:
        prefixes = (prefix,)
    else:
        prefixes = ("",)  # APScheduler: an empty prefix takes every key
    config: dict[str, Any] = {}
    for key, value in gconfig.items():
        if not isinstance(key, str):
            continue
        stripped = next((key[len(p) :] for p in prefixes if key.startswith(p)), None)
        if stripped is None:
            continue  # gconfig is an application's global config: other keys belong to others
        parts = stripped.split(".")
        parent = config
        for part in parts[:-1]:
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigurationError("configure", key, value, "conflicts with another key")
            parent = child
        parent[parts[-1]] = value
    return config


def parse_bool(owner: str, field: str, value: Any) -> bool:
    """Booleans, and the text forms config files use (``"true"``, ``"off"``, ``"1"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"true", "yes", "on", "y", "t", "1"}:
            return True
        if text in {"false", "no", "off", "n", "f", "0"}:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigurationError(owner, field, value, "must be true or false")


def number(owner: str, field: str, value: Any, *, integer: bool = False, optional: bool = True) -> Any:
    """A positive number (or ``None`` when optional); numbers given as text are accepted."""
    return _number(owner, field, value, integer=integer, optional=optional)


def _number(owner: str, field: str, value: Any, *, integer: bool, optional: bool) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if integer else float(value)
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigurationError(owner, field, value, f"must be {kind}" + (" or None" if optional else ""))
    return value


def job_defaults(owner: str, value: Any) -> JobDefaults:
    """Check a ``job_defaults`` mapping."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(owner, "job_defaults", value, "must be a dict")
    unknown = sorted(set(value) - JOB_DEFAULT_KEYS)
    if unknown:
        raise ConfigurationError(
            owner, "job_defaults", unknown[0], f"is not a job default (known: {', '.join(sorted(JOB_DEFAULT_KEYS))})"
        )
    fields: dict[str, Any] = {}
    if "misfire_grace_time" in value:
        fields["misfire_grace_time"] = _number(
            owner, "job_defaults.misfire_grace_time", value["misfire_grace_time"], integer=False, optional=True
        )
        if fields["misfire_grace_time"] is not None:  # as for a job's own (nbsched.limits)
            check_seconds(owner, "job_defaults.misfire_grace_time", fields["misfire_grace_time"], ConfigurationError)
    if "coalesce" in value:
        fields["coalesce"] = parse_bool(owner, "job_defaults.coalesce", value["coalesce"])
    if "max_instances" in value:
        fields["max_instances"] = _number(
            owner, "job_defaults.max_instances", value["max_instances"], integer=True, optional=False
        )
    return JobDefaults(**fields)


def timezone(owner: str, value: Any) -> tzinfo:
    """The scheduler's default time zone (local when not given)."""
    try:
        return as_timezone(value, owner, "timezone") or local_timezone()
    except InvalidArgumentError as exc:
        raise ConfigurationError(owner, "timezone", value, exc.problem) from None


def retry_interval(owner: str, value: Any) -> float:
    return float(_number(owner, "jobstore_retry_interval", value, integer=False, optional=False))


def reference(owner: str, field: str, value: Any) -> Any:
    """Resolve an option given as a ``"package.module:name"`` reference (other values are returned as they are).

    :raises ConfigurationError: naming the option when the reference is malformed or does not resolve
    """
    if not isinstance(value, str):
        return value
    try:
        return ref_to_obj(value)
    except InvalidArgumentError:
        raise ConfigurationError(owner, field, value, "is not a 'package.module:name' reference") from None
    except LookupError as exc:
        raise ConfigurationError(owner, field, value, f"cannot be imported: {exc}") from None


def logger(owner: str, value: Any) -> logging.Logger:
    """The scheduler's logger: a :class:`logging.Logger`, a reference to one, or ``None`` for the default."""
    resolved = reference(owner, "logger", value)
    if resolved is None:
        return logging.getLogger("nbsched.scheduler")
    if not isinstance(resolved, logging.Logger):
        problem = "must be a logging.Logger or a 'package.module:name' reference to one"
        if isinstance(value, str):
            problem = f"names {type(resolved).__name__} {resolved!r}, not a logging.Logger"
        raise ConfigurationError(owner, "logger", value, problem)
    return resolved


def event_loop(owner: str, value: Any) -> asyncio.AbstractEventLoop | None:
    """An asyncio scheduler's loop: an event loop, a reference to one, or ``None`` (the running loop at start)."""
    resolved = reference(owner, "event_loop", value)
    if resolved is not None and not isinstance(resolved, asyncio.AbstractEventLoop):
        problem = "must be an asyncio event loop or a 'package.module:name' reference to one"
        if isinstance(value, str):
            problem = f"names {type(resolved).__name__} {resolved!r}, not an asyncio event loop"
        raise ConfigurationError(owner, "event_loop", value, problem)
    return resolved


def clock(owner: str, value: Any) -> Clock:
    if not isinstance(value, Clock):
        raise ConfigurationError(owner, "clock", value, "must be a nbsched.clock.Clock (SystemClock, ManualClock)")
    return value


def _class_ref(ref: str) -> str:
    # Configs written for APScheduler name its classes; migrating programs only change their imports.
    return "nbsched." + ref[len("apscheduler.") :] if ref.startswith("apscheduler.") else ref


def create_plugin(owner: str, kind: str, alias: str, value: Any) -> Any:
    """An executor or job store instance from any of the three config forms.

    :param kind: ``"executor"`` or ``"jobstore"``
    :param alias: the name it is configured under (for messages)
    """
    base: type[Any] = Executor if kind == "executor" else JobStore
    field = f"{kind}s[{alias!r}]"
    if isinstance(value, base):
        return value
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            owner, field, value, f"must be a {kind.replace('jobstore', 'job store')} instance, a plugin alias or a dict"
        )
    options = dict(value)
    plugin = options.pop("type", None)
    class_ref = options.pop("class", None)
    try:
        if plugin is not None:
            cls = load_plugin(kind, plugin)
        elif class_ref is not None:
            cls = ref_to_obj(_class_ref(class_ref)) if isinstance(class_ref, str) else class_ref
        else:
            raise ConfigurationError(owner, field, value, 'needs a "type" (plugin alias) or a "class" (reference)')
    except PluginLookupError as exc:
        raise UnknownPluginError(owner, f"{field}.type", plugin, f"is unknown: {exc.message}") from None
    except LookupError as exc:
        raise UnknownPluginError(owner, f"{field}.class", class_ref, f"cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigurationError(owner, field, cls, f"is not a {kind} class")
    try:
        return cls(**options)
    except InvalidArgumentError:
        raise
    except TypeError as exc:
        raise ConfigurationError(owner, field, options, f"are not valid options for {cls.__name__}: {exc}") from None
