"""The extension in a real kernel driven by nbclient, as a notebook uses it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import RunFilter

pytestmark = pytest.mark.realtime


def _text(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


async def _drain_iopub(client: NotebookClient, seconds: float) -> list[dict[str, Any]]:
    """Every IOPub message the kernel sends while no cell runs, as a front end would receive them."""
    assert client.kc is not None
    messages = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            messages.append(await client.kc.iopub_channel.get_msg(timeout=left))
        except Exception:  # queue.Empty once the time is up
            break
    return messages


def test_kernel_runs_scheduled_cells_between_cells_with_output_in_the_scheduling_cell(
    tmp_path: Path, nbsched_home: Path
) -> None:
    done = tmp_path / "shutdown.txt"
    sources = [
        "%load_ext nbsched",
        "ticks = []\nlog = []",
        "%%schedule --every 1s --mode kernel --name tick\nticks.append(1)\nlog.append('job')\nprint('tick', len(ticks))",
        # a synchronous cell: the job must not run inside it
        "import time\nlog.append('start')\ntime.sleep(2.2)\nlog.append('end')",
        # an async cell yields to the kernel's loop while it awaits: the job must still wait for it
        "import asyncio\nlog.append('astart')\nawait asyncio.sleep(2.2)\nlog.append('aend')",
        "%%schedule --every 1s --name headless-tick\nprint('fresh kernel')",
        "print(len(ticks) >= 2, log.index('end') == log.index('start') + 1, log.index('aend') == log.index('astart') + 1)",
        "%runs tick -n 2",
        "import nbsched\n"
        f"nbsched.default_scheduler().add_listener(lambda e: open({str(done)!r}, 'w').write('clean'), "
        "nbsched.EVENT_SCHEDULER_SHUTDOWN)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    homes: dict[int, str] = {}

    def executed(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        homes[cell_index] = execute_reply["parent_header"]["msg_id"]

    client = NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        on_cell_executed=executed,
    )

    async def run() -> list[dict[str, Any]]:
        async with client.async_setup_kernel():
            between: list[dict[str, Any]] = []
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(cell, index)
                if index == 2:
                    between += await _drain_iopub(client, 2.5)
                if index == 5:
                    await asyncio.sleep(6)  # headless runs start fresh kernels
        return between

    between = asyncio.run(run())

    # Output of the kernel-mode runs went to the cell that scheduled the job (its request is their parent).
    ticks = [m for m in between if m["msg_type"] == "stream" and "tick" in m["content"]["text"]]
    assert ticks, [m["msg_type"] for m in between]
    assert {m["parent_header"]["msg_id"] for m in ticks} == {homes[2]}
    assert _text(nb.cells[2]).startswith("scheduled tick (in this kernel): every second; next run ")
    # The job ran, and never inside a cell, whether the cell blocked or awaited.
    assert _text(nb.cells[6]) == "True True True\n"
    runs_table = _text(nb.cells[7]).splitlines()
    assert runs_table[0].split()[:2] == ["job", "status"]
    # Newest first: the newest may be a fire claimed a moment ago that waits for the kernel to be idle (seen in CI).
    rows = [line.split()[:2] for line in runs_table[1:3]]
    assert [job for job, _ in rows] == ["tick", "tick"], runs_table
    assert rows[1][1] == "succeeded" and rows[0][1] in ("scheduled", "running", "succeeded"), runs_table
    # The kernel shut its scheduler down cleanly when it exited.
    assert done.read_text() == "clean"
    # The headless job lives in the shared store and survives the kernel; its runs ran in fresh kernels.
    store = SQLAlchemyJobStore()
    try:
        assert [job.id for job in store.get_all_jobs()] == ["headless-tick"]
        statuses = [run.status for run in store.get_runs(RunFilter(job_id="headless-tick"))]
        assert "succeeded" in statuses, statuses
        assert store.get_runs(RunFilter(job_id="tick")) == []  # kernel jobs never reach the shared store
    finally:
        store.shutdown()
