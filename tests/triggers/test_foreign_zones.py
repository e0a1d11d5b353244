"""pytz and dateutil zones behave exactly as the equivalent ``ZoneInfo``, at every entry point that takes a zone.

Two references, in the same test: the same nbsched trigger built with the equivalent ``ZoneInfo`` (identical fire
times: instant, wall clock and offset), and APScheduler 3.11 itself where it is right (it converts pytz zones to
``ZoneInfo`` too). The cases cross the 2024 DST changes of Berlin and New York, including times in the spring
gap and in the repeated autumn hour.
"""

from __future__ import annotations

import io
import os
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.util as aps_util
import pytest
import pytz
from apscheduler.schedulers.background import BackgroundScheduler as ApsBackgroundScheduler
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger as ApsCalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger as ApsCronTrigger
from apscheduler.triggers.date import DateTrigger as ApsDateTrigger
from apscheduler.triggers.interval import IntervalTrigger as ApsIntervalTrigger
from dateutil import tz as dateutil_tz

import nbsched.util
from nbsched.clock import ManualClock
from nbsched.datetimes import local_timezone, native_timezone
from nbsched.exceptions import TriggerArgumentError
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.triggers import (
    AndTrigger,
    CalendarIntervalTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
)


def _tzfile_path(name: str) -> str:
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    pytest.skip(f"no zoneinfo file for {name} on this machine")


#: every kind of foreign zone that names an IANA zone, by how a program makes it
FOREIGN: dict[str, Callable[[str], tzinfo]] = {
    "pytz": pytz.timezone,
    "dateutil.gettz": dateutil_tz.gettz,
    "dateutil.tzfile(path)": lambda name: dateutil_tz.tzfile(_tzfile_path(name)),
}
ZONES = ["Europe/Berlin", "America/New_York"]


def _fires(trigger: Any, now: datetime, count: int = 8) -> list[tuple[datetime, timedelta | None, datetime]]:
    """The next ``count`` fire times as (instant, offset, wall clock), each asked with ``now`` = the previous."""
    result = []
    previous = None
    for _ in range(count):
        fire_time = trigger.get_next_fire_time(previous, now)
        if fire_time is None:
            break
        result.append((fire_time.astimezone(UTC), fire_time.utcoffset(), fire_time.replace(tzinfo=None)))
        previous = now = fire_time
    return result


# Each builds a trigger over the DST days of 2024 from a zone (foreign or ZoneInfo).
TRIGGERS: dict[str, Callable[[Any], Any]] = {
    "date 08:00": lambda z: DateTrigger("2024-06-01 08:00:00", timezone=z),
    "date in spring gap": lambda z: DateTrigger("2024-03-31 02:30:00", timezone=z),
    "date in repeated hour": lambda z: DateTrigger("2024-10-27 02:30:00", timezone=z),
    "interval 1h": lambda z: IntervalTrigger(hours=1, start_date="2024-03-30 23:00:00", timezone=z),
    "interval 1d": lambda z: IntervalTrigger(days=1, start_date="2024-03-29 08:00:00", timezone=z),
    "interval autumn": lambda z: IntervalTrigger(minutes=30, start_date="2024-10-27 01:00:00", timezone=z),
    "calendarinterval 08:00": lambda z: CalendarIntervalTrigger(days=1, hour=8, start_date="2024-03-29", timezone=z),
    "calendarinterval 02:30": lambda z: CalendarIntervalTrigger(
        days=1, hour=2, minute=30, start_date="2024-10-25", timezone=z
    ),
    "cron": lambda z: CronTrigger(hour="2,8", minute=30, start_date="2024-03-29", timezone=z),
    "cron autumn": lambda z: CronTrigger(hour="*", minute=30, start_date="2024-10-27", timezone=z),
    "or": lambda z: OrTrigger(
        [CronTrigger(hour=8, timezone=z), IntervalTrigger(hours=7, start_date="2024-03-30 00:00:00", timezone=z)]
    ),
    # the first fire only (COUNT): as in APScheduler, an AndTrigger's children restart from the previous fire time
    "and": lambda z: AndTrigger(
        [CronTrigger(hour=8, timezone=z), CronTrigger(day_of_week="sun", hour="*", timezone=z)]
    ),
}
COUNT = {"and": 1}
NOW = {"date in repeated hour": datetime(2024, 10, 1, tzinfo=UTC), "cron autumn": datetime(2024, 10, 26, tzinfo=UTC)}


@pytest.mark.parametrize("kind", sorted(TRIGGERS))
@pytest.mark.parametrize("foreign", sorted(FOREIGN))
@pytest.mark.parametrize("name", ZONES)
def test_foreign_zone_fires_as_zoneinfo(kind: str, foreign: str, name: str) -> None:
    now = NOW.get(kind, datetime(2024, 3, 28, tzinfo=UTC))
    with_zoneinfo = TRIGGERS[kind](ZoneInfo(name))
    with_foreign = TRIGGERS[kind](FOREIGN[foreign](name))
    expected = _fires(with_zoneinfo, now, COUNT.get(kind, 8))
    assert expected  # the reference fires at all
    assert _fires(with_foreign, now, COUNT.get(kind, 8)) == expected
    assert with_foreign.describe() == with_zoneinfo.describe()
    assert with_foreign.to_dict() == with_zoneinfo.to_dict()


def test_dateutil_zone_without_a_name_keeps_its_arithmetic() -> None:
    """A POSIX-rule dateutil zone has no IANA name: it is kept as a tzinfo, and its fold arithmetic is right.

    Except inside a spring gap: there dateutil gives a wall time the offset after the change where PEP 495 (and
    ``ZoneInfo``) give the one before, so a cron time inside the gap (02:30 on 31 March) is not compared here.
    """
    rule = dateutil_tz.tzstr("CET-1CEST,M3.5.0,M10.5.0/3")
    assert native_timezone(rule) is rule
    for kind in ("interval 1h", "interval autumn", "calendarinterval 08:00", "cron autumn", "or", "and"):
        now = NOW.get(kind, datetime(2024, 3, 28, tzinfo=UTC))
        reference = _fires(TRIGGERS[kind](ZoneInfo("Europe/Berlin")), now, COUNT.get(kind, 8))
        assert [(i, o) for i, o, _ in _fires(TRIGGERS[kind](rule), now, COUNT.get(kind, 8))] == [
            (i, o) for i, o, _ in reference
        ], kind


@pytest.mark.parametrize(
    ("foreign", "native"),
    [
        (pytz.utc, UTC),
        (pytz.timezone("UTC"), UTC),
        (pytz.FixedOffset(90), timezone(timedelta(minutes=90))),
        (pytz.FixedOffset(-300), timezone(timedelta(hours=-5))),
        (pytz.timezone("Etc/GMT+5"), ZoneInfo("Etc/GMT+5")),
        (pytz.timezone("EST"), ZoneInfo("EST")),
        (pytz.timezone("Europe/Berlin").localize(datetime(2024, 6, 1)).tzinfo, ZoneInfo("Europe/Berlin")),
        (dateutil_tz.UTC, UTC),
        (dateutil_tz.tzutc(), UTC),
        (dateutil_tz.gettz("UTC"), UTC),
        (dateutil_tz.tzoffset("X", 5400), timezone(timedelta(minutes=90))),
        (dateutil_tz.gettz("Europe/Berlin"), ZoneInfo("Europe/Berlin")),
        (dateutil_tz.tzlocal(), local_timezone()),
    ],
    ids=repr,
)
def test_native_timezone(foreign: tzinfo, native: tzinfo) -> None:
    assert native_timezone(foreign) == native
    # and the triggers fire as with the native zone (fixed and UTC zones included)
    now = datetime(2024, 3, 28, tzinfo=UTC)
    assert _fires(TRIGGERS["interval 1h"](foreign), now) == _fires(TRIGGERS["interval 1h"](native), now)


def test_pytz_zone_unknown_to_zoneinfo_is_refused_by_name() -> None:
    class Unknown(type(pytz.timezone("Europe/Berlin"))):  # a pytz zone class
        zone = "Nowhere/Land"

    with pytest.raises(TriggerArgumentError, match=r"DateTrigger: timezone .* names a zone \('Nowhere/Land'\)"):
        DateTrigger("2024-06-01 08:00:00", timezone=Unknown())


def test_aware_datetimes_in_pytz_zones_give_the_trigger_its_zone() -> None:
    berlin = pytz.timezone("Europe/Berlin")
    now = datetime(2024, 3, 28, tzinfo=UTC)
    for make in (
        lambda start: IntervalTrigger(hours=1, start_date=start),
        lambda start: CronTrigger(hour="*", start_date=start),
        DateTrigger,
    ):
        foreign = make(berlin.localize(datetime(2024, 3, 30, 23)))
        native = make(datetime(2024, 3, 30, 23, tzinfo=ZoneInfo("Europe/Berlin")))
        assert foreign.timezone == ZoneInfo("Europe/Berlin")
        assert _fires(foreign, now) == _fires(native, now)


# --- against APScheduler 3.11 itself (which converts pytz zones to ZoneInfo) ---------------------------------


APS_CASES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "date": (
        lambda z: DateTrigger("2024-06-01 08:00:00", timezone=z),
        lambda z: ApsDateTrigger("2024-06-01 08:00:00", timezone=z),
    ),
    "interval": (
        lambda z: IntervalTrigger(hours=5, start_date="2024-03-30 23:00:00", timezone=z),
        lambda z: ApsIntervalTrigger(hours=5, start_date="2024-03-30 23:00:00", timezone=z),
    ),
    "calendarinterval": (
        lambda z: CalendarIntervalTrigger(days=1, hour=8, start_date="2024-03-29", timezone=z),
        lambda z: ApsCalendarIntervalTrigger(days=1, hour=8, start_date="2024-03-29", timezone=z),
    ),
    "cron": (
        lambda z: CronTrigger(day_of_week="mon-fri", hour=9, start_date="2024-03-29", timezone=z),
        lambda z: ApsCronTrigger(day_of_week="mon-fri", hour=9, start_date="2024-03-29", timezone=z),
    ),
}


@pytest.mark.parametrize("kind", sorted(APS_CASES))
@pytest.mark.parametrize("name", ZONES)
def test_pytz_zone_as_apscheduler(kind: str, name: str) -> None:
    ours, theirs = APS_CASES[kind]
    now = datetime(2024, 3, 28, tzinfo=UTC)
    assert _fires(ours(pytz.timezone(name)), now) == _fires(theirs(pytz.timezone(name)), now)


def test_date_trigger_pytz_berlin_fires_at_eight() -> None:
    trigger = DateTrigger("2024-06-01 08:00:00", timezone=pytz.timezone("Europe/Berlin"))
    expected = ApsDateTrigger("2024-06-01 08:00:00", timezone=pytz.timezone("Europe/Berlin")).run_date
    fire_time = trigger.get_next_fire_time(None, datetime(2024, 5, 1, tzinfo=UTC))
    assert fire_time is not None
    assert (fire_time, fire_time.utcoffset()) == (expected, expected.utcoffset())
    assert fire_time.strftime("%H:%M %Z") == expected.strftime("%H:%M %Z")


# --- schedulers and print_jobs ----------------------------------------------------------------------------


def _job() -> None:
    """A job to schedule."""


@pytest.mark.parametrize("zone", [pytz.timezone("Europe/Berlin"), dateutil_tz.gettz("Europe/Berlin")], ids=repr)
def test_scheduler_timezone_and_print_jobs(zone: tzinfo) -> None:
    ours = BackgroundScheduler(timezone=zone, clock=ManualClock("2099-01-01 00:00"))
    assert ours.timezone == ZoneInfo("Europe/Berlin")
    theirs = ApsBackgroundScheduler(timezone=zone)
    jobs = [("date", {"run_date": "2099-06-01 08:00:00"}), ("cron", {"hour": 8, "start_date": "2099-06-01"})]
    texts = []
    for scheduler in (ours, theirs):
        for index, (trigger, args) in enumerate(jobs):
            scheduler.add_job(_job, trigger, id=f"job{index}", **args)
        scheduler.start(paused=True)
        try:
            out = io.StringIO()
            scheduler.print_jobs(out=out)
            texts.append(out.getvalue())
            assert [job.next_run_time for job in scheduler.get_jobs()] == [
                datetime(2099, 6, 1, 8, tzinfo=ZoneInfo("Europe/Berlin"))
            ] * 2
        finally:
            scheduler.shutdown(wait=False)
    assert "next run at: 2099-06-01 08:00:00 CEST" in texts[0]
    assert texts[0] == texts[1]


# --- nbsched.util with foreign zones, against apscheduler.util ------------------------------------------------


@pytest.mark.parametrize("name", ZONES)
@pytest.mark.parametrize("text", ["2024-06-01 08:00:00", "2024-03-31 12:00:00", "2024-11-03 01:30:00"])
def test_util_convert_to_datetime_with_pytz(name: str, text: str) -> None:
    ours = nbsched.util.convert_to_datetime(text, pytz.timezone(name), "run_date")
    theirs = aps_util.convert_to_datetime(text, ZoneInfo(name), "run_date")
    assert (ours, ours.utcoffset(), ours.replace(tzinfo=None)) == (
        theirs,
        theirs.utcoffset(),
        theirs.replace(tzinfo=None),
    )
    assert nbsched.util.astimezone(pytz.timezone(name)) == aps_util.astimezone(pytz.timezone(name))
