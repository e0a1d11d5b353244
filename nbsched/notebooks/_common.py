"""What notebook and cell tasks share: their run options, and running under a run context."""

from __future__ import annotations

import os
import traceback
from abc import abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from nbsched.abc import RunContext, Task
from nbsched.exceptions import JobArgumentError
from nbsched.notebooks._fields import (
    OUTPUT_FORMATS,
    _absolute,
    _check_bool,
    _check_formats,
    _check_optional_str,
    _check_seconds,
    _formats,
    _optional_path,
    _seconds,
)
from nbsched.notebooks.paths import resolve_within
from nbsched.outcome import RunOutcome

if TYPE_CHECKING:
    pass

__all__ = ["NotebookTaskBase"]


@attrs.frozen(kw_only=True)
class NotebookTaskBase(Task):
    """Options shared by notebooks and headless cells, and how they run under a run context."""

    kernel_name: str | None = attrs.field(default=None, validator=_check_optional_str())
    #: seconds for the whole run (interrupt, then kill when passed; the run is ``timed_out``)
    timeout: float | None = attrs.field(default=None, converter=_seconds, validator=_check_seconds())
    #: seconds for each cell
    cell_timeout: float | None = attrs.field(default=None, converter=_seconds, validator=_check_seconds())
    #: working folder of the kernel, relative to ``root`` (default: the notebook's folder; for a cell, ``root``)
    cwd: str | None = attrs.field(default=None, converter=_optional_path, validator=_check_optional_str())
    output_formats: tuple[str, ...] = attrs.field(
        default=OUTPUT_FORMATS, converter=_formats, validator=_check_formats()
    )
    #: whether a timed-out run is retried (when the job has ``retries``)
    retry_on_timeout: bool = attrs.field(default=False, validator=_check_bool())
    #: the folder the notebook, its working folder and anything it names must stay in (default: current folder)
    root: str = attrs.field(factory=lambda: str(Path.cwd()), converter=_absolute)
    startup_timeout: float = attrs.field(default=60.0, converter=_seconds, validator=_check_seconds())
    #: seconds between interrupting a timed-out kernel and killing it
    interrupt_grace: float = attrs.field(default=5.0, converter=_seconds, validator=_check_seconds())

    def retries_timeouts(self) -> bool:
        """:attr:`retry_on_timeout`."""
        return self.retry_on_timeout

    def _root(self) -> Path:
        return Path(self.root).resolve()

    def _common_state(self) -> dict[str, Any]:
        return {
            "kernel_name": self.kernel_name,
            "timeout": self.timeout,
            "cell_timeout": self.cell_timeout,
            "cwd": self.cwd,
            "output_formats": list(self.output_formats),
            "retry_on_timeout": self.retry_on_timeout,
            "root": self.root,
            "startup_timeout": self.startup_timeout,
            "interrupt_grace": self.interrupt_grace,
        }

    def _check_cwd(self, owner: str) -> None:
        if self.cwd is not None:
            folder = resolve_within(self._root(), self.cwd, owner, "cwd")
            # os.path's checks say False for a name the system refuses (too long, NUL); Path's raise OSError.
            if not os.path.isdir(folder):
                raise JobArgumentError(owner, "cwd", self.cwd, "is not an existing folder")

    def _check_kernel(self, owner: str) -> None:
        # Only when a person makes the spec: a stored job may be loaded on a machine with other kernels than
        # the one that scheduled it (its run then fails with the same message, see execute.py).
        if self.kernel_name is not None:
            from nbsched.notebooks.kernels import check_kernel_name

            check_kernel_name(owner, "kernel_name", self.kernel_name)

    def validate(self, job_id: str, owner: str = "add_job") -> None:
        """The job id must name the run's output folder."""
        from nbsched.paths import folder_name_problem

        problem = folder_name_problem(job_id)
        if problem:
            raise JobArgumentError(
                owner, "id", job_id, f"{problem}: notebook and cell runs keep their outputs in a folder named so"
            )

    @abstractmethod
    def run_into(
        self,
        folder: Path,
        *,
        pool: Any = None,
        on_progress: Callable[[str, dict[str, str]], None] | None = None,
        on_started: Callable[[], None] | None = None,
        metadata: Mapping[str, Any] | None = None,
        cancel: Any = None,
    ) -> Any:
        """Run into ``folder``, blocking (the form before run contexts; see the subclass)."""

    def _run_options(self, context: RunContext) -> dict[str, Any]:
        """More keyword arguments of :meth:`run_into` for a run under ``context`` (none by default)."""
        return {}

    def run(self, context: RunContext | Path, **resources: Any) -> Any:
        """Run once under a run context (the executors' entry, see :class:`~nbsched.abc.Task`) and return its
        :class:`~nbsched.outcome.RunOutcome`: outputs in the context's folder, progress ("cell 7/23") and
        cancellation through it. A ``Cell(mode="kernel")`` runs in its kernel, on the kernel executor, not here.

        :param resources: ``pool``, the executor's warm :class:`~nbsched.notebooks.kernels.KernelPool`
        Given a folder instead of a context, it is :meth:`run_into` (the form before run contexts).
        """
        if not isinstance(context, RunContext):
            return self.run_into(context, **resources)
        from nbsched.masking import format_exception
        from nbsched.notebooks.execute import CancelToken, NotebookRunError

        pool = resources.get("pool")
        options = self._run_options(context)
        job, logger = context.job, context.logger
        token = CancelToken()
        # The run's own error says "cancelled"; the reason given is the run record's error message.
        context.cancelled.add_callback(lambda reason: token.cancel("cancelled"))
        logger.info('Running job "%s" (scheduled at %s)', job, context.run_time)
        try:
            result = self.run_into(
                context.output_folder(),
                pool=pool,
                on_progress=context.progress,
                metadata=context.metadata(),
                cancel=token,
                **options,
            )
        except NotebookRunError as exc:
            # Its message and traceback were scrubbed of the task's secrets by the run; the job's name may hold
            # some too (one an older nbsched gave it).
            logger.warning("%s", context.masker.text(f'Job "{job}" failed: {exc}'))
            return RunOutcome.failed(exc, exc.traceback_text or str(exc))
        except Exception as exc:
            masker = context.masker
            logger.error("%s", format_exception(exc, masker, f'Job "{job}" raised an exception'))
            return RunOutcome.failed(exc, masker.text("".join(traceback.format_exception(exc))))
        logger.info('Job "%s" executed successfully', job)
        return RunOutcome.succeeded(result)


def _common_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "kernel_name",
        "timeout",
        "cell_timeout",
        "cwd",
        "output_formats",
        "retry_on_timeout",
        "root",
        "startup_timeout",
        "interrupt_grace",
    )
    return {key: state[key] for key in keys if key in state}
