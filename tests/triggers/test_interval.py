"""IntervalTrigger: the grid, DST in absolute time, end dates, jitter, skip_to, lazy anchor, state, errors."""

from __future__ import annotations

import json
import pickle
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.interval import IntervalTrigger
from tests.counting import count_calls

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")


def walk(trigger: IntervalTrigger, now: datetime, count: int) -> list[str]:
    """The first ``count`` fire times from ``now`` as ISO strings (shows the offset, unlike ==)."""
    times: list[str] = []
    fire_time = trigger.get_next_fire_time(None, now)
    while fire_time is not None and len(times) < count:
        times.append(fire_time.isoformat())
        fire_time = trigger.get_next_fire_time(fire_time, now)
    return times


def test_grid_from_start_date() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=5, start_date=start)
    assert trigger.get_next_fire_time(None, start - timedelta(days=1)) == start
    assert trigger.get_next_fire_time(None, start) == start
    assert trigger.get_next_fire_time(None, start + timedelta(microseconds=1)) == start + timedelta(minutes=5)
    assert trigger.get_next_fire_time(None, start + timedelta(minutes=12)) == start + timedelta(minutes=15)
    assert trigger.get_next_fire_time(start + timedelta(minutes=15), start) == start + timedelta(minutes=20)


def test_sub_second_intervals_are_exact() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(seconds=0.000_3, start_date=start)
    assert trigger.interval == timedelta(microseconds=300)
    assert trigger.get_next_fire_time(None, start + timedelta(seconds=1, microseconds=1)) == start + timedelta(
        seconds=1, microseconds=200
    )


def test_berlin_spring_forward_in_absolute_time() -> None:
    trigger = IntervalTrigger(hours=1, start_date="2026-03-29 00:30", timezone="Europe/Berlin")
    assert walk(trigger, datetime(2026, 3, 28, tzinfo=UTC), 4) == [
        "2026-03-29T00:30:00+01:00",
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T04:30:00+02:00",
    ]


def test_berlin_fall_back_fires_in_both_repeated_hours() -> None:
    trigger = IntervalTrigger(hours=1, start_date="2026-10-25 01:30", timezone=BERLIN)
    times = walk(trigger, datetime(2026, 10, 24, tzinfo=UTC), 4)
    assert times == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]
    second = trigger.get_next_fire_time(datetime.fromisoformat(times[1]), datetime(2026, 10, 24, tzinfo=UTC))
    assert second is not None and second.fold == 1


def test_chicago_day_interval_keeps_absolute_length() -> None:
    trigger = IntervalTrigger(days=1, start_date="2026-03-07 10:00", timezone="America/Chicago")
    assert walk(trigger, datetime(2026, 3, 1, tzinfo=UTC), 3) == [
        "2026-03-07T10:00:00-06:00",
        "2026-03-08T11:00:00-05:00",
        "2026-03-09T11:00:00-05:00",
    ]
    # 01:30 CST; the next hour, 02:00 CST, does not exist: the next fire time is 03:00 CDT
    now = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    hourly = IntervalTrigger(hours=1, start_date="2026-03-08 00:00", timezone=CHICAGO)
    assert str(hourly.get_next_fire_time(None, now)) == "2026-03-08 03:00:00-05:00"


def test_end_date_cuts_off() -> None:
    start = datetime(2014, 5, 26, tzinfo=BERLIN)
    trigger = IntervalTrigger(minutes=5, start_date=start, end_date=datetime(2014, 5, 26, 0, 10), timezone=BERLIN)
    assert trigger.get_next_fire_time(None, start + timedelta(minutes=2)) == start + timedelta(minutes=5)
    assert trigger.get_next_fire_time(start + timedelta(minutes=5), start) == start + timedelta(minutes=10)
    assert trigger.get_next_fire_time(start + timedelta(minutes=10), start) is None
    assert trigger.get_next_fire_time(None, start + timedelta(minutes=10, seconds=1)) is None
    assert trigger.skip_to(start + timedelta(days=365)) is None


def test_jitter_is_within_bounds_and_reproducible() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(seconds=10, start_date=start, jitter=3)
    random.seed(1234)
    jittered = [trigger.get_next_fire_time(start + timedelta(seconds=10 * n), start) for n in range(50)]
    random.seed(1234)
    expected = [start + timedelta(seconds=10 * (n + 1)) + timedelta(seconds=random.uniform(0, 3)) for n in range(50)]
    assert jittered == expected
    assert len(set(jittered)) == 50


def test_jitter_is_added_in_absolute_time_across_fall_back() -> None:
    # 02:59:50 CEST + up to 20 s of jitter lands after 03:00 CEST = 02:00 CET, never an hour late
    start = datetime(2026, 10, 25, 0, 59, 50, tzinfo=UTC).astimezone(BERLIN)
    trigger = IntervalTrigger(hours=1, start_date=start, jitter=20)
    random.seed(7)
    for _ in range(50):
        fire_time = trigger.get_next_fire_time(None, start)
        assert fire_time is not None
        # subtract in UTC: Python subtracts datetimes of the same zone as wall-clock times
        assert timedelta(0) <= fire_time.astimezone(UTC) - start.astimezone(UTC) <= timedelta(seconds=20)


def test_jitter_and_end_date() -> None:
    # APScheduler 3 applies end_date after jitter: a jittered time past end_date is dropped
    end = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=1, start_date=datetime(2026, 1, 1, tzinfo=UTC), end_date=end, jitter=30)
    random.seed(3)
    results = {trigger.get_next_fire_time(datetime(2026, 1, 1, tzinfo=UTC), end) for _ in range(40)}
    assert None in results
    assert all(result is None or result <= end for result in results)


def test_skip_to_matches_walking_on_a_small_case() -> None:
    trigger = IntervalTrigger(minutes=7, seconds=3, start_date="2026-03-28 22:00", timezone=BERLIN)
    start = datetime(2026, 3, 28, 21, tzinfo=UTC)
    for minutes in range(0, 600, 11):
        now = (start + timedelta(minutes=minutes, seconds=1)).astimezone(BERLIN)
        walked = trigger.get_next_fire_time(None, start)
        while walked is not None and walked.astimezone(UTC) < now.astimezone(UTC):
            walked = trigger.get_next_fire_time(walked, now)
        skipped = trigger.skip_to(now)
        # compare as ISO text: == ignores fold between datetimes of one zone
        assert (skipped and skipped.isoformat()) == (walked and walked.isoformat())


def test_skip_to_over_ten_million_intervals_is_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(seconds=3, start_date=start)
    now = start + timedelta(seconds=3 * 10**7 + 1)
    calls = count_calls(monkeypatch, IntervalTrigger, "get_next_fire_time", "_finish")
    fire_time = trigger.skip_to(now)
    assert fire_time == start + timedelta(seconds=3 * (10**7 + 1))
    assert calls == {"_finish": 1}  # one fire time computed, none walked


def test_lazy_anchor_without_start_date() -> None:
    trigger = IntervalTrigger(seconds=30, timezone=BERLIN)
    assert trigger.anchor is None
    assert repr(trigger) == "<IntervalTrigger (interval=datetime.timedelta(seconds=30), timezone='Europe/Berlin')>"
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, now)
    assert first == now + timedelta(seconds=30)
    assert trigger.anchor == first
    # later questions without a previous fire time land on the same grid
    assert trigger.get_next_fire_time(None, now + timedelta(seconds=31)) == now + timedelta(seconds=60)
    assert trigger.skip_to(now + timedelta(hours=1, seconds=1)) == now + timedelta(hours=1, seconds=30)
    assert repr(trigger) == (
        "<IntervalTrigger (interval=datetime.timedelta(seconds=30), "
        "start_date='2026-06-01 14:00:30 CEST', timezone='Europe/Berlin')>"
    )
    # the anchor survives JSON and pickle but is not part of equality
    restored = IntervalTrigger.from_dict(json.loads(json.dumps(trigger.to_dict())))
    assert restored.anchor == first
    assert pickle.loads(pickle.dumps(trigger)).anchor == first
    assert trigger == IntervalTrigger(seconds=30, timezone=BERLIN)


def test_unanchored_trigger_anchors_at_the_previous_fire_time() -> None:
    trigger = IntervalTrigger(minutes=10, timezone=UTC)
    previous = datetime(2026, 6, 1, 12, 3, tzinfo=UTC)
    assert trigger.get_next_fire_time(previous, previous) == previous + timedelta(minutes=10)
    assert trigger.skip_to(previous + timedelta(hours=5, minutes=1)) == previous + timedelta(hours=5, minutes=10)


def test_zone_comes_from_argument_start_date_end_date_or_local() -> None:
    start = datetime(2026, 1, 1, tzinfo=CHICAGO)
    assert IntervalTrigger(seconds=1, start_date=start).timezone is CHICAGO
    assert IntervalTrigger(seconds=1, end_date=start).timezone is CHICAGO
    assert IntervalTrigger(seconds=1, start_date=start, timezone="Europe/Berlin").timezone is BERLIN
    from nbsched.datetimes import local_timezone

    assert IntervalTrigger(seconds=1).timezone is local_timezone()


def test_fire_times_are_in_the_trigger_zone() -> None:
    trigger = IntervalTrigger(seconds=1, start_date=datetime(2009, 8, 4, second=2), timezone=BERLIN)
    now = datetime(2009, 8, 3, 22, 0, 2, 1000, tzinfo=ZoneInfo("Etc/GMT+1"))
    assert str(trigger.get_next_fire_time(None, now)) == "2009-08-04 01:00:03+02:00"


def test_str_repr_describe() -> None:
    trigger = IntervalTrigger(seconds=1, start_date=datetime(2009, 8, 4, second=2), timezone=BERLIN)
    assert str(trigger) == "interval[0:00:01]"
    assert repr(trigger) == (
        "<IntervalTrigger (interval=datetime.timedelta(seconds=1), start_date='2009-08-04 00:00:02 CEST', "
        "timezone='Europe/Berlin')>"
    )
    full = IntervalTrigger(
        hours=2, minutes=30, start_date="2026-01-01 00:00:00", end_date="2026-02-01", timezone="UTC", jitter=5
    )
    assert repr(full) == (
        "<IntervalTrigger (interval=datetime.timedelta(seconds=9000), start_date='2026-01-01 00:00:00 UTC', "
        "end_date='2026-02-01 00:00:00 UTC', jitter=5, timezone='UTC')>"
    )
    assert full.describe() == (
        "every 2 hours 30 minutes from 2026-01-01 00:00:00 until 2026-02-01 00:00:00, jitter up to 5 s"
    )
    assert IntervalTrigger(minutes=5).describe() == "every 5 minutes"
    assert IntervalTrigger(hours=1).describe() == "every hour"
    assert IntervalTrigger(weeks=2).describe() == "every 2 weeks"
    assert IntervalTrigger(days=10).describe() == "every 10 days"
    assert IntervalTrigger(days=1, seconds=1.5).describe() == "every 1 day 1.5 seconds"


@pytest.mark.parametrize(
    "trigger",
    [
        IntervalTrigger(seconds=2, start_date="2026-01-01 00:00", timezone="UTC"),
        IntervalTrigger(
            weeks=1,
            days=2,
            seconds=0.25,
            start_date="2026-10-25 02:30",
            end_date="2027-01-01",
            timezone=BERLIN,
        ),
        IntervalTrigger(minutes=1, timezone="America/Chicago", jitter=2.5),
    ],
    ids=["plain", "end-date", "no-start"],
)
def test_json_and_pickle_round_trips(trigger: IntervalTrigger) -> None:
    state = json.loads(json.dumps(trigger.to_dict()))
    assert (state["type"], state["version"]) == ("interval", 1)
    restored = IntervalTrigger.from_dict(state)
    assert restored == trigger
    assert repr(restored) == repr(trigger)
    assert restored.interval == trigger.interval
    assert pickle.loads(pickle.dumps(trigger)) == trigger


def test_equality() -> None:
    assert IntervalTrigger(minutes=1, timezone=UTC) == IntervalTrigger(seconds=60, timezone="UTC")
    assert IntervalTrigger(minutes=1, timezone=UTC) != IntervalTrigger(minutes=1, timezone=BERLIN)
    assert IntervalTrigger(minutes=1, timezone=UTC) != IntervalTrigger(minutes=1, timezone=UTC, jitter=1)
    assert hash(IntervalTrigger(minutes=1, timezone=UTC)) == hash(IntervalTrigger(seconds=60, timezone=UTC))


def test_from_dict_checks_state() -> None:
    state = IntervalTrigger(seconds=2, timezone="UTC").to_dict()
    with pytest.raises(SerializationError, match=r"^IntervalTrigger: version 3 is not supported"):
        IntervalTrigger.from_dict({**state, "version": 3})
    with pytest.raises(
        SerializationError,
        match=r"^IntervalTrigger: interval 2 must hold integer days, seconds and microseconds$",
    ):
        IntervalTrigger.from_dict({**state, "interval": 2})


def test_past_the_end_of_time_is_none() -> None:
    trigger = IntervalTrigger(weeks=1, timezone=UTC)
    last = datetime(9999, 12, 30, tzinfo=UTC)
    assert trigger.get_next_fire_time(last, last) is None
    assert IntervalTrigger(weeks=1, timezone=UTC).get_next_fire_time(None, last) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seconds": -5}, "IntervalTrigger: seconds -5 must not be negative"),
        ({"weeks": 1, "days": -1}, "IntervalTrigger: days -1 must not be negative"),
        (
            {},
            "IntervalTrigger: interval datetime.timedelta(0) must be longer than zero "
            "(give weeks, days, hours, minutes or seconds)",
        ),
        (
            {"seconds": 0.0000001},
            "IntervalTrigger: interval datetime.timedelta(0) must be longer than zero "
            "(give weeks, days, hours, minutes or seconds)",
        ),
        ({"minutes": "5"}, "IntervalTrigger: minutes '5' must be a number"),
        ({"hours": True}, "IntervalTrigger: hours True must be a number"),
        ({"seconds": float("inf")}, "IntervalTrigger: seconds inf must be a finite number"),
        (
            {"seconds": 1, "start_date": "2026-13-01", "timezone": "UTC"},
            "IntervalTrigger: start_date '2026-13-01' is not a valid date/time (month must be in 1..12)",
        ),
        (
            {"seconds": 1, "timezone": "Mars/Olympus"},
            "IntervalTrigger: timezone 'Mars/Olympus' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')",
        ),
        (
            {"seconds": 1, "start_date": "2026-02-01", "end_date": "2026-01-01", "timezone": "UTC"},
            "IntervalTrigger: end_date '2026-01-01T00:00:00+00:00' is before start_date 2026-02-01T00:00:00+00:00",
        ),
        ({"seconds": 1, "jitter": -1}, "IntervalTrigger: jitter -1 must be a non-negative number of seconds"),
        (
            {"secs": 4},
            "IntervalTrigger: secs 4 is not an argument of IntervalTrigger; did you mean 'seconds'? (known: weeks, "
            "days, hours, minutes, seconds, start_date, end_date, timezone, jitter)",
        ),
        (
            {"seconds": 1, "every": 4},
            "IntervalTrigger: every 4 is not an argument of IntervalTrigger (known: weeks, days, hours, minutes, "
            "seconds, start_date, end_date, timezone, jitter)",
        ),
        (
            {"seconds": 1, "jitter": "2"},
            "IntervalTrigger: jitter '2' must be a non-negative number of seconds",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        IntervalTrigger(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
