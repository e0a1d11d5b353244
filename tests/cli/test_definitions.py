"""export and apply: YAML/JSON definitions, round trip into a fresh store, idempotence, prune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Cli, secret_notebook


def _setup(cli: Cli) -> None:
    assert (
        cli(
            "add",
            "tests.tasks:add",
            "--cron",
            "0 9 * * 1-5",
            "--tz",
            "Europe/Berlin",
            "-p",
            "a=1",
            "-p",
            "b=2",
            "--id",
            "weekday",
            "--retries",
            "2",
            "--tag",
            "team",
        ).code
        == 0
    )
    assert cli("add", "tests.tasks:record", "--every", "90m", "-p", "value=x", "--id", "often", "--paused").code == 0


def test_export_yaml_and_json(cli: Cli, tmp_path: Path) -> None:
    _setup(cli)
    document = yaml.safe_load(cli("export").out)
    assert document["version"] == 1
    assert [job["id"] for job in document["jobs"]] == ["weekday", "often"]
    weekday = document["jobs"][0]
    assert weekday["schedule"] == "every weekday at 09:00 (Europe/Berlin)"
    assert (weekday["func"], weekday["kwargs"], weekday["retries"], weekday["tags"]) == (
        "tests.tasks:add",
        {"a": 1, "b": 2},
        2,
        ["team"],
    )
    assert document["jobs"][1]["paused"] is True
    assert "next_run_time" not in weekday and "run_count" not in weekday
    assert json.loads(cli("export", "--json", "weekday").out)["jobs"][0]["id"] == "weekday"
    target = tmp_path / "jobs.json"
    result = cli("export", "-o", str(target))
    assert result.err == f"exported 2 job(s) to {target}\n"
    assert json.loads(target.read_text())["jobs"][1]["id"] == "often"


def test_round_trip_into_a_fresh_store_then_idempotent(cli: Cli, tmp_path: Path) -> None:
    _setup(cli)
    file = tmp_path / "jobs.yaml"
    cli("export", "-o", str(file))
    fresh = str(tmp_path / "prod.db")
    result = cli("apply", str(file), "--db", fresh)
    assert result.code == 0, result.err
    assert result.out.split() == ["ID", "ACTION", "weekday", "created", "often", "created"]
    cli("export", "-o", str(tmp_path / "again.yaml"), "--db", fresh)
    assert yaml.safe_load((tmp_path / "again.yaml").read_text()) == yaml.safe_load(file.read_text())
    second = json.loads(cli("apply", str(file), "--db", fresh, "--json").out)
    assert second == {"dry_run": False, "created": [], "updated": [], "unchanged": ["weekday", "often"], "removed": []}


def test_apply_updates_prunes_and_dry_runs(cli: Cli, tmp_path: Path) -> None:
    _setup(cli)
    before = json.loads(cli("list", "--json").out)["jobs"]
    file = tmp_path / "jobs.yaml"
    file.write_text(
        "jobs:\n"
        "- {id: weekday, func: 'tests.tasks:add', kwargs: {a: 1, b: 3}, cron: '0 9 * * 1-5', timezone: Europe/Berlin}\n"
        "- {id: new, func: 'tests.tasks:record', every: 5m}\n"
    )
    dry = json.loads(cli("apply", str(file), "--prune", "--dry-run", "--json").out)
    assert dry == {"dry_run": True, "created": ["new"], "updated": ["weekday"], "unchanged": [], "removed": ["often"]}
    assert json.loads(cli("list", "--json").out)["jobs"] == before
    assert "would be created" in cli("apply", str(file), "--dry-run").out
    cli("apply", str(file), "--prune")
    jobs = {job["id"]: job for job in json.loads(cli("list", "--json").out)["jobs"]}
    assert set(jobs) == {"weekday", "new"}
    assert jobs["weekday"]["parameters"] == {"a": 1, "b": 3}
    # the schedule did not change: the next run time stays
    assert jobs["weekday"]["next_run_time"] == next(j for j in before if j["id"] == "weekday")["next_run_time"]
    again = json.loads(cli("apply", str(file), "--prune", "--json").out)
    assert again["unchanged"] == ["weekday", "new"]


def test_apply_resumes_a_job_the_file_says_runs(cli: Cli, tmp_path: Path) -> None:
    _setup(cli)
    file = tmp_path / "jobs.yaml"
    cli("export", "-o", str(file))
    document = yaml.safe_load(file.read_text())
    document["jobs"][1]["paused"] = False
    file.write_text(yaml.safe_dump(document))
    assert json.loads(cli("apply", str(file), "--json").out)["updated"] == ["often"]
    assert json.loads(cli("list", "--json").out)["jobs"][1]["paused"] is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs: 3\n", "nbsched: error: apply: file '{file}' has no \"jobs\" list\n"),
        (
            "jobs:\n- {id: a, func: 'tests.tasks:record'}\n",
            "nbsched: error: apply: jobs[0] 'a' needs exactly one of trigger, cron, every, at\n",
        ),
        (
            "jobs:\n- {id: a, func: 'tests.tasks:record', every: 1m}\n- {id: a, func: 'tests.tasks:record', every: 1m}\n",
            "nbsched: error: apply: jobs[1].id 'a' appears twice in the file\n",
        ),
        (
            "jobs:\n- {id: a, func: 'tests.tasks:record', every: 1m, colour: red}\n",
            "nbsched: error: apply: jobs[0].colour 'red' is not a definition key\n",
        ),
        (
            "jobs:\n- {id: a, func: 'tests.tasks:record', every: 1x}\n",
            "nbsched: error: apply: jobs[0].every '1x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')\n",
        ),
        ("jobs: [\n", None),
    ],
)
def test_bad_definitions_exit_2_with_one_line(cli: Cli, tmp_path: Path, text: str, message: str | None) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    result = cli("apply", str(file))
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("nbsched: error: apply: ")
    if message is not None:
        assert result.err == message.format(file=file)
    assert cli("list", "--json").out.count('"id"') == 0


def test_apply_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("apply", str(tmp_path / "nope.yaml"))
    assert (result.code, result.err) == (
        2,
        f"nbsched: error: apply: file '{tmp_path / 'nope.yaml'}' cannot be read: No such file or directory\n",
    )


def test_export_leaves_out_the_derivable_root_and_anchor_and_applies_on_another_machine(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    dev = tmp_path / "dev"
    secret_notebook(dev / "project", "pass", name="report.ipynb")
    secret_notebook(dev / "shared", "pass", name="other.ipynb")
    monkeypatch.chdir(dev / "project")
    assert cli("add", "report.ipynb", "--every", "1h", "-p", "region=US").code == 0
    assert cli("add", "../shared/other.ipynb", "--cron", "@daily").code == 0  # root: the notebook's own folder
    assert cli("add", "--code", "print(1)", "--every", "5m", "--id", "cell").code == 0
    exported = cli("export").out
    assert str(tmp_path) not in exported  # nothing machine-specific
    jobs = {job["id"]: job for job in yaml.safe_load(exported)["jobs"]}
    assert "root" not in jobs["report"]["task"] and jobs["report"]["task"]["path"] == "report.ipynb"
    assert "root" not in jobs["other"]["task"] and jobs["other"]["task"]["path"] == "../shared/other.ipynb"
    assert "root" not in jobs["cell"]["task"]
    assert "anchor" not in jobs["report"]["trigger"] and "anchor" not in jobs["cell"]["trigger"]

    # Another machine: the same project in another folder, and a store of its own.
    prod = tmp_path / "prod"
    secret_notebook(prod / "project", "pass", name="report.ipynb")
    secret_notebook(prod / "shared", "pass", name="other.ipynb")
    file = prod / "project" / "jobs.yaml"
    file.write_text(exported)
    monkeypatch.chdir(prod / "project")
    store_file = prod / "prod.db"
    result = cli("apply", str(file), "--db", str(store_file), "--json")
    assert sorted(json.loads(result.out)["created"]) == ["cell", "other", "report"], result.err
    store = SQLAlchemyJobStore(url=f"sqlite:///{store_file}")
    try:
        tasks = {job.id: job.func for job in store.get_all_jobs()}
    finally:
        store.shutdown()
    assert (tasks["report"].root, tasks["report"].path) == (str(prod / "project"), "report.ipynb")
    assert (tasks["other"].root, tasks["other"].path) == (str(prod / "shared"), "other.ipynb")
    assert tasks["cell"].root == str(prod / "project")
    # The round trip is exact, and applying again changes nothing.
    assert cli("export", "--db", str(store_file)).out == exported
    again = json.loads(cli("apply", str(file), "--db", str(store_file), "--json").out)
    assert sorted(again["unchanged"]) == ["cell", "other", "report"]


def test_an_explicit_root_and_a_start_date_are_kept(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_notebook(tmp_path / "project" / "sub", "pass", name="report.ipynb")
    monkeypatch.chdir(tmp_path / "project")
    root = tmp_path / "project" / "sub"
    assert cli("add", "sub/report.ipynb", "--every", "1h", "--root", str(root)).code == 0
    file = tmp_path / "jobs.yaml"
    file.write_text(
        "jobs:\n- {id: phased, func: 'tests.tasks:record', trigger: {type: interval, version: 1, "
        "interval: {days: 0, seconds: 3600, microseconds: 0}, start_date: '2026-01-05T09:15:00+00:00', "
        "timezone: UTC}}\n"
    )
    assert cli("apply", str(file)).code == 0
    jobs = {job["id"]: job for job in yaml.safe_load(cli("export").out)["jobs"]}
    assert (jobs["report"]["task"]["root"], jobs["report"]["task"]["path"]) == (str(root), "report.ipynb")
    assert jobs["phased"]["trigger"]["start_date"] == "2026-01-05T09:15:00+00:00"
