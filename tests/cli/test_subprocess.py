"""End to end: ``python -m nbsched.cli`` in real processes, ``serve`` stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, Cli, run_cli

pytestmark = pytest.mark.realtime


def test_module_entry_point_help_and_errors(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: nbsched ")
    result = run_cli(tmp_path, "pause", "nope")
    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "",
        "nbsched: error: No job by the id of nope was found\n",
    )
    result = run_cli(tmp_path, "add", "tests.tasks:record", "--every", "soon")
    assert result.returncode == 2
    assert result.stderr == "nbsched: error: add: --every 'soon' is not an interval such as 30s, 5m, 2h, 1d or 1h30m\n"


def test_add_then_run_wait_in_separate_processes(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "add", "tests.tasks:add", "--every", "1h", "-p", "a=2", "-p", "b=3").returncode == 0
    result = run_cli(tmp_path, "run", "add", "--wait", "--claim-timeout", "0.3", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["status"] == "succeeded"
    assert (tmp_path / "nbsched.db").stat().st_mode & 0o777 == 0o600


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def _runs(home: Path) -> list[dict[str, object]]:
    """The runs in ``home``'s store, read in this process (cheaper than a ``runs --json`` process per poll)."""
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import RunFilter

    store = SQLAlchemyJobStore(url=f"sqlite:///{home / 'nbsched.db'}")
    try:
        return [run.to_dict() for run in store.get_runs(RunFilter())]
    finally:
        store.shutdown()


def test_serve_runs_jobs_and_stops_cleanly_on_sigterm(cli: Cli, home: Path) -> None:
    # Jobs are added and read in this process; the service is a real process stopped by a real signal.
    tmp_path = home
    assert cli("add", "tests.tasks:record", "--every", "1s", "-p", "value=1", "--id", "tick").code == 0
    assert cli("add", "tests.tasks:sleep", "--every", "1h", "-p", "seconds=30", "--id", "slow").code == 0
    env = {**os.environ, "NBSCHED_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    env.pop("NBSCHED_DB_URL", None)
    serve = subprocess.Popen(
        [sys.executable, "-m", "nbsched.cli", "serve", "--grace", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: sum(r["job_id"] == "tick" for r in _runs(tmp_path)) >= 2, 20), "no runs appeared"
        # a run that is still going when the service stops is recorded as cancelled after the grace period
        assert cli("run", "slow").code == 0
        assert _wait_for(lambda: any(r["job_id"] == "slow" and r["status"] == "running" for r in _runs(tmp_path)), 10)
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=20)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert serve.returncode == 0, err
    assert "received SIGTERM: stopping" in err
    assert "nbsched serve stopped cleanly (1 run(s) cancelled)" in err.splitlines()[-1]
    statuses = {(r["job_id"], r["status"]) for r in json.loads(cli("runs", "--json", "--limit", "100").out)["runs"]}
    assert ("tick", "succeeded") in statuses
    assert ("slow", "cancelled") in statuses
    assert not any(status in ("running", "scheduled") for _, status in statuses)


def test_serve_stops_cleanly_on_sigint_when_idle(tmp_path: Path) -> None:
    env = {**os.environ, "NBSCHED_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        serve = subprocess.Popen(
            [sys.executable, "-m", "nbsched.cli", "serve"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            assert _wait_for(lambda: "nbsched serve: store" in log.read_text(), 30)
            serve.send_signal(signal.SIGINT)
            serve.wait(timeout=20)
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
    err = log.read_text()
    assert serve.returncode == 0, err
    assert "nbsched serve stopped cleanly (0 run(s) cancelled)" in err
    assert "Traceback" not in err
