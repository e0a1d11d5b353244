"""The scheduler thread's timed waits end on time: its timer slack is lowered while it runs, and put back; its
wake-up flag wakes it once per set, from any thread."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from nbsched.events import EVENT_JOB_SUBMITTED
from nbsched.schedulers._timers import TIMER_SLACK_NS, Wakeup, precise_timers, timer_slack
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.schedulers.blocking import BlockingScheduler

linux = pytest.mark.skipif(not sys.platform.startswith("linux") or timer_slack() is None, reason="Linux prctl")


@linux
def test_precise_timers_lowers_the_slack_of_this_thread_and_restores_it() -> None:
    before = timer_slack()
    seen: list[int | None] = []
    with precise_timers():
        assert timer_slack() == TIMER_SLACK_NS
        thread = threading.Thread(target=lambda: seen.append(timer_slack()))
        thread.start()  # Linux: a new thread inherits its creator's slack (pool workers started by the loop)
        thread.join()
    assert timer_slack() == before
    thread = threading.Thread(target=lambda: seen.append(timer_slack()))
    thread.start()
    thread.join()
    assert seen == [TIMER_SLACK_NS, before]


@linux
@pytest.mark.realtime
def test_the_background_scheduler_thread_waits_with_the_low_slack() -> None:
    # EVENT_JOB_SUBMITTED listeners run on the scheduler thread, inside its loop.
    seen: list[int | None] = []
    done = threading.Event()

    def on_submitted(_: Any) -> None:
        seen.append(timer_slack())
        done.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_listener(on_submitted, EVENT_JOB_SUBMITTED)
    scheduler.start()
    try:
        scheduler.add_job(print, "date", args=[""])
        assert done.wait(10)
    finally:
        scheduler.shutdown()
    assert seen == [TIMER_SLACK_NS]


@linux
@pytest.mark.realtime
def test_a_blocking_scheduler_gives_its_callers_thread_its_slack_back() -> None:
    before = timer_slack()
    scheduler = BlockingScheduler(timezone="UTC")
    inside: list[int | None] = []

    def stop() -> None:
        scheduler.shutdown(wait=False)

    scheduler.add_listener(lambda _: inside.append(timer_slack()), EVENT_JOB_SUBMITTED)
    scheduler.add_job(stop, "date")
    scheduler.start()  # returns once the job has shut it down
    assert inside == [TIMER_SLACK_NS]
    assert timer_slack() == before


def test_a_wakeup_set_before_the_wait_ends_it_at_once_and_only_once() -> None:
    wake = Wakeup()
    assert wake.wait(0) is False  # nothing pending
    wake.set()
    wake.set()  # setting twice is setting once
    assert wake.wait(0) is True
    assert wake.wait(0.01) is False  # the wait consumed it: the next one times out


def test_a_wakeup_set_from_other_threads_wakes_the_waiter() -> None:
    wake = Wakeup()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(wake.wait(30)))
    waiter.start()
    setters = [threading.Thread(target=wake.set) for _ in range(8)]
    for setter in setters:
        setter.start()
    for setter in setters:
        setter.join()
    waiter.join(30)
    assert woken == [True]
    wake.wait(0)  # sets that came after the waiter woke leave one wake-up pending at most, not seven
    assert wake.wait(0) is False
