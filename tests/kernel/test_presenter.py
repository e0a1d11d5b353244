"""The panel's presenter (plain state, no widgets) and the widget view following scheduler events."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nbsched import Cell, ManualClock
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.triggers.cron import CronTrigger
from nbsched.triggers.interval import IntervalTrigger
from nbsched.widgets.presenter import Presenter, build_state, format_duration, format_relative

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_job(job_id: str, trigger: Any, *, name: str = "", next_run: datetime | None = NOW, runs: int = 0) -> Any:
    from nbsched.job import Job

    return Job(
        id=job_id,
        func=Cell("x = 1"),
        func_ref=None,
        trigger=trigger,
        name=name,
        next_run_time=next_run,
        run_count=runs,
        executor="notebook",
    )


def test_build_state_lists_jobs_sorted_with_schedule_next_run_and_last_status() -> None:
    jobs = [
        (
            make_job("b", IntervalTrigger(minutes=5), name="refresh", next_run=NOW + timedelta(minutes=4), runs=3),
            "default",
        ),
        (make_job("a", CronTrigger.from_posix("0 9 * * 1-5", timezone="UTC"), name="Alpha", next_run=None), "kernel"),
    ]
    last = {"b": Run(job_id="b", scheduled_at=NOW, status=RunStatus.FAILED), "a": None}
    state = build_state(jobs, last, [], None, NOW, UTC)
    assert [job.id for job in state.jobs] == ["a", "b"]
    alpha, refresh = state.jobs
    assert (alpha.where, alpha.trigger, alpha.next_run, alpha.paused, alpha.last_status) == (
        "kernel",
        "every weekday at 09:00 (UTC)",
        "paused",
        True,
        None,
    )
    assert (refresh.where, refresh.trigger, refresh.next_run, refresh.last_status, refresh.run_count) == (
        "shared",
        "every 5 minutes",
        "2026-01-05 09:04:00 (in 4 min)",
        "failed",
        3,
    )
    assert refresh.kind == "cell"
    # Nothing selected: the first job is; a paused job can be resumed or removed, not paused or run now.
    assert state.selected == "a"
    assert state.actions == {"run_now": True, "pause": False, "resume": True, "remove": True}
    chosen = build_state(jobs, last, [], "b", NOW, UTC)
    assert chosen.selected == "b"
    assert chosen.actions == {"run_now": True, "pause": True, "resume": False, "remove": True}
    assert build_state(jobs, last, [], "gone", NOW, UTC).selected == "a"
    empty = build_state([], {}, [], "gone", NOW, UTC)
    assert (empty.selected, empty.runs, empty.actions["remove"]) == (None, (), False)


def test_run_rows_show_status_times_duration_progress_error_and_output_links() -> None:
    jobs = [(make_job("r", IntervalTrigger(hours=1)), "default")]
    done = Run(
        id="run1",
        job_id="r",
        scheduled_at=NOW - timedelta(minutes=10),
        status=RunStatus.FAILED,
        started_at=NOW - timedelta(minutes=10),
        finished_at=NOW - timedelta(minutes=10) + timedelta(seconds=75),
        error_type="KeyError",
        error_message="'price'",
        progress="cell 3/7",
        outputs={"ipynb": "/data/runs/r/run1/out.ipynb", "html": "/data/runs/r/run1/out.html"},
        warnings=["stderr not written: disk full"],
    )
    running = Run(
        id="run2", job_id="r", scheduled_at=NOW, status=RunStatus.RUNNING, started_at=NOW - timedelta(seconds=2)
    )
    state = build_state(jobs, {"r": running}, [running, done], "r", NOW, UTC, url_base="/user/ann/")
    first, second = state.runs
    assert (first.status, first.started, first.duration, first.error) == (
        "running",
        "2026-01-05 08:59:58",
        "2.00 s",
        "",
    )
    assert (second.status, second.duration, second.progress, second.error) == (
        "failed",
        "1 min 15 s",
        "cell 3/7",
        "KeyError: 'price'",
    )
    assert [(link.kind, link.url) for link in second.outputs] == [
        ("html", "/user/ann/nbsched/api/runs/run1/output/html"),
        ("ipynb", "/user/ann/nbsched/api/runs/run1/output/ipynb"),
    ]
    assert second.outputs[0].path == "/data/runs/r/run1/out.html"
    assert (first.warnings, second.warnings) == ((), ("stderr not written: disk full",))


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "-"), (0.42, "0.42 s"), (12.3, "12 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")]
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [(0.4, "now"), (30, "in 30 s"), (-30, "30 s ago"), (300, "in 5 min"), (5400, "in 1.5 h"), (86400 * 2, "in 2 d")],
)
def test_format_relative(delta: float, text: str) -> None:
    assert format_relative(NOW + timedelta(seconds=delta), NOW) == text


@pytest.fixture
def scheduler() -> Any:
    clock = ManualClock(NOW)
    sched = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, clock=clock, timezone="UTC")
    sched.start()
    yield sched
    sched.shutdown()


def test_presenter_actions_change_the_store_and_say_what_they_did(scheduler: Any, tmp_path: Any) -> None:
    # run now really runs it (a paused job too): it writes to a temporary file, not the working folder
    kwargs = {"path": str(tmp_path / "record.txt")}
    scheduler.add_job("tests.kernel.jobs:record", "interval", hours=1, id="hourly", kwargs=kwargs)
    presenter = Presenter(scheduler, url_base="/")
    assert presenter.state().selected == "hourly"
    presenter.pause()  # acts on the job shown as selected, even before any click
    state = presenter.state()
    assert (state.message, state.jobs[0].paused, state.jobs[0].next_run) == ("paused hourly", True, "paused")
    assert presenter.state().actions["run_now"]  # a paused job runs once and stays paused
    presenter.run_now()
    assert presenter.state().message == (
        "marked hourly to run now; a scheduler over this store starts it shortly (it stays paused)"
    )
    assert scheduler.get_job("hourly").pause_after_run
    presenter.resume()
    assert presenter.state().message == "resumed hourly"
    assert scheduler.get_job("hourly").next_run_time == NOW + timedelta(hours=1)
    presenter.run_now()
    assert presenter.state().message == "marked hourly to run now; a scheduler over this store starts it shortly"
    presenter.remove()
    state = presenter.state()
    assert (state.message, state.jobs, state.selected) == ("removed hourly", (), None)
    presenter.select("hourly")
    presenter.pause()
    assert presenter.state().message == "hourly no longer exists"


def test_presenter_says_when_no_scheduler_runs_jobs_over_the_store(tmp_path: Any) -> None:
    store = SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'jobs.db'}")
    manager = BackgroundScheduler(jobstores={"default": store}, manage_only=True, timezone="UTC")
    manager.start()
    try:
        manager.add_job("tests.kernel.jobs:record", "interval", hours=1, id="hourly", kwargs={"path": "x"})
        presenter = Presenter(manager, url_base="/")
        presenter.run_now()
        assert presenter.state().message == (
            "marked hourly to run; no scheduler is running over this store: start `nbsched serve`"
        )
    finally:
        manager.shutdown()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.mark.realtime
def test_panel_follows_scheduler_events_and_other_writers_without_polling(nbsched_home: Any) -> None:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.widgets.view import JobsPanel

    sched = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore()}, timezone="UTC")
    sched.start()
    panel = JobsPanel(sched, delay=0.05)
    try:
        assert panel.state is not None
        assert panel.state.jobs == ()
        assert panel.message.value.endswith("no jobs yet: schedule one with %%schedule</span>")
        # A job added through this scheduler: an event redraws the panel.
        sched.add_job("tests.kernel.jobs:record", "interval", hours=1, id="here", name="here", kwargs={"path": "x"})
        wait_for(lambda: [job.id for job in panel.state.jobs] == ["here"])
        names = [child.description for child in panel.jobs.children if hasattr(child, "on_click")]
        assert names == ["here"]
        # A job added by another writer of the store (another process): the store listener redraws it.
        other = SQLAlchemyJobStore()
        writer = BackgroundScheduler(jobstores={"default": other})
        writer.add_job("tests.kernel.jobs:record", "interval", hours=2, id="there", name="there", kwargs={"path": "x"})
        writer.start(paused=True)
        try:
            wait_for(lambda: [job.id for job in panel.state.jobs] == ["here", "there"], timeout=5)
        finally:
            writer.shutdown()
        # Clicking a job selects it; clicking Pause pauses it in the store.
        there = next(child for child in panel.jobs.children if getattr(child, "description", "") == "there")
        there.click()
        assert panel.state.selected == "there"
        panel.buttons["pause"].click()
        assert sched.get_job("there").next_run_time is None
        assert panel.state.jobs[1].paused
        assert panel.buttons["pause"].disabled and not panel.buttons["resume"].disabled
        # Nothing happens: no redraw (no polling loop).
        time.sleep(0.3)
        count = panel.refreshes
        time.sleep(1.5)
        assert panel.refreshes == count
        assert not [t for t in threading.enumerate() if t.name.startswith("Thread") and t.is_alive() and t.daemon]
    finally:
        panel.close()
        sched.shutdown()


def test_a_click_while_a_redraw_waits_does_not_deadlock_the_kernel() -> None:
    # A redraw (timer thread) holds the panel's lock and waits for the presenter's; a click (the kernel's main
    # thread) holds the presenter's while pausing the job, whose event asks for a redraw. Both must finish: a
    # stuck click handler blocks the kernel, and every later click in JupyterLab is lost.
    from nbsched.widgets.view import JobsPanel

    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, clock=ManualClock(NOW), timezone="UTC")
    scheduler.start()
    scheduler.add_job("tests.kernel.jobs:record", "interval", hours=1, id="hourly", kwargs={"path": "x"})
    panel = JobsPanel(scheduler, delay=0.01)
    presenter = panel.presenter
    redraw_waits, click_holds = threading.Event(), threading.Event()
    original_state, original_pause = presenter.state, scheduler.pause_job

    def state() -> Any:
        if threading.current_thread().name == "redraw":
            redraw_waits.set()
            click_holds.wait(5)  # the click holds the presenter's lock now
        return original_state()

    def pause_job(job_id: str, jobstore: str | None = None) -> Any:
        click_holds.set()
        time.sleep(0.1)  # the redraw is now waiting for the presenter's lock
        return original_pause(job_id, jobstore)

    presenter.state = state  # type: ignore[method-assign]
    scheduler.pause_job = pause_job  # type: ignore[method-assign]
    redraw = threading.Thread(target=panel.refresh, name="redraw", daemon=True)
    click = threading.Thread(target=panel.buttons["pause"].click, name="click", daemon=True)
    redraw.start()
    assert redraw_waits.wait(5)
    click.start()
    click.join(10)
    redraw.join(10)
    if click.is_alive() or redraw.is_alive():  # left as they are: closing the panel would hang as well
        pytest.fail("the click and the redraw deadlocked")
    try:
        assert scheduler.get_job("hourly").next_run_time is None
        wait_for(lambda: panel.state is not None and panel.state.message == "paused hourly")
    finally:
        panel.close()
        scheduler.shutdown()


def test_panel_state_reads_the_last_runs_in_one_query_per_store(tmp_path: Any) -> None:
    from sqlalchemy import event

    store = SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'jobs.db'}")
    manager = BackgroundScheduler(jobstores={"default": store}, manage_only=True, timezone="UTC")
    manager.start()
    try:
        for index in range(5):
            manager.add_job("tests.kernel.jobs:record", "interval", hours=1, id=f"j{index}", kwargs={"path": "x"})
            store.add_run(Run(job_id=f"j{index}", scheduled_at=NOW + timedelta(minutes=index)))
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        state = Presenter(manager, url_base="/").state()
        assert [job.last_status for job in state.jobs] == ["scheduled"] * 5
        # one for the last runs of the five jobs, one for the selected job's runs
        assert len([s for s in statements if "FROM runs" in s]) == 2, statements
    finally:
        manager.shutdown()
