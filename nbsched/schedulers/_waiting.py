"""Missed fire times that wait for their job's running instance instead of being skipped for ``max_instances``.

APScheduler refuses a fire while the job has ``max_instances`` runs going, and so does nbsched for a fire that
came due while they ran. A fire that was due before the running instance was even handed to its executor is
another matter: it was missed because the scheduler (or its store) was late, not because the job was busy. After
a store stall, the claim stuck in the lock hands its run over late, and the catch-up of the fires missed
meanwhile meets that run still going: those fires wait for it here and are submitted again, in order, once a
run of the job ends (one after another, as the executor runs one submission's fire times).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbsched.job import Job

__all__ = ["WaitingFires"]


class WaitingFires:
    """The fire times waiting for a running instance of their job, and when each job's latest instance was
    handed over.

    Changed on the scheduler's thread (its processing pass, under the job stores lock); worker threads only ask
    ``job_id in waiting.jobs`` (a dict lookup, atomic).
    """

    def __init__(self) -> None:
        # job id -> when its latest run was handed to an executor (the scheduler's clock)
        self._handed_over: dict[str, datetime] = {}
        #: job id -> (job, job store alias, fire times oldest first); read it, change it through the methods
        self.jobs: dict[str, tuple[Job, str, list[datetime]]] = {}

    def handed_over(self, job_id: str, at: datetime) -> None:
        """A run of ``job_id`` was handed to its executor at ``at``."""
        self._handed_over[job_id] = at

    def split(self, job_id: str, run_times: list[datetime]) -> tuple[list[datetime], list[datetime]]:
        """The fire times refused for ``max_instances``, as ``(wait, refuse)``: those due by the time the job's
        latest instance was handed over wait for it; those that came due while it ran are refused."""
        since = self._handed_over.get(job_id)
        if since is None:
            return [], run_times
        since = since.astimezone(UTC)  # instants: times sharing a zone compare by wall clock
        wait = [t for t in run_times if t.astimezone(UTC) <= since]
        if not wait:
            return [], run_times
        return wait, [t for t in run_times if t.astimezone(UTC) > since]

    def add(self, job: Job, alias: str, run_times: list[datetime]) -> None:
        """Keep ``run_times`` of ``job`` until a pass submits them again (after the ones already waiting)."""
        found = self.jobs.get(job.id)
        if found is None:
            self.jobs[job.id] = (job, alias, list(run_times))
        else:
            found[2].extend(run_times)

    def take(self) -> list[tuple[Job, str, list[datetime]]]:
        """Every waiting batch, oldest job first; they wait no more (a refused one is added again)."""
        batches = list(self.jobs.values())
        self.jobs.clear()
        return batches

    def clear(self) -> None:
        """Forget everything (the scheduler stopped: its waiting runs are found lost by whoever looks)."""
        self.jobs.clear()
        self._handed_over.clear()
