"""JSON encoding of job arguments and state: plain JSON plus tagged dates and times, never pickle.

``encode`` turns a value into JSON-safe data, raising a :class:`SerializationError` that names the path of the
first value it cannot store (``args[1]``); ``decode`` reverses it.

Tagged values are ``{"$nbsched": <type>, "value": ...}``. A datetime in a named zone also carries the zone,
``{"$nbsched": "datetime", "value": "2026-03-29T09:00:00+02:00", "zone": "Europe/Berlin"}``, so that it comes back
in that zone rather than at a fixed offset (which is wrong across a DST change). The key is optional: state
written before it existed reads as before, a reader that does not know it (an older nbsched) still gets the same
instant from the offset, and a zone this machine does not have falls back to the offset too.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from nbsched.exceptions import SerializationError

__all__ = ["decode", "encode", "zone_key"]

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
        state = {_TAG: "datetime", "value": value.isoformat()}
        zone = zone_key(value.tzinfo)
        if zone is not None:
            state["zone"] = zone
        return state
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
            return _in_zone(datetime.fromisoformat(raw), data.get("zone"))
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


def zone_key(zone: tzinfo | None) -> str | None:
    """The IANA name of a named zone (``ZoneInfo("Europe/Berlin")``), ``None`` for a fixed offset or no zone."""
    key = getattr(zone, "key", None) if isinstance(zone, zoneinfo.ZoneInfo) else None
    return key if isinstance(key, str) and key else None


def _in_zone(value: datetime, zone: Any) -> datetime:
    """``value`` (read with its offset) as the same instant in the named ``zone``, when there is one to use."""
    if not isinstance(zone, str) or value.tzinfo is None:
        return value
    try:
        return value.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return value  # written on a machine with a zone this one lacks: the offset still gives the instant
