"""Trigger cost: microseconds per ``get_next_fire_time`` call, chained over a year of fires.

Each trigger is built with the same arguments in both libraries, in Europe/Berlin (so the year crosses both
DST changes), and walked from 2026-01-01 00:00: ``t = get_next_fire_time(t, t)`` until a year has passed or
a cap on calls is reached. Both walks must produce the same fire times; a difference is reported as an extra
(``_mismatch_<figure>``) rather than silently timed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench._measure import Case, Figure, timed_per_call

__all__ = ["CASES", "TRIGGERS", "trigger_costs"]

ZONE = "Europe/Berlin"
START = datetime(2026, 1, 1, tzinfo=ZoneInfo(ZONE))
END = START + timedelta(days=365)


def _interval(lib: Any) -> Any:
    return lib.IntervalTrigger(minutes=5, start_date=START, timezone=ZONE)


#: figure id -> (title, needs cron, factory)
TRIGGERS: dict[str, tuple[str, bool, Callable[[Any], Any]]] = {
    "cron_every5min": (
        "cron minute='*/5'",
        True,
        lambda lib: lib.CronTrigger(minute="*/5", timezone=ZONE),
    ),
    "cron_weekdays9": (
        "cron day_of_week='mon-fri', hour=9",
        True,
        lambda lib: lib.CronTrigger(day_of_week="mon-fri", hour=9, timezone=ZONE),
    ),
    "cron_lastfri": (
        "cron day='last fri'",
        True,
        lambda lib: lib.CronTrigger(day="last fri", timezone=ZONE),
    ),
    "cron_complex": (
        "cron month='1-10/3', day='1st mon,15', hour='8-18/2', minute=30",
        True,
        lambda lib: lib.CronTrigger(month="1-10/3", day="1st mon,15", hour="8-18/2", minute=30, timezone=ZONE),
    ),
    "interval_5min": ("interval minutes=5", False, _interval),
}


def _walk(trigger: Any, cap: int) -> list[datetime]:
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, START)
    while fire is not None and fire <= END and len(fires) < cap:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return fires


def _fingerprint(fires: list[datetime]) -> dict[str, Any]:
    """Enough of a walk to tell whether two libraries produced the same fire times, and roughly where not."""
    stamps = [fire.isoformat() for fire in fires]
    step = max(1, len(stamps) // 20)
    return {
        "count": len(stamps),
        "sha1": hashlib.sha1("\n".join(stamps).encode()).hexdigest(),
        "samples": {str(index): stamps[index] for index in range(0, len(stamps), step)},
    }


def trigger_costs(lib: Any, quick: bool) -> dict[str, Any]:
    """Seconds per call (reported in µs) of each trigger's chained walk; the fastest of a few samples."""
    cap = 2_000 if quick else 20_000
    min_seconds, repeats = (0.02, 3) if quick else (0.1, 5)
    results: dict[str, Any] = {}
    for key, (_title, needs_cron, factory) in TRIGGERS.items():
        if needs_cron and lib.CronTrigger is None:
            results[f"_missing_{key}"] = f"{lib.name}.triggers.cron.CronTrigger is not importable"
            continue
        trigger = factory(lib)
        fires = _walk(trigger, cap)
        # The walk makes one call per fire plus the call that ends it (past END, or the cap).
        calls = len(fires) + 1

        def body(trigger: Any = trigger, calls: int = calls) -> int:
            _walk(trigger, cap)
            return calls

        results[key] = timed_per_call(body, min_seconds, repeats) * 1e6
        results[f"_fires_{key}"] = _fingerprint(fires)
    return results


CASES = [
    Case(
        "triggers:trigger_costs",
        trigger_costs,
        [Figure(key, f"next fire: {title}", "µs/call", "lower", "best") for key, (title, _, _) in TRIGGERS.items()],
        runs=2,
    ),
]
