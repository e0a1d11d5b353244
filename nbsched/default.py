"""The process-wide scheduler over the default store, for notebooks, the magics and the CLI."""

from __future__ import annotations

import atexit
import threading
from typing import Any

from nbsched.schedulers.background import BackgroundScheduler

__all__ = ["default_scheduler"]

_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def default_scheduler(start: bool = True, **options: Any) -> BackgroundScheduler:
    """The background scheduler of this process over the default SQLite store (created on first call).

    Every process that calls it (kernels, ``nbsched serve``, the Jupyter server) shares the same store, and
    each fire still runs exactly once. Jobs must be importable functions (``module:qualname``) or notebook/cell
    tasks; they persist across restarts.

    :param start: start the scheduler if it is not running yet
    :param options: scheduler options for the first call (``timezone``, ``executors``, ``keep_runs``...)
    """
    global _scheduler
    with _lock:
        if _scheduler is None:
            from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

            options.setdefault("jobstores", {"default": SQLAlchemyJobStore()})
            _scheduler = BackgroundScheduler(**options)
            atexit.register(_shutdown)
        if start and not _scheduler.running:
            _scheduler.start()
        return _scheduler


def _shutdown() -> None:
    if _scheduler is not None and _scheduler.running:
        _scheduler.shutdown(wait=True)
