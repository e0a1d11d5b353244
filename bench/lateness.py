"""Fire lateness: how long after its scheduled time a job actually starts, under a steady load.

J jobs with interval triggers between 0.2 and 0.5 s (fixed, evenly spread) and start dates spread over the
first 0.2 s run for a few seconds on a ``BackgroundScheduler``. Each job appends ``time.time()`` to its own
list the moment it starts; an ``EVENT_JOB_EXECUTED`` listener appends the run's ``scheduled_run_time`` to
another. Runs of one job never overlap (``max_instances=1``) and each run's event is sent after it ends, so
the n-th start belongs to the n-th scheduled time. Lateness = start - scheduled, measured the same way in both
libraries: the job and the listener are the same code, only the scheduler differs.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from bench._measure import Case, Figure, percentile

__all__ = ["CASES", "lateness", "measure_lateness"]

# Per-job start times (filled by the jobs) and scheduled times (filled by the listener).
_starts: defaultdict[str, list[float]] = defaultdict(list)
_scheduled: defaultdict[str, list[float]] = defaultdict(list)


def record_start(job_id: str) -> None:
    """The job: note when it started (list.append is atomic, so no lock disturbs the timing)."""
    _starts[job_id].append(time.time())


def _on_executed(event: Any) -> None:
    _scheduled[event.job_id].append(event.scheduled_run_time.timestamp())


def lateness(lib: Any, quick: bool) -> dict[str, Any]:
    """p50/p99/max of start - scheduled, in ms, over every run of every job (memory store), and the timer floor
    of the same process (:func:`timer_floor`) measured just before."""
    jobs, seconds = (100, 2.0) if quick else (200, 5.0)
    floor = timer_floor(seconds)  # as long as the window, so that its max compares with the lateness max
    result = measure_lateness(lib, lib.scheduler(), jobs=jobs, seconds=seconds, shortest=0.2, longest=0.5, spread=0.2)
    return {**result, **floor}


def timer_floor(seconds: float) -> dict[str, float]:
    """How late a bare ``Event.wait(timeout)`` ends on this machine, with no scheduler at all (ms).

    Random timeouts of 0.2-3 ms, as a scheduler's waits between fires, for ``seconds``; the thread keeps the
    default timer slack. The overrun is the floor under every lateness figure: what a timed wait costs here
    whichever library waits.
    """
    event = threading.Event()
    rng = random.Random(99)
    overruns: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        timeout = rng.uniform(0.0002, 0.003)
        start = time.perf_counter()
        event.wait(timeout)
        overruns.append(time.perf_counter() - start - timeout)
    overruns.sort()
    return {
        "_timer_p50": percentile(overruns, 0.50) * 1000,
        "_timer_p99": percentile(overruns, 0.99) * 1000,
        "_timer_max": overruns[-1] * 1000,
    }


def measure_lateness(
    lib: Any,
    scheduler: Any,
    *,
    jobs: int,
    seconds: float,
    shortest: float,
    longest: float,
    spread: float,
    lead: float = 0.5,
) -> dict[str, Any]:
    """Lateness percentiles (ms) of ``jobs`` interval jobs run for ``seconds`` on ``scheduler`` (not started).

    Intervals are evenly spread from ``shortest`` to ``longest`` seconds, first fires over ``spread`` seconds
    starting ``lead`` seconds after the scheduler started (time to add the jobs; adding them must fit in it).
    Also used by the store benchmarks, with a SQL job store.
    """
    _starts.clear()
    _scheduled.clear()
    rng = random.Random(1234)  # the same schedule for both libraries
    scheduler.add_listener(_on_executed, lib.EVENT_JOB_EXECUTED)
    scheduler.start()
    origin = time.time() + lead  # leave time to add the jobs before the first one is due
    scheduled_fires = 0
    try:
        for index in range(jobs):
            job_id = f"job{index}"
            interval = shortest + (longest - shortest) * index / (jobs - 1)
            offset = rng.uniform(0.0, spread)
            scheduled_fires += int((seconds - offset) // interval) + 1
            first = datetime.fromtimestamp(origin + offset, UTC)
            trigger = lib.IntervalTrigger(seconds=interval, start_date=first, timezone="UTC")
            scheduler.add_job(record_start, trigger, args=(job_id,), id=job_id)
        if time.time() > origin:
            raise RuntimeError(f"{lib.name}: adding {jobs} jobs took longer than the {lead} s lead")
        time.sleep(max(0.0, origin + seconds - time.time()))
    finally:
        scheduler.shutdown(wait=True)

    late: list[float] = []
    unpaired = 0
    for job_id, starts in _starts.items():
        scheduled = _scheduled.get(job_id, [])
        unpaired += abs(len(starts) - len(scheduled))
        late.extend(start - due for start, due in zip(starts, scheduled, strict=False))
    late.sort()
    if not late:
        raise RuntimeError(f"{lib.name}: no job ran")
    if late[0] < -0.001:
        raise RuntimeError(f"{lib.name}: a job started {-late[0] * 1000:.1f} ms before its scheduled time")
    return {
        "lateness_p50": percentile(late, 0.50) * 1000,
        "lateness_p99": percentile(late, 0.99) * 1000,
        "lateness_max": late[-1] * 1000,
        "_runs": len(late),
        # Fires the schedule had in the window, against runs that happened: coalesced fires would show here.
        "_scheduled_fires": scheduled_fires,
        "_unpaired": unpaired,
    }


CASES = [
    Case(
        "lateness:lateness",
        lateness,
        [
            Figure("lateness_p50", "fire lateness p50 (200 interval jobs, 5 s)", "ms", "lower", "median"),
            Figure("lateness_p99", "fire lateness p99", "ms", "lower", "median"),
            Figure(
                "lateness_max",
                "fire lateness max",
                "ms",
                "lower",
                "median",
                informational="one sample per run, set by machine stalls that either library takes at random "
                "(compare the timer floor's max); the targets are p50 and p99",
            ),
        ],
        runs=9,
    ),
]
