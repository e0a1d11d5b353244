"""Which schedulers run jobs over a store, and what "run now" reports: plain data shared by the core and the faces.

Every scheduler that runs jobs over a persistent store keeps a :class:`SchedulerInfo` row there (the
``schedulers`` table), refreshed on its heartbeat and removed when it shuts down cleanly;
:meth:`~nbsched.abc.JobStore.live_schedulers` reads the live ones. A scheduler started only to manage jobs
(``manage_only=True``, as the ``nbsched`` command uses) writes none. :class:`RunNow` is what
:meth:`~nbsched.schedulers.base.BaseScheduler.run_now` returns; :meth:`RunNow.message` is the one sentence every
face (CLI, REST, magics, panel, JupyterLab) shows for it.
"""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["NO_SCHEDULER", "RunNow", "SchedulerInfo"]

#: what every face says when no scheduler runs jobs over the store (followed by what to do)
NO_SCHEDULER = "no scheduler is running over this store"


@attrs.frozen(kw_only=True)
class SchedulerInfo:
    """One scheduler's sign of life in a store.

    :ivar id: the scheduler's id (random, new at each start)
    :ivar host: the machine's host name
    :ivar pid: the process id on that machine
    :ivar started_at: when the scheduler started (UTC)
    :ivar heartbeat_at: its latest heartbeat (UTC); written every ``heartbeat_interval`` seconds
    :ivar runs_jobs: whether it processes due jobs (``False``: started paused)
    """

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    runs_jobs: bool


@attrs.frozen(kw_only=True)
class RunNow:
    """What :meth:`~nbsched.schedulers.base.BaseScheduler.run_now` did.

    :ivar job_id: the job
    :ivar due: the run's scheduled time (its ``scheduled_at``): the moment ``run_now`` was asked (UTC)
    :ivar was_paused: the job was paused: it runs once and stays paused
    :ivar live: the schedulers running jobs over the job's store now (empty: nobody will start the run)
    """

    job_id: str
    due: datetime
    was_paused: bool
    live: tuple[SchedulerInfo, ...] = ()

    @property
    def will_start(self) -> bool:
        """Whether a scheduler runs jobs over the store, so the run starts shortly."""
        return bool(self.live)

    def message(self, remedy: str = "start `nbsched serve`") -> str:
        """The sentence every face shows: ``marked <job> to run now; a scheduler over this store starts it
        shortly`` (``(it stays paused)`` for a paused job), or, when none runs jobs over the store,
        ``marked <job> to run; no scheduler is running over this store: <remedy>``.

        :param remedy: what the user can do about it in this face (the CLI adds ``or use --wait``)
        """
        if self.live:
            paused = " (it stays paused)" if self.was_paused else ""
            return f"marked {self.job_id} to run now; a scheduler over this store starts it shortly{paused}"
        return f"marked {self.job_id} to run; {self.warning(remedy)}"

    def warning(self, remedy: str = "start `nbsched serve`") -> str | None:
        """``no scheduler is running over this store: <remedy>`` when no scheduler runs jobs over the store,
        else ``None`` (REST's ``warning`` field)."""
        return None if self.live else f"{NO_SCHEDULER}: {remedy}"
