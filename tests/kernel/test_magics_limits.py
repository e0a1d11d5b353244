"""The magics refuse values that would make a job unrunnable (nbsched.limits): one UsageError line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from nbsched.kernel_session import current_session

pytestmark = pytest.mark.realtime


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('%%schedule --cron "0 0 30 2 *"\nx = 1', "%%schedule: trigger <CronTrigger (posix='0 0 30 2 *', timezone="),
        ("%%schedule --every 5m --name ..\nx = 1", "%%schedule: id '..' is not a folder name"),
        (f"%%schedule --every 5m --name {'x' * 129}\nx = 1", "%%schedule: id 'xxxxxxxx"),
        ("%%schedule --every 5m --name 'a\\b'\nx = 1", "%%schedule: id 'a\\\\b' contains a path separator or NUL"),
    ],
)
def test_unrunnable_values_are_one_usage_error_line(
    shell: Any, project: Path, capsys: pytest.CaptureFixture[str], cell: str, message: str
) -> None:
    capsys.readouterr()
    result = shell.run_cell(cell)
    assert isinstance(result.error_in_exec, UsageError)
    assert str(result.error_in_exec).startswith(message)
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("UsageError: ")
    assert "Traceback" not in captured.out
    session = current_session()
    assert session is not None and session.scheduler.get_jobs() == []
