"""CalendarIntervalTrigger: calendar steps, nonexistent dates, DST, skip_to, lazy anchor, state, errors."""

from __future__ import annotations

import json
import pickle
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.calendarinterval import CalendarIntervalTrigger
from tests.counting import count_calls

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
NOW = datetime(2000, 1, 1, tzinfo=UTC)  # get_next_fire_time ignores now once the trigger has a start date


def chain(trigger: CalendarIntervalTrigger, count: int) -> list[str]:
    times: list[str] = []
    fire_time = trigger.get_next_fire_time(None, NOW)
    while fire_time is not None and len(times) < count:
        times.append(fire_time.isoformat())
        fire_time = trigger.get_next_fire_time(fire_time, NOW)
    return times


def walk_to(trigger: CalendarIntervalTrigger, now: datetime) -> datetime | None:
    fire_time = trigger.get_next_fire_time(None, NOW)
    while fire_time is not None and fire_time.astimezone(UTC) < now.astimezone(UTC):
        fire_time = trigger.get_next_fire_time(fire_time, now)
    return fire_time


def test_nonexistent_days_are_skipped() -> None:
    trigger = CalendarIntervalTrigger(months=1, start_date=date(2016, 3, 31), timezone=BERLIN)
    assert chain(trigger, 6) == [
        "2016-03-31T00:00:00+02:00",
        "2016-05-31T00:00:00+02:00",
        "2016-07-31T00:00:00+02:00",
        "2016-08-31T00:00:00+02:00",
        "2016-10-31T00:00:00+01:00",
        "2016-12-31T00:00:00+01:00",
    ]


def test_leap_day_waits_for_the_next_leap_year() -> None:
    trigger = CalendarIntervalTrigger(years=1, hour=12, start_date="2096-02-29", timezone="UTC")
    assert chain(trigger, 3) == [
        "2096-02-29T12:00:00+00:00",
        "2104-02-29T12:00:00+00:00",
        "2108-02-29T12:00:00+00:00",
    ]


def test_months_then_days() -> None:
    trigger = CalendarIntervalTrigger(months=1, days=1, hour=6, start_date="2026-01-30", timezone="UTC")
    # 30 Jan + 1 month: 30 Feb does not exist -> 30 Mar, + 1 day = 31 Mar;
    # 31 Mar + 1 month: 31 Apr does not exist -> 31 May, + 1 day = 1 Jun
    assert chain(trigger, 3) == [
        "2026-01-30T06:00:00+00:00",
        "2026-03-31T06:00:00+00:00",
        "2026-06-01T06:00:00+00:00",
    ]


def test_missing_time_skips_the_day() -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=2, minute=30, start_date=date(2016, 3, 27), timezone=BERLIN)
    assert trigger.get_next_fire_time(None, NOW) == datetime(2016, 3, 28, 2, 30, tzinfo=BERLIN)


def test_missing_time_on_lord_howe_half_hour_shift() -> None:
    # Lord Howe Island moves its clocks 30 minutes forward at 02:00 on 2026-10-04: 02:15 does not exist
    trigger = CalendarIntervalTrigger(days=1, hour=2, minute=15, start_date="2026-10-03", timezone=LORD_HOWE)
    assert chain(trigger, 2) == ["2026-10-03T02:15:00+10:30", "2026-10-05T02:15:00+11:00"]


def test_repeated_time_uses_the_earlier_occurrence() -> None:
    trigger = CalendarIntervalTrigger(days=2, hour=2, minute=30, start_date=date(2016, 10, 30), timezone=BERLIN)
    fire_time = trigger.get_next_fire_time(None, NOW)
    assert fire_time is not None
    assert fire_time.isoformat() == "2016-10-30T02:30:00+02:00"
    assert fire_time.fold == 0


def test_wall_clock_time_kept_across_chicago_dst() -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=9, start_date="2026-03-07", timezone=CHICAGO)
    assert chain(trigger, 3) == [
        "2026-03-07T09:00:00-06:00",
        "2026-03-08T09:00:00-05:00",
        "2026-03-09T09:00:00-05:00",
    ]


def test_end_date() -> None:
    trigger = CalendarIntervalTrigger(days=1, start_date=date(2020, 12, 31), end_date=date(2020, 12, 31))
    first = trigger.get_next_fire_time(None, NOW)
    assert first is not None and first.date() == date(2020, 12, 31)
    assert trigger.get_next_fire_time(first, NOW) is None
    assert trigger.skip_to(datetime(2021, 1, 5, tzinfo=UTC)) is None


def test_first_fire_time_is_on_start_date_even_when_past() -> None:
    # APScheduler 3.11 does the same; skip_to gives the first one at or after now
    trigger = CalendarIntervalTrigger(weeks=1, hour=9, start_date="2026-01-05", timezone="UTC")
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert trigger.skip_to(now) == datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_previous_fire_time_is_read_in_the_trigger_zone() -> None:
    # a Berlin midnight stored in UTC is 23:00 the day before; its Berlin date counts
    trigger = CalendarIntervalTrigger(days=1, start_date="2026-01-01", timezone=BERLIN)
    previous = datetime(2026, 1, 1, tzinfo=BERLIN).astimezone(UTC)
    assert trigger.get_next_fire_time(previous, NOW) == datetime(2026, 1, 2, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 3, "hour": 2, "minute": 30, "start_date": "2025-12-30", "timezone": BERLIN},
        {"weeks": 2, "hour": 9, "start_date": "2026-01-05", "timezone": CHICAGO},
        {"months": 1, "start_date": "2025-01-31", "timezone": BERLIN},
        {"years": 1, "months": 1, "start_date": "2024-02-29", "timezone": "UTC"},
        {"months": 2, "days": 3, "hour": 2, "minute": 15, "start_date": "2025-06-30", "timezone": LORD_HOWE},
        {"months": 1, "days": 1, "start_date": "2025-01-31", "end_date": "2029-01-01", "timezone": "UTC"},
    ],
    ids=["days", "weeks", "months", "years-months", "mixed-lord-howe", "mixed-end"],
)
def test_skip_to_equals_walking(kwargs: dict[str, object]) -> None:
    trigger = CalendarIntervalTrigger(**kwargs)  # type: ignore[arg-type]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for hours in range(0, 5 * 365 * 24, 97):
        now = start + timedelta(hours=hours)
        skipped, walked = trigger.skip_to(now), walk_to(trigger, now)
        # compare as ISO text: == ignores fold between datetimes of one zone
        assert (skipped and skipped.isoformat()) == (walked and walked.isoformat()), now


def test_skip_to_is_direct_over_centuries(monkeypatch: pytest.MonkeyPatch) -> None:
    daily = CalendarIntervalTrigger(days=1, hour=8, start_date="0001-01-01", timezone="UTC")
    monthly = CalendarIntervalTrigger(months=1, hour=8, start_date="0001-01-31", timezone="UTC")
    now = datetime(2026, 6, 15, 9, tzinfo=UTC)
    # a walk would visit some 740 000 days and 24 000 months; the direct computation looks at a few dates near now
    calls = count_calls(monkeypatch, CalendarIntervalTrigger, "get_next_fire_time", "_advance", "_fire_time_on")
    assert daily.skip_to(now) == datetime(2026, 6, 16, 8, tzinfo=UTC)
    assert calls["get_next_fire_time"] == 0 and calls["_advance"] <= 2 and calls["_fire_time_on"] <= 3, calls
    calls.clear()
    assert monthly.skip_to(now) == datetime(2026, 7, 31, 8, tzinfo=UTC)
    assert calls["get_next_fire_time"] == 0 and calls["_advance"] <= 2 and calls["_fire_time_on"] <= 3, calls


def test_lazy_anchor_is_now_date_in_the_zone() -> None:
    trigger = CalendarIntervalTrigger(months=1, hour=6, timezone=BERLIN)
    assert trigger.anchor is None
    assert repr(trigger) == "CalendarIntervalTrigger(months=1, time='06:00:00', timezone='Europe/Berlin')"
    now = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)  # already 31 January in Berlin
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 1, 31, 6, tzinfo=BERLIN)
    assert trigger.anchor == date(2026, 1, 31)
    assert trigger.describe() == "every month on day 31 at 06:00 (Europe/Berlin)"
    assert trigger.skip_to(datetime(2026, 2, 10, tzinfo=UTC)) == datetime(2026, 3, 31, 6, tzinfo=BERLIN)
    restored = CalendarIntervalTrigger.from_dict(json.loads(json.dumps(trigger.to_dict())))
    assert restored.anchor == date(2026, 1, 31)
    assert pickle.loads(pickle.dumps(trigger)).anchor == date(2026, 1, 31)
    assert restored == CalendarIntervalTrigger(months=1, hour=6, timezone=BERLIN)


def test_jitter_is_seeded_and_bounded() -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=9, start_date="2026-01-01", timezone=BERLIN, jitter=60)
    random.seed(99)
    fire_time = trigger.get_next_fire_time(None, NOW)
    random.seed(99)
    assert fire_time == datetime(2026, 1, 1, 9, tzinfo=BERLIN) + timedelta(seconds=random.uniform(0, 60))


def test_repr_str_describe() -> None:
    trigger = CalendarIntervalTrigger(
        years=1, months=5, weeks=6, days=8, hour=3, second=8, start_date=date(2016, 3, 5),
        end_date=date(2020, 12, 25), timezone=BERLIN,
    )  # fmt: skip
    expected = (
        "CalendarIntervalTrigger(years=1, months=5, weeks=6, days=8, time='03:00:08', start_date='2016-03-05', "
        "end_date='2020-12-25', timezone='Europe/Berlin')"
    )
    assert repr(trigger) == expected
    assert str(trigger) == expected
    utc = CalendarIntervalTrigger(days=1, start_date="2026-01-01", timezone="UTC")
    assert repr(utc) == (
        "CalendarIntervalTrigger(days=1, time='00:00:00+00:00', start_date='2026-01-01', "
        "timezone='datetime.timezone.utc')"
    )
    assert trigger.describe() == (
        "every 1 year 5 months 6 weeks 8 days at 03:00:08 (Europe/Berlin) from 2016-03-05 until 2020-12-25"
    )
    monthly = CalendarIntervalTrigger(months=1, start_date="2026-01-01", timezone="UTC")
    assert monthly.describe() == "every month on day 1 at 00:00 (UTC)"
    yearly = CalendarIntervalTrigger(years=1, hour=7, start_date="2026-03-15", timezone="UTC", jitter=30)
    assert yearly.describe() == "every year on March 15 at 07:00 (UTC), jitter up to 30 s"
    assert CalendarIntervalTrigger(weeks=2, hour=9, timezone="UTC").describe() == "every 2 weeks at 09:00 (UTC)"


@pytest.mark.parametrize(
    "trigger",
    [
        CalendarIntervalTrigger(months=1, start_date="2026-01-31", timezone="UTC"),
        CalendarIntervalTrigger(
            years=1,
            weeks=1,
            hour=23,
            minute=59,
            second=59,
            start_date="2026-01-31",
            end_date="2030-01-01",
            timezone="Australia/Lord_Howe",
            jitter=1.5,
        ),
        CalendarIntervalTrigger(days=1, timezone="America/Chicago"),
    ],
    ids=["plain", "everything", "no-start"],
)
def test_json_and_pickle_round_trips(trigger: CalendarIntervalTrigger) -> None:
    state = json.loads(json.dumps(trigger.to_dict()))
    assert (state["type"], state["version"]) == ("calendarinterval", 1)
    restored = CalendarIntervalTrigger.from_dict(state)
    assert restored == trigger
    assert repr(restored) == repr(trigger)
    assert pickle.loads(pickle.dumps(trigger)) == trigger


def test_equality() -> None:
    a = CalendarIntervalTrigger(days=1, hour=9, start_date="2026-01-01", timezone="UTC")
    assert a == CalendarIntervalTrigger(days=1, hour=9, start_date=date(2026, 1, 1), timezone=UTC)
    assert a != CalendarIntervalTrigger(days=1, hour=10, start_date="2026-01-01", timezone="UTC")
    assert a != CalendarIntervalTrigger(days=1, hour=9, start_date="2026-01-01", timezone=BERLIN)
    assert a != CalendarIntervalTrigger(weeks=1, hour=9, start_date="2026-01-01", timezone="UTC")


def test_from_dict_checks_state() -> None:
    state = CalendarIntervalTrigger(days=1, timezone="UTC").to_dict()
    with pytest.raises(SerializationError, match=r"^CalendarIntervalTrigger: version 2 is not supported"):
        CalendarIntervalTrigger.from_dict({**state, "version": 2})
    del state["hour"]
    with pytest.raises(SerializationError, match=r"lacks hour$"):
        CalendarIntervalTrigger.from_dict(state)


def test_positional_arguments_are_refused_like_apscheduler() -> None:
    with pytest.raises(TypeError):
        CalendarIntervalTrigger(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {},
            "CalendarIntervalTrigger: interval 0 must be at least 1 day long (give years, months, weeks or days)",
        ),
        ({"days": -1}, "CalendarIntervalTrigger: days -1 must not be negative"),
        ({"months": 1.5}, "CalendarIntervalTrigger: months 1.5 must be a whole number"),
        ({"weeks": "2"}, "CalendarIntervalTrigger: weeks '2' must be a whole number"),
        ({"days": 1, "hour": 24}, "CalendarIntervalTrigger: hour 24 must be in 0..23"),
        ({"days": 1, "minute": 60}, "CalendarIntervalTrigger: minute 60 must be in 0..59"),
        ({"days": 1, "second": -1}, "CalendarIntervalTrigger: second -1 must not be negative"),
        (
            {"days": 1, "start_date": "2026-13-01"},
            "CalendarIntervalTrigger: start_date '2026-13-01' is not a date (expected e.g. '2026-12-01')",
        ),
        (
            {"days": 1, "end_date": 20260101},
            "CalendarIntervalTrigger: end_date 20260101 must be a date or an ISO 8601 date string",
        ),
        (
            {"days": 1, "start_date": date(2016, 3, 4), "end_date": date(2016, 3, 3)},
            "CalendarIntervalTrigger: end_date '2016-03-03' is before start_date 2016-03-04",
        ),
        (
            {"days": 1, "timezone": "Mars/Olympus"},
            "CalendarIntervalTrigger: timezone 'Mars/Olympus' is not a known time zone name "
            "(e.g. 'Europe/Berlin', 'UTC')",
        ),
        (
            {"days": 1, "jitter": -3},
            "CalendarIntervalTrigger: jitter -3 must be a non-negative number of seconds",
        ),
        (
            {"day": 1},
            "CalendarIntervalTrigger: day 1 is not an argument of CalendarIntervalTrigger; did you mean 'days'? "
            "(known: years, months, weeks, days, hour, minute, second, start_date, end_date, timezone, jitter)",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        CalendarIntervalTrigger(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
