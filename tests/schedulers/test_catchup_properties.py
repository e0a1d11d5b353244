"""plan_fires against a brute-force walk of the trigger: for gaps small enough to walk, every fire time is run,
reported missed or inside one skipped span, exactly once; the next run time is the walk's; and with coalescing,
the latest fire time is the one that runs (or is missed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nbsched.schedulers._catchup import plan_fires
from nbsched.triggers.cron import CronTrigger
from nbsched.triggers.date import DateTrigger
from nbsched.triggers.interval import IntervalTrigger

#: Europe/Berlin moves to summer time an hour and a bit after this
BASE = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)


#: the longest gap walked fire by fire; longer ones are left to the bounded-cost tests
WALK_CAP = 10_000


def _walk(trigger: Any, first: datetime, now: datetime) -> tuple[list[datetime], datetime | None] | None:
    fires = [first]
    while len(fires) < WALK_CAP:
        following = trigger.get_next_fire_time(fires[-1], now)
        if following is None or following.astimezone(UTC) > now:
            return fires, following
        fires.append(following)
    return None


@st.composite
def _triggers(draw: Any) -> Any:
    kind = draw(st.sampled_from(["interval", "dense", "cron", "cron_berlin", "date"]))
    start = BASE + timedelta(seconds=draw(st.integers(0, 3600)))
    end = start + timedelta(seconds=draw(st.integers(0, 20000))) if draw(st.booleans()) else None
    if kind == "interval":
        return IntervalTrigger(seconds=draw(st.integers(1, 900)), start_date=start, end_date=end, timezone="UTC")
    if kind == "dense":  # many fires inside a second
        return IntervalTrigger(seconds=draw(st.integers(5, 50)) / 1000, start_date=start, timezone="UTC")
    if kind.startswith("cron"):
        return CronTrigger(
            second=draw(st.sampled_from(["*", "*/7", "0", "15,45"])),
            minute=draw(st.sampled_from(["*", "*/5", "0", "30"])),
            hour=draw(st.sampled_from(["*", "2", "*/2", "1-3"])),
            start_date=start,
            end_date=end,
            timezone="Europe/Berlin" if kind == "cron_berlin" else "UTC",
        )
    return DateTrigger(run_date=start, timezone="UTC")


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    trigger=_triggers(),
    gap=st.floats(0, 20000),
    coalesce=st.booleans(),
    grace=st.one_of(st.none(), st.sampled_from([0, 1, 30, 600, 5000])),
    limit=st.sampled_from([1, 3, 100]),
)
def test_plan_accounts_for_every_fire_time_once(
    trigger: Any, gap: float, coalesce: bool, grace: int | None, limit: int
) -> None:
    first = trigger.get_next_fire_time(None, BASE)
    assume(first is not None)
    now = first.astimezone(UTC) + timedelta(seconds=gap)
    walked = _walk(trigger, first, now)
    assume(walked is not None)
    assert walked is not None
    fires, following = walked
    plan = plan_fires(trigger, first, now, coalesce=coalesce, misfire_grace_time=grace, limit=limit)

    assert plan.next_run_time == following
    planned = plan.run_times + plan.missed
    assert len(set(planned)) == len(planned)
    late = {t for t in fires if grace is not None and now - t.astimezone(UTC) > timedelta(seconds=grace)}
    if coalesce or len(fires) == 1:
        latest = fires[-1]
        assert (plan.missed, plan.run_times) == (([latest], []) if latest in late else ([], [latest]))
        assert plan.skipped == []
        # The fire times folded into the one run are said: which span, and how many (when few enough to walk).
        if len(fires) == 1:
            assert plan.coalesced is None
        else:
            assert plan.coalesced == (fires[0], latest, len(fires) if len(fires) <= limit + 1 else None)
        return
    in_time = [t for t in fires if t not in late]
    assert plan.missed == [t for t in fires if t in late][:limit]
    assert plan.run_times == in_time[:limit] + ([in_time[-1]] if len(in_time) > limit else [])
    planned_set = set(planned)
    for t in fires:
        spans = sum(1 for start, end in plan.skipped if start.astimezone(UTC) <= t.astimezone(UTC) < end)
        assert (t in planned_set) + spans == 1, t
