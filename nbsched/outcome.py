"""What a run ended with (:class:`RunOutcome`) and how it is told to stop (:class:`CancelSignal`).

Both are plain data shared by the executors, the task kinds and the scheduler's run contexts (see
:class:`nbsched.abc.RunContext`). An outcome maps onto APScheduler's event of the run, so listeners see exactly
the events they saw before run contexts existed:

========================  ===================  ===========================
status                    event code           event fields
========================  ===================  ===========================
``succeeded``             EVENT_JOB_EXECUTED   ``retval``
``failed``                EVENT_JOB_ERROR      ``exception``, ``traceback``
``missed``                EVENT_JOB_MISSED     (none)
``cancelled``             EVENT_JOB_MISSED     (none: it did not run)
========================  ===================  ===========================
"""

from __future__ import annotations

import threading
import traceback as tb_module
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent

__all__ = ["CancelSignal", "OutcomeStatus", "RunOutcome"]


class OutcomeStatus(StrEnum):
    """How a run ended, as its executor saw it (the run record may say more: ``timed_out``, ``lost``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


_CODES = {
    OutcomeStatus.SUCCEEDED: EVENT_JOB_EXECUTED,
    OutcomeStatus.FAILED: EVENT_JOB_ERROR,
    OutcomeStatus.MISSED: EVENT_JOB_MISSED,
    OutcomeStatus.CANCELLED: EVENT_JOB_MISSED,
}
_STATUSES = {EVENT_JOB_EXECUTED: OutcomeStatus.SUCCEEDED, EVENT_JOB_ERROR: OutcomeStatus.FAILED}


@attrs.frozen(kw_only=True)
class RunOutcome:
    """The end of one run, handed to :meth:`nbsched.abc.RunContext.finished`.

    :ivar status: succeeded, failed, missed (past ``misfire_grace_time``) or cancelled (before it started)
    :ivar retval: what the job returned (``succeeded``); a notebook run's result carries its ``outputs``
    :ivar exception: what it raised (``failed``); may carry ``run_status`` (``"timed_out"``), ``outputs`` and
        ``cell_index`` for the run record, as :class:`~nbsched.exceptions.NotebookRunError` does
    :ivar traceback: the formatted traceback (``failed``), already scrubbed of the job's secrets
    """

    status: OutcomeStatus
    retval: Any = None
    exception: BaseException | None = None
    traceback: str | None = None

    @classmethod
    def succeeded(cls, retval: Any = None) -> RunOutcome:
        """The job returned ``retval``."""
        return cls(status=OutcomeStatus.SUCCEEDED, retval=retval)

    @classmethod
    def failed(cls, exception: BaseException, traceback: str | None = None) -> RunOutcome:
        """The job raised ``exception`` (``traceback``: its text; default: formatted from the exception)."""
        if traceback is None:
            traceback = "".join(tb_module.format_tb(exception.__traceback__))
        return cls(status=OutcomeStatus.FAILED, exception=exception, traceback=traceback)

    @classmethod
    def missed(cls) -> RunOutcome:
        """The run was not started: it was later than the job's ``misfire_grace_time``."""
        return cls(status=OutcomeStatus.MISSED)

    @classmethod
    def cancelled(cls) -> RunOutcome:
        """The run was not started: it was cancelled first."""
        return cls(status=OutcomeStatus.CANCELLED)

    def event(self, job_id: str, jobstore: str | None, run_time: datetime) -> JobExecutionEvent:
        """APScheduler's event of this outcome (see the module docstring)."""
        return JobExecutionEvent(
            _CODES[self.status],
            job_id,
            jobstore,
            run_time,
            retval=self.retval,
            exception=self.exception,
            traceback=self.traceback,
        )

    @classmethod
    def from_event(cls, event: JobExecutionEvent) -> RunOutcome:
        """The outcome an APScheduler-style executor's event reports (``EVENT_JOB_MISSED``: ``missed``)."""
        status = _STATUSES.get(event.code, OutcomeStatus.MISSED)
        return cls(status=status, retval=event.retval, exception=event.exception, traceback=event.traceback)


# Guards every CancelSignal's state. Shared: a signal is touched only when a run is cancelled or watched, and
# one lock made per run (with an Event, made only when someone waits) would cost every run its creation.
_SIGNALS_LOCK = threading.Lock()


class CancelSignal:
    """Set once when a run is cancelled; readable and waitable from any thread.

    Like :class:`threading.Event` (:meth:`is_set`, :meth:`wait`), plus the :attr:`reason` and callbacks for
    code that must act when it is set (interrupt a kernel, cancel a future).
    """

    __slots__ = ("_callbacks", "_event", "reason")

    def __init__(self) -> None:
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[str], Any]] | None = None
        #: why the run was cancelled (``None`` until it is)
        self.reason: str | None = None

    def set(self, reason: str = "cancelled") -> None:
        """Cancel (the first reason is kept); the callbacks run in the calling thread, once."""
        with _SIGNALS_LOCK:
            if self.reason is not None:
                return
            self.reason = reason
            callbacks, self._callbacks = self._callbacks or [], None
            event = self._event
        if event is not None:
            event.set()
        for callback in callbacks:
            callback(reason)

    def is_set(self) -> bool:
        """Whether the run was cancelled."""
        return self.reason is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until cancelled or ``timeout`` real seconds passed; whether it was cancelled."""
        with _SIGNALS_LOCK:
            if self.reason is not None:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)

    def add_callback(self, callback: Callable[[str], Any]) -> None:
        """Call ``callback(reason)`` when cancelled (at once, in this thread, if it is already)."""
        with _SIGNALS_LOCK:
            reason = self.reason
            if reason is None:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        callback(reason)

    def __bool__(self) -> bool:
        return self.is_set()

    def __repr__(self) -> str:
        return f"<CancelSignal {'set: ' + repr(self.reason) if self.is_set() else 'not set'}>"
