"""The inline executor: runs jobs in the scheduler's own thread, for debugging and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbsched.executors.base import BaseExecutor, execute

if TYPE_CHECKING:
    from nbsched.abc import RunContext
    from nbsched.job import Job

__all__ = ["DebugExecutor"]


class DebugExecutor(BaseExecutor):
    """Runs each job immediately, in the calling thread, before ``submit_job`` returns."""

    def submit_runs(self, job: Job, contexts: list[RunContext]) -> None:
        for context in contexts:
            execute(context)
