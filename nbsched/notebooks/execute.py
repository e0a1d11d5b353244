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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from nbsched.exceptions import JobArgumentError, NbschedError, NotebookRunError  # re-exported: its old home
from nbsched.notebooks import parameters as params
from nbsched.notebooks.kernels import (
    KernelPool,
    StartedKernel,
    change_directory,
    check_kernel_name,
    connect_client,
    start_kernel,
    stop_kernel,
    unknown_kernel_error,
)
from nbsched.notebooks.outputs import RunOutputs, add_error_banner, remove_error_markers, written
from nbsched.notebooks.scrub import RunScrubber

__all__ = [
    "CancelToken",
    "NotebookResult",
    "NotebookRunError",
    "RunSpec",
    "content_hash",
    "run_notebook",
    "run_notebook_async",
]

_logger = logging.getLogger("nbsched.notebooks")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: seconds a cell runs before the output notebook is saved mid-cell (then every AUTOSAVE_EVERY seconds)
FIRST_AUTOSAVE = 1.0
AUTOSAVE_EVERY = 30.0

ProgressCallback = Callable[[str, dict[str, str]], None]


@attrs.frozen(kw_only=True)
class NotebookResult:
    """What a successful run returns (the job's return value).

    :ivar outputs: output kind -> path (``ipynb``, ``html``, ``stdout``, ``stderr``, ``kernel_log``)
    :ivar input_sha256: content hash of the notebook (or cell source) that ran
    :ivar cells: number of cells in the executed notebook
    :ivar duration: seconds from the first cell to the last
    :ivar kernel_id: id of the kernel that ran it (never reused)
    :ivar warm_kernel: whether that kernel was started ahead of the run (by the pool)
    :ivar warnings: the outputs that could not be written, and why (``outputs`` lists only those that exist)
    """

    outputs: dict[str, str]
    input_sha256: str
    cells: int
    duration: float
    kernel_id: str
    warm_kernel: bool = False
    warnings: tuple[str, ...] = ()


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(kw_only=True)
class RunSpec:
    """Everything one run needs besides the notebook itself.

    :ivar name: base name of the output files
    :ivar input_path: shown in ``metadata.papermill.input_path``
    :ivar input_sha256: hash of the input, recorded in the outputs
    :ivar parameters: values for the injected cell (checked against the ``parameters`` cell)
    :ivar kernel_name: kernelspec name (``None``: the notebook's, else ``python3``)
    :ivar cwd: working folder of the kernel
    :ivar timeout: seconds for the whole run (``None``: no limit)
    :ivar cell_timeout: seconds for each cell (``None``: no limit)
    :ivar startup_timeout: seconds for the kernel to start
    :ivar interrupt_grace: seconds between interrupting a timed-out kernel and killing it
    :ivar formats: renderings besides the notebook (``html``)
    :ivar metadata: extra ``metadata.nbsched`` entries (job and run ids)
    :ivar owner: the spec it came from (``Notebook``, ``Cell``), named in errors about its options
    :ivar secret_parameters: names among ``parameters`` whose values the kernel gets but nothing written shows
        (those secret by their name are too; see :mod:`nbsched.notebooks.scrub`)
    """

    name: str
    input_path: str
    input_sha256: str
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    kernel_name: str | None = None
    cwd: Path
    timeout: float | None = None
    cell_timeout: float | None = None
    startup_timeout: float = 60.0
    interrupt_grace: float = 5.0
    formats: tuple[str, ...] = ("ipynb", "html")
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    owner: str = "Notebook"
    secret_parameters: tuple[str, ...] = attrs.field(default=(), converter=_names)


class CancelToken:
    """Stops a run from another thread: :meth:`cancel` interrupts the cell the kernel is running and kills the
    kernel if the cell has not stopped ``interrupt_grace`` seconds later; a run not started yet does not start.
    The run ends with a :class:`NotebookRunError` whose ``run_status`` is ``"cancelled"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        #: why the run was cancelled (``None``: it was not)
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the run to stop (from any thread; later calls keep the first reason)."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the run's loop has closed: the run is over
                loop.call_soon_threadsafe(event.set)

    def _event(self) -> asyncio.Event:
        """An event of the running loop, set when the run is cancelled (call on the run's loop)."""
        event = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), event))
            if self.reason is not None:
                event.set()
        return event


def cell_number(cell_index: int) -> int:
    """The number people see for the cell at ``cell_index`` (counted from 1; see the module docstring)."""
    return cell_index + 1


def content_hash(data: bytes | str) -> str:
    """SHA-256 of a notebook's bytes (or a cell's source), hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


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
        "start_time": _now(),
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
    run = _Run(nb, spec, outputs, paths, cancel, scrub)
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


class _Run:
    """The cell loop of one run and its bookkeeping (papermill's execution manager, in short)."""

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
        if self.error is None:
            evalue, tb = self.scrub.text(evalue), self.scrub.text(tb)
            self.error = NotebookRunError(ename, evalue, cell_index, self.paths, status, tb, self.spec.input_sha256)

    async def cells(self, kernel: StartedKernel, client: Any, progress: ProgressCallback) -> None:
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
            meta["start_time"], meta["status"], meta["exception"] = _now(), "running", False
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
        meta["end_time"] = _now()
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
        cancelled = asyncio.ensure_future(self.cancel._event().wait()) if self.cancel is not None else None
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
        meta["end_time"] = _now()
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
