"""Cron schedules in words: ``every weekday at 09:00 (Europe/Berlin)``, ``every 5 minutes``.

The text is built from the allowed values of each field (:class:`~nbsched.triggers.cron.fields.CronSchedule`),
so APScheduler-style and crontab-style triggers are described by what they mean. Schedules that do not fit
one of the simple shapes fall back to the cron expression itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbsched.datetimes import timezone_name
from nbsched.triggers.cron.expressions import MONTHS, POSITIONS, WEEKDAYS

if TYPE_CHECKING:
    from nbsched.triggers.cron import CronTrigger
    from nbsched.triggers.cron.fields import CronSchedule

__all__ = ["describe_cron"]

_WEEKDAYS_MON_FRI = frozenset(range(5))
_WEEKEND = frozenset({5, 6})


def describe_cron(trigger: CronTrigger) -> str:
    """Describe a cron trigger for people; falls back to its expression for complex schedules."""
    schedule = trigger.schedule
    zone = f" ({timezone_name(trigger.timezone)})"
    text = _describe(schedule)
    if text is None:
        expression = f"cron '{trigger.posix}'" if trigger.posix else str(trigger)
        return expression + zone
    time_text, day_text, zoned = text
    if zoned or day_text:
        return _join(time_text, day_text) + zone
    return _join(time_text, day_text)


def _is_time_of_day(time_text: str) -> bool:
    return time_text.startswith("at ") and ":" in time_text


def _join(time_text: str, day_text: str) -> str:
    if day_text == "every weekday" and _is_time_of_day(time_text):
        return f"{day_text} {time_text}"
    return f"{time_text} {day_text}".strip()


def _describe(schedule: CronSchedule) -> tuple[str, str, bool] | None:
    """``(time part, day part, whether the time part depends on the zone)`` or ``None``."""
    if schedule.years != (range(1970, 10000),) or schedule.weeks is not None:
        return None
    day_text = _day_text(schedule)
    time = _time_text(schedule)
    if day_text is None or time is None:
        return None
    time_text, zoned = time
    if day_text == "every day" and not _is_time_of_day(time_text):
        day_text = ""
    return time_text, day_text, zoned


def _step(values: frozenset[int], size: int) -> int | None:
    """``n`` when ``values`` is every ``n``-th value from 0 (``1`` for all of them)."""
    for step in range(1, size):
        if values == frozenset(range(0, size, step)):
            return step
    return None


def _time_text(schedule: CronSchedule) -> tuple[str, bool] | None:
    hours, minutes, seconds = schedule.hours, schedule.minutes, schedule.seconds
    hour_step, minute_step, second_step = _step(hours, 24), _step(minutes, 60), _step(seconds, 60)
    if hour_step == 1 and minute_step == 1 and second_step is not None:
        return _every(second_step, "second"), False
    if seconds != {0}:
        if len(seconds) == 1 and len(hours) * len(minutes) <= 4:
            return _at_times(hours, minutes, min(seconds)), True
        return None
    if hour_step == 1 and minute_step is not None:
        return _every(minute_step, "minute"), False
    if hour_step == 1 and len(minutes) == 1:
        return f"at minute {min(minutes)} of every hour", False
    if hour_step is not None and minutes == {0}:
        return _every(hour_step, "hour"), True
    if len(hours) * len(minutes) <= 4:
        return _at_times(hours, minutes, 0), True
    return None


def _every(step: int, unit: str) -> str:
    return f"every {unit}" if step == 1 else f"every {step} {unit}s"


def _at_times(hours: frozenset[int], minutes: frozenset[int], second: int) -> str:
    suffix = f":{second:02d}" if second else ""
    times = [f"{hour:02d}:{minute:02d}{suffix}" for hour in sorted(hours) for minute in sorted(minutes)]
    return "at " + _and(times)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _day_text(schedule: CronSchedule) -> str | None:
    every_date = schedule.days == frozenset(range(1, 32)) and not schedule.day_rules
    every_weekday = schedule.weekdays == frozenset(range(7))
    months = _months_text(schedule.months)
    if months is None:
        return None
    if every_date and every_weekday:
        return "every day" if months == "every month" else f"every day in {months.removeprefix('every ')}"
    weekday_text = _weekdays_text(schedule.weekdays)
    date_text = _dates_text(schedule)
    if every_date:
        if months != "every month":
            return f"{weekday_text} in {months}"
        return weekday_text
    if date_text is None:
        return None
    if every_weekday:
        return f"{date_text} of {months}"
    if schedule.day_or:
        return f"{date_text} of {months} and {weekday_text}"
    return f"{date_text} of {months} that are also {_weekday_kind(schedule.weekdays)}"


def _months_text(months: frozenset[int]) -> str | None:
    if months == frozenset(range(1, 13)):
        return "every month"
    return _and([MONTHS[month - 1] for month in sorted(months)])


def _weekdays_text(weekdays: frozenset[int]) -> str:
    if weekdays == _WEEKDAYS_MON_FRI:
        return "every weekday"
    if weekdays == _WEEKEND:
        return "every weekend day"
    return "on " + _and([WEEKDAYS[weekday] for weekday in sorted(weekdays)])


def _weekday_kind(weekdays: frozenset[int]) -> str:
    """The weekdays as what a day must also be: ``a weekday``, ``a mon or fri``."""
    if weekdays == _WEEKDAYS_MON_FRI:
        return "a weekday"
    if weekdays == _WEEKEND:
        return "a weekend day"
    names = [WEEKDAYS[weekday] for weekday in sorted(weekdays)]
    return "a " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}")


def _runs(values: list[int]) -> list[str]:
    """Sorted values with runs of three or more written as ranges: ``[1, 2, 3, 7]`` -> ``['1-3', '7']``."""
    texts: list[str] = []
    start = 0
    for index, value in enumerate(values):
        if index + 1 < len(values) and values[index + 1] == value + 1:
            continue
        run = values[start : index + 1]
        texts.extend([f"{run[0]}-{run[-1]}"] if len(run) >= 3 else [str(day) for day in run])
        start = index + 1
    return texts


def _dates_text(schedule: CronSchedule) -> str | None:
    parts: list[str] = []
    days = sorted(schedule.days)
    runs = _runs(days)
    if days:
        label = "day" if len(days) == 1 else "days"
        parts.append(f"{label} {_and(runs)}")
    for rule in schedule.day_rules:
        text = str(rule)
        if text == "last":
            parts.append("the last day")
        elif text.split(maxsplit=1)[0] in POSITIONS:
            parts.append(f"the {text}")
    if not parts or len(runs) > 6:
        return None
    return "on " + _and(parts)
