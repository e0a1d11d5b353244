"""Which fire times of a due job run now, which were missed, and when it fires next: pure functions.

A job that was due while nothing was running may have missed any number of fire times. Walking all of them
(as APScheduler 3 does, its issue #526) costs time and memory in proportion to the outage. Here the walk is
bounded: at most :data:`WALK_LIMIT` fire times are materialised; beyond that the trigger's
:meth:`~nbsched.abc.Trigger.skip_to` jumps over the rest, and the latest missed fire time is found by a binary
search over instants with ``skip_to`` (about 40 calls). A job that missed a million per-second fires costs about
as much as one that missed a hundred.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from nbsched.abc import Trigger

__all__ = ["WALK_LIMIT", "FirePlan", "plan_fires"]

#: the most missed fire times materialised for one job in one pass
WALK_LIMIT = 100
_TICK = timedelta(microseconds=1)


@attrs.frozen(kw_only=True)
class FirePlan:
    """The outcome of :func:`plan_fires`.

    :ivar run_times: fire times to run now, oldest first (one when coalescing)
    :ivar missed: fire times too late for the misfire grace time, to report as missed (at most the walk limit)
    :ivar skipped: spans of fire times passed over without being listed, each ``(first, end)``: every fire time
        from ``first`` up to but not including ``end`` (never when coalescing: one run stands for all)
    :ivar next_run_time: the first fire time after ``now``, or ``None`` when the trigger is done
    :ivar coalesced: when coalescing folded several due fire times into one, ``(first, latest, count)``: the
        earliest and the latest of them and how many there were (``None``: more than the walk limit)
    """

    run_times: list[datetime]
    missed: list[datetime]
    skipped: list[tuple[datetime, datetime]]
    next_run_time: datetime | None
    coalesced: tuple[datetime, datetime, int | None] | None = None


def plan_fires(
    trigger: Trigger,
    next_run_time: datetime,
    now: datetime,
    *,
    coalesce: bool,
    misfire_grace_time: float | None,
    limit: int = WALK_LIMIT,
) -> FirePlan:
    """Plan the fires of a job whose ``next_run_time`` is due at ``now``.

    Coalescing: the latest due fire time runs if it is within the grace time, else it is reported missed.
    Not coalescing: fire times older than the grace time are reported missed (the first ``limit`` of them; a
    span stands for the rest), then the fire times within it run (the first ``limit`` of them, a span for those
    passed over, and the latest).

    :param trigger: the job's trigger
    :param next_run_time: the stored next run time (``<= now``)
    :param now: the current instant
    :param coalesce: run once for all due fire times (the latest) instead of once each
    :param misfire_grace_time: seconds a fire may be late and still run (``None``: any lateness)
    :param limit: the most fire times to walk in each part
    """
    # Compare instants in UTC: datetimes sharing a zone compare by wall clock, wrong in a repeated DST hour.
    now = now.astimezone(UTC)
    grace = None if misfire_grace_time is None else timedelta(seconds=misfire_grace_time)
    following = trigger.get_next_fire_time(next_run_time, now)
    if following is None or following.astimezone(UTC) > now:
        # The common case, one fire due: no list walk.
        if grace is not None and now - next_run_time.astimezone(UTC) > grace:
            return FirePlan(run_times=[], missed=[next_run_time], skipped=[], next_run_time=following)
        return FirePlan(run_times=[next_run_time], missed=[], skipped=[], next_run_time=following)

    if coalesce:
        latest = _latest_due(trigger, following, now)
        after = _after(trigger, latest, now)
        folded = (next_run_time, latest, _count(trigger, next_run_time, latest, now, limit))
        if grace is not None and now - _utc(latest) > grace:
            return FirePlan(run_times=[], missed=[latest], skipped=[], next_run_time=after, coalesced=folded)
        return FirePlan(run_times=[latest], missed=[], skipped=[], next_run_time=after, coalesced=folded)

    missed: list[datetime] = []
    skipped: list[tuple[datetime, datetime]] = []
    current: datetime | None = next_run_time
    if grace is not None:
        window = now - grace  # fire times before this are too late to run
        while current is not None and _utc(current) < window and len(missed) < limit:
            missed.append(current)
            current = trigger.get_next_fire_time(current, now)
        if current is not None and _utc(current) < window:
            first = current
            current = trigger.skip_to(window)
            skipped.append((first, current if current is not None and _utc(current) <= now else window))

    run_times: list[datetime] = []
    while current is not None and _utc(current) <= now and len(run_times) < limit:
        run_times.append(current)
        current = trigger.get_next_fire_time(current, now)
    if current is not None and _utc(current) <= now:
        # More fire times within the grace time than are run one by one: the latest runs too.
        latest = _latest_due(trigger, current, now)
        if latest != current:
            skipped.append((current, latest))
        run_times.append(latest)
        current = _after(trigger, latest, now)
    return FirePlan(run_times=run_times, missed=missed, skipped=skipped, next_run_time=current)


def _count(trigger: Trigger, first: datetime, latest: datetime, now: datetime, limit: int) -> int | None:
    """How many fire times lie from ``first`` to ``latest`` (both fire times), walking at most ``limit`` of them
    (``None``: more than that)."""
    count, current = 1, first
    while _utc(current) < _utc(latest):
        if count > limit:
            return None
        following = trigger.get_next_fire_time(current, now)
        if following is None:
            break
        current = following
        count += 1
    return count


def _after(trigger: Trigger, fire_time: datetime, now: datetime) -> datetime | None:
    """The first fire time after ``now``, given that ``fire_time`` is the latest one at or before it."""
    following = trigger.get_next_fire_time(fire_time, now)
    if following is not None and _utc(following) <= now:
        following = trigger.skip_to(now + _TICK)
    return following


def _latest_due(trigger: Trigger, floor: datetime, now: datetime) -> datetime:
    """The latest fire time in ``[floor, now]``, found with about 40 trigger calls however many lie between.

    ``floor`` is known to be a fire time ``<= now``. A binary search over instants: ``skip_to(p)`` is the first
    fire time at or after ``p``, so there is a fire in ``[p, now]`` exactly when it is ``<= now``. Each probe that
    finds one moves the lower bound to that fire time; the search ends when no instant is left between the
    latest fire time found and the earliest probe known to have none after it (one microsecond).
    """
    best, low, high = floor, _utc(floor), now + _TICK  # no fire time in [high, now]: an empty range at first
    while high - low > _TICK:
        probe = low + (high - low) // 2
        found = trigger.skip_to(probe)
        if found is not None and _utc(found) <= now and _utc(found) > low:
            best, low = found, _utc(found)
        else:
            high = probe
    return best


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
