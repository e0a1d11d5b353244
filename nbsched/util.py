"""APScheduler 3's ``apscheduler.util``: the same names (its ``__all__``), arguments and behaviour.

Kept so that ``from apscheduler.util import ...`` keeps working after the import is renamed; new code imports
from :mod:`nbsched.refs` and :mod:`nbsched.datetimes`. Two things differ on purpose: a pytz or dateutil zone comes
back as the ``ZoneInfo`` of the same name (so a naive time in it means what it says, also in a repeated or
skipped hour), and bad input raises nbsched's errors, which derive from the builtin APScheduler raises
(``ValueError``, ``TypeError``, ``KeyError``). :func:`obj_to_ref` also refuses bound methods of instances and
``__main__`` callables, whose references do not lead back to them in another process.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbsched.datetimes import datetime_repr, native_timezone, parse_datetime
from nbsched.exceptions import InvalidArgumentError, TimezoneLookupError
from nbsched.refs import check_callable_args as _check_callable_args
from nbsched.refs import maybe_ref, obj_to_ref, ref_to_obj
from nbsched.schedulers._config import parse_bool
from nbsched.schedulers.base import undefined

_tzinfo = tzinfo  # :func:`localize` takes APScheduler's parameter name, which shadows the class

__all__ = [
    "asbool",
    "asint",
    "astimezone",
    "check_callable_args",
    "convert_to_datetime",
    "datetime_ceil",
    "datetime_repr",
    "datetime_to_utc_timestamp",
    "get_callable_name",
    "localize",
    "maybe_ref",
    "normalize",
    "obj_to_ref",
    "ref_to_obj",
    "undefined",
    "utc_timestamp_to_datetime",
]


def asint(text: Any) -> int | None:
    """``int(text)``, ``None`` staying ``None``.

    :raises InvalidArgumentError: (a ``ValueError`` and ``TypeError``) for what ``int`` refuses
    """
    if text is None:
        return None
    try:
        return int(text)
    except (ValueError, TypeError):
        raise InvalidArgumentError("asint", "text", text, "is not an integer") from None


def asbool(obj: Any) -> bool:
    """A boolean text (``"true"``, ``"off"``, ``"1"``...) as a bool; any other object by its truth value.

    :raises ConfigurationError: (a ``ValueError``) for other text
    """
    return parse_bool("asbool", "obj", obj) if isinstance(obj, str) else bool(obj)


def astimezone(obj: Any) -> tzinfo | None:
    """A zone name or ``tzinfo`` as the zone nbsched uses (see :func:`nbsched.datetimes.native_timezone`).

    ``"UTC"`` is ``datetime.UTC``; other names are IANA keys, exactly as written. ``None`` stays ``None``.

    :raises TimezoneLookupError: (a ``KeyError``) for a name the zone database does not know
    :raises InvalidArgumentError: for a malformed name, a zone that calls itself ``local`` (it cannot be named
        in a store), or a value that is neither text nor a ``tzinfo``
    """
    if obj is None:
        return None
    if isinstance(obj, str):
        if obj == "UTC":
            return UTC
        try:
            return ZoneInfo(obj)
        except ZoneInfoNotFoundError:
            raise TimezoneLookupError(
                "astimezone", "obj", obj, "is not a known time zone name (e.g. 'Europe/Berlin')"
            ) from None
        except ValueError as exc:
            raise InvalidArgumentError("astimezone", "obj", obj, f"is not a time zone name ({exc})") from None
    if isinstance(obj, tzinfo):
        if obj.tzname(None) == "local":
            raise InvalidArgumentError(
                "astimezone", "obj", obj, "is the unnamed local zone; give its name instead (e.g. 'Europe/Helsinki')"
            )
        try:
            return native_timezone(obj)
        except (ZoneInfoNotFoundError, ValueError):
            raise TimezoneLookupError("astimezone", "obj", obj, "names a zone zoneinfo does not know") from None
    raise InvalidArgumentError("astimezone", "obj", obj, "must be a time zone name or a tzinfo")


def convert_to_datetime(input: Any, tz: tzinfo | str | None, arg_name: str) -> datetime | None:
    """A datetime, date or ISO 8601 string as an aware datetime.

    An aware datetime (or a string with ``Z``/``+HH:MM``) is returned as it is; a naive one is read as wall-clock
    time in ``tz`` (a ``tzinfo`` or a zone name) with :func:`localize`. ``None`` stays ``None``.

    :raises InvalidArgumentError: (``ValueError``/``TypeError``) for text that is not a date, a value of another
        type, or a naive value without ``tz``
    """
    dt = parse_datetime(input, "convert_to_datetime", arg_name)
    if dt is None or dt.tzinfo is not None:
        return dt
    if tz is None:
        raise InvalidArgumentError("convert_to_datetime", arg_name, input, "has no time zone and tz was not given")
    return localize(dt, astimezone(tz) if isinstance(tz, str) else tz)


def datetime_to_utc_timestamp(timeval: datetime | None) -> float | None:
    """Seconds since the epoch (a naive value is read as UTC); ``None`` stays ``None``."""
    if timeval is None:
        return None
    return (timeval.replace(tzinfo=UTC) if timeval.tzinfo is None else timeval).timestamp()


def utc_timestamp_to_datetime(timestamp: float | None) -> datetime | None:
    """The UTC datetime of seconds since the epoch; ``None`` stays ``None``."""
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def datetime_ceil(dateval: datetime) -> datetime:
    """``dateval`` rounded up to a whole second (counted in real time: right across a DST change)."""
    if not dateval.microsecond:
        return dateval
    step = timedelta(microseconds=1_000_000 - dateval.microsecond)
    if dateval.tzinfo is None:
        return dateval + step
    return (dateval.astimezone(UTC) + step).astimezone(dateval.tzinfo)


def get_callable_name(func: Any) -> str:
    """The display name of a callable: ``Class.method`` for methods, the qualified name of functions and
    classes, the class name of other callable objects (``partial`` included).

    :raises InvalidArgumentError: (a ``TypeError``) for an object that is not callable
    """
    if inspect.ismethod(func):
        owner = func.__self__
        cls = owner if inspect.isclass(owner) else type(owner)
        return f"{cls.__qualname__}.{func.__name__}"
    if inspect.isclass(func) or inspect.isfunction(func) or inspect.isbuiltin(func):
        return str(func.__qualname__)
    if callable(getattr(func, "__call__", None)):  # noqa: B004  # as APScheduler: an object with a callable __call__
        return type(func).__qualname__
    raise InvalidArgumentError("get_callable_name", "func", func, "is not callable")


def check_callable_args(func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Check that ``func(*args, **kwargs)`` binds (a callable without a readable signature passes).

    :raises JobArgumentError: (a ``ValueError``) naming the first problem
    :raises InvalidArgumentError: for an object that is not callable
    """
    if not callable(func):
        raise InvalidArgumentError("check_callable_args", "func", func, "is not callable")
    _check_callable_args(func, args, kwargs, owner="check_callable_args")


def localize(dt: datetime, tzinfo: tzinfo | None) -> datetime:
    """Attach a zone to a naive wall-clock time: the first of a repeated hour, and a time in a spring gap moved
    forward by the gap (pytz zones included, which pytz's own ``localize`` would place differently). With
    ``tzinfo=None``: :func:`normalize` of the naive time.

    :raises InvalidArgumentError: when ``tzinfo`` is not a ``tzinfo``
    """
    if tzinfo is not None and not isinstance(tzinfo, _tzinfo):
        raise InvalidArgumentError("localize", "tzinfo", tzinfo, "must be a tzinfo")
    return normalize(dt.replace(tzinfo=None if tzinfo is None else native_timezone(tzinfo)))


def normalize(dt: datetime) -> datetime:
    """The real instant of ``dt``, in its own zone: a wall-clock time in a spring gap moves forward by the gap.

    A naive ``dt`` is read as the machine's local time and stays naive.
    """
    if dt.tzinfo is None:
        return datetime.fromtimestamp(dt.timestamp())
    return dt.astimezone(UTC).astimezone(dt.tzinfo)
