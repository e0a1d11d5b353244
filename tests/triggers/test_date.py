"""DateTrigger: one fire time, APScheduler 3's text forms, JSON and pickle round trips, exact errors."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.date import DateTrigger

BERLIN = ZoneInfo("Europe/Berlin")
PARIS = ZoneInfo("Europe/Paris")
CHICAGO = ZoneInfo("America/Chicago")


def test_fires_once_at_run_date() -> None:
    trigger = DateTrigger(datetime(2026, 12, 1, 8), "Europe/Paris")
    expected = datetime(2026, 12, 1, 8, tzinfo=PARIS)
    assert trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC)) == expected
    # a run date in the past is still returned when the job has not fired (APScheduler 3 does the same)
    assert trigger.get_next_fire_time(None, datetime(2027, 1, 1, tzinfo=UTC)) == expected
    assert trigger.get_next_fire_time(expected, datetime(2027, 1, 1, tzinfo=UTC)) is None


def test_text_date_and_date_objects_are_read_in_the_zone() -> None:
    assert DateTrigger("2026-12-01 08:00", "Europe/Paris").run_date == datetime(2026, 12, 1, 8, tzinfo=PARIS)
    assert DateTrigger("2026-12-01T08:00:30Z", "Europe/Paris").run_date == datetime(2026, 12, 1, 9, 0, 30, tzinfo=PARIS)
    assert DateTrigger(date(2026, 7, 6), BERLIN).run_date == datetime(2026, 7, 6, tzinfo=BERLIN)


def test_aware_run_date_keeps_its_zone() -> None:
    run_date = datetime(2026, 12, 1, 8, tzinfo=PARIS)
    trigger = DateTrigger(run_date, "UTC")
    assert trigger.timezone is PARIS
    assert str(trigger) == "date[2026-12-01 08:00:00 CET]"


def test_naive_time_in_spring_gap_moves_forward() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: APScheduler's localize() moves it to 03:30 CEST
    trigger = DateTrigger(datetime(2026, 3, 29, 2, 30), BERLIN)
    assert trigger.run_date is not None
    assert trigger.run_date.isoformat() == "2026-03-29T03:30:00+02:00"


def test_repeated_hour_uses_first_occurrence() -> None:
    trigger = DateTrigger("2026-11-01 01:30", CHICAGO)
    assert trigger.run_date is not None
    assert trigger.run_date.isoformat() == "2026-11-01T01:30:00-05:00"


def test_no_run_date_fires_at_the_first_now_asked() -> None:
    trigger = DateTrigger(timezone="Europe/Berlin")
    now = datetime(2026, 5, 1, 10, tzinfo=UTC)
    fire_time = trigger.get_next_fire_time(None, now)
    assert fire_time == now
    assert fire_time is not None and fire_time.tzinfo is BERLIN
    assert trigger.get_next_fire_time(fire_time, now) is None
    assert trigger.describe() == "once, as soon as it is scheduled"


def test_skip_to() -> None:
    trigger = DateTrigger(datetime(2026, 12, 1, 8), PARIS)
    run_date = datetime(2026, 12, 1, 8, tzinfo=PARIS)
    assert trigger.skip_to(run_date - timedelta(days=3)) == run_date
    assert trigger.skip_to(run_date) == run_date
    assert trigger.skip_to(run_date + timedelta(microseconds=1)) is None
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert DateTrigger(timezone=UTC).skip_to(now) == now


def test_str_repr_describe() -> None:
    trigger = DateTrigger(datetime(2009, 7, 6), BERLIN)
    assert str(trigger) == "date[2009-07-06 00:00:00 CEST]"
    assert repr(trigger) == "<DateTrigger (run_date='2009-07-06 00:00:00 CEST')>"
    assert DateTrigger("2026-12-01 08:00", "Europe/Paris").describe() == "once at 2026-12-01 08:00 (Europe/Paris)"
    assert DateTrigger("2026-12-01 08:00:15", "UTC").describe() == "once at 2026-12-01 08:00:15 (UTC)"


@pytest.mark.parametrize(
    "trigger",
    [
        DateTrigger("2026-12-01 08:00", "Europe/Paris"),
        DateTrigger(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)),
        DateTrigger("2026-12-01 08:00:00.250000", timezone(timedelta(hours=-3, minutes=-30))),
        DateTrigger(timezone="America/Chicago"),
    ],
    ids=["named-zone", "second-of-repeated-hour", "fixed-offset", "no-run-date"],
)
def test_json_and_pickle_round_trips(trigger: DateTrigger) -> None:
    state = json.loads(json.dumps(trigger.to_dict()))
    assert state["type"] == "date"
    assert state["version"] == 1
    restored = DateTrigger.from_dict(state)
    assert restored == trigger
    assert repr(restored) == repr(trigger)
    if trigger.run_date is not None:
        assert restored.run_date is not None
        assert restored.run_date.utcoffset() == trigger.run_date.utcoffset()
    unpickled = pickle.loads(pickle.dumps(trigger))
    assert unpickled == trigger
    assert repr(unpickled) == repr(trigger)


def test_equality() -> None:
    assert DateTrigger("2026-12-01 08:00", "UTC") == DateTrigger(datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert DateTrigger("2026-12-01 08:00", "UTC") != DateTrigger("2026-12-01 08:01", "UTC")
    # the same instant shown in another zone is another trigger (its fire times print differently)
    assert DateTrigger("2026-12-01 09:00", "Europe/Paris") != DateTrigger("2026-12-01 08:00", "UTC")
    assert DateTrigger("2026-12-01 08:00", "UTC") != "date"


def test_from_dict_refuses_other_types_and_newer_versions() -> None:
    state = DateTrigger("2026-12-01 08:00", "UTC").to_dict()
    with pytest.raises(SerializationError, match=r"^DateTrigger: version 2 is not supported"):
        DateTrigger.from_dict({**state, "version": 2})
    with pytest.raises(SerializationError, match=r"^DateTrigger: type 'interval' is not 'date'$"):
        DateTrigger.from_dict({**state, "type": "interval"})
    with pytest.raises(SerializationError, match=r"^DateTrigger: run_date 'soon' is not an ISO 8601 date/time$"):
        DateTrigger.from_dict({**state, "run_date": "soon"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"run_date": "2026-13-01", "timezone": "UTC"},
            "DateTrigger: run_date '2026-13-01' is not a valid date/time (month must be in 1..12)",
        ),
        (
            {"run_date": "tomorrow", "timezone": "UTC"},
            "DateTrigger: run_date 'tomorrow' is not a date/time (expected e.g. '2026-12-01 08:00')",
        ),
        (
            {"run_date": 5, "timezone": "UTC"},
            "DateTrigger: run_date 5 must be a datetime, a date or an ISO 8601 string",
        ),
        (
            {"run_date": "2026-12-01", "timezone": "Mars/Olympus"},
            "DateTrigger: timezone 'Mars/Olympus' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')",
        ),
        ({"timezone": 5}, "DateTrigger: timezone 5 must be a time zone name or a tzinfo"),
        (
            {"run_date": "2026-01-01 10:00+25:00"},
            "DateTrigger: run_date '2026-01-01 10:00+25:00' has an invalid UTC offset '+25:00' "
            "(expected -23:59 to +23:59)",
        ),
        (
            {"run_date": "2026-01-01 10:00-0599"},
            "DateTrigger: run_date '2026-01-01 10:00-0599' has an invalid UTC offset '-0599' "
            "(expected -23:59 to +23:59)",
        ),
        (
            {"run_date": "2026-12-01", "time_zone": "UTC"},
            "DateTrigger: time_zone 'UTC' is not an argument of DateTrigger; did you mean 'timezone'? "
            "(known: run_date, timezone)",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        DateTrigger(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
