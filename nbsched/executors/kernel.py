"""The kernel executor: runs ``Cell(mode="kernel")`` jobs in the live namespace of the IPython kernel that owns it.

Runs are serialised with the user's own cells: a job never starts while a cell executes, and a cell sent while a
job runs waits for it.

- In a Jupyter kernel (ipykernel) a run is handed to the kernel's own event loop (``kernel.io_loop``), so it
  runs on the kernel's main thread between two shell messages, like a cell would. A synchronous cell blocks
  that loop, so nothing can run in its middle; an ``async`` cell yields to the loop while it awaits, so the
  executor also watches IPython's ``pre_execute``/``post_execute`` events and keeps waiting runs until the cell
  has ended. Its output goes to the cell that scheduled the job: the run's output carries that cell's
  request as its parent header (see :meth:`KernelExecutor.set_home`), which is how front ends route output.
- In a plain IPython shell (a terminal, tests) there is no event loop to hand the run to: it runs in a worker
  thread that holds a lock the shell takes for every cell (from ``pre_execute`` to ``post_execute``).

A run is recorded like any other (status, timings, the error of a failing cell); the cell's own traceback is
shown where its output goes.
"""

from __future__ import annotations

import collections
import contextlib
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any

from nbsched.exceptions import (  # KernelRunError re-exported: its old home
    ExecutorNotRunningError,
    KernelRunError,
    NotInIPythonError,
)
from nbsched.executors.base import BaseExecutor, execute, run_task
from nbsched.notebooks.cell import Cell
from nbsched.outcome import RunOutcome

if TYPE_CHECKING:
    from nbsched.abc import ExecutorHost, RunContext
    from nbsched.job import Job

__all__ = ["CellGate", "KernelExecutor", "KernelRunError"]


class CellGate:
    """Knows whether a cell of ``shell`` is executing, and makes scheduled runs wait for it.

    ``busy`` counts nested cell executions (``pre_execute`` .. ``post_execute``). ``lock`` is held by the
    shell's thread for the length of each cell and by a worker thread for the length of a run (plain shells).
    ``on_idle`` callbacks run on the shell's thread whenever its last cell ended.
    """

    def __init__(self, shell: Any, hold_lock: bool) -> None:
        self.shell = shell
        self.busy = 0
        self.lock = threading.RLock()
        self._hold_lock = hold_lock
        self.on_idle: list[Any] = []
        shell.events.register("pre_execute", self._pre)
        shell.events.register("post_execute", self._post)

    def close(self) -> None:
        """Stop watching the shell."""
        for name, callback in (("pre_execute", self._pre), ("post_execute", self._post)):
            with contextlib.suppress(ValueError):
                self.shell.events.unregister(name, callback)

    def _pre(self) -> None:
        if self._hold_lock:
            self.lock.acquire()  # waits for a run in progress in a worker thread
        self.busy += 1

    def _post(self) -> None:
        self.busy = max(0, self.busy - 1)
        if self._hold_lock:
            with contextlib.suppress(RuntimeError):  # extension loaded mid-cell: this cell never took it
                self.lock.release()
        if not self.busy:
            for callback in tuple(self.on_idle):
                callback()


class KernelExecutor(BaseExecutor):
    """Runs kernel-mode cell jobs in the IPython shell that owns them (see the module docstring).

    :param shell: the IPython shell (default: the current one, ``IPython.get_ipython()``)
    :raises NotInIPythonError: (a ``RuntimeError``) when started outside IPython
    """

    def __init__(self, shell: Any = None) -> None:
        super().__init__()
        self._shell = shell
        self._gate: CellGate | None = None
        self._loop: Any = None
        self._queue: collections.deque[list[RunContext]] = collections.deque()
        self._homes: dict[str, dict[str, Any]] = {}
        self._workers: set[threading.Thread] = set()
        self._stopped = False

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self, scheduler: ExecutorHost, alias: str) -> None:
        super().start(scheduler, alias)
        if self._shell is None:
            from IPython import get_ipython

            self._shell = get_ipython()
        if self._shell is None:
            raise NotInIPythonError("KernelExecutor", "runs kernel-mode cells only inside IPython (no shell found)")
        kernel = getattr(self._shell, "kernel", None)
        self._loop = getattr(kernel, "io_loop", None)
        self._stopped = False
        self._gate = CellGate(self._shell, hold_lock=self._loop is None)
        self._gate.on_idle.append(self._wake)

    def shutdown(self, wait: bool = True) -> None:
        """Drop runs still waiting (the kernel is going away); wait for a worker-thread run in progress."""
        self._stopped = True
        if self._gate is not None:
            self._gate.close()
        dropped = list(self._queue)
        self._queue.clear()
        for contexts in dropped:
            self._drop(contexts)
        if wait:
            for thread in list(self._workers):
                if thread is not threading.current_thread():
                    thread.join()

    @property
    def shell(self) -> Any:
        """The IPython shell runs go to."""
        return self._shell

    def set_home(self, job_id: str, parent: dict[str, Any] | None) -> None:
        """Send the output of ``job_id``'s runs to the request ``parent`` (the header of the execute request
        of the cell that scheduled it); ``None`` forgets it."""
        if parent:
            self._homes[job_id] = dict(parent)
        else:
            self._homes.pop(job_id, None)

    def home(self, job_id: str) -> dict[str, Any] | None:
        """The parent header ``job_id``'s output goes to (``None``: wherever output goes at that moment)."""
        return self._homes.get(job_id)

    # --------------------------------------------------------------------------------------------- running
    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        if self._stopped or self._gate is None:
            raise ExecutorNotRunningError("KernelExecutor", "is not started")
        if self._loop is not None:
            self._queue.append(contexts)
            self._loop.add_callback(self._drain)
        else:
            thread = threading.Thread(target=self._run_locked, args=(contexts,), name="nbsched-kernel")
            thread.daemon = True
            self._workers.add(thread)
            thread.start()

    def _wake(self) -> None:
        # The last cell ended (on the shell's thread): hand waiting runs to the loop again.
        if self._queue and self._loop is not None and not self._stopped:
            self._loop.add_callback(self._drain)

    def _drain(self) -> None:
        """On the kernel's main thread, between shell messages: run what is queued unless a cell is running."""
        gate = self._gate
        while self._queue and gate is not None and not gate.busy and not self._stopped:
            self._run(self._queue.popleft())

    def _run_locked(self, contexts: list[RunContext]) -> None:
        assert self._gate is not None
        try:
            with self._gate.lock:
                if self._stopped:
                    self._drop(contexts)
                    return
                self._run(contexts)
        finally:
            self._workers.discard(threading.current_thread())

    def _run(self, contexts: list[RunContext]) -> None:
        for context in contexts:
            execute(context, self._run_one)

    def _drop(self, contexts: list[RunContext]) -> None:
        """Runs that will not run (the kernel is going away): they no longer count; their records stay as they
        are (the kernel's jobs end with it)."""
        if contexts:
            self._release(contexts[0].job.id)

    def _run_one(self, context: RunContext) -> RunOutcome:
        task = context.job.task
        if not (isinstance(task, Cell) and task.mode == "kernel"):
            # Anything else sent here on purpose (a function): run it in this thread like the debug executor would.
            return run_task(context)
        job = context.job
        context.logger.info('Running job "%s" (scheduled at %s) in the kernel', job, context.run_time)
        try:
            result = self._run_cell(task.source, self._homes.get(job.id))
        except BaseException as exc:  # the shell itself failed (not the cell: run_cell reports that)
            return RunOutcome.failed(exc, "".join(traceback.format_exception(exc)))
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            failure = KernelRunError(type(error).__name__, str(error))
            return RunOutcome.failed(failure, "".join(traceback.format_exception(error)))
        return RunOutcome.succeeded(result.result)

    def _run_cell(self, source: str, home: dict[str, Any] | None) -> Any:
        """Run ``source`` in the shell, its output going to the request ``home`` (when the shell has parents)."""
        shell = self._shell
        set_parent = getattr(shell, "set_parent", None) if home is not None else None
        if set_parent is None:
            return shell.run_cell(source, store_history=False, silent=False)
        saved = shell.get_parent()
        set_parent(home)
        try:
            return shell.run_cell(source, store_history=False, silent=False)
        finally:
            # Buffered output is keyed by its parent, so flushing after switching back still routes it home.
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            set_parent(saved)
