"""A ``%%schedule`` cell is known by the id the front end sends with it (``metadata.cellId``, as JupyterLab
sends it): re-running the same cell with other code updates its job, another cell gets a job of its own.

Driven through a real kernel over the Jupyter protocol, so the id travels the way it does from JupyterLab:
in the execute request's metadata, read back by :meth:`nbsched.kernel_session.KernelSession.cell_id`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

pytestmark = pytest.mark.realtime

REPO = Path(__file__).resolve().parents[2]


class Frontend:
    """Sends cells to a kernel the way JupyterLab does, with the cell's id in the request's metadata."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(self, code: str, cell_id: str | None) -> str:
        """Execute ``code``; what it printed (its error, if it failed)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.client.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
        self.client.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        while True:
            reply = self.client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        text = []
        while True:
            output = self.client.get_iopub_msg(timeout=60)
            if output["parent_header"].get("msg_id") != msg_id:
                continue
            kind = output["msg_type"]
            if kind == "stream":
                text.append(output["content"]["text"])
            elif kind == "error":
                text.append(f"{output['content']['ename']}: {output['content']['evalue']}\n")
            elif kind == "status" and output["content"]["execution_state"] == "idle":
                break
        assert reply["content"]["status"] == "ok", "".join(text)
        return "".join(text)


@pytest.fixture
def frontend(nbsched_home: Path, tmp_path: Path) -> Iterator[Frontend]:
    km = KernelManager(kernel_name="python3")
    # NBSCHED_HOME (set for this test) makes the kernel's store this test's; PYTHONPATH, its nbsched this one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    km.start_kernel(cwd=str(tmp_path), env=env)
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield Frontend(client)
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def _stored_jobs(home: Path) -> dict[str, Any]:
    store = SQLAlchemyJobStore(url=f"sqlite:///{home / 'nbsched.db'}")
    try:
        return {job.id: job for job in store.get_all_jobs()}
    finally:
        store.shutdown()


def test_rerunning_a_cell_with_changed_code_updates_its_job(frontend: Frontend, nbsched_home: Path) -> None:
    frontend.run("%load_ext nbsched", "cell-1")
    first = frontend.run("%%schedule --every 1h\nold_body()", "cell-a")
    job_id = first.split()[1]
    assert first.startswith(f"scheduled {job_id} (shared store): every hour")
    # The same cell, edited: its job is updated, not doubled.
    again = frontend.run("%%schedule --every 2h\nnew_body()", "cell-a")
    assert again.startswith(f"updated {job_id} (shared store): every 2 hours")
    # Another cell with the same code is another job.
    other = frontend.run("%%schedule --every 2h\nnew_body()", "cell-b")
    other_id = other.split()[1]
    assert other.startswith(f"scheduled {other_id} (shared store)") and other_id != job_id
    jobs = _stored_jobs(nbsched_home)
    assert sorted(jobs) == sorted([job_id, other_id])
    assert jobs[job_id].func.source == "new_body()\n"
    assert jobs[job_id].trigger.describe() == "every 2 hours"
    assert jobs[job_id].name == "cell: new_body()"
    # Without an id (a front end that sends none) the code is the key: edited code is a new job, as documented.
    plain = frontend.run("%%schedule --every 1h\nnew_body()", None)
    edited = frontend.run("%%schedule --every 1h\nnewer_body()", None)
    assert plain.split()[1] != edited.split()[1]
    assert len(_stored_jobs(nbsched_home)) == 4
