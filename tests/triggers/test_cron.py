"""CronTrigger: exact fire times for every expression type, DST choices, errors, text forms, state."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.cron import CronTrigger
from nbsched.triggers.cron.fields import CronSchedule
from tests.counting import count_calls

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")


def fires(trigger: CronTrigger, start: datetime, count: int = 4) -> list[str]:
    """The next ``count`` fire times as ISO strings, walking as a scheduler does."""
    result = []
    previous = None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or start)
        if previous is None:
            break
        result.append(previous.isoformat())
    return result


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "start", "expected"),
    [
        ({"minute": "*/20"}, "2026-01-01 00:05", ["2026-01-01T00:20:00+00:00", "2026-01-01T00:40:00+00:00"]),
        (
            {"hour": "9-10", "minute": 30},
            "2026-01-01 09:45",
            ["2026-01-01T10:30:00+00:00", "2026-01-02T09:30:00+00:00"],
        ),
        ({"minute": "10-50/20"}, "2026-01-01 00:00", ["2026-01-01T00:10:00+00:00", "2026-01-01T00:30:00+00:00"]),
        ({"minute": "45/5"}, "2026-01-01 00:00", ["2026-01-01T00:45:00+00:00", "2026-01-01T00:50:00+00:00"]),
        ({"hour": "3,15", "minute": 0}, "2026-01-01 04:00", ["2026-01-01T15:00:00+00:00", "2026-01-02T03:00:00+00:00"]),
        (
            {"month": "feb-mar", "day": 1},
            "2026-02-02 00:00",
            ["2026-03-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00"],
        ),
        (
            {"month": "jan-dec/6", "day": 1},
            "2026-02-02 00:00",
            ["2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"],
        ),
        ({"day": "*/10"}, "2026-02-12 00:00", ["2026-02-21T00:00:00+00:00", "2026-03-01T00:00:00+00:00"]),
        ({"day": "last"}, "2028-02-01 00:00", ["2028-02-29T00:00:00+00:00", "2028-03-31T00:00:00+00:00"]),
        ({"day": "last fri"}, "2026-01-01 00:00", ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00"]),
        ({"day": "2nd wed"}, "2026-01-01 00:00", ["2026-01-14T00:00:00+00:00", "2026-02-11T00:00:00+00:00"]),
        ({"day": "5th fri"}, "2026-01-01 00:00", ["2026-01-30T00:00:00+00:00", "2026-05-29T00:00:00+00:00"]),
        ({"day": "1st MON"}, "2026-01-01 00:00", ["2026-01-05T00:00:00+00:00", "2026-02-02T00:00:00+00:00"]),
        ({"week": 1}, "2026-12-27 00:00", ["2027-01-04T00:00:00+00:00", "2027-01-05T00:00:00+00:00"]),
        (
            {"week": 53, "day_of_week": "fri"},
            "2025-01-01 00:00",
            ["2027-01-01T00:00:00+00:00", "2032-12-31T00:00:00+00:00"],
        ),
        (
            {"day_of_week": "mon-fri", "hour": 9},
            "2026-01-02 10:00",
            ["2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00"],
        ),
        ({"day_of_week": 0, "hour": 9}, "2026-01-01 00:00", ["2026-01-05T09:00:00+00:00", "2026-01-12T09:00:00+00:00"]),
        ({"day_of_week": "sun,sat"}, "2026-01-01 00:00", ["2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        (
            {"year": "2027/2", "month": 6, "day": 1},
            "2026-01-01 00:00",
            ["2027-06-01T00:00:00+00:00", "2029-06-01T00:00:00+00:00"],
        ),
        ({"year": 2026, "month": 1, "day": 1}, "2026-06-01 00:00", []),
        (
            {"month": 2, "day": 29, "hour": 12},
            "2026-01-01 00:00",
            ["2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00"],
        ),
        ({"second": "*/30"}, "2026-01-01 00:00:10", ["2026-01-01T00:00:30+00:00", "2026-01-01T00:01:00+00:00"]),
        ({"minute": " 5 , 35 "}, "2026-01-01 00:00", ["2026-01-01T00:05:00+00:00", "2026-01-01T00:35:00+00:00"]),
        ({"day": "1,last"}, "2026-04-02 00:00", ["2026-04-30T00:00:00+00:00", "2026-05-01T00:00:00+00:00"]),
    ],
)
def test_expressions(fields: dict[str, object], start: str, expected: list[str]) -> None:
    assert fires(CronTrigger(timezone="UTC", **fields), utc(start), len(expected) or 1) == expected


def test_defaults_below_the_least_significant_field_are_minimum_and_above_are_wildcards() -> None:
    trigger = CronTrigger(day=1, minute=5, timezone="UTC")
    assert [str(field) for field in trigger.fields] == ["*", "*", "1", "*", "*", "*", "5", "0"]
    assert fires(trigger, utc("2026-01-01 00:00"), 2) == ["2026-01-01T00:05:00+00:00", "2026-01-01T01:05:00+00:00"]


def test_microseconds_round_up_and_fire_times_are_whole_seconds() -> None:
    trigger = CronTrigger(second="*", timezone="UTC")
    assert trigger.get_next_fire_time(None, utc("2026-01-01 00:00:00.000001")) == utc("2026-01-01 00:00:01")
    assert trigger.get_next_fire_time(utc("2026-01-01 00:00:01"), utc("2026-01-01 00:00:01")) == utc(
        "2026-01-01 00:00:02"
    )


def test_result_is_in_the_trigger_zone_and_now_may_be_in_any_zone() -> None:
    trigger = CronTrigger(hour=9, timezone=BERLIN)
    result = trigger.get_next_fire_time(None, utc("2026-05-01 08:00"))
    assert result == datetime(2026, 5, 2, 9, tzinfo=BERLIN)
    assert result is not None and result.tzinfo is BERLIN


def test_start_date_and_end_date() -> None:
    trigger = CronTrigger(hour=9, start_date="2026-05-10", end_date=date(2026, 5, 12), timezone=BERLIN)
    assert fires(trigger, datetime(2026, 5, 1, tzinfo=BERLIN), 5) == [
        "2026-05-10T09:00:00+02:00",
        "2026-05-11T09:00:00+02:00",
    ]


def test_end_date_is_inclusive() -> None:
    trigger = CronTrigger(hour=9, end_date="2026-05-10 09:00:00", timezone=BERLIN)
    assert fires(trigger, datetime(2026, 5, 10, tzinfo=BERLIN), 3) == ["2026-05-10T09:00:00+02:00"]


def test_timezone_defaults_to_start_date_zone() -> None:
    trigger = CronTrigger(hour=9, start_date=datetime(2026, 5, 1, tzinfo=CHICAGO))
    assert trigger.timezone is CHICAGO


def test_jitter_delays_within_bounds_and_respects_end_date() -> None:
    trigger = CronTrigger(hour=9, jitter=30, timezone="UTC")
    for _ in range(50):
        result = trigger.get_next_fire_time(None, utc("2026-05-01 00:00"))
        assert result is not None
        assert utc("2026-05-01 09:00") <= result <= utc("2026-05-01 09:00:30")
    capped = CronTrigger(hour=9, jitter=3600, end_date="2026-05-01 09:00:01", timezone="UTC")
    for _ in range(50):
        result = capped.get_next_fire_time(None, utc("2026-05-01 00:00"))
        assert result is not None and result <= utc("2026-05-01 09:00:01")


def test_fixed_offset_zone() -> None:
    zone = timezone(timedelta(hours=5, minutes=30))
    trigger = CronTrigger(hour=9, timezone=zone)
    assert trigger.get_next_fire_time(None, utc("2026-05-01 00:00")) == datetime(2026, 5, 1, 9, tzinfo=zone)
    assert CronTrigger.from_dict(trigger.to_dict()) == trigger


# --- DST: the documented choices ----------------------------------------------------------------------------


def test_spring_gap_fixed_hour_fires_at_the_end_of_the_gap() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone=BERLIN)
    assert fires(trigger, datetime(2026, 3, 28, 12, tzinfo=BERLIN), 3) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_spring_gap_wildcard_hour_fires_once_at_the_end_of_the_gap() -> None:
    trigger = CronTrigger(minute=30, timezone=BERLIN)
    assert fires(trigger, datetime(2026, 3, 29, 1, tzinfo=BERLIN), 3) == [
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]


def test_spring_gap_every_quarter_hour_collapses_into_one_fire() -> None:
    trigger = CronTrigger(minute="*/15", timezone=BERLIN)
    assert fires(trigger, datetime(2026, 3, 29, 1, 45, tzinfo=BERLIN), 3) == [
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:15:00+02:00",
    ]


def test_autumn_fold_fixed_hour_fires_once() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone=BERLIN)
    assert fires(trigger, datetime(2026, 10, 24, 12, tzinfo=BERLIN), 2) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_autumn_fold_fixed_hour_started_in_the_second_pass_skips_to_the_next_day() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone=BERLIN)
    second_pass = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=BERLIN)
    assert trigger.get_next_fire_time(None, second_pass) == datetime(2026, 10, 26, 2, 30, tzinfo=BERLIN)


def test_autumn_fold_wildcard_hour_fires_on_both_passes() -> None:
    trigger = CronTrigger(hour="*", minute=30, timezone=BERLIN)
    assert fires(trigger, datetime(2026, 10, 25, 1, 45, tzinfo=BERLIN), 3) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]


def test_autumn_fold_wildcard_started_late_in_first_pass_returns_the_second_pass() -> None:
    trigger = CronTrigger(minute=30, timezone=BERLIN)
    first_pass = datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN)
    result = trigger.get_next_fire_time(None, first_pass)
    assert result is not None and result.isoformat() == "2026-10-25T02:30:00+01:00"


def test_autumn_fold_stepped_hour_fires_on_both_passes() -> None:
    trigger = CronTrigger(hour="*/2", timezone=BERLIN)
    assert fires(trigger, datetime(2026, 10, 25, 1, tzinfo=BERLIN), 3) == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_lord_howe_half_hour_fold() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    trigger = CronTrigger(hour=1, minute=45, timezone=zone)
    assert fires(trigger, datetime(2026, 4, 4, 12, tzinfo=zone), 2) == [
        "2026-04-05T01:45:00+11:00",
        "2026-04-06T01:45:00+10:30",
    ]


# --- bounded search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"month": 2, "day": 30},
        {"month": 4, "day": 31},
        {"day": "5th mon", "month": 2, "year": "2026-2030"},
        {"week": 53, "month": 6},
        {"year": 2026, "day_of_week": "mon", "day": "2nd tue"},
    ],
)
def test_impossible_dates_return_none_quickly(fields: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = CronTrigger(timezone="UTC", **fields)
    # Bounded work, counted: the search looks at each year once and at each allowed month of it once (a day
    # set per month, itself computed once per month shape), never day by day or second by second.
    calls = count_calls(monkeypatch, CronSchedule, "_next_year", "_days", "_compute_days")
    assert trigger.get_next_fire_time(None, utc("2026-01-01 00:00")) is None
    years = 9999 - 2026 + 1
    assert calls["_next_year"] <= years + 1 and calls["_days"] <= 12 * years, calls
    assert calls["_compute_days"] <= 12 * 2 * 2 * 7, calls  # month x leap x previous leap x weekday of 1 January


def test_year_9999_is_the_end() -> None:
    trigger = CronTrigger(month=12, day=31, hour=23, timezone="America/New_York")
    last = datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("America/New_York"))
    assert trigger.get_next_fire_time(None, datetime(9999, 12, 1, tzinfo=UTC)) == last
    assert trigger.get_next_fire_time(last, last) is None


def test_skip_to_is_the_first_fire_time_at_or_after_now() -> None:
    trigger = CronTrigger(hour=9, timezone="UTC")
    assert trigger.skip_to(utc("2030-06-01 09:00")) == utc("2030-06-01 09:00")
    assert trigger.skip_to(utc("2030-06-01 09:00:01")) == utc("2030-06-02 09:00")


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day_of_week": "mnday"}, "CronTrigger: day_of_week 'mnday' is not a weekday name"),
        ({"hour": 25}, "CronTrigger: hour '25' is out of range 0-23"),
        ({"minute": "*/0"}, "CronTrigger: minute '*/0' has a step of 0"),
        ({"month": "foo"}, "CronTrigger: month 'foo' is not a month name or number"),
        ({"month": "13"}, "CronTrigger: month '13' is out of range 1-12"),
        ({"year": 1969}, "CronTrigger: year '1969' is out of range 1970-9999"),
        ({"hour": "5-3"}, "CronTrigger: hour '5-3' has its start after its end"),
        ({"minute": "*/60"}, "CronTrigger: minute '*/60' has a step of 60, larger than the 59 it spans"),
        ({"day": "2nd fry"}, "CronTrigger: day '2nd fry' is not a weekday name"),
        (
            {"hour": "mon"},
            "CronTrigger: hour 'mon' is not a valid expression (expected e.g. '*', '5', '1-5', '*/15' or '1-5/2')",
        ),
        ({"hour": ""}, "CronTrigger: hour '' is empty"),
        ({"hour": 1.5}, "CronTrigger: hour 1.5 must be an int or a str"),
        (
            {"hours": 5},
            "CronTrigger: hours 5 is not an argument of CronTrigger; did you mean 'hour'? (known: year, month, day, "
            "week, day_of_week, hour, minute, second, start_date, end_date, timezone, jitter)",
        ),
        (
            {"hour": 9, "start_date": "2026-02-01", "end_date": "2026-01-01", "timezone": "UTC"},
            "CronTrigger: end_date '2026-01-01T00:00:00+00:00' is before start_date 2026-02-01T00:00:00+00:00",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "CronTrigger: timezone 'Mars/Olympus' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')",
        ),
        ({"jitter": -1}, "CronTrigger: jitter -1 must be a non-negative number of seconds"),
    ],
)
def test_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        CronTrigger(**kwargs)
    assert str(info.value) == message
    assert info.value.__cause__ is None
    assert isinstance(info.value, ValueError)


def test_from_crontab_keeps_apscheduler_meaning() -> None:
    trigger = CronTrigger.from_crontab("0 9 * * 0", timezone="UTC")  # 0 = Monday in APScheduler 3
    assert str(trigger) == "cron[month='*', day='*', day_of_week='0', hour='9', minute='0']"
    assert trigger.get_next_fire_time(None, utc("2026-01-01 00:00")) == utc("2026-01-05 09:00")
    with pytest.raises(TriggerArgumentError) as info:
        CronTrigger.from_crontab("* * *")
    assert str(info.value) == "CronTrigger: expression '* * *' has 3 fields, expected 5"


# --- text forms, equality, state ----------------------------------------------------------------------------


def test_str_and_repr() -> None:
    trigger = CronTrigger(month="6-8", day="last", hour="0-3", timezone="Europe/Berlin")
    assert str(trigger) == "cron[month='6-8', day='last', hour='0-3']"
    assert repr(trigger) == "<CronTrigger (month='6-8', day='last', hour='0-3', timezone='Europe/Berlin')>"
    dated = CronTrigger(
        day_of_week="MON-fri", start_date="2026-01-01", end_date="2026-12-31 18:00:00", jitter=5, timezone="UTC"
    )
    assert repr(dated) == (
        "<CronTrigger (day_of_week='mon-fri', start_date='2026-01-01 00:00:00 UTC', "
        "end_date='2026-12-31 18:00:00 UTC', jitter=5, timezone='UTC')>"
    )
    assert str(CronTrigger(day="LAST  Fri , 1", month="JAN", timezone="UTC")) == "cron[month='jan', day='last fri,1']"


def test_equality() -> None:
    assert CronTrigger(hour="9", timezone="UTC") == CronTrigger(hour=9, timezone="UTC")
    assert CronTrigger(hour=9, timezone="UTC") != CronTrigger(hour=9, timezone="Europe/Berlin")
    assert CronTrigger(hour=9, timezone="UTC") != CronTrigger(hour=10, timezone="UTC")
    assert CronTrigger(hour=9, timezone="UTC") != CronTrigger(hour=9, jitter=1, timezone="UTC")


def test_to_dict_round_trip() -> None:
    trigger = CronTrigger(
        day="last fri",
        hour="9-17/2",
        start_date="2026-01-01 08:00:00",
        end_date="2027-01-01",
        jitter=2.5,
        timezone="Europe/Berlin",
    )
    state = trigger.to_dict()
    assert state == {
        "type": "cron",
        "version": 1,
        "fields": {"day": "last fri", "hour": "9-17/2"},
        "posix": None,
        "start_date": "2026-01-01T08:00:00+01:00",
        "end_date": "2027-01-01T00:00:00+01:00",
        "timezone": "Europe/Berlin",
        "jitter": 2.5,
    }
    rebuilt = CronTrigger.from_dict(state)
    assert rebuilt == trigger
    assert str(rebuilt) == str(trigger)
    now = datetime(2026, 3, 1, tzinfo=BERLIN)
    assert fires(CronTrigger(**{**state["fields"], "timezone": BERLIN}), now) == fires(
        CronTrigger(day="last fri", hour="9-17/2", timezone=BERLIN), now
    )


def test_from_dict_refuses_other_versions_and_keys() -> None:
    state = CronTrigger(hour=9, timezone="UTC").to_dict()
    with pytest.raises(SerializationError):
        CronTrigger.from_dict({**state, "version": 2})
    with pytest.raises(SerializationError):
        CronTrigger.from_dict({**state, "type": "interval"})
    with pytest.raises(SerializationError):
        CronTrigger.from_dict({**state, "extra": 1})
    with pytest.raises(SerializationError):
        CronTrigger.from_dict({**state, "fields": {"hours": "9"}})


def test_pickle_round_trip() -> None:
    trigger = CronTrigger(day_of_week="mon-fri", hour=9, start_date="2026-01-01", timezone=BERLIN)
    clone = pickle.loads(pickle.dumps(trigger))
    assert clone == trigger
    now = datetime(2026, 3, 27, 12, tzinfo=BERLIN)
    assert fires(clone, now) == fires(trigger, now)
    posix = CronTrigger.from_posix("0 0 1 * 1", timezone="UTC")
    assert pickle.loads(pickle.dumps(posix)) == posix


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"day_of_week": "mon-fri", "hour": 9, "timezone": "Europe/Berlin"}, "every weekday at 09:00 (Europe/Berlin)"),
        ({"hour": 9}, "at 09:00 every day (UTC)"),
        ({"minute": "*/5"}, "every 5 minutes"),
        ({"minute": "*"}, "every minute"),
        ({"second": "*/10"}, "every 10 seconds"),
        ({"minute": 30}, "at minute 30 of every hour"),
        ({"hour": "*/2"}, "every 2 hours (UTC)"),
        ({"day": 1}, "at 00:00 on day 1 of every month (UTC)"),
        ({"day_of_week": "mon,wed,fri", "hour": 8, "minute": 15}, "at 08:15 on mon, wed and fri (UTC)"),
        ({"day": "last"}, "at 00:00 on the last day of every month (UTC)"),
        ({"day": "last fri", "hour": 17, "minute": 30}, "at 17:30 on the last fri of every month (UTC)"),
        ({"month": "jan,jul", "day": 15, "hour": 6}, "at 06:00 on day 15 of jan and jul (UTC)"),
        ({"day_of_week": "sat,sun", "hour": "9,18"}, "at 09:00 and 18:00 every weekend day (UTC)"),
        ({"hour": 7, "minute": 5, "second": 30}, "at 07:05:30 every day (UTC)"),
        ({"minute": "*/15", "day_of_week": "mon-fri"}, "every 15 minutes every weekday (UTC)"),
        ({"hour": "9-17", "minute": "*/15"}, "cron[hour='9-17', minute='*/15'] (UTC)"),
        ({"week": 1}, "cron[week='1'] (UTC)"),
        (
            {"day": "1-7", "day_of_week": "mon", "hour": 9},
            "at 09:00 on days 1-7 of every month that are also a mon (UTC)",
        ),
        (
            {"day": "1-15", "day_of_week": "mon-fri"},
            "at 00:00 on days 1-15 of every month that are also a weekday (UTC)",
        ),
    ],
)
def test_describe(kwargs: dict[str, object], text: str) -> None:
    kwargs.setdefault("timezone", "UTC")
    assert CronTrigger(**kwargs).describe() == text
