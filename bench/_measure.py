"""How a benchmark case is described, and the small statistics used to summarise it.

A :class:`Case` is one measurement function run once per fresh subprocess and library; it returns one value
per :class:`Figure` (a row of the table). :func:`summarise` turns the values of several runs into the number
shown, and :func:`ratio` orients the comparison so that above 1 always means nbsched did better.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Case", "Figure", "percentile", "ratio", "summarise", "timed_per_call"]

Better = Literal["higher", "lower"]
Stat = Literal["best", "median"]


@dataclass(frozen=True)
class Figure:
    """One row of the table.

    :param id: stable key in the JSON results and for ``--only``
    :param title: what the row measures, as printed
    :param unit: unit of the values
    :param better: ``"higher"`` for rates, ``"lower"`` for costs and latencies
    :param stat: how the runs are summarised: ``"best"`` for micro-benchmarks (the least disturbed run),
        ``"median"`` for whole-scheduler figures where threads and the OS take part
    :param noise: values at or below it are indistinguishable from zero (no ratio is computed)
    :param informational: why the row is shown but is not a target (empty for a target row); the table marks it
        and prints the reason under it
    """

    id: str
    title: str
    unit: str
    better: Better
    stat: Stat
    noise: float = 0.0
    informational: str = ""


@dataclass(frozen=True)
class Case:
    """A measurement: ``func(lib, quick)`` returns ``{figure id: value}`` plus optional ``_``-prefixed extras.

    :param name: ``module:function`` key, used by the worker and by ``--only``
    :param func: the measurement
    :param figures: the rows it produces
    :param runs: fresh subprocesses per library in a default run
    :param quick_runs: the same with ``--quick``
    """

    name: str
    func: Callable[[Any, bool], dict[str, Any]]
    figures: Sequence[Figure]
    runs: int = 3
    quick_runs: int = 1


def summarise(values: Sequence[float], figure: Figure) -> float | None:
    """The value shown for ``figure`` from the values of its runs (``None`` if no run produced one)."""
    clean = [v for v in values if v is not None and math.isfinite(v)]
    if not clean:
        return None
    if figure.stat == "median":
        return statistics.median(clean)
    return max(clean) if figure.better == "higher" else min(clean)


def ratio(nbsched: float | None, apscheduler: float | None, figure: Figure) -> float | None:
    """``nbsched / apscheduler`` for rates, ``apscheduler / nbsched`` for costs: above 1, nbsched is better.

    ``None`` when a side is missing or within the figure's noise (idle CPU of 0.00 % has no meaningful ratio).
    """
    floor = figure.noise
    if nbsched is None or apscheduler is None or nbsched <= floor or apscheduler <= floor:
        return None
    return nbsched / apscheduler if figure.better == "higher" else apscheduler / nbsched


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) of already sorted values, linearly interpolated."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def timed_per_call(body: Callable[[], int], min_seconds: float, repeats: int) -> float:
    """Seconds per call of the fastest of ``repeats`` samples.

    ``body()`` does some calls and returns how many; a sample repeats it until ``min_seconds`` have passed,
    so cheap bodies are timed over many calls and the timer's own cost disappears.
    """
    from time import perf_counter

    best = math.inf
    for _ in range(repeats):
        calls = 0
        start = perf_counter()
        while True:
            calls += body()
            elapsed = perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return best
