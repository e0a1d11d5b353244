"""Idle cost: CPU used by a started scheduler whose 10,000 jobs are all an hour away.

After adding the jobs and letting the scheduler settle for a second, the process's CPU time and voluntary
context switches, summed over all its threads, are read over a few seconds of wall time. A scheduler that
sleeps until the next due time costs ~0 % and wakes ~0 times a second.

On Linux both come from ``/proc/self/task/*`` (``schedstat`` counts CPU time in nanoseconds; psutil's
``cpu_times`` counts 10 ms clock ticks, so one stray tick would read as 0.2 % over 5 s). Elsewhere psutil is
used: process CPU time, and the context switches it reports.
"""

from __future__ import annotations

import glob
import threading
import time
from typing import Any

from bench._measure import Case, Figure

__all__ = ["CASES", "idle"]


def noop() -> None:
    """A job that never runs within the measurement."""


def _usage() -> tuple[float, int]:
    """(CPU seconds, voluntary context switches) of this process, all threads."""
    tasks = glob.glob("/proc/self/task/*")
    if tasks:
        cpu_ns = switches = 0
        for task in tasks:
            try:
                with open(f"{task}/schedstat") as handle:
                    cpu_ns += int(handle.read().split()[0])
                with open(f"{task}/status") as handle:
                    for line in handle:
                        if line.startswith("voluntary_ctxt_switches:"):
                            switches += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended between listing and reading
        return cpu_ns / 1e9, switches
    import psutil

    process = psutil.Process()
    times = process.cpu_times()
    return times.user + times.system, process.num_ctx_switches().voluntary


def idle(lib: Any, quick: bool) -> dict[str, Any]:
    """% of one core and wake-ups per second while nothing is due."""
    jobs, seconds = (10_000, 2.0) if quick else (10_000, 5.0)
    scheduler = lib.scheduler()
    scheduler.start()
    try:
        for _ in range(jobs):
            scheduler.add_job(noop, "interval", hours=1)
        time.sleep(1.0)
        cpu_before, switches_before = _usage()
        wall_before = time.perf_counter()
        time.sleep(seconds)
        wall = time.perf_counter() - wall_before
        cpu_after, switches_after = _usage()
        threads = threading.active_count()
    finally:
        scheduler.shutdown(wait=False)
    # The main thread's own sleep accounts for one switch; what remains is the scheduler's wake-ups.
    switches = max(0, switches_after - switches_before - 1)
    return {
        "idle_cpu": 100.0 * (cpu_after - cpu_before) / wall,
        "idle_wakeups": switches / wall,
        "_threads": threads,
    }


CASES = [
    Case(
        "idle:idle",
        idle,
        [
            Figure("idle_cpu", "idle CPU (10k jobs an hour ahead)", "% core", "lower", "median", noise=0.1),
            Figure("idle_wakeups", "idle wake-ups (voluntary ctx switches)", "/s", "lower", "median", noise=0.2),
        ],
        runs=2,
    ),
]
