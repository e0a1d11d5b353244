"""The executors, job stores and listeners a scheduler holds: adding and removing them, looking them up, and
dispatching events to the listeners (APScheduler 3's API for them).

A piece of :class:`~nbsched.schedulers.base.BaseScheduler` (see :mod:`nbsched.schedulers._core`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from nbsched.abc import Executor, JobStore
from nbsched.events import (
    EVENT_ALL,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
    JobExecutionEvent,
    SchedulerEvent,
)
from nbsched.exceptions import ConfigurationError, InvalidArgumentError, PluginLookupError
from nbsched.schedulers import _config
from nbsched.schedulers._core import STATE_STOPPED, SchedulerCore

__all__ = ["PartsAPI"]

_RUN_OUTCOMES = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED


class PartsAPI(SchedulerCore):
    """add/remove_executor, add/remove_jobstore, add/remove_listener, add/remove_store_listener, and the lookups
    and event dispatch the other pieces use."""

    _listeners: list[tuple[Callable[[Any], Any], int]]
    _listeners_lock: threading.RLock
    _store_listeners: list[Callable[[str], Any]]

    # ------------------------------------------------------------------------------- executors, job stores
    def add_executor(self, executor: Executor | str, alias: str = "default", **executor_opts: Any) -> None:
        """Add an executor, given as an instance or a plugin alias with its options.

        :raises ValueError: if there is already an executor by that alias
        """
        with self._executors_lock:
            if alias in self._executors:
                raise ConfigurationError(type(self).__name__, "executor alias", alias, "is already in use")
            instance = _config.create_plugin(
                type(self).__name__, "executor", alias, _plugin_arg(executor, executor_opts)
            )
            self._executors[alias] = instance
            if (self.state != STATE_STOPPED or self._starting) and not self.manage_only:
                instance.start(self, alias)
        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_ADDED, alias))

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        """Remove the executor by that alias (shutting it down by default)."""
        with self._executors_lock:
            executor = self._lookup_executor(alias)
            del self._executors[alias]
        if shutdown:
            executor.shutdown()
        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_REMOVED, alias))

    def add_jobstore(self, jobstore: JobStore | str, alias: str = "default", **jobstore_opts: Any) -> None:
        """Add a job store, given as an instance or a plugin alias with its options.

        :raises ValueError: if there is already a job store by that alias
        """
        with self._jobstores_lock:
            if alias in self._jobstores:
                raise ConfigurationError(type(self).__name__, "job store alias", alias, "is already in use")
            store = _config.create_plugin(type(self).__name__, "jobstore", alias, _plugin_arg(jobstore, jobstore_opts))
            self._jobstores[alias] = store
            if self.state != STATE_STOPPED:
                store.start(self, alias)
        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_ADDED, alias))
        if self.state != STATE_STOPPED:
            self.wakeup()

    def remove_jobstore(self, alias: str, shutdown: bool = True) -> None:
        """Remove the job store by that alias (shutting it down by default)."""
        with self._jobstores_lock:
            store = self._lookup_jobstore(alias)
            del self._jobstores[alias]
        if shutdown:
            store.shutdown()
        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_REMOVED, alias))

    # ------------------------------------------------------------------------------------------- listeners
    def add_listener(self, callback: Callable[[Any], Any], mask: int = EVENT_ALL) -> None:
        """Call ``callback(event)`` for every event whose code is in ``mask``.

        :param callback: any callable that takes one argument (the event)
        :param mask: the ``EVENT_*`` codes to listen to, ORed together
        :raises InvalidArgumentError: for a callback that is not callable or a mask that is not an int (nothing
            is added)
        """
        # Checked before adding: a bad listener kept in the list would break every later event.
        if not callable(callback):
            raise InvalidArgumentError("add_listener", "callback", callback, "must be callable")
        if isinstance(mask, bool) or not isinstance(mask, int):
            raise InvalidArgumentError(
                "add_listener", "mask", mask, "must be an int (EVENT_* codes ORed together, e.g. EVENT_JOB_ERROR)"
            )
        with self._listeners_lock:
            self._listeners.append((callback, mask))
            self._listener_mask |= mask

    def remove_listener(self, callback: Callable[[Any], Any]) -> None:
        """Remove a previously added listener (every registration of it)."""
        with self._listeners_lock:
            self._listeners = [(cb, mask) for cb, mask in self._listeners if cb != callback]
            self._listener_mask = 0
            for _, mask in self._listeners:
                self._listener_mask |= mask

    def add_store_listener(self, callback: Callable[[str], Any]) -> None:
        """Call ``callback(alias)`` from the scheduler's thread when a processing pass finds that job store
        ``alias`` was written since the previous pass (jobs or runs, by any process or connection: see
        :meth:`~nbsched.abc.JobStore.changed_since_last_check`; SQLite stores are asked about once a second).
        Views of a shared store (the widget panel) refresh on it instead of polling."""
        with self._listeners_lock:
            self._store_listeners.append(callback)

    def remove_store_listener(self, callback: Callable[[str], Any]) -> None:
        """Remove a callback added with :meth:`add_store_listener` (every registration of it)."""
        with self._listeners_lock:
            self._store_listeners = [cb for cb in self._store_listeners if cb != callback]

    def _dispatch_event(self, event: SchedulerEvent) -> None:
        if event.code & _RUN_OUTCOMES and isinstance(event, JobExecutionEvent):
            self._job_finished(event)
            waiting = self._waiting.jobs
            if waiting and event.job_id in waiting:
                self.wakeup()  # a run of the job ended: its missed fires waiting for it go now
        if not event.code & self._listener_mask:
            return
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for callback, mask in listeners:
            if event.code & mask:
                try:
                    callback(event)
                except BaseException:
                    self._logger.exception("Error notifying listener")

    def _lookup_executor(self, alias: str) -> Executor:
        try:
            return self._executors[alias]
        except KeyError:
            if alias not in self._AUTO_EXECUTORS:
                raise PluginLookupError("executor", alias, list(self._executors)) from None
        with self._executors_lock:
            if alias not in self._executors:
                self.add_executor(alias, alias)
            return self._executors[alias]

    def _lookup_jobstore(self, alias: str) -> JobStore:
        try:
            return self._jobstores[alias]
        except KeyError:
            raise PluginLookupError("job store", alias, list(self._jobstores)) from None


def _plugin_arg(value: Any, options: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return {"type": value, **options}
    return value
