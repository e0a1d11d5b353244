"""CronTrigger.from_posix: crontab lines with crontab's meaning."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from nbsched.exceptions import TriggerArgumentError
from nbsched.triggers.cron import CronTrigger


def fires(expr: str, start: str, count: int = 4, zone: str = "UTC") -> list[str]:
    trigger = CronTrigger.from_posix(expr, timezone=zone)
    result = []
    previous = None
    now = datetime.fromisoformat(start).replace(tzinfo=UTC)
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or now)
        assert previous is not None
        result.append(previous.isoformat())
    return result


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # 2026-01-01 is a Thursday
        ("0 9 * * 1-5", ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00", "2026-01-05T09:00:00+00:00"]),
        ("0 0 * * 0", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 0 * * 7", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 0 * * SUN", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 0 * * 5-7", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        ("0 0 * * fri-mon", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        # day of month OR day of week when both are restricted
        ("0 0 13 * 5", ["2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00", "2026-01-13T00:00:00+00:00"]),
        # ... but not when either begins with '*' (test_cron_posix_differential checks this rule against cron)
        ("0 0 1-31 * */3", ["2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00", "2026-01-07T00:00:00+00:00"]),
        ("*/20 * * * *", ["2026-01-01T00:00:00+00:00", "2026-01-01T00:20:00+00:00", "2026-01-01T00:40:00+00:00"]),
        ("5/20 * * * *", ["2026-01-01T00:05:00+00:00", "2026-01-01T00:25:00+00:00", "2026-01-01T00:45:00+00:00"]),
        ("0 22-2 * * *", ["2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]),
        ("0 0 1 nov-feb *", ["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"]),
        ("0 12 1,15 * *", ["2026-01-01T12:00:00+00:00", "2026-01-15T12:00:00+00:00", "2026-02-01T12:00:00+00:00"]),
        ("30 4 5-5 * *", ["2026-01-05T04:30:00+00:00", "2026-02-05T04:30:00+00:00", "2026-03-05T04:30:00+00:00"]),
        ("@yearly", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
        ("@annually", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
        ("@monthly", ["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00"]),
        ("@weekly", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("@daily", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        ("@midnight", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        ("@hourly", ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00", "2026-01-01T03:00:00+00:00"]),
    ],
)
def test_posix_meaning(expr: str, expected: list[str]) -> None:
    assert fires(expr, "2026-01-01 00:00:00.5" if expr.startswith("@") else "2026-01-01 00:00", 3) == expected


def test_posix_zone_and_dst_gap() -> None:
    assert fires("30 2 * * *", "2026-03-28 12:00", 2, "Europe/Berlin") == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * *", "CronTrigger: expression '* * *' has 3 fields, expected 5"),
        ("* * * * * *", "CronTrigger: expression '* * * * * *' has 6 fields, expected 5"),
        ("@reboot", "CronTrigger: expression '@reboot' is not supported: it means 'at system start', not a time"),
        (
            "@often",
            "CronTrigger: expression '@often' is not a known macro "
            "(@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)",
        ),
        ("60 * * * *", "CronTrigger: minute '60' is out of range 0-59"),
        ("* 24 * * *", "CronTrigger: hour '24' is out of range 0-23"),
        ("* * 0 * *", "CronTrigger: day '0' is out of range 1-31"),
        ("* * * 13 *", "CronTrigger: month '13' is out of range 1-12"),
        ("* * * * 8", "CronTrigger: day_of_week '8' is out of range 0-7"),
        ("* * * foo *", "CronTrigger: month 'foo' is not a month name or number"),
        ("* * * * mnday", "CronTrigger: day_of_week 'mnday' is not a weekday name or number"),
        ("*/0 * * * *", "CronTrigger: minute '*/0' has a step of 0"),
        ("* * * * fri-mon/2", "CronTrigger: day_of_week 'fri-mon/2' wraps around and has a step; write it as a list"),
        ("1-2-3 * * * *", "CronTrigger: minute '1-2-3' is not a valid crontab term"),
        ("* * L * *", "CronTrigger: day 'L' is not a number"),
    ],
)
def test_posix_errors(expr: str, message: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        CronTrigger.from_posix(expr)
    assert str(info.value) == message
    assert info.value.__cause__ is None


def test_posix_text_forms_and_state() -> None:
    trigger = CronTrigger.from_posix("0 9 * * 1-5", timezone="Europe/Berlin", jitter=3)
    assert str(trigger) == "cron[posix='0 9 * * 1-5']"
    assert repr(trigger) == "<CronTrigger (posix='0 9 * * 1-5', jitter=3, timezone='Europe/Berlin')>"
    assert trigger.posix == "0 9 * * 1-5"
    state = trigger.to_dict()
    assert state["posix"] == "0 9 * * 1-5"
    assert state["fields"] == {}
    assert CronTrigger.from_dict(state) == trigger
    assert pickle.loads(pickle.dumps(trigger)) == trigger
    assert trigger != CronTrigger.from_posix("0 9 * * 1-5", timezone="Europe/Berlin")
    assert trigger != CronTrigger(day_of_week="mon-fri", hour=9, timezone="Europe/Berlin", jitter=3)


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("0 9 * * 1-5", "every weekday at 09:00 (UTC)"),
        ("@daily", "at 00:00 every day (UTC)"),
        ("*/15 * * * *", "every 15 minutes"),
        ("0 0 1 * 1", "at 00:00 on day 1 of every month and on mon (UTC)"),
        ("0 8 * * 0,6", "at 08:00 every weekend day (UTC)"),
        ("0 9 1-7 * 1", "at 09:00 on days 1-7 of every month and on mon (UTC)"),
        # a day field beginning with '*' makes the two day fields ANDed, and the text says so
        (
            "2 * 21-27 * */2",
            "at minute 2 of every hour on days 21-27 of every month that are also a tue, thu, sat or sun (UTC)",
        ),
        ("0 12 */13 * 2", "at 12:00 on days 1, 14 and 27 of every month that are also a tue (UTC)"),
        ("0 8 1-3,5,10-12 * sat,sun", "at 08:00 on days 1-3, 5 and 10-12 of every month and every weekend day (UTC)"),
        ("0 9 */2 * 1-5", "cron '0 9 */2 * 1-5' (UTC)"),
    ],
)
def test_posix_describe(expr: str, text: str) -> None:
    assert CronTrigger.from_posix(expr, timezone="UTC").describe() == text
