"""The magics through a real IPython shell (``InteractiveShell``), as a user types them."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from nbsched.kernel_session import current_session
from nbsched.notebooks import Cell, Notebook

pytestmark = pytest.mark.realtime


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def scheduler() -> Any:
    session = current_session()
    assert session is not None
    return session.scheduler


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("%%schedule --evry 5m\nx = 1", "%%schedule: --evry is not an option (did you mean --every?)"),
        (
            "%%schedule --every 5x\nx = 1",
            "%%schedule: --every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')",
        ),
        (
            "%%schedule --every '2 dayz'\nx = 1",
            "%%schedule: --every '2 dayz' has an unknown unit 'dayz' (e.g. '5m', '1h30m', '90s')",
        ),
        ("%%schedule --every 0s\nx = 1", "%%schedule: --every '0s' must be longer than zero"),
        ("%%schedule --every -5m\nx = 1", "%%schedule: --every '-5m' must be longer than zero"),
        (
            '%%schedule --cron "0 25 * * *"\nx = 1',
            "%%schedule: --cron '0 25 * * *' is not valid: hour '25' is out of range 0-23",
        ),
        (
            '%%schedule --cron "0 9 * *"\nx = 1',
            "%%schedule: --cron '0 9 * *' is not valid: expression '0 9 * *' has 4 fields, expected 5",
        ),
        (
            "%%schedule --at tomorrow\nx = 1",
            "%%schedule: --at 'tomorrow' is not a date/time (expected e.g. '2026-12-01 08:00')",
        ),
        (
            "%%schedule --every 5m --tz Europe/Pariss\nx = 1",
            "%%schedule: --tz 'Europe/Pariss' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')",
        ),
        ("%%schedule --every 5m --mode kernal\nx = 1", "%%schedule: --mode 'kernal' must be headless or kernel"),
        ("%%schedule --every\nx = 1", "%%schedule: --every needs a value"),
        ("%%schedule\nx = 1", "%%schedule: say when with one of --every, --cron or --at (see %schedule?)"),
        (
            "%%schedule --every 5m --cron @daily\nx = 1",
            "%%schedule: --cron cannot be combined with --every; give one of --every, --cron, --at",
        ),
        ("%%schedule --every 5m\n\n", "%%schedule: the cell is empty; write the code to schedule below the magic line"),
        (
            "%%schedule --every 5m --mode kernel --timeout 1\nx = 1",
            "%%schedule: --timeout 1.0 applies to headless runs; --mode kernel has no timeout",
        ),
        (
            '%%schedule --every 5m --name "open # quote\nx = 1',
            "%%schedule: cannot read the arguments (No closing quotation)",
        ),
        (
            "%%schedule --every 5m --mode kernel\nawait something()",
            "%%schedule: --mode 'kernel' cannot run a cell with top-level await; use --mode headless",
        ),
        (
            "%schedule nothing_here --every 1m",
            "%schedule: target 'nothing_here' is not a notebook (.ipynb), a module:function reference or a function",
        ),
        (
            "%schedule missing.ipynb --every 1m",
            "%schedule: path 'missing.ipynb' does not exist (looked for {project}/missing.ipynb)",
        ),
        ("%schedule report.ipynb --every 1m -p 1x=2", "%schedule: -p '1x=2' must be name=value with a Python name"),
        ("%unschedule nope", "%unschedule: name 'nope' is not a job (jobs: none)"),
        ("%schedule --pause nope", "%schedule: --pause 'nope' is not a job (jobs: none)"),
        ("%runs -n 0", "%runs: --limit 0 must be a positive number"),
        ("%jobs --pannel", "%jobs: --pannel is not an option (did you mean --panel?)"),
    ],
)
def test_bad_input_is_one_usage_error_line_without_traceback(
    shell: Any, project: Path, capsys: pytest.CaptureFixture[str], cell: str, message: str
) -> None:
    capsys.readouterr()
    result = shell.run_cell(cell)
    assert isinstance(result.error_in_exec, UsageError)
    expected = message.format(project=project)
    assert str(result.error_in_exec) == expected
    captured = capsys.readouterr()
    assert captured.err == f"UsageError: {expected}\n"  # one line, no traceback
    assert "Traceback" not in captured.out
    assert scheduler().get_jobs() == []


def test_schedule_cell_headless_goes_to_the_shared_store(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_cell('%%schedule --cron "0 9 * * 1-5" --tz Europe/Paris --name refresh-prices\nprices = 1\n')
    assert result.success
    job = scheduler().get_job("refresh-prices", "default")
    assert job is not None
    assert isinstance(job.func, Cell)
    assert job.func.mode == "headless"
    assert job.func.source == "prices = 1\n"
    assert job.executor == "notebook"
    assert job.trigger.describe() == "every weekday at 09:00 (Europe/Paris)"
    out = capsys.readouterr().out
    assert out.startswith("scheduled refresh-prices (shared store): every weekday at 09:00 (Europe/Paris); next run ")


def test_rerunning_a_schedule_cell_updates_its_job(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cell = "%%schedule --every 5m\nrefresh()\n"
    assert shell.run_cell(cell).success
    assert shell.run_cell(cell).success
    jobs = scheduler().get_jobs()
    assert len(jobs) == 1
    assert jobs[0].id.startswith("cell-")
    assert jobs[0].name == "cell: refresh()"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"scheduled {jobs[0].id} (shared store): every 5 minutes")
    assert lines[1].startswith(f"updated {jobs[0].id} (shared store): every 5 minutes")
    # A named cell keeps its job when its schedule and code change; switching mode moves it to the kernel store.
    assert shell.run_cell("%%schedule --every 5m --name prices\nold()\n").success
    assert shell.run_cell("%%schedule --every 2h --name prices --mode kernel\nnew()\n").success
    assert scheduler().get_job("prices", "default") is None
    job = scheduler().get_job("prices", "kernel")
    assert job is not None
    assert job.func.source == "new()\n"
    assert job.trigger.describe() == "every 2 hours"
    assert len(scheduler().get_jobs()) == 2


def test_schedule_a_notebook_with_parameters(shell: Any, project: Path) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": "region = 'US'\nlimit = 5\n",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / "notebooks").mkdir()
    (project / "notebooks" / "report.ipynb").write_text(json.dumps(nb))
    result = shell.run_cell('%schedule notebooks/report.ipynb --cron "@daily" -p region=EU -p limit=10')
    assert result.success, result.error_in_exec
    job = scheduler().get_job("report", "default")
    assert isinstance(job.func, Notebook)
    assert job.func.parameters == {"region": "EU", "limit": 10}
    assert job.trigger.describe().startswith("at 00:00 every day")
    bad = shell.run_cell("%schedule notebooks/report.ipynb --every 1h -p colour=red")
    assert isinstance(bad.error_in_exec, UsageError)
    assert str(bad.error_in_exec).startswith("%schedule: -p 'colour' ")


def test_a_trailing_comment_is_ignored_as_in_a_shell(shell: Any, project: Path) -> None:
    # as the README and the module docstring write it
    cell = "%%schedule --every 5m --name refresh-prices   # interval: 30s, 5m, 2h, 1d\nprices = 1\n"
    assert shell.run_cell(cell).success
    job = scheduler().get_job("refresh-prices", "default")
    assert job is not None and job.trigger.describe() == "every 5 minutes" and job.func.source == "prices = 1\n"
    # '#' inside quotes or inside a word is no comment (shlex's comments=True would cut "#ff0000" to nothing)
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": "colour = 'red'\nlabel = ''\n",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / "report.ipynb").write_text(json.dumps(nb))
    line = "%schedule report.ipynb --every 1h -p colour=#ff0000 -p \"label=a # b\" --name 'no. #1'  # hourly"
    result = shell.run_cell(line)
    assert result.success, result.error_in_exec
    job = scheduler().get_job("no. #1", "default")
    assert job is not None and job.func.parameters == {"colour": "#ff0000", "label": "a # b"}
    assert shell.run_cell("%jobs   # all of them").success
    assert shell.run_cell("%unschedule refresh-prices # done").success
    assert scheduler().get_job("refresh-prices") is None


def test_an_at_in_the_past_is_refused_as_the_rest_api_does(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Paris")
    before = scheduler().clock.now().astimezone(zone)
    result = shell.run_cell('%%schedule --at "2020-01-01 08:00" --tz Europe/Paris\nx = 1')
    after = scheduler().clock.now().astimezone(zone)
    assert isinstance(result.error_in_exec, UsageError)
    assert str(result.error_in_exec) in {
        f"%%schedule: --at '2020-01-01 08:00' is in the past (now is {now:%Y-%m-%d %H:%M} Europe/Paris)"
        for now in (before, after)
    }
    assert capsys.readouterr().err == f"UsageError: {result.error_in_exec}\n"
    assert scheduler().get_jobs() == []  # not added (it would have run at once)
    ahead = (after + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert shell.run_cell(f'%%schedule --at "{ahead}" --tz Europe/Paris --name later\nx = 1').success
    assert scheduler().get_job("later") is not None


def test_schedule_a_function_reference_runs_it(shell: Any, tmp_path: Path) -> None:
    out = tmp_path / "calls.txt"
    result = shell.run_cell(f"%schedule tests.kernel.jobs:record --every 1s -p path='{out}' -p label=ref")
    assert result.success, result.error_in_exec
    job = scheduler().get_job("record", "default")
    assert job.func_ref == "tests.kernel.jobs:record"
    assert job.kwargs == {"path": str(out), "label": "ref"}
    wait_for(lambda: out.exists() and out.read_text().strip() != "")
    assert out.read_text().splitlines()[0].endswith(" ref")


def test_kernel_mode_cell_runs_in_the_namespace_and_is_recorded(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell("ticks = []")
    assert shell.run_cell(
        "%%schedule --every 1s --mode kernel --name tick\nticks.append(len(ticks))\nprint('tick')"
    ).success
    wait_for(lambda: len(shell.user_ns["ticks"]) >= 2)
    runs = scheduler().runs(job_id="tick")
    assert {run.status for run in runs if run.status != "scheduled"} <= {"succeeded", "running"}
    assert sum(run.status == "succeeded" for run in runs) >= 1
    assert "tick" in capsys.readouterr().out
    # A failing kernel cell is a failed run with its error; the scheduler goes on.
    assert shell.run_cell("%%schedule --every 1s --mode kernel --name boom\n1 / 0").success
    wait_for(lambda: any(run.status == "failed" for run in scheduler().runs(job_id="boom")))
    failed = next(run for run in scheduler().runs(job_id="boom") if run.status == "failed")
    assert failed.error_type == "ZeroDivisionError"
    assert failed.error_message == "division by zero"
    assert "ZeroDivisionError" in (failed.traceback or "")


def test_kernel_mode_never_runs_in_the_middle_of_a_cell(shell: Any) -> None:
    shell.run_cell("log = []")
    assert shell.run_cell("%%schedule --every 1s --mode kernel --name logger\nlog.append('job')").success
    wait_for(lambda: "job" in shell.user_ns["log"])
    # While this cell sleeps, the job fires (at least twice); it must wait for the cell to end.
    shell.run_cell("import time\nlog.append('start')\ntime.sleep(2.5)\nlog.append('end')")
    wait_for(lambda: shell.user_ns["log"][-1] == "job")
    log = shell.user_ns["log"]
    start, end = log.index("start"), log.index("end")
    assert end == start + 1, log
    # ...and a cell sent while a job runs waits for the job.
    assert shell.run_cell(
        "%%schedule --every 1s --mode kernel --name slow\nlog.append('slow-start'); time.sleep(1); log.append('slow-end')"
    ).success
    wait_for(lambda: "slow-start" in shell.user_ns["log"])
    shell.run_cell("log.append('cell')")
    log = shell.user_ns["log"]
    assert log.index("slow-end") == log.index("slow-start") + 1 or log.index("cell") > log.index("slow-end"), log


def test_pause_resume_run_now_and_unschedule(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell("counter = []")
    assert shell.run_cell("%%schedule --every 1h --mode kernel --name hourly\ncounter.append(1)").success
    assert shell.run_cell("%schedule --run-now hourly").success
    wait_for(lambda: shell.user_ns["counter"] == [1])
    assert shell.run_cell("%schedule --pause hourly").success
    assert scheduler().get_job("hourly").next_run_time is None
    assert shell.run_cell("%schedule --run-now hourly").success  # a paused job runs once and stays paused
    wait_for(lambda: shell.user_ns["counter"] == [1, 1])
    wait_for(lambda: scheduler().get_job("hourly").next_run_time is None)
    assert shell.run_cell("%schedule --resume hourly").success
    assert scheduler().get_job("hourly").next_run_time is not None
    assert shell.run_cell("%unschedule hourly").success
    assert scheduler().get_job("hourly") is None
    out = capsys.readouterr().out
    assert "marked hourly to run now; a scheduler over this store starts it shortly\npaused hourly\n" in out
    assert "marked hourly to run now; a scheduler over this store starts it shortly (it stays paused)\n" in out
    assert "resumed hourly\nremoved hourly\n" in out


def test_jobs_and_runs_tables(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell("ticks = []")
    shell.run_cell("%%schedule --every 1s --mode kernel --name tick\nticks.append(1)")
    shell.run_cell('%%schedule --cron "30 8 * * *" --tz UTC --name morning\nx = 1')
    wait_for(lambda: len(shell.user_ns["ticks"]) >= 1)
    wait_for(lambda: any(r.status == "succeeded" for r in scheduler().runs(job_id="tick")))
    capsys.readouterr()
    shell.run_cell("%jobs")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["job", "where", "schedule", "next", "run", "last", "runs"]
    assert lines[1].split()[:2] == ["morning", "shared"]
    assert "  at 08:30 every day (UTC)  " in lines[1]
    assert lines[2].split()[:4] == ["tick", "kernel", "every", "second"]
    assert "succeeded" in lines[2]
    shell.run_cell("%runs tick -n 1")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["job", "status", "scheduled"]
    assert len(lines) == 2
    assert lines[1].split()[:2] in (["tick", "succeeded"], ["tick", "running"], ["tick", "scheduled"])


def test_help_shows_every_option(shell: Any) -> None:
    from IPython.core.oinspect import Inspector  # noqa: F401  # the machinery behind `%schedule?`

    doc = shell.find_line_magic("schedule").__doc__
    for option in (
        "--every",
        "--cron",
        "--at",
        "--tz",
        "--name",
        "--mode",
        "--param",
        "--pause",
        "--resume",
        "--run-now",
    ):
        assert option in doc
    assert "%%schedule --every 5m --name refresh-prices" in doc


def test_unload_ends_kernel_jobs_and_keeps_shared_ones(shell: Any) -> None:
    shell.run_cell("%%schedule --every 1h --mode kernel --name mine\nx = 1")
    shell.run_cell("%%schedule --every 1h --name shared\nx = 1")
    session = current_session()
    assert session is not None
    sched = session.scheduler
    shell.run_line_magic("unload_ext", "nbsched")
    assert current_session() is None
    assert "kernel" not in sched._jobstores
    assert [job.id for job in sched.get_jobs()] == ["shared"]
    shell.run_line_magic("load_ext", "nbsched")
    assert current_session() is not None
    assert current_session().scheduler is sched  # once per kernel: the same scheduler


def test_coexists_with_another_scheduler_on_the_same_store(shell: Any, tmp_path: Path) -> None:
    """This kernel and another scheduler (as `nbsched serve` would be) share the store: each fire runs once."""
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.background import BackgroundScheduler

    out = tmp_path / "calls.txt"
    other = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore()})
    other.start()
    try:
        assert shell.run_cell(f"%schedule tests.kernel.jobs:record --every 1s -p path='{out}'").success
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 4, timeout=15)
    finally:
        shell.run_cell("%unschedule record")
        other.shutdown()
    runs = scheduler().runs(job_id="record", limit=None)
    times = [run.scheduled_at for run in runs]
    assert len(times) == len(set(times))
    assert len(out.read_text().splitlines()) == sum(run.status == "succeeded" for run in runs)


def test_store_listener_hears_other_writers(shell: Any) -> None:
    """The base scheduler's store listener reports writes by another connection (another process)."""
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.background import BackgroundScheduler

    heard = threading.Event()
    sched = scheduler()
    sched.add_store_listener(lambda alias: heard.set() if alias == "default" else None)
    time.sleep(1.2)  # let a pass take the baseline
    heard.clear()
    writer = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore()})
    writer.add_job("tests.kernel.jobs:record", "interval", hours=1, id="elsewhere", kwargs={"path": "x"})
    writer.start(paused=True)
    try:
        assert heard.wait(5)
    finally:
        writer.shutdown()
