"""The scheduler of an IPython kernel, as ``%load_ext nbsched`` sets it up (once per kernel).

The kernel uses this process's :func:`~nbsched.default_scheduler` (a background scheduler over the shared
default store, shut down cleanly when the process exits) and adds to it, for as long as the extension is loaded:

- a ``"kernel"`` job store in memory: kernel-mode jobs (``Cell(mode="kernel")``) live there and end with the
  kernel, as they run in its namespace;
- a ``"kernel"`` executor (:class:`~nbsched.executors.kernel.KernelExecutor`) that runs them on this shell.

Everything else (notebooks, headless cells, functions) goes to the shared store, where other kernels, the
Jupyter server and ``nbsched serve`` see it too; each fire still runs exactly once.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from nbsched.executors.kernel import KernelExecutor
from nbsched.schedulers.background import BackgroundScheduler

__all__ = ["KERNEL_STORE", "SHARED_STORE", "KernelSession", "close_session", "current_session", "open_session"]

#: alias of the in-memory job store of kernel-mode jobs
KERNEL_STORE = "kernel"
#: alias of the shared (default) job store
SHARED_STORE = "default"

_lock = threading.Lock()
_session: KernelSession | None = None


class KernelSession:
    """A scheduler with this kernel's memory store and executor attached.

    :param shell: the IPython shell
    :param scheduler: the scheduler to attach to (default: :func:`nbsched.default_scheduler`, started)
    """

    def __init__(self, shell: Any, scheduler: BackgroundScheduler | None = None) -> None:
        if scheduler is None:
            from nbsched.default import default_scheduler

            scheduler = default_scheduler()
        self.shell = shell
        self.scheduler = scheduler
        if KERNEL_STORE not in scheduler.jobstore_aliases():
            from nbsched.jobstores.memory import MemoryJobStore

            scheduler.add_jobstore(MemoryJobStore(), KERNEL_STORE)
        existing = scheduler.get_executor("kernel")
        if isinstance(existing, KernelExecutor) and existing.shell is shell:
            self.executor = existing
        else:
            if existing is not None:
                scheduler.remove_executor("kernel")
            self.executor = KernelExecutor(shell)
            scheduler.add_executor(self.executor, "kernel")

    def close(self) -> None:
        """Detach: kernel-mode jobs end, the shared scheduler goes on (it stops when the process exits)."""
        scheduler = self.scheduler
        with contextlib.suppress(LookupError):
            scheduler.remove_all_jobs(KERNEL_STORE)
        with contextlib.suppress(LookupError):
            scheduler.remove_jobstore(KERNEL_STORE)
        with contextlib.suppress(LookupError):
            scheduler.remove_executor("kernel", shutdown=False)
        self.executor.shutdown(wait=False)

    def parent_header(self) -> dict[str, Any] | None:
        """The header of the request being executed now (the cell running a magic), when the shell has one."""
        getter = getattr(self.shell, "get_parent", None)
        header = getter() if getter is not None else None
        return dict(header) if isinstance(header, dict) and header.get("msg_id") else None

    def cell_id(self) -> str | None:
        """The front end's id of the cell being executed (JupyterLab sends it), when known."""
        kernel = getattr(self.shell, "kernel", None)
        getter = getattr(kernel, "get_parent", None)
        if getter is None:
            return None
        with contextlib.suppress(Exception):
            parent = getter("shell")
            cell_id = (parent.get("metadata") or {}).get("cellId") or (parent.get("content") or {}).get("cell_id")
            return cell_id if isinstance(cell_id, str) and cell_id else None
        return None


def open_session(shell: Any, scheduler: BackgroundScheduler | None = None) -> KernelSession:
    """The kernel's session, created on the first call (``%load_ext nbsched``)."""
    global _session
    with _lock:
        if _session is None or _session.shell is not shell:
            if _session is not None:
                _session.close()
            _session = KernelSession(shell, scheduler)
        return _session


def close_session() -> None:
    """End the kernel's session (``%unload_ext nbsched``)."""
    global _session
    with _lock:
        if _session is not None:
            _session.close()
            _session = None


def current_session() -> KernelSession | None:
    """The kernel's session, if the extension is loaded."""
    return _session
