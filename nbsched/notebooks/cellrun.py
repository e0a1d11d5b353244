"""The cell loop of one notebook run: :class:`CellRun` (papermill's execution manager, in short).

It runs the cells in order through nbclient, keeps ``metadata.papermill`` of every cell, saves the output notebook
after each cell (and during a long one), enforces ``cell_timeout``, ``timeout`` and cancellation by interrupting
and then killing the kernel, and at the end adds papermill's error banner and writes the notebook and its HTML.
:func:`~nbsched.notebooks.execute.run_notebook_async` drives it; cell numbers are as described there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from nbsched.exceptions import NotebookRunError
from nbsched.notebooks.cancel import CancelToken
from nbsched.notebooks.kernelstart import StartedKernel
from nbsched.notebooks.outputs import RunOutputs, add_error_banner, written
from nbsched.notebooks.runspec import ProgressCallback, RunSpec, cell_number
from nbsched.notebooks.scrub import RunScrubber

__all__ = ["AUTOSAVE_EVERY", "FIRST_AUTOSAVE", "CellRun", "timestamp"]

_logger = logging.getLogger("nbsched.notebooks")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: seconds a cell runs before the output notebook is saved mid-cell (then every AUTOSAVE_EVERY seconds)
FIRST_AUTOSAVE = 1.0
AUTOSAVE_EVERY = 30.0


def timestamp() -> str:
    """Now, as papermill writes times into ``metadata.papermill`` (ISO 8601, UTC)."""
    return datetime.now(UTC).isoformat()


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


class CellRun:
    """The cell loop of one run and its bookkeeping (papermill's execution manager, in short).

    :ivar error: the run's error once something failed (the first failure wins), else ``None``
    :ivar duration: seconds from the first cell to the last, once :meth:`cells` has ended
    """

    def __init__(
        self,
        nb: Any,
        spec: RunSpec,
        outputs: RunOutputs,
        paths: dict[str, str],
        cancel: CancelToken | None = None,
        scrub: RunScrubber | None = None,
    ) -> None:
        self.cancel = cancel
        self.scrub = scrub if scrub is not None else RunScrubber({})
        self.nb = nb
        self.spec = spec
        self.outputs = outputs
        self.paths = paths
        self.error: NotebookRunError | None = None
        self.started = time.monotonic()
        self.duration = 0.0
        self.deadline = self.started + spec.timeout if spec.timeout else None

    def fail(self, ename: str, evalue: str, cell_index: int | None, status: str = "failed", tb: str = "") -> None:
        """Record the run's error (secrets masked), unless one is recorded already."""
        if self.error is None:
            evalue, tb = self.scrub.text(evalue), self.scrub.text(tb)
            self.error = NotebookRunError(ename, evalue, cell_index, self.paths, status, tb, self.spec.input_sha256)

    async def cells(self, kernel: StartedKernel, client: Any, progress: ProgressCallback) -> None:
        """Run the cells in order on ``kernel`` through ``client``, until the last, a failure, or ``sys.exit(0)``."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, DeadKernelError
        from traitlets.log import get_logger

        nb = self.nb
        runner = NotebookClient(
            nb,
            log=self.scrub.logger(get_logger()),
            km=kernel.km,
            kernel_name=kernel.kernel_name,
            timeout=None,  # timeouts are enforced here (interrupt, then kill), not by nbclient
            allow_errors=False,
            record_timing=True,
            skip_cells_with_tag="skip-execution",
            resources={"metadata": {"path": str(self.spec.cwd)}},
        )
        runner.kc = client
        total = len(nb.cells)
        self.started = time.monotonic()
        if self.spec.timeout:
            self.deadline = self.started + self.spec.timeout
        for index, cell in enumerate(nb.cells):
            if self.cancel is not None and self.cancel.reason is not None:
                reason = f"{self.cancel.reason} (before cell {cell_number(index)})"
                self.fail("Cancelled", reason, index, status="cancelled")
                break
            progress(f"cell {cell_number(index)}/{total}", written(self.paths))
            meta = cell.metadata["papermill"]
            meta["start_time"], meta["status"], meta["exception"] = timestamp(), "running", False
            started = time.monotonic()
            failed = stop = False
            try:
                await self._run_cell(runner, kernel, cell, index)
            except CellExecutionError as exc:
                if exc.ename == "SystemExit" and exc.evalue in ("", "0"):
                    stop = True  # sys.exit(0): papermill's way of ending a notebook early, successfully
                else:
                    failed = True
                    self.fail(exc.ename, exc.evalue, index, tb=_cell_traceback(cell) or _plain(str(exc)))
            except _Cancelled as exc:
                failed = True
                self.fail("Cancelled", str(exc), index, status="cancelled", tb=str(exc))
            except _TimedOut as exc:
                failed = True
                self.fail("CellTimeoutError", str(exc), index, status="timed_out", tb=str(exc))
            except DeadKernelError:
                failed = True
                code = _exit_code(kernel)
                detail = f" (exit code {code})" if code is not None else ""
                self.fail("DeadKernelError", f"Kernel died while running cell {cell_number(index)}{detail}", index)
            finally:
                if failed:
                    meta["exception"], meta["status"] = True, "failed"
                    nb.metadata["papermill"]["exception"] = True
                self._complete(cell, started)
            if failed or stop:
                break
        self.duration = time.monotonic() - self.started

    def _complete(self, cell: Any, started: float) -> None:
        meta = cell.metadata["papermill"]
        meta["end_time"] = timestamp()
        meta["duration"] = round(time.monotonic() - started, 6)
        if meta["status"] != "failed":
            meta["status"] = "completed"
        self.outputs.append_streams(self.scrub.cell(cell))
        self.outputs.write_notebook(self.scrub.notebook(self.nb))

    async def _run_cell(self, runner: Any, kernel: StartedKernel, cell: Any, index: int) -> None:
        spec = self.spec
        task = asyncio.ensure_future(
            runner.async_execute_cell(cell, index, execution_count=runner.code_cells_executed + 1)
        )
        cancelled = asyncio.ensure_future(self.cancel.wait()) if self.cancel is not None else None
        started = time.monotonic()
        cell_deadline = started + spec.cell_timeout if spec.cell_timeout else None
        next_save = started + FIRST_AUTOSAVE
        try:
            while True:
                limits = [d for d in (cell_deadline, self.deadline) if d is not None]
                now = time.monotonic()
                wait = min([next_save, *limits]) - now
                waiting = {task} if cancelled is None else {task, cancelled}
                done, _ = await asyncio.wait(waiting, timeout=max(wait, 0), return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    task.result()  # raises the cell's error
                    return
                if cancelled is not None and cancelled in done:
                    break
                now = time.monotonic()
                if limits and now >= min(limits):
                    break
                if now >= next_save:
                    # a long cell: show it running, with its output so far
                    self.outputs.write_notebook(self.scrub.notebook(self.nb))
                    next_save = now + AUTOSAVE_EVERY
        finally:
            if cancelled is not None:
                cancelled.cancel()
        # Cancelled, or a timeout passed: interrupt, and kill the kernel if the cell does not stop.
        error: type[Exception] = _TimedOut
        if self.cancel is not None and self.cancel.reason is not None:
            reason, error = f"{self.cancel.reason} (in cell {cell_number(index)})", _Cancelled
        elif cell_deadline is not None and (self.deadline is None or cell_deadline <= self.deadline):
            reason = f"cell {cell_number(index)} ran longer than its cell_timeout of {spec.cell_timeout:g} s"
        else:
            reason = f"the run took longer than its timeout of {spec.timeout:g} s (in cell {cell_number(index)})"
        _logger.warning("Notebook %s: %s; interrupting the kernel", spec.name, reason)
        with contextlib.suppress(Exception):
            await kernel.km.interrupt_kernel()
        done, _ = await asyncio.wait({task}, timeout=spec.interrupt_grace)
        if done:
            reason += "; interrupted"
        else:
            reason += f"; interrupted, then killed after {spec.interrupt_grace:g} s"
            with contextlib.suppress(Exception):
                await kernel.km.shutdown_kernel(now=True)
            done, _ = await asyncio.wait({task}, timeout=5)
            if not done:
                task.cancel()
                done, _ = await asyncio.wait({task}, timeout=5)
        for finished in done:
            if not finished.cancelled():
                finished.exception()  # retrieved: the timeout is what is reported
        raise error(reason)

    async def finish(self) -> None:
        """papermill's ``notebook_complete`` plus the error banner; writes the notebook and the HTML."""
        import nbformat

        nb = self.nb
        meta = nb.metadata["papermill"]
        meta["end_time"] = timestamp()
        start = datetime.fromisoformat(meta["start_time"])
        meta["duration"] = round((datetime.now(UTC) - start).total_seconds(), 6)
        if self.error is None:
            meta["exception"] = False
            for cell in nb.cells:
                if cell.metadata["papermill"]["status"] == "pending":
                    cell.metadata["papermill"]["status"] = "completed"
        elif self.error.cell_index is not None:
            meta["exception"] = True
            add_error_banner(nb, self.error.cell_index, nbformat.v4.new_markdown_cell)
        masked = self.scrub.notebook(nb)
        self.outputs.write_notebook(masked)
        try:
            await self._write_html(masked)
        except Exception as exc:
            # While the interpreter shuts down, a first rendering cannot even import nbconvert: the run is
            # recorded without its HTML, and that is no news to the person who stopped the process.
            log = _logger.debug if _shutting_down() else _logger.warning
            log("Notebook %s: could not render HTML: %s", self.spec.name, self.scrub.text(str(exc)))
            self.outputs.record_failure("html", exc)

    async def _write_html(self, nb: Any) -> None:
        # In a worker thread, so that rendering does not hold up this loop. A run that outlives the main thread
        # (``nbsched run --wait`` interrupted, a service stopping) ends while the interpreter shuts down, and
        # executors then take no new work: render here instead, in the loop's thread, which has nothing else
        # to do by now, so the run still leaves its HTML.
        if _shutting_down():
            self.outputs.write_html(nb)
            return
        loop = asyncio.get_running_loop()
        try:
            rendering = loop.run_in_executor(None, self.outputs.write_html, nb)
        except RuntimeError:  # "cannot schedule new futures after interpreter shutdown": it began just now
            self.outputs.write_html(nb)
            return
        await rendering


def _shutting_down() -> bool:
    """Whether the interpreter is shutting down: its main thread has ended and only the threads it waits for
    (such as a run's) are left."""
    return not threading.main_thread().is_alive()


class _TimedOut(Exception):
    pass


class _Cancelled(Exception):
    pass


def _cell_traceback(cell: Any) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _plain("\n".join(output.get("traceback", [])))
    return ""


def _exit_code(kernel: StartedKernel) -> int | None:
    process = getattr(getattr(kernel.km, "provisioner", None), "process", None)
    code = getattr(process, "returncode", None) if process is not None else None
    if process is not None and code is None:
        with contextlib.suppress(Exception):
            code = process.poll()
    return code if isinstance(code, int) else None
