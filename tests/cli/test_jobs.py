"""list, add, pause, resume, remove: output, --json shapes, exit codes and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli

REPORT = Path(__file__).resolve().parents[2] / "notebooks" / "report.ipynb"


def test_help_lists_every_command_and_the_exit_codes(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in (
        "list",
        "add",
        "run",
        "runs",
        "history",
        "logs",
        "pause",
        "resume",
        "remove",
        "serve",
        "export",
        "apply",
        "demo",
    ):
        assert re.search(rf"^\s+{command}\b|\({command}\)", result.out, re.MULTILINE), command
    assert "3  no job (or run) by that id" in result.out


@pytest.mark.parametrize(
    "command", ["list", "add", "run", "runs", "logs", "pause", "resume", "remove", "serve", "export", "apply"]
)
def test_every_command_has_help_with_db(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert "--db URL" in result.out


def test_no_command_prints_help_and_exits_2(cli: Cli) -> None:
    result = cli()
    assert result.code == 2
    assert "usage: nbsched" in result.err


def test_empty_store(cli: Cli, home: Path) -> None:
    result = cli("list")
    assert result.code == 0
    assert result.out == f"no jobs in sqlite:///{home / 'nbsched.db'}\n"
    assert json.loads(cli("list", "--json").out) == {"jobs": [], "broken": []}


def test_store_file_is_owner_only(cli: Cli, home: Path) -> None:
    cli("list")
    assert (home / "nbsched.db").stat().st_mode & 0o777 == 0o600
    assert home.stat().st_mode & 0o777 == 0o700


def test_add_function_with_interval_and_list_it(cli: Cli) -> None:
    result = cli("add", "tests.tasks:add", "--every", "5m", "-p", "a=1", "-p", "b=2")
    assert result.code == 0, result.err
    assert re.fullmatch(
        r"added job add: tests\.tasks:add, every 5 minutes; next run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ \(in 4m 5\ds\)\n",
        result.out,
    )
    lines = cli("list").out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "TRIGGER", "NEXT", "RUN", "LAST", "RUNS"]
    assert re.match(r"add\s+add\s+every 5 minutes\s+\d{4}-.* \(in 4m \d+s\)\s+-\s+0$", lines[1])
    # columns line up under their headers
    assert lines[1].index("every 5 minutes") == lines[0].index("TRIGGER")


def test_add_json_shape(cli: Cli) -> None:
    result = cli(
        "add",
        "tests.tasks:add",
        "--cron",
        "0 9 * * 1-5",
        "--tz",
        "Europe/Berlin",
        "-p",
        "a=1",
        "-p",
        "b=[1, 2]",
        "--id",
        "weekday",
        "--json",
    )
    job = json.loads(result.out)["job"]
    assert job["id"] == "weekday"
    assert job["kind"] == "function"
    assert job["target"] == "tests.tasks:add"
    assert job["trigger"] == "every weekday at 09:00 (Europe/Berlin)"
    assert job["parameters"] == {"a": 1, "b": [1, 2]}
    assert job["paused"] is False
    assert job["next_run_time"].endswith(("+01:00", "+02:00"))  # in the trigger's zone, with its offset
    assert set(job) == {
        "id",
        "name",
        "kind",
        "target",
        "trigger",
        "trigger_state",
        "next_run_time",
        "paused",
        "parameters",
        "run_count",
        "last_status",
        "last_run_at",
        "executor",
        "max_instances",
        "retries",
        "max_runs",
        "tags",
    }


def test_parameters_are_json_when_they_parse_else_strings(cli: Cli) -> None:
    result = cli("add", "tests.tasks:record", "--every", "1h", "-p", 'value={"x": true}', "--json")
    assert json.loads(result.out)["job"]["parameters"] == {"value": {"x": True}}
    result = cli("add", "tests.tasks:record", "--every", "1h", "-p", "value=EU", "--id", "eu", "--json")
    assert json.loads(result.out)["job"]["parameters"] == {"value": "EU"}


def test_add_at_date_and_paused(cli: Cli) -> None:
    result = cli("add", "tests.tasks:record", "--at", "2036-12-01 08:00", "--tz", "Europe/Paris", "--paused")
    assert result.code == 0
    assert "once at 2036-12-01 08:00 (Europe/Paris); next run paused" in result.out
    assert re.search(r"^record .* paused ", cli("list").out, re.MULTILINE)


def test_add_notebook(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPORT.parent.parent)
    result = cli("add", "notebooks/report.ipynb", "--every", "1d", "-p", "region=US", "--timeout", "60", "--json")
    assert result.code == 0, result.err
    job = json.loads(result.out)["job"]
    assert (job["id"], job["kind"], job["target"]) == ("report", "notebook", "notebooks/report.ipynb")
    assert job["parameters"] == {"region": "US"}
    assert job["executor"] == "notebook"


def test_add_cell_file_and_code(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refresh.py").write_text("x = 1\nprint(x)\n")
    job = json.loads(cli("add", "refresh.py", "--every", "30s", "--json").out)["job"]
    assert (job["id"], job["kind"], job["target"]) == ("refresh", "cell", "cell: x = 1")
    job = json.loads(cli("add", "--code", "print('hi')", "--every", "30s", "--json").out)["job"]
    assert (job["id"], job["kind"]) == ("cell", "cell")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["add", "tests.tasks:add", "--every", "5x"],
            "nbsched: error: add: --every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')\n",
        ),
        (
            ["add", "tests.tasks:add", "--cron", "0 9 * * mnday"],
            "nbsched: error: CronTrigger: day_of_week 'mnday' is not a weekday name or number\n",
        ),
        (
            ["add", "tests.tasks:add", "--every", "-5m"],
            "nbsched: error: add: --every '-5m' must be longer than zero\n",
        ),
        (["add", "tests.tasks:add", "--every", "0"], "nbsched: error: add: --every '0' must be longer than zero\n"),
        (
            ["add", "tests.tasks:add", "--at", "-1d"],
            "nbsched: error: add: --at '-1d' is not a date/time (expected e.g. '2026-12-01 08:00')\n",
        ),
        (
            ["add", "tests.tasks:add", "--every", "1h", "--tz", "Mars/Olympus"],
            "nbsched: error: add: --tz 'Mars/Olympus' is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')\n",
        ),
        (
            ["add", "tests.tasks:add"],
            "nbsched: error: add: one of the arguments --cron --every --at is required (see 'nbsched add --help')\n",
        ),
        (
            ["add", "nothing-here", "--every", "1h"],
            "nbsched: error: add: target 'nothing-here' is not a notebook (.ipynb), a cell file (.py) or a "
            "module:function reference\n",
        ),
        (
            ["add", "tests.tasks:add", "--every", "1h", "-p", "oops"],
            "nbsched: error: add: -p 'oops' must be key=value with a Python name as key\n",
        ),
        (
            ["add", "tests.tasks:add", "--every", "1h", "-p", "a=1", "--secret-param", "b"],
            "nbsched: error: add: --secret-param 'b' is not a parameter given with -p\n",
        ),
        (["add", "missing.ipynb", "--every", "1h"], None),
        (["list", "--bogus"], "nbsched: error: unrecognized arguments: --bogus (see 'nbsched --help')\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, argv: list[str], message: str | None) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("nbsched: error: ")
    if message is not None:
        assert result.err == message


@pytest.mark.parametrize(
    ("every", "described"),
    [
        ("2 days", "every 2 days"),
        ("1 hour, 30 minutes", "every 1 hour 30 minutes"),
        ("1h30m", "every 1 hour 30 minutes"),
        ("90", "every 1 minute 30 seconds"),
        ("1.5h", "every 1 hour 30 minutes"),
        ("1w", "every week"),
    ],
)
def test_every_reads_what_rest_and_the_magics_read(cli: Cli, every: str, described: str) -> None:
    result = cli("add", "tests.tasks:record", "--every", every, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["job"]["trigger"] == described


def test_at_in_the_past_is_refused(cli: Cli) -> None:
    result = cli("add", "tests.tasks:record", "--at", "2001-01-01 08:00", "--tz", "UTC")
    assert result.code == 2
    assert re.fullmatch(
        r"nbsched: error: add: --at '2001-01-01 08:00' is in the past \(now is \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\n",
        result.err,
    )
    assert json.loads(cli("list", "--json").out)["jobs"] == []


def test_conflicting_id_exits_2_and_replace_replaces(cli: Cli) -> None:
    assert cli("add", "tests.tasks:record", "--every", "1h").code == 0
    result = cli("add", "tests.tasks:record", "--every", "2h")
    assert (result.code, result.err) == (2, "nbsched: error: Job identifier (record) conflicts with an existing job\n")
    assert cli("add", "tests.tasks:record", "--every", "2h", "--replace").code == 0
    assert "every 2 hours" in cli("list").out


def test_pause_resume_remove(cli: Cli) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "a")
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "b")
    assert cli("pause", "a", "b").out == "paused a\npaused b\n"
    jobs = json.loads(cli("list", "--json").out)["jobs"]
    assert [job["paused"] for job in jobs] == [True, True]
    result = cli("resume", "a", "--json")
    assert list(json.loads(result.out)["resumed"]) == ["a"]
    assert re.match(r"resumed b: next run \d{4}-", cli("resume", "b").out)
    assert cli("remove", "a", "--json").out == '{\n  "removed": [\n    "a"\n  ]\n}\n'
    assert [job["id"] for job in json.loads(cli("list", "--json").out)["jobs"]] == ["b"]


@pytest.mark.parametrize("command", ["pause", "resume", "remove", "run", "logs", "runs", "export"])
def test_unknown_job_exits_3(cli: Cli, command: str) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "a")
    result = cli(command, "nope")
    assert (result.code, result.err) == (3, "nbsched: error: No job by the id of nope was found\n")


def test_unknown_job_among_several_changes_nothing(cli: Cli) -> None:
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "a")
    assert cli("pause", "a", "nope").code == 3
    assert json.loads(cli("list", "--json").out)["jobs"][0]["paused"] is False


def test_db_option_names_another_store(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    assert cli("add", "tests.tasks:record", "--every", "1h", "--db", str(other)).code == 0
    assert cli("--db", f"sqlite:///{other}", "list", "--json").out.count('"id": "record"') == 1
    assert json.loads(cli("list", "--json").out)["jobs"] == []
    assert other.stat().st_mode & 0o777 == 0o600


def test_broken_job_is_listed(cli: Cli, home: Path) -> None:
    import sqlite3

    cli("add", "tests.tasks:record", "--every", "1h", "--id", "gone")
    with sqlite3.connect(home / "nbsched.db") as conn:
        conn.execute("UPDATE jobs SET task = replace(task, 'tests.tasks:record', 'tests.nowhere:record')")
    lines = cli("list").out.splitlines()
    assert re.match(r"gone\s+\(cannot be loaded\)\s+.*\s+-\s+broken\s+-$", lines[1])
    broken = json.loads(cli("list", "--json").out)["broken"]
    assert [entry["id"] for entry in broken] == ["gone"]


def test_demo_passes_its_arguments_through(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    import nbsched.demo

    seen: list[tuple[list[str] | None, str | None]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        seen.append((argv, os.environ.get("NBSCHED_DB_URL")))
        return 7

    monkeypatch.setattr(nbsched.demo, "main", fake_main)
    assert cli("demo", "--runs", "2", "--every", "1").code == 7
    assert cli("demo", "--db", str(tmp_path / "d.db"), "--runs", "1").code == 7
    assert seen == [(["--runs", "2", "--every", "1"], None), (["--runs", "1"], f"sqlite:///{tmp_path / 'd.db'}")]
    assert "NBSCHED_DB_URL" not in os.environ


def test_demo_help_is_the_demos(cli: Cli) -> None:
    result = cli("demo", "--help")
    assert result.code == 0
    assert "usage: nbsched demo" in result.out and "--notebook" in result.out


@pytest.mark.parametrize("corrupt", ["task = '{not json'", "task = replace(task, 'tests.tasks', 'tests.nowhere')"])
def test_broken_job_can_be_removed(cli: Cli, home: Path, corrupt: str) -> None:
    import sqlite3

    cli("add", "tests.tasks:record", "--every", "1h", "--id", "bad")
    cli("add", "tests.tasks:record", "--every", "1h", "--id", "good")
    with sqlite3.connect(home / "nbsched.db") as conn:
        conn.execute(f"UPDATE jobs SET {corrupt} WHERE id = 'bad'")  # the parameter: a constant of this test
    assert [entry["id"] for entry in json.loads(cli("list", "--json").out)["broken"]] == ["bad"]
    result = cli("remove", "bad")
    assert (result.code, result.out) == (0, "removed bad\n")
    assert "error" not in result.err  # (the library's one-line warning that the row cannot be loaded may show)
    listed = json.loads(cli("list", "--json").out)
    assert (listed["broken"], [job["id"] for job in listed["jobs"]]) == ([], ["good"])
    with sqlite3.connect(home / "nbsched.db") as conn:
        assert [row[0] for row in conn.execute("SELECT id FROM jobs")] == ["good"]


def test_list_reads_the_last_runs_in_one_query(cli: Cli, home: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from nbsched.runs import Run
    from tests.cli.conftest import store_run  # (the module imports Cli only)

    for index in range(5):
        cli("add", "tests.tasks:record", "--every", "1h", "--id", f"job{index}")
        store_run(home, Run(job_id=f"job{index}", scheduled_at=datetime.now(UTC) - timedelta(minutes=index)))
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        listed = json.loads(cli("list", "--json").out)["jobs"]
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert [job["last_status"] for job in listed] == ["scheduled"] * 5
    assert len([s for s in statements if "FROM runs" in s]) == 1, statements
