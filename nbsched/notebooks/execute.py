"""Headless notebook runs: nbclient in a thread and event loop of its own, papermill's conventions.

:func:`run_notebook` runs one prepared notebook and returns a :class:`NotebookResult` or raises a
:class:`NotebookRunError`. It never runs on the caller's event loop: from a thread with a running loop (a
Jupyter kernel's main thread) it runs in a new thread, which is what papermill's "event loop is already running"
failures come from. Per run:

- the notebook gets ``metadata.papermill`` (parameters, input/output path, times, exception) and every cell
  ``metadata.papermill`` (status ``pending → running → completed | failed``, times, exception), as papermill
  writes them; the output notebook is written before the first cell and after every cell, and once more (with
  papermill's error banner when a cell failed) at the end, whatever happened;
- cells tagged ``skip-execution`` are skipped, errors in cells tagged ``raises-exception`` are kept as output
  and the run goes on; ``sys.exit(0)`` ends a run early and successfully (as with papermill);
- ``cell_timeout`` bounds each cell, ``timeout`` the whole run: when one is passed the kernel is interrupted,
  and killed when the cell has not stopped ``interrupt_grace`` seconds later; the run is ``timed_out``;
- a kernel that dies is detected (nbclient checks it every second) and the run fails with ``DeadKernelError``.

Cell numbers: what people read (progress ``"cell 4/5"``, ``ValueError in cell 4: boom``, the timeout and dead
kernel messages, the JupyterLab panel) counts every cell of the executed notebook from 1, the ``parameters``
and ``injected-parameters`` cells and Markdown cells included: cell 4 is the fourth cell of the output notebook
as it ran (before the error banner was added). ``cell_index`` on errors and run records is papermill's 0-based
index of that same cell (``cell_index + 1`` is its number). The banner's ``In [n]`` is papermill's, word for
word: the cell's execution count, as the prompt beside it shows.

The driver is here; the pieces it drives live in modules of their own: :mod:`~nbsched.notebooks.runspec` (what a
run is given and returns), :mod:`~nbsched.notebooks.cellrun` (the cell loop, timeouts, the error banner),
:mod:`~nbsched.notebooks.cancel` (cancelling from another thread) and :mod:`~nbsched.notebooks.kernels` (kernels).
Their public names are importable from here too, as they were before the split.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbsched.exceptions import JobArgumentError, NbschedError, NotebookRunError  # re-exported: its old home
from nbsched.notebooks import parameters as params
from nbsched.notebooks.cancel import CancelToken
from nbsched.notebooks.cellrun import AUTOSAVE_EVERY, FIRST_AUTOSAVE, CellRun, timestamp
from nbsched.notebooks.kernels import KernelPool
from nbsched.notebooks.kernelspecs import check_kernel_name, unknown_kernel_error
from nbsched.notebooks.kernelstart import StartedKernel, change_directory, connect_client, start_kernel
from nbsched.notebooks.kernelstop import stop_kernel
from nbsched.notebooks.outputs import RunOutputs, remove_error_markers, written
from nbsched.notebooks.runspec import NotebookResult, ProgressCallback, RunSpec, cell_number, content_hash
from nbsched.notebooks.scrub import RunScrubber

__all__ = [
    "AUTOSAVE_EVERY",
    "FIRST_AUTOSAVE",
    "CancelToken",
    "NotebookResult",
    "NotebookRunError",
    "ProgressCallback",
    "RunSpec",
    "cell_number",
    "content_hash",
    "run_notebook",
    "run_notebook_async",
]


def run_notebook(
    nb: Any,
    spec: RunSpec,
    folder: Path,
    *,
    pool: KernelPool | None = None,
    on_progress: ProgressCallback | None = None,
    on_started: Callable[[], None] | None = None,
    cancel: CancelToken | None = None,
) -> NotebookResult:
    """Run ``nb`` (an nbformat v4 notebook, modified in place) and write its outputs to ``folder``.

    Blocks until the run ends. nbclient gets an event loop of its own: in this thread when it has none
    running, else in a new thread (so this works from inside a Jupyter kernel).

    :raises NotebookRunError: when a cell failed, a timeout passed, the kernel died or could not start
    """
    coro = run_notebook_async(
        nb, spec, folder, pool=pool, on_progress=on_progress, on_started=on_started, cancel=cancel
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="nbsched-notebook-run")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def _prepare(nb: Any, spec: RunSpec, outputs: RunOutputs, kernel_name: str, scrub: RunScrubber) -> None:
    """Parameters, papermill metadata and a clean slate of outputs (papermill's ``notebook_start``)."""
    import nbformat

    remove_error_markers(nb)
    if spec.parameters:
        params.check_parameters(nb, spec.parameters, spec.input_path)
        params.inject_parameters(nb, spec.parameters, nbformat.v4.new_code_cell)
    for cell in nb.cells:
        if "id" not in cell:
            cell["id"] = nbformat.v4.new_code_cell().id
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = []
        cell.metadata["papermill"] = {
            "exception": None,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "status": "pending",
        }
    nb.nbformat_minor = max(int(nb.get("nbformat_minor", 5)), 5)  # cell ids need 4.5
    metadata = nb.metadata
    if "kernelspec" not in metadata or metadata["kernelspec"].get("name") != kernel_name:
        metadata["kernelspec"] = _kernelspec_metadata(kernel_name)
    from nbsched import __version__

    metadata["papermill"] = {
        "default_parameters": {},
        "parameters": scrub.parameters_metadata(),
        "environment_variables": {},
        "version": f"nbsched {__version__}",
        "input_path": spec.input_path,
        "output_path": str(outputs.ipynb),
        "start_time": timestamp(),
        "end_time": None,
        "duration": None,
        "exception": None,
    }
    metadata["nbsched"] = {"input_sha256": spec.input_sha256, **spec.metadata}


def _kernelspec_metadata(kernel_name: str) -> dict[str, str]:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return {"name": kernel_name, "display_name": kernel_name}
    return {"name": kernel_name, "display_name": spec.display_name, "language": spec.language}


async def run_notebook_async(
    nb: Any,
    spec: RunSpec,
    folder: Path,
    *,
    pool: KernelPool | None = None,
    on_progress: ProgressCallback | None = None,
    on_started: Callable[[], None] | None = None,
    cancel: CancelToken | None = None,
) -> NotebookResult:
    """The coroutine behind :func:`run_notebook` (call it only on a loop of its own)."""
    from jupyter_client.kernelspec import NoSuchKernel

    outputs = RunOutputs(folder, spec.name, spec.formats)
    outputs.touch_streams()
    paths = outputs.paths()
    kernel_name = spec.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    scrub = RunScrubber(spec.parameters, spec.secret_parameters)
    try:
        _prepare(nb, spec, outputs, kernel_name, scrub)
    except NbschedError as exc:
        raise NotebookRunError(type(exc).__name__, scrub.text(str(exc)), None, outputs.outcome(paths)[0]) from None
    outputs.write_notebook(scrub.notebook(nb))
    run = CellRun(nb, spec, outputs, paths, cancel, scrub)
    if cancel is not None and cancel.reason is not None:
        run.fail("Cancelled", f"{cancel.reason} (before it started)", None, status="cancelled")
    elif on_started is not None:
        on_started()
    progress = on_progress or (lambda text, outs: None)
    progress("starting kernel", written(paths))
    kernel: StartedKernel | None = None
    if pool is not None and run.error is None:
        # A kernel being started ahead is ready sooner than one started now: wait for it rather than start another.
        kernel = pool.take(kernel_name, wait=spec.startup_timeout)
    client: Any = None
    try:
        if kernel is not None and not await kernel.km.is_alive():
            await _release(pool, kernel, now=True)
            kernel = None
        if kernel is None and run.error is None:
            # Checked when the spec was made, but the job may run on another machine, or the notebook's own
            # kernelspec is the missing one: say which name, from where, and what is installed. Looked up
            # before the start, which would log a traceback of its own for it.
            field = "kernel_name" if spec.kernel_name else "metadata.kernelspec.name"
            try:
                check_kernel_name(spec.owner, field, kernel_name)
                kernel = await start_kernel(
                    kernel_name, cwd=spec.cwd, log_dir=folder, startup_timeout=spec.startup_timeout
                )
            except JobArgumentError as exc:
                run.fail("NoSuchKernel", str(exc), None)
            except NoSuchKernel:  # removed between the look-up and the start
                run.fail("NoSuchKernel", str(unknown_kernel_error(spec.owner, field, kernel_name)), None)
            except Exception as exc:
                run.fail(type(exc).__name__, str(exc) or repr(exc), None)
        if kernel is not None:
            paths["kernel_log"] = str(outputs.kernel_log)
            client, info = await connect_client(kernel.km, spec.startup_timeout)
            if kernel.warm:
                await change_directory(client, spec.cwd, spec.startup_timeout)
            if "language_info" in info["content"]:
                nb.metadata["language_info"] = info["content"]["language_info"]
            await run.cells(kernel, client, progress)
    finally:
        if client is not None:
            client.stop_channels()
        # The outputs first: a kernel shutting down (it runs its exit handlers) would compete with the HTML
        # rendering, which is the end of the run that a user waits for. The idle kernel waits meanwhile.
        try:
            await run.finish()
        finally:
            if kernel is not None:
                if kernel.log_path is not None:
                    with contextlib.suppress(OSError):
                        os.replace(kernel.log_path, outputs.kernel_log)
                        scrub.file(outputs.kernel_log)
                await _release(pool, kernel, now=False)
    existing, warnings = outputs.outcome(paths)  # only outputs that exist are linked; the others are said
    if run.error is not None:
        run.error.outputs, run.error.warnings = existing, warnings
        raise run.error
    return NotebookResult(
        warnings=tuple(warnings),
        outputs=existing,
        input_sha256=spec.input_sha256,
        cells=len(nb.cells),
        duration=run.duration,
        kernel_id=kernel.kernel_id if kernel is not None else "",
        warm_kernel=kernel.warm if kernel is not None else False,
    )


async def _release(pool: KernelPool | None, kernel: StartedKernel, now: bool) -> None:
    """Hand the used kernel to the pool to stop it in the background; stop it here without a pool, or when the
    pool was shut down during the run (its loop may be gone: nothing may be left for it to finish)."""
    if pool is None or pool.release(kernel, now=now) is None:
        await stop_kernel(kernel, now=now)
