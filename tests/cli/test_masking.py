"""Secret parameters never appear in what the CLI prints: list, add, export, runs, logs, errors."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.conftest import Cli

SECRET = "hunter2-very-secret"


def _add(cli: Cli) -> None:
    # "message" is secret because it is marked; "password" because of its name (it is not a parameter of fail).
    result = cli(
        "add", "tests.tasks:fail", "--every", "1h", "-p", f"message=the key is {SECRET}", "--secret-param", "message"
    )
    assert result.code == 0, result.err
    assert SECRET not in result.out


def test_masked_in_list_export_runs_and_logs(cli: Cli) -> None:
    _add(cli)
    assert json.loads(cli("list", "--json").out)["jobs"][0]["parameters"] == {"message": "***"}
    assert SECRET not in cli("list").out
    exported = yaml.safe_load(cli("export").out)["jobs"][0]
    assert exported["kwargs"] == {"message": "***"}
    result = cli("run", "fail", "--wait", "--claim-timeout", "0.2")
    assert result.code == 1
    assert SECRET not in result.out + result.err
    assert "RuntimeError: ***" in result.err
    for argv in (("runs",), ("runs", "--json"), ("logs", "fail"), ("logs", "fail", "--json"), ("history", "fail")):
        result = cli(*argv)
        assert result.code == 0
        assert SECRET not in result.out + result.err, argv
    assert json.loads(cli("logs", "fail", "--json").out)["run"]["error_message"] == "***"


def test_secret_by_name_and_in_error_messages(cli: Cli) -> None:
    result = cli("add", "tests.tasks:record", "--every", "1h", "-p", "value=1", "-p", f"password={SECRET}")
    assert result.code == 2
    assert SECRET not in result.err
    assert "'password': '***'" in result.err
    cli("add", "tests.tasks:add", "--every", "1h", "-p", "a=1", "-p", "b=2", "--id", "plain")
    assert json.loads(cli("list", "--json").out)["jobs"][0]["parameters"] == {"a": 1, "b": 2}


def test_apply_keeps_a_masked_secret_and_refuses_one_it_does_not_know(cli: Cli, tmp_path: Path) -> None:
    _add(cli)
    file = tmp_path / "jobs.yaml"
    cli("export", "-o", str(file))
    assert json.loads(cli("apply", str(file), "--json").out)["unchanged"] == ["fail"]
    assert cli("run", "fail", "--wait", "--claim-timeout", "0.2", "--json", "--db", str(tmp_path / "x.db")).code == 3
    result = cli("apply", str(file), "--db", str(tmp_path / "fresh.db"))
    assert result.code == 2
    assert result.err == (
        "nbsched: error: apply: jobs[0].kwargs['message'] '***' is a masked secret and the store has no value for "
        "it: write the value into the file\n"
    )
    # the stored secret itself is still the real one: a run fails with the real message (masked in output)
    cli("run", "fail", "--wait", "--claim-timeout", "0.2")
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import RunFilter

    store = SQLAlchemyJobStore(url=f"sqlite:///{Path(__import__('os').environ['NBSCHED_HOME']) / 'nbsched.db'}")
    try:
        assert store.get_runs(RunFilter(job_id="fail"))[0].error_message == f"the key is {SECRET}"
    finally:
        store.shutdown()
