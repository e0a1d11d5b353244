"""JSON encoding of job arguments and state: plain JSON plus tagged dates and times, never pickle.

``encode`` turns a value into JSON-safe data, raising a :class:`SerializationError` that names the path of the
first value it cannot store (``args[1]``); ``decode`` reverses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from nbsched.exceptions import SerializationError

__all__ = ["decode", "encode"]

_TAG = "$nbsched"


def encode(value: Any, owner: str = "Job", path: str = "value") -> Any:
    """JSON-safe data for ``value``.

    :raises SerializationError: for a value JSON cannot hold, naming its path
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {_TAG: "float", "value": repr(value)}
        return value
    if isinstance(value, list | tuple):
        items = [encode(item, owner, f"{path}[{index}]") for index, item in enumerate(value)]
        return items if isinstance(value, list) else {_TAG: "tuple", "value": items}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SerializationError(owner, f"{path} key", key, "is not a string (JSON keys must be strings)")
            out[key] = encode(item, owner, f"{path}[{key!r}]")
        if _TAG in out:
            raise SerializationError(owner, f"{path} key", _TAG, "is reserved")
        return out
    if isinstance(value, datetime):
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "value": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "value": value.total_seconds()}
    raise SerializationError(
        owner,
        path,
        value,
        f"is a {type(value).__name__}, which cannot be stored as JSON "
        "(use str, int, float, bool, None, lists, dicts or dates)",
    )


def decode(data: Any) -> Any:
    """The value ``encode`` was given."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        tag = data.get(_TAG)
        if tag is None:
            return {key: decode(item) for key, item in data.items()}
        raw = data["value"]
        if tag == "tuple":
            return tuple(decode(item) for item in raw)
        if tag == "datetime":
            return datetime.fromisoformat(raw)
        if tag == "date":
            return date.fromisoformat(raw)
        if tag == "time":
            return time.fromisoformat(raw)
        if tag == "timedelta":
            return timedelta(seconds=raw)
        if tag == "float":
            return float(raw)
        raise SerializationError("Job", "tag", tag, "is not a known value type (written by a newer nbsched?)")
    return data
