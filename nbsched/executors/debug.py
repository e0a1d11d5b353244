"""The inline executor: runs jobs in the scheduler's own thread, for debugging and tests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from nbsched.executors.base import BaseExecutor, run_job

if TYPE_CHECKING:
    from nbsched.job import Job

__all__ = ["DebugExecutor"]


class DebugExecutor(BaseExecutor):
    """Runs each job immediately, in the calling thread, before ``submit_job`` returns."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        try:
            events = run_job(
                job, job._jobstore_alias, run_times, self._logger.name, self._clock_now(), self._on_start()
            )
        except BaseException as exc:
            self._run_job_error(job.id, exc)
        else:
            self._run_job_success(job.id, events)
