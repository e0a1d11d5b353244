"""A ``--mode kernel`` job whose kernel is busy with the user's cells waits, quietly (issue 16, point 7).

The kernel's scheduler runs on a ManualClock; a busy cell is held open by triggering the shell's
``pre_execute`` event (what IPython does when a cell starts) and ended with ``post_execute``. Whatever the
scheduler logs at WARNING or above reaches the cell's output in a kernel (logging's last-resort handler writes
to ``sys.stderr``, which ipykernel routes to the running cell), so the notices are counted as log records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbsched.default
from nbsched.clock import ManualClock

FIRES = 6


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def clocked_shell(nbsched_home: Path, project: Path) -> Iterator[tuple[Any, ManualClock]]:
    """A real IPython shell with ``%load_ext nbsched`` over a process scheduler on a ManualClock."""
    from IPython.core.interactiveshell import InteractiveShell

    assert nbsched.default._scheduler is None or not nbsched.default._scheduler.running
    nbsched.default._scheduler = None
    clock = ManualClock("2026-01-05 09:00")
    nbsched.default.default_scheduler(clock=clock, timezone="UTC")
    ip = InteractiveShell.instance()
    assert ip.run_cell("%load_ext nbsched").success
    try:
        yield ip, clock
    finally:
        ip.run_line_magic("unload_ext", "nbsched")
        scheduler = nbsched.default._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.shutdown()
        nbsched.default._scheduler = None
        ip.user_ns.pop("ticks", None)


def _notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and "maximum number of running instances" in record.getMessage()
    ]


def _busy_period(shell: Any, clock: ManualClock, fires: int) -> None:
    """A user's cell runs while the job fires ``fires`` times; then it ends and the waiting run goes."""
    shell.events.trigger("pre_execute")  # the cell starts: kernel-mode runs wait for it
    try:
        for _ in range(fires):
            clock.advance(1)
    finally:
        shell.events.trigger("post_execute")


def test_a_busy_kernel_skips_fires_with_one_notice_per_busy_period_and_records_them(
    clocked_shell: tuple[Any, ManualClock], caplog: pytest.LogCaptureFixture
) -> None:
    shell, clock = clocked_shell
    caplog.set_level(logging.INFO)
    shell.run_cell("ticks = []")
    assert shell.run_cell("%%schedule --every 1s --mode kernel --name tick\nticks.append(1)").success
    scheduler = nbsched.default._scheduler
    assert scheduler is not None

    _busy_period(shell, clock, FIRES)
    wait_for(lambda: shell.user_ns["ticks"] == [1])  # the first fire waited for the cell, then ran
    assert len(_notices(caplog)) == 1  # not one per skipped fire

    # The run history says what was skipped: every fire that found the previous run still waiting.
    wait_for(lambda: sum(run.status == "succeeded" for run in scheduler.runs(job_id="tick")) == 1)
    skipped = [run for run in scheduler.runs(job_id="tick") if run.status == "skipped"]
    assert len(skipped) == FIRES - 1
    assert {run.error_message for run in skipped} == {"max_instances (1) reached: the previous run had not ended"}

    # A second busy period: one more notice, not more.
    _busy_period(shell, clock, FIRES)
    wait_for(lambda: shell.user_ns["ticks"] == [1, 1])
    assert len(_notices(caplog)) == 2
    wait_for(lambda: sum(run.status == "skipped" for run in scheduler.runs(job_id="tick")) == 2 * (FIRES - 1))
