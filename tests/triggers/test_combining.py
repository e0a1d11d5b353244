"""AndTrigger and OrTrigger: agreement, exhaustion, bounded search, skip_to, state, text forms, errors."""

from __future__ import annotations

import json
import pickle
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nbsched.exceptions import SerializationError, TriggerArgumentError, TriggerSearchError
from nbsched.triggers.calendarinterval import CalendarIntervalTrigger
from nbsched.triggers.combining import MAX_AND_ITERATIONS, AndTrigger, OrTrigger
from nbsched.triggers.date import DateTrigger
from nbsched.triggers.interval import IntervalTrigger

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 1, tzinfo=UTC)


def every(hours: int, start: datetime = START, **kwargs: object) -> IntervalTrigger:
    return IntervalTrigger(hours=hours, start_date=start, **kwargs)  # type: ignore[arg-type]


def test_and_finds_the_first_common_time() -> None:
    trigger = AndTrigger([every(2), every(3)])
    assert trigger.get_next_fire_time(None, START + timedelta(hours=1)) == START + timedelta(hours=6)
    assert trigger.get_next_fire_time(None, START) == START


def test_and_is_done_when_any_trigger_is_done() -> None:
    trigger = AndTrigger([every(1), every(1, end_date=START + timedelta(hours=3))])
    assert trigger.get_next_fire_time(None, START + timedelta(hours=2, minutes=1)) == START + timedelta(hours=3)
    assert trigger.get_next_fire_time(None, START + timedelta(hours=3, minutes=1)) is None


def test_and_gives_up_after_a_bounded_search() -> None:
    # grids one second apart never meet; APScheduler 3 loops forever here
    trigger = AndTrigger([every(1), every(1, START + timedelta(seconds=1))])
    with pytest.raises(TriggerSearchError) as info:
        trigger.get_next_fire_time(None, START)
    assert str(info.value).startswith(
        f"and[interval[1:00:00], interval[1:00:00]]: the triggers found no common fire time in "
        f"{MAX_AND_ITERATIONS} rounds (searched from 2026-01-01T00:00:00+00:00 to "
    )
    # an interval trigger given a previous fire time ignores now, so the two never agree either
    with pytest.raises(TriggerSearchError):
        AndTrigger([every(2), every(3)]).get_next_fire_time(START, START)


def test_and_skip_to_composes_the_children() -> None:
    trigger = AndTrigger(
        [
            CalendarIntervalTrigger(days=2, hour=9, start_date="2026-01-01", timezone=BERLIN),
            CalendarIntervalTrigger(days=3, hour=9, start_date="2026-01-01", timezone=BERLIN),
        ]
    )
    assert trigger.skip_to(datetime(2026, 1, 8, tzinfo=BERLIN)) == datetime(2026, 1, 13, 9, tzinfo=BERLIN)
    assert trigger.skip_to(datetime(2026, 1, 13, 9, tzinfo=BERLIN)) == datetime(2026, 1, 13, 9, tzinfo=BERLIN)
    # ten years on: 3652 days, the next multiple of 6 is 3654 (2036-01-03), found without walking
    assert trigger.skip_to(datetime(2036, 1, 1, tzinfo=BERLIN)) == datetime(2036, 1, 3, 9, tzinfo=BERLIN)


def test_or_takes_the_earliest_and_passes_the_same_previous_time() -> None:
    trigger = OrTrigger([every(3), every(5)])
    times = []
    fire_time = trigger.get_next_fire_time(None, START + timedelta(minutes=1))
    while fire_time is not None and len(times) < 4:
        times.append(fire_time - START)
        fire_time = trigger.get_next_fire_time(fire_time, fire_time)
    # each child adds its interval to the previous fire time, whichever child produced it
    assert times == [timedelta(hours=3), timedelta(hours=6), timedelta(hours=9), timedelta(hours=12)]


def test_or_is_done_when_every_trigger_is_done() -> None:
    date = DateTrigger(START + timedelta(hours=1))
    trigger = OrTrigger([date, every(1, end_date=START + timedelta(hours=2))])
    assert trigger.get_next_fire_time(None, START + timedelta(minutes=1)) == START + timedelta(hours=1)
    assert trigger.get_next_fire_time(START + timedelta(hours=2), START) is None


def test_or_skip_to() -> None:
    trigger = OrTrigger([DateTrigger(START + timedelta(days=10)), every(24, START + timedelta(hours=12))])
    assert trigger.skip_to(START + timedelta(days=9, hours=13)) == START + timedelta(days=10)
    assert trigger.skip_to(START + timedelta(days=10, hours=1)) == START + timedelta(days=10, hours=12)


def test_jitter() -> None:
    for cls in (AndTrigger, OrTrigger):
        trigger = cls([every(2)], jitter=30)
        random.seed(5)
        fire_time = trigger.get_next_fire_time(None, START + timedelta(minutes=1))
        random.seed(5)
        assert fire_time == START + timedelta(hours=2, seconds=random.uniform(0, 30))


def test_text_forms() -> None:
    daily = CalendarIntervalTrigger(days=1, hour=9, start_date="2026-01-01", timezone="UTC")
    trigger = AndTrigger([daily, IntervalTrigger(minutes=5, start_date=START)], jitter=2)
    assert str(trigger) == "and[CalendarIntervalTrigger(days=1, time='09:00:00+00:00', start_date='2026-01-01', " \
        "timezone='datetime.timezone.utc'), interval[0:05:00]]"  # fmt: skip
    assert repr(trigger) == (
        f"<AndTrigger([{daily!r}, <IntervalTrigger (interval=datetime.timedelta(seconds=300), "
        "start_date='2026-01-01 00:00:00 UTC', timezone='UTC')>], jitter=2)>"
    )
    assert trigger.describe() == (
        "(every day at 09:00 (UTC) from 2026-01-01) and (every 5 minutes from 2026-01-01 00:00:00), jitter up to 2 s"
    )
    either = OrTrigger([DateTrigger("2026-12-01 08:00", "Europe/Paris"), IntervalTrigger(hours=2, minutes=30)])
    assert str(either) == "or[date[2026-12-01 08:00:00 CET], interval[2:30:00]]"
    assert either.describe() == "(once at 2026-12-01 08:00 (Europe/Paris)) or (every 2 hours 30 minutes)"


def test_json_and_pickle_round_trips_nested() -> None:
    trigger = OrTrigger(
        [
            AndTrigger([every(2), CalendarIntervalTrigger(weeks=1, timezone="Europe/Berlin")], jitter=1),
            DateTrigger("2026-12-01 08:00", "Europe/Paris"),
        ]
    )
    state = json.loads(json.dumps(trigger.to_dict()))
    assert state["type"] == "or"
    assert [child["type"] for child in state["triggers"]] == ["and", "date"]
    restored = OrTrigger.from_dict(state)
    assert restored == trigger
    assert repr(restored) == repr(trigger)
    assert pickle.loads(pickle.dumps(trigger)) == trigger


def test_equality() -> None:
    assert AndTrigger([every(2)]) == AndTrigger([every(2)])
    assert AndTrigger([every(2)]) != OrTrigger([every(2)])
    assert AndTrigger([every(2)]) != AndTrigger([every(3)])
    assert AndTrigger([every(2)]) != AndTrigger([every(2)], jitter=1)


def test_from_dict_checks_state() -> None:
    state = AndTrigger([every(2)]).to_dict()
    with pytest.raises(SerializationError, match=r"^OrTrigger: type 'and' is not 'or'$"):
        OrTrigger.from_dict(state)
    with pytest.raises(SerializationError, match=r"^AndTrigger: triggers None must be a list of trigger states$"):
        AndTrigger.from_dict({**state, "triggers": None})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([],), "AndTrigger: triggers [] must contain at least one trigger"),
        (([every(1), "cron"],), "AndTrigger: triggers[1] 'cron' is not a trigger"),
        (("cron",), "AndTrigger: triggers 'cron' must be a list of triggers"),
        ((5,), "AndTrigger: triggers 5 must be a list of triggers"),
        (([every(1)], -1), "AndTrigger: jitter -1 must be a non-negative number of seconds"),
    ],
)
def test_bad_arguments(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        AndTrigger(*args)  # type: ignore[arg-type]
    assert str(info.value) == message
    with pytest.raises(TriggerArgumentError) as info:
        OrTrigger(*args)  # type: ignore[arg-type]
    assert str(info.value) == message.replace("AndTrigger", "OrTrigger")


def test_unknown_argument_is_named_with_the_known_ones() -> None:
    for cls in (AndTrigger, OrTrigger):
        name = cls.__name__
        with pytest.raises(TriggerArgumentError) as info:
            cls([every(1)], jiter=2)  # type: ignore[call-arg]
        assert str(info.value) == (
            f"{name}: jiter 2 is not an argument of {name}; did you mean 'jitter'? (known: triggers, jitter)"
        )
