"""A function reference as a :class:`~nbsched.abc.Task`, and running a function under a run context.

A function job keeps APScheduler's shape (``job.func``, ``job.args``, ``job.kwargs``, ``job.func_ref``) and is
stored as its reference, as before; :class:`FunctionTask` is the task view of it that ``job.task`` builds, so
executors and faces treat every job alike. :func:`call` and :func:`call_async` run a function once under a
:class:`~nbsched.abc.RunContext`, logging as APScheduler 3 does and scrubbing the job's secrets from what is
logged and recorded.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from nbsched import jsonstate
from nbsched.abc import RunContext, Task, TaskSummary
from nbsched.exceptions import SerializationError
from nbsched.outcome import OutcomeStatus, RunOutcome
from nbsched.refs import callable_name, check_callable_args, ref_problem, ref_to_obj

if TYPE_CHECKING:
    from types import TracebackType

    from nbsched.job import Job
    from nbsched.masking import Masker

__all__ = ["FunctionTask", "call", "call_async", "job_traceback", "log_job_exception"]

_SUCCEEDED = OutcomeStatus.SUCCEEDED
#: version of the JSON state written by :meth:`FunctionTask.to_dict`
STATE_VERSION = 1


def log_job_exception(logger: logging.Logger, job: Job, exc: BaseException) -> Masker:
    """Log that ``job`` raised ``exc``, with the traceback, as APScheduler does; when the job has secret parameters
    (see :mod:`nbsched.masking`) the traceback is formatted here and logged scrubbed of their values.

    :return: the job's masker, for scrubbing what else is recorded about the failure
    """
    from nbsched.masking import Masker, format_exception

    masker = Masker.for_jobs([job])
    if masker:
        logger.error("%s", format_exception(exc, masker, f'Job "{job}" raised an exception'))
    else:
        logger.error('Job "%s" raised an exception', job, exc_info=exc)
    return masker


def job_traceback(logger: logging.Logger, job: Job, exc: BaseException, tb: TracebackType | None) -> str:
    """Log that ``job`` raised ``exc`` (:func:`log_job_exception`) and return the traceback text ``tb`` to record,
    scrubbed of the job's secret parameter values."""
    masker = log_job_exception(logger, job, exc)
    formatted = "".join(traceback.format_tb(tb))
    if masker:
        formatted = masker.text(formatted) or ""
    return formatted


def _failed(context: RunContext, logger: logging.Logger) -> RunOutcome:
    exc, tb = sys.exc_info()[1:]
    assert exc is not None
    formatted = job_traceback(logger, context.job, exc, tb)
    traceback.clear_frames(tb)
    return RunOutcome.failed(exc, formatted)


def call(context: RunContext, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RunOutcome:
    """Call ``func(*args, **kwargs)`` once for ``context``'s run; its exceptions (``BaseException`` too, as in
    APScheduler) become a failed outcome."""
    logger = context.logger
    job = context.job
    if logger.isEnabledFor(logging.INFO):
        logger.info('Running job "%s" (scheduled at %s)', job, context.run_time)
    try:
        retval = func(*args, **kwargs)
    except BaseException:
        return _failed(context, logger)
    if logger.isEnabledFor(logging.INFO):
        logger.info('Job "%s" executed successfully', job)
    return RunOutcome(status=_SUCCEEDED, retval=retval)


async def call_async(
    context: RunContext, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RunOutcome:
    """The coroutine counterpart of :func:`call`: awaits ``func(*args, **kwargs)``."""
    logger = context.logger
    logger.info('Running job "%s" (scheduled at %s)', context.job, context.run_time)
    try:
        retval = await func(*args, **kwargs)
    except BaseException:
        return _failed(context, logger)
    logger.info('Job "%s" executed successfully', context.job)
    return RunOutcome.succeeded(retval)


@attrs.frozen(kw_only=True)
class FunctionTask(Task):
    """A function (or any callable) called with arguments: what a job made from a callable or a
    ``"module:function"`` reference runs. Built on demand by ``job.task``; the job stores the reference itself.

    :ivar func: the callable
    :ivar func_ref: its ``module:qualname`` reference (``None``: it has none, memory store only)
    :ivar args: positional arguments
    :ivar kwargs: keyword arguments
    """

    task_type: ClassVar[str] = "function"

    func: Callable[..., Any]
    func_ref: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "function", "version": 1, "func": ref, "args": [...], "kwargs": {...}}``.

        :raises SerializationError: when the callable has no reference another process can load
        """
        problem = ref_problem(self.func_ref) if self.func_ref is not None else "it has no module:qualname reference"
        if problem is not None:
            raise SerializationError("FunctionTask", "func", self.func_ref or self.func, problem)
        return {
            "type": self.task_type,
            "version": STATE_VERSION,
            "func": self.func_ref,
            "args": jsonstate.encode(list(self.args), "FunctionTask", "args"),
            "kwargs": jsonstate.encode(dict(self.kwargs), "FunctionTask", "kwargs"),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> FunctionTask:
        """Rebuild from :meth:`to_dict` output, importing the function."""
        version = state.get("version")
        if not isinstance(version, int) or version > STATE_VERSION:
            raise SerializationError(
                "FunctionTask", "version", version, f"is not supported (this nbsched reads up to {STATE_VERSION})"
            )
        ref = state.get("func")
        if not isinstance(ref, str):
            raise SerializationError("FunctionTask", "func", ref, "is not a module:qualname reference")
        return cls(
            func=ref_to_obj(ref),
            func_ref=ref,
            args=tuple(jsonstate.decode(state.get("args", []))),
            kwargs=jsonstate.decode(state.get("kwargs", {})),
        )

    def describe(self) -> str:
        """The callable's qualified name."""
        return callable_name(self.func)

    def summary(self) -> TaskSummary:
        """``("function", "module:qualname")`` with the keyword arguments as parameters."""
        return TaskSummary(kind="function", target=self.func_ref or self.describe(), parameters=dict(self.kwargs))

    def validate(self, job_id: str, owner: str = "add_job") -> None:
        """The arguments must bind to the callable's signature (no folder: a function writes none)."""
        check_callable_args(self.func, self.args, self.kwargs, owner)

    def run(self, context: RunContext, **resources: Any) -> RunOutcome:
        """Call the function once (see :func:`call`)."""
        return call(context, self.func, self.args, self.kwargs)

    def __call__(self) -> Any:
        """Call the function now, in this thread."""
        return self.func(*self.args, **self.kwargs)
