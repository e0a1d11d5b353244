"""Outputs tell the truth (issue 15, point 7): an output that could not be written (disk full) is not linked,
and the run says which one and why in its warnings."""

from __future__ import annotations

import errno
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from nbsched.executors.notebook import NotebookExecutor
from nbsched.notebooks import Notebook, outputs
from nbsched.notebooks.execute import NotebookRunError
from nbsched.notebooks.kernels import KernelPool
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler

pytestmark = pytest.mark.realtime

DISK_FULL = f"[Errno {errno.ENOSPC}] {os.strerror(errno.ENOSPC)}"


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, suffix: str) -> list[Path]:
    """Make every write of a file ending in ``suffix`` fail as on a full disk; returns the paths refused."""
    refused: list[Path] = []
    write = outputs._atomic_write

    def full(path: Path, text: str) -> None:
        if path.name.endswith(suffix):
            refused.append(path)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, text)

    monkeypatch.setattr(outputs, "_atomic_write", full)
    return refused


def test_html_not_written_is_not_linked_and_is_said(
    root: Path, tmp_path: Path, pool: KernelPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = _disk_full_for(monkeypatch, ".html")
    result = Notebook("params.ipynb").run(tmp_path, pool=pool)
    assert refused and not refused[0].exists()
    assert sorted(result.outputs) == ["ipynb", "kernel_log", "stderr", "stdout"]
    assert all(Path(path).is_file() for path in result.outputs.values())
    assert result.warnings == (f"html not written: {DISK_FULL}",)


def test_a_failed_run_whose_notebook_could_not_be_written_lists_what_exists(
    root: Path, tmp_path: Path, pool: KernelPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _disk_full_for(monkeypatch, ".ipynb")
    with pytest.raises(NotebookRunError) as info:
        Notebook("fail.ipynb").run(tmp_path, pool=pool)
    error = info.value
    assert (error.ename, error.evalue) == ("ValueError", "boom 0")
    assert sorted(error.outputs) == ["html", "kernel_log", "stderr", "stdout"]
    assert error.warnings == [f"ipynb not written: {DISK_FULL}"]


def test_the_run_record_has_no_link_to_a_missing_file_and_says_why(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_full_for(monkeypatch, ".html")
    done = threading.Event()
    scheduler = BackgroundScheduler(timezone="UTC", executors={"notebook": NotebookExecutor(max_concurrent_runs=1)})
    scheduler.add_listener(lambda event: done.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        scheduler.add_job(Notebook("params.ipynb"), "date", run_date=datetime.now(UTC), id="report")
        assert done.wait(60)
        (run,) = scheduler.runs(job_id="report")
    finally:
        scheduler.shutdown()
    # The HTML's path was reported while the run went (progress); the record keeps only what was written.
    assert run.status is RunStatus.SUCCEEDED
    assert "html" not in run.outputs and {"ipynb", "stdout", "stderr"} <= set(run.outputs)
    assert all(Path(path).is_file() for path in run.outputs.values())
    assert run.warnings == [f"html not written: {DISK_FULL}"]


def test_outcome_says_a_missing_file_and_an_earlier_version_kept(tmp_path: Path) -> None:
    files = outputs.RunOutputs(tmp_path, "report")
    files.touch_streams()
    files.ipynb.write_text("{}")  # written after an earlier cell
    files.record_failure("ipynb", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    kept, warnings = files.outcome(files.paths())
    assert sorted(kept) == ["ipynb", "stderr", "stdout"]
    assert warnings == [
        f"ipynb not written: {DISK_FULL}; the file there is from before the failure",
        f"html not written: {files.html} is missing",
    ]
    files.write_notebook(nbformat.v4.new_notebook())  # a later write that succeeds clears it
    assert "ipynb" not in files.failed and files.outcome({"ipynb": str(files.ipynb)}) == (
        {"ipynb": str(files.ipynb)},
        [],
    )
