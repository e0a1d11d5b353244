"""Bad input never gets a traceback: one line on stderr naming the option and the value (shortened when huge),
exit code 2, in the real command; an unexpected error is one line too, with the way to its traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, Cli, run_cli

HUGE = "A" * 5000

#: 1 KB of YAML whose last alias stands for 10**9 strings ("billion laughs")
BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "version: 1",
        "jobs:",
        "- {id: laughs, func: 'tests.tasks:record', every: 5m, kwargs: {value: *i}}",
        "",
    ]
)


def _one_line(result: subprocess.CompletedProcess[str], *names: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert (result.returncode, result.stdout) == (2, ""), result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("nbsched: error: ")
    assert len(result.stderr) < 600, "the huge value is shortened"
    for name in names:
        assert name in result.stderr
    return result.stderr


pytestmark = pytest.mark.realtime

#: ``python -m nbsched.cli`` with 2 GiB of address space: far more than the command needs (its imports, a few
#: threads' arenas), far less than a billion strings
LIMITED_MEMORY = (
    "import resource, runpy; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    "runpy.run_module('nbsched.cli', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["add", "tests.tasks:record", "--every", "5m", "--tz", HUGE], ["--tz 'AAAA"]),
        (["add", "tests.tasks:record", "--every", "5m", "--tz", "America"], ["--tz 'America'"]),
        (["add", HUGE + ".ipynb", "--every", "5m"], ["target 'AAAA"]),
        (["add", f"folder/{HUGE}.py", "--every", "5m"], ["target 'folder/AAAA"]),
        (["add", "notebooks/report.ipynb", "--every", "5m", "--cwd", HUGE], ["cwd 'AAAA"]),
        (
            ["add", "tests.tasks:record", "--every", "5m", "-p", "value=" + "[" * 100_000],
            ["-p 'value' is nested too deeply"],
        ),
        (["runs", "--limit", "99999999999999999999999"], ["--limit", "99999999999999999999999"]),
        (["runs", "--limit", "-1"], ["--limit", "-1"]),
        (["run", "x", "--wait", "--claim-timeout", "nan"], ["--claim-timeout", "nan"]),
        (["logs", "x", "--lines", HUGE], ["--lines", "AAAA"]),
        (["runs", "--since", "999999d"], ["--since '999999d'"]),
        (["export", "-o", "/no-such-folder/jobs.yaml"], ["--output '/no-such-folder/jobs.yaml'"]),
        (["--db", "~no-such-user/x.db", "list"], ["--db '~no-such-user/x.db'"]),
    ],
)
def test_bad_values_are_one_line_and_exit_2(tmp_path: Path, argv: list[str], names: list[str]) -> None:
    _one_line(run_cli(tmp_path, *argv), *names)


def test_db_in_a_folder_that_does_not_exist_is_an_error_not_a_new_store(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    for db in (str(missing / "x.db"), f"sqlite:///{missing / 'x.db'}"):
        for argv in (["--db", db, "list"], ["add", "tests.tasks:record", "--every", "5m", "--db", db]):
            line = _one_line(run_cli(tmp_path, *argv), "--db", str(missing))
            assert "does not exist" in line
    assert not (tmp_path / "no").exists()


def test_apply_refuses_a_yaml_alias_bomb_fast_and_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(BILLION_LAUGHS)
    assert len(bomb.read_bytes()) < 1024
    env = {"NBSCHED_HOME": str(tmp_path), "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", LIMITED_MEMORY, "apply", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,  # trips only on a hang: expanding the aliases takes far longer
        env=env,
        cwd=REPO,
        check=False,
    )
    line = _one_line(result, "file", "laughs.yaml", "alias")
    assert "line 2" in line  # where the first alias is
    assert json.loads(run_cli(tmp_path, "list", "--json").stdout)["jobs"] == []


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("deep.json", "[" * 100_000, "nested"),
        ("deep.yaml", "[" * 100_000, "nested"),
        ("deep-valid.json", '{"version": 1, "jobs": ' + "[" * 500 + "]" * 500 + "}", "nested"),
    ],
)
def test_apply_refuses_deep_nesting(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    _one_line(run_cli(tmp_path, "apply", str(path)), "file", name, problem)


def test_export_writes_no_aliases_and_apply_reads_it_back(cli: Cli, tmp_path: Path) -> None:
    # Two jobs whose definitions hold equal values: YAML would write the second as an alias of the first
    # if they were the same object; a definitions file has none (apply refuses them).
    for job_id in ("one", "two"):
        assert cli("add", "tests.tasks:record", "--every", "5m", "-p", 'value={"k": [1, 2]}', "--id", job_id).code == 0
    text = cli("export").out
    assert "&" not in text and "*" not in text
    (tmp_path / "jobs.yaml").write_text(text)
    result = cli("apply", str(tmp_path / "jobs.yaml"), "--json")
    assert (result.code, json.loads(result.out)["unchanged"]) == (0, ["one", "two"])


def test_unexpected_errors_are_one_line_with_the_way_to_the_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbsched.cli import jobs

    def broken(*args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs, "cmd_list", broken)
    result = cli("list")
    assert (result.code, result.out) == (70, "")
    assert result.err == (
        "nbsched: error: unexpected RuntimeError: a bug "
        "(a bug in nbsched? run again with --debug or NBSCHED_DEBUG=1 to see its traceback)\n"
    )
    result = cli("list", "--debug")
    assert result.code == 70
    assert "Traceback (most recent call last)" in result.err and result.err.endswith("RuntimeError: a bug\n")
    monkeypatch.setenv("NBSCHED_DEBUG", "1")
    assert "Traceback (most recent call last)" in cli("list").err


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"path": HUGE + ".ipynb"}, "path"),
        ({"path": "x.ipynb", "root": "/" + HUGE}, "root"),
        ({"path": "x.ipynb", "root": "bad\0root"}, "root"),
        ({"path": "report.ipynb", "cwd": HUGE}, "cwd"),
    ],
)
def test_notebook_paths_the_system_refuses_are_argument_errors(kwargs: dict[str, str], field: str) -> None:
    # (REST and the magics build tasks too: the check belongs to the task, not only to the CLI.)
    from nbsched.exceptions import JobArgumentError
    from nbsched.notebooks import Notebook

    with pytest.raises(JobArgumentError, match=f"^Notebook: {field} "):
        Notebook(**{"root": str(REPO / "notebooks"), **kwargs})


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({"task": [1]}, "jobs[0].task [1] must be a mapping"),
        ({"task": {"type": "notebook", "path": 5}}, "jobs[0].task.path 5 must be a string"),
        ({"task": {"type": "notebook", "path": "r.ipynb", "parameters": [1]}}, "jobs[0].task.parameters [1] must"),
        ({"task": {"type": "notebook", "path": "~no-such-user/r.ipynb"}}, "task.path '~no-such-user/r.ipynb' names"),
        ({"func": "tests.tasks:record", "kwargs": [1]}, "jobs[0].kwargs [1] must be a mapping"),
        ({"func": "tests.tasks:record", "tags": [[1]]}, "jobs[0].tags [[1]] must be a list of strings"),
    ],
)
def test_apply_names_the_field_of_a_misshapen_definition(
    cli: Cli, tmp_path: Path, job: dict[str, object], field: str
) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"version": 1, "jobs": [{"id": "a", "every": "5m", **job}]}))
    result = cli("apply", str(path))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"nbsched: error: apply: {field}") and result.err.count("\n") == 1
