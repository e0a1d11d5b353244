"""Scheduler-core throughput: adding jobs, and firing many jobs that are due at once.

Both use a started ``BackgroundScheduler`` over the memory store with the default 10-thread pool, real time,
``timezone="UTC"`` and ``misfire_grace_time=None``.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from bench._measure import Case, Figure

__all__ = ["CASES", "add_job_paused", "add_job_running", "firing"]


def noop() -> None:
    """A job that does nothing (never runs in the add_job cases)."""


# The firing case counts runs here. Each case runs in its own subprocess, so module state is never shared.
_target = 0
_counter = itertools.count(1)
_done = threading.Event()


def tick() -> None:
    """Count one run; the run that reaches the target sets the event the measurement waits on."""
    # next() on itertools.count is atomic under the GIL: no lock, so counting costs both libraries ~nothing.
    if next(_counter) == _target:
        _done.set()


def _add_job_rate(lib: Any, quick: bool, *, paused: bool) -> float:
    count = 2_000 if quick else 10_000
    scheduler = lib.scheduler()
    scheduler.start(paused=paused)
    try:
        start = perf_counter()
        for _ in range(count):
            # An interval an hour long: nothing becomes due while the calls are timed.
            scheduler.add_job(noop, "interval", hours=1)
        elapsed = perf_counter() - start
    finally:
        scheduler.shutdown(wait=False)
    return count / elapsed


def add_job_paused(lib: Any, quick: bool) -> dict[str, Any]:
    """add_job calls per second on a scheduler started with ``paused=True`` (no wake-ups)."""
    return {"add_job_paused": _add_job_rate(lib, quick, paused=True)}


def add_job_running(lib: Any, quick: bool) -> dict[str, Any]:
    """add_job calls per second on a running scheduler: every call also wakes the scheduler thread."""
    return {"add_job_running": _add_job_rate(lib, quick, paused=False)}


def firing(lib: Any, quick: bool) -> dict[str, Any]:
    """Runs per second of N jobs all due at once, from ``resume()`` until the N-th run has executed.

    The jobs are added to a paused scheduler with ``next_run_time=now`` and an hour-long interval, so each
    runs exactly once; the clock stops when the counter reaches N (an event, no polling or sleeps).
    """
    global _target, _counter, _done
    count = 2_000 if quick else 5_000
    _target, _counter, _done = count, itertools.count(1), threading.Event()
    scheduler = lib.scheduler()
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        for _ in range(count):
            scheduler.add_job(tick, "interval", hours=1, next_run_time=now)
        start = perf_counter()
        scheduler.resume()
        finished = _done.wait(timeout=300)
        elapsed = perf_counter() - start
    finally:
        scheduler.shutdown(wait=True)
    if not finished:
        raise RuntimeError(f"{lib.name}: only {next(_counter) - 1} of {count} due jobs ran within 300 s")
    return {"firing": count / elapsed, "_jobs": count, "_seconds": elapsed}


CASES = [
    Case(
        "core:add_job_paused",
        add_job_paused,
        [Figure("add_job_paused", "add_job, scheduler paused (10k interval jobs)", "jobs/s", "higher", "best")],
        runs=5,
    ),
    Case(
        "core:add_job_running",
        add_job_running,
        [Figure("add_job_running", "add_job, scheduler running (10k, wakes loop)", "jobs/s", "higher", "best")],
        runs=5,
    ),
    Case(
        "core:firing",
        firing,
        [Figure("firing", "due-job firing (5k due at once, 10 threads)", "runs/s", "higher", "median")],
        runs=7,
    ),
]
