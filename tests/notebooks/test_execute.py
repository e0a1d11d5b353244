"""Headless runs against real kernels: outputs, papermill conventions, timeouts, dead kernels, event loops."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbsched.exceptions import JobArgumentError
from nbsched.notebooks import Cell, Notebook
from nbsched.notebooks.execute import NotebookResult, NotebookRunError
from nbsched.notebooks.kernels import KernelPool
from nbsched.notebooks.outputs import ERROR_ANCHOR_MSG, ERROR_MARKER_TAG

GOLDEN = Path(__file__).parent / "golden"
TIMES = {"start_time", "end_time", "duration"}

pytestmark = pytest.mark.realtime


def normalise(nb: dict[str, Any]) -> dict[str, Any]:
    """The output notebook without what changes from run to run: ids, times, paths, versions."""
    nb = json.loads(json.dumps(nb))
    for index, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{index}"
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                output["traceback"] = ["<traceback: IPython's formatting varies between versions>"]
        meta = cell["metadata"]
        if "execution" in meta:
            meta["execution"] = dict.fromkeys(sorted(meta["execution"]), "<time>")
        for key in TIMES & set(meta.get("papermill", {})):
            if meta["papermill"][key] is not None:
                meta["papermill"][key] = "<time>"
    metadata = nb["metadata"]
    for key in TIMES:
        metadata["papermill"][key] = "<time>"
    for key in ("input_path", "output_path"):
        metadata["papermill"][key] = Path(metadata["papermill"][key]).name
    metadata["papermill"]["version"] = "<version>"
    metadata["language_info"]["version"] = "<version>"
    metadata["nbsched"] = dict.fromkeys(sorted(metadata["nbsched"]), "<varies>")
    return nb


def check_golden(name: str, path: str) -> None:
    actual = normalise(json.loads(Path(path).read_text()))
    golden = GOLDEN / f"{name}.ipynb"
    if os.environ.get("NBSCHED_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert actual == json.loads(golden.read_text())


def run(spec: Notebook | Cell, tmp_path: Path, pool: KernelPool, **kwargs: Any) -> NotebookResult:
    folder = tmp_path / "out"
    folder.mkdir(exist_ok=True)
    return spec.run(folder, pool=pool, **kwargs)  # type: ignore[no-any-return]


def run_error(spec: Notebook | Cell, tmp_path: Path, pool: KernelPool) -> NotebookRunError:
    with pytest.raises(NotebookRunError) as info:
        run(spec, tmp_path, pool)
    return info.value


def test_output_notebook_matches_the_golden_file(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    spec = Notebook("params.ipynb", parameters={"region": "US", "start": date(2026, 1, 5), "weights": {"b": 2, "a": 1}})
    progress: list[str] = []
    result = run(spec, tmp_path, pool, on_progress=lambda text, outs: progress.append(text))
    assert progress == ["starting kernel", "cell 1/5", "cell 2/5", "cell 3/5", "cell 4/5", "cell 5/5"]
    check_golden("params", result.outputs["ipynb"])
    assert Path(result.outputs["stdout"]).read_text() == "US 10 date 2026-01-05\n"
    assert "US 10 date 2026-01-05" in Path(result.outputs["html"]).read_text()
    assert result.cells == 5 and result.warm_kernel
    assert sorted(result.outputs) == ["html", "ipynb", "kernel_log", "stderr", "stdout"]
    assert {Path(p).parent for p in result.outputs.values()} == {tmp_path / "out"}
    # A notebook nbsched wrote is a valid notebook that runs again (the injected cell is replaced, not added).
    again = Notebook(str(Path(result.outputs["ipynb"])), root=tmp_path, parameters={"region": "FR"})
    second = run(again, tmp_path / "out", pool)
    nb = nbformat.read(second.outputs["ipynb"], as_version=4)
    nbformat.validate(nb)
    assert [c.metadata.get("tags") for c in nb.cells].count(["injected-parameters"]) == 1
    assert nb.cells[3].outputs[0].text == "FR 10 NoneType None\n"


def test_failing_notebook_is_written_with_papermills_banner(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    progress: list[str] = []
    with pytest.raises(NotebookRunError) as info:
        run(
            Notebook("fail.ipynb", parameters={"divisor": 5}),
            tmp_path,
            pool,
            on_progress=lambda t, o: progress.append(t),
        )
    error = info.value
    assert (error.ename, error.evalue, error.cell_index, error.run_status) == ("ValueError", "boom 5", 3, "failed")
    # One numbering for people: the failing cell is "cell 4" in the progress and in the message (the injected
    # parameters cell counts, as it is in the output notebook); cell_index is papermill's 0-based index of it.
    assert progress[-1] == "cell 4/5"
    assert str(error) == "ValueError in cell 4: boom 5"
    assert "ValueError: boom 5" in error.traceback_text and "\x1b[" not in error.traceback_text
    check_golden("fail", error.outputs["ipynb"])
    nb = nbformat.read(error.outputs["ipynb"], as_version=4)
    assert nb.cells[0].metadata["tags"] == [ERROR_MARKER_TAG]
    assert "In [4]" in nb.cells[0].source
    assert nb.cells[4].source == ERROR_ANCHOR_MSG
    assert nb.metadata["papermill"]["exception"] is True
    assert [c.metadata["papermill"]["status"] for c in nb.cells if "papermill" in c.metadata] == [
        "completed",
        "completed",
        "completed",
        "failed",
        "pending",
    ]
    assert "boom 5" in Path(error.outputs["html"]).read_text()
    assert Path(error.outputs["stdout"]).read_text() == "before the error\n"


def test_raises_exception_and_skip_execution_tags_are_honoured(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    result = run(Notebook("tags.ipynb"), tmp_path, pool)
    nb = nbformat.read(result.outputs["ipynb"], as_version=4)
    assert nb.cells[0].outputs[0].ename == "RuntimeError"
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert nb.cells[2].outputs[0].text == "reached the end\n"


def test_cell_timeout_interrupts_the_kernel(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    spec = Notebook("sleep.ipynb", cell_timeout=1, interrupt_grace=5)
    error = run_error(spec, tmp_path, pool)
    assert (error.ename, error.run_status, error.cell_index) == ("CellTimeoutError", "timed_out", 1)
    # cell_index 1 is the second cell: messages number cells from 1, as progress does
    assert error.evalue == "cell 2 ran longer than its cell_timeout of 1 s; interrupted"
    assert str(error) == f"CellTimeoutError in cell 2: {error.evalue}"
    nb = nbformat.read(error.outputs["ipynb"], as_version=4)
    # cells: banner, parameters, anchor, the sleeping cell, the last one
    assert nb.cells[3].outputs[-1].ename == "KeyboardInterrupt"
    assert nb.cells[4].metadata["papermill"]["status"] == "pending"


def test_run_timeout_kills_a_kernel_that_ignores_the_interrupt(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    spec = Notebook("sleep.ipynb", parameters={"ignore_interrupt": True}, timeout=1.5, interrupt_grace=1)
    error = run_error(spec, tmp_path, pool)
    assert (error.ename, error.run_status, error.cell_index) == ("CellTimeoutError", "timed_out", 2)
    assert (
        error.evalue == "the run took longer than its timeout of 1.5 s (in cell 3); interrupted, then killed after 1 s"
    )
    nb = nbformat.read(error.outputs["ipynb"], as_version=4)
    assert nb.cells[4].outputs[0].text == "sleeping\n"  # output up to the kill is kept


def test_dead_kernel_is_detected_and_recorded(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    error = run_error(Notebook("die.ipynb"), tmp_path, pool)
    assert (error.ename, error.run_status, error.cell_index) == ("DeadKernelError", "failed", 1)
    assert error.evalue == "Kernel died while running cell 2 (exit code -9)"
    nb = nbformat.read(error.outputs["ipynb"], as_version=4)
    assert nb.cells[1].outputs[0].text == "about to die\n"


def test_notebook_changed_since_scheduling_fails_the_run_clearly(root: Path, tmp_path: Path) -> None:
    spec = Notebook("params.ipynb", parameters={"limit": 3})
    (root / "params.ipynb").write_text((root / "params.ipynb").read_text().replace("limit", "top_n"))
    error = run_error(spec, tmp_path, None)  # type: ignore[arg-type]  # fails before any kernel is needed
    assert error.ename == "JobArgumentError"
    assert error.evalue == (
        "Notebook: parameter 'limit' is not assigned in the parameters cell of "
        f"{root / 'params.ipynb'} (known: region, start, top_n, weights)"
    )


def test_runs_from_a_thread_whose_event_loop_is_running(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    async def main() -> NotebookResult:
        # Called synchronously while this thread's loop runs: papermill fails here, nbsched uses a thread.
        return run(Cell("print(6 * 7)"), tmp_path, pool)

    result = asyncio.run(main())
    assert Path(result.outputs["stdout"]).read_text() == "42\n"
    assert threading.active_count() >= 1


def _installed() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    return ", ".join(sorted(KernelSpecManager().find_kernel_specs()))


def test_a_kernel_missing_at_run_time_fails_the_run_clearly(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Stored where "nosuchkernel" exists, run here: the run's error says what is missing and what there is.
    stored = Notebook.from_dict({**Notebook("params.ipynb").to_dict(), "kernel_name": "nosuchkernel"})
    error = run_error(stored, tmp_path, None)  # type: ignore[arg-type]  # no kernel starts
    assert (error.ename, error.cell_index, error.run_status) == ("NoSuchKernel", None, "failed")
    assert error.evalue == (
        f"Notebook: kernel_name 'nosuchkernel' is not an installed kernelspec (installed: {_installed()})"
    )
    assert Path(error.outputs["ipynb"]).is_file()  # the output notebook is written all the same
    cell = Cell.from_dict({**Cell("print(1)").to_dict(), "kernel_name": "nosuchkernel"})
    error = run_error(cell, tmp_path, None)  # type: ignore[arg-type]
    assert error.evalue.startswith("Cell: kernel_name 'nosuchkernel' is not an installed kernelspec (installed: ")
    # The notebook's own kernelspec is the missing one.
    nb = json.loads((root / "params.ipynb").read_text())
    nb["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    (root / "r.ipynb").write_text(json.dumps(nb))
    error = run_error(Notebook("r.ipynb"), tmp_path, None)  # type: ignore[arg-type]
    assert (error.ename, error.evalue) == (
        "NoSuchKernel",
        f"Notebook: metadata.kernelspec.name 'ir' is not an installed kernelspec (installed: {_installed()})",
    )
    # the run's error is the whole story: no traceback logged besides it (jupyter_client logs one on a start)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_a_second_installed_kernelspec_runs_from_kernel_name_and_from_metadata(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(JobArgumentError, match="kernel_name 'py-other' is not an installed kernelspec"):
        Notebook("params.ipynb", kernel_name="py-other")
    spec_dir = tmp_path / "jupyter" / "kernels" / "py-other"
    spec_dir.mkdir(parents=True)
    kernel_json = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (other)",
        "language": "python",
        # seen only by kernels started from this kernelspec: proves which one ran
        "env": {"NBSCHED_TEST_KERNELSPEC": "py-other"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(kernel_json))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    assert "py-other" in _installed().split(", ")
    probe = "import os\nprint(os.environ.get('NBSCHED_TEST_KERNELSPEC'))"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    nb.metadata["kernelspec"] = {"name": "py-other", "display_name": "Python (other)", "language": "python"}
    nbformat.write(nb, root / "other.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)]), root / "plain.ipynb")
    # Cold kernels (no pool): a pool would go on warming "py-other" after this test removed it.
    for spec in (
        Notebook("plain.ipynb", kernel_name="py-other"),
        Notebook("other.ipynb"),
        Cell(probe, kernel_name="py-other"),
    ):
        folder = tmp_path / f"out-{type(spec).__name__}-{getattr(spec, 'path', 'cell')}"
        folder.mkdir()
        result = spec.run(folder)
        assert Path(result.outputs["stdout"]).read_text() == "py-other\n", spec
        out = nbformat.read(result.outputs["ipynb"], as_version=4)
        assert out.metadata["kernelspec"]["name"] == "py-other"
        assert out.metadata["kernelspec"]["display_name"] == "Python (other)"
    # and the default kernel does not see that variable
    assert Path(run(Notebook("plain.ipynb"), tmp_path, None).outputs["stdout"]).read_text() == "None\n"  # type: ignore[arg-type]


@pytest.mark.slow
def test_runs_from_inside_a_jupyter_kernel(root: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    code = (
        "from nbsched.notebooks import Notebook\n"
        f"result = Notebook('params.ipynb', root={str(root)!r}, parameters={{'limit': 7}})()\n"
        "print(open(result.outputs['stdout']).read(), end='')"
    )
    outer = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(outer, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(root)}}).execute()
    assert outer.cells[0].outputs[0].text == "EU 7 NoneType None\n"
    assert re.search(r"runs/_calls/\w+", str(list((tmp_path / "home" / "runs" / "_calls").iterdir())))
