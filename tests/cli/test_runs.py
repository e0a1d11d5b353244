"""run (now, --wait in this process), runs/history and logs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests.cli.conftest import Cli, store_run

FAST = ("--claim-timeout", "0.2", "-q")


def test_run_without_wait_marks_the_job_due(cli: Cli) -> None:
    cli("add", "tests.tasks:record", "--every", "1h")
    result = cli("run", "record")
    assert (result.code, result.out) == (
        0,
        "marked record to run; no scheduler is running over this store: start `nbsched serve` or use --wait\n",
    )
    job = json.loads(cli("list", "--json").out)["jobs"][0]
    assert datetime.fromisoformat(job["next_run_time"]) <= datetime.now(UTC)
    document = json.loads(cli("run", "record", "--json").out)
    assert (document["paused"], document["run"]) == (False, None)
    assert document["warning"] == "no scheduler is running over this store: start `nbsched serve` or use --wait"


def test_run_with_a_live_scheduler_says_it_starts_shortly(cli: Cli, home: Path) -> None:
    cli("add", "tests.tasks:record", "--every", "1h")
    cli("add", "tests.tasks:record", "--every", "1h", "--paused", "--id", "held")
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{home / 'nbsched.db'}")})
    scheduler.start(paused=True)  # started paused: it does not run jobs
    try:
        assert "no scheduler is running over this store" in cli("run", "record").out
        scheduler.resume()
        assert cli("run", "record").out == "marked record to run now; a scheduler over this store starts it shortly\n"
        assert cli("run", "held").out == (
            "marked held to run now; a scheduler over this store starts it shortly (it stays paused)\n"
        )
        assert json.loads(cli("run", "record", "--json").out)["warning"] is None
    finally:
        scheduler.shutdown()
    assert "no scheduler is running over this store" in cli("run", "record").out  # its row went at shutdown


def test_run_wait_runs_it_here_when_no_scheduler_does(cli: Cli) -> None:
    cli("add", "tests.tasks:add", "--every", "1h", "-p", "a=1", "-p", "b=2")
    result = cli("run", "add", "--wait", *FAST)
    assert result.code == 0, result.err
    assert re.fullmatch(r"run [0-9a-f]{32} of add succeeded in \d+\.\d\d s\n", result.out)
    runs = json.loads(cli("runs", "--json").out)["runs"]
    assert [(r["job_id"], r["status"]) for r in runs] == [("add", "succeeded")]
    job = json.loads(cli("list", "--json").out)["jobs"][0]
    assert (job["last_status"], job["run_count"], job["paused"]) == ("succeeded", 1, False)


def test_run_wait_of_a_failing_job_exits_1(cli: Cli) -> None:
    cli("add", "tests.tasks:fail", "--every", "1h", "-p", "message=kaput")
    result = cli("run", "fail", "--wait", *FAST)
    assert result.code == 1
    assert re.search(r"^run ([0-9a-f]{32}) of fail failed after .*: RuntimeError: kaput$", result.err, re.MULTILINE)
    assert "see: nbsched logs fail --run" in result.err
    document = json.loads(cli("run", "fail", "--wait", "--json", *FAST).out)
    assert document["run"]["status"] == "failed"
    assert document["run"]["error_message"] == "kaput"


def test_run_wait_timeout_exits_4_and_cancels(cli: Cli) -> None:
    cli("add", "tests.tasks:sleep", "--every", "1h", "-p", "seconds=3")
    result = cli("run", "sleep", "--wait", "--timeout", "0.5", *FAST)
    assert result.code == 4
    assert re.fullmatch(
        r"nbsched: error: run [0-9a-f]{32} of sleep is still running after 0.5 s \(see: nbsched runs sleep\)\n",
        result.err,
    )
    assert json.loads(cli("runs", "--json").out)["runs"][0]["status"] == "cancelled"


def test_run_of_a_paused_job_runs_once_and_stays_paused(cli: Cli) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--paused")
    result = cli("run", "record")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "marked record to run; no scheduler is running over this store: start `nbsched serve` or use --wait\n"
    )
    job = json.loads(cli("list", "--json").out)["jobs"][0]
    assert job["paused"] is False  # due now, to run once; paused again by the fire's claim
    assert cli("run", "record", "--wait", *FAST).code == 0
    job = json.loads(cli("list", "--json").out)["jobs"][0]
    assert (job["paused"], job["run_count"], job["last_status"]) == (True, 1, "succeeded")


def _fake_notebook_run(home: Path, job_id: str, status: RunStatus, **fields: Any) -> Run:
    """A finished notebook-like run with output files, as the notebook executor leaves them."""
    folder = home / "runs" / job_id / "r1"
    folder.mkdir(parents=True)
    (folder / "stdout.txt").write_text("".join(f"line {i}\n" for i in range(30)))
    (folder / "stderr.txt").write_text("warning: careful\n")
    (folder / "report.ipynb").write_text("{}")
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "error_type": "ZeroDivisionError",
        "error_message": "division by zero",
        "traceback": "Traceback...\nZeroDivisionError: division by zero\n",
        "cell_index": 3,
        "outputs": {
            k: str(folder / n)
            for k, n in (("ipynb", "report.ipynb"), ("stdout", "stdout.txt"), ("stderr", "stderr.txt"))
        },
    }
    run = Run(job_id=job_id, scheduled_at=now, status=status, started_at=now, finished_at=now, **{**values, **fields})
    return store_run(home, run)


def test_logs_shows_error_outputs_and_captured_streams(cli: Cli, home: Path) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "nb")
    run = _fake_notebook_run(home, "nb", RunStatus.FAILED)
    out = cli("logs", "nb", "--lines", "2").out
    assert f"run       {run.id}  (job nb, attempt 1)\n" in out
    assert "status    failed\n" in out
    assert "error     ZeroDivisionError: division by zero (cell 4)\n" in out
    assert "traceback:\nTraceback...\nZeroDivisionError: division by zero\n" in out
    assert re.search(
        r"outputs:\n  ipynb   .*/runs/nb/r1/report.ipynb\n  stderr  .*stderr.txt\n  stdout  .*stdout.txt\n", out
    )
    assert out.endswith(
        "--- stdout (last 2 lines) ---\nline 28\nline 29\n\n--- stderr (last 2 lines) ---\nwarning: careful\n"
    )
    document = json.loads(cli("logs", "nb", "--run", run.id[-6:], "--json").out)
    assert document["run"]["id"] == run.id
    assert document["stderr"] == "warning: careful\n"


def test_runs_and_logs_show_a_run_s_warnings(cli: Cli, home: Path) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "nb")
    warnings = ["html not written: [Errno 28] No space left on device", "second note"]
    run = _fake_notebook_run(home, "nb", RunStatus.SUCCEEDED, error_type=None, error_message=None, warnings=warnings)
    lines = cli("runs").out.splitlines()
    assert lines[1].endswith("warning: html not written: [Errno 28] No space left on device (+1 more)")
    out = cli("logs", "nb").out
    assert "warning   html not written: [Errno 28] No space left on device\nwarning   second note\n" in out
    assert json.loads(cli("runs", "--json").out)["runs"][0]["warnings"] == warnings
    assert run.warnings == warnings


def test_logs_errors(cli: Cli) -> None:
    cli("add", "tests.tasks:record", "--every", "1h")
    assert cli("logs", "record").err == "nbsched: error: job record has no runs yet\n"
    assert cli("logs", "record").code == 3
    result = cli("logs", "record", "--run", "abc")
    assert (result.code, result.err) == (
        3,
        "nbsched: error: no run of job record has an id starting or ending with 'abc'\n",
    )


def test_runs_table_filters_and_history_alias(cli: Cli) -> None:
    cli("add", "tests.tasks:fail", "--every", "1h")
    cli("add", "tests.tasks:record", "--every", "1h")
    cli("run", "fail", "--wait", *FAST)
    cli("run", "record", "--wait", *FAST)
    lines = cli("runs").out.splitlines()
    assert lines[0].split() == ["RUN", "JOB", "SCHEDULED", "STATUS", "DURATION", "DETAIL"]
    assert re.match(r"[0-9a-f]{32}  record  .*  succeeded ", lines[1])
    assert re.match(r"[0-9a-f]{32}  fail    .*  failed    .*RuntimeError: boom$", lines[2])
    assert len(cli("history", "fail").out.splitlines()) == 2
    failed = json.loads(cli("runs", "--status", "failed", "--json").out)["runs"]
    assert [r["job_id"] for r in failed] == ["fail"]
    assert json.loads(cli("runs", "--since", "1h", "--limit", "1", "--json").out)["runs"][0]["job_id"] == "record"
    assert json.loads(cli("runs", "--since", "2 days", "--json").out)["runs"][0]["job_id"] == "record"
    assert cli("runs", "--since", "not a date").code == 2
    assert cli("runs", "--status", "bogus").code == 2
