"""Secret parameters never appear in what the CLI prints: list, add, export, runs, logs, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import NOTEBOOK_SECRET, Cli, secret_notebook

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
    # the stored secret itself is still the real one (the job gets it); the run's record has it masked
    cli("run", "fail", "--wait", "--claim-timeout", "0.2")
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import RunFilter

    store = SQLAlchemyJobStore(url=f"sqlite:///{Path(__import__('os').environ['NBSCHED_HOME']) / 'nbsched.db'}")
    try:
        job = store.lookup_job("fail")
        assert job is not None and job.kwargs == {"message": f"the key is {SECRET}"}
        assert store.get_runs(RunFilter(job_id="fail"))[0].error_message == "***"
    finally:
        store.shutdown()


def test_notebook_secret_is_masked_in_add_list_export_runs_and_logs(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # api_token is secret by its name, region because it is marked; the default job name holds both.
    monkeypatch.chdir(tmp_path)
    secret_notebook(
        tmp_path, 'print(f"using {api_token}")\nraise RuntimeError(f"token {api_token} refused in {region}")'
    )
    result = cli(
        "add",
        "secok.ipynb",
        "--every",
        "1h",
        "-p",
        f"api_token={NOTEBOOK_SECRET}",
        "-p",
        "region=Atlantis",
        "--secret-param",
        "region",
        "--json",
    )
    assert result.code == 0, result.err
    assert NOTEBOOK_SECRET not in result.out + result.err and "Atlantis" not in result.out
    job = json.loads(result.out)["job"]
    assert job["name"] == "secok.ipynb(api_token=***, region=***)"
    assert (job["parameters"], job["tags"]) == ({"api_token": "***", "region": "***"}, [])
    assert json.loads(cli("list", "--json").out)["jobs"][0]["name"] == "secok.ipynb(api_token=***, region=***)"
    listing = cli("list").out
    assert "secok.ipynb(api_token=***, region=***)" in listing and NOTEBOOK_SECRET not in listing

    for document in (yaml.safe_load(cli("export").out), json.loads(cli("export", "--format", "json").out)):
        exported = document["jobs"][0]
        assert exported["name"] == "secok.ipynb(api_token=***, region=***)"
        assert exported["task"]["parameters"] == {"api_token": "***", "region": "***"}
        assert exported["task"]["secret_parameters"] == ["region"]
    for argv in (("export",), ("export", "--format", "json")):
        text = cli(*argv).out
        assert NOTEBOOK_SECRET not in text and "Atlantis" not in text, argv

    result = cli("run", "secok", "--wait", "--claim-timeout", "0.2")
    assert result.code == 1, result.err
    assert NOTEBOOK_SECRET not in result.out + result.err
    assert "RuntimeError: token *** refused in ***" in result.err
    for argv in (("runs",), ("runs", "--json"), ("logs", "secok"), ("logs", "secok", "--json")):
        result = cli(*argv)
        assert result.code == 0, argv
        assert NOTEBOOK_SECRET not in result.out + result.err and "Atlantis" not in result.out, argv
    logs = json.loads(cli("logs", "secok", "--json").out)
    assert logs["run"]["error_message"] == "token *** refused in ***"
    assert logs["stdout"] == "using ***\n"


def test_a_notebook_stored_before_secret_parameters_loads_and_its_old_name_is_masked(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbsched.notebooks import Notebook

    monkeypatch.chdir(tmp_path)
    secret_notebook(tmp_path, "pass")
    # The state an nbsched without secret_parameters wrote (version 1), and the default name it gave the job.
    old = Notebook("secok.ipynb", parameters={"api_token": NOTEBOOK_SECRET}).to_dict()
    assert old["version"] == 1 and "secret_parameters" not in old
    loaded = Notebook.from_dict(old)
    assert loaded.secret_parameters == () and loaded.parameters == {"api_token": NOTEBOOK_SECRET}
    assert loaded.describe() == "secok.ipynb(api_token=***)"
    marked = Notebook("secok.ipynb", parameters={"api_token": "x", "region": "y"}, secret_parameters=["region"])
    assert (marked.to_dict()["version"], marked.to_dict()["secret_parameters"]) == (2, ["region"])
    assert Notebook.from_dict(marked.to_dict()) == marked
    result = cli("add", "secok.ipynb", "--every", "1h", "-p", f"api_token={NOTEBOOK_SECRET}", "--name", "x")
    assert result.code == 0, result.err
    result = cli("add", "secok.ipynb", "--every", "1h", "--id", "old", "-p", f"api_token={NOTEBOOK_SECRET}")
    assert result.code == 0, result.err
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(url=f"sqlite:///{Path(os.environ['NBSCHED_HOME']) / 'nbsched.db'}")
    try:
        job = store.lookup_job("old")
        assert job is not None
        job.name = f"secok.ipynb(api_token={NOTEBOOK_SECRET!r})"  # as an older nbsched named it
        store.update_job(job)
    finally:
        store.shutdown()
    for argv in (("list",), ("list", "--json"), ("export",), ("export", "--format", "json")):
        result = cli(*argv)
        assert result.code == 0, argv
        assert NOTEBOOK_SECRET not in result.out + result.err, argv
    names = {job["id"]: job["name"] for job in json.loads(cli("list", "--json").out)["jobs"]}
    assert names == {"secok": "x", "old": "secok.ipynb(api_token='***')"}


def test_secret_param_of_a_function_is_a_tag(cli: Cli) -> None:
    _add(cli)
    assert json.loads(cli("list", "--json").out)["jobs"][0]["tags"] == ["secret:message"]
