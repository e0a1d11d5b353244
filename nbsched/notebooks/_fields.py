"""The field converters and checks of the notebook and cell tasks (:mod:`nbsched.notebooks.tasks`).

Converters make input lenient (a path-like, a set of formats, seconds as text); validators make it strict,
raising :class:`~nbsched.exceptions.JobArgumentError` naming the class, the field and the value.
"""

from __future__ import annotations

import contextvars
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

import attrs

from nbsched import jsonstate
from nbsched.exceptions import JobArgumentError, SerializationError
from nbsched.limits import check_seconds, text_problem

__all__ = ["NAME_CHARS", "NAME_VALUE_CHARS", "NOTEBOOK_SECRETS_VERSION", "OUTPUT_FORMATS", "STATE_VERSION"]

#: renderings a run can write (the notebook itself is always written)
OUTPUT_FORMATS = ("ipynb", "html")
#: version of the JSON state written by ``to_dict``
STATE_VERSION = 1
#: version of a notebook's state that lists ``secret_parameters`` (written only then, so that a notebook without
#: secrets keeps the state an older nbsched reads, and one with secrets is refused there, not shown unmasked)
NOTEBOOK_SECRETS_VERSION = 2
#: the most characters of one parameter value, and of the whole, a notebook's default job name shows
NAME_VALUE_CHARS = 40
NAME_CHARS = 200

# Set while a spec is rebuilt from stored state: the file checks made at creation are not repeated then (the
# notebook may be gone by now; the run will say so).
_LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("nbsched_task_loading", default=False)


def _absolute(value: Any) -> str:
    if value is None:
        return str(Path.cwd())
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return str(Path.cwd() / Path(value).expanduser()) if isinstance(value, str) else value


def _optional_path(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _mapping(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _formats(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    return value


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_seconds() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if value is None and attribute.default is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            extra = " or None" if attribute.default is None else ""
            raise JobArgumentError(owner, attribute.name, value, f"must be a positive number of seconds{extra}")
        check_seconds(owner, attribute.name, value, JobArgumentError)  # a wait that long overflows timers

    return check


def _check_bool() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if not isinstance(value, bool):
            raise JobArgumentError(owner, attribute.name, value, "must be True or False")

    return check


def _check_optional_str() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if value is not None and (not isinstance(value, str) or not value):
            raise JobArgumentError(owner, attribute.name, value, "must be a non-empty string or None")

    return check


def _check_formats() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if not isinstance(value, tuple):
            raise JobArgumentError(owner, "output_formats", value, "must be a list of format names")
        for item in value:
            if item not in OUTPUT_FORMATS:
                raise JobArgumentError(
                    owner, "output_formats", item, f"is not a known format (known: {', '.join(OUTPUT_FORMATS)})"
                )

    return check


def _check_parameters(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise JobArgumentError("Notebook", "parameters", value, "must be a dict of name -> value")
    from nbsched.notebooks.parameters import render_value

    for name, item in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise JobArgumentError("Notebook", "parameter", name, "is not a valid Python name")
        try:
            jsonstate.encode(item, "Notebook", f"parameters[{name!r}]")
            rendered = render_value(item)
        except SerializationError:
            raise
        except TypeError as exc:
            raise JobArgumentError("Notebook", f"parameters[{name!r}]", item, f"cannot be passed: {exc}") from None
        problem = text_problem(rendered)  # a lone surrogate: the notebook (UTF-8) could not hold it
        if problem is not None and "NUL" not in problem:
            raise JobArgumentError("Notebook", f"parameters[{name!r}]", item, f"cannot be passed: {problem}")


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, set | frozenset):
        return tuple(sorted(value, key=str))
    if isinstance(value, list | tuple):
        return tuple(dict.fromkeys(value))  # once each, in the order given
    return value


def _check_secret_parameters(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # attrs runs validators once every field is set: the parameters are known here.
    if not isinstance(value, tuple) or not all(isinstance(name, str) for name in value):
        raise JobArgumentError("Notebook", "secret_parameters", value, "must be a list of parameter names")
    for name in value:
        if name not in instance.parameters:
            given = ", ".join(sorted(instance.parameters)) or "none"
            raise JobArgumentError(
                "Notebook", "secret_parameters", name, f"is not one of the parameters given (given: {given})"
            )


def _check_version(owner: str, state: Mapping[str, Any], task_type: str, newest: int = STATE_VERSION) -> None:
    version = state.get("version")
    if not isinstance(version, int) or version > newest:
        raise SerializationError(owner, "version", version, f"is not supported (this nbsched reads up to {newest})")
    if state.get("type") != task_type:
        raise SerializationError(owner, "type", state.get("type"), f"is not {task_type!r}")


def _default_folder() -> Path:
    from nbsched.paths import runs_dir

    return runs_dir("_calls", uuid4().hex)
