"""A notebook run with secret parameters: the kernel gets the real values; every file the run leaves, its run
record and the log lines have ``***`` in their place (issue 15, point 1)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from nbsched.executors.notebook import NotebookExecutor
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.notebooks import Notebook
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler
from tests.leaky import files_holding, holding, leaky_notebook
from tests.notebooks.test_executor import Outcomes

pytestmark = pytest.mark.realtime

TOKEN = "hunter2-api-token"  # secret by its parameter's name
REGION = "Atlantis-5f3a"  # secret because it is listed in secret_parameters


def test_secret_values_are_in_no_output_record_or_log_line(
    root: Path, nbsched_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    leaky_notebook(root)
    seen = tmp_path / "seen.txt"
    store = SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'store.db'}")
    outcomes = Outcomes()
    s = BackgroundScheduler(timezone="UTC", jobstores={"default": store}, executors={"notebook": NotebookExecutor()})
    s.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    s.start()
    try:
        task = Notebook(
            "leaky.ipynb",
            parameters={"api_token": TOKEN, "region": REGION, "seen": str(seen)},
            secret_parameters=["region"],
        )
        s.add_job(task, "date", run_date=datetime.now(UTC), id="leaky")
        outcomes.wait(1)
        [run] = s.runs(job_id="leaky")
    finally:
        s.shutdown()
    # The kernel got the real values.
    assert seen.read_text() == f"{TOKEN}|{REGION}"

    assert run.status is RunStatus.FAILED
    assert (run.error_type, run.error_message) == ("ValueError", "cannot log in with *** for ***")
    assert run.traceback is not None and "ValueError: cannot log in with *** for ***" in run.traceback
    assert holding(json.dumps(run.to_dict()), TOKEN, REGION) == []
    assert str(outcomes.events[0].exception) == "ValueError in cell 4: cannot log in with *** for ***"

    folder = nbsched_home / "runs" / "leaky" / run.id
    assert files_holding(folder, TOKEN, REGION) == {}
    assert {"leaky.ipynb", "leaky.html", "stdout.txt", "stderr.txt", "kernel.log"} <= {p.name for p in folder.iterdir()}
    nb = nbformat.read(str(folder / "leaky.ipynb"), as_version=4)
    assert nb.metadata.papermill.parameters == {"api_token": "***", "region": "***", "seen": str(seen)}
    injected = nb.cells[2]
    assert injected.metadata.tags == ["injected-parameters"]
    assert injected.source == f'# Parameters\napi_token = "***"\nregion = "***"\nseen = {json.dumps(str(seen))}\n'
    assert (folder / "stdout.txt").read_text() == "using *** in ***\n"
    assert "token *** region ***\n" in (folder / "stderr.txt").read_text()
    html = (folder / "leaky.html").read_text()
    assert "cannot log in with *** for ***" in html and "<b>***</b> ***" in html
    assert "kernel-level *** ***" in (folder / "kernel.log").read_text() + (folder / "stdout.txt").read_text()

    lines = [logging.Formatter().format(record) for record in caplog.records]
    assert [line for line in lines if holding(line, TOKEN, REGION)] == []
    assert any("cannot log in with *** for ***" in line for line in lines)
