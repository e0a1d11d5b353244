"""A run context for a run carried out away from its scheduler (a worker process, a cluster node).

The executor keeps the scheduler's own context in the scheduler's process (started at submission, finished when
the result comes back) and sends the work with a :class:`DetachedRunContext`, which the task runs under there:
it knows the run (job, fire time, id, output folder) and keeps the outcome for the executor to relay. Progress
reported there is not relayed (yet), and a cancellation reaches the worker only as far as the executor can stop
the remote work.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nbsched.abc import RunContext
from nbsched.outcome import CancelSignal, RunOutcome

if TYPE_CHECKING:
    from nbsched.events import SchedulerEvent
    from nbsched.job import Job

__all__ = ["DetachedRunContext"]


class DetachedRunContext(RunContext):
    """A run's context where its scheduler is not: the wall clock, a folder named by the scheduler's process,
    and the outcome kept in :attr:`outcome`.

    :param job: the job (it crosses the process boundary as its JSON state)
    :param run_time: the run's fire time
    :param run_id: the run's id
    :param jobstore: the job store alias
    :param folder: the run's output folder, as the scheduler's process named it (a shared file system when the
        worker is on another machine)
    """

    def __init__(self, job: Job, run_time: datetime, run_id: str, jobstore: str | None, folder: str) -> None:
        self._job = job
        self._run_time = run_time
        self._run_id = run_id
        self._jobstore = jobstore
        self._folder = folder
        self._cancelled = CancelSignal()
        #: the outcome given to :meth:`finished` (``None`` until then)
        self.outcome: RunOutcome | None = None
        #: the latest progress reported
        self.last_progress: str | None = None

    @property
    def job(self) -> Job:
        return self._job

    @property
    def run_time(self) -> datetime:
        return self._run_time

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def jobstore(self) -> str | None:
        return self._jobstore

    @property
    def cancelled(self) -> CancelSignal:
        return self._cancelled

    def now(self) -> datetime:
        return datetime.now(UTC)

    def started(self) -> bool:
        """The scheduler's context was started at submission: always ``True`` here."""
        return True

    def progress(self, text: str, outputs: Mapping[str, str] | None = None) -> None:
        self.last_progress = text

    def finished(self, outcome: RunOutcome) -> None:
        if self.outcome is None:
            self.outcome = outcome

    def dispatch(self, event: SchedulerEvent) -> None:
        """Events stay here: only the outcome is relayed."""

    def output_folder(self) -> Path:
        """The folder the scheduler's process named (created here if this machine lacks it)."""
        folder = Path(self._folder)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder
