"""The built-in triggers, under APScheduler 3's names (``nbsched.triggers.interval`` and the like work too).

:class:`CronTrigger` is imported on first access: the cron package imports :mod:`nbsched.triggers.base`, so an
eager import here would make ``import nbsched.triggers.cron`` depend on the order modules load in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbsched.triggers.base import BaseTrigger, trigger_from_dict
from nbsched.triggers.calendarinterval import CalendarIntervalTrigger
from nbsched.triggers.combining import AndTrigger, OrTrigger
from nbsched.triggers.date import DateTrigger
from nbsched.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from nbsched.triggers.cron import CronTrigger

__all__ = [
    "AndTrigger",
    "BaseTrigger",
    "CalendarIntervalTrigger",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "OrTrigger",
    "trigger_from_dict",
]


def __getattr__(name: str) -> Any:
    if name == "CronTrigger":
        from nbsched.triggers.cron import CronTrigger  # lazy on purpose, see the module docstring

        return CronTrigger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
