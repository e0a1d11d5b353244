"""The entries of a definitions file (``nbsched apply``): the file read with limits, and each entry checked for
the shape ``apply`` reads it in, so a hand-written mistake is one error naming the entry's field and its value.

The format is described in :mod:`nbsched.cli.definitions`; reading the text (no YAML aliases, bounded nesting)
is :mod:`nbsched.cli.documents`'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nbsched.cli.documents import load_document
from nbsched.exceptions import InvalidArgumentError

__all__ = ["FORMAT_VERSION", "KNOWN_KEYS", "OPTIONS", "read_entries"]

#: version of the definitions file format
FORMAT_VERSION = 1
#: the job options a definition may give, as ``add_job`` takes them
OPTIONS = ("executor", "misfire_grace_time", "coalesce", "max_instances", "max_runs", "retries", "retry_backoff")
#: every key of an entry
KNOWN_KEYS = frozenset(
    {"id", "name", "schedule", "trigger", "cron", "every", "at", "timezone", "task", "func", "args", "kwargs"}
    | set(OPTIONS)
    | {"tags", "paused"}
)

_SHAPES: dict[str, Callable[[Any], bool]] = {
    "a mapping": lambda value: isinstance(value, dict),
    "a list": lambda value: isinstance(value, list),
    "a string": lambda value: isinstance(value, str),
    "a list of strings": lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value),
}


def read_entries(path: str, given: str | None) -> list[dict[str, Any]]:
    """The entries of the definitions file at ``path`` (``-``: stdin), each checked.

    :param given: ``--format`` (default: from the extension, else YAML)
    :raises InvalidArgumentError: naming the file, or the entry's field, and the value
    """
    owner = "apply"
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(owner, "file", path, f"cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # not UTF-8
        raise InvalidArgumentError(owner, "file", path, f"is not text: {exc}") from None
    fmt = given or ("json" if path.lower().endswith(".json") else "yaml")
    return _entries(load_document(text, fmt, owner, "file", path), path)


def _entries(document: Any, path: str) -> list[dict[str, Any]]:
    owner = "apply"
    if not isinstance(document, Mapping) or not isinstance(document.get("jobs"), list):
        raise InvalidArgumentError(owner, "file", path, 'has no "jobs" list')
    version = document.get("version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidArgumentError(owner, "version", version, f"is not supported (this nbsched reads {FORMAT_VERSION})")
    seen: set[str] = set()
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(document["jobs"]):
        where = f"jobs[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidArgumentError(owner, where, entry, "must be a mapping")
        job_id = entry.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise InvalidArgumentError(owner, f"{where}.id", job_id, "must be a non-empty string")
        if job_id in seen:
            raise InvalidArgumentError(owner, f"{where}.id", job_id, "appears twice in the file")
        unknown = sorted(set(entry) - KNOWN_KEYS)
        if unknown:
            raise InvalidArgumentError(owner, f"{where}.{unknown[0]}", entry[unknown[0]], "is not a definition key")
        _check_shapes(entry, where)
        seen.add(job_id)
        entries.append(dict(entry))
    return entries


def _check_shapes(entry: Mapping[str, Any], where: str) -> None:
    """The keys ``apply`` reads before the job is built have the shape it reads them in."""
    task = entry.get("task")
    nested: Mapping[str, Any] = task if isinstance(task, dict) else {}
    fields = [
        ("task", task, "a mapping"),
        ("task.parameters", nested.get("parameters"), "a mapping"),
        ("task.path", nested.get("path"), "a string"),
        ("task.secret_parameters", nested.get("secret_parameters"), "a list of strings"),
        ("kwargs", entry.get("kwargs"), "a mapping"),
        ("args", entry.get("args"), "a list"),
        ("tags", entry.get("tags"), "a list of strings"),
    ]
    for field, value, shape in fields:
        if value is not None and not _SHAPES[shape](value):
            raise InvalidArgumentError("apply", f"{where}.{field}", value, f"must be {shape}")
