"""``nbsched.util`` against ``apscheduler.util`` (3.11), live: every name of its ``__all__``, called on a table of
inputs with both, giving the same results or exceptions of the same builtin kind.

Results are compared as values; datetimes as (instant, UTC offset, wall clock); zones by their offsets and names
over the DST changes of 2024. Where the argument is a pytz zone, nbsched is compared with APScheduler given the
``ZoneInfo`` of the same name (pytz's own ``localize`` places a repeated or skipped hour differently from
``ZoneInfo``; nbsched treats every zone as ``ZoneInfo``). Deliberate differences are asserted on their own in
``test_documented_differences``.
"""

from __future__ import annotations

import functools
import os.path
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler
import apscheduler.util as aps
import pytest
import pytz
from dateutil import tz as dateutil_tz

import nbsched
import nbsched.util as ours
from nbsched.exceptions import NbschedError

BERLIN = ZoneInfo("Europe/Berlin")


def _builtin(cls: type[BaseException]) -> type[BaseException]:
    """The nearest builtin exception class (``KeyError`` for zoneinfo's ``ZoneInfoNotFoundError``)."""
    return next(base for base in cls.__mro__ if base.__module__ == "builtins")


def _zone_key(zone: tzinfo) -> list[tuple[Any, ...]]:
    instants = [datetime(2024, month, 1, tzinfo=UTC) for month in (1, 4, 7, 11)]
    instants += [datetime(2024, 3, 31, 1, 30, tzinfo=UTC), datetime(2024, 10, 27, 0, 30, tzinfo=UTC)]
    return [(at.astimezone(zone).utcoffset(), at.astimezone(zone).tzname()) for at in instants]


def _key(value: Any) -> Any:
    """What must agree: datetimes as (instant, offset, wall clock), zones by behaviour, the rest as values."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return ("naive", value)
        return (value.astimezone(UTC), value.utcoffset(), value.replace(tzinfo=None))
    if isinstance(value, tzinfo):
        return ("zone", _zone_key(value))
    return value


def _outcome(func: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return "returns", func(*args)
    except Exception as exc:  # the exception is the outcome being compared
        return "raises", exc


# Functions that raise LookupError as it is (refs.ref_to_obj), not an nbsched error.
_PLAIN_LOOKUP = {"ref_to_obj", "maybe_ref"}


def _same(name: str, our_args: tuple[Any, ...], their_args: tuple[Any, ...] | None = None) -> None:
    ours_kind, ours_value = _outcome(getattr(ours, name), *our_args)
    theirs_kind, theirs_value = _outcome(getattr(aps, name), *(our_args if their_args is None else their_args))
    label = f"{name}{our_args!r}"
    assert ours_kind == theirs_kind, f"{label}: nbsched {ours_kind} {ours_value!r}, APScheduler {theirs_value!r}"
    if ours_kind == "raises":
        assert isinstance(ours_value, _builtin(type(theirs_value))), f"{label}: {ours_value!r} vs {theirs_value!r}"
        if name not in _PLAIN_LOOKUP:
            assert isinstance(ours_value, NbschedError), f"{label}: {ours_value!r} is not an nbsched error"
    else:
        assert _key(ours_value) == _key(theirs_value), label


def test_every_name_exists() -> None:
    assert set(aps.__all__) <= set(ours.__all__)
    for name in aps.__all__:
        assert hasattr(ours, name), name


def test_undefined() -> None:
    assert repr(ours.undefined) == repr(aps.undefined)
    assert bool(ours.undefined) is bool(aps.undefined) is False


@pytest.mark.parametrize(
    "value",
    [True, False, "true", " Yes ", "ON", "y", "t", "1", "false", "no", "Off", "n", "f", "0", "maybe", "", 2, 0,
     None, [], [0], 0.5],
    ids=repr,
)  # fmt: skip
def test_asbool(value: Any) -> None:
    _same("asbool", (value,))


@pytest.mark.parametrize("value", [None, 5, "5", " 7 ", 5.7, "5.0", "x", [], True], ids=repr)
def test_asint(value: Any) -> None:
    _same("asint", (value,))


class _LocalZone(tzinfo):
    """A zone that calls itself ``local`` (as tzlocal's unnamed fallbacks did)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "local"


ZONE_INPUTS: list[Any] = [
    None,
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Etc/UTC",
    "Etc/GMT-3",
    "Mars/Olympus",
    "local",
    "utc",
    " Europe/Berlin",
    "",
    "/etc/localtime",
    "../etc",
    5,
    3.5,
    b"UTC",
    BERLIN,
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    _LocalZone(),
    pytz.utc,
    pytz.timezone("Europe/Berlin"),
    pytz.timezone("Etc/GMT+5"),
    dateutil_tz.gettz("Europe/Berlin"),
    dateutil_tz.UTC,
    dateutil_tz.tzoffset("X", 3600),
]


@pytest.mark.parametrize("value", ZONE_INPUTS, ids=repr)
def test_astimezone(value: Any) -> None:
    _same("astimezone", (value,))


@pytest.mark.parametrize("zone", [pytz.timezone("Europe/Berlin"), dateutil_tz.gettz("Europe/Berlin")], ids=repr)
def test_astimezone_foreign_zone_is_zoneinfo(zone: tzinfo) -> None:
    assert ours.astimezone(zone) == BERLIN


DATE_INPUTS: list[tuple[Any, Any]] = [
    (None, BERLIN),
    (datetime(2024, 6, 1, 8, tzinfo=timezone(timedelta(hours=-3))), BERLIN),
    (datetime(2024, 6, 1, 8, tzinfo=BERLIN), None),
    (datetime(2024, 6, 1, 8), BERLIN),
    (datetime(2024, 6, 1, 8), None),
    (datetime(2024, 6, 1, 8), "Europe/Berlin"),
    (datetime(2024, 6, 1, 8), "UTC"),
    (datetime(2024, 6, 1, 8), "Mars/Olympus"),
    (datetime(2024, 3, 31, 2, 30), BERLIN),  # in the spring gap
    (datetime(2024, 10, 27, 2, 30), BERLIN),  # in the repeated hour
    (date(2024, 6, 1), BERLIN),
    ("2024-06-01", BERLIN),
    ("2024-06-01 08:00:00", BERLIN),
    ("2024-06-01 08:00:00", "Europe/Berlin"),
    ("2024-06-01 08:00:00", None),
    ("2024-06-01T08:00:00", UTC),
    ("2024-06-01 08:00:00.123456", BERLIN),
    ("2024-06-01 08:00:00Z", BERLIN),
    ("2024-06-01 08:00:00+05:30", BERLIN),
    ("2024-06-01 08:00:00-03:00", None),
    ("2024-03-31 02:30:00", BERLIN),
    ("2024-10-27 02:30:00", BERLIN),
    ("junk", BERLIN),
    ("2024-13-01", BERLIN),
    ("2024-02-30 08:00:00", BERLIN),
    ("", BERLIN),
    (5, BERLIN),
    (1.5, BERLIN),
    ([2024, 6, 1], BERLIN),
]


@pytest.mark.parametrize(("value", "zone"), DATE_INPUTS, ids=repr)
def test_convert_to_datetime(value: Any, zone: Any) -> None:
    _same("convert_to_datetime", (value, zone, "run_date"))


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    "wall", [datetime(2024, 6, 1, 8), datetime(2024, 3, 31, 2, 30), datetime(2024, 3, 10, 2, 30),
             datetime(2024, 10, 27, 2, 30), datetime(2024, 11, 3, 1, 30)], ids=str
)  # fmt: skip
def test_localize_and_convert_with_pytz_zones_as_zoneinfo(name: str, wall: datetime) -> None:
    _same("localize", (wall, pytz.timezone(name)), (wall, ZoneInfo(name)))
    _same("convert_to_datetime", (wall, pytz.timezone(name), "x"), (wall, ZoneInfo(name), "x"))
    _same("convert_to_datetime", (str(wall), dateutil_tz.gettz(name), "x"), (str(wall), ZoneInfo(name), "x"))


@pytest.mark.parametrize(
    "args",
    [
        (datetime(2024, 6, 1, 8), BERLIN),
        (datetime(2024, 3, 31, 2, 30), BERLIN),
        (datetime(2024, 10, 27, 2, 30), BERLIN),
        (datetime(2024, 6, 1, 8), UTC),
        (datetime(2024, 6, 1, 8), timezone(timedelta(hours=2))),
        (datetime(2024, 6, 1, 8), pytz.utc),
        (datetime(2024, 6, 1, 8), pytz.FixedOffset(90)),
        (datetime(2024, 6, 1, 8), "Europe/Berlin"),
        (datetime(2024, 6, 1, 8), None),
    ],
    ids=repr,
)
def test_localize(args: tuple[Any, ...]) -> None:
    _same("localize", args)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 6, 1, 8, tzinfo=BERLIN),
        datetime(2024, 3, 31, 2, 30, tzinfo=BERLIN),
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),
        datetime(2024, 6, 1, 8, 0, 0, 5, tzinfo=UTC),
        datetime(2024, 6, 1, 8, tzinfo=pytz.timezone("Europe/Berlin")),  # LMT, as a program may write it
        pytz.timezone("Europe/Berlin").localize(datetime(2024, 6, 1, 8)),
        datetime(2024, 6, 1, 8),
    ],
    ids=repr,
)
def test_normalize(value: datetime) -> None:
    _same("normalize", (value,))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 6, 1, 8, 0, 0, tzinfo=BERLIN),
        datetime(2024, 6, 1, 8, 0, 0, 1, tzinfo=BERLIN),
        datetime(2024, 6, 1, 8, 0, 59, 999999, tzinfo=UTC),
        datetime(2024, 10, 27, 2, 59, 59, 500000, tzinfo=BERLIN),  # the next second is 02:00 CET
        datetime(2024, 3, 31, 1, 59, 59, 1, tzinfo=BERLIN),  # the next second is 03:00 CEST
        datetime(2024, 12, 31, 23, 59, 59, 999999),
        datetime(2024, 6, 1, 8, 0, 0, 250000),
    ],
    ids=repr,
)
def test_datetime_ceil(value: datetime) -> None:
    _same("datetime_ceil", (value,))


@pytest.mark.parametrize(
    "value",
    [
        None,
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 6, 1, 8, 0, 0, 123456, tzinfo=BERLIN),
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),
        datetime(1960, 6, 1, 8, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 6, 1, 8, 0, 0, 999999),
        datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC),
    ],
    ids=repr,
)
def test_datetime_to_utc_timestamp(value: datetime | None) -> None:
    _same("datetime_to_utc_timestamp", (value,))


@pytest.mark.parametrize("value", [None, 0, 1.5, -86400.25, 1717228800.123456, 1717228800], ids=repr)
def test_utc_timestamp_to_datetime(value: float | None) -> None:
    _same("utc_timestamp_to_datetime", (value,))
    result = ours.utc_timestamp_to_datetime(value)
    assert result is None or result.tzinfo is UTC


def module_function(a: int, b: int = 2) -> int:
    """A module-level function."""
    return a + b


class Thing:
    """A class with every kind of method."""

    def method(self, x: int) -> int:
        return x

    @classmethod
    def cmethod(cls, x: int) -> int:
        return x

    @staticmethod
    def smethod(x: int) -> int:
        return x

    def __call__(self, x: int) -> int:
        return x


def _nested() -> Callable[..., Any]:
    def inner() -> None:
        """A closure."""

    return inner


CALLABLES: list[Any] = [
    module_function,
    len,
    print,
    [].append,
    (1).__add__,
    Thing,
    Thing().method,
    Thing.cmethod,
    Thing.smethod,
    Thing.method,
    Thing(),
    functools.partial(module_function, 1),
    lambda: None,
    _nested(),
    os.path.join,
    datetime.now,
    5,
    "text",
    None,
]


@pytest.mark.parametrize("func", CALLABLES, ids=repr)
def test_get_callable_name(func: Any) -> None:
    _same("get_callable_name", (func,))


@pytest.mark.parametrize(
    "func",
    [module_function, Thing, Thing.cmethod, Thing.smethod, os.path.join, functools.partial(module_function, 1),
     lambda: None, _nested(), 5, None, len],
    ids=repr,
)  # fmt: skip
def test_obj_to_ref(func: Any) -> None:
    _same("obj_to_ref", (func,))


@pytest.mark.parametrize(
    "ref",
    ["os.path:join", "os:path.join", "os:sep", "datetime:datetime.now", "no_such_module_xyz:f", "os:no_such_name",
     "os.path:join.nothing", "nocolon", 5, None, b"os:sep"],
    ids=repr,
)  # fmt: skip
def test_ref_to_obj_and_maybe_ref(ref: Any) -> None:
    _same("ref_to_obj", (ref,))
    if not isinstance(ref, str) or ":" in ref:
        _same("maybe_ref", (ref,))


def _decorated(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(1, *args, **kwargs)  # supplies the first argument itself

    return wrapper


@_decorated
def needs_session(session: int, x: int) -> int:
    """Called as ``needs_session(x)``: the decorator supplies ``session``."""
    return session + x


def positional_only(a: int, /, b: int, *, c: int, d: int = 4) -> None:
    """Every kind of parameter."""


def var_everything(a: int, *args: int, **kwargs: int) -> None:
    """Takes anything after ``a``."""


CALL_SHAPES: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
    (module_function, (1,), {}),
    (module_function, (1, 2), {}),
    (module_function, (), {"a": 1}),
    (module_function, (1,), {"a": 1}),  # a given twice
    (module_function, (), {}),  # a missing
    (module_function, (1, 2, 3), {}),  # too many
    (module_function, (1,), {"z": 1}),  # unknown keyword
    (positional_only, (1, 2), {"c": 3}),
    (positional_only, (1,), {"b": 2, "c": 3}),
    (positional_only, (), {"a": 1, "b": 2, "c": 3}),  # a is positional-only
    (positional_only, (1, 2), {}),  # c missing
    (positional_only, (1, 2, 3), {"c": 3}),  # too many
    (var_everything, (1, 2, 3), {"x": 1}),
    (var_everything, (), {"x": 1}),  # a missing
    (needs_session, (2,), {}),  # the wrapper's own signature counts, as in APScheduler
    (Thing().method, (1,), {}),
    (Thing().method, (), {}),
    (Thing.cmethod, (1,), {}),
    (Thing(), (1,), {}),
    (Thing, (), {}),
    (functools.partial(module_function, 1), (), {"b": 3}),
    (functools.partial(module_function, 1), (2, 3), {}),
    (print, (1, 2), {"sep": ","}),
    (len, ([],), {}),
    (5, (), {}),
]


@pytest.mark.parametrize(("func", "args", "kwargs"), CALL_SHAPES, ids=repr)
def test_check_callable_args(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _same("check_callable_args", (func, args, kwargs))


def test_documented_differences() -> None:
    """Where nbsched.util accepts more or refuses more than apscheduler.util, on purpose."""
    # Fractions of a second are read as fractions (APScheduler reads '.5' as 5 microseconds).
    assert aps.convert_to_datetime("2024-06-01 08:00:00.5", UTC, "x").microsecond == 5
    assert ours.convert_to_datetime("2024-06-01 08:00:00.5", UTC, "x").microsecond == 500000
    # Dates typed without seconds, and offsets without a colon, are read (APScheduler: ValueError).
    for text in ("2024-06-01 08:00", "2024-06-01 08:00:00+0200"):
        with pytest.raises(ValueError, match="Invalid date string"):
            aps.convert_to_datetime(text, BERLIN, "x")
        assert ours.convert_to_datetime(text, BERLIN, "x") is not None
    # A bound method of an instance has no reference that leads back to it (APScheduler returns one that does
    # not resolve to the same object); neither has a callable of __main__.
    assert aps.obj_to_ref(Thing().method) == f"{__name__}:Thing.method"
    with pytest.raises(ValueError, match="bound to an instance"):
        ours.obj_to_ref(Thing().method)


def test_version() -> None:
    assert isinstance(nbsched.version, type(apscheduler.version))
    assert isinstance(nbsched.version_info, type(apscheduler.version_info))
    assert nbsched.version == nbsched.__version__
    numbers = [part for part in nbsched.version_info if isinstance(part, int)]
    assert numbers
    assert nbsched.version.startswith(".".join(str(number) for number in numbers[:2]))
    assert {"version", "version_info"} <= set(nbsched.__all__)
