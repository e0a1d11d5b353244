"""The CLI refuses values that would make a job unrunnable (nbsched.limits) with one line and exit code 2, in
``add`` and in ``apply``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--cron", "0 0 30 2 *"],
            "nbsched: error: add_job: trigger <CronTrigger (posix='0 0 30 2 *', timezone=",
        ),
        (
            ["--every", "1h", "--retries", "2000"],
            "nbsched: error: add_job: retries 2000 must be a non-negative integer of at most 100\n",
        ),
        (["--every", "1h", "--id", "x" * 129], "nbsched: error: add_job: id 'xxxxxxxx"),
        (["--every", "1h", "--id", "a\tb"], "nbsched: error: add_job: id 'a\\tb' contains a control character\n"),
    ],
)
def test_add_refuses_unrunnable_values(cli: Cli, argv: list[str], message: str) -> None:
    result = cli("add", "tests.tasks:record", *argv)
    assert (result.code, result.out) == (2, "")
    assert result.err.count("\n") == 1 and result.err.startswith(message)
    assert cli("list", "--json").out.count('"id"') == 0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("every: 1m, retry_backoff: 1.0e+300", "retry_backoff 1e+300 is larger than the limit of 3155760000 seconds"),
        (
            "every: 1m, misfire_grace_time: .inf",
            "misfire_grace_time inf is larger than the limit of 3155760000 seconds",
        ),
        ("every: 1m, retries: 2000", "retries 2000 must be a non-negative integer of at most 100"),
        ("cron: '0 0 30 2 *'", "will never fire (no fire time after "),
        ("every: 1m, kwargs: {value: !!set {a, b}}", "kwargs"),
    ],
)
def test_apply_refuses_unrunnable_values(cli: Cli, tmp_path: Path, entry: str, message: str) -> None:
    file = tmp_path / "jobs.yaml"
    file.write_text(f"jobs:\n- {{id: a, func: 'tests.tasks:record', {entry}}}\n")
    result = cli("apply", str(file))
    assert (result.code, result.out) == (2, ""), result.err
    assert result.err.count("\n") == 1 and result.err.startswith("nbsched: error: ") and message in result.err
    assert cli("list", "--json").out.count('"id"') == 0


def test_apply_refuses_a_notebook_job_id_that_cannot_name_a_folder(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "report.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    file = tmp_path / "jobs.yaml"
    file.write_text("jobs:\n- {id: '..', task: {type: notebook, version: 1, path: report.ipynb}, every: 1m}\n")
    result = cli("apply", str(file))
    assert result.code == 2
    assert "id '..' is not a folder name" in result.err and result.err.count("\n") == 1
