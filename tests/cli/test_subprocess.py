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

from tests.cli.conftest import NOTEBOOK_SECRET, REPO, Cli, run_cli, secret_notebook, start_serve

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
    assert result.stderr == "nbsched: error: add: --every 'soon' is not a duration (e.g. '5m', '1h30m', '90s')\n"


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
    serve = start_serve(tmp_path, 1)
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


def test_serve_masks_secrets_until_its_last_log_line(cli: Cli, home: Path, tmp_path: Path) -> None:
    # Two notebook runs outlive the grace period: their kernels are stopped, and the runs report how they ended
    # after the stop. Neither those lines nor any other may show the secret: not through the default name,
    # nor through a name an older nbsched gave (it embedded the parameters).
    folder = tmp_path / "project"
    secret_notebook(folder, 'import time\nprint("started", flush=True)\ntime.sleep(60)')
    add = ("add", str(folder / "secok.ipynb"), "--every", "1h", "-p", f"api_token={NOTEBOOK_SECRET}", "--paused")
    assert cli(*add).code == 0
    old_name = f"secok.ipynb(api_token={NOTEBOOK_SECRET!r})"
    assert cli(*add, "--id", "old", "--name", old_name).code == 0
    serve = start_serve(home, 0.5)
    try:
        for job_id in ("secok", "old"):
            assert cli("run", job_id, "--claim-timeout", "10").code == 0
        assert _wait_for(lambda: sum(r["status"] == "running" for r in _runs(home)) == 2, 60), "no runs started"
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert serve.returncode == 0, err
    assert NOTEBOOK_SECRET not in err
    assert 'Job "secok.ipynb(api_token=***) (trigger: ' in err
    assert "nbsched serve stopped cleanly (2 run(s) cancelled)" in err.splitlines()[-1]
    assert {r["status"] for r in _runs(home)} == {"cancelled"}
